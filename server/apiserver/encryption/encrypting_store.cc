#include "server/apiserver/encryption/encrypting_store.h"

#include "base/log.h"

namespace kite::apiserver::encryption {
namespace ds = datastore;

namespace {

// Decrypts kv's value in place when its key is covered.
kite::Status DecryptKv(const Transformer& t, ds::KeyValue& kv) {
  if (!kv.value || !t.Covers(kv.key)) return {};
  auto plain = t.Decrypt(kv.key, *kv.value);
  if (!plain.ok()) return plain.status();
  kv.value = std::make_shared<const std::string>(std::move(*plain));
  return {};
}

kite::Status EncryptOps(const Transformer& t, std::vector<ds::RequestOp>& ops);

kite::Status EncryptOp(const Transformer& t, ds::RequestOp& op) {
  if (auto* put = std::get_if<ds::PutRequest>(&op.op)) {
    if (!put->value || put->ignore_value || !t.Covers(put->key)) return {};
    auto sealed = t.Encrypt(put->key, *put->value);
    if (!sealed.ok()) return sealed.status();
    put->value = std::make_shared<const std::string>(std::move(*sealed));
  } else if (auto* txn = std::get_if<std::shared_ptr<ds::TxnRequest>>(&op.op)) {
    if (!*txn) return {};
    auto copy = std::make_shared<ds::TxnRequest>(**txn);
    if (auto s = EncryptOps(t, copy->success); !s.ok()) return s;
    if (auto s = EncryptOps(t, copy->failure); !s.ok()) return s;
    *txn = std::move(copy);
  }
  return {};
}

kite::Status EncryptOps(const Transformer& t, std::vector<ds::RequestOp>& ops) {
  for (auto& op : ops) {
    if (auto s = EncryptOp(t, op); !s.ok()) return s;
  }
  return {};
}

kite::Status DecryptResponse(const Transformer& t, ds::TxnResponse& r) {
  for (auto& op : r.responses) {
    kite::Status s;
    if (auto* range = std::get_if<ds::RangeResponse>(&op.op)) {
      for (auto& kv : range->kvs) {
        if (s = DecryptKv(t, kv); !s.ok()) return s;
      }
    } else if (auto* put = std::get_if<ds::PutResponse>(&op.op)) {
      if (put->prev_kv) s = DecryptKv(t, *put->prev_kv);
    } else if (auto* del = std::get_if<ds::DeleteRangeResponse>(&op.op)) {
      for (auto& kv : del->prev_kvs) {
        if (s = DecryptKv(t, kv); !s.ok()) return s;
      }
    } else if (auto* txn = std::get_if<std::shared_ptr<ds::TxnResponse>>(&op.op)) {
      if (*txn) s = DecryptResponse(t, **txn);
    }
    if (!s.ok()) return s;
  }
  return {};
}

class DecryptingWatcher final : public ds::Watcher {
 public:
  DecryptingWatcher(std::unique_ptr<ds::Watcher> inner, const EncryptingStore* store)
      : inner_(std::move(inner)), store_(store) {}
  Batch Next(size_t max_events) override {
    Batch b = inner_->Next(max_events);
    if (b.events.empty()) return b;
    const auto t = store_->transformer();
    for (auto& ev : b.events) {
      for (ds::KeyValue* kv : {&ev.kv, ev.prev_kv ? &*ev.prev_kv : nullptr}) {
        if (!kv) continue;
        if (auto s = DecryptKv(*t, *kv); !s.ok()) KITE_LOG(0) << "encryption at rest: watch: " << s.message();
      }
    }
    return b;
  }
  int64_t next_revision() const override { return inner_->next_revision(); }

 private:
  std::unique_ptr<ds::Watcher> inner_;
  const EncryptingStore* store_;
};

}  // namespace

EncryptingStore::EncryptingStore(ds::Store* inner, std::shared_ptr<const Transformer> transformer)
    : inner_(inner), transformer_(std::move(transformer)) {}

void EncryptingStore::SetTransformer(std::shared_ptr<const Transformer> transformer) {
  std::lock_guard<std::mutex> lock(mu_);
  transformer_ = std::move(transformer);
}

std::shared_ptr<const Transformer> EncryptingStore::transformer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return transformer_;
}

Result<ds::RangeResponse> EncryptingStore::Range(const ds::RangeRequest& req) {
  auto r = inner_->Range(req);
  if (!r.ok() || req.keys_only || req.count_only) return r;
  const auto t = transformer();
  for (auto& kv : r->kvs) {
    if (auto s = DecryptKv(*t, kv); !s.ok()) return kite::Status(Code::kInternal, s.message());
  }
  return r;
}

void EncryptingStore::Txn(ds::TxnRequest req, TxnCallback done) {
  const auto t = transformer();
  if (auto s = EncryptOps(*t, req.success); !s.ok()) return done(s);
  if (auto s = EncryptOps(*t, req.failure); !s.ok()) return done(s);
  inner_->Txn(std::move(req), [t, done = std::move(done)](Result<ds::TxnResponse> r) {
    if (r.ok()) {
      if (auto s = DecryptResponse(*t, *r); !s.ok()) return done(kite::Status(Code::kInternal, s.message()));
    }
    done(std::move(r));
  });
}

std::unique_ptr<ds::Watcher> EncryptingStore::Watch(const ds::WatchOptions& opts, std::function<void()> wake) {
  return std::make_unique<DecryptingWatcher>(inner_->Watch(opts, std::move(wake)), this);
}

Result<int64_t> EncryptingStore::Reencrypt(const std::function<void(int64_t)>& progress) {
  std::lock_guard<std::mutex> one(reencrypt_mu_);
  const auto t = transformer();
  int64_t rewritten = 0;
  std::string start = "/registry/";
  const std::string end = "/registry0";
  for (;;) {
    ds::RangeRequest q;
    q.key = start;
    q.range_end = end;
    q.limit = 256;
    auto page = inner_->Range(q);
    if (!page.ok()) return page.status();
    for (const auto& kv : page->kvs) {
      if (!kv.value || !t->Covers(kv.key) || t->IsCurrent(kv.key, *kv.value)) continue;
      // Rewrite unless the key changed since the read (then the writer's value is current).
      auto plain = t->Decrypt(kv.key, *kv.value);
      if (!plain.ok()) return plain.status();
      auto sealed = t->Encrypt(kv.key, *plain);
      if (!sealed.ok()) return sealed.status();
      ds::TxnRequest txn;
      ds::Compare c;
      c.key = kv.key;
      c.target = ds::Compare::Target::kMod;
      c.number = kv.mod_revision;
      txn.compare.push_back(c);
      ds::PutRequest put;
      put.key = kv.key;
      put.value = std::make_shared<const std::string>(std::move(*sealed));
      put.ignore_lease = true;
      txn.success.push_back(ds::RequestOp{std::move(put)});
      auto res = inner_->TxnSync(std::move(txn));
      if (!res.ok()) return res.status();
      if (res->succeeded) ++rewritten;
      if (progress) progress(rewritten);
    }
    if (!page->more || page->kvs.empty()) break;
    start = page->kvs.back().key + std::string(1, '\0');
  }
  return rewritten;
}

}  // namespace kite::apiserver::encryption
