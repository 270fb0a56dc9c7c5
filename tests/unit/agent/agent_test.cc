// The Agent (agent/agent.h) against a real in-process API server, acting as system:node:<name>
// in system:nodes through the local transport (as kite-server's embedded agent does): the Node
// registers with the machine's capacity; Ready follows the runtime's RuntimeStatus, with the
// runtime's words while it is not ready and a new lastTransitionTime only for the condition that
// changed; a runtime factory that fails leaves the node NotReady saying why.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>

#include "agent/agent.h"
#include "agent/hollow/hollow_runtime.h"
#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "tests/unit/eventually.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::agent {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using kite::testing::Eventually;

// kite-hollow's runtime whose network can be switched off (NetworkReady false).
class SwitchableRuntime final : public cri::RuntimeService, public cri::ImageService {
 public:
  std::atomic<bool> network_ready{false};

  Result<cri::VersionInfo> Version() override { return h_.Version(); }
  Status UpdateRuntimeConfig(const std::string& c) override { return h_.UpdateRuntimeConfig(c); }
  Result<std::string> RunPodSandbox(const cri::PodSandboxConfig& c) override { return h_.RunPodSandbox(c); }
  Status StopPodSandbox(const std::string& id) override { return h_.StopPodSandbox(id); }
  Status RemovePodSandbox(const std::string& id) override { return h_.RemovePodSandbox(id); }
  Result<cri::PodSandboxStatus> PodSandboxStatus(const std::string& id) override { return h_.PodSandboxStatus(id); }
  Result<std::vector<cri::PodSandbox>> ListPodSandbox(const cri::PodSandboxFilter& f) override { return h_.ListPodSandbox(f); }
  Result<std::string> CreateContainer(const std::string& id, const cri::ContainerConfig& c,
                                      const cri::PodSandboxConfig& s) override {
    return h_.CreateContainer(id, c, s);
  }
  Status StartContainer(const std::string& id) override { return h_.StartContainer(id); }
  Status StopContainer(const std::string& id, int64_t t) override { return h_.StopContainer(id, t); }
  Status RemoveContainer(const std::string& id) override { return h_.RemoveContainer(id); }
  Result<std::vector<cri::Container>> ListContainers(const cri::ContainerFilter& f) override { return h_.ListContainers(f); }
  Result<cri::ContainerStatus> ContainerStatus(const std::string& id) override { return h_.ContainerStatus(id); }
  Result<cri::ExecSyncResponse> ExecSync(const std::string& id, const std::vector<std::string>& cmd, int64_t t) override {
    return h_.ExecSync(id, cmd, t);
  }
  Result<std::vector<cri::RuntimeCondition>> RuntimeStatus() override {
    if (network_ready) return h_.RuntimeStatus();
    return std::vector<cri::RuntimeCondition>{{"RuntimeReady", true, "", ""},
                                              {"NetworkReady", false, "NetworkPluginNotReady", "cni config uninitialized"}};
  }
  Result<std::string> PullImage(const cri::ImageSpec& i, const std::optional<cri::AuthConfig>& a,
                                const cri::PodSandboxConfig& s) override {
    return h_.PullImage(i, a, s);
  }
  Result<std::optional<cri::Image>> ImageStatus(const cri::ImageSpec& i) override { return h_.ImageStatus(i); }
  Result<std::vector<cri::Image>> ListImages() override { return h_.ListImages(); }
  Status RemoveImage(const cri::ImageSpec& i) override { return h_.RemoveImage(i); }

 private:
  hollow::HollowRuntime h_{"", nullptr};
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(api_.Start());
    admin_ = api_.AdminClient();
  }
  void TearDown() override {
    agent_.reset();
    admin_.reset();
  }
  AgentOptions Options(const std::string& node) {
    AgentOptions o;
    o.disable_kube_proxy = true;  // the host's network: its iptables are not the test's
    o.data_dir = api_.dir() + "/data-" + node;
    o.node_name = node;
    o.node_ip = "10.0.0.5";
    o.status_interval = 20ms;
    o.report_interval = 1h;
    o.heartbeat_interval = 1s;
    return o;
  }
  void StartAgent(const AgentOptions& o, RuntimeFactory f) {
    auto a = Agent::Start(o, api_.LocalTransport("system:node:" + o.node_name, {"system:nodes"}), f);
    ASSERT_TRUE(a.ok()) << a.status().message();
    agent_ = std::move(a.value());
  }
  json::object Node(const std::string& name) {
    auto n = admin_->Get(*api::FindResource("", "v1", "nodes"), "", name);
    return n.ok() ? *n : json::object();
  }
  json::object Condition(const std::string& node, const char* type) {
    const json::object n = Node(node);  // FindCondition points into it
    const json::object* c = api::FindCondition(api::GetObject(n, "status"), type);
    return c ? *c : json::object();
  }

  testing::InProcessApiServer api_;
  std::unique_ptr<client::Client> admin_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, ReadyFollowsTheRuntime) {
  auto runtime = std::make_shared<SwitchableRuntime>();
  StartAgent(Options("n1"), [runtime](const AgentOptions&) -> Result<Runtime> {
    Runtime rt;
    rt.owner = runtime;
    rt.runtime = runtime.get();
    rt.images = runtime.get();
    return rt;
  });
  ASSERT_TRUE(Eventually([&] { return api::GetString(Condition("n1", "Ready"), "status") == "False"; }));
  json::object ready = Condition("n1", "Ready");
  EXPECT_EQ(api::GetString(ready, "reason"), "KubeletNotReady");
  EXPECT_EQ(api::GetString(ready, "message"),
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized");
  json::object node = Node("n1");
  EXPECT_EQ(api::GetString(node, {"status", "nodeInfo", "containerRuntimeVersion"}), "hollow://1.0");
  EXPECT_EQ(api::GetString(node, {"status", "nodeInfo", "kubeletVersion"}), kKubeletVersion);
  EXPECT_FALSE(api::GetString(node, {"status", "capacity", "memory"}).empty());
  EXPECT_EQ(api::GetString(node, {"metadata", "labels", "kubernetes.io/hostname"}), "n1");
  const std::string memory_since = api::GetString(Condition("n1", "MemoryPressure"), "lastTransitionTime");
  const std::string ready_since = api::GetString(ready, "lastTransitionTime");

  // RFC 3339 times have whole seconds: flip once the clock shows another one.
  ASSERT_TRUE(Eventually([&] { return api::FormatTime(std::chrono::system_clock::now()) != ready_since; }, 3s));
  runtime->network_ready = true;
  ASSERT_TRUE(Eventually([&] { return api::GetString(Condition("n1", "Ready"), "status") == "True"; }));
  EXPECT_NE(api::GetString(Condition("n1", "Ready"), "lastTransitionTime"), ready_since);
  EXPECT_EQ(api::GetString(Condition("n1", "MemoryPressure"), "lastTransitionTime"), memory_since);
}

TEST_F(AgentTest, AFailedRuntimeFactoryLeavesTheNodeNotReadySayingWhy) {
  StartAgent(Options("n2"), [](const AgentOptions&) -> Result<Runtime> {
    return Status(Code::kUnavailable, "containerd: not running as root");
  });
  ASSERT_TRUE(Eventually([&] { return !Condition("n2", "Ready").empty(); }));
  json::object ready = Condition("n2", "Ready");
  EXPECT_EQ(api::GetString(ready, "status"), "False");
  EXPECT_NE(api::GetString(ready, "message").find("containerd: not running as root"), std::string::npos);
}

TEST_F(AgentTest, BadFlagsAreRefused) {
  AgentOptions o = Options("n3");
  o.kube_reserved = {"gpu=1"};
  EXPECT_FALSE(Agent::Start(o, api_.LocalTransport("system:node:n3", {"system:nodes"}), DefaultRuntime()).ok());
  o = Options("n3");
  o.node_name = "Not_A_Node";
  auto bad_name = Agent::Start(o, api_.LocalTransport("system:node:x", {"system:nodes"}), DefaultRuntime());
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.status().message().find("--node-name"), std::string::npos);
  o = Options("n3");
  o.node_labels = {"no-equals"};
  EXPECT_FALSE(Agent::Start(o, api_.LocalTransport("system:node:n3", {"system:nodes"}), DefaultRuntime()).ok());
}

}  // namespace
}  // namespace kite::agent
