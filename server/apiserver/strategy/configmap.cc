// ConfigMaps (upstream's pkg/registry/core/configmap): valid keys, no key in both data and
// binaryData, at most 1 MiB, and `immutable`.
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class ConfigMapStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    // Upstream counts the decoded bytes of data and binaryData together (the error names the
    // whole object, field "[]").
    ValidateDataSize(DataBytes(obj, "data", false) + DataBytes(obj, "binaryData", true), "[]", e);
    ValidateConfigKeys(obj, "data", e);
    ValidateConfigKeys(obj, "binaryData", e);
    const json::object* data = api::FindObject(obj, {"data"});
    const json::object* binary = api::FindObject(obj, {"binaryData"});
    if (data && binary) {
      for (const auto& kv : *data) {
        if (binary->contains(kv.key())) {
          e.Invalid("data[" + std::string(kv.key()) + "]", Quoted(std::string(kv.key())),
                    "duplicate of key present in binaryData");
        }
      }
    }
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    ValidateImmutableData(obj, old, true, e);
  }
};

}  // namespace

const Strategy& ConfigMap() {
  static const ConfigMapStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
