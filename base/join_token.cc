#include "base/join_token.h"

#include <openssl/rand.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include "base/pki.h"

namespace kite {

namespace {
constexpr std::string_view kPrefix = "K10";
constexpr size_t kHashLength = 64;  // sha256, hex

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}
}  // namespace

Result<JoinToken> ParseJoinToken(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.empty()) return Status(Code::kInvalidArgument, "the join token is empty");
  JoinToken t;
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    t.secret = std::string(text);  // a bare secret
    return t;
  }
  std::string_view rest = text.substr(kPrefix.size());
  const size_t sep = rest.find("::");
  if (sep == std::string_view::npos) {
    return Status(Code::kInvalidArgument, "the join token starts with K10 but has no '::' before user:secret");
  }
  std::string_view hash = rest.substr(0, sep), creds = rest.substr(sep + 2);
  if (!hash.empty() && (hash.size() != kHashLength || !IsHex(hash))) {
    return Status(Code::kInvalidArgument, "the join token's CA hash is not 64 hex digits (a sha256)");
  }
  const size_t colon = creds.find(':');
  if (colon == std::string_view::npos || colon + 1 == creds.size()) {
    return Status(Code::kInvalidArgument, "the join token has no user:secret after '::'");
  }
  t.ca_hash.reserve(hash.size());
  for (char c : hash) t.ca_hash += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t.user = std::string(creds.substr(0, colon));
  t.secret = std::string(creds.substr(colon + 1));
  return t;
}

std::string CaBundleHash(const std::string& ca_bundle) { return pki::Sha256Hex(ca_bundle); }

std::string FormatJoinToken(const std::string& ca_bundle, const std::string& user, const std::string& secret) {
  return std::string(kPrefix) + CaBundleHash(ca_bundle) + "::" + user + ":" + secret;
}

std::string RandomSecret() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing safe to do
  std::string out;
  char buf[3];
  for (unsigned char b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

namespace {

constexpr std::pair<const char*, std::string ClusterSettings::*> kSettingKeys[] = {
    {"clusterCIDR", &ClusterSettings::cluster_cidr},     {"serviceCIDR", &ClusterSettings::service_cidr},
    {"clusterDNS", &ClusterSettings::cluster_dns},       {"clusterDomain", &ClusterSettings::cluster_domain},
    {"flannelBackend", &ClusterSettings::flannel_backend}, {"networkPolicy", &ClusterSettings::network_policy}};

}  // namespace

std::string EncodeClusterSettings(const ClusterSettings& s) {
  YAML::Emitter out;
  out.SetStringFormat(YAML::DoubleQuoted);
  out.SetMapFormat(YAML::Flow);
  out << YAML::BeginMap;
  for (const auto& [key, field] : kSettingKeys) out << YAML::Key << key << YAML::Value << s.*field;
  out << YAML::EndMap;
  return out.c_str();  // a flow map of double-quoted strings is JSON
}

Result<ClusterSettings> DecodeClusterSettings(const std::string& text) {
  ClusterSettings s;
  try {
    const YAML::Node doc = YAML::Load(text);
    if (!doc.IsMap()) return Status(Code::kInvalidArgument, "cluster settings: not a JSON object");
    for (const auto& [key, field] : kSettingKeys) {
      if (const YAML::Node v = doc[key]; v) {
        if (!v.IsScalar()) return Status(Code::kInvalidArgument, std::string("cluster settings: ") + key + " is not a string");
        s.*field = v.as<std::string>();
      }
    }
  } catch (const YAML::Exception& e) {
    return Status(Code::kInvalidArgument, std::string("cluster settings: ") + e.what());
  }
  return s;
}

}  // namespace kite
