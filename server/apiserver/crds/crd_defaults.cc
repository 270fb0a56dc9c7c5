#include "server/apiserver/crds/crd_defaults.h"

#include "api/object.h"

#include <boost/json.hpp>

namespace kite::apiserver {
namespace json = boost::json;

namespace {

void Default(const json::object& schema, json::value& v, int depth) {
  if (depth > 64) return;  // schemas are finite, but a stored object may be deep
  if (v.is_object()) {
    json::object& o = v.as_object();
    if (const json::object* props = api::FindObject(schema, "properties")) {
      for (const auto& p : *props) {
        if (!p.value().is_object()) continue;
        const json::object& ps = p.value().as_object();
        auto it = o.find(p.key());
        auto d = ps.find("default");
        // A null where the schema allows none counts as absent (upstream prunes such nulls, or
        // defaults them when there is a default).
        const auto* nullable = ps.if_contains("nullable");
        const bool null_ok = nullable && nullable->is_bool() && nullable->as_bool();
        if (it != o.end() && it->value().is_null() && !null_ok && d != ps.end()) {
          it->value() = d->value();
        } else if (it == o.end()) {
          if (d == ps.end()) continue;
          o[p.key()] = d->value();
          it = o.find(p.key());
        }
        Default(ps, it->value(), depth + 1);
      }
    }
    if (const json::object* extra = api::FindObject(schema, "additionalProperties")) {
      for (auto& kv : o) Default(*extra, kv.value(), depth + 1);
    }
  } else if (v.is_array()) {
    if (const json::object* items = api::FindObject(schema, "items")) {
      for (auto& e : v.as_array()) Default(*items, e, depth + 1);
    }
  }
}

// Whether Default can fill anything in under `schema` (it walks the same members).
bool HasDefault(const json::object& schema, int depth) {
  if (depth > 64) return false;
  if (const json::object* props = api::FindObject(schema, "properties")) {
    for (const auto& p : *props) {
      if (!p.value().is_object()) continue;
      if (p.value().as_object().contains("default") || HasDefault(p.value().as_object(), depth + 1)) return true;
    }
  }
  if (const json::object* extra = api::FindObject(schema, "additionalProperties"); extra && HasDefault(*extra, depth + 1)) {
    return true;
  }
  const json::object* items = api::FindObject(schema, "items");
  return items && HasDefault(*items, depth + 1);
}

const json::object* RootSchema(const api::ResourceInfo& r) {
  if (!r.custom || !r.crd_version) return nullptr;
  const json::object* schema = api::FindObject(*r.crd_version, "schema");
  return schema ? api::FindObject(*schema, "openAPIV3Schema") : nullptr;
}

}  // namespace

bool HasCrdDefaults(const api::ResourceInfo& r) {
  const json::object* root = RootSchema(r);
  return root && HasDefault(*root, 0);
}

void ApplyCrdDefaults(const api::ResourceInfo& r, json::object& obj) {
  const json::object* root = RootSchema(r);
  if (!root) return;
  json::value v(std::move(obj));
  // metadata is the API server's (upstream allows no defaults in it but name's).
  json::value meta;
  if (auto it = v.as_object().find("metadata"); it != v.as_object().end()) meta = std::move(it->value());
  v.as_object().erase("metadata");
  Default(*root, v, 0);
  obj = std::move(v.as_object());
  if (!meta.is_null()) obj["metadata"] = std::move(meta);
}

}  // namespace kite::apiserver
