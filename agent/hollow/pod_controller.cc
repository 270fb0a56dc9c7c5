#include "agent/hollow/pod_controller.h"

#include <boost/json.hpp>

#include "agent/hollow/backoff.h"
#include "agent/hollow/json_fields.h"
#include "agent/hollow/pod_status.h"
#include "api/time.h"
#include "base/log.h"
#include "client/informer.h"

namespace kite::hollow {
namespace json = boost::json;

namespace {

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

bool HostNetwork(const json::object& pod) {
  const json::value* v = ObjectField(pod, "spec").if_contains("hostNetwork");
  return v && v->is_bool() && v->as_bool();
}

template <typename Duration>
std::chrono::steady_clock::duration ToSteady(Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

}  // namespace

PodController::PodController(const client::Client* client, NodeSet* nodes, std::chrono::milliseconds start_latency,
                             std::chrono::milliseconds job_duration, int workers)
    : Controller("hollow-pods", workers),
      client_(client),
      nodes_(nodes),
      start_latency_(start_latency),
      job_duration_(job_duration) {}

void PodController::Init(client::InformerFactory& informers) {
  pods_ = informers.For(Pods());
  auto enqueue = [this](const client::ObjectPtr& pod) {
    if (nodes_->Find(StringField(ObjectField(*pod, "spec"), "nodeName"))) queue_.Add(client::Key(*pod));
  };
  client::EventHandler h;
  h.on_add = enqueue;
  h.on_update = [enqueue](const client::ObjectPtr&, const client::ObjectPtr& pod) { enqueue(pod); };
  h.on_delete = enqueue;
  pods_->AddHandler(std::move(h));
}

void PodController::Retry(const std::string& key, PodState& st, const kite::Status& e, const char* what) {
  KITE_LOG(st.failures == 0 ? 0 : 2) << "pod " << key << ": " << what << ": " << e.http_code() << " " << e.reason() << " "
                                     << e.message() << " (retrying)";
  queue_.AddAfter(key, RetryDelay(st.failures++));
}

Status PodController::Reconcile(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return Status::Ok();
  client::ObjectPtr obj = pods_->Get(key.substr(0, slash), key.substr(slash + 1));
  const std::string node = obj ? StringField(ObjectField(*obj, "spec"), "nodeName") : "";
  if (!obj || !nodes_->Find(node)) {  // gone (or never ours): forget it
    nodes_->ReleasePodIp(key);
    std::lock_guard<std::mutex> lock(mu_);
    state_.erase(key);
    return Status::Ok();
  }
  const json::object& pod = *obj;
  PodState st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st = state_[key];
  }
  if (const std::string uid = client::MetaStr(pod, "uid"); st.uid != uid) st = PodState{.uid = uid};

  Status s;
  const std::string phase = StringField(ObjectField(pod, "status"), "phase");
  if (ObjectField(pod, "metadata").contains("deletionTimestamp")) {
    s = FinishDeletion(key, pod, st);
  } else if (phase == "Succeeded" || phase == "Failed" || st.done_written) {
    nodes_->ReleasePodIp(key);  // its sandbox is gone
  } else if (phase == "Running" || st.running_written) {
    if (!st.running_written) nodes_->AdoptPodIp(node, key, StringField(ObjectField(pod, "status"), "podIP"));
    if (RunsToCompletion(pod)) s = Finish(key, pod, node, st);
  } else {
    s = Start(key, pod, node, st);
  }
  std::lock_guard<std::mutex> lock(mu_);
  state_[key] = st;
  return s;
}

Status PodController::Start(const std::string& key, const json::object& pod, const std::string& node, PodState& st) {
  const auto now = Steady::now();
  if (st.seen == Steady::time_point{}) st.seen = now;
  if (now < st.seen + start_latency_) {
    queue_.AddAfter(key, st.seen + start_latency_ - now);
    return Status::Ok();
  }
  const NodeIdentity* id = nodes_->Find(node);
  PodPlacement where{id->internal_ip, HostNetwork(pod) ? id->internal_ip : nodes_->PodIp(node, key)};
  if (where.pod_ip.empty()) {
    KITE_LOG(0) << "pod " << key << ": no free IP in the pod CIDR of " << node << "; trying again in 10 s";
    queue_.AddAfter(key, std::chrono::seconds(10));
    return Status::Ok();
  }
  const auto started = WallClock::now();
  json::object patch{{"status", RunningPodStatus(pod, where, started)}};
  auto res = client_->Patch(Pods(), client::MetaStr(pod, "namespace"), client::MetaStr(pod, "name"),
                            client::PatchType::kMerge, json::serialize(patch), "status");
  if (res.NotFound()) return Status::Ok();  // deleted meanwhile; its DELETED event cleans up
  if (!res.ok()) {
    Retry(key, st, res.error(), "status Running");
    return Status::Ok();
  }
  KITE_LOG(2) << "pod " << key << ": Running on " << node << " with IP " << where.pod_ip;
  st.running_written = true;
  st.started_at = started;
  st.failures = 0;
  if (RunsToCompletion(pod)) queue_.AddAfter(key, job_duration_);
  return Status::Ok();
}

Status PodController::Finish(const std::string& key, const json::object& pod, const std::string& node, PodState& st) {
  const json::object& status = ObjectField(pod, "status");
  WallClock::time_point started = st.started_at;
  if (!st.running_written) {  // started by an earlier run of kite-hollow
    started = api::ParseTime(StringField(status, "startTime")).value_or(WallClock::now());
  }
  const auto now = WallClock::now();
  if (now < started + job_duration_) {
    queue_.AddAfter(key, ToSteady(started + job_duration_ - now));
    return Status::Ok();
  }
  const NodeIdentity* id = nodes_->Find(node);
  std::string ip = StringField(status, "podIP");
  if (ip.empty()) ip = HostNetwork(pod) ? id->internal_ip : nodes_->PodIp(node, key);
  json::object patch{{"status", SucceededPodStatus(pod, PodPlacement{id->internal_ip, ip}, started, now)}};
  auto res = client_->Patch(Pods(), client::MetaStr(pod, "namespace"), client::MetaStr(pod, "name"),
                            client::PatchType::kMerge, json::serialize(patch), "status");
  if (res.NotFound()) return Status::Ok();
  if (!res.ok()) {
    Retry(key, st, res.error(), "status Succeeded");
    return Status::Ok();
  }
  KITE_LOG(2) << "pod " << key << ": Succeeded";
  st.done_written = true;
  st.failures = 0;
  nodes_->ReleasePodIp(key);
  return Status::Ok();
}

Status PodController::FinishDeletion(const std::string& key, const json::object& pod, PodState& st) {
  client::DeleteParams p;
  p.grace_period_seconds = 0;
  p.precondition_uid = client::MetaStr(pod, "uid");  // never the pod re-created under its name
  auto res = client_->Delete(Pods(), client::MetaStr(pod, "namespace"), client::MetaStr(pod, "name"), p);
  // Gone, or a different pod by now (the precondition failed): either way ours is finished.
  if (res.ok() || res.NotFound() || res.error().http_code() == 409) {
    KITE_LOG(2) << "pod " << key << ": deleted";
    nodes_->ReleasePodIp(key);
    return Status::Ok();
  }
  Retry(key, st, res.error(), "delete");
  return Status::Ok();
}

}  // namespace kite::hollow
