// Namespaces (upstream's pkg/registry/core/namespace): a DNS label for a name, and deletion in
// two steps — a delete marks the namespace Terminating and the namespace controller empties it
// and removes spec.finalizers ("kubernetes"), which ends the deletion.
#include <boost/json.hpp>

#include "api/time.h"
#include "api/validation.h"
#include "server/apiserver/strategy/kinds.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

bool HasSpecFinalizers(const json::object& ns) {
  auto spec = ns.find("spec");
  if (spec == ns.end() || !spec->value().is_object()) return false;
  auto f = spec->value().as_object().find("finalizers");
  return f != spec->value().as_object().end() && f->value().is_array() && !f->value().as_array().empty();
}

class NamespaceStrategy final : public Strategy {
 public:
  std::string ValidateName(const std::string& name) const override {
    auto errs = api::IsDNS1123Label(name);
    return errs.empty() ? "" : errs.front();
  }

  int64_t BeforeDelete(json::object& obj, std::optional<int64_t>) const override {
    if (HasSpecFinalizers(obj)) {
      obj["status"] = json::object{{"phase", "Terminating"}};
      json::value& m = obj["metadata"];
      if (!m.is_object()) m = json::object();
      auto& meta = m.as_object();
      if (!meta.contains("deletionTimestamp")) meta["deletionTimestamp"] = api::NowTime();
      meta["deletionGracePeriodSeconds"] = 0;
    }
    return 0;
  }

  // Terminating until the namespace controller has removed spec.finalizers.
  bool DeletionPendingOnDelete(const json::object& obj) const override {
    auto m = obj.find("metadata");
    return m != obj.end() && m->value().is_object() && m->value().as_object().contains("deletionTimestamp");
  }
  bool DeletionPendingOnUpdate(const json::object& obj) const override { return HasSpecFinalizers(obj); }

  std::vector<std::string_view> SelectableFields() const override { return {"status.phase"}; }
};

}  // namespace

const Strategy& Namespace() {
  static const NamespaceStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
