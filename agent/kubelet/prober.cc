#include "agent/kubelet/prober.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "base/clock.h"
#include "base/thread_name.h"

namespace kite::kubelet {
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

const char* const kProbeFields[] = {"livenessProbe", "readinessProbe", "startupProbe"};

}  // namespace

ProbeManager::ProbeManager(client::EventRecorder* events, OnChange on_change, int threads)
    : events_(events), on_change_(std::move(on_change)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Run(); });
}

ProbeManager::~ProbeManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

const char* ProbeManager::KindName(Kind k) {
  switch (k) {
    case Kind::kLiveness: return "Liveness";
    case Kind::kReadiness: return "Readiness";
    case Kind::kStartup: return "Startup";
  }
  return "";
}

std::string ProbeManager::Key(const std::string& uid, const std::string& name, Kind k) {
  return uid + "/" + name + "/" + KindName(k);
}

void ProbeManager::Sync(const std::string& key, const json::object& pod, cri::RuntimeService* runtime,
                        const std::string& pod_ip, const std::vector<RunningContainer>& running) {
  const std::string uid = api::Uid(pod);
  std::unordered_map<std::string, const RunningContainer*> by_name;
  for (const auto& r : running) by_name[r.name] = &r;
  const auto now_wall = kite::Clock::Real()->Now();
  const auto now = steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_map<std::string, bool> keep;
  for (const auto& cv : api::GetArray(pod, {"spec", "containers"})) {
    if (!cv.is_object()) continue;
    const json::object& c = cv.as_object();
    const std::string name = api::GetString(c, "name");
    auto r = by_name.find(name);
    if (r == by_name.end()) continue;
    for (int i = 0; i < 3; ++i) {
      const json::object* probe = api::FindObject(c, kProbeFields[i]);
      if (!probe) continue;
      const Kind kind = static_cast<Kind>(i);
      const std::string wkey = Key(uid, name, kind);
      keep[wkey] = true;
      auto it = workers_.find(wkey);
      if (it != workers_.end() && it->second->container_id == r->second->id) continue;
      if (it != workers_.end()) it->second->stopped = true;
      auto w = std::make_shared<Worker>();
      w->kind = kind;
      w->pod_key = key;
      w->uid = uid;
      w->name = name;
      w->container_id = r->second->id;
      w->pod_ip = pod_ip;
      w->probe = *probe;
      w->container = c;
      w->involved = client::EventRecorder::ReferenceTo(pod);
      w->involved["fieldPath"] = "spec.containers{" + name + "}";
      w->runtime = runtime;
      w->period = milliseconds(std::max<int64_t>(1, api::GetInt(*probe, "periodSeconds", 10)) * 1000);
      w->timeout = milliseconds(std::max<int64_t>(1, api::GetInt(*probe, "timeoutSeconds", 1)) * 1000);
      w->success_threshold = static_cast<int>(std::max<int64_t>(1, api::GetInt(*probe, "successThreshold", 1)));
      w->failure_threshold = static_cast<int>(std::max<int64_t>(1, api::GetInt(*probe, "failureThreshold", 3)));
      w->result = kind == Kind::kLiveness ? Outcome::kSuccess : kind == Kind::kReadiness ? Outcome::kFailure
                                                                                      : Outcome::kUnknown;
      // The first probe: initialDelaySeconds after the container started (by the runtime's clock).
      const auto started = std::chrono::system_clock::time_point(std::chrono::duration_cast<
          std::chrono::system_clock::duration>(std::chrono::nanoseconds(r->second->started_at)));
      const auto first = started + std::chrono::seconds(std::max<int64_t>(0, api::GetInt(*probe, "initialDelaySeconds")));
      const auto wait = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(first - now_wall));
      workers_[wkey] = w;
      due_.emplace(now + wait, w);
    }
  }
  // Workers of this pod whose container no longer runs (or lost its probe) go.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second->uid == uid && !keep.count(it->first)) {
      it->second->stopped = true;
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  cv_.notify_all();
}

void ProbeManager::RemovePod(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second->uid == uid) {
      it->second->stopped = true;
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

ProbeManager::Results ProbeManager::Get(const std::string& uid, const std::string& name, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto find = [&](Kind k) -> const Worker* {
    auto it = workers_.find(Key(uid, name, k));
    return it != workers_.end() && it->second->container_id == id ? it->second.get() : nullptr;
  };
  Results r;
  const Worker* startup = find(Kind::kStartup);
  r.started = !startup || startup->result == Outcome::kSuccess;
  r.startup_failed = startup && startup->result == Outcome::kFailure;
  const Worker* readiness = find(Kind::kReadiness);
  r.ready = r.started && (!readiness || readiness->result == Outcome::kSuccess);
  const Worker* liveness = find(Kind::kLiveness);
  r.liveness_failed = liveness && liveness->result == Outcome::kFailure;
  return r;
}

void ProbeManager::Run() {
  SetThreadName("kubelet-probes");
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (due_.top().first > steady_clock::now()) {
      const auto at = due_.top().first;
      cv_.wait_until(lock, at);
      continue;
    }
    WorkerPtr w = due_.top().second;
    due_.pop();
    if (w->stopped) continue;
    if (w->on_hold) {  // finished (startup passed) or failed for good: look no more
      continue;
    }
    // Liveness and readiness wait for the startup probe.
    if (w->kind != Kind::kStartup) {
      auto s = workers_.find(Key(w->uid, w->name, Kind::kStartup));
      if (s != workers_.end() && s->second->container_id == w->container_id && s->second->result != Outcome::kSuccess) {
        due_.emplace(steady_clock::now() + w->period, w);
        continue;
      }
    }
    lock.unlock();
    Probe(w);
    lock.lock();
  }
}

void ProbeManager::Probe(const WorkerPtr& w) {
  HandlerTarget t{w->runtime, w->container_id, w->pod_ip, &w->container};
  const auto began = steady_clock::now();
  ProbeResult res = RunHandler(w->probe, t, w->timeout);
  const bool ok = res.outcome == ProbeOutcome::kSuccess;
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (w->stopped) return;
    if (ok) {
      w->failures = 0;
      if (++w->successes >= w->success_threshold && w->result != Outcome::kSuccess) {
        w->result = Outcome::kSuccess;
        changed = true;
      }
    } else {
      w->successes = 0;
      if (++w->failures >= w->failure_threshold && w->result != Outcome::kFailure) {
        w->result = Outcome::kFailure;
        changed = true;
      }
    }
    // A failed liveness or startup probe ends with a kill; a started container needs no more startup probes.
    if ((w->kind != Kind::kReadiness && w->result == Outcome::kFailure) ||
        (w->kind == Kind::kStartup && w->result == Outcome::kSuccess)) {
      w->on_hold = true;
    } else {
      due_.emplace(began + w->period, w);
      cv_.notify_one();
    }
  }
  if (!ok && events_) {
    events_->RecordFor(w->involved, "Warning", "Unhealthy", "", std::string(KindName(w->kind)) + " probe failed: " + res.output);
  }
  if (changed) on_change_(w->pod_key);
}

}  // namespace kite::kubelet
