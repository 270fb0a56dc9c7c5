#include "datastore/validate.h"

#include <algorithm>
#include <set>

#include "datastore/errors.h"

namespace kite::datastore {

Status ValidateRange(const RangeRequest& r) { return r.key.empty() ? errors::EmptyKey() : Status::Ok(); }

Status ValidatePut(const PutRequest& r) {
  if (r.key.empty()) return errors::EmptyKey();
  if (r.ignore_value && r.value && !r.value->empty()) return errors::ValueProvided();
  if (r.ignore_lease && r.lease != 0) return errors::LeaseProvided();
  return Status::Ok();
}

Status ValidateDelete(const DeleteRangeRequest& r) { return r.key.empty() ? errors::EmptyKey() : Status::Ok(); }

namespace {

Status ValidateOps(const std::vector<RequestOp>& ops) {
  for (const RequestOp& op : ops) {
    Status s;
    if (auto* r = std::get_if<RangeRequest>(&op.op)) s = ValidateRange(*r);
    else if (auto* p = std::get_if<PutRequest>(&op.op)) s = ValidatePut(*p);
    else if (auto* d = std::get_if<DeleteRangeRequest>(&op.op)) s = ValidateDelete(*d);
    else if (auto* t = std::get_if<std::shared_ptr<TxnRequest>>(&op.op)) s = *t ? ValidateTxn(**t) : Status::Ok();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// A deleted interval [begin, end); end "" means the single key, end "\0" means to infinity.
struct Interval {
  std::string begin, end;
  bool Contains(const std::string& k) const { return InRange(k, begin, end); }
};

struct Writes {
  std::set<std::string> puts;
  std::vector<Interval> dels;
  bool Deleted(const std::string& k) const {
    for (const auto& d : dels) if (d.Contains(k)) return true;
    return false;
  }
};

// Within one branch no key may be written twice, and no put may fall in a deleted range.
// The two branches of a nested transaction exclude each other, so they may overlap.
Status CheckIntervals(const std::vector<RequestOp>& ops, Writes* out) {
  Writes w;
  for (const RequestOp& op : ops) {
    if (auto* d = std::get_if<DeleteRangeRequest>(&op.op)) w.dels.push_back({d->key, d->range_end});
  }
  for (const RequestOp& op : ops) {
    auto* t = std::get_if<std::shared_ptr<TxnRequest>>(&op.op);
    if (!t || !*t) continue;
    Writes then_w, else_w;
    if (auto s = CheckIntervals((*t)->success, &then_w); !s.ok()) return s;
    if (auto s = CheckIntervals((*t)->failure, &else_w); !s.ok()) return s;
    for (const auto& k : then_w.puts) {
      if (w.puts.count(k) || w.Deleted(k)) return errors::DuplicateKey();
      w.puts.insert(k);
    }
    for (const auto& k : else_w.puts) {
      if (w.puts.count(k) && !then_w.puts.count(k)) return errors::DuplicateKey();
      if (w.Deleted(k)) return errors::DuplicateKey();
      w.puts.insert(k);
    }
    w.dels.insert(w.dels.end(), then_w.dels.begin(), then_w.dels.end());
    w.dels.insert(w.dels.end(), else_w.dels.begin(), else_w.dels.end());
  }
  for (const RequestOp& op : ops) {
    auto* p = std::get_if<PutRequest>(&op.op);
    if (!p) continue;
    if (w.puts.count(p->key) || w.Deleted(p->key)) return errors::DuplicateKey();
    w.puts.insert(p->key);
  }
  *out = std::move(w);
  return Status::Ok();
}

}  // namespace

Status ValidateTxn(const TxnRequest& r) {
  size_t ops = std::max({r.compare.size(), r.success.size(), r.failure.size()});
  if (ops > static_cast<size_t>(kMaxTxnOps)) return errors::TooManyOps();
  for (const Compare& c : r.compare) {
    if (c.key.empty()) return errors::EmptyKey();
  }
  if (auto s = ValidateOps(r.success); !s.ok()) return s;
  if (auto s = ValidateOps(r.failure); !s.ok()) return s;
  Writes w;
  if (auto s = CheckIntervals(r.success, &w); !s.ok()) return s;
  if (auto s = CheckIntervals(r.failure, &w); !s.ok()) return s;
  return Status::Ok();
}

}  // namespace kite::datastore
