// KubeletServer against curl: who may call it (401 anonymous, 403 without system:masters, a
// certificate of another CA refused), container logs from the CRI log file of the runtime's
// container (tailLines, timestamps, previous, follow ending when the container stops), and the
// metrics formats; the same server called in process (InProcess, as kite-server's API server
// calls its embedded kubelet), and its 503 once stopped.
#include "agent/kubelet/server/kubelet_server.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/hollow/hollow_runtime.h"
#include "base/pki.h"
#include "tests/unit/shell.h"

namespace kite::kubelet::server {
namespace {

using kite::testing::Shell;

class KubeletServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/kubelet-server-test-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    auto ca = pki::CreateCA("server-ca");
    auto client_ca = pki::CreateCA("client-ca");
    pki::CertSpec serving;
    serving.common_name = "node1";
    serving.ip_addresses = {"127.0.0.1"};
    serving.server = true;
    auto leaf = pki::Issue(*ca, serving);
    pki::CertSpec apiserver;
    apiserver.common_name = "system:apiserver";
    apiserver.organizations = {"system:masters"};
    apiserver.client = true;
    pki::CertSpec node;
    node.common_name = "system:node:other";
    node.organizations = {"system:nodes"};
    node.client = true;
    auto api_cert = pki::Issue(*client_ca, apiserver);
    auto node_cert = pki::Issue(*client_ca, node);
    auto stranger_ca = pki::CreateCA("stranger");
    auto stranger = pki::Issue(*stranger_ca, apiserver);
    std::ofstream(dir_ + "/ca.pem") << ca->cert_pem;
    for (auto [name, kp] : {std::pair<const char*, pki::KeyPair*>{"api", &*api_cert}, {"node", &*node_cert}, {"stranger", &*stranger}}) {
      std::ofstream(dir_ + "/" + name + ".pem") << kp->cert_pem;
      std::ofstream(dir_ + "/" + name + ".key") << kp->key_pem;
    }
    runtime_ = std::make_unique<hollow::HollowRuntime>("", nullptr);
    stats_ = std::make_unique<StatsProvider>("node1", runtime_.get(), dir_);
    KubeletServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = leaf->cert_pem;
    o.key_pem = leaf->key_pem;
    o.client_ca_pem = client_ca->cert_pem;
    o.follow_poll = std::chrono::milliseconds(20);
    KubeletSources src;
    src.node_name = "node1";
    src.runtime = runtime_.get();
    src.stats = stats_.get();
    auto s = KubeletServer::Start(o, std::move(src));
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
    base_ = "https://127.0.0.1:" + std::to_string(server_->port());
    curl_ = "curl -sS --max-time 20 --cacert " + dir_ + "/ca.pem ";
    as_api_ = curl_ + "--cert " + dir_ + "/api.pem --key " + dir_ + "/api.key ";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A pod ns1/p1 with container c whose attempt `attempt` logs to <dir>/c-<attempt>.log.
  std::string AddContainer(uint32_t attempt, const std::string& log) {
    if (sandbox_.empty()) {
      cri::PodSandboxConfig sc;
      sc.metadata = {"p1", "uid-1", "ns1", 0};
      sc.labels = {{"io.kubernetes.pod.name", "p1"}, {"io.kubernetes.pod.namespace", "ns1"}, {"io.kubernetes.pod.uid", "uid-1"}};
      sc.host_network = true;  // the fake runtime has no pod CIDR here
      sandbox_config_ = sc;
      auto sb = runtime_->RunPodSandbox(sc);
      EXPECT_TRUE(sb.ok()) << sb.status().message();
      if (!sb.ok()) return "";
      sandbox_ = *sb;
    }
    cri::ContainerConfig cc;
    cc.metadata = {"c", attempt};
    cc.image.image = "busybox";
    cc.labels = {{"io.kubernetes.container.name", "c"}, {"io.kubernetes.pod.uid", "uid-1"},
                 {"io.kubernetes.pod.name", "p1"}, {"io.kubernetes.pod.namespace", "ns1"}};
    cc.log_path = dir_ + "/c-" + std::to_string(attempt) + ".log";
    std::ofstream(cc.log_path) << log;
    auto id = runtime_->CreateContainer(sandbox_, cc, sandbox_config_);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (!id.ok()) return "";
    EXPECT_TRUE(runtime_->StartContainer(*id).ok());
    return *id;
  }

  std::string dir_, base_, curl_, as_api_, sandbox_;
  cri::PodSandboxConfig sandbox_config_;
  std::unique_ptr<hollow::HollowRuntime> runtime_;
  std::unique_ptr<StatsProvider> stats_;
  std::unique_ptr<KubeletServer> server_;
};

TEST_F(KubeletServerTest, OnlyTheApiServersCertificateGetsIn) {
  std::string out = Shell(curl_ + "-w ' %{http_code}' " + base_ + "/healthz");
  EXPECT_NE(out.find("\"kind\":\"Status\""), std::string::npos) << out;
  EXPECT_NE(out.find(" 401"), std::string::npos) << out;
  out = Shell(curl_ + "--cert " + dir_ + "/node.pem --key " + dir_ + "/node.key -w ' %{http_code}' " + base_ + "/pods");
  EXPECT_NE(out.find("Forbidden (user=system:node:other, verb=get, resource=nodes, subresource=proxy)"), std::string::npos) << out;
  EXPECT_NE(out.find(" 403"), std::string::npos) << out;
  out = Shell(curl_ + "--cert " + dir_ + "/stranger.pem --key " + dir_ + "/stranger.key " + base_ + "/healthz 2>&1; echo rc=$?");
  EXPECT_EQ(out.find("rc=0"), std::string::npos) << out;
  EXPECT_EQ(Shell(as_api_ + base_ + "/healthz"), "ok");
}

TEST_F(KubeletServerTest, ContainerLogs) {
  AddContainer(0, "2024-05-01T10:00:00Z stdout F first run\n");
  AddContainer(1,
               "2024-05-01T10:00:01Z stdout F one\n"
               "2024-05-01T10:00:02Z stderr F two\n"
               "2024-05-01T10:00:03Z stdout F three\n");
  const std::string url = base_ + "/containerLogs/ns1/p1/c";
  EXPECT_EQ(Shell(as_api_ + "'" + url + "'"), "one\ntwo\nthree\n");
  EXPECT_EQ(Shell(as_api_ + "'" + url + "?tailLines=2'"), "two\nthree\n");
  EXPECT_EQ(Shell(as_api_ + "'" + url + "?tailLines=1&timestamps=true'"), "2024-05-01T10:00:03Z three\n");
  EXPECT_EQ(Shell(as_api_ + "'" + url + "?sinceTime=2024-05-01T10:00:02Z'"), "two\nthree\n");
  EXPECT_EQ(Shell(as_api_ + "'" + url + "?limitBytes=5'"), "one\nt");
  EXPECT_EQ(Shell(as_api_ + "'" + url + "?previous=true'"), "first run\n");
  std::string out = Shell(as_api_ + "-w ' %{http_code}' '" + base_ + "/containerLogs/ns1/p1/nope'");
  EXPECT_NE(out.find(" 400"), std::string::npos) << out;
  out = Shell(as_api_ + "-w ' %{http_code}' '" + url + "?tailLines=-1'");
  EXPECT_NE(out.find(" 400"), std::string::npos) << out;
  out = Shell(as_api_ + "-w ' %{http_code}' '" + base_ + "/containerLogs/ns1/gone/c'");
  EXPECT_NE(out.find(" 404"), std::string::npos) << out;
}

TEST_F(KubeletServerTest, FollowStreamsNewLinesUntilTheContainerStops) {
  const std::string id = AddContainer(0, "2024-05-01T10:00:01Z stdout F one\n");
  std::thread writer([&] {
    // Appends once the follower has sent the first line, then stops the container.
    for (int i = 0; i < 500 && !std::filesystem::exists(dir_ + "/follow.out"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ofstream(dir_ + "/c-0.log", std::ios::app) << "2024-05-01T10:00:02Z stdout P tw\n2024-05-01T10:00:02Z stdout F o\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)runtime_->StopContainer(id, 0);
  });
  std::string out = Shell(as_api_ + "-N '" + base_ + "/containerLogs/ns1/p1/c?follow=true' | tee " + dir_ + "/follow.out");
  writer.join();
  EXPECT_EQ(out, "one\ntwo\n");
}

TEST_F(KubeletServerTest, MetricsInUpstreamFormat) {
  AddContainer(0, "");
  std::string out = Shell(as_api_ + base_ + "/metrics");
  EXPECT_NE(out.find("kubelet_running_pods 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("kubelet_running_containers{container_state=\"running\"} 1\n"), std::string::npos) << out;
  out = Shell(as_api_ + base_ + "/metrics/resource");
  EXPECT_NE(out.find("# TYPE node_cpu_usage_seconds_total counter\nnode_cpu_usage_seconds_total "), std::string::npos) << out;
  EXPECT_NE(out.find("# TYPE node_memory_working_set_bytes gauge\n"), std::string::npos) << out;
  EXPECT_NE(out.find("container_start_time_seconds{container=\"c\",namespace=\"ns1\",pod=\"p1\"} "), std::string::npos) << out;
  EXPECT_NE(out.find("resource_scrape_error 0\n"), std::string::npos) << out;
  out = Shell(as_api_ + base_ + "/stats/summary");
  EXPECT_NE(out.find("\"podRef\":{\"name\":\"p1\",\"namespace\":\"ns1\",\"uid\":\"uid-1\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("\"nodeName\":\"node1\""), std::string::npos) << out;
}

// What the in-process kubelet writes to the API server's responder.
class InProcessResponder final : public HttpsResponder {
 public:
  boost::asio::awaitable<void> Send(int status, std::string, std::string b, Headers) override {
    code = status;
    body = std::move(b);
    co_return;
  }
  boost::asio::awaitable<bool> BeginStream(int status, std::string, Headers) override {
    code = status;
    co_return true;
  }
  boost::asio::awaitable<bool> WriteChunk(std::string data) override {
    body += data;
    co_return true;
  }
  boost::asio::awaitable<void> EndStream() override { co_return; }
  int code = 0;
  std::string body;
};

template <class T>
T RunInProcess(boost::asio::awaitable<T> op) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
  io.run();
  return f.get();
}

TEST_F(KubeletServerTest, InProcessCallsAnswerAsOverHttpsUntilStopped) {
  AddContainer(0,
               "2024-05-01T10:00:01Z stdout F one\n"
               "2024-05-01T10:00:02Z stderr F two\n");
  InProcessServer local = server_->InProcess();
  ASSERT_TRUE(local);
  auto serve = [&](const std::string& target) {
    return RunInProcess([&]() -> boost::asio::awaitable<InProcessResponder> {
      HttpsRequest req = RequestForTarget("GET", target);
      InProcessResponder res;
      co_await local.serve(req, res);
      co_return res;
    }());
  };
  InProcessResponder logs = serve("/containerLogs/ns1/p1/c?tailLines=1&timestamps=true");
  EXPECT_EQ(logs.code, 200);
  EXPECT_EQ(logs.body, "2024-05-01T10:00:02Z two\n");
  EXPECT_EQ(serve("/containerLogs/ns1/gone/c").code, 404);
  // An upgrade the caller completes itself: the kubelet's own answer when there is no session
  // (this runtime has no stream server), with a closed stream.
  auto opened = RunInProcess([&]() -> boost::asio::awaitable<Result<UpgradedStream>> {
    HttpsRequest req = RequestForTarget("POST", "/exec/ns1/p1/c?command=true&stdout=1");
    auto up = co_await local.open_upgrade(req);
    co_return up;
  }());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->answer.status, 501);
  EXPECT_NE(opened->answer.data.find("does not serve exec"), std::string::npos) << opened->answer.data;
  ASSERT_NE(opened->stream, nullptr);
  server_->Stop();
  InProcessResponder after = serve("/healthz");
  EXPECT_EQ(after.code, 503);
}

}  // namespace
}  // namespace kite::kubelet::server
