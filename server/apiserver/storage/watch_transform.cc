#include "server/apiserver/storage/watch_transform.h"

#include <boost/json.hpp>

#include "server/apiserver/crds/crd_defaults.h"
#include "server/apiserver/storage/event_conversion.h"
#include "server/apiserver/storage/hpa_conversion.h"

namespace kite::apiserver {
namespace json = boost::json;

WatchTransform::WatchTransform(const api::ResourceInfo& r)
    // events_ covers every resource stored in either of two versions: Events and HPAs.
    : r_(r), events_(IsEventResource(r) || IsHpaResource(r)), defaults_(HasCrdDefaults(r)) {}

bool WatchTransform::Needs(const json::object& obj) const {
  if (defaults_) return true;
  if (!events_) return false;
  auto av = obj.find("apiVersion");
  return !(av != obj.end() && av->value().is_string() && av->value().as_string() == r_.group_version());
}

bool WatchTransform::Change(json::object& obj) const {
  if (!Needs(obj)) return false;
  // Exactly what Registry::Get and List do to a stored object.
  ConvertEventTo(r_, obj);
  ConvertHpaTo(r_, obj);
  ApplyCrdDefaults(r_, obj);
  return true;
}

std::optional<json::object> WatchTransform::Decode(std::string_view text) const {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  Change(v.as_object());
  return std::move(v.as_object());
}

std::optional<std::string> WatchTransform::Apply(std::string_view object_json) const {
  if (!active()) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(object_json, ec);
  if (ec || !v.is_object() || !Change(v.as_object())) return std::nullopt;
  return json::serialize(v);
}

}  // namespace kite::apiserver
