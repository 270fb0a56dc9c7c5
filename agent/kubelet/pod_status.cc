#include "agent/kubelet/pod_status.h"

#include <boost/json.hpp>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

std::string NanosTime(int64_t ns) {
  return api::FormatTime(WallClock::time_point(
      std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns))));
}

json::object Terminated(const cri::ContainerStatus& c, const std::string& runtime) {
  std::string reason = c.reason;
  // A runtime that gives no reason: upstream's kubelet says Completed for 0, Error otherwise.
  if (reason.empty()) reason = c.exit_code == 0 ? "Completed" : "Error";
  json::object t{{"exitCode", c.exit_code}, {"reason", reason}};
  if (c.started_at) t["startedAt"] = NanosTime(c.started_at);  // never started: none (the API drops nulls)
  t["finishedAt"] = NanosTime(c.finished_at);
  t["containerID"] = runtime + "://" + c.id;
  if (!c.message.empty()) t["message"] = c.message;
  return t;
}

struct Counts {
  int running = 0, waiting = 0, stopped = 0, succeeded = 0, unknown = 0;
  int pending_init = 0, failed_init = 0;
};

enum class Kind { kInit, kRegular, kEphemeral };

// One container's status, and its share of the phase counts (an ephemeral container has none:
// it runs once, is never ready and never restarts, and the pod's phase does not see it).
json::object ContainerStatus(const json::object& pod, const json::object& spec, const ContainerView* v,
                             const PodView& view, Kind kind, bool initializing, Counts& counts) {
  const bool init = kind == Kind::kInit, ephemeral = kind == Kind::kEphemeral;
  Counts ignored;
  Counts& n = ephemeral ? ignored : counts;
  const std::string name = api::GetString(spec, "name");
  json::object cs{{"name", name}, {"image", api::GetString(spec, "image")}, {"imageID", ""}};
  json::object state, last;
  int64_t restarts = 0;
  bool ready = false, started = false;
  const cri::ContainerStatus* cur = v && v->current ? &*v->current : nullptr;
  auto waiting = [&](std::string reason, const std::string& message) {
    if (v && !v->waiting_reason.empty()) {
      reason = v->waiting_reason;
      json::object w{{"reason", reason}};
      if (!v->waiting_message.empty()) w["message"] = v->waiting_message;
      state["waiting"] = std::move(w);
      return;
    }
    json::object w{{"reason", reason}};
    if (!message.empty()) w["message"] = message;
    state["waiting"] = std::move(w);
  };
  if (cur) {
    restarts = cur->metadata.attempt;
    cs["imageID"] = cur->image_ref;
    cs["containerID"] = view.runtime_name + "://" + cur->id;
    if (v->previous && v->previous->state == cri::ContainerState::kExited) {
      last["terminated"] = Terminated(*v->previous, view.runtime_name);
    }
  }
  if (cur && cur->state == cri::ContainerState::kRunning) {
    state["running"] = json::object{{"startedAt", NanosTime(cur->started_at)}};
    ready = v->ready && !ephemeral;
    started = v->started;
    if (init) {
      ++n.pending_init;
      ready = false;
    } else {
      ++n.running;
    }
  } else if (cur && cur->state == cri::ContainerState::kExited) {
    const bool restarting = !ephemeral && (!v->waiting_reason.empty() ||
                                           (ShouldRestart(pod, cur->exit_code) && !(init && cur->exit_code == 0)));
    if (restarting && !(init && cur->exit_code == 0)) {
      // Going to run again: waiting (CrashLoopBackOff while backing off), the exit as lastState.
      last = json::object{{"terminated", Terminated(*cur, view.runtime_name)}};
      waiting("ContainerCreating", "");
      if (init) {
        if (cur->exit_code != 0) ++n.failed_init;
        else ++n.pending_init;
      } else {
        ++n.stopped;  // waiting after a run counts as stopped, as upstream's getPhase has it
        if (cur->exit_code == 0) ++n.succeeded;
      }
    } else {
      state["terminated"] = Terminated(*cur, view.runtime_name);
      if (init) {
        if (cur->exit_code != 0) ++n.failed_init;
        ready = cur->exit_code == 0;  // a completed init container reports ready
      } else {
        ++n.stopped;
        if (cur->exit_code == 0) ++n.succeeded;
      }
    }
  } else {
    // Not created yet, or created and not started.
    waiting(init || initializing ? "PodInitializing" : "ContainerCreating", "");
    if (init) {
      ++n.pending_init;
    } else if (!last.empty()) {
      ++n.stopped;
    } else {
      ++n.waiting;
    }
  }
  cs["ready"] = ready;
  if (!ephemeral) cs["started"] = started;  // upstream sets it from the startup probes, which ephemeral containers lack
  cs["restartCount"] = restarts;
  cs["lastState"] = std::move(last);
  cs["state"] = std::move(state);
  return cs;
}

std::string Phase(const json::object& pod, const Counts& n) {
  const std::string policy = api::GetString(pod, {"spec", "restartPolicy"});
  if (n.failed_init > 0 && policy == "Never") return "Failed";
  if (n.pending_init > 0 || n.failed_init > 0 || n.waiting > 0) return "Pending";
  if (n.running > 0 && n.unknown == 0) return "Running";
  if (n.running == 0 && n.stopped > 0 && n.unknown == 0) {
    if (policy == "Always" || policy.empty()) return "Running";
    if (n.stopped == n.succeeded) return "Succeeded";
    if (policy == "Never") return "Failed";
    return "Running";  // OnFailure: the failed ones restart
  }
  return "Pending";
}

// A condition, keeping the time of the current one when its status did not change.
json::object Cond(const json::object& old_status, const char* type, bool ok, const std::string& reason,
                  const std::string& message, const std::string& now) {
  const std::string status = ok ? "True" : "False";
  // No lastProbeTime: the kubelet never probes for a pod condition, and null is not stored.
  json::object c{{"type", type}, {"status", status}, {"lastTransitionTime", now}};
  if (const json::object* prev = api::FindCondition(old_status, type);
      prev && api::GetString(*prev, "status") == status && prev->contains("lastTransitionTime")) {
    c["lastTransitionTime"] = prev->at("lastTransitionTime");
  }
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

std::string NamesMessage(const char* what, const std::vector<std::string>& names) {
  std::string m = std::string("containers with ") + what + " status: [";
  for (size_t i = 0; i < names.size(); ++i) m += (i ? " " : "") + names[i];
  return m + "]";
}

}  // namespace

bool RunsToCompletion(const json::object& pod) {
  const std::string policy = api::GetString(api::GetObject(pod, "spec"), "restartPolicy");
  return policy == "Never" || policy == "OnFailure";
}

bool ShouldRestart(const json::object& pod, int32_t exit_code) {
  const std::string policy = api::GetString(api::GetObject(pod, "spec"), "restartPolicy");
  if (policy == "Never") return false;
  if (policy == "OnFailure") return exit_code != 0;
  return true;
}

bool IsTerminalPhase(const std::string& phase) { return phase == "Succeeded" || phase == "Failed"; }

json::object BuildPodStatus(const json::object& pod, const PodView& v) {
  const json::object& old = v.last_status ? *v.last_status : api::GetObject(pod, "status");
  // Fields the kubelet does not own come from the pod as the API has it; its own from `old`.
  json::object status = api::GetObject(pod, "status");
  const std::string now = api::FormatTime(v.now);
  if (!v.where.host_ip.empty()) {
    status["hostIP"] = v.where.host_ip;
    status["hostIPs"] = json::array{json::object{{"ip", v.where.host_ip}}};
  }
  if (!v.where.pod_ip.empty()) {
    status["podIP"] = v.where.pod_ip;
    status["podIPs"] = json::array{json::object{{"ip", v.where.pod_ip}}};
  }
  if (const std::string started = api::GetString(old, "startTime"); !started.empty()) {
    status["startTime"] = started;
  } else if (api::GetString(status, "startTime").empty()) {
    status["startTime"] = now;
  }

  Counts n;
  auto find = [&](const std::string& name) -> const ContainerView* {
    auto it = v.containers.find(name);
    return it == v.containers.end() ? nullptr : &it->second;
  };
  json::array init_statuses, statuses;
  std::vector<std::string> incomplete, unready;
  for (const auto& c : api::GetArray(pod, {"spec", "initContainers"})) {
    if (!c.is_object()) continue;
    const std::string name = api::GetString(c.as_object(), "name");
    json::object cs = ContainerStatus(pod, c.as_object(), find(name), v, Kind::kInit, true, n);
    const json::object* term = api::FindObject(api::GetObject(cs, "state"), "terminated");
    if (!term || api::GetInt(*term, "exitCode") != 0) incomplete.push_back(name);
    init_statuses.push_back(std::move(cs));
  }
  const bool initializing = !incomplete.empty();
  for (const auto& c : api::GetArray(pod, {"spec", "containers"})) {
    if (!c.is_object()) continue;
    const std::string name = api::GetString(c.as_object(), "name");
    json::object cs = ContainerStatus(pod, c.as_object(), find(name), v, Kind::kRegular, initializing, n);
    if (!api::GetBool(cs, "ready")) unready.push_back(name);
    statuses.push_back(std::move(cs));
  }

  json::array ephemeral_statuses;
  for (const auto& c : api::GetArray(pod, {"spec", "ephemeralContainers"})) {
    if (!c.is_object()) continue;
    const std::string name = api::GetString(c.as_object(), "name");
    ephemeral_statuses.push_back(ContainerStatus(pod, c.as_object(), find(name), v, Kind::kEphemeral, false, n));
  }

  std::string phase = Phase(pod, n);
  const std::string old_phase = api::GetString(old, "phase");
  if (IsTerminalPhase(old_phase)) phase = old_phase;  // never out of a terminal phase
  if (!v.failed_reason.empty()) {
    phase = "Failed";
    status["reason"] = v.failed_reason;
    status["message"] = v.failed_message;
  }
  status["phase"] = phase;

  const bool terminal = IsTerminalPhase(phase);
  const bool succeeded = phase == "Succeeded";
  json::array conds;
  conds.push_back(Cond(old, "PodReadyToStartContainers", v.sandbox_ready && !terminal, "", "", now));
  if (succeeded) {
    conds.push_back(Cond(old, "Initialized", true, "PodCompleted", "", now));
  } else {
    conds.push_back(Cond(old, "Initialized", !initializing, initializing ? "ContainersNotInitialized" : "",
                         initializing ? NamesMessage("incomplete", incomplete) : "", now));
  }
  const bool all_ready = unready.empty() && !terminal;
  std::string why, msg;
  if (succeeded) {
    why = "PodCompleted";
  } else if (phase == "Failed") {
    why = "PodFailed";  // upstream: not ready whatever the containers say, they may be terminating
  } else if (!all_ready) {
    why = "ContainersNotReady";
    msg = NamesMessage("unready", unready);
  }
  conds.push_back(Cond(old, "Ready", all_ready, why, msg, now));
  conds.push_back(Cond(old, "ContainersReady", all_ready, why, msg, now));
  if (const json::object* sched = api::FindCondition(old, "PodScheduled")) {
    conds.push_back(*sched);
  } else {
    conds.push_back(Cond(old, "PodScheduled", true, "", "", now));
  }
  status["conditions"] = std::move(conds);
  if (!init_statuses.empty()) status["initContainerStatuses"] = std::move(init_statuses);
  status["containerStatuses"] = std::move(statuses);
  if (!ephemeral_statuses.empty()) status["ephemeralContainerStatuses"] = std::move(ephemeral_statuses);
  return status;
}

}  // namespace kite::kubelet
