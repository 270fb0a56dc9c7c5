#include "server/serviceaccount/tokens.h"

#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"

namespace kite::serviceaccount {
namespace json = boost::json;

namespace {

// Clock skew allowed between the issuer and the checker (upstream's leeway).
constexpr int64_t kLeeway = 60;

constexpr char kLegacyNamespace[] = "kubernetes.io/serviceaccount/namespace";
constexpr char kLegacySecret[] = "kubernetes.io/serviceaccount/secret.name";
constexpr char kLegacyName[] = "kubernetes.io/serviceaccount/service-account.name";
constexpr char kLegacyUid[] = "kubernetes.io/serviceaccount/service-account.uid";

Status Bad(const std::string& why) { return Status(Code::kUnauthenticated, why); }

json::object RefJson(const ObjectRef& r) { return json::object{{"name", r.name}, {"uid", r.uid}}; }

ObjectRef RefOf(const json::object& o, std::string_view key) {
  const json::object* r = api::FindObject(o, key);
  if (!r) return {};
  return ObjectRef{api::GetString(*r, "name"), api::GetString(*r, "uid")};
}

// A NumericDate claim: a JSON number (integer or not) that fits in int64.
std::optional<int64_t> NumericDate(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double() && v->as_double() > -9.2e18 && v->as_double() < 9.2e18) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

// "aud" is a string or an array of strings (RFC 7519 §4.1.3).
std::vector<std::string> Audiences(const json::object& o) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains("aud");
  if (!v) return out;
  if (v->is_string()) out.emplace_back(v->as_string());
  if (v->is_array()) {
    for (const auto& a : v->as_array()) {
      if (a.is_string()) out.emplace_back(a.as_string());
    }
  }
  return out;
}

// "system:serviceaccount:<ns>:<name>" split, or false.
bool SplitSubject(const std::string& sub, std::string* ns, std::string* name) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (!sub.starts_with(kPrefix)) return false;
  const std::string rest = sub.substr(kPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() || rest.find(':', colon + 1) != std::string::npos) {
    return false;
  }
  *ns = rest.substr(0, colon);
  *name = rest.substr(colon + 1);
  return true;
}

Result<Claims> BoundClaims(const json::object& o, int64_t now, const std::vector<std::string>& audiences) {
  Claims c;
  const json::object* k = api::FindObject(o, "kubernetes.io");
  if (!k) return Bad("token has no kubernetes.io claim");
  c.ns = api::GetString(*k, "namespace");
  c.service_account = RefOf(*k, "serviceaccount");
  c.pod = RefOf(*k, "pod");
  c.secret = RefOf(*k, "secret");
  c.node = RefOf(*k, "node");
  std::string ns, name;
  if (!SplitSubject(api::GetString(o, "sub"), &ns, &name) || ns != c.ns || name != c.service_account.name ||
      c.service_account.uid.empty()) {
    return Bad("token's subject does not match its service account claims");
  }
  c.audiences = Audiences(o);
  c.id = api::GetString(o, "jti");
  auto exp = NumericDate(o, "exp"), iat = NumericDate(o, "iat"), nbf = NumericDate(o, "nbf");
  if (!exp) return Bad("token has no expiry");
  c.expires = *exp;
  c.issued_at = iat.value_or(0);
  c.not_before = nbf.value_or(c.issued_at);
  if (now > c.expires + kLeeway) return Bad("token has expired");
  if (nbf && now + kLeeway < *nbf) return Bad("token is not valid yet");
  if (iat && now + kLeeway < *iat) return Bad("token is issued in the future");
  const bool audience_ok = std::any_of(c.audiences.begin(), c.audiences.end(), [&](const std::string& a) {
    return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
  });
  if (!audience_ok) return Bad("token audiences are invalid");
  return c;
}

Result<Claims> LegacyClaims(const json::object& o) {
  Claims c;
  c.legacy = true;
  c.ns = api::GetString(o, kLegacyNamespace);
  c.service_account = ObjectRef{api::GetString(o, kLegacyName), api::GetString(o, kLegacyUid)};
  c.secret = ObjectRef{api::GetString(o, kLegacySecret), ""};
  std::string ns, name;
  if (!SplitSubject(api::GetString(o, "sub"), &ns, &name) || ns != c.ns || name != c.service_account.name ||
      c.secret.name.empty()) {
    return Bad("legacy token's subject does not match its claims");
  }
  return c;
}

}  // namespace

std::vector<std::string> ApiAudiences() { return {kIssuer, "k3s"}; }

std::string UserName(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

json::object ToJson(const Claims& c) {
  if (c.legacy) {
    return json::object{{"iss", kLegacyIssuer},
                        {kLegacyNamespace, c.ns},
                        {kLegacySecret, c.secret.name},
                        {kLegacyName, c.service_account.name},
                        {kLegacyUid, c.service_account.uid},
                        {"sub", UserName(c.ns, c.service_account.name)}};
  }
  json::object k{{"namespace", c.ns}, {"serviceaccount", RefJson(c.service_account)}};
  if (!c.pod.empty()) k["pod"] = RefJson(c.pod);
  if (!c.secret.empty()) k["secret"] = RefJson(c.secret);
  if (!c.node.empty()) k["node"] = RefJson(c.node);
  json::array aud;
  for (const auto& a : c.audiences) aud.emplace_back(a);
  return json::object{{"aud", std::move(aud)},
                      {"exp", c.expires},
                      {"iat", c.issued_at},
                      {"iss", kIssuer},
                      {"jti", c.id},
                      {"kubernetes.io", std::move(k)},
                      {"nbf", c.not_before},
                      {"sub", UserName(c.ns, c.service_account.name)}};
}

Result<std::string> Issue(const jwt::Key& key, Claims c) {
  if (!c.legacy && c.id.empty()) c.id = NewTokenId();
  return jwt::Sign(key, ToJson(c));
}

Result<Claims> Verify(std::string_view token, const std::vector<jwt::Key>& keys, int64_t now,
                      const std::vector<std::string>& audiences, bool allow_legacy) {
  auto parsed = jwt::Parse(token);
  if (!parsed.ok()) return parsed.status();
  const std::string iss = api::GetString(parsed->claims, "iss");
  if (iss != kIssuer && !(allow_legacy && iss == kLegacyIssuer)) return Bad("token has an unknown issuer");
  if (!jwt::Verify(*parsed, keys)) return Bad("token signature is invalid");
  if (iss == kLegacyIssuer) return LegacyClaims(parsed->claims);
  return BoundClaims(parsed->claims, now, audiences);
}

std::string NewTokenId() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

}  // namespace kite::serviceaccount
