// DefaultPreemption: eligibility, minimal victims, node choice, PDBs and messages.
#include <gtest/gtest.h>

#include <algorithm>

#include "server/scheduler/preemption.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using testing::Bound;
using testing::MakeNode;
using testing::MakePod;

class SchedulerPreemptionTest : public ::testing::Test {
 protected:
  PreemptionResult Run(const PodInfoPtr& pod, const std::vector<DisruptionBudget>& pdbs = {}) {
    bool no_nodes = false;
    EXPECT_EQ(algo_.Schedule(cache_, *pod, nominated_, &state_, &diag_, &no_nodes), "");
    return Preempt(cache_, *pod, state_, diag_, pdbs, nominated_, algo_.rng());
  }
  static std::vector<std::string> Names(const std::vector<PodInfoPtr>& pods) {
    std::vector<std::string> out;
    for (const auto& p : pods) out.push_back(p->name);
    std::sort(out.begin(), out.end());
    return out;
  }

  Cache cache_;
  Algorithm algo_{AlgorithmOptions{0, 7}};
  NominatedPods nominated_;
  CycleState state_;
  Diagnosis diag_;
};

TEST_F(SchedulerPreemptionTest, EvictsTheFewestLowerPriorityPods) {
  cache_.SetNode(MakeNode("n0", "4"));
  cache_.AddPod(Bound("n0", "a", "1", "", R"({"priority": 1})"));
  cache_.AddPod(Bound("n0", "b", "1", "", R"({"priority": 2})"));
  cache_.AddPod(Bound("n0", "c", "2", "", R"({"priority": 3})"));
  auto r = Run(MakePod("high", "2", "", R"({"priority": 100})"));
  EXPECT_EQ(r.node, "n0");
  // Removing a and b (the least important) frees 2 CPUs; c is reprieved first as the most important.
  EXPECT_EQ(Names(r.victims), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.message, "");
}

TEST_F(SchedulerPreemptionTest, NeverTouchesEqualOrHigherPriority) {
  cache_.SetNode(MakeNode("n0", "1"));
  cache_.AddPod(Bound("n0", "same", "1", "", R"({"priority": 100})"));
  auto pod = MakePod("p", "1", "", R"({"priority": 100})");
  auto r = Run(pod);
  EXPECT_EQ(r.node, "");
  EXPECT_TRUE(r.victims.empty());
  EXPECT_EQ(FitErrorMessage(diag_, *pod, r.message),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.");
}

TEST_F(SchedulerPreemptionTest, NotHelpfulForUnresolvableFailures) {
  cache_.SetNode(MakeNode("n0", "1", "8Gi", "{}", R"({"unschedulable": true})"));
  cache_.SetNode(MakeNode("n1", "1"));
  cache_.AddPod(Bound("n1", "low", "1", "", R"({"priority": 0})"));
  auto pod = MakePod("p", "4", "", R"({"priority": 10})");  // more than any node has
  auto r = Run(pod);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(FitErrorMessage(diag_, *pod, r.message),
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.");
}

TEST_F(SchedulerPreemptionTest, PreemptionPolicyNever) {
  cache_.SetNode(MakeNode("n0", "1"));
  cache_.AddPod(Bound("n0", "low", "1", "", R"({"priority": 0})"));
  auto pod = MakePod("p", "1", "", R"({"priority": 10, "preemptionPolicy": "Never"})");
  auto r = Run(pod);
  EXPECT_FALSE(r.eligible);
  EXPECT_EQ(FitErrorMessage(diag_, *pod, r.message),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.");
}

TEST_F(SchedulerPreemptionTest, PicksTheNodeWithTheLeastImportantVictims) {
  cache_.SetNode(MakeNode("n0", "1"));
  cache_.SetNode(MakeNode("n1", "1"));
  cache_.SetNode(MakeNode("n2", "1"));
  cache_.AddPod(Bound("n0", "p50", "1", "", R"({"priority": 50})"));
  cache_.AddPod(Bound("n1", "p10", "1", "", R"({"priority": 10})"));
  cache_.AddPod(Bound("n2", "p30", "1", "", R"({"priority": 30})"));
  auto r = Run(MakePod("high", "1", "", R"({"priority": 100})"));
  EXPECT_EQ(r.node, "n1");
  EXPECT_EQ(Names(r.victims), std::vector<std::string>{"p10"});
}

TEST_F(SchedulerPreemptionTest, PrefersNodesWithoutPdbViolations) {
  cache_.SetNode(MakeNode("n0", "1"));
  cache_.SetNode(MakeNode("n1", "1"));
  cache_.AddPod(Bound("n0", "guarded", "1", "", R"({"priority": 1})", R"({"labels": {"app": "guarded"}})"));
  cache_.AddPod(Bound("n1", "free", "1", "", R"({"priority": 5})", R"({"labels": {"app": "free"}})"));
  DisruptionBudget pdb;
  pdb.ns = "default";
  pdb.selector = api::LabelSelector::FromSet({{"app", "guarded"}});
  pdb.disruptions_allowed = 0;
  // Without the PDB n0 (lower victim priority) would win.
  auto r = Run(MakePod("high", "1", "", R"({"priority": 100})"), {pdb});
  EXPECT_EQ(r.node, "n1");
}

TEST_F(SchedulerPreemptionTest, AntiAffinityVictimsAreRemovedInTheWhatIf) {
  cache_.SetNode(MakeNode("n0"));
  const char* anti = R"({"priority": 100, "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "kubernetes.io/hostname"}]}}})";
  cache_.AddPod(Bound("n0", "low-x", "", "", R"({"priority": 1})", R"({"labels": {"app": "x"}})"));
  cache_.AddPod(Bound("n0", "low-y", "", "", R"({"priority": 1})", R"({"labels": {"app": "y"}})"));
  auto high = MakePod("high", "", "", anti);  // the cycle state points at it
  auto r = Run(high);
  EXPECT_EQ(r.node, "n0");
  EXPECT_EQ(Names(r.victims), std::vector<std::string>{"low-x"});
  // The what-if left the cycle state as it was.
  EXPECT_FALSE(state_.Filter(*cache_.Node("n0")).ok());
}

TEST_F(SchedulerPreemptionTest, LowerPriorityNominatedPodsLoseTheirNomination) {
  cache_.SetNode(MakeNode("n0", "2"));
  cache_.AddPod(Bound("n0", "low", "1", "", R"({"priority": 1})"));
  auto waiting = MakePod("waiting", "1", "", R"({"priority": 5})");
  nominated_["n0"].push_back(waiting);
  auto r = Run(MakePod("high", "2", "", R"({"priority": 100})"));
  EXPECT_EQ(r.node, "n0");
  EXPECT_EQ(Names(r.lower_nominated), std::vector<std::string>{"waiting"});
}

}  // namespace
}  // namespace kite::scheduler
