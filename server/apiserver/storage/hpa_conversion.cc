#include "server/apiserver/storage/hpa_conversion.h"

#include <boost/json.hpp>

#include <string_view>

#include "api/object.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

constexpr std::string_view kConditions = "autoscaling.alpha.kubernetes.io/conditions";
constexpr std::string_view kBehavior = "autoscaling.alpha.kubernetes.io/behavior";
constexpr std::string_view kMetrics = "autoscaling.alpha.kubernetes.io/metrics";
constexpr std::string_view kCurrentMetrics = "autoscaling.alpha.kubernetes.io/current-metrics";

json::object& Child(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

bool IsCpuResource(const json::value& m) {
  if (!m.is_object()) return false;
  const json::object& o = m.as_object();
  return api::GetString(o, "type") == "Resource" && api::GetString(o, {"resource", "name"}) == "cpu";
}

// Moves obj[field] (when present and not empty) into annotation `key` as JSON text.
void ToAnnotation(json::object& meta, json::object& from, std::string_view field, std::string_view key) {
  auto it = from.find(field);
  if (it == from.end()) return;
  json::value v = std::move(it->value());
  from.erase(it);
  if ((v.is_array() && v.as_array().empty()) || v.is_null()) return;
  Child(meta, "annotations")[key] = json::serialize(v);
}

// The JSON in annotation `key` (removed from meta), or null when absent or broken.
json::value FromAnnotation(json::object& meta, std::string_view key) {
  auto ann = meta.find("annotations");
  if (ann == meta.end() || !ann->value().is_object()) return nullptr;
  json::object& a = ann->value().as_object();
  auto it = a.find(key);
  if (it == a.end()) return nullptr;
  json::value out;
  if (it->value().is_string()) {
    boost::system::error_code ec;
    out = json::parse(it->value().as_string(), ec);
    if (ec) out = nullptr;
  }
  a.erase(it);
  if (a.empty()) meta.erase("annotations");
  return out;
}

void ToV1(json::object& obj) {
  json::object& meta = Child(obj, "metadata");
  json::object& spec = Child(obj, "spec");
  json::array others;
  if (auto it = spec.find("metrics"); it != spec.end() && it->value().is_array()) {
    for (auto& m : it->value().as_array()) {
      if (IsCpuResource(m) && api::GetString(m.as_object(), {"resource", "target", "type"}) == "Utilization") {
        spec["targetCPUUtilizationPercentage"] = api::GetInt(m.as_object(), {"resource", "target", "averageUtilization"});
      } else {
        others.push_back(std::move(m));
      }
    }
    spec.erase("metrics");
  }
  if (!others.empty()) Child(meta, "annotations")[kMetrics] = json::serialize(others);
  ToAnnotation(meta, spec, "behavior", kBehavior);
  if (auto st = obj.find("status"); st != obj.end() && st->value().is_object()) {
    json::object& status = st->value().as_object();
    json::array current_others;
    if (auto it = status.find("currentMetrics"); it != status.end() && it->value().is_array()) {
      for (auto& m : it->value().as_array()) {
        const json::object* cur = m.is_object() ? api::FindObject(m.as_object(), {"resource", "current"}) : nullptr;
        if (IsCpuResource(m) && cur && cur->contains("averageUtilization")) {
          status["currentCPUUtilizationPercentage"] = api::GetInt(*cur, "averageUtilization");
        } else {
          current_others.push_back(std::move(m));
        }
      }
      status.erase("currentMetrics");
    }
    if (!current_others.empty()) Child(meta, "annotations")[kCurrentMetrics] = json::serialize(current_others);
    ToAnnotation(meta, status, "conditions", kConditions);
  }
}

void ToV2(json::object& obj) {
  json::object& meta = Child(obj, "metadata");
  json::object& spec = Child(obj, "spec");
  json::array metrics;
  if (auto it = spec.find("targetCPUUtilizationPercentage"); it != spec.end()) {
    json::value pct = it->value();
    spec.erase(it);
    metrics.push_back(json::object{
        {"type", "Resource"},
        {"resource", json::object{{"name", "cpu"}, {"target", json::object{{"type", "Utilization"}, {"averageUtilization", pct}}}}}});
  }
  if (json::value more = FromAnnotation(meta, kMetrics); more.is_array()) {
    for (auto& m : more.as_array()) metrics.push_back(std::move(m));
  }
  if (!metrics.empty()) spec["metrics"] = std::move(metrics);
  if (json::value b = FromAnnotation(meta, kBehavior); b.is_object()) spec["behavior"] = std::move(b);
  const bool had_status = obj.contains("status");
  json::object& status = Child(obj, "status");
  json::array current;
  if (auto it = status.find("currentCPUUtilizationPercentage"); it != status.end()) {
    json::value pct = it->value();
    status.erase(it);
    current.push_back(json::object{
        {"type", "Resource"},
        {"resource", json::object{{"name", "cpu"}, {"current", json::object{{"averageUtilization", pct}}}}}});
  }
  if (json::value more = FromAnnotation(meta, kCurrentMetrics); more.is_array()) {
    for (auto& m : more.as_array()) current.push_back(std::move(m));
  }
  if (!current.empty()) status["currentMetrics"] = std::move(current);
  if (json::value c = FromAnnotation(meta, kConditions); c.is_array()) status["conditions"] = std::move(c);
  if (!had_status && status.empty()) obj.erase("status");
}

}  // namespace

bool IsHpaResource(const api::ResourceInfo& r) {
  return r.group == "autoscaling" && r.kind == "HorizontalPodAutoscaler";
}

void ConvertHpaTo(const api::ResourceInfo& r, json::object& obj) {
  if (!IsHpaResource(r)) return;
  auto av = obj.find("apiVersion");
  const std::string_view stored = av != obj.end() && av->value().is_string() ? std::string_view(av->value().as_string()) : "";
  const std::string want = r.group_version();
  if (stored == want || stored.empty()) return;
  if (r.version == "v1") ToV1(obj);
  else ToV2(obj);
  obj["apiVersion"] = want;
}

}  // namespace kite::apiserver
