// Informer: a local cache of one resource kept current by list + watch, with a lister over it
// and event handlers, following client-go's shared informer contract:
// - Start lists, then watches from the list's resourceVersion; a stream that ends is resumed
//   from the last resourceVersion seen; 410 Expired (or any error) relists after a back-off,
//   and the relist reports the differences as add/update/delete events, so nothing is missed.
// - Cached objects carry no metadata.managedFields (dropped on arrival, as upstream's
//   controller-manager and scheduler do); an update sent without them keeps the stored ones.
// - Cached objects are shared and immutable (`std::shared_ptr<const object>`): never modify
//   one; copy it first.
// - Handlers run on a transport thread, serially, in event order; they should only enqueue
//   keys (into a WorkQueue). A handler added after Start gets no replay of existing objects:
//   add handlers first.
// - HasSynced is true once the first list is in the cache.
//
// Lists and relists run on the InformerFactory's one thread (never on a transport thread).
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/resources.h"
#include "client/client.h"

namespace kite::client {

using ObjectPtr = std::shared_ptr<const boost::json::object>;

struct EventHandler {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr& last)> on_delete;
};

class InformerFactory;

class Informer {
 public:
  // Lister: cached objects. `ns` "" means every namespace.
  ObjectPtr Get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> List(const std::string& ns = "") const;
  // Objects whose metadata.labels match `selector` (api/labels.h syntax; "" matches all).
  std::vector<ObjectPtr> List(const std::string& ns, const std::string& selector) const;
  size_t Size() const;

  void AddHandler(EventHandler h);
  bool HasSynced() const { return synced_.load(); }
  const api::ResourceInfo& resource() const { return resource_; }
  // The resourceVersion of the newest event or list applied.
  std::string LastResourceVersion() const;

 private:
  friend class InformerFactory;
  Informer(InformerFactory* factory, const api::ResourceInfo& r)
      : factory_(factory), resource_(r), resource_id_(r.group + "/" + r.version + "/" + r.resource) {}
  void Relist();                        // factory thread
  void OnLine(std::string_view line, uint64_t generation);  // transport thread
  // Applies a decoded event; returns the cached object an add or update became.
  ObjectPtr OnEvent(WatchEvent ev, uint64_t generation);
  // Applies an add or update whose object another informer already decoded and cached.
  void Apply(const ObjectPtr& obj, uint64_t generation);
  void OnEnd(Status e, uint64_t generation);          // transport thread
  void StartWatch();
  void Dispatch(const ObjectPtr& old_obj, const ObjectPtr& new_obj);

  InformerFactory* factory_;
  api::ResourceInfo resource_;
  const std::string resource_id_;  // group/version/resource
  mutable std::shared_mutex mu_;  // guards items_, rv_, watch_, generation_
  std::map<std::string, ObjectPtr> items_;  // "ns/name"
  std::string rv_;
  std::unique_ptr<WatchStream> watch_;
  uint64_t generation_ = 0;  // bumped per watch stream, so late callbacks of an old one are ignored
  std::mutex handlers_mu_;   // guards handlers_ and serialises their calls
  std::vector<EventHandler> handlers_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> relist_needed_{false};
  int failures_ = 0;  // consecutive failed lists (factory thread only)
};

// Owns informers (one per resource, shared by every controller) and the thread that lists.
class InformerFactory {
 public:
  explicit InformerFactory(const Client* client);
  ~InformerFactory();  // Stop()

  // The informer for r (created on first use; started by Start or at once if already started).
  Informer* For(const api::ResourceInfo& r);
  Informer* For(const std::string& group, const std::string& version, const std::string& resource);
  void Start();
  void Stop();
  // Waits until every informer created so far has synced; false on timeout or stop.
  bool WaitForSync(std::chrono::milliseconds timeout);
  const Client* client() const { return client_; }

 private:
  friend class Informer;
  void Schedule(Informer* inf, std::chrono::milliseconds delay);
  void Run();

  const Client* client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::multimap<std::chrono::steady_clock::time_point, Informer*> pending_;
  bool started_ = false, stopping_ = false;
  std::thread thread_;
};

}  // namespace kite::client
