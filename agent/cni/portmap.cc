// The portmap plugin's case without port mappings (every pod without a hostPort): nothing to
// map, the previous result passed on. With mappings the real plugin does the work.
#include "agent/cni/plugin.h"

namespace kite::cni {
namespace json = boost::json;

std::optional<Outcome> Portmap(const Invocation& inv) {
  if (const auto* rc = inv.config.if_contains("runtimeConfig"); rc && rc->is_object()) {
    if (const auto* pm = rc->as_object().if_contains("portMappings"); pm && pm->is_array() && !pm->as_array().empty()) {
      return std::nullopt;
    }
  }
  if (inv.command == "DEL" || inv.command == "CHECK") return Outcome(std::string());
  if (inv.command != "ADD") return std::nullopt;
  const auto* prev = inv.config.if_contains("prevResult");
  if (!prev || !prev->is_object()) {
    return Outcome(std::unexpected(Failure{kErrInvalidConfig, "portmap must be called as a chained plugin (no prevResult)"}));
  }
  json::object result = prev->as_object();
  const std::string version = ConfVersion(inv.config);
  result["cniVersion"] = version.empty() ? "1.0.0" : version;
  return Outcome(json::serialize(result));
}

}  // namespace kite::cni
