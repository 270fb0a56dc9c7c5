// FakeTransport: an in-memory Kubernetes API behind the Transport interface (client/transport.h),
// for unit tests of anything that talks through a Client — controllers above all. It plays the
// part of client-go's fake clientset with its object tracker:
// - objects are stored per resource, namespace and name; the store gives them what the API
//   server would (uid, resourceVersion from one counter, creationTimestamp from the Clock,
//   generation, a name for generateName) and enforces resourceVersion preconditions (409
//   Conflict), AlreadyExists and NotFound;
// - verbs: get, list (labelSelector; fieldSelector on metadata.name, metadata.namespace or any
//   dotted path into the object), create, update, update of the status subresource (only status
//   changes; an update of the main resource keeps the stored status), patch (merge, strategic,
//   JSON patch; a patch that sets metadata.resourceVersion is pinned to it; one that changes
//   metadata.uid is refused, 422 as the API server's), delete (objects with
//   finalizers, or deleted Foreground/Orphan, get a deletionTimestamp and stay until their last
//   finalizer goes; uid/resourceVersion preconditions), namespaces/<ns>/finalize, pods/<p>/binding
//   and pods/<p>/eviction; other subresource POSTs are recorded and answered 201 with the body;
// - watch from a resourceVersion (every change is kept), so an InformerFactory over a Client on
//   this transport lists and syncs from it; events go out on the transport's own thread, in
//   order; WaitForIdle returns once every event so far has been handed over;
// - every request is recorded as an Action (verb, resource, namespace, name, subresource, body,
//   and the object the verb produced) for assertions;
// - reactors answer chosen requests before the store sees them (an injected error, a canned
//   object): the first reactor that returns a Response wins.
// Not modelled: server-side apply, defaulting, validation, admission, pagination (lists return
// everything), graceful pod deletion (a pod without finalizers goes at once), custom resources
// unless added with AddResource.
//
// Threading: every method is safe from any thread. Watch callbacks run on the transport's
// dispatch thread (never inside Do), as the Transport contract asks.
#pragma once

#include <boost/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/resources.h"
#include "base/clock.h"
#include "client/transport.h"

namespace kite::client::testing {

// One request as the fake saw it.
struct Action {
  std::string verb;         // get, list, watch, create, update, patch, delete
  std::string group;        // "" for the core group
  std::string resource;     // plural: pods, replicasets
  std::string ns, name;     // as in the request path ("" for collections / cluster scope)
  std::string subresource;  // status, finalize, binding, eviction, … ("" for the object itself)
  std::string patch_type;   // patch: merge, strategic, json, apply
  boost::json::value body;  // the request body, parsed (null when empty or not JSON)
  int code = 0;             // the HTTP status answered
  boost::json::object object;  // create/update/patch: the stored object afterwards; delete: the
                               // deleted (or now terminating) object

  // "create pods", "update replicasets/status", "delete jobs": for compact assertions.
  std::string Describe() const;
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(const Clock* clock = Clock::Real());
  ~FakeTransport() override;

  // --- seeding and inspecting the store (no Action recorded, watches notified) ---
  // Stores `obj` as a create would (name required; uid, resourceVersion, creationTimestamp,
  // generation filled in where missing) and returns the stored object. The resource comes from
  // the object's apiVersion and kind.
  boost::json::object Add(boost::json::object obj);
  boost::json::object Add(const api::ResourceInfo& r, boost::json::object obj);
  std::optional<boost::json::object> Get(const api::ResourceInfo& r, const std::string& ns,
                                         const std::string& name) const;
  // Every stored object of `r` (in `ns`, or all namespaces when ""), ordered by namespace/name.
  std::vector<boost::json::object> List(const api::ResourceInfo& r, const std::string& ns = "") const;
  // Serves a custom resource too (built-ins are always served).
  void AddResource(const api::ResourceInfo& r);

  // --- recorded actions ---
  std::vector<Action> Actions() const;
  // Only the writes (everything but get, list and watch).
  std::vector<Action> Writes() const;
  // Writes of one verb and resource ("create", "pods"); subresource must match too ("" = none).
  std::vector<Action> Writes(const std::string& verb, const std::string& resource,
                             const std::string& subresource = "") const;
  void ClearActions();

  // --- reactors ---
  // Called for each request matching verb and resource ("*" matches any); returning a Response
  // answers the request with it (the store is not touched), nullopt passes it on.
  using Reactor = std::function<std::optional<Response>(const Action&)>;
  void PrependReactor(const std::string& verb, const std::string& resource, Reactor reactor);
  // Shorthand: every matching request fails with this code, reason and message.
  void FailWith(const std::string& verb, const std::string& resource, int code, const std::string& reason,
                const std::string& message = "injected error");
  void ClearReactors();

  // Blocks until every watch event produced so far has been delivered to its stream.
  void WaitForIdle();

  // --- Transport ---
  Response Do(const Request& request) override;
  std::unique_ptr<WatchStream> Watch(const Request& request, std::function<void(std::string_view line)> on_line,
                                     std::function<void(Response end)> on_end) override;

  // A metav1.Status body with `code`, `reason`, `message`, as the API server answers errors.
  static Response StatusResponse(int code, const std::string& reason, const std::string& message);

 private:
  struct Stream;
  class StreamHandle;
  struct Change {
    int64_t rv;
    std::string resource_id;  // group/resource
    std::string ns;
    std::string type;         // ADDED, MODIFIED, DELETED
    boost::json::object object;
  };
  struct Parsed {  // a request path resolved against the served resources
    const api::ResourceInfo* r = nullptr;
    std::string ns, name, sub;
  };

  std::optional<Parsed> ParsePath(const std::string& path) const;
  const api::ResourceInfo* FindResourceLocked(const std::string& group, const std::string& version,
                                              const std::string& resource) const;
  Response Serve(const Request& req, const Parsed& p, Action& action);
  Response GetLocked(const Parsed& p);
  Response ListLocked(const Parsed& p, const Request& req);
  Response CreateLocked(const Parsed& p, boost::json::object obj, Action& action);
  Response UpdateLocked(const Parsed& p, boost::json::object obj, bool status, Action& action);
  Response PatchLocked(const Parsed& p, const Request& req, Action& action);
  Response DeleteLocked(const Parsed& p, const boost::json::value& options, Action& action);
  Response SubresourcePostLocked(const Parsed& p, const boost::json::value& body, Action& action);
  // The store half (fake_store.cc). Writes `obj` as the new state (assigning a resourceVersion) or removes it, and queues the
  // watch event.
  boost::json::object StoreLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                  boost::json::object obj, const std::string& type);
  // Removes an object whose deletion may complete (no finalizers left) after a write.
  bool MaybeFinishDeleteLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                               boost::json::object& obj);
  void Publish(const Change& c);  // mu_ held
  void DispatchLoop();

  const Clock* const clock_;
  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, std::map<std::string, boost::json::object>> objects_;  // group/resource → "ns/name" → obj
  std::vector<api::ResourceInfo> custom_;
  int64_t rv_ = 1;
  int64_t name_seq_ = 0;
  std::vector<Change> log_;
  std::vector<Action> actions_;
  struct ReactorEntry {
    std::string verb, resource;
    Reactor fn;
  };
  std::vector<ReactorEntry> reactors_;
  std::vector<std::shared_ptr<Stream>> streams_;
  std::deque<std::pair<std::shared_ptr<Stream>, std::string>> outbox_;
  const Stream* delivering_stream_ = nullptr;  // the stream whose callback runs now
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread dispatcher_;
};

}  // namespace kite::client::testing
