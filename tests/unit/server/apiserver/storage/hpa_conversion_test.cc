// HPA conversion between autoscaling/v1 and v2: the CPU target and current utilization, and
// what v1 has no field for carried in upstream's annotations, round-tripping unchanged.
#include "server/apiserver/storage/hpa_conversion.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kite::apiserver {
namespace {

namespace json = boost::json;

json::object J(const char* text) { return json::parse(text).as_object(); }

TEST(HpaConversion, V1ToV2AndBack) {
  const auto* v1 = api::FindResource("autoscaling", "v1", "horizontalpodautoscalers");
  const auto* v2 = api::FindResource("autoscaling", "v2", "horizontalpodautoscalers");
  ASSERT_TRUE(v1 && v2);
  json::object o = J(R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":1,"maxReplicas":5,
            "targetCPUUtilizationPercentage":50},
    "status":{"currentReplicas":2,"desiredReplicas":2,"currentCPUUtilizationPercentage":31}})");
  const json::object original = o;
  ConvertHpaTo(*v2, o);
  EXPECT_EQ(json::serialize(o["spec"].as_object().at("metrics")),
            R"([{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}])");
  EXPECT_EQ(json::serialize(o["status"].as_object().at("currentMetrics")),
            R"([{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":31}}}])");
  EXPECT_FALSE(o["spec"].as_object().contains("targetCPUUtilizationPercentage"));
  EXPECT_EQ(o["apiVersion"].as_string(), "autoscaling/v2");
  ConvertHpaTo(*v1, o);
  EXPECT_EQ(o, original) << json::serialize(o);
}

TEST(HpaConversion, V2OnlyFieldsTravelInAnnotations) {
  const auto* v1 = api::FindResource("autoscaling", "v1", "horizontalpodautoscalers");
  const auto* v2 = api::FindResource("autoscaling", "v2", "horizontalpodautoscalers");
  json::object o = J(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},
    "spec":{"maxReplicas":5,"metrics":[
      {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}},
      {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"100Mi"}}}],
      "behavior":{"scaleDown":{"stabilizationWindowSeconds":10}}},
    "status":{"desiredReplicas":1,"conditions":[{"type":"AbleToScale","status":"True"}]}})");
  const json::object original = o;
  ConvertHpaTo(*v1, o);
  EXPECT_EQ(o["spec"].as_object().at("targetCPUUtilizationPercentage").as_int64(), 60);
  const json::object& ann = o["metadata"].as_object().at("annotations").as_object();
  EXPECT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/metrics"));
  EXPECT_TRUE(ann.contains("autoscaling.alpha.kubernetes.io/behavior"));
  EXPECT_EQ(ann.at("autoscaling.alpha.kubernetes.io/conditions").as_string(), R"([{"type":"AbleToScale","status":"True"}])");
  EXPECT_FALSE(o["status"].as_object().contains("conditions"));
  ConvertHpaTo(*v2, o);
  EXPECT_EQ(o, original) << json::serialize(o);
}

TEST(HpaConversion, OtherKindsAndSameVersionUntouched) {
  const auto* v2 = api::FindResource("autoscaling", "v2", "horizontalpodautoscalers");
  json::object o = J(R"({"apiVersion":"autoscaling/v2","spec":{"maxReplicas":3}})");
  ConvertHpaTo(*v2, o);
  EXPECT_EQ(json::serialize(o), R"({"apiVersion":"autoscaling/v2","spec":{"maxReplicas":3}})");
  const auto* pods = api::FindResource("", "v1", "pods");
  json::object p = J(R"({"apiVersion":"autoscaling/v1","spec":{"targetCPUUtilizationPercentage":3}})");
  ConvertHpaTo(*pods, p);
  EXPECT_TRUE(p["spec"].as_object().contains("targetCPUUtilizationPercentage"));
}

}  // namespace
}  // namespace kite::apiserver
