#include "datastore/store.h"

#include <future>

namespace kite::datastore {

template <typename T, typename Start>
static Result<T> Wait(Start&& start) {
  std::promise<Result<T>> p;
  auto f = p.get_future();
  start([&p](Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

Result<TxnResponse> Store::TxnSync(TxnRequest req) {
  return Wait<TxnResponse>([&](auto cb) { Txn(std::move(req), cb); });
}

Result<PutResponse> Store::Put(const std::string& key, const std::string& value, int64_t lease) {
  PutRequest p;
  p.key = key;
  p.value = std::make_shared<const std::string>(value);
  p.lease = lease;
  TxnRequest t;
  t.success.push_back(RequestOp{std::move(p)});
  auto r = TxnSync(std::move(t));
  if (!r.ok()) return r.status();
  return std::get<PutResponse>(r->responses.at(0).op);
}

Result<DeleteRangeResponse> Store::Delete(const std::string& key, const std::string& range_end) {
  TxnRequest t;
  t.success.push_back(RequestOp{DeleteRangeRequest{key, range_end, false}});
  auto r = TxnSync(std::move(t));
  if (!r.ok()) return r.status();
  return std::get<DeleteRangeResponse>(r->responses.at(0).op);
}

Result<int64_t> Store::CompactSync(int64_t revision, bool physical) {
  return Wait<int64_t>([&](auto cb) { Compact(revision, physical, cb); });
}

Result<LeaseInfo> Store::LeaseGrantSync(int64_t id, int64_t ttl) {
  return Wait<LeaseInfo>([&](auto cb) { LeaseGrant(id, ttl, cb); });
}

Result<int64_t> Store::LeaseRevokeSync(int64_t id) {
  return Wait<int64_t>([&](auto cb) { LeaseRevoke(id, cb); });
}

}  // namespace kite::datastore
