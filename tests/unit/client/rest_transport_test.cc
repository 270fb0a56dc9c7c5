// The REST transport against an in-process kite API server over real HTTPS: the verbs through a
// Client, the connection pool under concurrent use, watch streams (events, a clean end, an error
// status, a transport failure), Stop() from inside and outside callbacks, bearer-token
// kubeconfigs, and the retry on a keep-alive connection the server dropped.
#include "client/rest_transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "client/client.h"
#include "server/apiserver/apiserver.h"
#include "tests/unit/datastore/test_util.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {

using namespace std::chrono_literals;

const api::ResourceInfo& ConfigMaps() { return *api::FindResource("", "v1", "configmaps"); }

boost::json::object ConfigMap(const std::string& name) {
  return boost::json::object{{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", boost::json::object{{"name", name}}},
                             {"data", boost::json::object{{"k", "v"}}}};
}

// Waits up to `timeout` for `pred`.
using kite::testing::Eventually;

class RestTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = datastore::testing::TempDir();
    store_ = datastore::testing::Open(dir_ + "/db");
    std::ofstream(dir_ + "/tokens.csv") << "root-token,root,0,system:masters\n";
    StartServer(0);
    auto t = MakeRestTransport(dir_ + "/kubeconfig.yaml");
    ASSERT_TRUE(t.ok()) << t.status().message();
    transport_ = t.value();
    client_ = std::make_unique<Client>(transport_);
  }
  void StartServer(int port) {
    apiserver::ApiServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = port;
    o.tls_dir = dir_ + "/tls";
    o.kubeconfig_path = dir_ + "/kubeconfig.yaml";
    o.token_auth_file = dir_ + "/tokens.csv";
    auto s = apiserver::ApiServer::Start(o, store_.get());
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s.value());
  }
  void TearDown() override {
    client_.reset();
    transport_.reset();
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<datastore::Store> store_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::shared_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(RestTransportTest, VerbsThroughAClient) {
  auto created = client_->Create(ConfigMaps(), "default", ConfigMap("one"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_FALSE(api::Uid(*created).empty());
  auto again = client_->Create(ConfigMaps(), "default", ConfigMap("one"));
  EXPECT_TRUE(again.AlreadyExists()) << again.error().http_code() << " " << again.error().reason();

  auto got = client_->Get(ConfigMaps(), "default", "one");
  ASSERT_TRUE(got.ok()) << got.error().message();
  (*got)["data"].as_object()["k"] = "w";
  auto updated = client_->Update(ConfigMaps(), "default", *got);
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_EQ((*updated)["data"].as_object()["k"].as_string(), "w");
  // The old resourceVersion no longer matches: a Conflict, as optimistic concurrency says.
  EXPECT_TRUE(client_->Update(ConfigMaps(), "default", *got).Conflict());

  auto patched = client_->Patch(ConfigMaps(), "default", "one", PatchType::kMerge, R"({"data":{"p":"1"}})");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  auto list = client_->List(ConfigMaps(), "default");
  ASSERT_TRUE(list.ok());
  bool listed = false;
  for (const auto& item : (*list)["items"].as_array()) listed = listed || api::Name(item.as_object()) == "one";
  EXPECT_TRUE(listed);
  auto deleted = client_->Delete(ConfigMaps(), "default", "one");
  EXPECT_TRUE(deleted.ok()) << deleted.error().message();
  EXPECT_TRUE(client_->Get(ConfigMaps(), "default", "one").NotFound());
}

TEST_F(RestTransportTest, ConcurrentRequestsShareThePool) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("shared")).ok());
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = client_->Get(ConfigMaps(), "default", "shared");
        (r.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(RestTransportTest, WatchDeliversEventsAndEndsCleanlyOnTimeout) {
  auto list = client_->List(ConfigMaps(), "default");
  ASSERT_TRUE(list.ok());
  ListParams p;
  p.resource_version = api::ResourceVersion(*list);
  p.timeout_seconds = 2;
  std::mutex mu;
  std::vector<std::string> names;
  std::optional<Status> end;
  auto w = client_->Watch(
      ConfigMaps(), "default", p,
      [&](WatchEvent ev) {
        std::lock_guard<std::mutex> lock(mu);
        names.push_back(ev.type + " " + api::Name(ev.object));
      },
      [&](Status e) {
        std::lock_guard<std::mutex> lock(mu);
        end = e;
      });
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("w1")).ok());
  ASSERT_TRUE(client_->Delete(ConfigMaps(), "default", "w1").ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return end.has_value();
  })) << "the server did not end the watch after timeoutSeconds";
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(end->ok()) << end->message();
  EXPECT_EQ(names, (std::vector<std::string>{"ADDED w1", "DELETED w1"}));
}

TEST_F(RestTransportTest, WatchRefusedByTheServerEndsWithItsStatus) {
  Request r;
  r.path = "/api/v1/nosuchthings";
  r.query = {{"watch", "true"}};
  std::atomic<int> lines{0};
  std::promise<Response> ended;
  auto w = transport_->Watch(r, [&](std::string_view) { ++lines; }, [&](Response e) { ended.set_value(e); });
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  Response e = f.get();
  EXPECT_EQ(e.code, 404);
  EXPECT_NE(e.body.find("\"kind\":\"Status\""), std::string::npos) << e.body;
  EXPECT_EQ(lines.load(), 0);
}

TEST_F(RestTransportTest, UnreachableServerIsATransportFailure) {
  auto kc = LoadKubeconfig(dir_ + "/kubeconfig.yaml");
  ASSERT_TRUE(kc.ok());
  kc->port = "1";  // nothing listens on tcpmux
  auto t = MakeRestTransport(*kc);
  ASSERT_TRUE(t.ok());
  Request get;
  get.path = "/api/v1/namespaces";
  Response r = t.value()->Do(get);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;

  std::promise<Response> ended;
  get.query = {{"watch", "true"}};
  auto w = t.value()->Watch(get, [](std::string_view) {}, [&](Response e) { ended.set_value(e); });
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get().code, 0);
}

TEST_F(RestTransportTest, StopInsideACallbackNeitherDeadlocksNorCallsAgain) {
  std::atomic<int> lines{0}, ends{0};
  std::unique_ptr<WatchStream> w;
  std::mutex w_mu;  // `w` is assigned after Watch returns; the callback may run before
  Request r;
  r.path = "/api/v1/namespaces/default/configmaps";
  r.query = {{"watch", "true"}};  // from "now": the existing configmaps arrive as ADDED
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("a")).ok());
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("b")).ok());
  {
    std::lock_guard<std::mutex> lock(w_mu);
    w = transport_->Watch(
        r,
        [&](std::string_view) {
          ++lines;
          std::lock_guard<std::mutex> lock(w_mu);
          w->Stop();  // our own stream, from its own thread
        },
        [&](Response) { ++ends; });
  }
  ASSERT_TRUE(Eventually([&] { return lines.load() > 0; }));
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("c")).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(lines.load(), 1);
  EXPECT_EQ(ends.load(), 0);  // stopped, not ended by itself
  std::lock_guard<std::mutex> lock(w_mu);
  w.reset();  // a second Stop, from here: harmless
}

TEST_F(RestTransportTest, NoCallbackRunsAfterStopReturns) {
  std::atomic<int> lines{0};
  std::atomic<bool> stopped{false}, late{false};
  Request r;
  r.path = "/api/v1/namespaces/default/configmaps";
  r.query = {{"watch", "true"}};
  auto w = transport_->Watch(
      r,
      [&](std::string_view) {
        if (stopped) late = true;
        std::this_thread::sleep_for(20ms);  // widen the window in which Stop could race us
        if (stopped) late = true;
        ++lines;
      },
      [&](Response) {
        if (stopped) late = true;
      });
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) (void)client_->Create(ConfigMaps(), "default", ConfigMap("n" + std::to_string(i)));
  });
  ASSERT_TRUE(Eventually([&] { return lines.load() >= 3; }));
  w->Stop();
  stopped = true;
  const int at_stop = lines.load();
  writer.join();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(late.load());
  EXPECT_EQ(lines.load(), at_stop);
}

TEST_F(RestTransportTest, BearerTokenKubeconfigWithFileReferences) {
  auto kc = LoadKubeconfig(dir_ + "/kubeconfig.yaml");
  ASSERT_TRUE(kc.ok());
  std::ofstream(dir_ + "/ca.crt") << kc->ca_pem;
  auto write = [&](const std::string& token) {
    std::ofstream(dir_ + "/token.yaml") << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                           "    server: " << kc->server << "\n    certificate-authority: ca.crt\n"
                                           "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                                           "current-context: x\nusers:\n- name: u\n  user:\n    token: " << token << "\n";
  };
  write("root-token");
  auto loaded = LoadKubeconfig(dir_ + "/token.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->token, "root-token");
  EXPECT_TRUE(loaded->cert_pem.empty());
  auto t = MakeRestTransport(dir_ + "/token.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  Client c(t.value());
  auto ns = c.Get(*api::FindResource("", "v1", "namespaces"), "", "default");
  EXPECT_TRUE(ns.ok()) << ns.error().http_code() << " " << ns.error().message();

  write("wrong-token");
  auto bad = MakeRestTransport(dir_ + "/token.yaml");
  ASSERT_TRUE(bad.ok());
  auto denied = Client(bad.value()).Get(*api::FindResource("", "v1", "namespaces"), "", "default");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().http_code(), 401);
}

TEST_F(RestTransportTest, RetriesOnceWhenTheServerDroppedAnIdleConnection) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("kept")).ok());  // pools a connection
  const int port = server_->port();
  server_.reset();  // closes every connection, the pooled one too
  StartServer(port);
  auto got = client_->Get(ConfigMaps(), "default", "kept");
  EXPECT_TRUE(got.ok()) << got.error().http_code() << " " << got.error().message();
}

TEST(KubeconfigTest, MissingFileAndPlainHttpAreErrors) {
  EXPECT_FALSE(LoadKubeconfig("/nonexistent/kubeconfig").ok());
  const std::string dir = datastore::testing::TempDir();
  std::ofstream(dir + "/http.yaml") << "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:8080'}\n";
  auto r = LoadKubeconfig(dir + "/http.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not https"), std::string::npos);
  std::ofstream(dir + "/v6.yaml") << "clusters:\n- name: c\n  cluster: {server: 'https://[::1]:6443/'}\n";
  auto v6 = LoadKubeconfig(dir + "/v6.yaml");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "6443");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kite::client
