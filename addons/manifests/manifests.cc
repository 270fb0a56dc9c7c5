#include "addons/manifests/manifests.h"

#include <string_view>

#include "addons/manifests/embedded_manifests.h"
#include "api/object.h"
#include "api/yaml_json.h"

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
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "---" || line.starts_with("--- ")) {
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

bool IsPackagedAddon(std::string_view name) {
  return name == "kite-dns" || name == "coredns" || name == "kite-ingress" || name == "traefik" || name == "runtimes";
}

Result<std::vector<PackagedManifest>> PackagedManifests(const AddonOptions& o) {
  bool dns = true, ingress = true, runtimes = true;
  for (const auto& name : o.disable) {
    if (!IsPackagedAddon(name)) {
      return Status(Code::kInvalidArgument,
                    "--disable: unknown add-on " + name + " (known: kite-dns, coredns, kite-ingress, traefik, runtimes)");
    }
    (name == "runtimes" ? runtimes : name == "kite-ingress" || name == "traefik" ? ingress : dns) = false;
  }
  std::string text(kKiteDnsManifest);
  ReplaceAll(&text, "%{CLUSTER_DNS}%", o.cluster_dns);
  ReplaceAll(&text, "%{CLUSTER_DOMAIN}%", o.cluster_domain);
  ReplaceAll(&text, "%{DNS_IMAGE}%", o.dns_image);
  std::string ingress_text(kKiteIngressManifest);
  ReplaceAll(&ingress_text, "%{INGRESS_IMAGE}%", o.ingress_image);
  return std::vector<PackagedManifest>{{"kite-dns", std::move(text), dns},
                                       {"kite-ingress", std::move(ingress_text), ingress},
                                       {"runtimes", kRuntimesManifest, runtimes}};
}

Result<std::vector<boost::json::object>> ParseManifest(std::string_view text) {
  std::vector<boost::json::object> out;
  for (const auto& doc : Documents(text)) {
    if (doc.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    auto v = api::YamlToJson(doc);
    if (!v.ok()) return v.status();
    if (!v->is_object()) continue;  // a document of comments only
    boost::json::object& obj = v->as_object();
    if (api::GetString(obj, "kind") == "List") {
      if (const auto* items = obj.if_contains("items"); items && items->is_array()) {
        for (const auto& item : items->as_array()) {
          if (item.is_object()) out.push_back(item.as_object());
        }
      }
      continue;
    }
    out.push_back(std::move(obj));
  }
  return out;
}

}  // namespace kite::addons
