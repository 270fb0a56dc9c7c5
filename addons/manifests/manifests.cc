#include "addons/manifests/manifests.h"

#include <algorithm>
#include <string_view>

#include "addons/manifests/embedded_manifests.h"
#include "api/object.h"
#include "api/resources.h"
#include "api/yaml_json.h"
#include "base/log.h"

namespace kite::addons {
namespace {

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

// Splits a multi-document YAML text at its "---" lines.
std::vector<std::string> Documents(std::string_view text) {
  std::vector<std::string> docs(1);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line == "---") {
      docs.emplace_back();
    } else {
      docs.back().append(line);
      docs.back().push_back('\n');
    }
    start = end + 1;
  }
  return docs;
}

}  // namespace

Result<std::vector<boost::json::object>> AddonObjects(const AddonOptions& o) {
  bool dns = true;
  for (const auto& name : o.disable) {
    if (name == "kite-dns" || name == "coredns") {
      dns = false;
    } else {
      return Status(Code::kInvalidArgument, "--disable: unknown add-on " + name + " (known: kite-dns)");
    }
  }
  std::vector<boost::json::object> out;
  if (!dns) return out;
  std::string text(kKiteDnsManifest);
  ReplaceAll(&text, "%{CLUSTER_DNS}%", o.cluster_dns);
  ReplaceAll(&text, "%{CLUSTER_DOMAIN}%", o.cluster_domain);
  ReplaceAll(&text, "%{DNS_IMAGE}%", o.dns_image);
  for (const auto& doc : Documents(text)) {
    if (doc.find_first_not_of(" \n") == std::string::npos) continue;
    auto v = api::YamlToJson(doc);
    if (!v.ok()) return v.status();
    if (!v->is_object()) continue;  // a document of comments only
    out.push_back(std::move(v->as_object()));
  }
  return out;
}

Status ApplyAddons(const client::Client& client, const AddonOptions& o) {
  auto objects = AddonObjects(o);
  if (!objects.ok()) return objects.status();
  Status first = Status::Ok();
  for (const auto& obj : *objects) {
    const std::string api_version = api::GetString(obj, "apiVersion"), kind = api::GetString(obj, "kind");
    const size_t slash = api_version.find('/');
    const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    const std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
    const api::ResourceInfo* r = nullptr;
    for (const auto& info : api::BuiltinResources()) {
      if (info.group == group && info.version == version && info.kind == kind) r = &info;
    }
    if (!r) {
      if (first.ok()) first = Status(Code::kInternal, "add-on manifest: unknown kind " + api_version + " " + kind);
      continue;
    }
    // Looked up first: creating a Service whose fixed ClusterIP is taken (by itself) fails as
    // Invalid before the name's conflict is noticed, as upstream's does.
    auto existing = client.Get(*r, api::Namespace(obj), api::Name(obj));
    if (existing.ok()) continue;
    if (!existing.status().IsNotFound()) {
      if (first.ok()) first = existing.status().Annotate("add-on " + kind + " " + api::Name(obj));
      continue;
    }
    auto created = client.Create(*r, api::Namespace(obj), obj);
    if (created.ok()) {
      KITE_LOG(0) << "add-ons: created " << kind << " " << api::Namespace(obj) << (r->namespaced ? "/" : "")
                  << api::Name(obj);
    } else if (!created.status().IsAlreadyExists() && first.ok()) {
      first = created.status().Annotate("add-on " + kind + " " + api::Name(obj));
    }
  }
  return first;
}

}  // namespace kite::addons
