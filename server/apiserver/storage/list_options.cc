#include "server/apiserver/storage/list_options.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "api/json_text.h"
#include "base/encoding.h"
#include "server/apiserver/strategy/strategy.h"

namespace kite::apiserver {
namespace json = boost::json;

std::optional<std::string> SelectableField(const api::ResourceInfo& r, const json::object& obj,
                                           std::string_view field) {
  json::value v = obj;  // FieldValueFromObject reads a json::value
  if (field == "metadata.name" || field == "metadata.namespace") {
    return api::FieldValueFromObject(v, field).value_or("");
  }
  const Strategy& strategy = StrategyFor(r);
  for (auto f : strategy.SelectableFields()) {
    if (f != field) continue;
    if (auto special = strategy.FieldValue(v, field)) return special;
    return api::FieldValueFromObject(v, field).value_or("");
  }
  return std::nullopt;
}

bool QueryBool(const HttpsRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return false;
  std::string v = it->second;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v != "0" && v != "false";
}

Result<std::optional<int64_t>> QueryInt(const HttpsRequest& req, const std::string& name) {
  const std::string s = req.Query(name);
  if (s.empty()) return std::optional<int64_t>();
  // from_chars takes no '+'; ParseInt does.
  const char* first = s.data() + (s[0] == '+' && s.size() > 1 && s[1] != '-' ? 1 : 0);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return BadRequest("invalid value for " + name + ": strconv.ParseInt: parsing " + json::serialize(json::string(s)) +
                      (ec == std::errc::result_out_of_range ? ": value out of range" : ": invalid syntax"));
  }
  return std::optional<int64_t>(v);
}

Result<ListOptions> ParseListOptions(const HttpsRequest& req, const api::ResourceInfo& r) {
  ListOptions o;
  if (std::string s = req.Query("labelSelector"); !s.empty()) {
    auto sel = api::LabelSelector::Parse(s);
    if (!sel.ok()) return BadRequest(sel.status().message());
    o.labels = std::move(sel.value());
  }
  if (std::string s = req.Query("fieldSelector"); !s.empty()) {
    auto sel = api::FieldSelector::Parse(s);
    if (!sel.ok()) return BadRequest(sel.status().message());
    std::vector<std::string_view> supported = {"metadata.name", "metadata.namespace"};
    for (auto f : StrategyFor(r).SelectableFields()) supported.push_back(f);
    for (const auto& f : sel->Fields()) {
      bool ok = false;
      for (auto s2 : supported) ok |= s2 == f;
      if (!ok) return BadRequest("field label not supported: " + f);
    }
    o.fields = std::move(sel.value());
  }
  auto limit = QueryInt(req, "limit");
  if (!limit.ok()) return limit.error();
  // Upstream pages only for a positive limit; zero and negative limits list everything.
  o.limit = std::max<int64_t>(0, limit.value().value_or(0));
  auto timeout = QueryInt(req, "timeoutSeconds");
  if (!timeout.ok()) return timeout.error();
  // Upstream: 0 picks the server's default (as absent does); a negative one ends at once.
  if (timeout.value() && *timeout.value() != 0) o.timeout_seconds = std::max<int64_t>(0, *timeout.value());
  o.resource_version = req.Query("resourceVersion");
  o.resource_version_match = req.Query("resourceVersionMatch");
  if (!o.resource_version_match.empty() && o.resource_version_match != "Exact" &&
      o.resource_version_match != "NotOlderThan") {
    return BadRequest("resourceVersionMatch: Unsupported value: \"" + o.resource_version_match +
                      "\": supported values: \"Exact\", \"NotOlderThan\"");
  }
  o.allow_bookmarks = QueryBool(req, "allowWatchBookmarks");
  o.send_initial_events = QueryBool(req, "sendInitialEvents");
  if (std::string token = req.Query("continue"); !token.empty()) {
    auto bad = BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    std::string std_b64 = token;
    for (char& c : std_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (std_b64.size() % 4) std_b64 += '=';
    auto raw = Base64Decode(std_b64);
    if (!raw) return bad;
    auto v = api::ParseJson(*raw);
    if (!v.ok() || !v->is_object()) return bad;
    const auto& t = v->as_object();
    auto rv = t.find("rv");
    auto start = t.find("start");
    if (rv == t.end() || !rv->value().is_int64() || rv->value().as_int64() <= 0 || start == t.end() ||
        !start->value().is_string()) {
      return bad;
    }
    o.continue_rv = rv->value().as_int64();
    o.continue_key = std::string(start->value().as_string());
    if (!o.resource_version.empty() && o.resource_version != "0") {
      return BadRequest("specifying resource version is not allowed when using continue");
    }
  }
  return o;
}

bool MatchesListOptions(const ListOptions& o, const api::ResourceInfo& r, const json::object& obj) {
  if (!o.labels.Empty()) {
    static const json::object kNoLabels;
    const json::object* labels = &kNoLabels;
    if (auto m = obj.find("metadata"); m != obj.end() && m->value().is_object()) {
      if (auto l = m->value().as_object().find("labels"); l != m->value().as_object().end() && l->value().is_object()) {
        labels = &l->value().as_object();
      }
    }
    if (!o.labels.Matches(*labels)) return false;
  }
  if (!o.fields.Empty()) {
    return o.fields.Matches([&](std::string_view f) { return SelectableField(r, obj, f); });
  }
  return true;
}

std::string EncodeContinue(int64_t rv, const std::string& next_key) {
  json::object t{{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", next_key}};
  std::string b = Base64Encode(json::serialize(t));
  // URL-safe, unpadded: it travels in a query string.
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

}  // namespace kite::apiserver
