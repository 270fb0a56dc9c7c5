#include "server/apiserver/aggregator/discovery_document.h"

#include <boost/json.hpp>

#include <cctype>

#include "api/object.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

bool ResourceName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

// Strings of `o[field]` that are non-empty, at most `max` of them.
std::vector<std::string> Words(const json::object& o, const char* field) {
  std::vector<std::string> out;
  for (const auto& v : api::GetArray(o, field)) {
    if (v.is_string() && !v.as_string().empty() && v.as_string().size() <= 253 && out.size() < 64) {
      out.emplace_back(v.as_string());
    }
  }
  return out;
}

}  // namespace

Result<std::vector<api::ResourceInfo>> ParseApiResourceList(std::string_view body, const std::string& group,
                                                            const std::string& version) {
  if (body.size() > kMaxDiscoveryDocumentBytes) return Status(Code::kInvalidArgument, "the discovery document is too large");
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return Status(Code::kInvalidArgument, "the discovery document is not a JSON object");
  const json::array& listed = api::GetArray(doc.as_object(), "resources");
  if (listed.size() > kMaxDiscoveredResources) {
    return Status(Code::kInvalidArgument, "the discovery document lists more than " +
                                              std::to_string(kMaxDiscoveredResources) + " resources");
  }
  std::vector<api::ResourceInfo> out;
  std::vector<const json::object*> subs;
  for (const auto& item : listed) {
    if (!item.is_object()) continue;
    const json::object& o = item.as_object();
    const std::string name = api::GetString(o, "name");
    const std::string kind = api::GetString(o, "kind");
    if (kind.empty() || kind.size() > 253) continue;
    if (const size_t slash = name.find('/'); slash != std::string::npos) {
      if (ResourceName(name.substr(0, slash)) && ResourceName(name.substr(slash + 1))) subs.push_back(&o);
      continue;
    }
    if (!ResourceName(name)) continue;
    api::ResourceInfo r;
    r.group = group;
    r.version = version;
    r.kind = kind;
    r.resource = name;
    r.singular = api::GetString(o, "singularName");
    if (!ResourceName(r.singular)) {
      r.singular = kind;
      for (auto& ch : r.singular) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    r.namespaced = api::GetBool(o, "namespaced");
    r.verbs = Words(o, "verbs");
    r.short_names = Words(o, "shortNames");
    r.categories = Words(o, "categories");
    out.push_back(std::move(r));
  }
  for (const json::object* o : subs) {
    const std::string name = api::GetString(*o, "name");
    const std::string parent = name.substr(0, name.find('/'));
    for (auto& r : out) {
      if (r.resource != parent || r.subresources.size() >= 16) continue;
      r.subresources.push_back({name.substr(name.find('/') + 1), api::GetString(*o, "group"), api::GetString(*o, "version"),
                                api::GetString(*o, "kind"), Words(*o, "verbs")});
    }
  }
  return out;
}

}  // namespace kite::apiserver
