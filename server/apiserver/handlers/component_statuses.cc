// core/v1 componentstatuses (component_statuses.h).
#include "server/apiserver/handlers/component_statuses.h"

#include <boost/json.hpp>

#include <map>

#include "api/fields.h"
#include "api/labels.h"
#include "base/dial.h"

namespace kite::apiserver {
namespace json = boost::json;

std::vector<ControlPlaneComponent> KiteControlPlane(std::function<bool()> scheduler, std::function<bool()> controllers) {
  return {{"scheduler", 10259, std::move(scheduler)}, {"controller-manager", 10257, std::move(controllers)}};
}

namespace {

json::object StatusOf(const ControlPlaneComponent& c) {
  json::object condition{{"type", "Healthy"}};
  if (c.runs && c.runs()) {
    condition["status"] = "True";
    condition["message"] = "ok";
  } else {
    // Upstream's HTTP probe of a port nothing listens on: a Failure whose message is Go's error.
    const std::string url = "https://127.0.0.1:" + std::to_string(c.port) + "/healthz";
    condition["status"] = "False";
    condition["message"] = "Get \"" + url + "\": " +
                           DialError(JoinHostPort("127.0.0.1", c.port), boost::asio::error::connection_refused);
  }
  return json::object{{"kind", "ComponentStatus"},
                      {"apiVersion", "v1"},
                      {"metadata", json::object{{"name", c.name}}},
                      {"conditions", json::array{std::move(condition)}}};
}

}  // namespace

Result<json::object> ServeComponentStatuses(const DelegatedRequest& r, const std::vector<ControlPlaneComponent>& components) {
  if (r.verb == "get") {
    for (const auto& c : components) {
      if (c.name == r.name) return StatusOf(c);
    }
    return Status::Api(500, "", "Component not found: " + r.name);
  }
  auto labels = api::LabelSelector::Parse(r.label_selector);
  if (!labels.ok()) return Status::Api(400, "BadRequest", labels.status().message());
  auto fields = api::FieldSelector::Parse(r.field_selector);
  if (!fields.ok()) return Status::Api(400, "BadRequest", fields.status().message());
  static const json::object kNoLabels;
  json::array items;
  for (const auto& c : components) {
    if (!labels->Matches(kNoLabels)) continue;
    if (!fields->Matches(std::map<std::string, std::string>{{"metadata.name", c.name}})) continue;
    items.push_back(StatusOf(c));
  }
  return json::object{{"kind", "ComponentStatusList"},
                      {"apiVersion", "v1"},
                      {"metadata", json::object()},
                      {"items", std::move(items)}};
}

}  // namespace kite::apiserver
