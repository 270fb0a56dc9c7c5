// The pod statuses the kubelet writes (BuildPodStatus), from hand-made views of the runtime:
// phases by upstream's rules, container states and last states, conditions and their times.
// (The pod workers driving it against a fake runtime: pod_workers_test.cc.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/kubelet/pod_status.h"
#include "api/time.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

json::object Pod(const char* restart_policy) {
  return json::parse(std::string(R"({"metadata":{"name":"p","namespace":"default","uid":"u-1"},
    "spec":{"nodeName":"n-0","restartPolicy":")") + restart_policy + R"(",
      "initContainers":[{"name":"init","image":"busybox"}],
      "containers":[{"name":"a","image":"nginx:1.26"},{"name":"b","image":"img@sha256:abc"}]},
    "status":{"phase":"Pending","qosClass":"BestEffort",
      "conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":"2025-01-01T00:00:00Z"}]}})")
      .as_object();
}

const WallClock::time_point kT0 = api::ParseTime("2025-01-02T03:04:05Z").value();

int64_t Ns(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

cri::ContainerStatus Running(const std::string& id, uint32_t attempt = 0) {
  cri::ContainerStatus c;
  c.id = id;
  c.metadata.attempt = attempt;
  c.state = cri::ContainerState::kRunning;
  c.started_at = Ns(kT0);
  c.image_ref = "img@sha256:" + id;
  return c;
}

cri::ContainerStatus Exited(const std::string& id, int32_t code, uint32_t attempt = 0, const std::string& reason = "") {
  cri::ContainerStatus c = Running(id, attempt);
  c.state = cri::ContainerState::kExited;
  c.exit_code = code;
  c.reason = reason;
  c.finished_at = Ns(kT0 + std::chrono::seconds(1));
  return c;
}

PodView View() {
  PodView v;
  v.runtime_name = "hollow";
  v.where = PodPlacement{"10.200.0.1", "10.64.0.2"};
  v.sandbox_ready = true;
  v.now = kT0 + std::chrono::seconds(2);
  return v;
}

std::string Cond(const json::object& st, const char* type, const char* field = "status") {
  for (const auto& c : st.at("conditions").as_array()) {
    if (c.as_object().at("type").as_string() == type) {
      const json::value* v = c.as_object().if_contains(field);
      return v && v->is_string() ? std::string(v->as_string()) : "";
    }
  }
  return "<none>";
}

const json::object& Container(const json::object& st, size_t i, const char* list = "containerStatuses") {
  return st.at(list).as_array()[i].as_object();
}

TEST(PodStatusTest, AllRunningAndReadyIsRunning) {
  json::object pod = Pod("Always");
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].current = Running("ca");
  v.containers["a"].ready = v.containers["a"].started = true;
  v.containers["b"].current = Running("cb");
  v.containers["b"].ready = v.containers["b"].started = true;
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Running");
  EXPECT_EQ(st["podIP"].as_string(), "10.64.0.2");
  EXPECT_EQ(st["hostIP"].as_string(), "10.200.0.1");
  EXPECT_EQ(st["startTime"].as_string(), "2025-01-02T03:04:07Z");
  EXPECT_EQ(st["qosClass"].as_string(), "BestEffort");  // not ours: kept
  std::vector<std::string> types;
  for (const auto& c : st["conditions"].as_array()) {
    types.push_back(std::string(c.as_object().at("type").as_string()) + "=" +
                    std::string(c.as_object().at("status").as_string()));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"PodReadyToStartContainers=True", "Initialized=True", "Ready=True",
                                             "ContainersReady=True", "PodScheduled=True"}));
  EXPECT_EQ(Cond(st, "PodScheduled", "lastTransitionTime"), "2025-01-01T00:00:00Z");  // the scheduler's
  EXPECT_EQ(Container(st, 0).at("containerID").as_string(), "hollow://ca");
  EXPECT_EQ(Container(st, 0).at("imageID").as_string(), "img@sha256:ca");
  EXPECT_TRUE(Container(st, 0).at("ready").as_bool());
  EXPECT_TRUE(Container(st, 0).at("started").as_bool());
  EXPECT_EQ(Container(st, 0).at("state").at("running").at("startedAt").as_string(), "2025-01-02T03:04:05Z");
  EXPECT_EQ(Container(st, 0, "initContainerStatuses").at("state").at("terminated").at("reason").as_string(),
            "Completed");

  // Nothing changed: the same conditions keep their times; startTime stays.
  json::object again = pod;
  again["status"] = st;
  v.now += std::chrono::minutes(5);
  json::object st2 = BuildPodStatus(again, v);
  EXPECT_EQ(json::value(st2), json::value(st));
}

// Ephemeral containers get their own list; the phase and the conditions never see them, and one
// that exited stays terminated whatever the restartPolicy (never restarted).
TEST(PodStatusTest, EphemeralContainersAreReportedApart) {
  json::object pod = Pod("Always");
  json::array& eph = pod["spec"].as_object()["ephemeralContainers"].emplace_array();
  eph.push_back(json::object{{"name", "dbg"}, {"image", "busybox"}, {"targetContainerName", "a"}});
  eph.push_back(json::object{{"name", "dbg2"}, {"image", "busybox"}});
  eph.push_back(json::object{{"name", "dbg3"}, {"image", "busybox"}});
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  for (const char* c : {"a", "b"}) {
    v.containers[c].current = Running(std::string("c") + c);
    v.containers[c].ready = v.containers[c].started = true;
  }
  v.containers["dbg"].current = Exited("d1", 1);
  v.containers["dbg2"].current = Running("d2");
  v.containers["dbg2"].ready = v.containers["dbg2"].started = true;  // no probes: the view says ready
  v.containers["dbg3"].waiting_reason = "ErrImagePull";
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Running");
  EXPECT_EQ(Cond(st, "Ready"), "True");
  EXPECT_EQ(st["containerStatuses"].as_array().size(), 2u);
  ASSERT_EQ(st["ephemeralContainerStatuses"].as_array().size(), 3u);
  const json::object& d1 = Container(st, 0, "ephemeralContainerStatuses");
  EXPECT_EQ(d1.at("name").as_string(), "dbg");
  EXPECT_EQ(d1.at("state").at("terminated").at("reason").as_string(), "Error");
  EXPECT_TRUE(d1.at("lastState").as_object().empty());
  EXPECT_EQ(d1.at("restartCount").as_int64(), 0);
  EXPECT_FALSE(d1.contains("started"));
  const json::object& d2 = Container(st, 1, "ephemeralContainerStatuses");
  EXPECT_TRUE(d2.at("state").as_object().contains("running"));
  EXPECT_FALSE(d2.at("ready").as_bool());
  EXPECT_EQ(Container(st, 2, "ephemeralContainerStatuses").at("state").at("waiting").at("reason").as_string(),
            "ErrImagePull");
  // A pod without them has no list at all.
  EXPECT_FALSE(BuildPodStatus(Pod("Always"), v).contains("ephemeralContainerStatuses"));
}

TEST(PodStatusTest, TimesComeFromTheLastWrittenStatusNotAStaleCopy) {
  json::object pod = Pod("Always");  // the informer's copy: still the scheduler's status
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  for (const char* c : {"a", "b"}) {
    v.containers[c].current = Running(c);
    v.containers[c].ready = v.containers[c].started = true;
  }
  const json::object written = BuildPodStatus(pod, v);
  v.last_status = &written;
  v.now += std::chrono::seconds(30);  // a later sync, before the informer caught up
  EXPECT_EQ(json::value(BuildPodStatus(pod, v)), json::value(written));
}

TEST(PodStatusTest, UnreadyContainerKeepsThePodOutOfReady) {
  json::object pod = Pod("Always");
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].current = Running("ca");
  v.containers["a"].started = true;  // readiness probe not passed
  v.containers["b"].current = Running("cb");
  v.containers["b"].ready = v.containers["b"].started = true;
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Running");
  EXPECT_EQ(Cond(st, "Ready"), "False");
  EXPECT_EQ(Cond(st, "Ready", "reason"), "ContainersNotReady");
  EXPECT_EQ(Cond(st, "Ready", "message"), "containers with unready status: [a]");
  EXPECT_EQ(Cond(st, "ContainersReady"), "False");
  EXPECT_FALSE(Container(st, 0).at("ready").as_bool());
}

TEST(PodStatusTest, InitializingPodIsPending) {
  json::object pod = Pod("Always");
  PodView v = View();
  v.containers["init"].current = Running("i");
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Pending");
  EXPECT_EQ(Cond(st, "Initialized"), "False");
  EXPECT_EQ(Cond(st, "Initialized", "reason"), "ContainersNotInitialized");
  EXPECT_EQ(Cond(st, "Initialized", "message"), "containers with incomplete status: [init]");
  EXPECT_EQ(Container(st, 0).at("state").at("waiting").at("reason").as_string(), "PodInitializing");
}

TEST(PodStatusTest, CrashLoopShowsWaitingLastStateAndRestartCount) {
  json::object pod = Pod("Always");
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].current = Exited("ca-2", 1, 2);
  v.containers["a"].previous = Exited("ca-1", 1, 1);
  v.containers["a"].waiting_reason = "CrashLoopBackOff";
  v.containers["a"].waiting_message = "back-off 20s restarting failed container=a pod=p_default(u-1)";
  v.containers["b"].current = Running("cb");
  v.containers["b"].ready = v.containers["b"].started = true;
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Running");
  const json::object& a = Container(st, 0);
  EXPECT_EQ(a.at("restartCount").as_int64(), 2);
  EXPECT_EQ(a.at("state").at("waiting").at("reason").as_string(), "CrashLoopBackOff");
  EXPECT_EQ(a.at("state").at("waiting").at("message").as_string(),
            "back-off 20s restarting failed container=a pod=p_default(u-1)");
  const json::object& last = a.at("lastState").at("terminated").as_object();
  EXPECT_EQ(last.at("exitCode").as_int64(), 1);
  EXPECT_EQ(last.at("reason").as_string(), "Error");
  EXPECT_EQ(last.at("containerID").as_string(), "hollow://ca-2");
  EXPECT_EQ(last.at("startedAt").as_string(), "2025-01-02T03:04:05Z");
  EXPECT_EQ(last.at("finishedAt").as_string(), "2025-01-02T03:04:06Z");
}

TEST(PodStatusTest, NeverWithANonZeroExitIsFailed) {
  json::object pod = Pod("Never");
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].current = Exited("ca", 3);
  v.containers["b"].current = Exited("cb", 0);
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Failed");
  EXPECT_EQ(Cond(st, "Ready", "reason"), "PodFailed");
  EXPECT_EQ(Container(st, 0).at("state").at("terminated").at("exitCode").as_int64(), 3);
  EXPECT_EQ(Container(st, 0).at("state").at("terminated").at("reason").as_string(), "Error");
  // An OOM kill says so.
  v.containers["a"].current = Exited("ca", 137, 0, "OOMKilled");
  st = BuildPodStatus(pod, v);
  EXPECT_EQ(Container(st, 0).at("state").at("terminated").at("reason").as_string(), "OOMKilled");
}

TEST(PodStatusTest, AllExitedZeroSucceedsUnlessAlways) {
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].current = Exited("ca", 0);
  v.containers["b"].current = Exited("cb", 0);
  json::object st = BuildPodStatus(Pod("OnFailure"), v);
  EXPECT_EQ(st["phase"].as_string(), "Succeeded");
  EXPECT_EQ(Cond(st, "Ready"), "False");
  EXPECT_EQ(Cond(st, "Ready", "reason"), "PodCompleted");
  EXPECT_EQ(Container(st, 0).at("state").at("terminated").at("reason").as_string(), "Completed");
  EXPECT_EQ(BuildPodStatus(Pod("Always"), v)["phase"].as_string(), "Running");  // they restart
}

TEST(PodStatusTest, FailedInitContainer) {
  PodView v = View();
  v.containers["init"].current = Exited("i", 2);
  EXPECT_EQ(BuildPodStatus(Pod("Never"), v)["phase"].as_string(), "Failed");
  EXPECT_EQ(BuildPodStatus(Pod("OnFailure"), v)["phase"].as_string(), "Pending");  // it restarts
}

TEST(PodStatusTest, WaitingReasonsAndTerminalPhaseKept) {
  json::object pod = Pod("Always");
  PodView v = View();
  v.containers["init"].current = Exited("i", 0);
  v.containers["a"].waiting_reason = "CreateContainerConfigError";
  v.containers["a"].waiting_message = "configmap \"x\" not found";
  json::object st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Pending");
  EXPECT_EQ(Container(st, 0).at("state").at("waiting").at("reason").as_string(), "CreateContainerConfigError");
  EXPECT_EQ(Container(st, 1).at("state").at("waiting").at("reason").as_string(), "ContainerCreating");
  // The kubelet ended it: Failed with the reason, and a terminal phase is never left.
  v.failed_reason = "DeadlineExceeded";
  v.failed_message = "Pod was active on the node longer than the specified deadline";
  st = BuildPodStatus(pod, v);
  EXPECT_EQ(st["phase"].as_string(), "Failed");
  EXPECT_EQ(st["reason"].as_string(), "DeadlineExceeded");
  pod["status"] = st;
  v.failed_reason.clear();
  EXPECT_EQ(BuildPodStatus(pod, v)["phase"].as_string(), "Failed");
}

TEST(PodStatusTest, RestartRules) {
  EXPECT_TRUE(ShouldRestart(Pod("Always"), 0));
  EXPECT_TRUE(ShouldRestart(Pod("OnFailure"), 1));
  EXPECT_FALSE(ShouldRestart(Pod("OnFailure"), 0));
  EXPECT_FALSE(ShouldRestart(Pod("Never"), 1));
  EXPECT_TRUE(RunsToCompletion(Pod("Never")));
  EXPECT_FALSE(RunsToCompletion(Pod("Always")));
}

}  // namespace
}  // namespace kite::kubelet
