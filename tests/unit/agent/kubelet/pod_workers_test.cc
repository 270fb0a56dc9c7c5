// The pod workers over kite-hollow's fake runtime and a real in-process API server
// (pod_workers_fixture.h), a pod's life: a bound pod gets a sandbox, an IP of its node's pod CIDR
// and its containers, and is reported Running; containers that exit are restarted as
// restartPolicy says, with CrashLoopBackOff; probes restart (liveness), gate readiness and
// startup; init containers run in order; hooks; start errors become upstream's waiting reasons;
// activeDeadlineSeconds. (Back-off timing on a fake clock: container_backoff_test.cc; here the
// back-off is shortened.) Admission, adoption and status writes: pod_workers_admit_test.cc.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>

#include "tests/unit/agent/kubelet/pod_workers_fixture.h"

namespace kite::kubelet::testing_pod_workers {
namespace {

TEST_F(PodWorkersTest, RunsABoundPodAndReportsItRunning) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  json::object pod = Get("web");
  EXPECT_EQ(api::GetString(pod, {"status", "podIP"}), "10.64.0.2");
  EXPECT_EQ(api::GetString(pod, {"status", "hostIP"}), "10.200.0.1");
  const json::object cs = CStatus("web");
  EXPECT_EQ(api::GetString(cs, "containerID"), "hollow://" + uid + "-main");
  EXPECT_EQ(api::GetString(cs, "imageID"), hollow::HollowRuntime::ImageRef("nginx:1.26"));
  EXPECT_TRUE(api::GetBool(cs, "ready"));
  EXPECT_TRUE(api::GetBool(cs, "started"));
  EXPECT_TRUE(api::FindObject(api::GetObject(CStatus("web", 0, "initContainerStatuses"), "state"), "terminated"));
  EXPECT_EQ(Condition("web", "Ready"), "True");
  EXPECT_EQ(Condition("web", "Initialized"), "True");
  EXPECT_EQ(Sandboxes(uid), 1u);
  auto main = runtime_->ContainerStatus(uid + "-main");
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->state, cri::ContainerState::kRunning);
  // Upstream's Events, in order of the pod's life.
  EXPECT_TRUE(Eventually([&] { return HasEvent(uid, "Started: Started container main"); }));
  EXPECT_TRUE(HasEvent(uid, "Pulling: Pulling image \"busybox\""));  // no tag: imagePullPolicy Always
  EXPECT_TRUE(HasEvent(uid, "Created: Created container: init"));
}

TEST_F(PodWorkersTest, APodThatRunsToCompletionSucceedsAndGivesItsIpBack) {
  StartWorkers();
  const std::string uid = Create(Pod("job-1", "Never"));
  ASSERT_TRUE(Eventually([&] { return Phase("job-1") == "Succeeded"; }));
  const json::object term = api::GetObject(CStatus("job-1"), {"state", "terminated"});
  EXPECT_EQ(api::GetInt(term, "exitCode", -1), 0);
  EXPECT_EQ(api::GetString(term, "reason"), "Completed");
  EXPECT_TRUE(Eventually([&] { return ReadySandboxes(uid) == 0; }));
  EXPECT_EQ(Sandboxes(uid), 1u);  // stopped, kept until the pod is deleted
  // Its IP is free again: the next pod gets it.
  Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  EXPECT_EQ(api::GetString(Get("web"), {"status", "podIP"}), "10.64.0.2");
}

TEST_F(PodWorkersTest, AGracefulDeletionEndsWithTheFinalDelete) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return Phase("web") == "Running"; }));
  auto deleted = client_->Delete(Pods(), "default", "web", client::DeleteParams{});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message();
  EXPECT_TRUE(Eventually([&] { return client_->Get(Pods(), "default", "web").NotFound(); }));
  EXPECT_TRUE(Eventually([&] { return Sandboxes(uid) == 0; }));
  EXPECT_TRUE(HasEvent(uid, "Killing: Stopping container main"));
  // Removed without a StopPodSandbox first: containerd stops a sandbox it removes, and a stop
  // before ran every CNI plugin's DEL a second time.
  EXPECT_EQ(runtime_->sandbox_stops(), 0);
}

TEST_F(PodWorkersTest, ACrashedContainerRestartsWithCrashLoopBackOff) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return IsRunning("web"); }));
  // First crash: restarted at once (restartCount 1), the exit as lastState.
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main", 1).ok());
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 1 && IsRunning("web"); }));
  json::object last = api::GetObject(CStatus("web"), {"lastState", "terminated"});
  EXPECT_EQ(api::GetInt(last, "exitCode"), 1);
  EXPECT_EQ(api::GetString(last, "reason"), "Error");
  EXPECT_EQ(api::GetString(last, "containerID"), "hollow://" + uid + "-main");
  EXPECT_FALSE(api::GetString(last, "finishedAt").empty());
  EXPECT_EQ(api::GetString(CStatus("web"), "containerID"), "hollow://" + uid + "-main-1");
  // Second crash: waits out the back-off (500 ms here) in CrashLoopBackOff, then restarts.
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main-1", 2).ok());
  ASSERT_TRUE(Eventually([&] { return Waiting("web") == "CrashLoopBackOff"; }));
  EXPECT_EQ(api::GetString(CStatus("web"), {"state", "waiting", "message"}),
            "back-off 500ms restarting failed container=main pod=web_default(" + uid + ")");
  EXPECT_EQ(api::GetInt(CStatus("web"), {"lastState", "terminated", "exitCode"}), 2);
  EXPECT_EQ(Condition("web", "Ready"), "False");
  EXPECT_EQ(Phase("web"), "Running");
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 2 && IsRunning("web"); }));
  EXPECT_EQ(Condition("web", "Ready"), "True");
  // Third: the back-off doubled.
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main-2", 1).ok());
  ASSERT_TRUE(Eventually([&] {
    return api::GetString(CStatus("web"), {"state", "waiting", "message"}).starts_with("back-off 1s ");
  }));
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 3 && IsRunning("web"); }));
  EXPECT_TRUE(HasEvent(uid, "BackOff: Back-off restarting failed container main in pod web_default(" + uid + ")"));
  // Dead containers do not pile up: the running one and the one lastState tells of.
  cri::ContainerFilter f;
  f.label_selector = {{"io.kubernetes.pod.uid", uid}, {"io.kubernetes.container.name", "main"}};
  EXPECT_TRUE(Eventually([&] { return runtime_->ListContainers(f)->size() == 2; }));
}

TEST_F(PodWorkersTest, ALostSandboxIsRecreatedAndTheRestartCountGoesOn) {
  StartWorkers();
  const std::string uid = Create(Pod("web", "Always"));
  ASSERT_TRUE(Eventually([&] { return IsRunning("web"); }));
  // The sandbox dies (a node reboot, a runtime that lost it): a new one, containers again.
  ASSERT_TRUE(runtime_->StopPodSandbox(uid).ok());
  ASSERT_TRUE(Eventually([&] { return Restarts("web") == 1 && IsRunning("web"); }));
  EXPECT_EQ(Sandboxes(uid), 1u);
  EXPECT_TRUE(HasEvent(uid, "SandboxChanged: Pod sandbox changed, it will be killed and re-created."));
}

TEST_F(PodWorkersTest, NeverWithExitCode3IsFailed) {
  StartWorkers();
  const std::string uid = Create(Pod("once", "Never"));
  ASSERT_TRUE(Eventually([&] { return IsRunning("once"); }));
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main", 3).ok());
  ASSERT_TRUE(Eventually([&] { return Phase("once") == "Failed"; }));
  const json::object term = api::GetObject(CStatus("once"), {"state", "terminated"});
  EXPECT_EQ(api::GetInt(term, "exitCode"), 3);
  EXPECT_EQ(api::GetString(term, "reason"), "Error");
  EXPECT_EQ(Restarts("once"), 0);
  EXPECT_TRUE(Eventually([&] { return ReadySandboxes(uid) == 0; }));
}

TEST_F(PodWorkersTest, OnFailureRestartsFailuresOnly) {
  StartWorkers();
  const std::string uid = Create(Pod("of", "OnFailure"));
  ASSERT_TRUE(Eventually([&] { return IsRunning("of"); }));
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main", 7).ok());
  ASSERT_TRUE(Eventually([&] { return Restarts("of") == 1 && IsRunning("of"); }));
  ASSERT_TRUE(runtime_->ExitContainer(uid + "-main-1", 0).ok());
  ASSERT_TRUE(Eventually([&] { return Phase("of") == "Succeeded"; }));
}

TEST_F(PodWorkersTest, InitContainersRunInOrderAndTheirFailureFailsANeverPod) {
  StartWorkers();
  const std::string uid =
      Create(Pod("inits", "Never", json::array{Container("main")}, json::array{Container("init"), Container("setup")}));
  // "setup" runs (until the test ends it): the main container waits, the pod is initializing.
  ASSERT_TRUE(Eventually([&] { return IsRunningInRuntime(uid, "setup"); }));
  ASSERT_TRUE(Eventually([&] { return Waiting("inits") == "PodInitializing"; }));
  EXPECT_EQ(Phase("inits"), "Pending");
  EXPECT_EQ(Condition("inits", "Initialized"), "False");
  EXPECT_TRUE(ContainerId(uid, "main").empty());
  auto init = runtime_->ContainerStatus(ContainerId(uid, "init"));
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->state, cri::ContainerState::kExited);  // the first one ran before
  ASSERT_TRUE(runtime_->ExitContainer(ContainerId(uid, "setup"), 1).ok());
  ASSERT_TRUE(Eventually([&] { return Phase("inits") == "Failed"; }));
  EXPECT_EQ(api::GetInt(CStatus("inits", 1, "initContainerStatuses"), {"state", "terminated", "exitCode"}), 1);
  EXPECT_TRUE(ContainerId(uid, "main").empty());  // never started
}

TEST_F(PodWorkersTest, AFailedInitContainerIsRestartedUnderAlways) {
  StartWorkers();
  const std::string uid =
      Create(Pod("initr", "Always", json::array{Container("main")}, json::array{Container("setup")}));
  ASSERT_TRUE(Eventually([&] { return IsRunningInRuntime(uid, "setup"); }));
  ASSERT_TRUE(runtime_->ExitContainer(ContainerId(uid, "setup"), 1).ok());
  ASSERT_TRUE(Eventually([&] { return api::GetInt(CStatus("initr", 0, "initContainerStatuses"), "restartCount") == 1; }));
  ASSERT_TRUE(Eventually([&] { return IsRunningInRuntime(uid, "setup"); }));
  ASSERT_TRUE(runtime_->ExitContainer(ContainerId(uid, "setup"), 0).ok());
  ASSERT_TRUE(Eventually([&] { return Phase("initr") == "Running" && IsRunning("initr"); }));
  EXPECT_EQ(Condition("initr", "Initialized"), "True");
}

TEST_F(PodWorkersTest, AFailingLivenessProbeRestartsTheContainer) {
  runtime_->SetExecResult("main", 1, "boom");
  StartWorkers();
  json::object c = Container("main");
  c["livenessProbe"] = ExecProbe();
  const std::string uid = Create(Pod("live", "Always", json::array{c}));
  ASSERT_TRUE(Eventually([&] { return Restarts("live") >= 1; }, 20s));
  EXPECT_TRUE(Eventually([&] { return HasEvent(uid, "Unhealthy: Liveness probe failed: boom"); }));
  EXPECT_TRUE(HasEvent(uid, "Killing: Container main failed liveness probe, will be restarted"));
  // Healthy again: it stays up.
  runtime_->SetExecResult("main", 0);
  ASSERT_TRUE(Eventually([&] { return IsRunning("live"); }, 20s));
}

TEST_F(PodWorkersTest, AFailingReadinessProbeKeepsThePodOutOfReady) {
  runtime_->SetExecResult("main", 1, "not yet");
  StartWorkers();
  json::object c = Container("main");
  c["readinessProbe"] = ExecProbe();
  const std::string uid = Create(Pod("ready", "Always", json::array{c}));
  ASSERT_TRUE(Eventually([&] { return Phase("ready") == "Running"; }));
  ASSERT_TRUE(Eventually([&] { return HasEvent(uid, "Unhealthy: Readiness probe failed: not yet"); }));
  EXPECT_EQ(Condition("ready", "Ready"), "False");
  EXPECT_EQ(Condition("ready", "ContainersReady"), "False");
  EXPECT_FALSE(api::GetBool(CStatus("ready"), "ready"));
  EXPECT_EQ(Restarts("ready"), 0);  // readiness never restarts
  runtime_->SetExecResult("main", 0);
  ASSERT_TRUE(Eventually([&] { return Condition("ready", "Ready") == "True"; }));
  EXPECT_TRUE(api::GetBool(CStatus("ready"), "ready"));
}

TEST_F(PodWorkersTest, AStartupProbeGatesStartedAndReady) {
  runtime_->SetExecResult("main", 1, "starting");
  StartWorkers();
  json::object c = Container("main");
  c["startupProbe"] = ExecProbe(100);
  const std::string uid = Create(Pod("slow", "Always", json::array{c}));
  ASSERT_TRUE(Eventually([&] { return HasEvent(uid, "Unhealthy: Startup probe failed: starting"); }));
  ASSERT_TRUE(Eventually([&] { return IsRunning("slow"); }));
  EXPECT_FALSE(api::GetBool(CStatus("slow"), "started"));
  EXPECT_FALSE(api::GetBool(CStatus("slow"), "ready"));
  runtime_->SetExecResult("main", 0);
  ASSERT_TRUE(Eventually([&] { return api::GetBool(CStatus("slow"), "started"); }));
  EXPECT_TRUE(Eventually([&] { return Condition("slow", "Ready") == "True"; }));
}

TEST_F(PodWorkersTest, AFailedPostStartHookKillsTheContainer) {
  runtime_->SetExecResult("main", 1, "hook broke");
  StartWorkers();
  json::object c = Container("main");
  c["lifecycle"] = json::object{{"postStart", json::object{{"exec", json::object{{"command", json::array{"setup"}}}}}}};
  const std::string uid = Create(Pod("hooked", "Always", json::array{c}));
  ASSERT_TRUE(Eventually([&] { return HasEvent(uid, "FailedPostStartHook: PostStartHook failed: hook broke"); }));
  EXPECT_TRUE(Eventually([&] { return HasEvent(uid, "Killing: FailedPostStartHook"); }));
  ASSERT_TRUE(Eventually([&] { return Restarts("hooked") >= 1; }));
}

TEST_F(PodWorkersTest, ADeletionRunsThePreStopHook) {
  runtime_->SetExecResult("main", 1, "drain failed");
  StartWorkers();
  json::object c = Container("main");
  c["lifecycle"] = json::object{{"preStop", json::object{{"exec", json::object{{"command", json::array{"drain"}}}}}}};
  const std::string uid = Create(Pod("stopping", "Always", json::array{c}));
  ASSERT_TRUE(Eventually([&] { return IsRunning("stopping"); }));
  ASSERT_TRUE(client_->Delete(Pods(), "default", "stopping", client::DeleteParams{}).ok());
  EXPECT_TRUE(Eventually([&] { return client_->Get(Pods(), "default", "stopping").NotFound(); }));
  EXPECT_TRUE(HasEvent(uid, "FailedPreStopHook: PreStopHook failed: drain failed"));
  EXPECT_TRUE(HasEvent(uid, "Killing: Stopping container main"));
  EXPECT_EQ(Sandboxes(uid), 0u);
}

TEST_F(PodWorkersTest, StartErrorsBecomeWaitingReasons) {
  runtime_->SetPullError("missing:1", Status(Code::kNotFound, "failed to resolve reference \"missing:1\": not found"));
  runtime_->SetStartError("crash", Status(Code::kUnknown, "exec: \"nope\": executable file not found in $PATH"));
  StartWorkers();
  json::object env = Container("env");
  env["env"] = json::array{json::object{
      {"name", "X"}, {"valueFrom", json::object{{"configMapKeyRef", json::object{{"name", "cm"}, {"key", "k"}}}}}}};
  const std::string uid = Create(Pod("bad", "Always",
                                     json::array{Container("pull", "missing:1"), env, Container("crash")},
                                     json::array{}));
  ASSERT_TRUE(Eventually([&] { return Waiting("bad", 0) == "ImagePullBackOff"; }));
  EXPECT_TRUE(HasEvent(uid, "Failed: Error: ErrImagePull"));
  EXPECT_TRUE(HasEvent(uid, "BackOff: Back-off pulling image \"missing:1\""));
  EXPECT_EQ(Waiting("bad", 1), "CreateContainerConfigError");
  ASSERT_TRUE(Eventually([&] { return Waiting("bad", 2) == "RunContainerError" || Waiting("bad", 2) == "CrashLoopBackOff"; }));
  EXPECT_EQ(Phase("bad"), "Pending");
  // The image shows up: the pull succeeds on the next try.
  runtime_->SetPullError("missing:1", Status::Ok());
  ASSERT_TRUE(Eventually([&] { return IsRunning("bad", 0); }));
}

TEST_F(PodWorkersTest, ActiveDeadlineFailsThePod) {
  StartWorkers();
  json::object pod = Pod("dl", "Always");
  pod["spec"].as_object()["activeDeadlineSeconds"] = 1;
  const std::string uid = Create(pod);
  ASSERT_TRUE(Eventually([&] { return Phase("dl") == "Failed"; }));
  EXPECT_EQ(api::GetString(Get("dl"), {"status", "reason"}), "DeadlineExceeded");
  EXPECT_TRUE(Eventually([&] { return ReadySandboxes(uid) == 0; }));
}

}  // namespace
}  // namespace kite::kubelet::testing_pod_workers
