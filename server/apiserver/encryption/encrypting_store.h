// EncryptingStore: the datastore as the API server sees it when encryption at rest is on. A
// decorator of datastore::Store that encrypts the values it puts under the configured resources
// (encryption_config.h) and decrypts what Range, Txn responses and watch events return, so every
// part of the API server (registry, watch cache, authorizers' followers) sees plain objects
// while the datastore — and anyone reading it through the etcd endpoint — holds ciphertext.
// Everything else (leases, compaction, status) passes through.
//
// The transformer can be swapped at run time (`secrets-encrypt` adds and rotates keys without a
// restart); a request uses the one current when it starts. A stored value no configured key
// decrypts fails the Range that reads it (kube-apiserver fails the GET or LIST the same way); a
// watch event's value that cannot be decrypted is passed on as stored, and logged.
//
// Thread-safe as the wrapped store is.
#pragma once

#include <memory>
#include <mutex>

#include "datastore/store.h"
#include "server/apiserver/encryption/encryption_config.h"

namespace kite::apiserver::encryption {

class EncryptingStore final : public datastore::Store {
 public:
  // `inner` is not owned and must outlive this.
  EncryptingStore(datastore::Store* inner, std::shared_ptr<const Transformer> transformer);

  void SetTransformer(std::shared_ptr<const Transformer> transformer);
  std::shared_ptr<const Transformer> transformer() const;
  datastore::Store* inner() const { return inner_; }

  // Re-encrypts every covered value not already in the current provider's form (a conditional
  // put per key on the inner store; a key written meanwhile is read again). `progress` gets the
  // count after each one. Returns how many were rewritten.
  Result<int64_t> Reencrypt(const std::function<void(int64_t)>& progress = {});

  Result<datastore::RangeResponse> Range(const datastore::RangeRequest& req) override;
  void Txn(datastore::TxnRequest req, TxnCallback done) override;
  void Compact(int64_t revision, bool physical, RevisionCallback done) override {
    inner_->Compact(revision, physical, std::move(done));
  }
  void LeaseGrant(int64_t id, int64_t ttl, LeaseCallback done) override { inner_->LeaseGrant(id, ttl, std::move(done)); }
  void LeaseRevoke(int64_t id, RevisionCallback done) override { inner_->LeaseRevoke(id, std::move(done)); }
  Result<datastore::LeaseInfo> LeaseKeepAlive(int64_t id) override { return inner_->LeaseKeepAlive(id); }
  Result<datastore::LeaseInfo> LeaseTimeToLive(int64_t id, bool keys) override { return inner_->LeaseTimeToLive(id, keys); }
  std::vector<int64_t> Leases() override { return inner_->Leases(); }
  std::unique_ptr<datastore::Watcher> Watch(const datastore::WatchOptions& opts, std::function<void()> wake) override;
  int64_t CurrentRevision() const override { return inner_->CurrentRevision(); }
  datastore::StoreStatus Status() override { return inner_->Status(); }
  Result<uint32_t> HashKV(int64_t revision, int64_t* hash_revision) override { return inner_->HashKV(revision, hash_revision); }
  kite::Status Snapshot(const std::string& path) override { return inner_->Snapshot(path); }
  kite::Status Defragment() override { return inner_->Defragment(); }
  bool NoSpaceAlarm() const override { return inner_->NoSpaceAlarm(); }
  void SetNoSpaceAlarm(bool raised) override { inner_->SetNoSpaceAlarm(raised); }

 private:
  datastore::Store* inner_;
  mutable std::mutex mu_;  // guards transformer_
  std::shared_ptr<const Transformer> transformer_;
  std::mutex reencrypt_mu_;  // one re-encryption at a time
};

}  // namespace kite::apiserver::encryption
