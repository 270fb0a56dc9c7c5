// What every controller shares, following upstream's controller_utils: owner references,
// expectations (so a controller does not act twice on the same need before its informer has
// seen its own writes), pods made from templates, pod readiness and availability, and the
// event recorder that makes `kubectl describe` tell the story.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/labels.h"
#include "api/time.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kite::controllers {

namespace json = boost::json;
using client::ObjectPtr;

// Member access with empties for what is missing or of another type.
const json::object& Obj(const json::object& o, const char* key);
const json::array& Arr(const json::object& o, const char* key);
std::string Str(const json::object& o, const char* key);
int64_t Int(const json::object& o, const char* key, int64_t fallback = 0);
bool Bool(const json::object& o, const char* key, bool fallback = false);

// metadata.ownerReferences entry with controller: true, pointing at `owner` (its apiVersion,
// kind, name, uid), blockOwnerDeletion true as upstream's controllers set it.
json::object ControllerRef(const json::object& owner);
// The controlling owner reference of obj, if any.
const json::object* ControllerOf(const json::object& obj);
bool IsControlledBy(const json::object& obj, const std::string& owner_uid);

// ns/name of the object, as work queue keys are.
std::string KeyOf(const json::object& obj);
std::pair<std::string, std::string> SplitKey(const std::string& key);

// spec.selector (a metav1.LabelSelector) as a selector; invalid or missing → Nothing.
api::LabelSelector SelectorOf(const json::object& obj);
// A plain label map selector (ReplicationController spec.selector); empty → Nothing.
api::LabelSelector MapSelector(const json::value* map);
bool LabelsMatch(const api::LabelSelector& s, const json::object& obj);

// Pods.
bool IsPodActive(const json::object& pod);  // not Succeeded/Failed, not being deleted
bool IsPodReady(const json::object& pod);   // condition Ready=True
// Ready for at least minReadySeconds (by the Ready condition's lastTransitionTime).
bool IsPodAvailable(const json::object& pod, int64_t min_ready_seconds, api::Timestamp now);
// A new pod from `tmpl` (a PodTemplateSpec) owned by `owner`, named generateName "<prefix>".
json::object PodFromTemplate(const json::object& tmpl, const json::object& owner, const std::string& generate_name);

// ControllerExpectations: per controller key, how many creations/deletions it still expects to
// observe. Satisfied when both reached zero, or after 5 minutes (a lost event must not wedge it).
class Expectations {
 public:
  bool Satisfied(const std::string& key);
  void Expect(const std::string& key, int adds, int dels);
  void CreationObserved(const std::string& key);
  void DeletionObserved(const std::string& key);
  void Delete(const std::string& key);

 private:
  struct Entry {
    int adds = 0, dels = 0;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  std::map<std::string, Entry> items_;
};

// Writes core/v1 Events about objects (involvedObject, reason, message, source.component),
// folding repeats of the same event into one with a count, as upstream's recorder does.
class EventRecorder {
 public:
  EventRecorder(const client::Client* client, std::string component) : client_(client), component_(std::move(component)) {}
  void Normal(const json::object& obj, const std::string& reason, const std::string& message) {
    Record(obj, "Normal", reason, message);
  }
  void Warning(const json::object& obj, const std::string& reason, const std::string& message) {
    Record(obj, "Warning", reason, message);
  }
  void Record(const json::object& obj, const std::string& type, const std::string& reason, const std::string& message);

 private:
  const client::Client* client_;
  std::string component_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, int64_t>> recent_;  // fold key → (event name, count)
};

// Standard informer handlers that enqueue the object's own key.
client::EventHandler EnqueueSelf(client::WorkQueue* q);

}  // namespace kite::controllers
