// The pod statuses the kubelet writes, with the container and image ids of kite-hollow's fake
// runtime. (kite-hollow against a server: tests/integration/hollow_nodes.sh.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/pod_status.h"
#include "api/time.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

json::object Pod(const char* restart_policy) {
  return json::parse(std::string(R"({"metadata":{"name":"p","namespace":"default","uid":"u-1"},
    "spec":{"nodeName":"hollow-node-0","restartPolicy":")") + restart_policy + R"(",
      "initContainers":[{"name":"init","image":"busybox"}],
      "containers":[{"name":"a","image":"nginx:1.26"},{"name":"b","image":"img@sha256:abc"}]},
    "status":{"phase":"Pending","qosClass":"BestEffort",
      "conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":"2025-01-01T00:00:00Z"}]}})")
      .as_object();
}


// The pod's containers created in a fake runtime, with the ids the pod workers report.
ContainerIds HollowIds(const json::object& pod) {
  hollow::HollowRuntime rt("10.64.0.0/24", nullptr);
  cri::PodSandboxConfig sandbox;
  sandbox.metadata = {"p", "u-1", "default", 0};
  auto sid = rt.RunPodSandbox(sandbox);
  EXPECT_TRUE(sid.ok());
  ContainerIds ids;
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : pod.at("spec").as_object().at(list).as_array()) {
      cri::ContainerConfig cc;
      cc.metadata.name = std::string(c.as_object().at("name").as_string());
      cc.image.image = std::string(c.as_object().at("image").as_string());
      auto id = rt.CreateContainer(*sid, cc, sandbox);
      EXPECT_TRUE(id.ok());
      auto st = rt.ContainerStatus(*id);
      EXPECT_TRUE(st.ok());
      ids[cc.metadata.name] = ContainerRuntimeIds{"hollow://" + *id, st->image_ref};
    }
  }
  return ids;
}

TEST(PodStatusTest, RunningStatus) {
  json::object pod = Pod("Always");
  EXPECT_FALSE(RunsToCompletion(pod));
  const auto at = api::ParseTime("2025-01-02T03:04:05Z").value();
  json::object st = RunningPodStatus(pod, PodPlacement{"10.200.0.1", "10.64.0.2"}, at, HollowIds(pod));
  EXPECT_EQ(st["phase"].as_string(), "Running");
  EXPECT_EQ(st["podIP"].as_string(), "10.64.0.2");
  EXPECT_EQ(st["hostIP"].as_string(), "10.200.0.1");
  EXPECT_EQ(st["startTime"].as_string(), "2025-01-02T03:04:05Z");
  EXPECT_EQ(st["qosClass"].as_string(), "BestEffort");  // not ours: kept
  std::vector<std::string> types;
  for (const auto& c : st["conditions"].as_array()) {
    types.push_back(std::string(c.as_object().at("type").as_string()) + "=" +
                    std::string(c.as_object().at("status").as_string()));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"PodReadyToStartContainers=True", "Initialized=True", "Ready=True",
                                             "ContainersReady=True", "PodScheduled=True"}));
  // PodScheduled keeps the scheduler's time.
  EXPECT_EQ(st["conditions"].as_array()[4].as_object().at("lastTransitionTime").as_string(), "2025-01-01T00:00:00Z");
  const auto& cs = st["containerStatuses"].as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].as_object().at("containerID").as_string(), "hollow://u-1-a");
  EXPECT_EQ(cs[0].as_object().at("ready").as_bool(), true);
  EXPECT_EQ(cs[0].as_object().at("state").as_object().at("running").as_object().at("startedAt").as_string(),
            "2025-01-02T03:04:05Z");
  EXPECT_EQ(std::string(cs[0].as_object().at("imageID").as_string()).substr(0, 18), "nginx:1.26@sha256:");
  EXPECT_EQ(cs[1].as_object().at("imageID").as_string(), "img@sha256:abc");
  const auto& init = st["initContainerStatuses"].as_array();
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].as_object().at("state").as_object().at("terminated").as_object().at("reason").as_string(),
            "Completed");
}

TEST(PodStatusTest, SucceededStatus) {
  json::object pod = Pod("Never");
  EXPECT_TRUE(RunsToCompletion(pod));
  EXPECT_TRUE(RunsToCompletion(Pod("OnFailure")));
  const auto t0 = api::ParseTime("2025-01-02T03:04:05Z").value();
  json::object st =
      SucceededPodStatus(pod, PodPlacement{"10.200.0.1", "10.64.0.2"}, t0, t0 + std::chrono::seconds(1), HollowIds(pod));
  EXPECT_EQ(st["phase"].as_string(), "Succeeded");
  const auto& ready = st["conditions"].as_array()[2].as_object();
  EXPECT_EQ(ready.at("type").as_string(), "Ready");
  EXPECT_EQ(ready.at("status").as_string(), "False");
  EXPECT_EQ(ready.at("reason").as_string(), "PodCompleted");
  const auto& term = st["containerStatuses"].as_array()[0].as_object().at("state").as_object().at("terminated").as_object();
  EXPECT_EQ(term.at("exitCode").as_int64(), 0);
  EXPECT_EQ(term.at("reason").as_string(), "Completed");
  EXPECT_EQ(term.at("finishedAt").as_string(), "2025-01-02T03:04:06Z");
}

}  // namespace
}  // namespace kite::kubelet
