// A container's environment and the downward API values (upstream: kubelet_pods.go's
// makeEnvironmentVariables, podFieldSelectorRuntimeValue, the expansion package,
// envvars.FromServices, resource helpers' ExtractContainerResourceValue).
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "agent/kubelet/container_config.h"
#include "api/object.h"
#include "api/quantity.h"
#include "base/encoding.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

// Go's %q for the label/annotation files of downwardAPI volumes.
std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string FormatMap(const json::object& m) {
  std::map<std::string, std::string> sorted;
  for (const auto& kv : m) {
    if (kv.value().is_string()) sorted[kv.key()] = kv.value().as_string();
  }
  std::string out;
  for (const auto& [k, v] : sorted) out += k + "=" + GoQuote(v) + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

// "metadata.labels['app']" → "app" when `path` starts with `prefix` + "['" and ends with "']".
std::optional<std::string> Subscript(const std::string& path, const std::string& prefix) {
  if (path.size() < prefix.size() + 4 || path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (path.compare(prefix.size(), 2, "['") != 0 || path.compare(path.size() - 2, 2, "']") != 0) return std::nullopt;
  return path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
}

// Upstream's IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*
bool IsEnvVarName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalpha(c) || c == '-' || c == '.' || c == '_' || (i > 0 && std::isdigit(c)))) return false;
  }
  return true;
}

const json::object* FindContainer(const json::object& pod, const std::string& name) {
  for (const char* list : {"containers", "initContainers"}) {
    for (const auto& c : api::GetArray(pod, {"spec", list})) {
      if (c.is_object() && api::GetString(c.as_object(), "name") == name) return &c.as_object();
    }
  }
  return nullptr;
}

Status NotFoundError(const char* kind, const std::string& name) {
  return ContainerConfigError(std::string(kind) + " \"" + name + "\" not found");
}

// The configMap's or secret's string data (secret values base64-decoded).
Result<std::map<std::string, std::string>> ObjectData(const json::object& obj, bool secret, const std::string& desc) {
  std::map<std::string, std::string> out;
  for (const auto& kv : api::GetObject(obj, "data")) {
    if (!kv.value().is_string()) continue;
    if (!secret) {
      out[kv.key()] = kv.value().as_string();
      continue;
    }
    auto decoded = Base64Decode(kv.value().as_string());
    if (!decoded) return ContainerConfigError("secret " + desc + " key " + std::string(kv.key()) + " is not valid base64");
    out[kv.key()] = std::move(*decoded);
  }
  return out;
}

// The object (configMap or secret) named by a ref, or nullopt when it is optional and missing.
Result<std::optional<json::object>> GetRefObject(Lookup& lookup, bool secret, const std::string& ns, const std::string& name,
                                                 bool optional) {
  auto obj = secret ? lookup.GetSecret(ns, name) : lookup.GetConfigMap(ns, name);
  if (obj) return std::optional<json::object>(std::move(*obj));
  if (obj.NotFound()) {
    if (optional) return std::optional<json::object>{};
    return NotFoundError(secret ? "secret" : "configmap", name);
  }
  return obj.error();
}

// Docker-link style variables of one Service (envvars.FromServices).
void ServiceVars(const json::object& svc, std::vector<std::pair<std::string, std::string>>& out) {
  std::string prefix = api::Name(svc);
  for (char& c : prefix) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string ip = api::GetString(svc, {"spec", "clusterIP"});
  const json::array& ports = api::GetArray(svc, {"spec", "ports"});
  out.emplace_back(prefix + "_SERVICE_HOST", ip);
  bool first = true;
  for (const auto& pv : ports) {
    if (!pv.is_object()) continue;
    const json::object& p = pv.as_object();
    const std::string port = std::to_string(api::GetInt(p, "port"));
    std::string pname = api::GetString(p, "name");
    if (first) out.emplace_back(prefix + "_SERVICE_PORT", port);
    if (!pname.empty()) {
      for (char& c : pname) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.emplace_back(prefix + "_SERVICE_PORT_" + pname, port);
    }
    first = false;
  }
  first = true;
  for (const auto& pv : ports) {
    if (!pv.is_object()) continue;
    const json::object& p = pv.as_object();
    std::string proto = api::GetString(p, "protocol");
    if (proto.empty()) proto = "TCP";
    std::string lower = proto;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string port = std::to_string(api::GetInt(p, "port"));
    const std::string url = lower + "://" + ip + ":" + port;
    const std::string pp = prefix + "_PORT_" + port + "_" + proto;
    if (first) out.emplace_back(prefix + "_PORT", url);
    first = false;
    out.emplace_back(pp, url);
    out.emplace_back(pp + "_PROTO", lower);
    out.emplace_back(pp + "_PORT", port);
    out.emplace_back(pp + "_ADDR", ip);
  }
}

// An ordered environment: a name keeps its first position and takes its last value.
class EnvList {
 public:
  void Set(const std::string& name, std::string value) {
    auto [it, fresh] = index_.emplace(name, vars_.size());
    if (fresh) vars_.emplace_back(name, std::move(value));
    else vars_[it->second].second = std::move(value);
  }
  const std::string* Get(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &vars_[it->second].second;
  }
  std::vector<std::pair<std::string, std::string>> Take() { return std::move(vars_); }

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
  std::map<std::string, size_t> index_;
};

}  // namespace

Status ContainerConfigError(std::string message) {
  return Status::Api(400, kCreateContainerConfigError, std::move(message));
}

std::string ExpandVars(std::string_view in, const std::function<std::optional<std::string>(const std::string&)>& lookup_var) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '$' || i + 1 == in.size()) {
      out += in[i++];
      continue;
    }
    const char next = in[i + 1];
    if (next == '$') {  // $$ → $
      out += '$';
      i += 2;
    } else if (next == '(') {
      const size_t close = in.find(')', i + 2);
      if (close == std::string_view::npos) {  // no closing paren: kept as written
        out += "$(";
        i += 2;
        continue;
      }
      const std::string name(in.substr(i + 2, close - i - 2));
      auto v = lookup_var(name);
      out += v ? *v : "$(" + name + ")";
      i = close + 1;
    } else {
      out += '$';
      out += next;
      i += 2;
    }
  }
  return out;
}

Result<std::string> PodFieldValue(const json::object& pod, const std::string& path, const ContainerContext& ctx, bool volume) {
  if (path == "metadata.name") return api::Name(pod);
  if (path == "metadata.namespace") return api::Namespace(pod);
  if (path == "metadata.uid") return api::Uid(pod);
  if (path == "spec.nodeName") return api::GetString(pod, {"spec", "nodeName"});
  if (path == "spec.serviceAccountName") return api::GetString(pod, {"spec", "serviceAccountName"});
  if (auto k = Subscript(path, "metadata.labels")) {
    const json::value* v = api::Labels(pod).if_contains(*k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  if (auto k = Subscript(path, "metadata.annotations")) {
    const json::value* v = api::Annotations(pod).if_contains(*k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  if (volume && path == "metadata.labels") return FormatMap(api::Labels(pod));
  if (volume && path == "metadata.annotations") return FormatMap(api::Annotations(pod));
  std::vector<std::string> pod_ips = ctx.pod_ips;
  if (pod_ips.empty()) {
    for (const auto& v : api::GetArray(pod, {"status", "podIPs"})) {
      if (v.is_object()) pod_ips.push_back(api::GetString(v.as_object(), "ip"));
    }
    if (pod_ips.empty() && !api::GetString(pod, {"status", "podIP"}).empty()) pod_ips.push_back(api::GetString(pod, {"status", "podIP"}));
  }
  const std::string host_ip = ctx.host_ip.empty() ? api::GetString(pod, {"status", "hostIP"}) : ctx.host_ip;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + e;
    return s;
  };
  if (path == "status.podIP") return pod_ips.empty() ? std::string() : pod_ips[0];
  if (path == "status.podIPs") return join(pod_ips);
  if (path == "status.hostIP" || path == "status.hostIPs") return host_ip;
  return ContainerConfigError("unsupported fieldPath: " + path);
}

Result<std::string> ContainerResourceValue(const json::object& pod, const std::string& container_name,
                                           const std::string& resource, const json::value* divisor_json,
                                           const NodeConfig& node) {
  const json::object* c = FindContainer(pod, container_name);
  if (!c) return ContainerConfigError("container " + container_name + " not found in pod " + api::Name(pod));
  auto dot = resource.find('.');
  const std::string kind = resource.substr(0, dot == std::string::npos ? 0 : dot);
  const std::string name = dot == std::string::npos ? "" : resource.substr(dot + 1);
  if ((kind != "limits" && kind != "requests") || (name != "cpu" && name != "memory" && name != "ephemeral-storage")) {
    return ContainerConfigError("unsupported container resource : " + resource);
  }
  api::Quantity divisor = api::Quantity::FromInt(1, api::Quantity::Format::kDecimalSI);
  if (divisor_json && !divisor_json->is_null()) {
    auto d = api::Quantity::FromJson(*divisor_json);
    if (!d) return ContainerConfigError("invalid divisor for " + resource + ": " + d.error().message());
    divisor = *d;
  }
  const json::object& res = api::GetObject(*c, "resources");
  const json::value* v = api::GetObject(res, kind.c_str()).if_contains(name);
  if (!v && kind == "requests") v = api::GetObject(res, "limits").if_contains(name);  // defaulting copies limits
  std::optional<api::Quantity> q;
  if (v) {
    auto parsed = api::Quantity::FromJson(*v);
    if (!parsed) return ContainerConfigError("invalid " + resource + " of container " + container_name + ": " + parsed.error().message());
    q = *parsed;
  }
  const bool cpu = name == "cpu";
  int64_t amount;  // millicores for cpu, bytes otherwise
  if (q) amount = cpu ? q->MilliValue() : q->Value();
  else if (kind == "limits") amount = cpu ? node.allocatable_milli_cpu : name == "memory" ? node.allocatable_memory : node.allocatable_ephemeral_storage;
  else amount = 0;
  const int64_t per = cpu ? divisor.MilliValue() : divisor.Value();
  if (per <= 0) return ContainerConfigError("invalid divisor for " + resource + ": " + divisor.String());
  const int64_t rounded = amount / per + (amount % per > 0 ? 1 : 0);  // ceil for amount >= 0
  return std::to_string(rounded);
}

Result<std::vector<std::pair<std::string, std::string>>> ContainerEnv(const json::object& pod, const json::object& container,
                                                                     const ContainerContext& ctx, const NodeConfig& node,
                                                                     Lookup& lookup, std::vector<PodEvent>* events) {
  const std::string ns = api::Namespace(pod);
  // Service links: the master Service of "default" always, the namespace's Services when
  // enableServiceLinks (default true); ClusterIP None or empty are skipped. A static pod whose
  // Services cannot be read (no API server) gets none.
  EnvList services;
  {
    std::map<std::string, json::object> by_name;
    const bool static_pod = api::GetString(pod, {"metadata", "annotations", "kubernetes.io/config.source"}) == "file" &&
                            api::GetString(pod, {"metadata", "annotations", "kubernetes.io/config.mirror"}).empty();
    auto add_from = [&](const std::string& from_ns, bool only_master) -> Status {
      auto list = lookup.ListServices(from_ns);
      // A static pod starts without the API server (upstream's rule too): without its
      // Services, it goes without their variables rather than not at all.
      if (!list && static_pod) return {};
      if (!list) return list.error().Annotate("list services");
      for (auto& s : *list) {
        const std::string ip = api::GetString(s, {"spec", "clusterIP"});
        if (ip.empty() || ip == "None") continue;
        if (only_master && api::Name(s) != "kubernetes") continue;
        by_name.try_emplace(api::Name(s), std::move(s));
      }
      return {};
    };
    if (auto s = add_from("default", true); !s.ok()) return s;
    if (api::GetBool(pod, {"spec", "enableServiceLinks"}, true)) {
      if (auto s = add_from(ns, false); !s.ok()) return s;
    }
    std::vector<std::pair<std::string, std::string>> vars;
    for (const auto& [n, s] : by_name) ServiceVars(s, vars);
    for (auto& [k, v] : vars) services.Set(k, v);
  }

  EnvList env;
  for (const auto& fv : api::GetArray(container, "envFrom")) {
    if (!fv.is_object()) continue;
    const json::object& f = fv.as_object();
    const std::string prefix = api::GetString(f, "prefix");
    const json::object* ref = api::FindObject(f, "configMapRef");
    const bool secret = ref == nullptr;
    if (!ref) ref = api::FindObject(f, "secretRef");
    if (!ref) continue;
    const std::string name = api::GetString(*ref, "name");
    auto obj = GetRefObject(lookup, secret, ns, name, api::GetBool(*ref, "optional"));
    if (!obj) return obj.error();
    if (!*obj) continue;
    auto data = ObjectData(**obj, secret, ns + "/" + name);
    if (!data) return data.error();
    std::vector<std::string> invalid;
    for (auto& [k, v] : *data) {
      const std::string key = prefix + k;
      if (!IsEnvVarName(key)) {
        invalid.push_back(key);
        continue;
      }
      env.Set(key, v);
    }
    if (!invalid.empty() && events) {
      std::string keys;
      for (const auto& k : invalid) keys += (keys.empty() ? "" : ", ") + k;
      events->push_back({"Warning", "InvalidEnvironmentVariableNames",
                         "Keys [" + keys + "] from the EnvFrom " + (secret ? "secret " : "configMap ") + ns + "/" + name +
                             " were skipped since they are considered invalid environment variable names."});
    }
  }

  auto lookup_var = [&](const std::string& name) -> std::optional<std::string> {
    if (const std::string* v = env.Get(name)) return *v;
    if (const std::string* v = services.Get(name)) return *v;
    return std::nullopt;
  };
  for (const auto& ev : api::GetArray(container, "env")) {
    if (!ev.is_object()) continue;
    const json::object& e = ev.as_object();
    const std::string name = api::GetString(e, "name");
    if (name.empty()) return ContainerConfigError("an env entry of container " + api::GetString(container, "name") + " has no name");
    const std::string value = api::GetString(e, "value");
    const json::object* from = api::FindObject(e, "valueFrom");
    if (!value.empty() || !from) {
      env.Set(name, ExpandVars(value, lookup_var));
      continue;
    }
    if (const json::object* fr = api::FindObject(*from, "fieldRef")) {
      auto v = PodFieldValue(pod, api::GetString(*fr, "fieldPath"), ctx);
      if (!v) return v.error();
      env.Set(name, *v);
    } else if (const json::object* rr = api::FindObject(*from, "resourceFieldRef")) {
      std::string cname = api::GetString(*rr, "containerName");
      if (cname.empty()) cname = api::GetString(container, "name");
      auto v = ContainerResourceValue(pod, cname, api::GetString(*rr, "resource"), rr->if_contains("divisor"), node);
      if (!v) return v.error();
      env.Set(name, *v);
    } else {
      const json::object* ref = api::FindObject(*from, "configMapKeyRef");
      const bool secret = ref == nullptr;
      if (!ref) ref = api::FindObject(*from, "secretKeyRef");
      if (!ref) return ContainerConfigError("env " + name + ": valueFrom has no supported source");
      const std::string oname = api::GetString(*ref, "name"), key = api::GetString(*ref, "key");
      const bool optional = api::GetBool(*ref, "optional");
      auto obj = GetRefObject(lookup, secret, ns, oname, optional);
      if (!obj) return obj.error();
      if (!*obj) continue;
      auto data = ObjectData(**obj, secret, ns + "/" + oname);
      if (!data) return data.error();
      auto it = data->find(key);
      if (it == data->end()) {
        if (optional) continue;
        return ContainerConfigError("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") + ns + "/" + oname);
      }
      env.Set(name, it->second);
    }
  }
  // Service variables the spec did not set come last.
  for (auto& [k, v] : services.Take()) {
    if (!env.Get(k)) env.Set(k, std::move(v));
  }
  return env.Take();
}

}  // namespace kite::kubelet
