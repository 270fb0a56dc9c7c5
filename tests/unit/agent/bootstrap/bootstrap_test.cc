// Agent bootstrap (agent/bootstrap/bootstrap.h) against an API server in this process with its
// join endpoints (server/apiserver/join/): the CA pinned by the token, certificates issued for
// the node's identity and reused, and every refusal with its code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/bootstrap/bootstrap.h"
#include "api/object.h"
#include "api/resources.h"
#include "base/join_token.h"
#include "base/pki.h"
#include "server/apiserver/join/node_password.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::agent {
namespace {

namespace fs = std::filesystem;

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(server_.Start(/*join=*/true, [](apiserver::ApiServerOptions& o) {
      o.join_settings = {"10.52.0.0/16", "10.96.0.0/16", "10.96.0.10", "example.internal", "host-gw", "enforced"};
    }));
    std::ifstream in(server_.dir() + "/token");
    std::getline(in, token_);
    ASSERT_TRUE(ParseJoinToken(token_).ok()) << token_;
  }
  BootstrapOptions Options(const std::string& dir_name, const std::string& node) {
    BootstrapOptions o;
    o.server = "https://127.0.0.1:" + std::to_string(server_.port());
    o.token = token_;
    o.agent_dir = server_.dir() + "/" + dir_name;
    o.node_name = node;
    o.node_ips = {"10.9.8.7"};
    return o;
  }
  testing::InProcessApiServer server_;
  std::string token_;
};

TEST_F(BootstrapTest, JoinsWithTheNodesIdentityAndReusesItsCertificates) {
  auto c = Bootstrap(Options("a", "node-a"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->reused);
  auto client = pki::Inspect(c->client.cert_pem);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->common_name, "system:node:node-a");
  EXPECT_EQ(client->organizations, std::vector<std::string>{"system:nodes"});
  auto serving = pki::Inspect(c->serving.cert_pem);
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->common_name, "node-a");
  EXPECT_NE(std::find(serving->ip_addresses.begin(), serving->ip_addresses.end(), "10.9.8.7"), serving->ip_addresses.end());
  EXPECT_NE(std::find(serving->dns_names.begin(), serving->dns_names.end(), "node-a"), serving->dns_names.end());
  EXPECT_TRUE(pki::SignedBy(c->serving.cert_pem, c->server_ca_pem));
  EXPECT_EQ(CaBundleHash(c->server_ca_pem), ParseJoinToken(token_)->ca_hash);
  EXPECT_TRUE(fs::exists(c->kubeconfig_path));
  // The node password is stored hashed, never in clear.
  auto secret = server_.AdminClient()->Get(*api::FindResource("", "v1", "secrets"), "kube-system",
                                           "node-a.node-password.kite");
  ASSERT_TRUE(secret.ok());
  EXPECT_TRUE(api::GetBool(*secret, "immutable"));

  auto again = Bootstrap(Options("a", "node-a"));  // a restart
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->client.cert_pem, c->client.cert_pem);

  auto other_ip = Options("a", "node-a");  // the node's IP changed: a new serving certificate
  other_ip.node_ips = {"10.9.8.6"};
  auto renewed = Bootstrap(other_ip);
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_FALSE(renewed->reused);
}

TEST_F(BootstrapTest, RefusesAWrongSecret) {
  auto o = Options("b", "node-b");
  o.token = "K10" + ParseJoinToken(token_)->ca_hash + "::server:wrong";
  auto c = Bootstrap(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
  EXPECT_FALSE(fs::exists(o.agent_dir + "/client-kubelet.crt"));
}

TEST_F(BootstrapTest, RefusesAnotherCaBeforeSendingAnything) {
  auto o = Options("c", "node-c");
  const std::string other = CaBundleHash("another cluster's CA");
  o.token = "K10" + other + "::server:" + ParseJoinToken(token_)->secret;
  auto c = Bootstrap(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(c.status().message().find(other.substr(0, 12)), std::string::npos);
  EXPECT_NE(c.status().message().find(ParseJoinToken(token_)->ca_hash.substr(0, 12)), std::string::npos);
  EXPECT_FALSE(fs::exists(o.agent_dir + "/node-password"));  // made only once the CA is trusted
  auto secret = server_.AdminClient()->Get(*api::FindResource("", "v1", "secrets"), "kube-system",
                                           "node-c.node-password.kite");
  EXPECT_TRUE(secret.NotFound());
}

TEST_F(BootstrapTest, AnotherHostCannotTakeARegisteredName) {
  ASSERT_TRUE(Bootstrap(Options("d1", "node-d")).ok());
  auto impostor = Bootstrap(Options("d2", "node-d"));  // another data dir: another node password
  ASSERT_FALSE(impostor.ok());
  EXPECT_EQ(impostor.status().code(), Code::kPermissionDenied);
  EXPECT_NE(impostor.status().message().find("another node password"), std::string::npos);
  // The same host without its certificates joins again with its node password.
  fs::remove(server_.dir() + "/d1/client-kubelet.crt");
  auto back = Bootstrap(Options("d1", "node-d"));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_FALSE(back->reused);
}

TEST_F(BootstrapTest, ABareSecretTrustsTheFirstCaAndThenKeepsIt) {
  auto o = Options("f", "node-f");
  o.token = ParseJoinToken(token_)->secret;  // as k3s accepts it: no CA hash to check
  auto c = Bootstrap(o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  // The CA saved by that join now pins the server: another CA would be refused.
  std::ofstream(o.agent_dir + "/server-ca.crt") << pki::CreateCA("impostor")->cert_pem;
  auto again = Bootstrap(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kFailedPrecondition);
}

TEST_F(BootstrapTest, UnreachableServerIsWorthRetrying) {
  auto o = Options("e", "node-e");
  o.server = "https://127.0.0.1:1";
  auto c = Bootstrap(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
}

TEST_F(BootstrapTest, ClusterSettingsFromTheServerThenFromTheSavedCopy) {
  auto o = Options("g", "node-g");
  auto c = Bootstrap(o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto s = FetchClusterSettings(o, c->server_ca_pem);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->cluster_cidr, "10.52.0.0/16");
  EXPECT_EQ(s->service_cidr, "10.96.0.0/16");
  EXPECT_EQ(s->cluster_dns, "10.96.0.10");
  EXPECT_EQ(s->cluster_domain, "example.internal");
  EXPECT_EQ(s->flannel_backend, "host-gw");
  EXPECT_TRUE(fs::exists(o.agent_dir + "/cluster-settings.json"));

  auto wrong = o;  // the settings need the token's secret too
  wrong.token = "K10" + ParseJoinToken(token_)->ca_hash + "::server:wrong";
  EXPECT_EQ(FetchClusterSettings(wrong, c->server_ca_pem).status().code(), Code::kUnauthenticated);

  auto never = Options("h", "node-h");  // no earlier start: nothing to fall back on
  server_.Stop();  // a restart while the server is down: the saved settings
  auto saved = FetchClusterSettings(o, c->server_ca_pem);
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(saved->cluster_dns, "10.96.0.10");
  EXPECT_EQ(FetchClusterSettings(never, c->server_ca_pem).status().code(), Code::kUnavailable);
}

TEST(SplitIssuedCertTest, CertificateCaAndKey) {
  auto ca = pki::CreateCA("test-ca");
  ASSERT_TRUE(ca.ok());
  pki::CertSpec spec;
  spec.common_name = "x";
  spec.client = true;
  auto leaf = pki::Issue(*ca, spec);
  ASSERT_TRUE(leaf.ok());
  auto s = SplitIssuedCert(leaf->cert_pem + ca->cert_pem + leaf->key_pem);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(pki::Inspect(s->cert_pem)->common_name, "x");
  EXPECT_EQ(pki::Inspect(s->ca_pem)->common_name, "test-ca");
  EXPECT_NE(s->key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(SplitIssuedCert(leaf->cert_pem + leaf->key_pem).ok());  // no CA
  EXPECT_FALSE(SplitIssuedCert("Unauthorized").ok());
}

TEST(NodePasswordTest, HashVerifies) {
  using apiserver::join::HashNodePassword;
  using apiserver::join::VerifyNodePassword;
  const std::string h = HashNodePassword("pw1");
  EXPECT_EQ(h.rfind("$pbkdf2-sha256$", 0), 0u);
  EXPECT_TRUE(VerifyNodePassword(h, "pw1"));
  EXPECT_FALSE(VerifyNodePassword(h, "pw2"));
  EXPECT_NE(HashNodePassword("pw1"), h);  // salted
  EXPECT_FALSE(VerifyNodePassword("pw1", "pw1"));
  EXPECT_FALSE(VerifyNodePassword("$pbkdf2-sha256$x$$", "pw1"));
  EXPECT_EQ(apiserver::join::NodePasswordSecretName("Node-A"), "node-a.node-password.kite");
}

}  // namespace
}  // namespace kite::agent
