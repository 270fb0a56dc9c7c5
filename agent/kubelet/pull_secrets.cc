#include "agent/kubelet/pull_secrets.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "base/encoding.h"

namespace kite::kubelet {

namespace json = boost::json;

namespace {

Status BadReference(std::string_view image, std::string_view why) {
  return Status(Code::kInvalidArgument,
                "invalid reference format: " + std::string(why) + ": \"" + std::string(image) + "\"");
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// path-component: [a-z0-9]+ ( ( [_.] | __ | -+ ) [a-z0-9]+ )*
bool PathComponent(std::string_view c) {
  size_t i = 0;
  auto alnums = [&] {
    size_t start = i;
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    return i > start;
  };
  if (!alnums()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnums()) return false;
  }
  return true;
}

// domain: host [":" port]; host is dot-separated [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? parts,
// or an IPv6 address in brackets.
bool Domain(std::string_view d) {
  std::string_view host = d, port;
  if (!d.empty() && d[0] == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : d.substr(1, close - 1)) {
      if (!IsHex(c) && c != ':' && c != '.') return false;
    }
    host = {};
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    if (auto colon = d.find(':'); colon != std::string_view::npos) {
      host = d.substr(0, colon);
      port = d.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty()) return false;
    size_t start = 0;
    while (start <= host.size()) {
      size_t dot = host.find('.', start);
      std::string_view part = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (part.empty() || !IsAlnum(part.front()) || !IsAlnum(part.back())) return false;
      for (char c : part) {
        if (!IsAlnum(c) && c != '-') return false;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool Tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !IsWord(t[0])) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return IsWord(c) || c == '.' || c == '-'; });
}

// digest: algorithm ":" hex{32,}; algorithm: [A-Za-z][A-Za-z0-9]* ( [+._-] [A-Za-z][A-Za-z0-9]* )*
bool Digest(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view alg = d.substr(0, colon), hex = d.substr(colon + 1);
  bool at_start = true;
  for (char c : alg) {
    if (at_start) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
      at_start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      at_start = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  if (at_start || hex.size() < 32) return false;
  return std::all_of(hex.begin(), hex.end(), IsHex);
}

// ---- credentials ------------------------------------------------------------------------------

struct Url {
  std::string hostport, host, port, path;
};

// "[scheme://]host[:port][/path]" as upstream parses keys and images (Go's url.Parse after
// adding "https://" to what has no http(s) scheme, then net.SplitHostPort on the host).
Url ParseSchemeless(std::string_view s) {
  if (s.starts_with("https://")) {
    s.remove_prefix(8);
  } else if (s.starts_with("http://")) {
    s.remove_prefix(7);
  }
  Url u;
  auto slash = s.find('/');
  std::string_view hp = s.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(s.substr(slash));
  u.hostport = std::string(hp);
  u.host = u.hostport;
  if (hp.starts_with('[')) {
    auto close = hp.find(']');
    if (close != std::string_view::npos && close + 1 < hp.size() && hp[close + 1] == ':') {
      u.host = std::string(hp.substr(1, close - 1));
      u.port = std::string(hp.substr(close + 2));
    }
  } else if (auto colon = hp.find(':');
             colon != std::string_view::npos && hp.find(':', colon + 1) == std::string_view::npos) {
    u.host = std::string(hp.substr(0, colon));
    u.port = std::string(hp.substr(colon + 1));
  }
  return u;
}

// A glob of Go's path.Match for one host part: '*' any run, '?' one character.
bool GlobMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

bool KeyMatches(std::string_view key, std::string_view repository) {
  Url glob = ParseSchemeless(key), target = ParseSchemeless(repository);
  if (glob.port != target.port) return false;
  auto gp = SplitDots(glob.host), tp = SplitDots(target.host);
  if (gp.size() != tp.size()) return false;
  if (!target.path.starts_with(glob.path)) return false;
  for (size_t i = 0; i < gp.size(); ++i) {
    if (!GlobMatch(gp[i], tp[i])) return false;
  }
  return true;
}

// Docker Hub, by the look of the repository's first part (upstream's isDefaultRegistryMatch).
bool IsDefaultRegistry(std::string_view repository) {
  auto slash = repository.find('/');
  std::string_view first = repository.substr(0, slash);
  if (first.empty()) return false;
  if (slash == std::string_view::npos) return true;
  if (first == "docker.io" || first == "index.docker.io") return true;
  return first.find_first_of(".:") == std::string_view::npos;
}

Status BadDockerConfig(std::string_view why) {
  return Status(Code::kInvalidArgument, "docker config: " + std::string(why));
}

}  // namespace

std::string ImageReference::String() const {
  std::string s = Repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<ImageReference> ParseImageReference(std::string_view image) {
  if (image.empty()) return BadReference(image, "empty image name");
  if (image.size() == 64 && std::all_of(image.begin(), image.end(), [](char c) { return IsHex(c) && !(c >= 'A' && c <= 'F'); })) {
    return BadReference(image, "cannot specify 64-byte hexadecimal strings");
  }
  ImageReference ref;
  std::string_view rest = image;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (!Digest(ref.digest)) return BadReference(image, "invalid digest");
    rest = rest.substr(0, at);
  }
  // The registry: a first component with '.' or ':', "localhost", or upper case (upstream's
  // splitDockerDomain); else Docker Hub.
  auto slash = rest.find('/');
  std::string_view first = rest.substr(0, slash);
  bool has_domain = slash != std::string_view::npos &&
                    (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
                     std::any_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  std::string_view remainder = rest;
  if (has_domain) {
    ref.domain = std::string(first);
    remainder = rest.substr(slash + 1);
    if (!Domain(ref.domain)) return BadReference(image, "invalid registry host");
  } else {
    ref.domain = "docker.io";
  }
  if (ref.domain == "index.docker.io") ref.domain = "docker.io";
  std::string_view path = remainder;
  if (auto colon = remainder.find(':'); colon != std::string_view::npos) {
    path = remainder.substr(0, colon);
    ref.tag = std::string(remainder.substr(colon + 1));
    if (!Tag(ref.tag)) return BadReference(image, "invalid tag");
  }
  if (std::any_of(path.begin(), path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return BadReference(image, "repository name must be lowercase");
  }
  size_t start = 0;
  for (;;) {
    size_t next = path.find('/', start);
    if (!PathComponent(path.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start))) {
      return BadReference(image, "invalid repository name");
    }
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.path = std::string(path);
  if (ref.domain == "docker.io" && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
  if (ref.domain.size() + 1 + ref.path.size() > 255) return BadReference(image, "repository name must not be more than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

Status DockerKeyring::AddEntries(const json::object& entries) {
  for (const auto& kv : entries) {
    if (!kv.value().is_object()) return BadDockerConfig("entry \"" + std::string(kv.key()) + "\" is not an object");
    const json::object& e = kv.value().get_object();
    cri::AuthConfig auth;
    auth.username = api::GetString(e, "username");
    auth.password = api::GetString(e, "password");
    if (std::string encoded = api::GetString(e, "auth"); !encoded.empty()) {
      auto decoded = Base64Decode(encoded);
      if (!decoded) return BadDockerConfig("entry \"" + std::string(kv.key()) + "\": auth is not base64");
      auto colon = decoded->find(':');
      if (colon == std::string::npos) {
        return BadDockerConfig("entry \"" + std::string(kv.key()) + "\": auth is not \"username:password\"");
      }
      auth.username = decoded->substr(0, colon);
      auth.password = decoded->substr(colon + 1);
    }
    Url u = ParseSchemeless(kv.key());
    // "/v1/..." and "/v2/..." are the API's, not a repository path: "index.docker.io/v1/" is the host.
    std::string_view path = u.path;
    if (path.starts_with("/v1/") || path.starts_with("/v2/")) path.remove_prefix(3);
    std::string key = u.hostport;
    if (!path.empty() && path != "/") key += path;
    entries_.push_back({std::move(key), std::move(auth)});
  }
  // Longest (most specific) keys first; one key's credentials in the order they were added.
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.key > b.key; });
  return Status::Ok();
}

Status DockerKeyring::AddDockerCfg(std::string_view json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec) return BadDockerConfig("not JSON: " + ec.message());
  if (!v.is_object()) return BadDockerConfig("not an object");
  return AddEntries(v.get_object());
}

Status DockerKeyring::AddDockerConfigJson(std::string_view json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec) return BadDockerConfig("not JSON: " + ec.message());
  if (!v.is_object()) return BadDockerConfig("not an object");
  const json::value* auths = api::Find(v.get_object(), "auths");
  if (auths == nullptr) return Status::Ok();
  if (!auths->is_object()) return BadDockerConfig("auths is not an object");
  return AddEntries(auths->get_object());
}

std::vector<cri::AuthConfig> DockerKeyring::Lookup(const ImageReference& image) const {
  const std::string repository = image.Repository();
  std::vector<cri::AuthConfig> out;
  for (const auto& e : entries_) {
    if (KeyMatches(e.key, repository)) out.push_back(e.auth);
  }
  if (out.empty() && IsDefaultRegistry(repository)) {
    for (const auto& e : entries_) {
      if (e.key == "index.docker.io") out.push_back(e.auth);
    }
  }
  return out;
}

Result<PullCredentials> PullCredentialsFor(const json::object& pod, const ImageReference& image,
                                           const SecretLookup& lookup) {
  PullCredentials out;
  DockerKeyring keyring;
  const std::string ns = api::Namespace(pod);
  for (const auto& ref : api::GetArray(pod, {"spec", "imagePullSecrets"})) {
    if (!ref.is_object()) continue;
    const std::string name = api::GetString(ref.get_object(), "name");
    if (name.empty()) continue;
    auto secret = lookup(ns, name);
    if (!secret.ok()) {
      out.missing.push_back(name + ": " + secret.status().message());
      continue;
    }
    const std::string type = api::GetString(*secret, "type");
    const char* key = type == "kubernetes.io/dockerconfigjson" ? ".dockerconfigjson"
                      : type == "kubernetes.io/dockercfg"      ? ".dockercfg"
                                                               : nullptr;
    if (key == nullptr) continue;
    const std::string encoded = api::GetString(*secret, {"data", key});
    if (encoded.empty()) continue;
    auto decoded = Base64Decode(encoded);
    if (!decoded) return Status(Code::kInvalidArgument, "imagePullSecret " + name + ": data[" + key + "] is not base64");
    Status s = type == "kubernetes.io/dockerconfigjson" ? keyring.AddDockerConfigJson(*decoded)
                                                        : keyring.AddDockerCfg(*decoded);
    if (!s.ok()) return s.Annotate("imagePullSecret " + name);
  }
  out.auths = keyring.Lookup(image);
  return out;
}

}  // namespace kite::kubelet
