// The pod workers (pod_workers_fixture.h) beyond a pod's own life: admit handlers rejecting a
// pod, the node's sandbox gate, ephemeral containers added through pods/ephemeralcontainers, a
// restart of the workers adopting what runs, and the status written only when it changes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>

#include "tests/unit/agent/kubelet/pod_workers_fixture.h"

namespace kite::kubelet::testing_pod_workers {
namespace {

// kubectl debug's path: an ephemeral container patched in through pods/ephemeralcontainers
// starts in the running pod, is reported apart, and is never restarted once it exits; one whose
// target does not run waits with CreateContainerConfigError.
TEST_F(PodWorkersTest, EphemeralContainersStartOnceAndAreNeverRestarted) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  auto added = client_->Patch(
      Pods(), "default", "web", client::PatchType::kStrategic,
      R"({"spec":{"ephemeralContainers":[{"name":"dbg","image":"busybox:1.36","targetContainerName":"main"},
                                         {"name":"lost","image":"busybox:1.36","targetContainerName":"init"}]}})",
      "ephemeralcontainers");
  ASSERT_TRUE(added.ok()) << added.error().message();
  auto eph = [&](size_t i) { return CStatus("web", i, "ephemeralContainerStatuses"); };
  ASSERT_TRUE(Eventually([&] { return IsRunningInRuntime(uid, "dbg"); }));
  ASSERT_TRUE(Eventually([&] { return api::FindObject(api::GetObject(eph(0), "state"), "running") != nullptr; }));
  EXPECT_EQ(api::GetString(eph(0), "containerID"), "hollow://" + uid + "-dbg");
  // The init container exited: not a target to join.
  ASSERT_TRUE(Eventually([&] { return api::GetString(eph(1), {"state", "waiting", "reason"}) == "CreateContainerConfigError"; }));
  EXPECT_EQ(api::GetString(eph(1), {"state", "waiting", "message"}), "unable to find target container init");
  EXPECT_EQ(Phase("web"), "Running");
  EXPECT_EQ(Condition("web", "Ready"), "True");
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-dbg", 0).ok());
  ASSERT_TRUE(Eventually([&] { return api::GetString(eph(0), {"state", "terminated", "reason"}) == "Completed"; }));
  std::this_thread::sleep_for(200ms);  // several relists and syncs later: still the one container
  EXPECT_EQ(ContainerId(uid, "dbg"), uid + "-dbg");
  EXPECT_EQ(api::GetInt(eph(0), "restartCount"), 0);
  EXPECT_TRUE(HasEvent(uid, "Started: Started container dbg"));
}

// An admit handler's refusal (node pressure, say): nothing of the pod runs, it is Failed with the
// reason and "Pod was rejected: …", and a Warning event says why; other pods are not affected.
TEST_F(PodWorkersTest, ARejectedPodStartsNothingAndFails) {
  StartWorkers(FastOptions(), [](const json::object& pod) -> std::optional<PodWorkers::Rejection> {
    if (api::Name(pod).rfind("rejected", 0) != 0) return std::nullopt;
    return PodWorkers::Rejection{"Evicted", "The node had condition: [DiskPressure]. "};
  });
  const std::string uid = Create(Pod("rejected", "Always"));
  Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("rejected") == "Failed"; }));
  const json::object pod = Get("rejected");
  EXPECT_EQ(api::GetString(pod, {"status", "reason"}), "Evicted");
  EXPECT_EQ(api::GetString(pod, {"status", "message"}), "Pod was rejected: The node had condition: [DiskPressure]. ");
  EXPECT_TRUE(api::GetArray(pod, {"status", "containerStatuses"}).empty());
  EXPECT_TRUE(Eventually([&] { return HasEvent(uid, "Evicted: The node had condition: [DiskPressure]. "); }));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  EXPECT_EQ(Sandboxes(uid), 0u);
  EXPECT_EQ(Phase("rejected"), "Failed");
}

// The API refuses the rejected pod's first status write (a timeout under load, say): the pod is
// terminal for the kubelet, which no longer syncs it, so the retry must write the Failed status
// it decided, not leave the pod Pending for ever.
class FailFirstStatusWriteTransport : public client::Transport {
 public:
  explicit FailFirstStatusWriteTransport(std::shared_ptr<client::Transport> next) : next_(std::move(next)) {}
  client::Response Do(const client::Request& r) override {
    const bool status_write = r.method != "GET" && r.path.size() > 7 && r.path.ends_with("/status");
    if (status_write && !failed_.exchange(true)) {
      return client::Response{503, R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServiceUnavailable","code":503})", ""};
    }
    return next_->Do(r);
  }
  std::unique_ptr<client::WatchStream> Watch(const client::Request& r, std::function<void(std::string_view)> on_line,
                                             std::function<void(client::Response)> on_end) override {
    return next_->Watch(r, std::move(on_line), std::move(on_end));
  }
  std::atomic<bool> failed_{false};

 private:
  std::shared_ptr<client::Transport> next_;
};

TEST_F(PodWorkersTest, ARejectedPodsFailedStatusIsWrittenAgainWhenTheFirstWriteFails) {
  auto failing = std::make_shared<FailFirstStatusWriteTransport>(api_->AdminTransport());
  client::Client status_client(failing);
  status_ = std::make_unique<StatusManager>(&status_client);
  StartWorkers(FastOptions(), [](const json::object&) -> std::optional<PodWorkers::Rejection> {
    return PodWorkers::Rejection{"Evicted", "The node had condition: [MemoryPressure]. "};
  });
  Create(Pod("rejected", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("rejected") == "Failed"; }));
  EXPECT_TRUE(failing->failed_.load());
  EXPECT_EQ(api::GetString(Get("rejected"), {"status", "message"}),
            "Pod was rejected: The node had condition: [MemoryPressure]. ");
  StopWorkers();
  status_.reset();
}

TEST_F(PodWorkersTest, ASandboxWaitsForTheNodesGateAndSaysWhy) {
  std::atomic<bool> open{false};
  Node gated = TestNode();
  gated.sandbox_gate = [&open] { return open ? std::string() : std::string("waiting for the images"); };
  nodes_ = std::make_unique<NodeSet>(std::vector<Node>{gated});
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return HasEvent(uid, "SandboxWaiting: Pod sandbox waits: waiting for the images"); }));
  EXPECT_EQ(Sandboxes(uid), 0u);
  EXPECT_EQ(Phase("web"), "Pending");
  open = true;
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  EXPECT_EQ(Sandboxes(uid), 1u);
}

TEST_F(PodWorkersTest, ARestartAdoptsRunningContainers) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return IsRunning("web"); }));
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main", 1).ok());
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 1 && IsRunning("web"); }));
  const std::string id = api::GetString(CStatus("web"), "containerID");
  StopWorkers();
  const std::string rv = api::ResourceVersion(Get("web"));
  StartWorkers();
  // The new workers synced the pod and kept everything: same container, same count, no write.
  ASSERT_TRUE(Eventually([&] { return workers_->syncs() >= 1; }));
  EXPECT_EQ(api::GetString(CStatus("web"), "containerID"), id);
  EXPECT_EQ(Restarts("web"), 1);
  EXPECT_EQ(Sandboxes(uid), 1u);
  EXPECT_EQ(runtime_->ContainerStatus(uid + "-main-1")->state, cri::ContainerState::kRunning);
  EXPECT_EQ(workers_->status_writes(), 0);
  EXPECT_EQ(api::ResourceVersion(Get("web")), rv);
  // And it still restarts what crashes, counting on.
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main-1", 1).ok());
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 2 && IsRunning("web"); }));
}

TEST_F(PodWorkersTest, TheStatusIsWrittenOnlyWhenItChanges) {
  StartWorkers();
  Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running" && Condition("web", "Ready") == "True"; }));
  ASSERT_TRUE(Eventually([&] { return workers_->syncs() > 0; }));
  const int64_t writes = workers_->status_writes();
  const int64_t syncs = workers_->syncs();
  // A change of the pod that is not the kubelet's business: synced again, nothing written.
  auto patched = client_->Patch(Pods(), "default", "web", client::PatchType::kMerge,
                                R"({"metadata":{"labels":{"touched":"yes"}}})");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  ASSERT_TRUE(Eventually([&] { return workers_->syncs() > syncs; }));
  EXPECT_EQ(workers_->status_writes(), writes);
}

}  // namespace
}  // namespace kite::kubelet::testing_pod_workers
