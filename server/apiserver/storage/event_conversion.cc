#include "server/apiserver/storage/event_conversion.h"

#include <boost/json.hpp>

#include <string_view>
#include <utility>

namespace kite::apiserver {
namespace json = boost::json;

namespace {

// core/v1 field, events.k8s.io/v1 field.
constexpr std::pair<std::string_view, std::string_view> kRenamed[] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"reportingComponent", "reportingController"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
};

void Rename(json::object& obj, std::string_view from, std::string_view to) {
  auto it = obj.find(from);
  if (it == obj.end()) return;
  json::value v = std::move(it->value());
  obj.erase(it);
  obj[to] = std::move(v);
}

}  // namespace

bool IsEventResource(const api::ResourceInfo& r) {
  return r.kind == "Event" && (r.group.empty() || r.group == "events.k8s.io");
}

void ConvertEventTo(const api::ResourceInfo& r, json::object& obj) {
  if (!IsEventResource(r)) return;
  auto av = obj.find("apiVersion");
  const std::string_view stored = av != obj.end() && av->value().is_string() ? std::string_view(av->value().as_string()) : "";
  const std::string want = r.group_version();
  if (stored == want) return;
  const bool to_core = r.group.empty();
  for (const auto& [core, events] : kRenamed) {
    if (to_core) Rename(obj, events, core);
    else Rename(obj, core, events);
  }
  // Upstream's core/v1 Event always carries an involvedObject (a struct, not a pointer), and
  // typed clients require it.
  if (to_core && !obj.contains("involvedObject")) obj["involvedObject"] = json::object();
  obj["apiVersion"] = want;
  obj["kind"] = "Event";
}

}  // namespace kite::apiserver
