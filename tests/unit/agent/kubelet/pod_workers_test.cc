// The pod workers and the status manager over kite-hollow's fake runtime, against a real
// in-process API server (local transport): a bound pod gets a sandbox, an IP of its node's pod
// CIDR and its containers, and is reported Running; a pod that runs to completion is reported
// Succeeded and its sandbox (and IP) goes; a graceful deletion ends with the final delete and
// no sandbox left.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <thread>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "tests/unit/server/apiserver/test_server.h"
#include "tests/unit/eventually.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

json::object Pod(const std::string& name, const std::string& restart_policy) {
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", json::object{{"name", name}, {"namespace", "default"}}},
      {"spec", json::object{{"nodeName", "n-0"},
                            {"restartPolicy", restart_policy},
                            {"initContainers", json::array{json::object{{"name", "init"}, {"image", "busybox"}}}},
                            {"containers", json::array{json::object{{"name", "main"}, {"image", "nginx:1.26"}}}}}}};
}

using kite::testing::Eventually;

class PodWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<testing::InProcessApiServer>();
    ASSERT_NO_FATAL_FAILURE(api_->Start());
    client_ = api_->AdminClient();
    // Containers of pods named job-* exit after 100 ms, init containers at once.
    runtime_ = std::make_unique<hollow::HollowRuntime>(
        "10.64.0.0/24", [](const cri::PodSandboxMetadata& pod, const std::string& container)
                            -> std::optional<std::chrono::milliseconds> {
          if (container == "init") return 0ms;
          if (pod.name.rfind("job-", 0) == 0) return 100ms;
          return std::nullopt;
        });
    nodes_ = std::make_unique<NodeSet>(std::vector<Node>{
        Node{NodeIdentity{0, "n-0", "10.200.0.1", "10.64.0.0/24"}, runtime_.get(), runtime_.get()}});
    status_ = std::make_unique<StatusManager>(client_.get());
    informers_ = std::make_unique<client::InformerFactory>(client_.get());
    runner_ = std::make_unique<client::ControllerRunner>(informers_.get(), 2);
    PodWorkers::Options po;
    po.relist_period = 20ms;
    po.workers = 2;
    runner_->Add(std::make_unique<PodWorkers>(nodes_.get(), status_.get(), po));
    ASSERT_TRUE(runner_->Start(10s));
  }
  void TearDown() override {
    runner_.reset();
    informers_.reset();
    client_.reset();
    api_.reset();
  }

  json::object Get(const std::string& name) {
    auto got = client_->Get(Pods(), "default", name);
    return got.ok() ? got.value() : json::object();
  }
  std::string StatusField(const std::string& name, const char* field) {
    json::object pod = Get(name);
    const json::value* st = pod.if_contains("status");
    const json::value* v = st && st->is_object() ? st->as_object().if_contains(field) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }
  size_t Sandboxes(const std::string& uid) {
    cri::PodSandboxFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}};
    return runtime_->ListPodSandbox(f)->size();
  }

  std::unique_ptr<testing::InProcessApiServer> api_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<hollow::HollowRuntime> runtime_;
  std::unique_ptr<NodeSet> nodes_;
  std::unique_ptr<StatusManager> status_;
  std::unique_ptr<client::InformerFactory> informers_;
  std::unique_ptr<client::ControllerRunner> runner_;
};

TEST_F(PodWorkersTest, RunsABoundPodAndReportsItRunning) {
  auto created = client_->Create(Pods(), "default", Pod("web", "Always"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  const std::string uid = api::Uid(*created);
  ASSERT_TRUE(Eventually([&] { return StatusField("web", "phase") == "Running"; }));
  EXPECT_EQ(StatusField("web", "podIP"), "10.64.0.2");
  EXPECT_EQ(StatusField("web", "hostIP"), "10.200.0.1");
  json::object pod = Get("web");
  const auto& cs = pod["status"].as_object()["containerStatuses"].as_array()[0].as_object();
  EXPECT_EQ(cs.at("containerID").as_string(), "hollow://" + uid + "-main");
  EXPECT_EQ(cs.at("imageID").as_string(), hollow::HollowRuntime::ImageRef("nginx:1.26"));
  EXPECT_TRUE(cs.at("state").as_object().contains("running"));
  const auto& init = pod["status"].as_object()["initContainerStatuses"].as_array()[0].as_object();
  EXPECT_TRUE(init.at("state").as_object().contains("terminated"));
  EXPECT_EQ(Sandboxes(uid), 1u);
  // The runtime has what the status says: the main container runs.
  auto main = runtime_->ContainerStatus(uid + "-main");
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->state, cri::ContainerState::kRunning);
}

TEST_F(PodWorkersTest, APodThatRunsToCompletionSucceedsAndGivesItsIpBack) {
  auto created = client_->Create(Pods(), "default", Pod("job-1", "Never"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  const std::string uid = api::Uid(*created);
  ASSERT_TRUE(Eventually([&] { return StatusField("job-1", "phase") == "Succeeded"; }));
  json::object pod = Get("job-1");
  const auto& term = pod["status"].as_object()["containerStatuses"].as_array()[0].as_object()["state"]
                         .as_object()["terminated"].as_object();
  EXPECT_EQ(term.at("exitCode").as_int64(), 0);
  EXPECT_EQ(term.at("reason").as_string(), "Completed");
  EXPECT_TRUE(Eventually([&] { return Sandboxes(uid) == 0; }));
  // Its IP is free again: the next pod gets it.
  ASSERT_TRUE(client_->Create(Pods(), "default", Pod("web", "Always")).ok());
  ASSERT_TRUE(Eventually([&] { return StatusField("web", "phase") == "Running"; }));
  EXPECT_EQ(StatusField("web", "podIP"), "10.64.0.2");
}

TEST_F(PodWorkersTest, AGracefulDeletionEndsWithTheFinalDelete) {
  auto created = client_->Create(Pods(), "default", Pod("web", "Always"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  const std::string uid = api::Uid(*created);
  ASSERT_TRUE(Eventually([&] { return StatusField("web", "phase") == "Running"; }));
  auto deleted = client_->Delete(Pods(), "default", "web", client::DeleteParams{});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message();
  EXPECT_TRUE(Eventually([&] { return client_->Get(Pods(), "default", "web").NotFound(); }));
  EXPECT_TRUE(Eventually([&] { return Sandboxes(uid) == 0; }));
}

}  // namespace
}  // namespace kite::kubelet
