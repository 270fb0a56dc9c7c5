#include "addons/ingress/routes.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "api/object.h"

namespace kite::ingress {

namespace json = boost::json;

namespace {

constexpr std::string_view kClassAnnotation = "kubernetes.io/ingress.class";
constexpr std::string_view kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";
constexpr std::string_view kEntrypointsAnnotation = "traefik.ingress.kubernetes.io/router.entrypoints";
constexpr std::string_view kRouterTlsAnnotation = "traefik.ingress.kubernetes.io/router.tls";

// The entry points an Ingress's annotations give its rules (both when they say nothing).
unsigned EntrypointsOf(const json::object& annotations) {
  unsigned mask = kWeb | kWebsecure;
  if (const json::value* v = annotations.if_contains(kEntrypointsAnnotation); v && v->is_string()) {
    mask = 0;
    std::string_view list = v->as_string();
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view name = list.substr(0, comma);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      if (name == "web") mask |= kWeb;
      if (name == "websecure") mask |= kWebsecure;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (api::GetString(annotations, kRouterTlsAnnotation) == "true") mask &= kWebsecure;
  return mask;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Service's cluster IP and the port the backend names, or why not.
Backend Resolve(const std::map<std::string, const json::object*>& services, const std::string& ns,
                const json::object& backend) {
  Backend b;
  const json::object* svc = api::FindObject(backend, "service");
  if (!svc) {
    b.service = ns + "/";
    b.error = "backend is not a Service (resource backends are not supported)";
    return b;
  }
  const std::string name = api::GetString(*svc, "name");
  const json::value* number = api::Find(*svc, {"port", "number"});
  const std::string port_name = api::GetString(*svc, {"port", "name"});
  const int64_t port_number = number ? api::AsInt(*number) : 0;
  b.service = ns + "/" + name + ":" + (number ? std::to_string(port_number) : port_name);
  const auto it = services.find(ns + "/" + name);
  if (it == services.end()) {
    b.error = "service " + ns + "/" + name + " not found";
    return b;
  }
  const json::object& spec = api::GetObject(*it->second, "spec");
  const std::string ip = api::GetString(spec, "clusterIP");
  if (api::GetString(spec, "type") == "ExternalName") {
    b.error = "service " + ns + "/" + name + " is of type ExternalName (not supported)";
    return b;
  }
  if (ip.empty() || ip == "None") {
    b.error = "service " + ns + "/" + name + " has no cluster IP (headless services are not supported)";
    return b;
  }
  for (const json::value& pv : api::GetArray(spec, "ports")) {
    const json::object& p = api::AsObject(pv);
    const std::string protocol = api::GetString(p, "protocol");
    if (!protocol.empty() && protocol != "TCP") continue;
    const int64_t port = api::GetInt(p, "port");
    if (port <= 0 || port > 65535) continue;
    if (number ? port == port_number : (!port_name.empty() && api::GetString(p, "name") == port_name)) {
      b.address = (ip.find(':') == std::string::npos ? ip : "[" + ip + "]") + ":" + std::to_string(port);
      return b;
    }
  }
  b.error = "service " + ns + "/" + name + " has no TCP port " + (number ? std::to_string(port_number) : port_name);
  return b;
}

}  // namespace

std::string RouteTable::NormalizeHost(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    const size_t close = h.find(']');
    h = close == std::string_view::npos ? h : h.substr(0, close + 1);
  } else if (const size_t colon = h.find(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  while (!h.empty() && h.back() == '.') h.remove_suffix(1);
  return Lower(h);
}

bool RouteTable::PathMatches(const PathRule& rule, std::string_view path) {
  if (rule.type == PathType::kExact) return path == rule.path;
  if (rule.path == "/") return true;
  return path.starts_with(rule.path) && (path.size() == rule.path.size() || path[rule.path.size()] == '/');
}

const Backend* RouteTable::MatchIn(const PathRules& rules, std::string_view path, unsigned entrypoint) {
  for (const PathRule& r : rules) {
    if ((r.entrypoints & entrypoint) && PathMatches(r, path)) return &r.backend;
  }
  return nullptr;
}

const Backend* RouteTable::Match(std::string_view host_header, std::string_view path, unsigned entrypoint) const {
  const std::string host = NormalizeHost(host_header);
  if (auto it = exact_.find(host); it != exact_.end()) {
    if (const Backend* b = MatchIn(it->second, path, entrypoint)) return b;
  }
  for (const auto& [suffix, rules] : wildcard_) {
    if (host.size() <= suffix.size() || !host.ends_with(suffix)) continue;
    if (host.find('.') < host.size() - suffix.size()) continue;  // more than one label
    if (const Backend* b = MatchIn(rules, path, entrypoint)) return b;
  }
  if (const Backend* b = MatchIn(any_host_, path, entrypoint)) return b;
  return default_backend_ && (default_entrypoints_ & entrypoint) ? &*default_backend_ : nullptr;
}

const std::string* RouteTable::TlsSecretFor(std::string_view server_name) const {
  const std::string host = NormalizeHost(server_name);
  if (auto it = tls_exact_.find(host); it != tls_exact_.end()) return &it->second;
  for (const auto& [suffix, secret] : tls_wildcard_) {
    if (host.size() <= suffix.size() || !host.ends_with(suffix)) continue;
    if (host.find('.') < host.size() - suffix.size()) continue;
    return &secret;
  }
  return nullptr;
}

std::vector<std::string> RouteTable::TlsSecrets() const {
  std::set<std::string> all;
  for (const auto& [host, secret] : tls_exact_) all.insert(secret);
  for (const auto& [suffix, secret] : tls_wildcard_) all.insert(secret);
  return {all.begin(), all.end()};
}

size_t RouteTable::rules() const {
  size_t n = any_host_.size();
  for (const auto& [host, rules] : exact_) n += rules.size();
  for (const auto& [suffix, rules] : wildcard_) n += rules.size();
  return n;
}

std::shared_ptr<const RouteTable> RouteTable::Build(const Options& options, const Objects& ingresses,
                                                    const Objects& classes, const Objects& services) {
  auto table = std::make_shared<RouteTable>();
  std::set<std::string> ours;
  bool have_default = false;
  for (const auto& c : classes) {
    if (!c || api::GetString(*c, {"spec", "controller"}) != options.controller) continue;
    ours.insert(api::Name(*c));
    have_default = have_default || api::GetString(api::Annotations(*c), kDefaultClassAnnotation) == "true";
  }
  std::map<std::string, const json::object*> by_name;
  for (const auto& s : services) {
    if (s) by_name[api::Namespace(*s) + "/" + api::Name(*s)] = s.get();
  }

  std::map<std::string, PathRules> exact, wildcard;
  // TLS hosts: host → (creationTimestamp, "ns/name" of the Ingress, "ns/secret"); the oldest wins.
  std::map<std::string, std::tuple<std::string, std::string, std::string>> tls;
  // The default backend candidates: (creationTimestamp, "ns/name") orders them.
  std::optional<std::tuple<std::string, std::string, Backend, unsigned>> fallback;
  for (const auto& ing : ingresses) {
    if (!ing) continue;
    const json::object& o = *ing;
    const json::object& annotations = api::Annotations(o);
    std::string cls;
    if (const json::value* a = annotations.if_contains(kClassAnnotation); a && a->is_string()) {
      cls = api::AsString(*a);
    } else {
      cls = api::GetString(o, {"spec", "ingressClassName"});
    }
    if (cls.empty() ? !have_default : !ours.contains(cls)) continue;
    const std::string ns = api::Namespace(o);
    const std::string key = ns + "/" + api::Name(o);
    const std::string created = api::GetString(o, {"metadata", "creationTimestamp"});
    const unsigned entrypoints = EntrypointsOf(annotations);
    table->ingresses_.push_back(key);
    for (const json::value& tv : api::GetArray(o, {"spec", "tls"})) {
      const json::object& t = api::AsObject(tv);
      const std::string secret = api::GetString(t, "secretName");
      if (secret.empty()) continue;
      for (const std::string& h : api::GetStrings(t, "hosts")) {
        std::string host = Lower(h);
        while (!host.empty() && host.back() == '.') host.pop_back();
        if (host.empty() || host.find('*', host.starts_with("*.") ? 1 : 0) != std::string::npos) continue;
        auto entry = std::make_tuple(created, key, ns + "/" + secret);
        auto [it, fresh] = tls.emplace(host, entry);
        if (!fresh && std::tie(std::get<0>(entry), std::get<1>(entry)) < std::tie(std::get<0>(it->second), std::get<1>(it->second))) {
          it->second = entry;
        }
      }
    }
    if (const json::object* db = api::FindObject(o, {"spec", "defaultBackend"})) {
      Backend b = Resolve(by_name, ns, *db);
      b.ingress = key;
      if (!fallback || std::tie(created, key) < std::tie(std::get<0>(*fallback), std::get<1>(*fallback))) {
        fallback.emplace(created, key, std::move(b), entrypoints);
      }
    }
    for (const json::value& rv : api::GetArray(o, {"spec", "rules"})) {
      const json::object& rule = api::AsObject(rv);
      std::string host = Lower(api::GetString(rule, "host"));
      while (!host.empty() && host.back() == '.') host.pop_back();
      PathRules* into = &table->any_host_;
      if (host.starts_with("*.") && host.size() > 2) {
        into = &wildcard[host.substr(1)];
      } else if (!host.empty()) {
        if (host.find('*') != std::string::npos) continue;  // a wildcard anywhere else matches nothing
        into = &exact[host];
      }
      for (const json::value& pv : api::GetArray(rule, {"http", "paths"})) {
        const json::object& p = api::AsObject(pv);
        PathRule r;
        r.path = api::GetString(p, "path");
        if (r.path.empty()) r.path = "/";
        if (r.path.front() != '/') continue;  // not a path: nothing to match (regexes are Traefik's)
        r.type = api::GetString(p, "pathType") == "Exact" ? PathType::kExact : PathType::kPrefix;
        if (r.type == PathType::kPrefix) {
          while (r.path.size() > 1 && r.path.back() == '/') r.path.pop_back();
        }
        r.backend = Resolve(by_name, ns, api::GetObject(p, "backend"));
        r.backend.ingress = key;
        r.created = created;
        r.entrypoints = entrypoints;
        into->push_back(std::move(r));
      }
    }
  }
  auto order = [](PathRules& rules) {
    // A total order (so the table is the same whatever order the informer listed them in).
    std::sort(rules.begin(), rules.end(), [](const PathRule& a, const PathRule& b) {
      if (a.path.size() != b.path.size()) return a.path.size() > b.path.size();
      if (a.type != b.type) return a.type == PathType::kExact;
      return std::tie(a.created, a.backend.ingress, a.path, a.backend.service) <
             std::tie(b.created, b.backend.ingress, b.path, b.backend.service);
    });
  };
  order(table->any_host_);
  for (auto& [host, rules] : exact) {
    order(rules);
    table->exact_.emplace(host, std::move(rules));
  }
  for (auto& [suffix, rules] : wildcard) {
    order(rules);
    table->wildcard_.emplace_back(suffix, std::move(rules));
  }
  auto longest_first = [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() > b.first.size() : a.first < b.first;
  };
  std::sort(table->wildcard_.begin(), table->wildcard_.end(), longest_first);
  if (fallback) {
    table->default_backend_ = std::move(std::get<2>(*fallback));
    table->default_entrypoints_ = std::get<3>(*fallback);
  }
  for (auto& [host, entry] : tls) {
    if (host.starts_with("*.")) {
      table->tls_wildcard_.emplace_back(host.substr(1), std::get<2>(entry));
    } else {
      table->tls_exact_.emplace(host, std::get<2>(entry));
    }
  }
  std::sort(table->tls_wildcard_.begin(), table->tls_wildcard_.end(), longest_first);
  std::sort(table->ingresses_.begin(), table->ingresses_.end());
  return table;
}

}  // namespace kite::ingress
