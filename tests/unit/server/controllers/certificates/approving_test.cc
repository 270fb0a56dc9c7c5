// csrapproving's Reconcile over the fake API and a fake clock: a node's client certificate
// request is approved (reason AutoApproved, stamped with the clock) when the SubjectAccessReview
// for selfnodeclient or nodeclient allows it; other signers, other subjects and refused reviews
// are left pending; a review the API cannot answer is an error (retried).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "base/encoding.h"
#include "base/pki.h"
#include "server/controllers/certificates/certificates.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

// A CSR from `username` asking `signer` for a certificate with common name `cn` in `org`.
json::object NodeClientCsr(const std::string& name, const std::string& username, const std::string& cn,
                           const std::string& org = "system:nodes",
                           const std::string& signer = "kubernetes.io/kube-apiserver-client-kubelet") {
  pki::CertSpec spec;
  spec.common_name = cn;
  spec.organizations = {org};
  spec.client = true;
  auto csr = pki::CreateCsr(spec);
  EXPECT_TRUE(csr.ok());
  json::object o = J(R"({"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{},
      "spec":{"usages":["digital signature","client auth"],"groups":["system:nodes","system:authenticated"]},"status":{}})");
  o["metadata"].as_object()["name"] = name;
  json::object& s = o["spec"].as_object();
  s["signerName"] = signer;
  s["username"] = username;
  s["request"] = Base64Encode(csr->cert_pem);
  return o;
}

class CsrApprovingTest : public ControllerTest {
 protected:
  // SubjectAccessReviews are answered `allowed` for the subresources listed for their user, and
  // recorded per user.
  void AllowSubresources(std::map<std::string, std::vector<std::string>> allowed) {
    fake().PrependReactor("create", "subjectaccessreviews", [this, allowed](const Action& a) {
      const json::object& spec = api::GetObject(a.body.as_object(), "spec");
      const std::string user = api::GetString(spec, "user");
      const std::string sub = api::GetString(spec, {"resourceAttributes", "subresource"});
      {
        std::lock_guard<std::mutex> lock(mu_);
        asked_[user].push_back(sub);
      }
      auto it = allowed.find(user);
      const bool ok = it != allowed.end() && std::find(it->second.begin(), it->second.end(), sub) != it->second.end();
      json::object answer = a.body.as_object();
      answer["status"] = json::object{{"allowed", ok}};
      return std::optional<client::Response>(client::Response{201, json::serialize(answer), ""});
    });
  }
  std::vector<std::string> Asked(const std::string& user) {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_[user];
  }
  std::vector<Action> Approvals() { return fake().Writes("patch", "certificatesigningrequests", "approval"); }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> asked_;  // guarded by mu_
};

TEST_F(CsrApprovingTest, DecidesByTheSubjectAndTheReview) {
  struct Case {
    const char* name;
    json::object csr;
    std::vector<std::string> allowed;  // for the case's user
    bool approved;
    std::vector<std::string> asked;
  };
  const std::vector<Case> cases = {
      {"a node renewing its own certificate", NodeClientCsr("c0", "system:node:n0", "system:node:n0"),
       {"selfnodeclient"}, true, {"selfnodeclient"}},
      {"a bootstrap identity asking for a node", NodeClientCsr("c1", "system:bootstrap:b1", "system:node:n1"),
       {"nodeclient"}, true, {"nodeclient"}},
      {"self not allowed, nodeclient allowed", NodeClientCsr("c2", "system:node:n2", "system:node:n2"),
       {"nodeclient"}, true, {"selfnodeclient", "nodeclient"}},
      {"no review allows it", NodeClientCsr("c3", "system:bootstrap:b3", "system:node:n3"), {}, false, {"nodeclient"}},
      {"not a node's subject", NodeClientCsr("c4", "system:node:n4", "jane", "devs"), {"selfnodeclient", "nodeclient"},
       false, {}},
      {"another signer", NodeClientCsr("c5", "system:node:n5", "system:node:n5", "system:nodes",
                                       "kubernetes.io/kube-apiserver-client"),
       {"selfnodeclient", "nodeclient"}, false, {}},
  };
  std::map<std::string, std::vector<std::string>> allowed;
  for (const auto& c : cases) {
    Seed(c.csr);
    allowed[api::GetString(c.csr, {"spec", "username"})] = c.allowed;
  }
  AllowSubresources(allowed);
  Start(NewCsrApprovingController(client(), &clock_));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string name = Name(c.csr), user = api::GetString(c.csr, {"spec", "username"});
    fake().ClearActions();
    ASSERT_TRUE(Reconcile(name).ok());
    EXPECT_EQ(Asked(user), c.asked);
    auto approvals = Approvals();
    ASSERT_EQ(approvals.size(), c.approved ? 1u : 0u);
    if (!c.approved) continue;
    EXPECT_EQ(approvals[0].name, name);
    const json::value cond = At(approvals[0].body.as_object(), "status.conditions");
    ASSERT_TRUE(cond.is_array());
    const json::object& approved = cond.as_array()[0].as_object();
    EXPECT_EQ(api::GetString(approved, "type"), "Approved");
    EXPECT_EQ(api::GetString(approved, "reason"), "AutoApproved");
    EXPECT_EQ(api::GetString(approved, "lastUpdateTime"), "2026-01-01T00:00:00Z");  // the fake clock
  }
}

TEST_F(CsrApprovingTest, AlreadyDecidedRequestsAreLeftAlone) {
  json::object csr = NodeClientCsr("c", "system:node:n1", "system:node:n1");
  csr["status"].as_object()["conditions"] = json::array{J(R"({"type":"Denied","status":"True","reason":"ByHand"})")};
  Seed(csr);
  AllowSubresources({{"system:node:n1", {"selfnodeclient", "nodeclient"}}});
  Start(NewCsrApprovingController(client(), &clock_));
  ASSERT_TRUE(Reconcile("c").ok());
  EXPECT_TRUE(Asked("system:node:n1").empty());
  EXPECT_TRUE(Approvals().empty());
}

TEST_F(CsrApprovingTest, AReviewThatFailsIsRetriedWithItsReason) {
  Seed(NodeClientCsr("c", "system:node:n1", "system:node:n1"));
  fake().FailWith("create", "subjectaccessreviews", 503, "ServiceUnavailable", "try later");
  Start(NewCsrApprovingController(client(), &clock_));
  Status s = Reconcile("c");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "ServiceUnavailable");
  EXPECT_TRUE(Approvals().empty());
}

}  // namespace
}  // namespace kite::controllers
