// The Deployment controller's pure pieces: the pod-template-hash and maxSurge/maxUnavailable.
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

}  // namespace
}  // namespace kite::controllers
