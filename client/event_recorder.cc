#include "client/event_recorder.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace kite::client {
namespace json = boost::json;

namespace {

// Events remembered for folding repeats (client-go's correlator keeps 4096 too).
constexpr size_t kMaxRecentEvents = 4096;

}  // namespace

EventRecorder::EventRecorder(const Client* client, std::string component, std::string instance,
                             const kite::Clock* clock)
    : client_(client),
      events_(*api::FindResource("", "v1", "events")),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(clock) {}

EventRecorder::~EventRecorder() { Stop(); }

void EventRecorder::Stop() {
  std::vector<std::thread> writers;
  {
    std::lock_guard<std::mutex> lock(qmu_);
    stop_ = true;
    queue_.clear();
    writers.swap(writers_);
  }
  qcv_.notify_all();
  for (auto& t : writers) t.join();
}

void EventRecorder::RunAsync(AsyncEvents async) {
  std::lock_guard<std::mutex> lock(qmu_);
  max_queued_ = std::max<size_t>(1, async.max_queued);
  writers_wanted_ = std::max<size_t>(1, async.writers);
}

void EventRecorder::WriterLoop() {
  SetThreadName("events");
  std::unique_lock<std::mutex> lock(qmu_);
  while (true) {
    qcv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    Pending e = std::move(queue_.front());
    queue_.pop_front();
    ++writing_;
    lock.unlock();
    Write(e);
    lock.lock();
    --writing_;
    qcv_.notify_all();  // Flush
  }
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> lock(qmu_);
  qcv_.wait(lock, [this] { return stop_ || (queue_.empty() && writing_ == 0); });
}

size_t EventRecorder::dropped() const {
  std::lock_guard<std::mutex> lock(qmu_);
  return dropped_;
}

json::object EventRecorder::ReferenceTo(const json::object& obj) {
  json::object ref{{"apiVersion", api::GetString(obj, "apiVersion")},
                   {"kind", api::GetString(obj, "kind")},
                   {"name", api::Name(obj)},
                   {"uid", api::Uid(obj)},
                   {"resourceVersion", api::ResourceVersion(obj)}};
  if (std::string ns = api::Namespace(obj); !ns.empty()) ref["namespace"] = ns;
  return ref;
}

void EventRecorder::Record(const json::object& obj, const std::string& type, const std::string& reason,
                           const std::string& message) {
  RecordFor(ReferenceTo(obj), type, reason, "", message);
}

void EventRecorder::RecordFor(const json::object& involved, const std::string& type, const std::string& reason,
                              const std::string& action, const std::string& message) {
  Pending e{involved, type, reason, action, message, api::FormatTime(clock_->Now())};
  {
    std::lock_guard<std::mutex> lock(qmu_);
    if (max_queued_ > 0) {
      if (queue_.size() >= max_queued_) {
        if (dropped_++ % 100 == 0) {
          KITE_LOG(0) << component_ << ": " << dropped_ << " events dropped so far (" << max_queued_
                      << " waiting to be written)";
        }
      } else if (!stop_) {
        queue_.push_back(std::move(e));
        qcv_.notify_all();
        // Started by the first Event: an idle kubelet (no pods) has no thread for it.
        while (writers_.size() < writers_wanted_) writers_.emplace_back([this] { WriterLoop(); });
      }
      return;
    }
  }
  Write(e);
}

void EventRecorder::Write(const Pending& e) {
  const json::object& involved = e.involved;
  const std::string &type = e.type, &reason = e.reason, &action = e.action, &message = e.message, &now = e.now;
  std::string ns = api::GetString(involved, "namespace");
  if (ns.empty()) ns = "default";
  const std::string fold = api::GetString(involved, "uid") + "\n" + type + "\n" + reason + "\n" + message;
  std::string existing;
  int64_t count = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = recent_.find(fold); it != recent_.end()) {
      existing = it->second.name;
      count = ++it->second.count;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
    }
  }
  if (!existing.empty()) {
    json::object patch{{"count", count}, {"lastTimestamp", now}};
    auto r = client_->PatchDiscardingResult(events_, ns, existing, PatchType::kMerge, json::serialize(patch));
    if (r.ok()) return;
    // The Event is gone (expired or deleted): forget it and write a new one.
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = recent_.find(fold); it != recent_.end()) {
      lru_.erase(it->second.lru);
      recent_.erase(it);
    }
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(rng()));
  const std::string name = api::GetString(involved, "name") + suffix;
  json::object ev{{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", json::object{{"name", name}, {"namespace", ns}}},
                  {"involvedObject", involved},
                  {"reason", reason},
                  {"message", message},
                  {"type", type},
                  {"source", json::object{{"component", component_}}},
                  {"reportingComponent", component_},
                  {"reportingInstance", instance_},
                  {"firstTimestamp", now},
                  {"lastTimestamp", now},
                  {"count", 1}};
  if (!action.empty()) ev["action"] = action;
  auto r = client_->Create(events_, ns, ev);
  if (!r.ok()) {
    KITE_LOG(1) << component_ << ": event " << reason << " for " << ns << "/" << api::GetString(involved, "name")
                << ": " << r.error().message();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (recent_.count(fold)) return;  // another thread wrote the same Event meanwhile
  lru_.push_front(fold);
  recent_[fold] = Recent{name, 1, lru_.begin()};
  while (recent_.size() > kMaxRecentEvents) {
    recent_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace kite::client
