// csrsigning's Reconcile over the fake API and a fake clock: an approved request of a
// kubernetes.io signer gets status.certificate signed by that signer's CA (client CA for the
// client signers, serving CA for kubelet-serving); one its signer's rules refuse gets a Failed
// condition (SignerValidationFailure, stamped with the clock); pending, denied, already issued
// and other signers' requests are left alone.
#include <gtest/gtest.h>

#include "api/conditions.h"
#include "base/encoding.h"
#include "base/pki.h"
#include "server/controllers/certificates/certificates.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

// A CSR of `signer` for `spec`'s subject, with `usages` and conditions (a JSON array).
json::object SigningCsr(const std::string& name, const std::string& signer, const pki::CertSpec& spec,
                        const std::string& usages, const std::string& conditions) {
  auto csr = pki::CreateCsr(spec);
  EXPECT_TRUE(csr.ok());
  json::object o = J(R"({"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{},
      "spec":{"username":"system:node:n1"},"status":{}})");
  o["metadata"].as_object()["name"] = name;
  json::object& s = o["spec"].as_object();
  s["signerName"] = signer;
  s["request"] = Base64Encode(csr->cert_pem);
  s["usages"] = json::parse(usages);
  o["status"].as_object()["conditions"] = json::parse(conditions);
  return o;
}

pki::CertSpec Subject(const std::string& cn, const std::string& org, std::vector<std::string> dns = {}) {
  pki::CertSpec spec;
  spec.common_name = cn;
  spec.organizations = {org};
  spec.dns_names = std::move(dns);
  return spec;
}

constexpr char kApproved[] = R"([{"type":"Approved","status":"True","reason":"AutoApproved"}])";

class CsrSigningTest : public ControllerTest {
 protected:
  CsrSigningTest() {
    auto client_ca = pki::CreateCA("client-ca");
    auto serving_ca = pki::CreateCA("server-ca");
    EXPECT_TRUE(client_ca.ok() && serving_ca.ok());
    options_.client_ca = *client_ca;
    options_.serving_ca = *serving_ca;
  }
  // What the controller wrote to the CSR's status ({} when nothing).
  json::object StatusPatch(const std::string& name) {
    for (const auto& a : fake().Writes("patch", "certificatesigningrequests", "status")) {
      if (a.name == name) return api::GetObject(a.body.as_object(), "status");
    }
    return {};
  }
  CsrSigningOptions options_;
};

TEST_F(CsrSigningTest, IssuesWhatTheSignerAllowsFromItsCa) {
  struct Case {
    const char* name;
    json::object csr;
    const char* signed_by;  // "client", "serving"; nullptr: refused with a Failed condition
  };
  const std::vector<Case> cases = {
      {"kubelet client", SigningCsr("k", "kubernetes.io/kube-apiserver-client-kubelet",
                                    Subject("system:node:n1", "system:nodes"), R"(["client auth"])", kApproved),
       "client"},
      {"any client", SigningCsr("a", "kubernetes.io/kube-apiserver-client", Subject("jane", "devs"),
                                R"(["digital signature","client auth"])", kApproved),
       "client"},
      {"kubelet serving", SigningCsr("s", "kubernetes.io/kubelet-serving",
                                     Subject("system:node:n1", "system:nodes", {"n1.example"}),
                                     R"(["digital signature","server auth"])", kApproved),
       "serving"},
      {"kubelet client for a non-node subject", SigningCsr("x", "kubernetes.io/kube-apiserver-client-kubelet",
                                                           Subject("jane", "devs"), R"(["client auth"])", kApproved),
       nullptr},
      {"serving without a name", SigningCsr("y", "kubernetes.io/kubelet-serving", Subject("system:node:n1", "system:nodes"),
                                            R"(["server auth"])", kApproved),
       nullptr},
      {"a usage the signer refuses", SigningCsr("z", "kubernetes.io/kube-apiserver-client", Subject("jane", "devs"),
                                                R"(["client auth","server auth"])", kApproved),
       nullptr},
  };
  for (const auto& c : cases) Seed(c.csr);
  Start(NewCsrSigningController(client(), options_, &clock_));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string name = Name(c.csr);
    ASSERT_TRUE(Reconcile(name).ok());
    const json::object status = StatusPatch(name);
    if (c.signed_by) {
      auto pem = Base64Decode(api::GetString(status, "certificate"));
      ASSERT_TRUE(pem.has_value());
      const std::string& ca = std::string(c.signed_by) == "client" ? options_.client_ca.cert_pem : options_.serving_ca.cert_pem;
      EXPECT_TRUE(pki::SignedBy(*pem, ca));
      EXPECT_FALSE(status.contains("conditions"));
    } else {
      EXPECT_FALSE(status.contains("certificate"));
      const json::object* failed = api::FindCondition(status, "Failed");
      ASSERT_NE(failed, nullptr);
      EXPECT_EQ(api::GetString(*failed, "reason"), "SignerValidationFailure");
      EXPECT_EQ(api::GetString(*failed, "lastUpdateTime"), "2026-01-01T00:00:00Z");  // the fake clock
    }
  }
}

TEST_F(CsrSigningTest, LeavesWhatIsNotItsToSign) {
  const pki::CertSpec node = Subject("system:node:n1", "system:nodes");
  const char* signer = "kubernetes.io/kube-apiserver-client-kubelet";
  Seed(SigningCsr("pending", signer, node, R"(["client auth"])", "[]"));
  Seed(SigningCsr("denied", signer, node, R"(["client auth"])",
                  R"([{"type":"Approved","status":"True"},{"type":"Denied","status":"True"}])"));
  Seed(SigningCsr("other", "example.com/signer", node, R"(["client auth"])", kApproved));
  json::object issued = SigningCsr("issued", signer, node, R"(["client auth"])", kApproved);
  issued["status"].as_object()["certificate"] = Base64Encode("already");
  Seed(issued);
  Start(NewCsrSigningController(client(), options_, &clock_));
  for (const char* n : {"pending", "denied", "other", "issued"}) ASSERT_TRUE(Reconcile(n).ok()) << n;
  EXPECT_TRUE(fake().Writes().empty());
}

TEST_F(CsrSigningTest, AFailedWriteIsRetriedWithItsReason) {
  Seed(SigningCsr("k", "kubernetes.io/kube-apiserver-client-kubelet", Subject("system:node:n1", "system:nodes"),
                  R"(["client auth"])", kApproved));
  fake().FailWith("patch", "certificatesigningrequests", 409, "Conflict", "the object has been modified");
  Start(NewCsrSigningController(client(), options_, &clock_));
  Status s = Reconcile("k");
  EXPECT_TRUE(s.IsConflict());
  EXPECT_EQ(s.reason(), "Conflict");
}

}  // namespace
}  // namespace kite::controllers
