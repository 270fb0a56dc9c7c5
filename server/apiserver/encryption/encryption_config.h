// Encryption at rest: upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1, the file
// kube-apiserver reads with --encryption-provider-config and k3s writes to
// <data-dir>/server/cred/encryption-config.json) and the value transformer it describes.
//
// The file: `resources` is a list of {resources: [...], providers: [...]}; a resource is
// "secrets", "<resource>.<group>", "*.<group>" or "*.*". Each provider is exactly one of
// aescbc / aesgcm {keys: [{name, secret: base64 of 16, 24 or 32 bytes}]} or identity {};
// secretbox and kms are refused (not built). JSON or YAML.
//
// Stored values follow upstream byte for byte, so a datastore copied to or from kube-apiserver
// decrypts: "k8s:enc:aescbc:v1:<key name>:" + 16-byte IV + AES-CBC(PKCS#7) ciphertext, and
// "k8s:enc:aesgcm:v1:<key name>:" + 12-byte nonce + AES-GCM ciphertext + 16-byte tag with the
// storage key (/registry/secrets/ns/name) as additional authenticated data. As upstream,
// aescbc has no MAC (upstream deprecates it for aesgcm; k3s still writes aescbc).
//
// For a value under a configured resource: the first provider encrypts (identity: stored as
// is); reading tries the provider whose prefix the value carries, and identity (when listed)
// reads any value without the "k8s:enc:" prefix. Values of other resources pass unchanged.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kite::apiserver::encryption {

struct Key {
  std::string name;
  std::string secret;  // the raw key bytes (decoded from base64)
};

struct Provider {
  enum class Type { kIdentity, kAesCbc, kAesGcm } type = Type::kIdentity;
  std::vector<Key> keys;  // empty for identity
};

struct ResourceConfig {
  std::vector<std::string> resources;
  std::vector<Provider> providers;
};

struct EncryptionConfig {
  std::vector<ResourceConfig> resources;
};

// Decodes and validates the file's text (upstream's rules: the apiVersion and kind, at least one
// resource and provider per entry, exactly one provider type per provider, keys present with
// unique names and a valid length). Never throws.
Result<EncryptionConfig> ParseEncryptionConfig(std::string_view text);
Result<EncryptionConfig> LoadEncryptionConfig(const std::string& path);

// The JSON text of `config` (k3s's layout, one line), base64 keys.
std::string SerializeEncryptionConfig(const EncryptionConfig& config);

// "AES-CBC", "AES-GCM", "Identity" (as `secrets-encrypt status` shows a key's type).
std::string ProviderTypeName(Provider::Type type);

// Applies a config to stored values. Immutable and thread-safe once built.
class Transformer {
 public:
  static Result<std::shared_ptr<const Transformer>> Create(const EncryptionConfig& config);

  // Whether values under this storage key are transformed at all (cheap: a few prefix checks).
  bool Covers(std::string_view key) const;
  // The stored form of `plain` under `key` (the key's first provider). Fails only when the OS
  // gives no random bytes.
  Result<std::string> Encrypt(std::string_view key, std::string_view plain) const;
  // The plain form of a stored value; an error names why (no provider for its prefix, a key
  // that is not configured, a failed authentication).
  Result<std::string> Decrypt(std::string_view key, std::string_view stored) const;
  // Whether `stored` is already in the form Encrypt would write now (the first provider and
  // key): re-encryption skips those.
  bool IsCurrent(std::string_view key, std::string_view stored) const;

  struct Rule;  // one resource entry: its key prefixes and providers

 private:
  const Rule* RuleFor(std::string_view key) const;
  std::vector<std::shared_ptr<const Rule>> rules_;
};

// The storage-key prefixes a resource name of the file covers, as kite stores objects
// (storage/registry.h): "secrets" → {"/registry/secrets/"}, "*.*" → {"/registry/"}.
std::vector<std::string> StoragePrefixesFor(const std::string& resource);

}  // namespace kite::apiserver::encryption
