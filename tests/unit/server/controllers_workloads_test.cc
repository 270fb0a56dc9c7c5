// The pure logic of the DaemonSet, StatefulSet and Job controllers: which nodes run a daemon
// pod and how it is pinned there; the order in which a StatefulSet creates, deletes and
// updates pods; the Job's index sets, active-pod targets, back-off and pod outcomes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/common/history.h"
#include "server/controllers/daemonset/daemon_pod.h"
#include "server/controllers/job/job_math.h"
#include "server/controllers/statefulset/stateful_set_plan.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

// ---- DaemonSet ----

TEST(DaemonPod, AutomaticTolerations) {
  json::object spec = AddDaemonTolerations(Parse(R"({"tolerations":[
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":30}]})"));
  const auto& tol = spec.at("tolerations").as_array();
  ASSERT_EQ(tol.size(), 6u);
  // The user's own toleration for the same key and effect is kept as it was.
  EXPECT_EQ(tol[0].as_object().at("tolerationSeconds"), 30);
  json::object host = AddDaemonTolerations(Parse(R"({"hostNetwork":true})"));
  EXPECT_EQ(host.at("tolerations").as_array().size(), 7u);
  EXPECT_EQ(host.at("tolerations").as_array()[6].as_object().at("key"), "node.kubernetes.io/network-unavailable");
}

TEST(DaemonPod, PinnedByNodeAffinity) {
  json::object spec = PinToNode(Parse(R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}],
                             "matchFields":[{"key":"metadata.name","operator":"In","values":["old"]}]}]}}}})"),
                                "n1");
  const auto& term = spec.at("affinity").at("nodeAffinity").at("requiredDuringSchedulingIgnoredDuringExecution")
                         .at("nodeSelectorTerms").as_array()[0].as_object();
  EXPECT_EQ(term.at("matchExpressions").as_array().size(), 1u);
  EXPECT_EQ(json::serialize(term.at("matchFields")), R"([{"key":"metadata.name","operator":"In","values":["n1"]}])");
  json::object pod{{"spec", spec}};
  EXPECT_EQ(DaemonPodNodeName(pod), "n1");
  EXPECT_EQ(DaemonPodNodeName(Parse(R"({"spec":{"nodeName":"bound"}})")), "bound");
  EXPECT_EQ(DaemonPodNodeName(Parse(R"({"spec":{}})")), "");
}

TEST(DaemonPod, TolerationMatching) {
  json::object taint = Parse(R"({"key":"dedicated","value":"gpu","effect":"NoSchedule"})");
  EXPECT_TRUE(Tolerates(Parse(R"({"operator":"Exists"})"), taint));
  EXPECT_TRUE(Tolerates(Parse(R"({"key":"dedicated","operator":"Exists","effect":"NoSchedule"})"), taint));
  EXPECT_TRUE(Tolerates(Parse(R"({"key":"dedicated","value":"gpu"})"), taint));  // Equal by default
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"dedicated","value":"cpu"})"), taint));
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"dedicated","operator":"Exists","effect":"NoExecute"})"), taint));
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"other","operator":"Exists"})"), taint));
}

TEST(DaemonPod, WhichNodesRunIt) {
  const json::object spec = AddDaemonTolerations(Parse(R"({"nodeSelector":{"role":"edge"},
      "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"cores","operator":"Gt","values":["2"]}]}]}}}})"));
  auto node = [](const char* labels, const char* taints) {
    return Parse((std::string(R"({"metadata":{"name":"n","labels":)") + labels + R"(},"spec":{"taints":)" + taints + "}}")
                     .c_str());
  };
  NodeFit fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", "[]"), spec);
  EXPECT_TRUE(fit.should_run && fit.should_continue_running);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"core","cores":"4"})", "[]"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);  // nodeSelector
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"2"})", "[]"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);  // affinity Gt
  // Cordoned, not ready, under pressure: tolerated automatically.
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})",
                                    R"([{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},
                                        {"key":"node.kubernetes.io/not-ready","effect":"NoExecute"},
                                        {"key":"node.kubernetes.io/memory-pressure","effect":"NoSchedule"}])"),
                               spec);
  EXPECT_TRUE(fit.should_run);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"NoSchedule"}])"), spec);
  EXPECT_FALSE(fit.should_run);
  EXPECT_TRUE(fit.should_continue_running);  // NoSchedule does not evict
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"NoExecute"}])"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"PreferNoSchedule"}])"), spec);
  EXPECT_TRUE(fit.should_run);
  // The network-unavailable taint stops pods that do not use the host network.
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})",
                                    R"([{"key":"node.kubernetes.io/network-unavailable","effect":"NoSchedule"}])"),
                               spec);
  EXPECT_FALSE(fit.should_run);
}

TEST(ControllerHistory, RevisionDataAndHash) {
  json::object ds = Parse(R"({"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[]}}}})");
  json::object data = RevisionData(ds);
  EXPECT_EQ(json::serialize(data.at("spec").at("template").at("$patch")), R"("replace")");
  json::object rev{{"data", data}};
  EXPECT_EQ(RevisionTemplate(rev), ds.at("spec").at("template").as_object());
  // Key order does not change the hash; the collision count does.
  json::object reordered = Parse(R"({"spec":{"template":{"spec":{"containers":[]},"metadata":{"labels":{"a":"b"}},
                                     "$patch":"replace"}}})");
  EXPECT_EQ(RevisionHash(data, 0), RevisionHash(reordered, 0));
  EXPECT_NE(RevisionHash(data, 0), RevisionHash(data, 1));
  EXPECT_EQ(RevisionHash(data, 0).find_first_of("aeiou0123"), std::string::npos);
}

// ---- StatefulSet ----

StatefulPodState Healthy(const std::string& rev = "r1") { return StatefulPodState{false, false, true, rev}; }
StatefulPodState Starting(const std::string& rev = "r1") { return StatefulPodState{false, false, false, rev}; }

StatefulSetPlanInput Input(int64_t replicas, bool parallel = false) {
  StatefulSetPlanInput in;
  in.replicas = replicas;
  in.parallel = parallel;
  in.current_revision = in.update_revision = "r1";
  return in;
}

using A = StatefulSetAction;

TEST(StatefulSetPlan, OrdinalsOfPodNames) {
  EXPECT_EQ(ParseOrdinal("web", "web-0"), 0);
  EXPECT_EQ(ParseOrdinal("web", "web-12"), 12);
  EXPECT_EQ(ParseOrdinal("web", "web-x"), std::nullopt);
  EXPECT_EQ(ParseOrdinal("web", "web-01"), std::nullopt);
  EXPECT_EQ(ParseOrdinal("web", "webs-1"), std::nullopt);
  EXPECT_EQ(ParseOrdinal("web", "web-"), std::nullopt);
  EXPECT_EQ(ParseOrdinal("web-1", "web-1-2"), 2);
}

TEST(StatefulSetPlan, OrderedReadyCreatesOneAtATime) {
  auto in = Input(3);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 0, "r1"}}));
  in.pods[0] = Starting();
  EXPECT_TRUE(PlanStatefulSet(in).empty());  // web-1 waits for web-0 to be Running and Ready
  in.pods[0] = Healthy();
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 1, "r1"}}));
  in.pods[1] = Healthy();
  in.pods[2] = Healthy();
  EXPECT_TRUE(PlanStatefulSet(in).empty());
  // A pod that failed is deleted, to be created again.
  in.pods[1] = StatefulPodState{false, true, false, "r1"};
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 1, ""}}));
  // A missing pod in the middle is created before anything after it moves.
  in.pods.erase(1);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 1, "r1"}}));
}

TEST(StatefulSetPlan, ParallelCreatesAndDeletesAtOnce) {
  auto in = Input(3, true);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 0, "r1"}, {A::kCreate, 1, "r1"}, {A::kCreate, 2, "r1"}}));
  in.replicas = 1;
  in.pods[0] = Starting();
  in.pods[1] = Starting();
  in.pods[2] = Healthy();
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 2, ""}, {A::kDelete, 1, ""}}));
}

TEST(StatefulSetPlan, OrderedScaleDownFromTheTop) {
  auto in = Input(2);
  for (int i = 0; i < 4; ++i) in.pods[i] = Healthy();
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 3, ""}}));
  in.pods[3].terminating = true;
  EXPECT_TRUE(PlanStatefulSet(in).empty());  // one at a time
  in.pods.erase(3);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 2, ""}}));
  in.pods[0] = Starting();
  EXPECT_TRUE(PlanStatefulSet(in).empty());  // not while a member is unhealthy
}

TEST(StatefulSetPlan, RollingUpdateFromTheHighestOrdinal) {
  auto in = Input(3);
  for (int i = 0; i < 3; ++i) in.pods[i] = Healthy("r1");
  in.update_revision = "r2";
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 2, ""}}));
  in.pods.erase(2);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 2, "r2"}}));
  in.pods[2] = Starting("r2");
  EXPECT_TRUE(PlanStatefulSet(in).empty());  // waits for the new pod to be ready
  in.pods[2] = Healthy("r2");
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 1, ""}}));
  // A partition keeps the ordinals below it at the current revision, also when recreated.
  in.partition = 2;
  EXPECT_TRUE(PlanStatefulSet(in).empty());
  in.pods.erase(0);
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 0, "r1"}}));
  // OnDelete: nothing is deleted for an update; recreated pods get the update revision.
  in.rolling = false;
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 0, "r2"}}));
  in.pods[0] = Healthy("r1");
  EXPECT_TRUE(PlanStatefulSet(in).empty());
}

TEST(StatefulSetPlan, StartOrdinal) {
  auto in = Input(2);
  in.start = 5;
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kCreate, 5, "r1"}}));
  in.pods[5] = Healthy();
  in.pods[6] = Healthy();
  in.pods[0] = Healthy();  // below the start: condemned
  EXPECT_EQ(PlanStatefulSet(in), (std::vector<A>{{A::kDelete, 0, ""}}));
}

// ---- Job ----

TEST(JobMath, CompletedIndexes) {
  EXPECT_EQ(ParseIndexes("1,3-5,7", 10), (std::set<int64_t>{1, 3, 4, 5, 7}));
  EXPECT_EQ(ParseIndexes("1,3-5,7", 5), (std::set<int64_t>{1, 3, 4}));
  EXPECT_EQ(ParseIndexes("", 5), (std::set<int64_t>{}));
  EXPECT_EQ(ParseIndexes("x,2,4-3,-1,3", 5), (std::set<int64_t>{2, 3}));
  EXPECT_EQ(FormatIndexes({0, 1, 2, 4, 6, 7}), "0-2,4,6-7");
  EXPECT_EQ(FormatIndexes({}), "");
  EXPECT_EQ(FormatIndexes(ParseIndexes("0-2,4,6-7", 100)), "0-2,4,6-7");
}

TEST(JobMath, ActivePodsWanted) {
  EXPECT_EQ(WantActive(5, 2, 0, 0), 2);
  EXPECT_EQ(WantActive(5, 2, 4, 1), 1);   // one completion missing
  EXPECT_EQ(WantActive(5, 2, 5, 0), 0);
  EXPECT_EQ(WantActive(std::nullopt, 3, 0, 0), 3);  // work queue
  EXPECT_EQ(WantActive(std::nullopt, 3, 1, 2), 2);  // a pod succeeded: no new ones
}

TEST(JobMath, Backoff) {
  EXPECT_EQ(BackoffDelay(0).count(), 0);
  EXPECT_EQ(BackoffDelay(1).count(), 10);
  EXPECT_EQ(BackoffDelay(2).count(), 20);
  EXPECT_EQ(BackoffDelay(6).count(), 320);
  EXPECT_EQ(BackoffDelay(7).count(), 360);
  EXPECT_EQ(BackoffDelay(100).count(), 360);
}

TEST(JobMath, PodOutcomes) {
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Succeeded"}})")), "Succeeded");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Failed"}})")), "Failed");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Running"}})")), "");
  // Deleted before it succeeded: a failure (it never had the chance to finish).
  EXPECT_EQ(TerminalOutcome(Parse(R"({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"},"status":{"phase":"Running"}})")),
            "Failed");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"},"status":{"phase":"Succeeded"}})")),
            "Succeeded");
  EXPECT_EQ(CompletionIndex(Parse(R"({"metadata":{"annotations":{"batch.kubernetes.io/job-completion-index":"3"}}})")), 3);
  EXPECT_EQ(CompletionIndex(Parse(R"({"metadata":{"annotations":{"batch.kubernetes.io/job-completion-index":"x"}}})")),
            std::nullopt);
}

}  // namespace
}  // namespace kite::controllers
