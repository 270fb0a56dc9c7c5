#include "server/apiserver/encryption/encryption_config.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "api/object.h"
#include "api/resources.h"
#include "api/yaml_json.h"
#include "base/encoding.h"

namespace kite::apiserver::encryption {
namespace json = boost::json;

namespace {

constexpr std::string_view kEncPrefix = "k8s:enc:";
constexpr size_t kCbcIv = 16, kGcmNonce = 12, kGcmTag = 16;

Status Bad(const std::string& why) { return Status(Code::kInvalidArgument, "encryption config: " + why); }

const char* TypeWord(Provider::Type t) {
  switch (t) {
    case Provider::Type::kAesCbc: return "aescbc";
    case Provider::Type::kAesGcm: return "aesgcm";
    case Provider::Type::kIdentity: return "identity";
  }
  return "identity";
}

const EVP_CIPHER* Cipher(Provider::Type t, size_t key_len) {
  const bool gcm = t == Provider::Type::kAesGcm;
  switch (key_len) {
    case 16: return gcm ? EVP_aes_128_gcm() : EVP_aes_128_cbc();
    case 24: return gcm ? EVP_aes_192_gcm() : EVP_aes_192_cbc();
    case 32: return gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
  }
  return nullptr;
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Result<std::string> Seal(Provider::Type type, const std::string& key, std::string_view aad, std::string_view plain) {
  const EVP_CIPHER* cipher = Cipher(type, key.size());
  const bool gcm = type == Provider::Type::kAesGcm;
  const size_t iv_len = gcm ? kGcmNonce : kCbcIv;
  std::string out(iv_len + plain.size() + 16 + (gcm ? kGcmTag : 0), '\0');
  if (RAND_bytes(U(out), static_cast<int>(iv_len)) != 1) return Status(Code::kInternal, "no random bytes for the IV");
  CipherCtx c;
  int n = 0, m = 0;
  if (!c.ctx || EVP_EncryptInit_ex(c.ctx, cipher, nullptr, nullptr, nullptr) != 1 ||
      (gcm && EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv_len), nullptr) != 1) ||
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, U(key), U(out)) != 1 ||
      (gcm && EVP_EncryptUpdate(c.ctx, nullptr, &n, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(c.ctx, U(out) + iv_len, &n, U(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(c.ctx, U(out) + iv_len + n, &m) != 1) {
    return Status(Code::kInternal, "encryption failed");
  }
  size_t len = iv_len + static_cast<size_t>(n + m);
  if (gcm) {
    if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kGcmTag, U(out) + len) != 1) {
      return Status(Code::kInternal, "encryption failed");
    }
    len += kGcmTag;
  }
  out.resize(len);
  return out;
}

Result<std::string> Open(Provider::Type type, const std::string& key, std::string_view aad, std::string_view data) {
  const EVP_CIPHER* cipher = Cipher(type, key.size());
  const bool gcm = type == Provider::Type::kAesGcm;
  const size_t iv_len = gcm ? kGcmNonce : kCbcIv;
  if (data.size() < iv_len + (gcm ? kGcmTag : kCbcIv)) return Status(Code::kDataLoss, "the stored data was shorter than the required size");
  std::string_view iv = data.substr(0, iv_len), body = data.substr(iv_len);
  std::string tag;
  if (gcm) {
    tag.assign(body.substr(body.size() - kGcmTag));
    body.remove_suffix(kGcmTag);
  } else if (body.size() % 16 != 0) {
    return Status(Code::kDataLoss, "the stored data is not a multiple of the block size");
  }
  std::string out(body.size() + 16, '\0');
  CipherCtx c;
  int n = 0, m = 0;
  if (!c.ctx || EVP_DecryptInit_ex(c.ctx, cipher, nullptr, nullptr, nullptr) != 1 ||
      (gcm && EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv_len), nullptr) != 1) ||
      EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, U(key), U(iv)) != 1 ||
      (gcm && EVP_DecryptUpdate(c.ctx, nullptr, &n, U(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(c.ctx, U(out), &n, U(body), static_cast<int>(body.size())) != 1 ||
      (gcm && EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kGcmTag, U(tag)) != 1) ||
      EVP_DecryptFinal_ex(c.ctx, U(out) + n, &m) != 1) {
    return Status(Code::kDataLoss, gcm ? "cipher: message authentication failed" : "invalid PKCS7 padding");
  }
  out.resize(static_cast<size_t>(n + m));
  return out;
}

std::string PrefixOf(const Provider& p, const Key& k) {
  return std::string(kEncPrefix) + TypeWord(p.type) + ":v1:" + k.name + ":";
}

Result<Provider> ParseProvider(const json::object& o, size_t index) {
  const std::string where = "providers[" + std::to_string(index) + "]";
  Provider p;
  int kinds = 0;
  for (const auto& kv : o) {
    const std::string_view k = kv.key();
    if (k == "identity") {
      p.type = Provider::Type::kIdentity;
    } else if (k == "aescbc") {
      p.type = Provider::Type::kAesCbc;
    } else if (k == "aesgcm") {
      p.type = Provider::Type::kAesGcm;
    } else if (k == "secretbox" || k == "kms") {
      return Bad(where + ": the " + std::string(k) + " provider is not supported (use aescbc, aesgcm or identity)");
    } else {
      return Bad(where + ": unknown field \"" + std::string(k) + "\"");
    }
    ++kinds;
  }
  if (kinds != 1) return Bad(where + ": exactly one provider must be configured");
  if (p.type == Provider::Type::kIdentity) return p;
  const json::value& body = o.begin()->value();
  if (!body.is_object()) return Bad(where + ": must be an object");
  const json::array* keys = api::FindArray(body.as_object(), "keys");
  if (!keys || keys->empty()) return Bad(where + ".keys: Required value: keys list cannot be empty");
  std::set<std::string> names;
  for (size_t i = 0; i < keys->size(); ++i) {
    const std::string kwhere = where + ".keys[" + std::to_string(i) + "]";
    if (!(*keys)[i].is_object()) return Bad(kwhere + ": must be an object");
    const json::object& ko = (*keys)[i].as_object();
    Key key{api::GetString(ko, "name"), ""};
    if (key.name.empty()) return Bad(kwhere + ".name: Required value: key name is required");
    if (!names.insert(key.name).second) return Bad(kwhere + ".name: Duplicate value: \"" + key.name + "\"");
    auto secret = Base64Decode(api::GetString(ko, "secret"));
    if (!secret || secret->empty()) return Bad(kwhere + ".secret: Required value: secret is required (base64)");
    if (!Cipher(p.type, secret->size())) {
      return Bad(kwhere + ".secret: Invalid value: secret is not of the expected length, got " +
                 std::to_string(secret->size()) + ", expected one of [16 24 32]");
    }
    key.secret = std::move(*secret);
    p.keys.push_back(std::move(key));
  }
  return p;
}

}  // namespace

struct Transformer::Rule {
  std::vector<std::string> prefixes;
  std::vector<Provider> providers;
};

std::string ProviderTypeName(Provider::Type type) {
  switch (type) {
    case Provider::Type::kAesCbc: return "AES-CBC";
    case Provider::Type::kAesGcm: return "AES-GCM";
    case Provider::Type::kIdentity: return "Identity";
  }
  return "Identity";
}

std::vector<std::string> StoragePrefixesFor(const std::string& resource) {
  if (resource == "*.*") return {"/registry/"};
  const size_t dot = resource.find('.');
  const std::string name = resource.substr(0, dot);
  const std::string group = dot == std::string::npos ? "" : resource.substr(dot + 1);
  std::vector<std::string> out;
  for (const auto& r : api::BuiltinResources()) {
    if (r.group != group || r.resource.find('/') != std::string::npos) continue;
    if (name != "*" && r.resource != name) continue;
    std::string p = "/registry/" + r.resource + "/";
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  // Custom resources live under their group (storage/registry.h).
  if (out.empty() && !group.empty()) out.push_back("/registry/" + group + "/" + (name == "*" ? "" : name + "/"));
  if (out.empty()) out.push_back("/registry/" + name + "/");
  return out;
}

Result<EncryptionConfig> ParseEncryptionConfig(std::string_view text) {
  auto v = api::YamlToJson(text);
  if (!v.ok()) return Bad(v.status().message());
  if (!v->is_object()) return Bad("must be an object");
  const json::object& o = v->as_object();
  if (api::GetString(o, "kind") != "EncryptionConfiguration") return Bad("kind must be EncryptionConfiguration");
  if (api::GetString(o, "apiVersion") != "apiserver.config.k8s.io/v1") {
    return Bad("apiVersion must be apiserver.config.k8s.io/v1");
  }
  const json::array* resources = api::FindArray(o, "resources");
  if (!resources || resources->empty()) return Bad("resources: Required value: resources list cannot be empty");
  EncryptionConfig config;
  for (size_t i = 0; i < resources->size(); ++i) {
    const std::string where = "resources[" + std::to_string(i) + "]";
    if (!(*resources)[i].is_object()) return Bad(where + ": must be an object");
    const json::object& ro = (*resources)[i].as_object();
    ResourceConfig rc;
    for (const auto& r : api::GetArray(ro, "resources")) {
      if (!r.is_string() || r.as_string().empty()) return Bad(where + ".resources: must be non-empty strings");
      rc.resources.emplace_back(r.as_string());
    }
    if (rc.resources.empty()) return Bad(where + ".resources: Required value: resources list cannot be empty");
    const json::array& providers = api::GetArray(ro, "providers");
    if (providers.empty()) return Bad(where + ".providers: Required value: providers list cannot be empty");
    for (size_t j = 0; j < providers.size(); ++j) {
      if (!providers[j].is_object()) return Bad(where + ".providers[" + std::to_string(j) + "]: must be an object");
      auto p = ParseProvider(providers[j].as_object(), j);
      if (!p.ok()) return p.status();
      rc.providers.push_back(std::move(*p));
    }
    config.resources.push_back(std::move(rc));
  }
  return config;
}

Result<EncryptionConfig> LoadEncryptionConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseEncryptionConfig(ss.str());
  if (!c.ok()) return c.status().Annotate(path);
  return c;
}

std::string SerializeEncryptionConfig(const EncryptionConfig& config) {
  json::array resources;
  for (const auto& rc : config.resources) {
    json::array names(rc.resources.begin(), rc.resources.end());
    json::array providers;
    for (const auto& p : rc.providers) {
      json::object body;
      if (p.type != Provider::Type::kIdentity) {
        json::array keys;
        for (const auto& k : p.keys) keys.push_back(json::object{{"name", k.name}, {"secret", Base64Encode(k.secret)}});
        body["keys"] = std::move(keys);
      }
      providers.push_back(json::object{{TypeWord(p.type), std::move(body)}});
    }
    resources.push_back(json::object{{"resources", std::move(names)}, {"providers", std::move(providers)}});
  }
  json::object o{{"kind", "EncryptionConfiguration"},
                 {"apiVersion", "apiserver.config.k8s.io/v1"},
                 {"resources", std::move(resources)}};
  return json::serialize(o);
}

Result<std::shared_ptr<const Transformer>> Transformer::Create(const EncryptionConfig& config) {
  auto t = std::make_shared<Transformer>();
  std::set<std::string> seen;
  for (const auto& rc : config.resources) {
    auto rule = std::make_shared<Rule>();
    rule->providers = rc.providers;
    for (const auto& r : rc.resources) {
      // As upstream: the first entry naming a resource wins; later ones for it are ignored.
      for (auto& p : StoragePrefixesFor(r)) {
        if (seen.insert(p).second) rule->prefixes.push_back(std::move(p));
      }
    }
    if (!rule->prefixes.empty()) t->rules_.push_back(std::move(rule));
  }
  return std::shared_ptr<const Transformer>(std::move(t));
}

const Transformer::Rule* Transformer::RuleFor(std::string_view key) const {
  // The longest matching prefix: "secrets" listed after "*.*" still gets its own providers.
  const Rule* best = nullptr;
  size_t best_len = 0;
  for (const auto& r : rules_) {
    for (const auto& p : r->prefixes) {
      if (p.size() > best_len && key.substr(0, p.size()) == p) {
        best = r.get();
        best_len = p.size();
      }
    }
  }
  return best;
}

bool Transformer::Covers(std::string_view key) const { return RuleFor(key) != nullptr; }

Result<std::string> Transformer::Encrypt(std::string_view key, std::string_view plain) const {
  const Rule* r = RuleFor(key);
  if (!r || r->providers.empty() || r->providers[0].type == Provider::Type::kIdentity) return std::string(plain);
  const Provider& p = r->providers[0];
  const Key& k = p.keys[0];
  auto sealed = Seal(p.type, k.secret, key, plain);
  if (!sealed.ok()) return sealed.status();
  return PrefixOf(p, k) + *sealed;
}

Result<std::string> Transformer::Decrypt(std::string_view key, std::string_view stored) const {
  const Rule* r = RuleFor(key);
  if (!r) return std::string(stored);
  const bool encrypted = stored.substr(0, kEncPrefix.size()) == kEncPrefix;
  for (const auto& p : r->providers) {
    if (p.type == Provider::Type::kIdentity) {
      if (!encrypted) return std::string(stored);
      continue;
    }
    for (const auto& k : p.keys) {
      const std::string prefix = PrefixOf(p, k);
      if (stored.substr(0, prefix.size()) != prefix) continue;
      auto plain = Open(p.type, k.secret, key, stored.substr(prefix.size()));
      if (!plain.ok()) return plain.status().Annotate("decrypting " + std::string(key) + " with key " + k.name);
      return plain;
    }
  }
  if (!encrypted) return Status(Code::kDataLoss, "no matching prefix found for " + std::string(key) + " (identity is not configured)");
  const size_t end = stored.find(':', stored.find(':', stored.find(':', kEncPrefix.size()) + 1) + 1);
  return Status(Code::kDataLoss, "no configured key decrypts " + std::string(key) + " (stored with " +
                                     std::string(stored.substr(0, std::min(end, size_t{64}))) + ")");
}

bool Transformer::IsCurrent(std::string_view key, std::string_view stored) const {
  const Rule* r = RuleFor(key);
  if (!r || r->providers.empty()) return true;
  const Provider& p = r->providers[0];
  if (p.type == Provider::Type::kIdentity) return stored.substr(0, kEncPrefix.size()) != kEncPrefix;
  const std::string prefix = PrefixOf(p, p.keys[0]);
  return stored.substr(0, prefix.size()) == prefix;
}

}  // namespace kite::apiserver::encryption
