#include "server/controllers/common/controller_utils.h"

#include <boost/json.hpp>

#include <random>

#include "base/log.h"
#include "client/workqueue.h"

namespace kite::controllers {

const json::object& Obj(const json::object& o, const char* key) {
  static const json::object kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

const json::array& Arr(const json::object& o, const char* key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->as_array() : kEmpty;
}

std::string Str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, const char* key, int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return fallback;
}

bool Bool(const json::object& o, const char* key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

json::object ControllerRef(const json::object& owner) {
  const auto& m = Obj(owner, "metadata");
  return json::object{{"apiVersion", Str(owner, "apiVersion")}, {"kind", Str(owner, "kind")},
                      {"name", Str(m, "name")},                 {"uid", Str(m, "uid")},
                      {"controller", true},                     {"blockOwnerDeletion", true}};
}

const json::object* ControllerOf(const json::object& obj) {
  for (const auto& r : Arr(Obj(obj, "metadata"), "ownerReferences")) {
    if (r.is_object() && Bool(r.as_object(), "controller")) return &r.as_object();
  }
  return nullptr;
}

bool IsControlledBy(const json::object& obj, const std::string& owner_uid) {
  const auto* ref = ControllerOf(obj);
  return ref && Str(*ref, "uid") == owner_uid;
}

std::string KeyOf(const json::object& obj) { return client::Key(obj); }

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

api::LabelSelector SelectorOf(const json::object& obj) {
  const auto& spec = Obj(obj, "spec");
  auto* sel = spec.if_contains("selector");
  if (!sel) return api::LabelSelector::Nothing();
  auto s = api::LabelSelector::FromLabelSelectorJson(*sel);
  return s.ok() ? s.value() : api::LabelSelector::Nothing();
}

api::LabelSelector MapSelector(const json::value* map) {
  if (!map || !map->is_object() || map->as_object().empty()) return api::LabelSelector::Nothing();
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : map->as_object()) {
    if (v.is_string()) m[std::string(k)] = std::string(v.as_string());
  }
  return api::LabelSelector::FromSet(m);
}

bool LabelsMatch(const api::LabelSelector& s, const json::object& obj) {
  return s.Matches(Obj(Obj(obj, "metadata"), "labels"));
}

bool IsPodActive(const json::object& pod) {
  std::string phase = Str(Obj(pod, "status"), "phase");
  return phase != "Succeeded" && phase != "Failed" && !Obj(pod, "metadata").contains("deletionTimestamp");
}

namespace {
const json::object* ReadyCondition(const json::object& pod) {
  for (const auto& c : Arr(Obj(pod, "status"), "conditions")) {
    if (c.is_object() && Str(c.as_object(), "type") == "Ready") return &c.as_object();
  }
  return nullptr;
}
}  // namespace

bool IsPodReady(const json::object& pod) {
  const auto* c = ReadyCondition(pod);
  return c && Str(*c, "status") == "True";
}

bool IsPodAvailable(const json::object& pod, int64_t min_ready_seconds, api::Timestamp now) {
  const auto* c = ReadyCondition(pod);
  if (!c || Str(*c, "status") != "True") return false;
  if (min_ready_seconds <= 0) return true;
  auto t = api::ParseTime(Str(*c, "lastTransitionTime"));
  return t && *t + std::chrono::seconds(min_ready_seconds) <= now;
}

json::object PodFromTemplate(const json::object& tmpl, const json::object& owner, const std::string& generate_name) {
  const auto& tm = Obj(tmpl, "metadata");
  json::object meta;
  meta["generateName"] = generate_name;
  meta["namespace"] = Str(Obj(owner, "metadata"), "namespace");
  if (tm.contains("labels")) meta["labels"] = tm.at("labels");
  if (tm.contains("annotations")) meta["annotations"] = tm.at("annotations");
  if (tm.contains("finalizers")) meta["finalizers"] = tm.at("finalizers");
  meta["ownerReferences"] = json::array{ControllerRef(owner)};
  json::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
  pod["spec"] = Obj(tmpl, "spec");
  return pod;
}

bool Expectations::Satisfied(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return true;
  if ((it->second.adds <= 0 && it->second.dels <= 0) ||
      std::chrono::steady_clock::now() - it->second.at > std::chrono::minutes(5)) {
    return true;
  }
  return false;
}

void Expectations::Expect(const std::string& key, int adds, int dels) {
  std::lock_guard<std::mutex> lock(mu_);
  items_[key] = Entry{adds, dels, std::chrono::steady_clock::now()};
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = items_.find(key); it != items_.end()) --it->second.adds;
}

void Expectations::DeletionObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = items_.find(key); it != items_.end()) --it->second.dels;
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  items_.erase(key);
}

void EventRecorder::Record(const json::object& obj, const std::string& type, const std::string& reason,
                           const std::string& message) {
  static const api::ResourceInfo* events = api::FindResource("", "v1", "events");
  const auto& m = Obj(obj, "metadata");
  std::string ns = Str(m, "namespace");
  if (ns.empty()) ns = "default";
  const std::string now = api::NowTime();
  const std::string fold = Str(m, "uid") + "|" + type + "|" + reason + "|" + message;
  std::string existing;
  int64_t count = 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = recent_.find(fold); it != recent_.end()) {
      existing = it->second.first;
      count = ++it->second.second;
    }
  }
  if (!existing.empty()) {
    json::object patch{{"count", count}, {"lastTimestamp", now}};
    auto r = client_->Patch(*events, ns, existing, client::PatchType::kMerge, json::serialize(patch));
    if (r.ok()) return;
    count = 1;  // gone (or expired): write a new one
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  std::string name = Str(m, "name") + "." + suffix;
  json::object involved{{"apiVersion", Str(obj, "apiVersion")}, {"kind", Str(obj, "kind")}, {"name", Str(m, "name")},
                        {"uid", Str(m, "uid")}, {"resourceVersion", Str(m, "resourceVersion")}};
  if (!Str(m, "namespace").empty()) involved["namespace"] = Str(m, "namespace");
  json::object ev{{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", json::object{{"name", name}, {"namespace", ns}}},
                  {"involvedObject", std::move(involved)},
                  {"reason", reason},
                  {"message", message},
                  {"type", type},
                  {"source", json::object{{"component", component_}}},
                  {"reportingComponent", component_},
                  {"reportingInstance", ""},
                  {"firstTimestamp", now},
                  {"lastTimestamp", now},
                  {"count", count}};
  auto r = client_->Create(*events, ns, ev);
  if (!r.ok()) {
    KITE_LOG(2) << "event " << reason << " for " << KeyOf(obj) << ": " << r.error().message();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (recent_.size() > 4096) recent_.clear();  // a bounded memory of what to fold
  recent_[fold] = {name, count};
}

client::EventHandler EnqueueSelf(client::WorkQueue* q) {
  return client::EventHandler{[q](const ObjectPtr& o) { q->Add(KeyOf(*o)); },
                              [q](const ObjectPtr&, const ObjectPtr& o) { q->Add(KeyOf(*o)); },
                              [q](const ObjectPtr& o) { q->Add(KeyOf(*o)); }};
}

}  // namespace kite::controllers
