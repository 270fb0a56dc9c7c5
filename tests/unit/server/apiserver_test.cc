// The API server's transport, certificates and authentication, driven by the real kubectl and
// curl: kubectl reads the written admin kubeconfig and reaches /version over verified TLS.
#include "server/apiserver/apiserver.h"

#include <gtest/gtest.h>

#include "tests/unit/shell.h"
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/pki.h"
#include "server/apiserver/certs.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::apiserver {
namespace {

using kite::testing::Shell;

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

TEST_F(ApiServerTest, KubectlApiResourcesAndApiVersionsReadDiscovery) {
  std::string out = Kubectl("api-resources");
  // Columns as a user reads them: NAME SHORTNAMES APIVERSION NAMESPACED KIND.
  EXPECT_NE(out.find("NAME"), std::string::npos) << out;
  auto row = [&](const std::string& name, const std::string& rest) {
    for (size_t pos = out.find("\n" + name + " "); pos != std::string::npos; pos = out.find("\n" + name + " ", pos + 1)) {
      std::string line = out.substr(pos + 1, out.find('\n', pos + 1) - pos - 1);
      std::string squeezed;
      for (char c : line) if (!(c == ' ' && !squeezed.empty() && squeezed.back() == ' ')) squeezed += c;
      if (squeezed == name + " " + rest) return true;
    }
    return false;
  };
  EXPECT_TRUE(row("pods", "po v1 true Pod")) << out;
  EXPECT_TRUE(row("deployments", "deploy apps/v1 true Deployment")) << out;
  EXPECT_TRUE(row("customresourcedefinitions", "crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition")) << out;
  EXPECT_TRUE(row("horizontalpodautoscalers", "hpa autoscaling/v2 true HorizontalPodAutoscaler")) << out;
  EXPECT_TRUE(row("secrets", "v1 true Secret")) << out;
  out = Kubectl("api-resources --namespaced=false -o name");
  EXPECT_NE(out.find("namespaces\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("pods\n"), std::string::npos) << out;
  out = Kubectl("api-versions");
  for (const char* gv : {"apps/v1\n", "autoscaling/v1\n", "autoscaling/v2\n", "batch/v1\n", "v1\n",
                         "rbac.authorization.k8s.io/v1\n"}) {
    EXPECT_NE(out.find(gv), std::string::npos) << gv << " in " << out;
  }
  // The legacy documents too (drain and auth can-i read /api/v1 directly).
  std::string tls = dir_ + "/tls/";
  std::string legacy = Curl("--cert " + tls + "client-admin.crt --key " + tls + "client-admin.key " + url_ + "/api/v1");
  EXPECT_NE(legacy.find(R"({"name":"pods/eviction","singularName":"","namespaced":true,"kind":"Eviction","verbs":["create"],"group":"policy","version":"v1"})"),
            std::string::npos) << legacy;
  // kubectl 1.28 asks for v2beta1 only and must get it.
  std::string beta = Curl("-H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' --cert " +
                          tls + "client-admin.crt --key " + tls + "client-admin.key " + url_ + "/apis");
  EXPECT_NE(beta.find("\"apiVersion\":\"apidiscovery.k8s.io/v2beta1\""), std::string::npos) << beta.substr(0, 200);
}

TEST_F(ApiServerTest, KubectlCreatesReadsAndDeletesObjects) {
  std::ofstream(dir_ + "/cm.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: game-config\n"
                                      "  labels:\n    app: game\ndata:\n  color: blue\n";
  EXPECT_EQ(Kubectl("apply --validate=false -f " + dir_ + "/cm.yaml"), "configmap/game-config created\n");
  EXPECT_EQ(Kubectl("get configmap game-config -o jsonpath={.data.color}"), "blue");
  EXPECT_NE(Kubectl("get configmaps").find("game-config"), std::string::npos);
  std::string uid = Kubectl("get configmap game-config -o jsonpath={.metadata.uid}");
  EXPECT_EQ(uid.size(), 36u) << uid;
  EXPECT_EQ(Kubectl("get namespaces -o name"),
            "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n");
  // A namespace that does not exist, and a name that is not a DNS subdomain.
  EXPECT_NE(Kubectl("apply --validate=false -n nope -f " + dir_ + "/cm.yaml").find("namespaces \"nope\" not found"),
            std::string::npos);
  std::ofstream(dir_ + "/bad.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n";
  std::string bad = Kubectl("apply --validate=false -f " + dir_ + "/bad.yaml");
  EXPECT_NE(bad.find("The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"),
            std::string::npos) << bad;
  // A stale resourceVersion on update is a conflict, in upstream's words.
  std::string tls = dir_ + "/tls/";
  std::string auth = "--cert " + tls + "client-admin.crt --key " + tls + "client-admin.key ";
  std::string stale = Curl(auth + "-X PUT -H 'Content-Type: application/json' -d '{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                           "\"metadata\":{\"name\":\"game-config\",\"resourceVersion\":\"1\"},\"data\":{}}' " +
                           url_ + "/api/v1/namespaces/default/configmaps/game-config");
  EXPECT_NE(stale.find("Operation cannot be fulfilled on configmaps \\\"game-config\\\": the object has been modified"),
            std::string::npos) << stale;
  EXPECT_EQ(Kubectl("get configmap game-config -o jsonpath={.data.color}"), "blue");
  EXPECT_EQ(Kubectl("delete configmap game-config"), "configmap \"game-config\" deleted\n");
  EXPECT_EQ(Kubectl("get configmap game-config"), "Error from server (NotFound): configmaps \"game-config\" not found\n");
}

TEST_F(ApiServerTest, WatchStreamsEventsFromAResourceVersion) {
  std::string tls = dir_ + "/tls/";
  std::string auth = "--cert " + tls + "client-admin.crt --key " + tls + "client-admin.key ";
  std::string list = Curl(auth + url_ + "/api/v1/namespaces/default/configmaps");
  auto at = list.find("\"resourceVersion\":\"");
  ASSERT_NE(at, std::string::npos) << list;
  std::string rv = list.substr(at + 19, list.find('"', at + 19) - at - 19);
  std::string out = dir_ + "/watch.out";
  std::system(("curl -sS -N --max-time 20 --cacert " + tls + "server-ca.crt " + auth + "'" + url_ +
               "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=4&resourceVersion=" + rv + "' > " + out +
               " 2>&1 &").c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::ofstream(dir_ + "/w.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: b\n";
  EXPECT_EQ(Kubectl("apply --validate=false -f " + dir_ + "/w.yaml"), "configmap/watched created\n");
  EXPECT_EQ(Kubectl("delete configmap watched"), "configmap \"watched\" deleted\n");
  std::this_thread::sleep_for(std::chrono::seconds(5));  // the stream ends by its timeoutSeconds
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto added = text.find("{\"type\":\"ADDED\",\"object\":{");
  auto deleted = text.find("{\"type\":\"DELETED\",\"object\":{");
  EXPECT_NE(added, std::string::npos) << text;
  EXPECT_NE(deleted, std::string::npos) << text;
  EXPECT_LT(added, deleted);
  EXPECT_NE(text.find("\"name\":\"watched\""), std::string::npos) << text;

  // After a compaction, watching from before it answers 410 Expired, as informers expect.
  ASSERT_TRUE(store_->CompactSync(store_->Status().revision).ok());
  std::string gone = Curl(auth + "'" + url_ + "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&resourceVersion=1'");
  EXPECT_NE(gone.find("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\""), std::string::npos) << gone;
  EXPECT_NE(gone.find("\"reason\":\"Expired\""), std::string::npos) << gone;
  EXPECT_NE(gone.find("\"code\":410"), std::string::npos) << gone;
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
