// The etcd Watch service on gRPC's callback API: one reactor per stream around a WatchSession
// (watch_session.h holds the etcd rules), no thread per stream or per watcher.
//
// Contract
// - One write in flight per stream (gRPC's rule); the next response is pulled from the session
//   when the previous write completes, when a request arrives, or when a watcher wakes (posted to
//   the pump pool, since wakes come from the store's writer thread; one pending pump per stream,
//   and streams are pumped in parallel).
// - Bursts leave together: a write is buffer-hinted while another response is ready behind it,
//   and the last write of a burst is not (nor one that brings the held-back bytes to 16 KiB), so
//   gRPC sends a burst in a few sends rather than one per response, and holds back little.
// - Memory per stream stays bounded for a slow client: the session pulls one batch at a time
//   (watch_session.h), and a write waits for the client's flow control once gRPC holds more
//   than its 64 KiB write buffer.
// - Reading pauses while the session has kMaxQueuedResponses responses queued.
// - A client that half-closes keeps receiving events, as with etcd; the stream ends when the
//   client cancels it or at Shutdown.
// - Shutdown(): finishes every stream with etcd's "server stopped" and returns when every stream
//   has run OnDone.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <map>

#include "datastore/etcdserver/dispatch.h"
#include "datastore/etcdserver/task_runner.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::datastore::etcdserver {

class WatchStreamReactor;

class WatchService final : public pb::Watch::CallbackService {
 public:
  // `pumps` runs the pumps that wakes schedule (any number of threads).
  WatchService(const Dispatcher* dispatcher, TaskRunner* pumps);
  ~WatchService() override;

  grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>* Watch(grpc::CallbackServerContext* ctx) override;

  // Sends due progress notifications on every stream (the TaskRunner's periodic task).
  void ProgressTick();
  // Asks every stream (and any that starts later) to finish with "server stopped".
  void StopAll();
  // Returns when every stream has run OnDone. Needs the gRPC server running or shutting down
  // (its Shutdown cancels streams whose writes are stuck).
  void WaitAllDone();

 private:
  friend class WatchStreamReactor;
  void Remove(WatchStreamReactor* s);

  const Dispatcher* d_;
  TaskRunner* pumps_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<WatchStreamReactor*, std::shared_ptr<WatchStreamReactor>> streams_;  // guarded by mu_
  bool shutting_down_ = false;                             // guarded by mu_
};

}  // namespace kite::datastore::etcdserver
