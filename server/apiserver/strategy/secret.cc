// Secrets (upstream's pkg/registry/core/secret): write-only stringData, valid keys, the keys each
// built-in type requires, at most 1 MiB, `immutable`, a fixed type, and the `type` field
// selector.
#include <boost/json.hpp>

#include "api/object.h"
#include "base/encoding.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class SecretStrategy final : public Strategy {
 public:
  // stringData: each key overwrites data's, base64-encoded, and stringData itself is never stored
  // (upstream does this when converting v1 to its internal form, so on create, update and every
  // kind of patch alike).
  void Normalize(json::object& secret) const override {
    auto it = secret.find("stringData");
    if (it == secret.end()) return;
    if (it->value().is_object() && !it->value().as_object().empty()) {
      json::value& data = secret["data"];
      if (!data.is_object()) data = json::object();
      for (const auto& kv : secret.at("stringData").as_object()) {
        if (kv.value().is_string()) data.as_object()[kv.key()] = Base64Encode(std::string(kv.value().as_string()));
      }
    }
    secret.erase("stringData");
  }

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    // Decoded bytes of data (stringData counts too until it is merged into data).
    ValidateDataSize(DataBytes(obj, "data", true) + DataBytes(obj, "stringData", false), "data", e);
    ValidateConfigKeys(obj, "data", e);
    const json::object* data = api::FindObject(obj, {"data"});
    auto has = [&](const char* key) { return data && data->contains(key); };
    auto need = [&](const char* key) {
      if (!has(key)) e.Required("data[" + std::string(key) + "]");
    };
    const std::string type = api::GetString(obj, "type");
    if (type == "kubernetes.io/service-account-token") {
      const json::object* ann = api::FindObject(obj, {"metadata", "annotations"});
      if (!ann || api::GetString(*ann, "kubernetes.io/service-account.name").empty()) {
        e.Required("metadata.annotations[kubernetes.io/service-account.name]");
      }
    } else if (type == "kubernetes.io/dockercfg") {
      need(".dockercfg");
    } else if (type == "kubernetes.io/dockerconfigjson") {
      need(".dockerconfigjson");
    } else if (type == "kubernetes.io/basic-auth") {
      if (!has("username") && !has("password")) {
        need("username");
        need("password");
      }
    } else if (type == "kubernetes.io/ssh-auth") {
      need("ssh-privatekey");
    } else if (type == "kubernetes.io/tls") {
      need("tls.crt");
      need("tls.key");
    }
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    ValidateImmutableData(obj, old, false, e);
    if (!SameAt(obj, old, {"type"})) e.Immutable("type", json::serialize(obj.contains("type") ? obj.at("type") : json::value("")));
  }

  std::vector<std::string_view> SelectableFields() const override { return {"type"}; }
};

}  // namespace

const Strategy& Secret() {
  static const SecretStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
