// The pod workers and the status manager over kite-hollow's fake runtime, against a real
// in-process API server (local transport): a bound pod gets a sandbox, an IP of its node's pod
// CIDR and its containers, and is reported Running; containers that exit are restarted as
// restartPolicy says, with CrashLoopBackOff; probes restart (liveness), gate readiness and
// startup; init containers run in order; start errors become upstream's waiting reasons; a
// restart of the workers adopts what runs; the status is written only when it changes.
// (Back-off timing on a fake clock: container_backoff_test.cc; here the back-off is shortened.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "api/object.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "tests/unit/eventually.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using kite::testing::Eventually;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
const api::ResourceInfo& Events() { return *api::FindResource("", "v1", "events"); }

json::object Container(const std::string& name, const std::string& image = "nginx:1.26") {
  return json::object{{"name", name}, {"image", image}};
}

json::object Pod(const std::string& name, const std::string& restart_policy, json::array containers,
                 json::array init = json::array{Container("init", "busybox")}) {
  json::object spec{{"nodeName", "n-0"}, {"restartPolicy", restart_policy}, {"containers", std::move(containers)}};
  if (!init.empty()) spec["initContainers"] = std::move(init);
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", json::object{{"name", name}, {"namespace", "default"}}},
                      {"spec", std::move(spec)}};
}

json::object Pod(const std::string& name, const std::string& restart_policy) {
  return Pod(name, restart_policy, json::array{Container("main")});
}

json::object ExecProbe(int failure_threshold = 1) {
  return json::object{{"exec", json::object{{"command", json::array{"check"}}}},
                      {"periodSeconds", 1},
                      {"failureThreshold", failure_threshold}};
}

class PodWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<testing::InProcessApiServer>();
    ASSERT_NO_FATAL_FAILURE(api_->Start());
    client_ = api_->AdminClient();
    // Init containers named init exit 0 at once, containers of pods named job-* after 100 ms;
    // the others run until stopped (or made to exit by a test).
    runtime_ = std::make_unique<hollow::HollowRuntime>(
        "10.64.0.0/24", [](const cri::PodSandboxMetadata& pod, const std::string& container)
                            -> std::optional<std::chrono::milliseconds> {
          if (container == "init") return 0ms;
          if (pod.name.rfind("job-", 0) == 0) return 100ms;
          return std::nullopt;
        });
    nodes_ = std::make_unique<NodeSet>(std::vector<Node>{TestNode()});
    status_ = std::make_unique<StatusManager>(client_.get());
    events_ = std::make_unique<client::EventRecorder>(client_.get(), "kubelet", "n-0");
  }
  void TearDown() override {
    StopWorkers();
    events_.reset();
    client_.reset();
    api_.reset();
  }

  Node TestNode() {
    Node n;
    n.id = NodeIdentity{0, "n-0", "10.200.0.1", "10.64.0.0/24"};
    n.runtime = runtime_.get();
    n.images = runtime_.get();
    return n;
  }
  static PodWorkers::Options FastOptions() {
    PodWorkers::Options po;
    po.relist_period = 20ms;
    po.workers = 2;
    po.backoff_initial = 500ms;
    po.backoff_max = 1s;
    return po;
  }
  void StartWorkers(PodWorkers::Options po = FastOptions(), PodWorkers::AdmitHandler admit = nullptr) {
    informers_ = std::make_unique<client::InformerFactory>(client_.get());
    runner_ = std::make_unique<client::ControllerRunner>(informers_.get(), 2);
    auto w = std::make_unique<PodWorkers>(nodes_.get(), status_.get(), events_.get(), po);
    if (admit) w->AddAdmitHandler(std::move(admit));
    workers_ = w.get();
    runner_->Add(std::move(w));
    ASSERT_TRUE(runner_->Start(10s));
  }
  void StopWorkers() {
    // Informers first, as the agent stops (agent.cc): an event delivered after the runner freed
    // the PodWorkers would call into it (its source subscription holds `this`).
    if (informers_) informers_->Stop();
    runner_.reset();
    informers_.reset();
    workers_ = nullptr;
  }

  std::string Create(const json::object& pod) {
    auto created = client_->Create(Pods(), "default", pod);
    EXPECT_TRUE(created.ok()) << created.error().message();
    return created.ok() ? api::Uid(*created) : "";
  }
  json::object Get(const std::string& name) {
    auto got = client_->Get(Pods(), "default", name);
    return got.ok() ? got.value() : json::object();
  }
  std::string Phase(const std::string& name) { return api::GetString(Get(name), {"status", "phase"}); }
  // The status of container `i` of the pod (containerStatuses, or initContainerStatuses).
  json::object CStatus(const std::string& name, size_t i = 0, const char* list = "containerStatuses") {
    const json::object pod = Get(name);
    const json::array& a = api::GetArray(pod, {"status", list});
    return i < a.size() && a[i].is_object() ? a[i].as_object() : json::object();
  }
  std::string Waiting(const std::string& name, size_t i = 0) {
    return api::GetString(CStatus(name, i), {"state", "waiting", "reason"});
  }
  bool IsRunning(const std::string& name, size_t i = 0) {
    return api::FindObject(api::GetObject(CStatus(name, i), "state"), "running") != nullptr;
  }
  int64_t Restarts(const std::string& name, size_t i = 0) { return api::GetInt(CStatus(name, i), "restartCount"); }
  std::string Condition(const std::string& name, const char* type) {
    const json::object pod = Get(name);
    for (const auto& c : api::GetArray(pod, {"status", "conditions"})) {
      if (c.is_object() && api::GetString(c.as_object(), "type") == type) return api::GetString(c.as_object(), "status");
    }
    return "";
  }
  size_t Sandboxes(const std::string& uid) {
    cri::PodSandboxFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}};
    return runtime_->ListPodSandbox(f)->size();
  }
  // Sandboxes of the pod still ready (a finished pod's are stopped, and kept for its logs).
  size_t ReadySandboxes(const std::string& uid) {
    cri::PodSandboxFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}};
    size_t n = 0;
    const auto list = runtime_->ListPodSandbox(f);  // named: a range over *temporary would dangle
    for (const auto& sb : *list) n += sb.state == cri::PodSandboxState::kReady;
    return n;
  }
  // The newest runtime container of `name` in the pod.
  std::string ContainerId(const std::string& uid, const std::string& name) {
    cri::ContainerFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}, {"io.kubernetes.container.name", name}};
    std::string id;
    uint32_t attempt = 0;
    const auto list = runtime_->ListContainers(f);
    for (const auto& c : *list) {
      if (id.empty() || c.metadata.attempt >= attempt) {
        id = c.id;
        attempt = c.metadata.attempt;
      }
    }
    return id;
  }
  bool IsRunningInRuntime(const std::string& uid, const std::string& name) {
    const std::string id = ContainerId(uid, name);
    if (id.empty()) return false;
    auto st = runtime_->ContainerStatus(id);
    return st.ok() && st->state == cri::ContainerState::kRunning;
  }
  // "Reason: message" of every Event about the pod.
  std::vector<std::string> EventsAbout(const std::string& uid) {
    std::vector<std::string> out;
    auto list = client_->List(Events(), "default");
    if (!list.ok()) return out;
    for (const auto& e : api::GetArray(*list, "items")) {
      if (!e.is_object() || api::GetString(e.as_object(), {"involvedObject", "uid"}) != uid) continue;
      out.push_back(api::GetString(e.as_object(), "reason") + ": " + api::GetString(e.as_object(), "message"));
    }
    return out;
  }
  bool HasEvent(const std::string& uid, const std::string& text) {
    for (const auto& e : EventsAbout(uid)) {
      if (e == text) return true;
    }
    return false;
  }

  std::unique_ptr<testing::InProcessApiServer> api_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<hollow::HollowRuntime> runtime_;
  std::unique_ptr<NodeSet> nodes_;
  std::unique_ptr<StatusManager> status_;
  std::unique_ptr<client::EventRecorder> events_;
  std::unique_ptr<client::InformerFactory> informers_;
  std::unique_ptr<client::ControllerRunner> runner_;
  PodWorkers* workers_ = nullptr;
};

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
}  // namespace kite::kubelet
