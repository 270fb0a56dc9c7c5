// The order in which a StatefulSet creates, deletes and updates pods.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/statefulset/stateful_set_plan.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

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

}  // namespace
}  // namespace kite::controllers
