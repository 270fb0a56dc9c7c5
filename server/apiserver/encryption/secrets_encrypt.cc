#include "server/apiserver/encryption/secrets_encrypt.h"

#include <openssl/rand.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/object.h"
#include "api/time.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/pki.h"

namespace kite::apiserver::encryption {
namespace json = boost::json;

namespace {

constexpr const char* kStart = "start";
constexpr const char* kPrepare = "prepare";
constexpr const char* kRotate = "rotate";
constexpr const char* kReencryptRequest = "reencrypt_request";
constexpr const char* kReencryptActive = "reencrypt_active";
constexpr const char* kReencryptFinished = "reencrypt_finished";
constexpr const char* kRotateKeys = "rotate_keys";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Key> NewKey(const std::string& name) {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) {
    return Status(Code::kInternal, "no random bytes for a key");
  }
  return Key{name, std::move(secret)};
}

// "aescbckey-2026-12-05T18:30:00Z", as k3s names added keys.
std::string KeyNameNow() { return "aescbckey-" + api::FormatTime(Clock::Real()->Now()); }

// k3s's layout: one entry for secrets, aescbc and identity in the order that says enabled or not.
// What else a user put in the file is refused: the workflow would not know what to keep.
struct Layout {
  std::vector<Key> keys;
  bool enabled = true;
};

Result<Layout> ReadLayout(const EncryptionConfig& c) {
  if (c.resources.size() != 1 || c.resources[0].providers.size() != 2) {
    return Status(Code::kFailedPrecondition, "the encryption config is not the one kite-server writes (one resource "
                                             "entry with an aescbc and an identity provider); edit it by hand instead");
  }
  const auto& p = c.resources[0].providers;
  Layout l;
  if (p[0].type == Provider::Type::kAesCbc && p[1].type == Provider::Type::kIdentity) {
    l.keys = p[0].keys;
  } else if (p[0].type == Provider::Type::kIdentity && p[1].type == Provider::Type::kAesCbc) {
    l.keys = p[1].keys;
    l.enabled = false;
  } else {
    return Status(Code::kFailedPrecondition, "non-standard encryption keys found");
  }
  return l;
}

EncryptionConfig MakeConfig(const Layout& l) {
  Provider aes{Provider::Type::kAesCbc, l.keys}, identity{};
  ResourceConfig rc;
  rc.resources = {"secrets"};
  rc.providers = l.enabled ? std::vector<Provider>{aes, identity} : std::vector<Provider>{identity, aes};
  return EncryptionConfig{{rc}};
}

}  // namespace

SecretsEncryption::SecretsEncryption(std::string dir, datastore::Store* store, std::shared_ptr<const Transformer> t)
    : dir_(std::move(dir)), config_path_(dir_ + "/encryption-config.json"), state_path_(dir_ + "/encryption-state.json"),
      encrypting_(store, std::move(t)) {}

SecretsEncryption::~SecretsEncryption() { Wait(); }

Result<std::unique_ptr<SecretsEncryption>> SecretsEncryption::Open(const std::string& data_dir, datastore::Store* store) {
  const std::string dir = (std::filesystem::path(data_dir) / "server" / "cred").string();
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return Status(Code::kInternal, "creating " + dir + ": " + ec.message());
  const std::string path = dir + "/encryption-config.json";
  bool created = false;
  if (!std::filesystem::exists(path)) {
    auto key = NewKey("aescbckey");
    if (!key.ok()) return key.status();
    auto w = WriteFileIfChanged(path, SerializeEncryptionConfig(MakeConfig(Layout{{*key}, true})), 0600);
    if (!w.ok()) return w.status();
    created = true;
  }
  auto config = LoadEncryptionConfig(path);
  if (!config.ok()) return config.status();
  auto t = Transformer::Create(*config);
  if (!t.ok()) return t.status();
  std::unique_ptr<SecretsEncryption> se(new SecretsEncryption(dir, store, std::move(*t)));
  if (created || !std::filesystem::exists(se->state_path_)) {
    if (auto s = se->WriteStage(kStart); !s.ok()) return s;
  }
  return se;
}

void SecretsEncryption::Wait() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = std::move(worker_);
  }
  if (t.joinable()) t.join();
}

kite::Status SecretsEncryption::WriteConfig(const EncryptionConfig& c) {
  auto t = Transformer::Create(c);
  if (!t.ok()) return t.status();
  auto w = WriteFileIfChanged(config_path_, SerializeEncryptionConfig(c), 0600);
  if (!w.ok()) return w.status();
  encrypting_.SetTransformer(std::move(*t));
  return {};
}

kite::Status SecretsEncryption::WriteStage(const std::string& stage) {
  auto w = WriteFileIfChanged(state_path_, stage + "-" + pki::Sha256Hex(ReadText(config_path_)), 0600);
  return w.ok() ? kite::Status() : w.status();
}

Result<std::string> SecretsEncryption::Stage() {
  const std::string state = ReadText(state_path_);
  if (state.empty()) return std::string();
  const size_t dash = state.rfind('-');
  if (dash == std::string::npos) return Status(Code::kFailedPrecondition, "invalid state " + state + " in " + state_path_);
  return state.substr(0, dash);
}

kite::Status SecretsEncryption::CheckStage(const std::string& allowed, bool force) {
  if (active_) return Status(Code::kFailedPrecondition, "another reencrypt is already active");
  auto stage = Stage();
  if (!stage.ok()) return stage.status();
  if (force) return {};
  // As k3s: "start-reencrypt_finished" allows either.
  for (size_t b = 0; b <= allowed.size();) {
    size_t e = allowed.find('-', b);
    if (e == std::string::npos) e = allowed.size();
    if (allowed.substr(b, e - b) == *stage) return {};
    b = e + 1;
  }
  return Status(Code::kFailedPrecondition, "incorrect stage: " + *stage + " found on this server");
}

Result<std::string> SecretsEncryption::StatusJson() {
  std::lock_guard<std::mutex> lock(mu_);
  json::object o;
  auto config = LoadEncryptionConfig(config_path_);
  if (!config.ok()) return config.status();
  auto stage = Stage();
  if (!stage.ok()) return stage.status();
  o["stage"] = active_ ? std::string(kReencryptActive) : *stage;
  o["hashmatch"] = true;  // one server: its file is the cluster's
  json::array inactive;
  std::string active_key;
  bool first = true;
  bool enabled = false;
  for (const auto& rc : config->resources) {
    for (size_t i = 0; i < rc.providers.size(); ++i) {
      const Provider& p = rc.providers[i];
      if (i == 0) enabled = p.type != Provider::Type::kIdentity;
      for (const auto& k : p.keys) {
        if (first) active_key = k.name;
        else inactive.push_back(json::string(k.name));
        first = false;
      }
      if (p.type == Provider::Type::kIdentity) first = false;
    }
    break;  // the secrets entry
  }
  o["enable"] = enabled;
  o["activekey"] = active_key;
  if (!inactive.empty()) o["inactivekeys"] = std::move(inactive);
  return json::serialize(o);
}

kite::Status SecretsEncryption::StartReencrypt(bool skip) {
  // Caller holds mu_.
  auto previous = Stage();
  if (!previous.ok()) return previous.status();
  if (auto s = WriteStage(kReencryptRequest); !s.ok()) return s;
  if (worker_.joinable()) worker_.join();
  active_ = true;
  worker_ = std::thread([this, skip, previous = *previous] {
    auto n = encrypting_.Reencrypt();
    std::lock_guard<std::mutex> lock(mu_);
    active_ = false;
    if (!n.ok()) {
      KITE_LOG(0) << "secrets-encrypt: reencrypt failed: " << n.status().message();
      (void)WriteStage(previous);
      return;
    }
    KITE_LOG(0) << "secrets-encrypt: reencrypted " << *n << " secrets";
    if (skip) {
      (void)WriteStage(previous);  // as k3s: --skip keeps every key and goes back to the stage before
      return;
    }
    auto config = LoadEncryptionConfig(config_path_);
    auto layout = config.ok() ? ReadLayout(*config) : Result<Layout>(config.status());
    if (layout.ok() && layout->keys.size() > 1) {
      KITE_LOG(0) << "secrets-encrypt: removed key " << layout->keys.back().name;
      layout->keys.pop_back();
      if (auto s = WriteConfig(MakeConfig(*layout)); !s.ok()) KITE_LOG(0) << "secrets-encrypt: " << s.message();
    }
    (void)WriteStage(kReencryptFinished);
  });
  return {};
}

kite::Status SecretsEncryption::Apply(const std::string& request_json) {
  boost::system::error_code ec;
  json::value v = json::parse(request_json, ec);
  if (ec || !v.is_object()) return Status(Code::kInvalidArgument, "the request must be a JSON object");
  const json::object& req = v.as_object();
  const bool force = api::GetBool(req, "force"), skip = api::GetBool(req, "skip");
  std::lock_guard<std::mutex> lock(mu_);
  auto config = LoadEncryptionConfig(config_path_);
  if (!config.ok()) return config.status();
  auto layout = ReadLayout(*config);
  if (!layout.ok()) return layout.status();
  if (const json::value* stage = req.if_contains("stage"); stage && stage->is_string()) {
    const std::string want(stage->as_string());
    if (want == kPrepare) {
      if (auto s = CheckStage(std::string(kStart) + "-" + kReencryptFinished, force); !s.ok()) return s;
      auto key = NewKey(KeyNameNow());
      if (!key.ok()) return key.status();
      KITE_LOG(0) << "secrets-encrypt: adding key " << key->name;
      layout->keys.push_back(std::move(*key));
      if (auto s = WriteConfig(MakeConfig(*layout)); !s.ok()) return s;
      return WriteStage(kPrepare);
    }
    if (want == kRotate) {
      if (auto s = CheckStage(kPrepare, force); !s.ok()) return s;
      std::rotate(layout->keys.rbegin(), layout->keys.rbegin() + 1, layout->keys.rend());
      KITE_LOG(0) << "secrets-encrypt: keys right rotated";
      if (auto s = WriteConfig(MakeConfig(*layout)); !s.ok()) return s;
      return WriteStage(kRotate);
    }
    if (want == kReencryptActive) {
      if (auto s = CheckStage(kRotate, force); !s.ok()) return s;
      return StartReencrypt(skip);
    }
    if (want == kRotateKeys) {
      if (auto s = CheckStage(std::string(kStart) + "-" + kReencryptFinished, false); !s.ok()) return s;
      auto key = NewKey(KeyNameNow());
      if (!key.ok()) return key.status();
      KITE_LOG(0) << "secrets-encrypt: adding and rotating to key " << key->name;
      layout->keys.insert(layout->keys.begin(), std::move(*key));
      if (auto s = WriteConfig(MakeConfig(*layout)); !s.ok()) return s;
      return StartReencrypt(false);
    }
    return Status(Code::kInvalidArgument, "unknown stage " + want + " requested");
  }
  if (const json::value* enable = req.if_contains("enable"); enable && enable->is_bool()) {
    if (active_) return Status(Code::kFailedPrecondition, "another reencrypt is already active");
    if (layout->enabled == enable->as_bool()) {
      KITE_LOG(0) << "secrets-encrypt: encryption already " << (layout->enabled ? "enabled" : "disabled");
      return {};
    }
    layout->enabled = enable->as_bool();
    KITE_LOG(0) << "secrets-encrypt: " << (layout->enabled ? "enabling" : "disabling") << " secrets encryption";
    if (auto s = WriteConfig(MakeConfig(*layout)); !s.ok()) return s;
    return StartReencrypt(true);
  }
  return Status(Code::kInvalidArgument, "the request names no stage and no enable");
}

}  // namespace kite::apiserver::encryption
