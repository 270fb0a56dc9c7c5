// The API server's transport, certificates and authentication, driven by the real kubectl and
// curl: kubectl reads the written admin kubeconfig and reaches /version over verified TLS.
#include "server/apiserver/apiserver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "base/pki.h"
#include "server/apiserver/certs.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::apiserver {
namespace {

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = datastore::testing::TempDir();
    store_ = datastore::testing::Open(dir_ + "/db");
    std::ofstream(dir_ + "/tokens.csv") << "s3cret,bob,1001,\"devs,ops\"\nroot-token,root,0,system:masters\n";
    StartServer();
  }
  void StartServer() {
    ApiServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.tls_dir = dir_ + "/tls";
    o.kubeconfig_path = dir_ + "/kubeconfig.yaml";
    o.token_auth_file = dir_ + "/tokens.csv";
    o.tls_sans = {"kite.example.com"};
    auto s = ApiServer::Start(o, store_.get());
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s.value());
    url_ = "https://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Kubectl(const std::string& args) {
    // A fresh cache dir per run, so nothing cached from another server is reused.
    return Shell("kubectl --kubeconfig " + dir_ + "/kubeconfig.yaml --cache-dir " + dir_ + "/cache-" +
                 std::to_string(++runs_) + " " + args + " 2>&1");
  }
  std::string Curl(const std::string& args) {
    return Shell("curl -sS --max-time 10 --cacert " + dir_ + "/tls/server-ca.crt " + args + " 2>&1");
  }
  std::string dir_, url_;
  int runs_ = 0;
  std::unique_ptr<datastore::Store> store_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, KubectlVersionWorksWithTheWrittenKubeconfig) {
  std::string out = Kubectl("version -o json");
  EXPECT_NE(out.find("\"serverVersion\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"minor\": \"32\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"gitVersion\": \"v1.32.4+kite\""), std::string::npos) << out;
  struct stat st{};
  ASSERT_EQ(::stat((dir_ + "/kubeconfig.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ApiServerTest, AnonymousGets401ExceptPublicEndpoints) {
  EXPECT_EQ(Curl("-w ' %{http_code}' " + url_ + "/healthz"), "ok 200");
  EXPECT_EQ(Curl("-w ' %{http_code}' " + url_ + "/livez"), "ok 200");
  EXPECT_EQ(Curl("-w ' %{http_code}' " + url_ + "/readyz"), "ok 200");
  EXPECT_NE(Curl(url_ + "/version").find("\"major\":\"1\""), std::string::npos);
  std::string out = Curl("-w ' %{http_code}' " + url_ + "/api");
  EXPECT_NE(out.find("\"reason\":\"Unauthorized\""), std::string::npos) << out;
  EXPECT_NE(out.find(" 401"), std::string::npos) << out;
  EXPECT_NE(Curl("-w ' %{http_code}' -H 'Authorization: Bearer wrong' " + url_ + "/version").find(" 401"),
            std::string::npos);
}

TEST_F(ApiServerTest, TokensAndCertificatesAuthenticate) {
  // A token user outside system:masters is known but not allowed (403, upstream wording).
  std::string out = Curl("-w ' %{http_code}' -H 'Authorization: Bearer s3cret' " + url_ + "/metrics");
  EXPECT_NE(out.find("forbidden: User \\\"bob\\\" cannot get path \\\"/metrics\\\""), std::string::npos) << out;
  EXPECT_NE(out.find(" 403"), std::string::npos);
  // system:masters via token or via the admin client certificate reaches routing (404 here).
  EXPECT_NE(Curl("-w ' %{http_code}' -H 'Authorization: Bearer root-token' " + url_ + "/nothing").find(" 404"),
            std::string::npos);
  std::string tls = dir_ + "/tls/";
  EXPECT_NE(Curl("-w ' %{http_code}' --cert " + tls + "client-admin.crt --key " + tls + "client-admin.key " + url_ +
                 "/nothing").find("the server could not find the requested resource"),
            std::string::npos);
}

TEST_F(ApiServerTest, CertificatesAreReusedAcrossRestartsAndCarryTheSans) {
  std::string tls = dir_ + "/tls/";
  auto read = [](const std::string& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string ca = read(tls + "server-ca.crt"), serving = read(tls + "serving-kube-apiserver.crt");
  auto info = pki::Inspect(serving);
  ASSERT_TRUE(info.ok());
  for (const char* want : {"kite.example.com", "kubernetes.default.svc.cluster.local", "localhost"}) {
    EXPECT_NE(std::find(info->dns_names.begin(), info->dns_names.end(), want), info->dns_names.end()) << want;
  }
  for (const char* want : {"127.0.0.1", "10.43.0.1"}) {
    EXPECT_NE(std::find(info->ip_addresses.begin(), info->ip_addresses.end(), want), info->ip_addresses.end()) << want;
  }
  server_.reset();
  StartServer();
  EXPECT_EQ(read(tls + "server-ca.crt"), ca);
  EXPECT_EQ(read(tls + "serving-kube-apiserver.crt"), serving);
  EXPECT_NE(Kubectl("version -o json").find("\"serverVersion\""), std::string::npos);
}

}  // namespace
}  // namespace kite::apiserver
