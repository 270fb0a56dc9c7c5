// EventRecorder: writes core/v1 Events about objects (what `kubectl describe` and `kubectl get
// events` show), for every component that reports what it did: controllers, the scheduler,
// the kubelet.
//
// Contract:
//  - Best effort: a failed write is logged and dropped, never returned (upstream's recorder
//    does the same); callers must not depend on an Event being stored.
//  - An Event repeating a recent one about the same object (uid, type, reason, message)
//    increments that Event's count and lastTimestamp instead of creating another, as
//    client-go's event correlator does. The memory of recent Events is bounded (LRU); when the
//    remembered Event is gone from the server a new one is written with count 1.
//  - firstTimestamp/lastTimestamp are the wall time of the clock given at construction (the
//    controller's clock, so a test with a FakeClock sees the times it set).
//  - Writes are synchronous on the calling thread (a controller worker), unless RunAsync was
//    called: then Record only queues the Event (stamped with the time it was recorded) and the
//    recorder's writer threads write the queue, as client-go's broadcaster does for the kubelet
//    (whose Events sit on the pod start-up path: Pulled, Created, Started per pod) and the
//    scheduler (one Event per pod scheduled, thousands a second). One writer writes in order;
//    several write in parallel, so their order is not kept and two repeats of one Event written
//    at the same moment may be stored as two Events. The queue is bounded: an Event beyond it is
//    dropped and counted (client-go drops when its channel is full). Stop (and the destructor)
//    finishes the writes under way and drops the rest.
// Thread-safety: Record may be called from many threads at once.
#pragma once

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "client/client.h"

namespace kite::client {

// RunAsync's settings.
struct AsyncEvents {
  size_t writers = 1;        // threads writing the queue; several when Events come fast
  size_t max_queued = 1000;  // Events waiting beyond this are dropped (client-go's broadcaster: 1,000)
};

class EventRecorder {
 public:
  // `component` is source.component and reportingComponent ("replicaset-controller",
  // "default-scheduler"); `instance` is reportingInstance. `clock` must outlive the recorder.
  EventRecorder(const Client* client, std::string component, std::string instance = "",
                const kite::Clock* clock = kite::Clock::Real());
  ~EventRecorder();  // Stop()

  // Events queued beyond this are dropped (client-go's broadcaster queues 1,000).
  static constexpr size_t kMaxQueued = 1000;
  // From now on Record/RecordFor queue and return at once; `async.writers` threads of the
  // recorder, started by the first Event, write. Call once, before Events are recorded from
  // other threads.
  void RunAsync(AsyncEvents async = {});
  // Waits until the Events recorded so far have been written (or dropped). For tests and for a
  // caller that must see its Events stored; returns at once when synchronous.
  void Flush();
  // Finishes the writes under way, drops the queued Events and joins the writers; Events
  // recorded afterwards are dropped (asynchronous) or written at once (synchronous).
  void Stop();
  // Events dropped because the queue was full.
  size_t dropped() const;

  // An Event about `obj` (its kind, name, namespace, uid and resourceVersion).
  void Normal(const boost::json::object& obj, const std::string& reason, const std::string& message) {
    Record(obj, "Normal", reason, message);
  }
  void Warning(const boost::json::object& obj, const std::string& reason, const std::string& message) {
    Record(obj, "Warning", reason, message);
  }
  void Record(const boost::json::object& obj, const std::string& type, const std::string& reason,
              const std::string& message);
  // The same with the involvedObject reference given (an ObjectReference) and an action (may be
  // empty: then the Event has none). The Event goes to the namespace of `involved` ("default"
  // for a cluster-scoped object).
  void RecordFor(const boost::json::object& involved, const std::string& type, const std::string& reason,
                 const std::string& action, const std::string& message);

  // The ObjectReference of obj, as Events and bindings carry it.
  static boost::json::object ReferenceTo(const boost::json::object& obj);

 private:
  struct Pending {
    boost::json::object involved;
    std::string type, reason, action, message, now;
  };
  void Write(const Pending& e);  // on the calling thread
  void WriterLoop();

  struct Recent {
    std::string name;  // of the Event
    int64_t count = 0;
    std::list<std::string>::iterator lru;
  };
  const Client* client_;
  const api::ResourceInfo& events_;
  const std::string component_, instance_;
  const kite::Clock* const clock_;
  std::mutex mu_;               // guards the two below
  std::list<std::string> lru_;  // fold keys, most recent first
  std::unordered_map<std::string, Recent> recent_;

  // RunAsync's queue; guarded by qmu_ (apart from mu_: a write in flight never holds it).
  mutable std::mutex qmu_;
  std::condition_variable qcv_;
  std::deque<Pending> queue_;
  size_t max_queued_ = 0;  // 0: synchronous
  size_t dropped_ = 0;
  size_t writing_ = 0;  // Events taken from the queue and not yet written
  bool stop_ = false;
  size_t writers_wanted_ = 1;
  std::vector<std::thread> writers_;
};

}  // namespace kite::client
