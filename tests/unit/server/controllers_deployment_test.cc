// The Deployment controller's pure pieces: the pod-template-hash, maxSurge/maxUnavailable and
// proportional scaling.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/deployment/deployment_controller.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* s) { return json::parse(s).as_object(); }

TEST(PodTemplateHash, StableAcrossKeyOrderAndChangesWithContentOrCollisions) {
  auto a = Parse(R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  auto b = Parse(R"({"spec":{"containers":[{"image":"nginx","name":"c"}]},"metadata":{"labels":{"tier":"x","app":"web"}}})");
  auto c = Parse(R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"nginx:2"}]}})");
  EXPECT_EQ(PodTemplateHash(a, 0), PodTemplateHash(b, 0));
  EXPECT_NE(PodTemplateHash(a, 0), PodTemplateHash(c, 0));
  EXPECT_NE(PodTemplateHash(a, 0), PodTemplateHash(a, 1));
  // Usable in a DNS label and a label value: only the safe alphabet.
  for (char ch : PodTemplateHash(a, 0)) EXPECT_NE(std::string("bcdfghjklmnpqrstvwxz2456789").find(ch), std::string::npos);
}

TEST(ResolveSurgeUnavailable, PercentagesRoundAsUpstream) {
  auto d = [](int replicas, const char* surge, const char* unavailable) {
    json::object ru;
    ru["maxSurge"] = json::parse(surge);
    ru["maxUnavailable"] = json::parse(unavailable);
    return json::object{{"spec", json::object{{"replicas", replicas},
                                              {"strategy", json::object{{"type", "RollingUpdate"}, {"rollingUpdate", ru}}}}}};
  };
  EXPECT_EQ(ResolveSurgeUnavailable(d(10, R"("25%")", R"("25%")")), std::make_pair(int64_t{3}, int64_t{2}));
  EXPECT_EQ(ResolveSurgeUnavailable(d(3, R"("25%")", R"("25%")")), std::make_pair(int64_t{1}, int64_t{0}));
  EXPECT_EQ(ResolveSurgeUnavailable(d(4, "2", "1")), std::make_pair(int64_t{2}, int64_t{1}));
  // Both zero would never progress: unavailable becomes 1.
  EXPECT_EQ(ResolveSurgeUnavailable(d(4, "0", "0")), std::make_pair(int64_t{0}, int64_t{1}));
  json::object recreate{{"spec", json::object{{"replicas", 3}, {"strategy", json::object{{"type", "Recreate"}}}}}};
  EXPECT_EQ(ResolveSurgeUnavailable(recreate), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST(ProportionalSizes, SpreadsAResizeOverActiveReplicaSets) {
  // 10 replicas mid-rollout (maxSurge 3): old 8 + new 5, both sized for max 13. Resized to 20
  // (maxSurge 5, 25 allowed): each grows by its share of 25/13, the larger first.
  std::vector<ActiveReplicaSet> sets{{8, 13, "2026-01-01T00:00:00Z"}, {5, 13, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(sets, 20, 25, 13), (std::vector<int64_t>{15, 10}));
  // Back down to 5 (maxSurge 2, 7 allowed) from 15 + 10.
  std::vector<ActiveReplicaSet> big{{15, 25, "2026-01-01T00:00:00Z"}, {10, 25, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(big, 5, 7, 25), (std::vector<int64_t>{4, 3}));
  // To zero: every set goes.
  EXPECT_EQ(ProportionalSizes(big, 0, 0, 25), (std::vector<int64_t>{0, 0}));
  // Equal sizes: growing favours the newer set, shrinking takes from the older one first.
  std::vector<ActiveReplicaSet> even{{5, 10, "2026-01-01T00:00:00Z"}, {5, 10, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(even, 10, 11, 10), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(ProportionalSizes(even, 8, 9, 10), (std::vector<int64_t>{4, 5}));
  // No max-replicas annotation: the Deployment's status.replicas stands in.
  std::vector<ActiveReplicaSet> bare{{6, std::nullopt, "a"}, {4, std::nullopt, "b"}};
  EXPECT_EQ(ProportionalSizes(bare, 20, 20, 10), (std::vector<int64_t>{12, 8}));
  // Nothing to add: sizes stay.
  EXPECT_EQ(ProportionalSizes(sets, 10, 13, 13), (std::vector<int64_t>{8, 5}));
}

}  // namespace
}  // namespace kite::controllers
