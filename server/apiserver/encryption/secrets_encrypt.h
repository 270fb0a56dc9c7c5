// SecretsEncryption: k3s's secrets-encryption workflow for kite-server's --secrets-encryption.
//
// Files (k3s's): <data-dir>/server/cred/encryption-config.json, the EncryptionConfiguration
// (created at the first start with one random 32-byte AES-CBC key "aescbckey" before identity,
// mode 0600), and encryption-state.json, "<stage>-<sha256 of the config file>" (k3s keeps the
// same string in a node annotation for its HA servers; kite has one server).
//
// Stages and verbs, as `k3s secrets-encrypt`: start → prepare (a new key is added last: it
// decrypts, nothing is written with it yet) → rotate (keys right-rotated: the new key first,
// so it encrypts) → reencrypt (every secret rewritten with the first key, then the last, old key
// removed) → reencrypt_finished. rotate-keys does all three at once. enable/disable put aescbc or
// identity first and re-encrypt keeping every key (--skip). A verb out of order is refused
// unless forced (prepare/rotate/reencrypt --force). Unlike k3s, no restart is needed between
// stages: the new configuration takes effect at once (EncryptingStore::SetTransformer).
// Re-encryption runs on a thread of its own; status shows reencrypt_active until it is done.
//
// The HTTP face, behind the API server's authentication and authorization (non-resource
// paths, so cluster-admin): GET /kite/v1/encrypt/status answers k3s's EncryptionState JSON
// ({"stage","activekey","enable","hashmatch","inactivekeys"}), PUT /kite/v1/encrypt/config
// takes k3s's EncryptionRequest ({"stage": prepare|rotate|rotate_keys|reencrypt_active,
// "enable": bool, "force", "skip"}).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "datastore/store.h"
#include "server/apiserver/encryption/encrypting_store.h"

namespace kite::apiserver::encryption {

inline constexpr const char* kStatusPath = "/kite/v1/encrypt/status";
inline constexpr const char* kConfigPath = "/kite/v1/encrypt/config";

class SecretsEncryption {
 public:
  // Reads (or at the first start creates) the configuration under <data_dir>/server/cred and
  // wraps `store` with it. `store` must outlive this.
  static Result<std::unique_ptr<SecretsEncryption>> Open(const std::string& data_dir, datastore::Store* store);
  ~SecretsEncryption();

  // The store the API server must use.
  datastore::Store* store() { return &encrypting_; }

  // k3s's EncryptionState as JSON text.
  Result<std::string> StatusJson();
  // Carries out one EncryptionRequest (JSON text); a refusal says why (HTTP 400).
  kite::Status Apply(const std::string& request_json);

  // Waits for a running re-encryption (tests, shutdown).
  void Wait();

  std::string config_path() const { return config_path_; }

 private:
  SecretsEncryption(std::string dir, datastore::Store* store, std::shared_ptr<const Transformer> t);
  kite::Status WriteConfig(const EncryptionConfig& c);  // the file, then the transformer
  kite::Status WriteStage(const std::string& stage);     // with the current config's hash
  Result<std::string> Stage();                           // "" when the state file is missing
  kite::Status CheckStage(const std::string& allowed, bool force);
  kite::Status StartReencrypt(bool skip);

  std::string dir_, config_path_, state_path_;
  EncryptingStore encrypting_;
  std::mutex mu_;  // one verb at a time; guards the files and worker_
  std::thread worker_;
  bool active_ = false;  // guarded by mu_: a re-encryption is running
};

}  // namespace kite::apiserver::encryption
