// Events, one resource under two APIs (storage/event_conversion.h): core/v1 Events keep the
// legacy, lax rules; events.k8s.io/v1 Events are validated as upstream's ValidateEventCreate
// does for that version. Each API has its own field selectors.
#include <boost/json.hpp>

#include "api/object.h"
#include "api/fields.h"
#include "api/validation.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class CoreEventStrategy final : public Strategy {
 public:
  std::vector<std::string_view> SelectableFields() const override {
    return {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
            "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
            "reason", "reportingComponent", "source", "type"};
  }
  // `source` is the reporting component (source.component).
  std::optional<std::string> FieldValue(const json::value& obj, std::string_view field) const override {
    if (field == "source") return api::FieldValueFromObject(obj, "source.component").value_or("");
    return std::nullopt;
  }
};

class EventStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    auto required_short = [&](const char* field) {
      const std::string v = api::GetString(obj, field);
      if (v.empty()) e.Required(field);
      else if (v.size() > 128) e.Invalid(field, Quoted(v), "can have at most 128 characters");
    };
    if (api::GetString(obj, "eventTime").empty()) e.Required("eventTime");
    const std::string type = api::GetString(obj, "type");
    if (type != "Normal" && type != "Warning") e.Invalid("type", "\"\"", "has invalid value: " + type);
    const std::string controller = api::GetString(obj, "reportingController");
    if (controller.empty()) {
      e.Required("reportingController");
    } else {
      for (const auto& m : api::IsQualifiedName(controller)) e.Invalid("reportingController", Quoted(controller), m);
    }
    required_short("reportingInstance");
    required_short("action");
    required_short("reason");
    if (std::string note = api::GetString(obj, "note"); note.size() > 1024) {
      e.Add("FieldValueTooLong", "Too long: must have at most 1024 bytes", "note");
    }
  }

  std::vector<std::string_view> SelectableFields() const override {
    return {"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
            "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type"};
  }
};

}  // namespace

const Strategy& CoreEvent() {
  static const CoreEventStrategy s;
  return s;
}

const Strategy& Event() {
  static const EventStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
