#include "agent/kubelet/pod_workers.h"

#include <boost/json.hpp>

#include <algorithm>

#include "agent/kubelet/backoff.h"
#include "api/object.h"
#include "base/log.h"
#include "client/informer.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

const json::array& ContainerList(const json::object& pod, const char* list) {
  return api::GetArray(pod, {"spec", list});
}

std::vector<std::string> Strings(const json::object& o, const char* name) {
  std::vector<std::string> out;
  for (const auto& e : api::GetArray(o, name)) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

// The labels upstream's kubelet puts on sandboxes and containers: who they belong to.
cri::Labels PodLabels(const json::object& pod) {
  return cri::Labels{{"io.kubernetes.pod.name", api::Name(pod)},
                     {"io.kubernetes.pod.namespace", api::Namespace(pod)},
                     {"io.kubernetes.pod.uid", api::Uid(pod)}};
}

cri::PodSandboxConfig SandboxConfig(const json::object& pod) {
  cri::PodSandboxConfig c;
  c.metadata.name = api::Name(pod);
  c.metadata.namespace_ = api::Namespace(pod);
  c.metadata.uid = api::Uid(pod);
  const std::string hostname = api::GetString(pod, {"spec", "hostname"});
  c.hostname = hostname.empty() ? c.metadata.name : hostname;
  c.log_directory = "/var/log/pods/" + c.metadata.namespace_ + "_" + c.metadata.name + "_" + c.metadata.uid;
  c.host_network = api::GetBool(pod, {"spec", "hostNetwork"});
  c.labels = PodLabels(pod);
  return c;
}

cri::ContainerConfig ContainerConfig(const json::object& pod, const json::object& container) {
  cri::ContainerConfig c;
  c.metadata.name = api::GetString(container, "name");
  c.image.image = api::GetString(container, "image");
  c.command = Strings(container, "command");
  c.args = Strings(container, "args");
  c.working_dir = api::GetString(container, "workingDir");
  for (const auto& e : api::GetArray(container, "env")) {
    if (e.is_object()) c.envs.emplace_back(api::GetString(e.as_object(), "name"), api::GetString(e.as_object(), "value"));
  }
  c.labels = PodLabels(pod);
  c.labels["io.kubernetes.container.name"] = c.metadata.name;
  c.log_path = c.metadata.name + "/0.log";
  return c;
}

WallClock::time_point FromNanos(int64_t ns) {
  return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

PodWorkers::PodWorkers(NodeSet* nodes, const StatusManager* status, Options opts)
    : Controller("pod-workers", opts.workers), nodes_(nodes), status_(status), opts_(opts) {}

void PodWorkers::Init(client::InformerFactory& informers) {
  pods_ = informers.For(Pods());
  auto enqueue = [this](const client::ObjectPtr& pod) {
    if (nodes_->Find(api::GetString(*pod, {"spec", "nodeName"}))) queue_.Add(client::Key(*pod));
  };
  client::EventHandler h;
  h.on_add = enqueue;
  h.on_update = [enqueue](const client::ObjectPtr&, const client::ObjectPtr& pod) { enqueue(pod); };
  h.on_delete = enqueue;
  pods_->AddHandler(std::move(h));
}

void PodWorkers::Retry(const std::string& key, PodState& st, const kite::Status& e, const char* what) {
  KITE_LOG(st.failures == 0 ? 0 : 2) << "pod " << key << ": " << what << ": " << e.http_code() << " " << e.reason() << " "
                                     << e.message() << " (retrying)";
  queue_.AddAfter(key, RetryDelay(st.failures++));
}

void PodWorkers::RetryRuntime(const std::string& key, PodState& st, const Status& s, const char* what) {
  KITE_LOG(st.failures == 0 ? 0 : 2) << "pod " << key << ": " << what << ": " << s.message() << " (retrying)";
  queue_.AddAfter(key, RetryDelay(st.failures++));
}

void PodWorkers::KillPod(PodState& st) {
  if (st.sandbox_id.empty()) return;
  if (const Node* node = nodes_->Find(st.node)) {
    // Stopping the sandbox stops its containers and gives its IP back; removing it removes them.
    Status s = node->runtime->StopPodSandbox(st.sandbox_id);
    if (s.ok()) s = node->runtime->RemovePodSandbox(st.sandbox_id);
    if (!s.ok()) KITE_LOG(0) << "sandbox " << st.sandbox_id << " on " << st.node << ": " << s.message();
  }
  st.sandbox_id.clear();
  st.pod_ip.clear();
  st.containers.clear();
  st.init_done = 0;
}

Status PodWorkers::Reconcile(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return Status::Ok();
  client::ObjectPtr obj = pods_->Get(key.substr(0, slash), key.substr(slash + 1));
  const Node* node = obj ? nodes_->Find(api::GetString(*obj, {"spec", "nodeName"})) : nullptr;
  if (!obj || !node) {  // gone (or never ours): its sandbox goes too
    PodState gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = state_.find(key);
      if (it == state_.end()) return Status::Ok();
      gone = std::move(it->second);
      state_.erase(it);
    }
    KillPod(gone);
    return Status::Ok();
  }
  const json::object& pod = *obj;
  PodState st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st = state_[key];
  }
  if (const std::string uid = api::Uid(pod); st.uid != uid) {
    KillPod(st);  // an earlier pod of this name
    st = PodState();
    st.uid = uid;
  }

  Status s;
  const std::string phase = api::GetString(pod, {"status", "phase"});
  if (api::IsBeingDeleted(pod)) {
    KillPod(st);
    auto res = status_->FinishDeletion(pod);
    if (res.ok()) {
      KITE_LOG(2) << "pod " << key << ": deleted";
    } else {
      Retry(key, st, res.error(), "delete");
    }
  } else if (phase == "Succeeded" || phase == "Failed" || st.done_written) {
    KillPod(st);  // finished: its sandbox is gone
  } else if (st.running_written && !RunsToCompletion(pod)) {
    // Reported Running, and its containers run until stopped: nothing to do.
  } else {
    const auto now = Steady::now();
    if (st.seen == Steady::time_point{}) st.seen = now;
    if (st.sandbox_id.empty() && now < st.seen + opts_.start_latency) {
      queue_.AddAfter(key, st.seen + opts_.start_latency - now);
    } else {
      bool ready = false;
      s = StartPod(key, pod, *node, st, &ready);
      if (s.ok() && ready) s = SyncStatus(key, pod, *node, st);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  state_[key] = std::move(st);
  return s;
}

Status PodWorkers::StartContainer(const Node& node, const json::object& pod, const json::object& container,
                                  const cri::PodSandboxConfig& sandbox, PodState& st, std::string* id) {
  const cri::ContainerConfig config = ContainerConfig(pod, container);
  // Pulled only when missing (imagePullPolicy IfNotPresent, the default for tagged images).
  auto have = node.images->ImageStatus(config.image);
  if (!have.ok()) return have.status();
  if (!have->has_value()) {
    auto pulled = node.images->PullImage(config.image, std::nullopt, sandbox);
    if (!pulled.ok()) return pulled.status();
  }
  auto created = node.runtime->CreateContainer(st.sandbox_id, config, sandbox);
  if (!created.ok()) return created.status();
  if (auto s = node.runtime->StartContainer(*created); !s.ok()) return s;
  st.containers.emplace_back(config.metadata.name, *created);
  *id = *created;
  return Status::Ok();
}

Status PodWorkers::StartPod(const std::string& key, const json::object& pod, const Node& node, PodState& st,
                            bool* ready) {
  *ready = false;
  const cri::PodSandboxConfig sandbox = SandboxConfig(pod);
  if (st.sandbox_id.empty()) {
    auto id = node.runtime->RunPodSandbox(sandbox);
    if (!id.ok() && id.status().code() == Code::kResourceExhausted) {
      KITE_LOG(0) << "pod " << key << ": " << id.status().message() << " on " << node.id.name << "; trying again in 10 s";
      queue_.AddAfter(key, std::chrono::seconds(10));
      return Status::Ok();
    }
    if (!id.ok()) {
      RetryRuntime(key, st, id.status(), "sandbox");
      return Status::Ok();
    }
    st.sandbox_id = *id;
    st.node = node.id.name;
    auto status = node.runtime->PodSandboxStatus(st.sandbox_id);
    st.pod_ip = sandbox.host_network || !status.ok() || status->ip.empty() ? node.id.internal_ip : status->ip;
  }
  auto started = [&st](const std::string& name) {
    return std::any_of(st.containers.begin(), st.containers.end(), [&](const auto& c) { return c.first == name; });
  };
  // Init containers one at a time, each to completion.
  const json::array& init = ContainerList(pod, "initContainers");
  while (st.init_done < init.size()) {
    if (!init[st.init_done].is_object()) {
      ++st.init_done;
      continue;
    }
    const json::object& c = init[st.init_done].as_object();
    std::string id;
    const std::string name = api::GetString(c, "name");
    if (!started(name)) {
      if (auto s = StartContainer(node, pod, c, sandbox, st, &id); !s.ok()) {
        RetryRuntime(key, st, s, "init container");
        return Status::Ok();
      }
    } else {
      for (const auto& [n, cid] : st.containers) {
        if (n == name) id = cid;
      }
    }
    auto cs = node.runtime->ContainerStatus(id);
    if (cs.ok() && cs->state == cri::ContainerState::kExited && cs->exit_code == 0) {
      ++st.init_done;
      continue;
    }
    queue_.AddAfter(key, opts_.relist_period);  // still running (or failed: not handled yet)
    return Status::Ok();
  }
  for (const auto& c : ContainerList(pod, "containers")) {
    if (!c.is_object() || started(api::GetString(c.as_object(), "name"))) continue;
    std::string id;
    if (auto s = StartContainer(node, pod, c.as_object(), sandbox, st, &id); !s.ok()) {
      RetryRuntime(key, st, s, "container");
      return Status::Ok();
    }
  }
  *ready = true;
  return Status::Ok();
}

Status PodWorkers::SyncStatus(const std::string& key, const json::object& pod, const Node& node, PodState& st) {
  auto version = node.runtime->Version();
  const std::string scheme = (version.ok() ? version->runtime_name : std::string("unknown")) + "://";
  ContainerIds ids;
  bool all_running = true, all_succeeded = true;
  int64_t started_ns = 0, finished_ns = 0;
  std::unordered_map<std::string, bool> regular;
  for (const auto& c : ContainerList(pod, "containers")) {
    if (c.is_object()) regular[api::GetString(c.as_object(), "name")] = true;
  }
  for (const auto& [name, id] : st.containers) {
    auto cs = node.runtime->ContainerStatus(id);
    if (!cs.ok()) {
      RetryRuntime(key, st, cs.status(), "container status");
      return Status::Ok();
    }
    ids[name] = ContainerRuntimeIds{scheme + id, cs->image_ref};
    if (!regular.count(name)) continue;
    all_running = all_running && cs->state == cri::ContainerState::kRunning;
    all_succeeded = all_succeeded && cs->state == cri::ContainerState::kExited && cs->exit_code == 0;
    started_ns = std::max(started_ns, cs->started_at);
    finished_ns = std::max(finished_ns, cs->finished_at);
  }
  const PodPlacement where{node.id.internal_ip, st.pod_ip};
  if (all_succeeded && RunsToCompletion(pod)) {
    auto res = status_->SetPodStatus(pod, SucceededPodStatus(pod, where, FromNanos(started_ns), FromNanos(finished_ns), ids));
    if (res.NotFound()) return Status::Ok();  // deleted meanwhile; its DELETED event cleans up
    if (!res.ok()) {
      Retry(key, st, res.error(), "status Succeeded");
      return Status::Ok();
    }
    KITE_LOG(2) << "pod " << key << ": Succeeded";
    st.done_written = true;
    st.failures = 0;
    KillPod(st);
    return Status::Ok();
  }
  if (all_running && !st.running_written) {
    auto res = status_->SetPodStatus(pod, RunningPodStatus(pod, where, FromNanos(started_ns), ids));
    if (res.NotFound()) return Status::Ok();
    if (!res.ok()) {
      Retry(key, st, res.error(), "status Running");
      return Status::Ok();
    }
    KITE_LOG(2) << "pod " << key << ": Running on " << node.id.name << " with IP " << st.pod_ip;
    st.running_written = true;
    st.failures = 0;
  }
  // Containers that run to completion: look again, as the PLEG relists.
  if (RunsToCompletion(pod)) queue_.AddAfter(key, opts_.relist_period);
  return Status::Ok();
}

}  // namespace kite::kubelet
