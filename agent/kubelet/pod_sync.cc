// SyncPod: one pass of making the runtime match a pod's spec (upstream's computePodActions and
// SyncPod), and the status that results.
#include <boost/json.hpp>

#include <algorithm>
#include <optional>

#include "agent/kubelet/backoff.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/probe_handlers.h"
#include "api/object.h"
#include "api/time.h"
#include "base/log.h"

namespace kite::kubelet {
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

Clock::WallTime FromNanos(int64_t ns) {
  return Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(std::chrono::nanoseconds(ns)));
}

// "name_namespace(uid)", as upstream's messages name a pod.
std::string PodDesc(const json::object& pod) {
  return api::Name(pod) + "_" + api::Namespace(pod) + "(" + api::Uid(pod) + ")";
}

// A container left Created (its start failed, or we stopped between create and start) never
// ran: it counts as failed, as runc's exit 128 for a container that could not start.
int32_t ExitCode(const cri::ContainerStatus& c) {
  return c.state == cri::ContainerState::kCreated ? 128 : c.exit_code;
}

int64_t GracePeriod(const json::object& pod) {
  return std::max<int64_t>(0, api::GetInt(pod, {"spec", "terminationGracePeriodSeconds"}, 30));
}

}  // namespace

Result<PodWorkers::RuntimePod> PodWorkers::Observe(const Node& node, const std::string& uid) {
  RuntimePod rp;
  cri::PodSandboxFilter sf;
  sf.label_selector = {{"io.kubernetes.pod.uid", uid}};
  auto sandboxes = node.runtime->ListPodSandbox(sf);
  if (!sandboxes.ok()) return sandboxes.status();
  rp.sandboxes = std::move(*sandboxes);
  std::sort(rp.sandboxes.begin(), rp.sandboxes.end(),
            [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  cri::ContainerFilter cf;
  cf.label_selector = {{"io.kubernetes.pod.uid", uid}};
  auto containers = node.runtime->ListContainers(cf);
  if (!containers.ok()) return containers.status();
  for (const auto& c : *containers) {
    auto cs = node.runtime->ContainerStatus(c.id);
    if (cs.NotFound()) continue;  // removed meanwhile
    if (!cs.ok()) return cs.status();
    auto name = c.labels.find("io.kubernetes.container.name");
    rp.containers[name == c.labels.end() ? c.metadata.name : name->second].push_back(std::move(*cs));
  }
  for (auto& [name, list] : rp.containers) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.metadata.attempt != b.metadata.attempt ? a.metadata.attempt > b.metadata.attempt
                                                      : a.created_at > b.created_at;
    });
    // Dead containers beyond the two newest (the current one and lastState's) go, as upstream's
    // container GC keeps a bounded few: a crash-looping container would pile them up.
    while (list.size() > 2 && list.back().state != cri::ContainerState::kRunning) {
      if (auto s = node.runtime->RemoveContainer(list.back().id); !s.ok()) {
        KITE_LOG(2) << "container " << list.back().id << ": remove: " << s.message();
        break;
      }
      list.pop_back();
    }
  }
  return rp;
}

bool PodWorkers::EnsureImage(const std::string& key, const json::object& pod, const Node& node, PodState& st,
                             const json::object& spec, const std::string& field_path,
                             const cri::PodSandboxConfig& sandbox) {
  const std::string name = api::GetString(spec, "name"), image = api::GetString(spec, "image");
  std::string policy = api::GetString(spec, "imagePullPolicy");
  if (policy.empty()) policy = "IfNotPresent";
  auto have = node.images->ImageStatus(cri::ImageSpec{image});
  if (!have.ok()) {
    st.waiting[name] = {"ErrImagePull", have.status().message()};
    Retry(key, st, "image status", have.status().message());
    return false;
  }
  const bool present = have->has_value();
  if (policy == "Never" || (policy == "IfNotPresent" && present)) {
    if (!present) {
      const std::string msg = "Container image \"" + image + "\" is not present with pull policy of Never";
      st.waiting[name] = {"ErrImageNeverPull", msg};
      Event(pod, field_path, "Warning", "ErrImageNeverPull", msg);
      queue_.AddAfter(key, RetryDelay(6));  // the image may be imported meanwhile
      return false;
    }
    Event(pod, field_path, "Normal", "Pulled", "Container image \"" + image + "\" already present on machine");
    return true;
  }
  const std::string bkey = api::Uid(pod) + "/" + name + "/" + image;
  if (auto failed = st.pull_failed.find(name); failed != st.pull_failed.end()) {
    ContainerBackoff::Duration remaining{0};
    if (pull_backoff_.InBackoff(bkey, failed->second, &remaining)) {
      const std::string msg = "Back-off pulling image \"" + image + "\"";
      st.waiting[name] = {"ImagePullBackOff", msg};
      Event(pod, field_path, "Normal", "BackOff", msg);
      queue_.AddAfter(key, remaining);
      return false;
    }
  }
  Event(pod, field_path, "Normal", "Pulling", "Pulling image \"" + image + "\"");
  const auto began = std::chrono::steady_clock::now();
  // imagePullSecrets' credentials, each in turn (upstream's order), else anonymous.
  auto auths = config_->PullAuth(pod, image);
  Result<std::string> pulled = auths.ok() ? Result<std::string>(Status(Code::kUnknown, "no pull attempted"))
                                          : Result<std::string>(auths.error());
  if (auths.ok() && auths->empty()) pulled = node.images->PullImage(cri::ImageSpec{image}, std::nullopt, sandbox);
  if (auths.ok()) {
    for (const auto& a : *auths) {
      pulled = node.images->PullImage(cri::ImageSpec{image}, a, sandbox);
      if (pulled.ok()) break;
    }
  }
  if (!pulled.ok()) {
    const auto now = clock_->Now();
    pull_backoff_.Next(bkey, now);
    st.pull_failed[name] = now;
    st.waiting[name] = {"ErrImagePull", pulled.status().message()};
    Event(pod, field_path, "Warning", "Failed", "Failed to pull image \"" + image + "\": " + pulled.status().message());
    Event(pod, field_path, "Warning", "Failed", "Error: ErrImagePull");
    ContainerBackoff::Duration remaining{0};
    pull_backoff_.InBackoff(bkey, now, &remaining);
    queue_.AddAfter(key, std::max(remaining, ContainerBackoff::Duration(1)));
    return false;
  }
  st.pull_failed.erase(name);
  const std::string took = GoDuration(std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began));
  Event(pod, field_path, "Normal", "Pulled",
        "Successfully pulled image \"" + image + "\" in " + took + " (" + took + " including waiting)");
  return true;
}

bool PodWorkers::StartContainer(const std::string& key, const json::object& pod, const Node& node, PodState& st,
                                const json::object& spec, const std::string& field_path, uint32_t attempt,
                                const cri::PodSandboxConfig& sandbox, const std::string& pid_target) {
  const std::string name = api::GetString(spec, "name");
  auto fail = [&](const char* reason, const std::string& message) {
    st.waiting[name] = {reason, message};
    Event(pod, field_path, "Warning", "Failed", "Error: " + message);
    Retry(key, st, std::string("container ") + name, std::string(reason) + ": " + message);
    return false;
  };
  auto config = config_->Container(pod, spec, attempt, st.pod_ip);
  if (!config.ok()) return fail("CreateContainerConfigError", config.status().message());
  config->security_context.pid_target = pid_target;
  if (!EnsureImage(key, pod, node, st, spec, field_path, sandbox)) return false;
  auto created = node.runtime->CreateContainer(st.sandbox_id, *config, sandbox);
  if (!created.ok()) return fail("CreateContainerError", created.status().message());
  Event(pod, field_path, "Normal", "Created", "Created container: " + name);
  if (auto s = node.runtime->StartContainer(*created); !s.ok()) {
    // It stays, exited, so the next attempt counts as a restart and backs off like a crash.
    return fail("RunContainerError", s.message());
  }
  st.waiting.erase(name);
  st.failures = 0;
  KITE_LOG(2) << "pod " << key << ": container " << name << " started";
  Event(pod, field_path, "Normal", "Started", "Started container " + name);
  if (const json::object* hook = api::FindObject(spec, {"lifecycle", "postStart"})) {
    HandlerTarget t{node.runtime, *created, st.pod_ip, &spec};
    ProbeResult r = RunHandler(*hook, t, std::chrono::seconds(GracePeriod(pod) > 0 ? GracePeriod(pod) : 30));
    if (r.outcome != ProbeOutcome::kSuccess) {
      Event(pod, field_path, "Warning", "FailedPostStartHook", "PostStartHook failed: " + r.output);
      KillContainer(node, &pod, &spec, field_path, *created, st.pod_ip, GracePeriod(pod), "FailedPostStartHook");
    }
  }
  return true;
}

void PodWorkers::Restart(const std::string& key, const json::object& pod, const Node& node, PodState& st,
                         const json::object& spec, const std::string& field_path, const cri::ContainerStatus& last,
                         const cri::PodSandboxConfig& sandbox) {
  const std::string name = api::GetString(spec, "name");
  const std::string bkey = api::Uid(pod) + "/" + name;
  const auto failed_at = FromNanos(last.finished_at ? last.finished_at : last.created_at);
  ContainerBackoff::Duration remaining{0}, delay{0};
  if (crash_backoff_.InBackoff(bkey, failed_at, &remaining, &delay)) {
    st.waiting[name] = {"CrashLoopBackOff", "back-off " + GoDuration(delay) + " restarting failed container=" + name +
                                                " pod=" + PodDesc(pod)};
    Event(pod, field_path, "Warning", "BackOff",
          "Back-off restarting failed container " + name + " in pod " + PodDesc(pod));
    queue_.AddAfter(key, remaining);
    return;
  }
  crash_backoff_.Next(bkey, failed_at);
  StartContainer(key, pod, node, st, spec, field_path, last.metadata.attempt + 1, sandbox);
}

void PodWorkers::StartEphemeral(const std::string& key, const json::object& pod, const Node& node, PodState& st,
                                const RuntimePod& rp, const cri::PodSandboxConfig& sandbox) {
  for (const auto& c : api::GetArray(pod, {"spec", "ephemeralContainers"})) {
    if (!c.is_object()) continue;
    const json::object& spec = c.as_object();
    const std::string name = api::GetString(spec, "name");
    // One that ran, here or in a sandbox since replaced, is not started again.
    if (rp.containers.contains(name) || st.next_attempt.contains(name)) continue;
    const std::string field = "spec.ephemeralContainers{" + name + "}";
    std::string target_id;
    if (const std::string target = api::GetString(spec, "targetContainerName"); !target.empty()) {
      auto t = rp.containers.find(target);
      if (t == rp.containers.end() || t->second.empty() || t->second[0].state != cri::ContainerState::kRunning) {
        // Upstream's getTargetID: the target must be running; tried again at a later sync.
        const std::string msg = "unable to find target container " + target;
        st.waiting[name] = {"CreateContainerConfigError", msg};
        Event(pod, field, "Warning", "Failed", "Error: " + msg);
        Retry(key, st, "container " + name, msg);
        continue;
      }
      target_id = t->second[0].id;
    }
    StartContainer(key, pod, node, st, spec, field, 0, sandbox, target_id);
  }
}

PodView PodWorkers::MakeView(const json::object& pod, const Node& node, const PodState& st, const RuntimePod& rp,
                             bool sandbox_ready) {
  PodView v;
  {  // asked once per node: a real runtime's Version is a round trip
    std::lock_guard<std::mutex> lock(mu_);
    v.runtime_name = runtime_names_[node.id.name];
  }
  if (v.runtime_name.empty()) {
    auto version = node.runtime->Version();
    if (!version.ok()) {
      v.runtime_name = "unknown";
    } else {
      v.runtime_name = version->runtime_name;
      std::lock_guard<std::mutex> lock(mu_);
      runtime_names_[node.id.name] = v.runtime_name;
    }
  }
  v.where = PodPlacement{node.id.internal_ip, st.pod_ip};
  v.sandbox_ready = sandbox_ready;
  v.now = clock_->Now();
  v.last_status = st.written.empty() ? nullptr : &st.written;
  for (const auto& [name, list] : rp.containers) {
    ContainerView& cv = v.containers[name];
    if (!list.empty()) cv.current = list[0];
    if (list.size() > 1) cv.previous = list[1];
    if (cv.current && cv.current->state == cri::ContainerState::kRunning) {
      const ProbeManager::Results r = probes_->Get(api::Uid(pod), name, cv.current->id);
      cv.ready = r.ready;
      cv.started = r.started;
    }
  }
  for (const auto& [name, why] : st.waiting) {
    ContainerView& cv = v.containers[name];
    if (cv.current && cv.current->state == cri::ContainerState::kRunning) continue;  // stale
    cv.waiting_reason = why.first;
    cv.waiting_message = why.second;
  }
  return v;
}

Status PodWorkers::SyncPod(const std::string& key, const json::object& pod, const Node& node, PodState& st) {
  const std::string uid = api::Uid(pod);
  const auto now_steady = std::chrono::steady_clock::now();
  if (st.seen == std::chrono::steady_clock::time_point{}) {
    st.seen = now_steady;
    KITE_LOG(2) << "pod " << key << ": first sync";
  }
  if (st.sandbox_id.empty() && now_steady < st.seen + opts_.start_latency) {
    queue_.AddAfter(key, st.seen + opts_.start_latency - now_steady);
    return Status::Ok();
  }

  // Evicted for node pressure: killed and Failed, never restarted.
  std::optional<std::pair<std::string, int64_t>> eviction;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = evictions_.find(uid); it != evictions_.end()) eviction = it->second;
  }
  if (eviction) {
    Event(pod, "", "Warning", "Evicted", eviction->first);
    probes_->RemovePod(uid);
    KillPod(node, &pod, uid, eviction->second, /*remove=*/false);
    auto rp = Observe(node, uid);
    PodView v = MakeView(pod, node, st, rp.ok() ? *rp : RuntimePod{}, false);
    v.failed_reason = "Evicted";
    v.failed_message = eviction->first;
    st.terminal = true;
    Status written = WriteStatus(key, pod, BuildPodStatus(pod, v), st);
    if (written.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      evictions_.erase(uid);
    }
    return written;
  }

  // activeDeadlineSeconds, counted from startTime (ours when we have not written one yet).
  if (const json::value* ads = api::GetObject(pod, "spec").if_contains("activeDeadlineSeconds");
      ads && !ads->is_null()) {
    auto start = api::ParseTime(api::GetString(pod, {"status", "startTime"}));
    const auto began = start ? *start : clock_->Now();
    const auto deadline = began + std::chrono::seconds(api::AsInt(*ads));
    if (clock_->Now() >= deadline) {
      const std::string msg = "Pod was active on the node longer than the specified deadline";
      Event(pod, "", "Normal", "DeadlineExceeded", msg);
      probes_->RemovePod(uid);
      KillPod(node, &pod, uid, GracePeriod(pod), /*remove=*/false);
      auto rp = Observe(node, uid);
      PodView v = MakeView(pod, node, st, rp.ok() ? *rp : RuntimePod{}, false);
      v.failed_reason = "DeadlineExceeded";
      v.failed_message = msg;
      st.terminal = true;
      return WriteStatus(key, pod, BuildPodStatus(pod, v), st);
    }
    queue_.AddAfter(key, std::chrono::duration_cast<milliseconds>(deadline - clock_->Now()) + milliseconds(1));
  }

  auto observed = Observe(node, uid);
  if (!observed.ok()) {
    Retry(key, st, "runtime", observed.status().message());
    return Status::Ok();
  }
  RuntimePod rp = std::move(*observed);

  // Admission, once, before anything of the pod runs.
  if (!st.admitted) {
    const std::string phase = api::GetString(pod, {"status", "phase"});
    if (rp.sandboxes.empty() && (phase.empty() || phase == "Pending")) {
      for (const auto& admit : admit_) {
        std::optional<Rejection> no = admit(pod);
        if (!no) continue;
        KITE_LOG(1) << "pod " << key << " rejected: " << no->reason << ": " << no->message;
        Event(pod, "", "Warning", no->reason.c_str(), no->message);
        probes_->RemovePod(uid);
        PodView v = MakeView(pod, node, st, rp, false);
        v.failed_reason = no->reason;
        v.failed_message = "Pod was rejected: " + no->message;
        st.terminal = true;
        // Upstream's rejected pod has no container statuses: none of them was ever created.
        json::object status = BuildPodStatus(pod, v);
        status.erase("containerStatuses");
        status.erase("initContainerStatuses");
        return WriteStatus(key, pod, std::move(status), st);
      }
    }
    st.admitted = true;
  }

  // The sandbox: the newest ready one, else a new one (the old ones and their containers go).
  const cri::PodSandbox* ready = nullptr;
  for (const auto& sb : rp.sandboxes) {
    if (sb.state == cri::PodSandboxState::kReady) {
      ready = &sb;
      break;
    }
  }
  const uint32_t sandbox_attempt = ready ? ready->metadata.attempt : static_cast<uint32_t>(rp.sandboxes.size());
  auto sandbox_config = config_->Sandbox(pod, sandbox_attempt);
  if (!sandbox_config.ok()) {
    Event(pod, "", "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: " + sandbox_config.error().message());
    Retry(key, st, "sandbox config", sandbox_config.error().message());
    return WriteStatus(key, pod, BuildPodStatus(pod, MakeView(pod, node, st, rp, false)), st);
  }
  const cri::PodSandboxConfig& sandbox = *sandbox_config;
  // Volumes before the sandbox (upstream waits for them to mount), and again at every sync so
  // an edited configMap or secret reaches its files.
  if (Status vs = config_->SetUpVolumes(pod); !vs.ok()) {
    Event(pod, "", "Warning", "FailedMount", vs.message());
    if (!ready) {
      Retry(key, st, "volumes", vs.message());
      return WriteStatus(key, pod, BuildPodStatus(pod, MakeView(pod, node, st, rp, false)), st);
    }
  }
  if (!ready && node.sandbox_gate) {
    // The runtime cannot start sandboxes yet (its images are still being imported): the pod
    // waits, says why once, and is looked at again shortly.
    if (const std::string why = node.sandbox_gate(); !why.empty()) {
      if (!st.gate_reported) {
        KITE_LOG(1) << "pod " << key << ": sandbox " << why;
        Event(pod, "", "Normal", "SandboxWaiting", "Pod sandbox waits: " + why);
        st.gate_reported = true;
      }
      queue_.AddAfter(key, std::chrono::milliseconds(500));
      return WriteStatus(key, pod, BuildPodStatus(pod, MakeView(pod, node, st, rp, false)), st);
    }
  }
  if (!ready) {
    if (!rp.sandboxes.empty()) {
      Event(pod, "", "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
      for (const auto& [name, list] : rp.containers) {
        if (!list.empty()) st.next_attempt[name] = list[0].metadata.attempt + 1;
      }
      KillPod(node, &pod, uid, 0);
    }
    rp = RuntimePod{};
    const auto sandbox_began = std::chrono::steady_clock::now();
    KITE_LOG(2) << "pod " << key << ": starting its sandbox";
    // The RuntimeClass's handler is looked up only here, so a running pod never needs the API.
    // It goes into the config `sandbox` refers to (no copy of the whole config).
    Result<std::string> handler = config_->RuntimeHandler(pod);
    if (handler.ok()) sandbox_config->runtime_handler = std::move(*handler);
    Result<std::string> id = handler.ok() ? node.runtime->RunPodSandbox(sandbox) : Result<std::string>(handler.status());
    if (!id.ok()) {
      const std::string msg = "Failed to create pod sandbox: " + id.status().message();
      Event(pod, "", "Warning", "FailedCreatePodSandBox", msg);
      if (id.status().code() == Code::kResourceExhausted) {
        KITE_LOG(0) << "pod " << key << ": " << id.status().message() << " on " << node.id.name
                    << "; trying again in 10 s";
        queue_.AddAfter(key, std::chrono::seconds(10));
      } else {
        Retry(key, st, "sandbox", id.status().message());
      }
      return WriteStatus(key, pod, BuildPodStatus(pod, MakeView(pod, node, st, rp, false)), st);
    }
    KITE_LOG(2) << "pod " << key << ": sandbox " << id->substr(0, 12) << " ready in "
                << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - sandbox_began).count()
                << " ms";
    st.sandbox_id = *id;
    st.pod_ip.clear();
  } else if (st.sandbox_id != ready->id) {
    st.sandbox_id = ready->id;  // adopted (a restart of ours) or found again
    st.pod_ip.clear();
  }
  if (st.pod_ip.empty()) {
    auto status = node.runtime->PodSandboxStatus(st.sandbox_id);
    st.pod_ip = sandbox.host_network || !status.ok() || status->ip.empty() ? node.id.internal_ip : status->ip;
  }

  // Ephemeral containers first, as upstream does: one can debug a pod whose init container fails.
  StartEphemeral(key, pod, node, st, rp, sandbox);

  // Init containers in order, each to exit 0; then the containers.
  bool initialized = true;
  for (const auto& c : api::GetArray(pod, {"spec", "initContainers"})) {
    if (!c.is_object()) continue;
    const json::object& spec = c.as_object();
    const std::string name = api::GetString(spec, "name");
    const std::string field = "spec.initContainers{" + name + "}";
    auto it = rp.containers.find(name);
    const cri::ContainerStatus* cur = it == rp.containers.end() || it->second.empty() ? nullptr : &it->second[0];
    if (cur && cur->state == cri::ContainerState::kExited && cur->exit_code == 0) continue;
    initialized = false;
    if (!cur) {
      StartContainer(key, pod, node, st, spec, field, st.next_attempt[name], sandbox);
    } else if (cur->state == cri::ContainerState::kExited || cur->state == cri::ContainerState::kCreated) {
      // Under restartPolicy Never it stays failed: BuildPodStatus's phase says Failed.
      if (ShouldRestart(pod, ExitCode(*cur))) Restart(key, pod, node, st, spec, field, *cur, sandbox);
    }
    break;  // one at a time
  }
  if (initialized) {
    for (const auto& c : api::GetArray(pod, {"spec", "containers"})) {
      if (!c.is_object()) continue;
      const json::object& spec = c.as_object();
      const std::string name = api::GetString(spec, "name");
      const std::string field = "spec.containers{" + name + "}";
      auto it = rp.containers.find(name);
      const cri::ContainerStatus* cur = it == rp.containers.end() || it->second.empty() ? nullptr : &it->second[0];
      if (!cur) {
        StartContainer(key, pod, node, st, spec, field, st.next_attempt[name], sandbox);
        continue;
      }
      cri::ContainerStatus last = *cur;
      if (cur->state == cri::ContainerState::kRunning) {
        const ProbeManager::Results r = probes_->Get(uid, name, cur->id);
        if (!r.liveness_failed && !r.startup_failed) continue;
        const char* which = r.startup_failed ? "startup" : "liveness";
        // The probe's own terminationGracePeriodSeconds, when set, overrides the pod's.
        int64_t grace = GracePeriod(pod);
        if (const json::object* probe = api::FindObject(spec, r.startup_failed ? "startupProbe" : "livenessProbe")) {
          if (const json::value* g = probe->if_contains("terminationGracePeriodSeconds"); g && !g->is_null()) {
            grace = std::max<int64_t>(0, api::AsInt(*g));
          }
        }
        KillContainer(node, &pod, &spec, field, cur->id, st.pod_ip, grace,
                      "Container " + name + " failed " + which + " probe, will be restarted");
        auto after = node.runtime->ContainerStatus(cur->id);
        if (!after.ok()) continue;
        last = *after;
      }
      if ((last.state == cri::ContainerState::kExited || last.state == cri::ContainerState::kCreated) &&
          ShouldRestart(pod, ExitCode(last))) {
        Restart(key, pod, node, st, spec, field, last, sandbox);
      }
    }
  }

  // What runs now: probes for the running containers, and the status.
  observed = Observe(node, uid);
  if (!observed.ok()) {
    Retry(key, st, "runtime", observed.status().message());
    return Status::Ok();
  }
  rp = std::move(*observed);
  std::vector<ProbeManager::RunningContainer> running;
  for (const auto& [name, list] : rp.containers) {
    if (!list.empty() && list[0].state == cri::ContainerState::kRunning) {
      running.push_back({name, list[0].id, list[0].started_at});
    }
  }
  probes_->Sync(key, pod, node.runtime, st.pod_ip, running);
  json::object status = BuildPodStatus(pod, MakeView(pod, node, st, rp, true));
  const bool terminal = IsTerminalPhase(api::GetString(status, "phase"));
  if (terminal) {
    // Done: the sandbox goes (containers stopped, the IP back); the status keeps their exits.
    status["conditions"] = BuildPodStatus(pod, MakeView(pod, node, st, rp, false)).at("conditions");
  }
  Status s = WriteStatus(key, pod, std::move(status), st);
  const json::object& reported = st.written.empty() ? api::GetObject(pod, "status") : st.written;
  if (terminal && IsTerminalPhase(api::GetString(reported, "phase"))) {
    KITE_LOG(2) << "pod " << key << ": " << api::GetString(reported, "phase");
    probes_->RemovePod(uid);
    KillPod(node, &pod, uid, GracePeriod(pod), /*remove=*/false);
    st.terminal = true;
  } else if (opts_.resync_period.count() > 0) {
    // Upstream's periodic sync (syncFrequency): what no event announces, such as an edited
    // configMap or secret behind a volume, is caught up with.
    queue_.AddAfter(key, opts_.resync_period);
  }
  return s;
}

}  // namespace kite::kubelet
