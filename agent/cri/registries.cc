#include "agent/cri/registries.h"

#include <boost/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/yaml_json.h"
#include "base/fs.h"

namespace kite::cri {
namespace json = boost::json;

namespace {

Status Invalid(const std::string& field, std::string_view what) {
  return Status(Code::kInvalidArgument, "registries.yaml: " + field + ": " + std::string(what));
}

// A scalar as text. YAML reads `password: 12345` as a number and `true` as a bool; k3s (Go's
// yaml into string fields) takes them as the text written, so do the same. A number written
// with digits the JSON form does not keep (`1.50`) comes back as JSON prints it: quote such values.
Result<std::string> Text(const json::value& v, const std::string& field) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return std::string();
  if (v.is_bool() || v.is_number()) return json::serialize(v);
  return Invalid(field, "want a string");
}

// Hosts and endpoints are written into TOML keys and strings (escaped there) and compared by
// containerd as they are; refuse what cannot be a host so a mistake is an error here.
bool PlausibleHost(std::string_view h) {
  if (h.empty()) return false;
  for (char c : h) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '"' || c == '\\' || c == 0x7f) return false;
  }
  return true;
}

// An endpoint: "host[:port][/path]" or "http(s)://host[:port][/path]", as containerd accepts.
Status CheckEndpoint(std::string_view e, const std::string& field) {
  std::string_view rest = e;
  if (auto p = e.find("://"); p != std::string_view::npos) {
    std::string_view scheme = e.substr(0, p);
    if (scheme != "http" && scheme != "https") return Invalid(field, "scheme must be http or https: " + std::string(e));
    rest = e.substr(p + 3);
  }
  std::string_view host = rest.substr(0, rest.find('/'));
  if (!PlausibleHost(host)) return Invalid(field, "not a registry URL: " + std::string(e));
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '\\' || c == 0x7f) {
      return Invalid(field, "not a registry URL: " + std::string(e));
    }
  }
  return Status::Ok();
}

std::string Field(std::string_view section, std::string_view host, std::string_view key = {}) {
  std::string f = std::string(section) + ".\"" + std::string(host) + "\"";
  if (!key.empty()) f += "." + std::string(key);
  return f;
}

void Unknown(const json::object& o, std::initializer_list<std::string_view> known, const std::string& where,
             RegistryConfig& out) {
  for (const auto& kv : o) {
    bool ok = false;
    for (auto k : known) ok = ok || kv.key() == k;
    if (!ok) out.warnings.push_back("registries.yaml: unknown key " + where + "." + std::string(kv.key()) + " ignored");
  }
}

Status ParseMirror(std::string_view host, const json::value& v, RegistryConfig& out) {
  const std::string where = Field("mirrors", host);
  if (!PlausibleHost(host)) return Invalid(where, "not a registry host");
  RegistryMirror m;
  if (v.is_null()) {
    out.mirrors.emplace(std::string(host), std::move(m));
    return Status::Ok();
  }
  if (!v.is_object()) return Invalid(where, "want a mapping");
  const json::object& o = v.get_object();
  Unknown(o, {"endpoint", "rewrite"}, where, out);
  if (auto it = o.find("endpoint"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Invalid(where + ".endpoint", "want a list of URLs");
    size_t i = 0;
    for (const auto& e : it->value().get_array()) {
      const std::string f = where + ".endpoint[" + std::to_string(i++) + "]";
      if (!e.is_string()) return Invalid(f, "want a string");
      std::string url(e.get_string());
      if (Status s = CheckEndpoint(url, f); !s.ok()) return s;
      m.endpoints.push_back(std::move(url));
    }
  }
  if (auto it = o.find("rewrite"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return Invalid(where + ".rewrite", "want a mapping of regex to replacement");
    for (const auto& kv : it->value().get_object()) {
      auto r = Text(kv.value(), where + ".rewrite");
      if (!r.ok()) return r.status();
      m.rewrites.emplace_back(std::string(kv.key()), std::move(*r));
    }
    if (!m.rewrites.empty()) {
      out.warnings.push_back("registries.yaml: " + where +
                             ".rewrite is not supported by containerd 1.6 and is not applied");
    }
  }
  out.mirrors.emplace(std::string(host), std::move(m));
  return Status::Ok();
}

Status ReadStrings(const json::object& o, const std::string& where,
                   std::initializer_list<std::pair<std::string_view, std::string*>> fields) {
  for (auto [key, target] : fields) {
    auto it = o.find(key);
    if (it == o.end()) continue;
    auto t = Text(it->value(), where + "." + std::string(key));
    if (!t.ok()) return t.status();
    *target = std::move(*t);
  }
  return Status::Ok();
}

Status ParseHostConfig(std::string_view host, const json::value& v, RegistryConfig& out) {
  const std::string where = Field("configs", host);
  if (!PlausibleHost(host)) return Invalid(where, "not a registry host");
  RegistryHostConfig c;
  if (!v.is_null()) {
    if (!v.is_object()) return Invalid(where, "want a mapping");
    const json::object& o = v.get_object();
    Unknown(o, {"auth", "tls"}, where, out);
    if (auto it = o.find("auth"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_object()) return Invalid(where + ".auth", "want a mapping");
      const json::object& a = it->value().get_object();
      Unknown(a, {"username", "password", "auth", "identity_token"}, where + ".auth", out);
      RegistryAuth auth;
      if (Status s = ReadStrings(a, where + ".auth",
                                 {{"username", &auth.username}, {"password", &auth.password}, {"auth", &auth.auth},
                                  {"identity_token", &auth.identity_token}});
          !s.ok()) {
        return s;
      }
      c.auth = std::move(auth);
    }
    if (auto it = o.find("tls"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_object()) return Invalid(where + ".tls", "want a mapping");
      const json::object& t = it->value().get_object();
      Unknown(t, {"ca_file", "cert_file", "key_file", "insecure_skip_verify"}, where + ".tls", out);
      RegistryTLS tls;
      if (Status s = ReadStrings(t, where + ".tls",
                                 {{"ca_file", &tls.ca_file}, {"cert_file", &tls.cert_file}, {"key_file", &tls.key_file}});
          !s.ok()) {
        return s;
      }
      if (auto s = t.find("insecure_skip_verify"); s != t.end() && !s->value().is_null()) {
        if (!s->value().is_bool()) return Invalid(where + ".tls.insecure_skip_verify", "want true or false");
        tls.insecure_skip_verify = s->value().get_bool();
      }
      // containerd refuses to start with one of the pair missing; say so before it does.
      if (tls.cert_file.empty() != tls.key_file.empty()) {
        return Invalid(where + ".tls", "cert_file and key_file go together");
      }
      c.tls = std::move(tls);
    }
  }
  out.configs.emplace(std::string(host), std::move(c));
  return Status::Ok();
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

constexpr std::string_view kRegistryTable = "[plugins.\"io.containerd.grpc.v1.cri\".registry.";

void RenderHostConfig(std::ostringstream& os, const std::string& host, const RegistryHostConfig& c) {
  if (c.auth) {
    os << kRegistryTable << "configs." << Quote(host) << ".auth]\n";
    const RegistryAuth& a = *c.auth;
    if (!a.username.empty()) os << "  username = " << Quote(a.username) << "\n";
    if (!a.password.empty()) os << "  password = " << Quote(a.password) << "\n";
    if (!a.auth.empty()) os << "  auth = " << Quote(a.auth) << "\n";
    if (!a.identity_token.empty()) os << "  identitytoken = " << Quote(a.identity_token) << "\n";
  }
  if (c.tls) {
    os << kRegistryTable << "configs." << Quote(host) << ".tls]\n";
    const RegistryTLS& t = *c.tls;
    if (!t.ca_file.empty()) os << "  ca_file = " << Quote(t.ca_file) << "\n";
    if (!t.cert_file.empty()) os << "  cert_file = " << Quote(t.cert_file) << "\n";
    if (!t.key_file.empty()) os << "  key_file = " << Quote(t.key_file) << "\n";
    os << "  insecure_skip_verify = " << (t.insecure_skip_verify ? "true" : "false") << "\n";
  }
}

}  // namespace

Result<RegistryConfig> ParseRegistries(std::string_view yaml) {
  auto doc = api::YamlToJson(yaml);
  if (!doc.ok()) return Status(Code::kInvalidArgument, "registries.yaml: " + doc.status().message());
  RegistryConfig out;
  if (doc->is_null()) return out;
  if (!doc->is_object()) return Invalid("(top level)", "want a mapping with mirrors and configs");
  const json::object& root = doc->get_object();
  Unknown(root, {"mirrors", "configs"}, "(top level)", out);
  if (auto it = root.find("mirrors"); it != root.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return Invalid("mirrors", "want a mapping of registry to mirror");
    for (const auto& kv : it->value().get_object()) {
      if (Status s = ParseMirror(kv.key(), kv.value(), out); !s.ok()) return s;
    }
  }
  if (auto it = root.find("configs"); it != root.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return Invalid("configs", "want a mapping of host to settings");
    for (const auto& kv : it->value().get_object()) {
      if (Status s = ParseHostConfig(kv.key(), kv.value(), out); !s.ok()) return s;
    }
  }
  return out;
}

Result<RegistryConfig> LoadRegistries(const std::string& path) {
  std::error_code ec;
  const files::FileInfo st = files::Stat(path, ec);
  if (st.type == std::filesystem::file_type::not_found) return RegistryConfig{};
  if (!ec && st.type != std::filesystem::file_type::regular) {
    return Status(Code::kFailedPrecondition, "registries.yaml: " + path + " is not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kFailedPrecondition, "registries.yaml: cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(Code::kFailedPrecondition, "registries.yaml: cannot read " + path);
  auto config = ParseRegistries(text.str());
  if (!config.ok()) return config.status().Annotate(path);
  return config;
}

std::string RenderContainerdRegistryToml(const RegistryConfig& config) {
  std::ostringstream os;
  for (const auto& [host, mirror] : config.mirrors) {
    os << kRegistryTable << "mirrors." << Quote(host) << "]\n  endpoint = [";
    for (size_t i = 0; i < mirror.endpoints.size(); ++i) os << (i ? ", " : "") << Quote(mirror.endpoints[i]);
    os << "]\n";
  }
  for (const auto& [host, c] : config.configs) RenderHostConfig(os, host, c);
  // "docker.io" is the name users write; containerd contacts registry-1.docker.io for it and
  // looks its credentials up under that host.
  if (auto it = config.configs.find("docker.io");
      it != config.configs.end() && !config.configs.contains("registry-1.docker.io")) {
    RenderHostConfig(os, "registry-1.docker.io", it->second);
  }
  return os.str();
}

}  // namespace kite::cri
