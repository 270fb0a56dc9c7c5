#include "api/conditions.h"

#include "api/object.h"

namespace kite::api {

json::object NewCondition(std::string_view type, std::string_view status, std::string_view reason,
                          std::string_view message, std::string_view now, std::string_view also_now_field) {
  json::object c{{"type", type},       {"status", status},           {"reason", reason},
                 {"message", message}, {"lastTransitionTime", now}};
  if (!also_now_field.empty()) c[also_now_field] = now;
  return c;
}

const json::object* FindCondition(const json::array& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    const json::object* o = c.if_object();
    if (o && GetString(*o, "type") == type) return o;
  }
  return nullptr;
}

const json::object* FindCondition(const json::object& status, std::string_view type) {
  return FindCondition(GetArray(status, "conditions"), type);
}

bool IsConditionTrue(const json::object& status, std::string_view type) {
  const json::object* c = FindCondition(status, type);
  return c && GetString(*c, "status") == "True";
}

void SetCondition(json::object& status, json::object cond) {
  const std::string type = GetString(cond, "type");
  json::array out;
  for (const auto& c : GetArray(status, "conditions")) {
    const json::object* cur = c.if_object();
    if (!cur || GetString(*cur, "type") != type) {
      out.push_back(c);
      continue;
    }
    const std::string since = GetString(*cur, "lastTransitionTime");
    if (GetString(*cur, "status") == GetString(cond, "status") && !since.empty()) cond["lastTransitionTime"] = since;
  }
  out.push_back(std::move(cond));
  status["conditions"] = std::move(out);
}

}  // namespace kite::api
