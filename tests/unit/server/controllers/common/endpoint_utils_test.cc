// The helpers the Endpoints and EndpointSlice controllers share: which port of a pod a Service
// port names, and which pods are endpoints.
#include "server/controllers/common/endpoint_utils.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

TEST(EndpointUtilsTest, FindPortResolvesNumbersAndNames) {
  auto pod = EndpointPod("a", "10.0.0.1", true);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80,"targetPort":9090})").as_object()), 9090);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"http"})").as_object()), 8080);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80})").as_object()), 80);
  EXPECT_FALSE(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"grpc"})").as_object()));
  EXPECT_FALSE(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"http","protocol":"UDP"})").as_object()));
}

TEST(EndpointUtilsTest, WhichPodsAreEndpoints) {
  EXPECT_TRUE(ShouldPodBeInEndpoints(*EndpointPod("a", "10.0.0.1", false), false));
  EXPECT_FALSE(ShouldPodBeInEndpoints(*EndpointPod("a", "", true), false));
  auto deleting = Pod(*EndpointPod("a", "10.0.0.1", true)).Deleting().Shared();
  EXPECT_FALSE(ShouldPodBeInEndpoints(*deleting, false));
  EXPECT_TRUE(ShouldPodBeInEndpoints(*deleting, true));
}

}  // namespace
}  // namespace kite::controllers
