// The portmap plugin's case without port mappings (every pod without a hostPort): nothing to
// map, the previous result passed on. With mappings the real plugin does the work.
#include "agent/cni/plugin.h"
#include "api/object.h"

namespace kite::cni {
namespace json = boost::json;

std::optional<Outcome> Portmap(const Invocation& inv) {
  if (!api::GetArray(inv.config, {"runtimeConfig", "portMappings"}).empty()) return std::nullopt;
  if (inv.command == "DEL" || inv.command == "CHECK") return Outcome(std::string());
  if (inv.command != "ADD") return std::nullopt;
  const json::object* prev = api::FindObject(inv.config, "prevResult");
  if (!prev) return Outcome(std::unexpected(Failure{kErrInvalidConfig, "portmap must be called as a chained plugin (no prevResult)"}));
  json::object result = *prev;
  const std::string version = api::GetString(inv.config, "cniVersion");
  result["cniVersion"] = version.empty() ? "1.0.0" : version;
  return Outcome(json::serialize(result));
}

}  // namespace kite::cni
