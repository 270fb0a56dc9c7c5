// csrcleaner: when each kind of CertificateSigningRequest is due (upstream's periods), and its
// Reconcile over the fake API and a fake clock: nothing is deleted before its deadline, each is
// deleted once past it, approved-but-unissued requests stay.
#include <gtest/gtest.h>

#include "api/time.h"
#include "base/encoding.h"
#include "base/pki.h"
#include "server/controllers/certificates/certificates.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

// A CSR named `name` created at `created`, with `conditions` (a JSON array) and, when given, an
// issued certificate (PEM).
json::object Csr(const std::string& name, const std::string& created, const std::string& conditions = "[]",
                 const std::string& cert_pem = "") {
  json::object o = J(R"({"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{},
      "spec":{"signerName":"kubernetes.io/kube-apiserver-client","request":"","usages":["client auth"]},"status":{}})");
  o["metadata"].as_object()["name"] = name;
  o["metadata"].as_object()["creationTimestamp"] = created;
  json::object& status = o["status"].as_object();
  if (conditions != "[]") status["conditions"] = json::parse(conditions);
  if (!cert_pem.empty()) status["certificate"] = Base64Encode(cert_pem);
  return o;
}

std::string Cond(const std::string& type, const std::string& updated) {
  return R"({"type":")" + type + R"(","status":"True","reason":"R","lastUpdateTime":")" + updated +
         R"(","lastTransitionTime":")" + updated + R"("})";
}

// A client certificate from a fresh CA, valid `days` from the real now.
std::string CertPem(int days, TimePoint* not_after) {
  auto ca = pki::CreateCA("test-ca");
  EXPECT_TRUE(ca.ok());
  pki::CertSpec spec;
  spec.common_name = "jane";
  spec.client = true;
  spec.days = days;
  auto leaf = pki::Issue(*ca, spec);
  EXPECT_TRUE(leaf.ok());
  auto info = pki::Inspect(leaf->cert_pem);
  EXPECT_TRUE(info.ok());
  *not_after = std::chrono::floor<std::chrono::seconds>(info->not_after);  // notAfter is whole seconds
  return leaf->cert_pem;
}

TimePoint T(const char* s) { return *api::ParseTime(s); }

TEST(CsrCleanupDeadline, UpstreamsPeriods) {
  TimePoint not_after;
  const std::string cert = CertPem(1, &not_after);
  const std::string t0 = "2026-01-01T00:00:00Z";
  EXPECT_EQ(CsrCleanupDeadline(Csr("p", t0)), T("2026-01-02T00:00:00Z"));  // pending: a day after creation
  EXPECT_EQ(CsrCleanupDeadline(Csr("d", t0, "[" + Cond("Denied", "2026-01-01T05:00:00Z") + "]")),
            T("2026-01-01T06:00:00Z"));  // denied: an hour after the condition's update
  EXPECT_EQ(CsrCleanupDeadline(Csr("f", t0, "[" + Cond("Approved", "2026-01-01T05:00:00Z") + "," +
                                                Cond("Failed", "2026-01-01T05:30:00Z") + "]")),
            T("2026-01-01T06:30:00Z"));  // failed: the same
  // Approved without a certificate: the signer's business, never cleaned.
  EXPECT_EQ(CsrCleanupDeadline(Csr("a", t0, "[" + Cond("Approved", "2026-01-01T05:00:00Z") + "]")), std::nullopt);
  // Approved and issued: an hour after approval, or when the certificate expires if sooner.
  EXPECT_EQ(CsrCleanupDeadline(Csr("i", t0, "[" + Cond("Approved", "2026-01-01T05:00:00Z") + "]", cert)),
            T("2026-01-01T06:00:00Z"));
  const std::string just_before = api::FormatTime(not_after - 10min);
  auto expiry = CsrCleanupDeadline(Csr("e", t0, "[" + Cond("Approved", just_before) + "]", cert));
  ASSERT_TRUE(expiry.has_value());
  EXPECT_LE(std::chrono::abs(*expiry - not_after), 1s);  // pki::Inspect reads notAfter to the second
  // A condition without lastUpdateTime has no deadline of its own (upstream ignores zero times).
  EXPECT_EQ(CsrCleanupDeadline(Csr("z", t0, R"([{"type":"Denied","status":"True"}])")), std::nullopt);
}

class CsrCleanerTest : public ControllerTest {
 protected:
  const api::ResourceInfo& Csrs() { return R("certificates.k8s.io", "v1", "certificatesigningrequests"); }
  std::vector<std::string> Deleted() {
    auto names = Names(fake().Writes("delete", "certificatesigningrequests"));
    std::sort(names.begin(), names.end());
    return names;
  }
  void ReconcileAll(const std::vector<std::string>& names) {
    for (const auto& n : names) ASSERT_TRUE(Reconcile(n).ok()) << n;
    Settle();
  }
};

TEST_F(CsrCleanerTest, DeletesEachKindOnlyPastItsDeadline) {
  // The fake clock reads 2026-01-01T00:00:00Z.
  Seed(Csr("pending", "2025-12-31T00:30:00Z"));                                                   // due 00:30
  Seed(Csr("denied", "2025-12-31T00:00:00Z", "[" + Cond("Denied", "2025-12-31T23:20:00Z") + "]"));  // due 00:20
  Seed(Csr("failed", "2025-12-31T00:00:00Z", "[" + Cond("Failed", "2025-12-31T22:00:00Z") + "]"));  // overdue
  Seed(Csr("approved", "2025-01-01T00:00:00Z", "[" + Cond("Approved", "2025-01-01T00:00:00Z") + "]"));  // never
  Start(NewCsrCleanerController(client(), &clock_));
  const std::vector<std::string> all{"pending", "denied", "failed", "approved"};

  ReconcileAll(all);
  EXPECT_EQ(Deleted(), std::vector<std::string>{"failed"});

  clock_.Advance(20min);  // exactly at the denied one's deadline: not older than an hour yet
  ReconcileAll({"pending", "denied", "approved"});
  EXPECT_EQ(Deleted(), std::vector<std::string>{"failed"});

  clock_.Advance(1s);
  ReconcileAll({"pending", "denied", "approved"});
  EXPECT_EQ(Deleted(), (std::vector<std::string>{"denied", "failed"}));

  clock_.Advance(10min + 1s);
  ReconcileAll({"pending", "approved"});
  EXPECT_EQ(Deleted(), (std::vector<std::string>{"denied", "failed", "pending"}));

  clock_.Advance(24h * 400);
  ReconcileAll({"approved"});
  EXPECT_EQ(Deleted(), (std::vector<std::string>{"denied", "failed", "pending"}));
  EXPECT_FALSE(fake().Get(Csrs(), "", "denied").has_value());
  EXPECT_TRUE(fake().Get(Csrs(), "", "approved").has_value());
}

TEST_F(CsrCleanerTest, IssuedCertificateGoesWhenItExpires) {
  TimePoint not_after;
  const std::string cert = CertPem(1, &not_after);
  // Approved ten minutes before the certificate's end, so its expiry comes before the hour.
  const std::string approved = api::FormatTime(not_after - 10min);
  Seed(Csr("issued", "2026-01-01T00:00:00Z", "[" + Cond("Approved", approved) + "]", cert));
  Start(NewCsrCleanerController(client(), &clock_));

  // (a second either side: pki::Inspect reads notAfter to the second)
  clock_.SetWall(not_after - 2s);
  ReconcileAll({"issued"});
  EXPECT_TRUE(Deleted().empty());
  clock_.SetWall(not_after + 2s);
  ReconcileAll({"issued"});
  EXPECT_EQ(Deleted(), std::vector<std::string>{"issued"});
}

TEST_F(CsrCleanerTest, RequeuesAtTheDeadline) {
  Seed(Csr("pending", "2025-12-31T12:00:00Z"));  // due 2026-01-01T12:00:00Z
  Start(NewCsrCleanerController(client(), &clock_));
  while (auto k = controller().queue().TryGet()) controller().queue().Done(*k);  // the informer's adds
  ASSERT_TRUE(Reconcile("pending").ok());
  EXPECT_FALSE(controller().queue().TryGet().has_value());  // not before the deadline
  clock_.Advance(12h);
  EXPECT_FALSE(controller().queue().TryGet().has_value());
  clock_.Advance(1s);
  auto k = controller().queue().TryGet();
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(*k, "pending");
  controller().queue().Done(*k);
  ASSERT_TRUE(Reconcile("pending").ok());
  EXPECT_EQ(Deleted(), std::vector<std::string>{"pending"});
}

}  // namespace
}  // namespace kite::controllers
