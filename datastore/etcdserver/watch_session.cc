#include "datastore/etcdserver/watch_session.h"

#include <algorithm>
#include <utility>

#include <google/protobuf/io/coded_stream.h>

#include "datastore/errors.h"
#include "datastore/etcdserver/service_metrics.h"

namespace kite::datastore::etcdserver {
namespace {

// etcd's watch errors (mvcc/watcher.go); clients show them as the cancel reason.
constexpr char kDuplicateId[] = "mvcc: duplicate watch ID provided on the WatchStream";
constexpr char kEmptyRange[] = "mvcc: watcher range is empty";
// etcd's id for "no watch" (clientv3.InvalidWatchID): refused creates and broadcast progress.
constexpr int64_t kInvalidWatchId = -1;

// Bytes one event adds to a WatchResponse: tag of field 11 (one byte), length, body.
size_t EncodedEventSize(const mvccpb::Event& ev) {
  size_t n = ev.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
}

}  // namespace

WatchSession::WatchSession(const Dispatcher* dispatcher, std::function<void()> kick)
    : d_(dispatcher), kick_(std::move(kick)) {}

WatchSession::~WatchSession() { Close(); }

void WatchSession::Close() {
  WatcherGauge().Decrement(static_cast<double>(watchers_.size()));
  watchers_.clear();  // destroys the store's watchers: no wake runs after this
  by_serial_.clear();
  ready_.clear();
  {
    std::lock_guard lock(wake_list_->mu);
    wake_list_->woken.clear();
  }
  queue_.clear();
  dead_ = 0;
  progress_all_pending_ = false;
}

pb::WatchResponse WatchSession::Header(int64_t watch_id, int64_t rev) const {
  pb::WatchResponse r;
  d_->FillHeader(r.mutable_header(), rev);
  r.set_watch_id(watch_id);
  return r;
}

void WatchSession::Handle(const pb::WatchRequest& req) {
  switch (req.request_union_case()) {
    case pb::WatchRequest::kCreateRequest:
      Create(req.create_request());
      break;
    case pb::WatchRequest::kCancelRequest:
      Cancel(req.cancel_request().watch_id());
      break;
    case pb::WatchRequest::kProgressRequest:
      progress_all_pending_ = true;
      // Answer now only if nothing is queued: the notification must follow every event it
      // vouches for, and queued events are such events.
      if (queue_.empty()) TryProgressAll();
      break;
    case pb::WatchRequest::REQUEST_UNION_NOT_SET:
      break;  // etcd ignores an empty request rather than ending the stream
  }
  Sweep();
}

void WatchSession::RefuseCreate(const std::string& reason) {
  pb::WatchResponse r = Header(kInvalidWatchId, d_->CurrentRevision());
  r.set_created(true);
  r.set_canceled(true);
  r.set_cancel_reason(reason);
  Push(std::move(r));
}

void WatchSession::Create(const pb::WatchCreateRequest& req) {
  if (req.start_revision() < 0) return RefuseCreate(errors::Compacted().message());
  WatchOptions opts = FromProto(req);
  // "\0" as range_end means "every key >= key"; any other end must lie above the key.
  if (!opts.range_end.empty() && opts.range_end != std::string(1, '\0') && opts.key >= opts.range_end) {
    return RefuseCreate(kEmptyRange);
  }
  int64_t id = req.watch_id();
  if (id == 0) {
    // etcd 3.5: ids count up per stream, skipping ids the client picked itself.
    while (watchers_.count(next_id_)) ++next_id_;
    id = next_id_++;
  } else if (watchers_.count(id)) {
    return RefuseCreate(kDuplicateId);
  }

  WatchState w;
  w.id = id;
  w.serial = next_serial_++;
  w.listed = std::make_shared<std::atomic<bool>>(true);  // history may be pending from the start
  w.progress_notify = req.progress_notify();
  w.fragment = req.fragment();
  // The wake callback owns copies of what it touches, so it stays safe if it races with the
  // watcher's destruction. Only the wake that makes the list non-empty kicks: one pump per
  // stream however many of its watchers an event wakes.
  w.watcher = d_->store()->Watch(opts, [listed = w.listed, list = wake_list_, serial = w.serial, kick = kick_] {
    if (listed->exchange(true, std::memory_order_acq_rel)) return;  // already listed
    bool first;
    {
      std::lock_guard lock(list->mu);
      first = list->woken.empty();
      list->woken.push_back(serial);
    }
    if (first) kick();
  });
  pb::WatchResponse created = Header(id, d_->CurrentRevision());
  created.set_created(true);
  Push(std::move(created));
  auto [it, inserted] = watchers_.emplace(id, std::move(w));
  by_serial_.emplace(it->second.serial, &it->second);
  ready_.push_back(it->second.serial);
  WatcherGauge().Increment();
}

void WatchSession::MarkReady(WatchState& w) {
  if (!w.listed->exchange(true, std::memory_order_acq_rel)) ready_.push_back(w.serial);
}

void WatchSession::Cancel(int64_t id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end() || it->second.dead) return;
  by_serial_.erase(it->second.serial);
  watchers_.erase(it);
  WatcherGauge().Decrement();
  pb::WatchResponse r = Header(id, d_->CurrentRevision());
  r.set_canceled(true);
  Push(std::move(r));
}

bool WatchSession::Pull(WatchState& w) {
  if (w.dead) return false;
  // Unlist before asking: a wake that lands while Next() runs lists it again, so none is lost.
  w.listed->store(false, std::memory_order_release);
  Watcher::Batch b = w.watcher->Next(kMaxEventsPerPull);
  bool produced = false;
  if (!b.events.empty()) {
    // A batch cut short by kMaxEventsPerPull has more behind it: back of the line.
    if (!b.caught_up) MarkReady(w);
    EnqueueEvents(w, std::move(b.events));
    produced = true;
  }
  if (b.compact_revision != 0) {
    pb::WatchResponse r = Header(w.id, d_->CurrentRevision());
    r.set_canceled(true);
    r.set_compact_revision(b.compact_revision);
    Push(std::move(r));
    w.dead = true;
    ++dead_;
    produced = true;
  }
  return produced;
}

void WatchSession::EnqueueEvents(WatchState& w, std::vector<Event>&& events) {
  w.events_since_tick = true;
  const int64_t rev = std::max(d_->CurrentRevision(), events.back().kv.mod_revision);
  pb::WatchResponse resp = Header(w.id, rev);
  resp.mutable_events()->Reserve(static_cast<int>(events.size()));
  for (const auto& ev : events) ToProto(ev, resp.add_events());
  if (!w.fragment || resp.events_size() < 2 ||
      resp.ByteSizeLong() <= static_cast<size_t>(kMaxRequestBytes)) {
    Push(std::move(resp));
    return;
  }
  // Split into parts of at most kMaxRequestBytes (an event larger than that travels alone).
  const pb::WatchResponse empty = Header(w.id, rev);
  const size_t base = empty.ByteSizeLong() + 2;  // + the fragment flag
  auto* all = resp.mutable_events();
  pb::WatchResponse part = empty;
  size_t size = base;
  for (int i = 0; i < all->size(); ++i) {
    size_t n = EncodedEventSize(all->Get(i));
    if (part.events_size() > 0 && size + n > static_cast<size_t>(kMaxRequestBytes)) {
      part.set_fragment(true);
      Push(std::move(part));
      part = empty;
      size = base;
    }
    part.mutable_events()->Add()->Swap(all->Mutable(i));
    size += n;
  }
  Push(std::move(part));  // the last part: fragment=false
}

bool WatchSession::CaughtUp(WatchState& w, int64_t rev) {
  if (w.dead) return true;  // it is gone; nothing more will be said for it
  if (w.watcher->next_revision() > rev) return true;
  // The store may not have advanced a watcher that nothing woke (writes to other keys): asking
  // advances it, and any events it returns go into the queue ahead of the notification.
  Pull(w);
  return w.dead || w.watcher->next_revision() > rev;
}

void WatchSession::TryProgressAll() {
  if (!progress_all_pending_) return;
  if (watchers_.empty()) {  // etcd answers nothing when the stream has no watcher
    progress_all_pending_ = false;
    return;
  }
  const int64_t rev = d_->CurrentRevision();
  bool all = true;
  for (auto& [id, w] : watchers_) {
    if (!CaughtUp(w, rev)) all = false;  // keep going: pulling the others is progress too
  }
  if (!all) return;
  progress_all_pending_ = false;
  Push(Header(kInvalidWatchId, rev));
}

void WatchSession::ProgressTick() {
  const int64_t rev = d_->CurrentRevision();
  for (auto& [id, w] : watchers_) {
    if (!w.progress_notify || w.dead) continue;
    if (!w.events_since_tick && CaughtUp(w, rev) && !w.dead) Push(Header(id, rev));
    w.events_since_tick = false;
  }
  Sweep();
}

void WatchSession::FillFromWatchers() {
  {
    std::lock_guard lock(wake_list_->mu);
    ready_.insert(ready_.end(), wake_list_->woken.begin(), wake_list_->woken.end());
    wake_list_->woken.clear();
  }
  // Oldest first; a watcher that returned a cut-short batch was put at the back by Pull, so a
  // busy watcher cannot starve the rest.
  while (!ready_.empty()) {
    const uint64_t serial = ready_.front();
    ready_.pop_front();
    auto it = by_serial_.find(serial);
    if (it == by_serial_.end()) continue;  // cancelled since
    if (Pull(*it->second)) return;
  }
}

void WatchSession::Refill() {
  if (!queue_.empty()) return;
  FillFromWatchers();
  if (queue_.empty()) TryProgressAll();
  Sweep();
}

bool WatchSession::Next(pb::WatchResponse* out, bool* more) {
  Refill();
  if (queue_.empty()) {
    if (more) *more = false;
    return false;
  }
  *out = std::move(queue_.front());
  queue_.pop_front();
  if (more) {
    // Look one batch ahead, so the caller knows whether another response follows right away.
    Refill();
    *more = !queue_.empty();
  }
  return true;
}

void WatchSession::Sweep() {
  if (dead_ == 0) return;
  dead_ = 0;
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->second.dead) {
      by_serial_.erase(it->second.serial);
      it = watchers_.erase(it);
      WatcherGauge().Decrement();
    } else {
      ++it;
    }
  }
}

}  // namespace kite::datastore::etcdserver
