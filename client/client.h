// Client: the Kubernetes verbs over a Transport, for every consumer inside and outside
// kite-server (controllers, scheduler, kite-hollow, kite-agent). Objects are boost::json
// objects exactly as the API serves them; errors are the API's own metav1.Status as a kite::Status
// (base/status.h: HTTP code, reason, message; a transport failure is kUnavailable), so callers
// branch on upstream reasons (IsNotFound, IsAlreadyExists, IsConflict, …) just as client-go
// users do.
//
// Threading: a Client is immutable after construction and may be used from many threads at
// once; every call blocks until the server answered (see transport.h for the one rule: never
// call from a watch callback).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/object.h"
#include "api/resources.h"
#include "base/status.h"
#include "client/transport.h"

namespace kite::client {

struct ListParams {
  std::string label_selector, field_selector;
  int64_t limit = 0;
  std::string continue_token;
  std::string resource_version;        // for watches: start after this one
  int64_t timeout_seconds = 0;         // watches: the server ends the stream after this long
  bool allow_bookmarks = false;
};

struct DeleteParams {
  std::string propagation_policy;      // "", Background, Foreground, Orphan
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid, precondition_resource_version;
};

enum class PatchType { kJson, kMerge, kStrategic, kApply };

// One watch event: type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (then `object` is a Status).
struct WatchEvent {
  std::string type;
  boost::json::object object;
};

class Client {
 public:
  explicit Client(std::shared_ptr<Transport> transport) : transport_(std::move(transport)) {}

  // `r` comes from api::FindResource (built-in) or the served set; `ns` is ignored for
  // cluster-scoped resources and "" lists across namespaces.
  Result<boost::json::object> Get(const api::ResourceInfo& r, const std::string& ns, const std::string& name) const;
  Result<boost::json::object> List(const api::ResourceInfo& r, const std::string& ns, const ListParams& p = {}) const;
  Result<boost::json::object> Create(const api::ResourceInfo& r, const std::string& ns, const boost::json::object& obj) const;
  // PUT of obj (its metadata.name; metadata.resourceVersion, when set, must be current: 409), to
  // the object or to one of its subresources (namespaces/finalize, …).
  Result<boost::json::object> Update(const api::ResourceInfo& r, const std::string& ns, const boost::json::object& obj,
                                     const std::string& subresource = "") const;
  // Update of the status subresource: the one status write of every controller.
  Result<boost::json::object> UpdateStatus(const api::ResourceInfo& r, const std::string& ns,
                                        const boost::json::object& obj) const;
  Result<boost::json::object> Patch(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                 PatchType type, const std::string& body, const std::string& subresource = "",
                                 const std::string& field_manager = "") const;
  // The same patch for a caller that does not read the patched object: on success the result is
  // an empty object, and the in-process transport spares the server serialising it.
  Result<boost::json::object> PatchDiscardingResult(const api::ResourceInfo& r, const std::string& ns,
                                                 const std::string& name, PatchType type, const std::string& body,
                                                 const std::string& subresource = "") const;
  // The deleted object (or the object pending deletion, or the Status the server answered).
  Result<boost::json::object> Delete(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                  const DeleteParams& p = {}) const;
  // POST to a subresource: pods/binding, pods/eviction, …
  Result<boost::json::object> CreateSubresource(const api::ResourceInfo& r, const std::string& ns,
                                             const std::string& name, const std::string& subresource,
                                             const boost::json::object& body) const;

  // CreateSubresource without holding the calling thread (Transport::DoAsync): `done` gets the
  // answer on a transport thread and must never call the client synchronously.
  void CreateSubresourceAsync(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                              const std::string& subresource, const boost::json::object& body,
                              std::function<void(Result<boost::json::object>)> done) const;

  // Watches from p.resource_version. on_event runs on a transport thread (keep it short, never
  // call the client from it); on_end once when the stream ends by itself (see transport.h).
  std::unique_ptr<WatchStream> Watch(const api::ResourceInfo& r, const std::string& ns, const ListParams& p,
                                     std::function<void(WatchEvent)> on_event,
                                     std::function<void(Status end)> on_end) const;
  // The same watch, handing over each event's JSON line undecoded (ParseWatchEvent decodes one).
  std::unique_ptr<WatchStream> WatchLines(const api::ResourceInfo& r, const std::string& ns, const ListParams& p,
                                          std::function<void(std::string_view line)> on_line,
                                          std::function<void(Status end)> on_end) const;
  // A watch line as an event; nullopt when it is not a JSON object.
  static std::optional<WatchEvent> ParseWatchEvent(std::string_view line);

  // The URL path of a resource collection or object ("/api/v1/namespaces/default/pods/x").
  static std::string Path(const api::ResourceInfo& r, const std::string& ns, const std::string& name = "",
                          const std::string& subresource = "");

  Transport* transport() const { return transport_.get(); }

 private:
  Result<boost::json::object> Call(Request req) const;
  static Request PatchRequest(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                              PatchType type, const std::string& body, const std::string& subresource);
  static Request SubresourcePost(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                 const std::string& subresource, const boost::json::object& body);
  std::shared_ptr<Transport> transport_;
};

// The work-queue key of an object, "ns/name" or "name" (its metadata: api/object.h).
std::string Key(const boost::json::object& obj);                       // "ns/name" or "name"

}  // namespace kite::client
