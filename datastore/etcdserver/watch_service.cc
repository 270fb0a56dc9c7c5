#include "datastore/etcdserver/watch_service.h"

#include <atomic>
#include <utility>
#include <vector>

#include "datastore/errors.h"
#include "datastore/etcdserver/convert.h"
#include "datastore/etcdserver/service_metrics.h"
#include "datastore/etcdserver/watch_session.h"

namespace kite::datastore::etcdserver {

// A burst is flushed once this much is held back: the first events leave while the rest of
// the burst is still being produced, at a few sends per burst rather than one per response.
// (gRPC itself flushes past its 64 KiB write buffer.)
constexpr size_t kFlushBytes = 16 * 1024;

// Lifetime: the service's map holds one reference from Watch() until OnDone(); a posted pump task
// holds one more, so a wake racing with the end of the stream finds a live (closed) object. The
// session is closed in OnDone, so whoever drops the last reference — possibly a pump thread —
// runs a destructor that no longer touches the store.
class WatchStreamReactor final : public grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>,
                                 public std::enable_shared_from_this<WatchStreamReactor> {
 public:
  explicit WatchStreamReactor(WatchService* svc) : svc_(svc) {}

  // Separate from the constructor: the session's kick needs weak_from_this().
  void Start() {
    WatchStreamGauge().Increment();
    {
      std::lock_guard lock(mu_);
      session_ = std::make_unique<WatchSession>(svc_->d_, [weak = weak_from_this()] { Kick(weak); });
      reading_ = true;
    }
    StartRead(&req_);
  }

  // Ends the stream with `status` (once), after the write in flight if there is one.
  void Stop(const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_) return;
      stop_requested_ = true;
      stop_status_ = status;
      if (writing_) return;  // OnWriteDone finishes
      finish_called_ = true;
    }
    Finish(status);
  }

  void ProgressTick() {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_ || done_) return;
      session_->ProgressTick();
    }
    Pump();
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    {
      std::lock_guard lock(mu_);
      reading_ = false;
      // !ok: half-close or cancellation. etcd keeps sending on a half-closed stream; a cancelled
      // one also gets OnCancel.
      if (!ok || stop_requested_) return;
      session_->Handle(req_);
      read_more = session_->queued() < kMaxQueuedResponses;
      reading_ = read_more;
      read_paused_ = !read_more;
    }
    if (read_more) StartRead(&req_);
    Pump();
  }

  void OnWriteDone(bool ok) override {
    grpc::Status finish_with;
    bool finish = false;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      if (!ok && !stop_requested_) {  // the client went away
        stop_requested_ = true;
        stop_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "watch stream broken");
      }
      if (stop_requested_ && !finish_called_) {
        finish_called_ = true;
        finish = true;
        finish_with = stop_status_;
      }
    }
    if (finish) return Finish(finish_with);
    Pump();
  }

  void OnCancel() override { Stop(grpc::Status(grpc::StatusCode::CANCELLED, "context canceled")); }

  void OnDone() override {
    grpc::StatusCode code;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      session_->Close();  // the store stops waking us; no store call after this
      code = stop_status_.error_code();
    }
    WatchStreamGauge().Decrement();
    CountHandled("bidi_stream", "etcdserverpb.Watch", "Watch", code);
    svc_->Remove(this);  // may drop the last reference: nothing may follow
  }

  // Starts the next write if none is in flight. Called from gRPC reactions and pump threads.
  void Pump() {
    bool write = false, read = false, more = false, hint = false;
    {
      std::lock_guard lock(mu_);
      if (writing_ || stop_requested_ || done_) return;
      write = session_->Next(&out_, &more);
      writing_ = write;
      // Buffer this write when another response is ready behind it: gRPC completes a
      // buffer-hinted write at once (while under 64 KiB are held back) and sends what it holds
      // with the next write that is not hinted: the burst's last one, or the one that brings
      // the held-back bytes to kFlushBytes. The first write of a stream is never hinted: it
      // carries the initial metadata, and gRPC does not complete that batch until something
      // flushes it. `more` is a promise (WatchSession::Next) that the next Pump writes again,
      // so nothing is left held back; if the stream stops first, Finish flushes.
      if (write) {
        held_bytes_ += out_.ByteSizeLong();
        hint = more && wrote_ && held_bytes_ < kFlushBytes;
        wrote_ = true;
        if (!hint) held_bytes_ = 0;
      }
      // Resume reading once the queue has drained to half (hysteresis).
      if (read_paused_ && session_->queued() < kMaxQueuedResponses / 2) {
        read_paused_ = false;
        reading_ = read = true;
      }
    }
    // Outside the lock: writing_ keeps every other thread away from out_ until OnWriteDone.
    if (read) StartRead(&req_);
    if (write) StartWrite(&out_, hint ? grpc::WriteOptions().set_buffer_hint() : grpc::WriteOptions());
  }

 private:
  // The session's kick: runs on any thread (often the store's writer, inside its wake callback),
  // so it only posts a pump to the pool; one pending pump per stream is enough.
  static void Kick(const std::weak_ptr<WatchStreamReactor>& weak) {
    auto self = weak.lock();
    if (!self) return;
    if (self->pump_posted_.exchange(true)) return;
    TaskRunner* pumps = self->svc_->pumps_;
    pumps->Post([self = std::move(self)] {
      self->pump_posted_.store(false);
      self->Pump();
    });
  }

  WatchService* const svc_;
  std::atomic<bool> pump_posted_{false};
  std::mutex mu_;
  std::unique_ptr<WatchSession> session_;  // guarded by mu_
  pb::WatchRequest req_;                   // owned by the read in flight
  pb::WatchResponse out_;                  // owned by the write in flight
  bool reading_ = false;                   // guarded by mu_
  bool read_paused_ = false;               // guarded by mu_: queue was full, no read pending
  bool writing_ = false;                   // guarded by mu_
  bool wrote_ = false;                     // guarded by mu_: a write was started
  size_t held_bytes_ = 0;                  // guarded by mu_: bytes of hinted writes since the last flush
  bool stop_requested_ = false;            // guarded by mu_
  bool finish_called_ = false;             // guarded by mu_
  bool done_ = false;                      // guarded by mu_
  grpc::Status stop_status_;               // guarded by mu_
};

WatchService::WatchService(const Dispatcher* dispatcher, TaskRunner* pumps) : d_(dispatcher), pumps_(pumps) {}

WatchService::~WatchService() = default;

grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>* WatchService::Watch(grpc::CallbackServerContext* ctx) {
  auto s = std::make_shared<WatchStreamReactor>(this);
  bool stopping;
  {
    std::lock_guard lock(mu_);
    streams_.emplace(s.get(), s);
    stopping = shutting_down_;
  }
  s->Start();
  if (stopping) s->Stop(ToGrpcStatus(errors::Stopped()));
  return s.get();
}

void WatchService::Remove(WatchStreamReactor* s) {
  std::shared_ptr<WatchStreamReactor> keep;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(s);
    if (it != streams_.end()) {
      keep = std::move(it->second);
      streams_.erase(it);
    }
    cv_.notify_all();
  }
  // `keep` dies here, outside the lock; it may be the last reference.
}

void WatchService::ProgressTick() {
  std::vector<std::shared_ptr<WatchStreamReactor>> streams;
  {
    std::lock_guard lock(mu_);
    for (auto& [p, s] : streams_) streams.push_back(s);
  }
  for (auto& s : streams) s->ProgressTick();
}

void WatchService::StopAll() {
  std::vector<std::shared_ptr<WatchStreamReactor>> streams;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    for (auto& [p, s] : streams_) streams.push_back(s);
  }
  for (auto& s : streams) s->Stop(ToGrpcStatus(errors::Stopped()));
}

void WatchService::WaitAllDone() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return streams_.empty(); });
}

}  // namespace kite::datastore::etcdserver
