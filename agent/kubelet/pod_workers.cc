// The pod workers' plumbing: the informer and relist (PLEG) that queue syncs, the kills, the
// status writes. The sync itself is in pod_sync.cc.
#include "agent/kubelet/pod_workers.h"

#include <boost/json.hpp>

#include <algorithm>
#include <future>
#include <set>

#include "agent/kubelet/backoff.h"
#include "agent/kubelet/probe_handlers.h"
#include "api/object.h"
#include "base/log.h"
#include "base/thread_name.h"
#include "client/informer.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

std::string Label(const cri::Labels& l, const char* name) {
  auto it = l.find(name);
  return it == l.end() ? std::string() : it->second;
}

}  // namespace

PodWorkers::PodWorkers(NodeSet* nodes, const StatusManager* status, client::EventRecorder* events, Options opts,
                       const Clock* clock)
    : Controller("pod-workers", opts.workers),
      nodes_(nodes),
      status_(status),
      events_(events),
      opts_(opts),
      own_config_(opts.config ? nullptr : MinimalPodConfig()),
      config_(opts.config ? opts.config : own_config_.get()),
      clock_(clock),
      own_sources_(opts.sources ? nullptr : std::make_unique<PodSources>()),
      sources_(opts.sources ? opts.sources : own_sources_.get()),
      crash_backoff_(clock, opts.backoff_initial, opts.backoff_max),
      pull_backoff_(clock, opts.backoff_initial, opts.backoff_max) {
  probes_ = std::make_unique<ProbeManager>(events_, [this](const std::string& key) { queue_.Add(key); },
                                           opts.probe_threads);
}

PodWorkers::~PodWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  relist_cv_.notify_all();
  if (relist_.joinable()) relist_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    terminators_cv_.wait(lock, [this] { return terminators_ == 0; });
  }
  probes_.reset();  // its threads queue keys: gone before the queue
}

void PodWorkers::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
}

void PodWorkers::Evict(const std::string& key, const std::string& uid, std::string message, int64_t grace_s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    evictions_[uid] = {std::move(message), grace_s};
  }
  queue_.Add(key);
}

void PodWorkers::Init(client::InformerFactory& informers) {
  if (!sources_->api_attached()) sources_->AttachApi(informers);
  sources_->Subscribe([this](const client::ObjectPtr& pod) {
    if (nodes_->Find(api::GetString(*pod, {"spec", "nodeName"}))) queue_.Add(client::Key(*pod));
  });
  relist_ = std::thread([this] { RelistLoop(); });
}

void PodWorkers::RelistLoop() {
  SetThreadName("kubelet-pleg");
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    Relist();
    lock.lock();
    relist_cv_.wait_for(lock, opts_.relist_period, [this] { return stop_; });
  }
}

void PodWorkers::Relist() {
  // uid → what the runtime has of it, as one comparable string.
  std::unordered_map<std::string, Seen> now;
  for (const Node& node : nodes_->nodes()) {
    auto sandboxes = node.runtime->ListPodSandbox(cri::PodSandboxFilter{});
    auto containers = node.runtime->ListContainers(cri::ContainerFilter{});
    if (!sandboxes.ok() || !containers.ok()) {
      KITE_LOG(2) << "relist " << node.id.name << ": "
                  << (sandboxes.ok() ? containers.status().message() : sandboxes.status().message());
      return;  // a runtime that does not answer: no change is better than "all gone"
    }
    std::unordered_map<std::string, std::vector<std::string>> parts;
    auto note = [&](const cri::Labels& labels, std::string part) {
      const std::string uid = Label(labels, "io.kubernetes.pod.uid");
      if (uid.empty()) return;  // not a pod's (someone else's container in the namespace)
      Seen& s = now[uid];
      if (s.key.empty()) {
        s.key = Label(labels, "io.kubernetes.pod.namespace") + "/" + Label(labels, "io.kubernetes.pod.name");
        s.node = node.id.name;
      }
      parts[uid].push_back(std::move(part));
    };
    for (const auto& sb : *sandboxes) {
      note(sb.labels, "s" + sb.id + (sb.state == cri::PodSandboxState::kReady ? "+" : "-"));
      auto source = sb.annotations.find(kConfigSource);
      if (source != sb.annotations.end() && source->second == "file" && !sb.annotations.contains(kConfigMirror)) {
        if (auto it = now.find(Label(sb.labels, "io.kubernetes.pod.uid")); it != now.end()) it->second.from_file = true;
      }
    }
    for (const auto& c : *containers) note(c.labels, "c" + c.id + std::to_string(static_cast<int>(c.state)));
    for (auto& [uid, p] : parts) {
      std::sort(p.begin(), p.end());
      for (const auto& s : p) now[uid].fingerprint += s + ";";
    }
  }
  std::set<std::string> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [uid, s] : now) {
      auto it = seen_.find(uid);
      if (it == seen_.end() || it->second.fingerprint != s.fingerprint) changed.insert(s.key);
    }
    for (const auto& [uid, s] : seen_) {
      if (!now.count(uid)) changed.insert(s.key);
    }
    seen_ = std::move(now);
    uids_by_key_.clear();
    for (const auto& [uid, s] : seen_) uids_by_key_[s.key].push_back(uid);
  }
  for (const auto& key : changed) queue_.Add(key);
}

void PodWorkers::Event(const json::object& pod, const std::string& field_path, const char* type, const char* reason,
                       const std::string& message) {
  if (!events_) return;
  json::object ref = client::EventRecorder::ReferenceTo(pod);
  if (!field_path.empty()) ref["fieldPath"] = field_path;
  events_->RecordFor(ref, type, reason, "", message);
}

void PodWorkers::Retry(const std::string& key, PodState& st, const std::string& what, const std::string& message) {
  KITE_LOG(st.failures == 0 ? 0 : 2) << "pod " << key << ": " << what << ": " << message << " (retrying)";
  queue_.AddAfter(key, RetryDelay(st.failures++));
}

Status PodWorkers::WriteStatus(const std::string& key, const json::object& pod, json::object status, PodState& st) {
  // Where it goes: the pod, or a static pod's mirror pod. A static pod without one (no API
  // server yet, or MirrorPods has not made it) has nowhere to write: the mirror's arrival
  // queues the pod again. A re-created mirror starts with no status: written again.
  std::string target = api::Uid(pod);
  if (st.is_static) {
    client::ObjectPtr mirror = sources_->MirrorOf(pod);
    if (!mirror) return Status::Ok();
    target = api::Uid(*mirror);
  }
  const json::object& last = st.written.empty() || st.written_to != target ? api::GetObject(pod, "status") : st.written;
  if (json::value(status) == json::value(last)) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return Status::Ok();  // Stopping: the next start writes what it finds
  }
  ++writes_;  // before the write: whoever sees it in the API sees it counted
  auto res = status_->SetPodStatus(pod, status);
  if (res.NotFound()) return Status::Ok();  // deleted meanwhile; its DELETED event cleans up
  if (!res.ok()) {
    if (st.terminal) st.unwritten = std::move(status);  // the retry has no sync to recompute it
    Retry(key, st, "status", res.error().message());
    return Status::Ok();
  }
  KITE_LOG(2) << "pod " << key << ": status " << api::GetString(status, "phase");
  st.unwritten.clear();
  st.written = std::move(status);
  st.written_to = target;
  st.failures = 0;
  return Status::Ok();
}

void PodWorkers::KillContainer(const Node& node, const json::object* pod, const json::object* spec,
                               const std::string& field_path, const std::string& id, const std::string& pod_ip,
                               int64_t grace_s, const std::string& message) {
  const auto began = std::chrono::steady_clock::now();
  if (pod) Event(*pod, field_path, "Normal", "Killing", message);
  const json::object* pre_stop = spec ? api::FindObject(*spec, {"lifecycle", "preStop"}) : nullptr;
  if (pre_stop && grace_s > 0) {
    HandlerTarget t{node.runtime, id, pod_ip, spec};
    ProbeResult r = RunHandler(*pre_stop, t, std::chrono::seconds(grace_s));
    if (r.outcome != ProbeOutcome::kSuccess && pod) {
      Event(*pod, field_path, "Warning", "FailedPreStopHook", "PreStopHook failed: " + r.output);
    }
  }
  // What is left of the grace period; upstream gives at least 2 s after a preStop hook.
  const int64_t spent = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began).count();
  int64_t left = grace_s - spent;
  if (pre_stop) left = std::max<int64_t>(left, 2);
  if (auto s = node.runtime->StopContainer(id, std::max<int64_t>(left, 0)); !s.ok()) {
    KITE_LOG(0) << "container " << id << " on " << node.id.name << ": stop: " << s.message();
  }
}

void PodWorkers::KillPod(const Node& node, const json::object* pod, const std::string& uid, int64_t grace_s,
                         bool remove) {
  cri::ContainerFilter cf;
  cf.label_selector = {{"io.kubernetes.pod.uid", uid}};
  cf.state = cri::ContainerState::kRunning;
  auto running = node.runtime->ListContainers(cf);
  std::string pod_ip;
  if (running.ok() && !running->empty()) {
    if (auto sb = node.runtime->PodSandboxStatus(running->front().pod_sandbox_id); sb.ok()) pod_ip = sb->ip;
    // In parallel, as upstream does: the grace period bounds the whole pod, not each container.
    std::vector<std::future<void>> kills;
    for (const auto& c : *running) {
      const std::string name = Label(c.labels, "io.kubernetes.container.name");
      const json::object* spec = nullptr;
      std::string field_path;
      if (pod) {
        for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
          for (const auto& s : api::GetArray(*pod, {"spec", list})) {
            if (s.is_object() && api::GetString(s.as_object(), "name") == name) {
              spec = &s.as_object();
              field_path = std::string("spec.") + list + "{" + name + "}";
            }
          }
        }
      }
      kills.push_back(std::async(std::launch::async, [&, spec, field_path, id = c.id, name] {
        KillContainer(node, pod, spec, field_path, id, pod_ip, grace_s, "Stopping container " + name);
      }));
    }
    for (auto& k : kills) k.get();
  }
  // Stopping the sandbox stops what is left and gives its IP back; removing it removes them.
  // To remove, RemovePodSandbox alone: the CRI has the runtime stop a sandbox it removes, and
  // containerd 1.6 runs that stop (every CNI plugin's DEL) even for a stopped one, so a
  // StopPodSandbox first cost a second round of plugin executions with the netns already gone.
  cri::PodSandboxFilter sf;
  sf.label_selector = {{"io.kubernetes.pod.uid", uid}};
  auto sandboxes = node.runtime->ListPodSandbox(sf);
  if (!sandboxes.ok()) {
    KITE_LOG(0) << "pod " << uid << " on " << node.id.name << ": " << sandboxes.status().message();
    return;
  }
  for (const auto& sb : *sandboxes) {
    Status s = remove ? node.runtime->RemovePodSandbox(sb.id) : node.runtime->StopPodSandbox(sb.id);
    if (!s.ok() && remove) {  // at least give the IP back; the next sync removes it
      KITE_LOG(0) << "sandbox " << sb.id << " on " << node.id.name << ": " << s.message();
      s = node.runtime->StopPodSandbox(sb.id);
    }
    if (!s.ok()) KITE_LOG(0) << "sandbox " << sb.id << " on " << node.id.name << ": " << s.message();
  }
}

Status PodWorkers::SyncGone(const std::string& key) {
  // The pod is gone from the API (or was never ours): whatever the runtime has of it goes, at once.
  std::vector<std::pair<std::string, std::string>> uids;  // (uid, node)
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_.erase(key);
    if (auto it = uids_by_key_.find(key); it != uids_by_key_.end()) {
      for (const auto& uid : it->second) uids.emplace_back(uid, seen_[uid].node);
    }
  }
  for (const auto& [uid, node_name] : uids) {
    probes_->RemovePod(uid);
    crash_backoff_.ForgetPrefix(uid + "/");
    pull_backoff_.ForgetPrefix(uid + "/");
    if (const Node* node = nodes_->Find(node_name)) {
      KITE_LOG(2) << "pod " << key << " (" << uid << "): gone; removing its sandbox";
      KillPod(*node, nullptr, uid, 0);
    }
    config_->TearDown(uid);
  }
  return Status::Ok();
}

bool PodWorkers::OnlyStaticInRuntime(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uids_by_key_.find(key);
  if (it == uids_by_key_.end() || it->second.empty()) return false;
  for (const auto& uid : it->second) {
    if (!seen_[uid].from_file) return false;
  }
  return true;
}

void PodWorkers::KillStaleUids(const std::string& key, const Node& node, const std::string& keep_uid) {
  std::vector<std::string> stale;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = uids_by_key_.find(key); it != uids_by_key_.end()) {
      for (const auto& uid : it->second) {
        if (uid != keep_uid && seen_[uid].node == node.id.name) stale.push_back(uid);
      }
    }
  }
  for (const auto& uid : stale) {  // an earlier pod of this name
    probes_->RemovePod(uid);
    KillPod(node, nullptr, uid, 0);
    config_->TearDown(uid);
  }
}

void PodWorkers::Terminate(const std::string& key, const json::object& pod, const Node& node, int64_t grace_s) {
  const std::string uid = api::Uid(pod);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || terminating_.count(uid)) return;
    terminating_[uid] = true;
    ++terminators_;
  }
  std::thread([this, key, uid, pod = json::object(pod), node = &node, grace_s] {
    SetThreadName("kubelet-term");
    KillPod(*node, &pod, uid, grace_s);
    bool left = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      left = stop_;  // the kill may have been cut short: the next start finishes it
    }
    Result<json::object> res = json::object();
    if (left) {
      KITE_LOG(0) << "pod " << key << ": stopping; its termination is left to the next start";
    } else {
      res = status_->FinishDeletion(pod);
      if (res.ok()) {
        config_->TearDown(uid);
        KITE_LOG(2) << "pod " << key << ": deleted";
      } else {
        KITE_LOG(0) << "pod " << key << ": delete: " << res.error().message() << " (retrying)";
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    terminating_.erase(uid);
    if (!res.ok() && !stop_) queue_.AddAfter(key, RetryDelay(3));
    if (--terminators_ == 0) terminators_cv_.notify_all();
  }).detach();
}

Status PodWorkers::Reconcile(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return Status::Ok();
  const SourcedPod src = sources_->Get(key);
  if (src.kind == SourcedPod::Kind::kUnknown) {
    if (OnlyStaticInRuntime(key)) return SyncGone(key);  // its manifest went while we were away
    queue_.AddAfter(key, std::chrono::seconds(1));        // the API has not listed yet
    return Status::Ok();
  }
  const Node* node = src.pod ? nodes_->Find(api::GetString(*src.pod, {"spec", "nodeName"})) : nullptr;
  if (!src.pod || !node) return SyncGone(key);
  // A static pod reads as its mirror pod does: with the status last written there.
  json::object as_mirror;
  if (src.is_static) {
    as_mirror = *src.pod;
    if (client::ObjectPtr m = sources_->MirrorOf(as_mirror)) as_mirror["status"] = api::GetObject(*m, "status");
  }
  const json::object& pod = src.is_static ? as_mirror : *src.pod;
  const std::string uid = api::Uid(pod);
  PodState st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st = state_[key];
  }
  if (st.uid != uid) {
    if (!st.uid.empty()) {
      probes_->RemovePod(st.uid);
      crash_backoff_.ForgetPrefix(st.uid + "/");
      pull_backoff_.ForgetPrefix(st.uid + "/");
    }
    st = PodState();
    st.uid = uid;
  }
  st.is_static = src.is_static;
  KillStaleUids(key, *node, uid);

  Status s;
  const std::string phase = api::GetString(pod, {"status", "phase"});
  if (api::IsBeingDeleted(pod)) {
    int64_t grace = api::GetInt(pod, {"spec", "terminationGracePeriodSeconds"}, 30);
    if (const json::value* g = api::Metadata(pod).if_contains("deletionGracePeriodSeconds"); g && !g->is_null()) {
      grace = api::AsInt(*g);
    }
    probes_->RemovePod(uid);
    Terminate(key, pod, *node, std::max<int64_t>(grace, 0));
  } else if (IsTerminalPhase(phase) || st.terminal) {
    if (!st.terminal) {  // finished (maybe before a restart of ours): its sandbox goes, once
      probes_->RemovePod(uid);
      KillPod(*node, &pod, uid, 0);
      st.terminal = true;
    } else if (!st.unwritten.empty()) {
      json::object again = st.unwritten;  // WriteStatus keeps it again if this write fails too
      s = WriteStatus(key, pod, std::move(again), st);
    }
  } else {
    s = SyncPod(key, pod, *node, st);
    ++syncs_;  // after: a write of this sync is counted by now
  }
  std::lock_guard<std::mutex> lock(mu_);
  state_[key] = std::move(st);
  return s;
}

}  // namespace kite::kubelet
