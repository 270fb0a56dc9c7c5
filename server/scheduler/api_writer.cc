#include "server/scheduler/api_writer.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace kite::scheduler {
namespace json = boost::json;

namespace {

const api::ResourceInfo& Pods() {
  static const api::ResourceInfo* r = api::FindResource("", "v1", "pods");
  return *r;
}

json::object InvolvedPod(const PodInfo& pod) {
  return json::object{{"kind", "Pod"},           {"namespace", pod.ns}, {"name", pod.name},
                      {"uid", pod.uid},          {"apiVersion", "v1"},  {"resourceVersion", pod.resource_version}};
}

const json::object* PodScheduledCondition(const PodInfo& pod) {
  return api::FindCondition(api::GetObject(*pod.object, "status"), "PodScheduled");
}

}  // namespace

bool NeedsStatusUpdate(const PodInfo& pod, const std::string& reason, const std::string& message,
                       const std::optional<std::string>& nominated) {
  if (nominated && *nominated != pod.nominated_node_name) return true;
  const json::object* c = PodScheduledCondition(pod);
  return !c || api::GetString(*c, "status") != "False" || api::GetString(*c, "reason") != reason ||
         api::GetString(*c, "message") != message;
}

ApiWriter::ApiWriter(const client::Client* client, int workers, std::string component, std::string instance,
                     const kite::Clock* clock)
    : client_(client),
      clock_(clock),
      async_binds_(client->transport()->SupportsAsync()),
      recorder_(client, std::move(component), std::move(instance), clock) {
  recorder_.RunAsync({.writers = kEventWriters});
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] {
    SetThreadName("sched-writer");
    Work();
  });
}

ApiWriter::~ApiWriter() { Stop(); }

void ApiWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  recorder_.Stop();  // queued events are dropped, and those of the bindings finishing below
  {
    // Bindings in flight finish first (their Scheduled events are dropped with the rest). A
    // transport that stopped under them may never answer: give up after a while.
    std::unique_lock<std::mutex> lock(binds_->mu);
    binds_->cv.wait_for(lock, std::chrono::seconds(10),
                        [this] { return binds_->in_flight == 0 && binds_->waiting.empty(); });
    binds_->closed = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

size_t ApiWriter::dropped_events() const { return recorder_.dropped(); }

void ApiWriter::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ApiWriter::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

namespace {

json::object BindingFor(const PodInfo& pod, const std::string& node) {
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Binding"},
                      {"metadata", json::object{{"name", pod.name}, {"namespace", pod.ns}, {"uid", pod.uid}}},
                      {"target", json::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
}

}  // namespace

void ApiWriter::Bind(PodInfoPtr pod, std::string node, std::function<void(const kite::Status*)> done) {
  auto op = std::make_shared<BindOp>(BindOp{std::move(pod), std::move(node), std::move(done)});
  if (!async_binds_) {
    Submit([this, op] {
      auto res = client_->CreateSubresource(Pods(), op->pod->ns, op->pod->name, "binding", BindingFor(*op->pod, op->node));
      Completed(*op, res.ok() ? nullptr : &res.error());
    });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(binds_->mu);
    if (binds_->closed) return;
    if (binds_->in_flight >= kMaxBindsInFlight) {
      binds_->waiting.push_back(std::move(op));
      return;
    }
    ++binds_->in_flight;
  }
  SendBind(std::move(op));
}

void ApiWriter::SendBind(std::shared_ptr<BindOp> op) {
  const PodInfo& pod = *op->pod;
  client_->CreateSubresourceAsync(
      Pods(), pod.ns, pod.name, "binding", BindingFor(pod, op->node),
      [this, binds = binds_, op](Result<json::object> res) {
        std::shared_ptr<BindOp> next;
        {
          std::lock_guard<std::mutex> lock(binds->mu);
          if (binds->closed) return;  // this writer may be gone
          Completed(*op, res.ok() ? nullptr : &res.error());
          if (!binds->waiting.empty()) {
            next = std::move(binds->waiting.front());
            binds->waiting.pop_front();
          } else {
            --binds->in_flight;
            binds->cv.notify_all();
          }
        }
        if (next) SendBind(std::move(next));
      });
}

void ApiWriter::Completed(const BindOp& op, const kite::Status* err) {
  op.done(err);
  if (!err) {
    const PodInfo& pod = *op.pod;
    Event(pod, "Normal", "Scheduled", "Binding", "Successfully assigned " + pod.ns + "/" + pod.name + " to " + op.node);
  }
}

void ApiWriter::UpdatePodStatus(PodInfoPtr pod, std::string reason, std::string message,
                                std::optional<std::string> nominated) {
  Submit([this, pod = std::move(pod), reason = std::move(reason), message = std::move(message),
          nominated = std::move(nominated)] {
    json::object cond{{"type", "PodScheduled"}, {"status", "False"},     {"reason", reason},
                      {"message", message},     {"lastProbeTime", nullptr}};
    // As upstream's UpdatePodCondition: the transition time moves only when the status does.
    const json::object* old = PodScheduledCondition(*pod);
    const std::string since = old ? api::GetString(*old, "lastTransitionTime") : "";
    cond["lastTransitionTime"] = old && api::GetString(*old, "status") == "False" && !since.empty()
                                     ? since
                                     : api::FormatTime(clock_->Now());
    json::object status{{"conditions", json::array{std::move(cond)}}};
    if (nominated) {
      if (nominated->empty()) status["nominatedNodeName"] = nullptr;
      else status["nominatedNodeName"] = *nominated;
    }
    json::object patch{{"status", std::move(status)}};
    auto res = client_->PatchDiscardingResult(Pods(), pod->ns, pod->name, client::PatchType::kStrategic,
                                              json::serialize(patch), "status");
    if (!res.ok() && !res.NotFound()) {
      KITE_LOG(1) << "scheduler: updating status of pod " << pod->key << ": " << res.error().message();
    }
  });
}

void ApiWriter::AnnotateClaim(std::string ns, std::string name, std::string key, std::string value) {
  Submit([this, ns = std::move(ns), name = std::move(name), key = std::move(key), value = std::move(value)] {
    static const api::ResourceInfo* claims = api::FindResource("", "v1", "persistentvolumeclaims");
    json::object patch{{"metadata", json::object{{"annotations", json::object{{key, value}}}}}};
    auto res = client_->PatchDiscardingResult(*claims, ns, name, client::PatchType::kMerge, json::serialize(patch));
    if (!res.ok() && !res.NotFound()) {
      KITE_LOG(1) << "scheduler: annotating claim " << ns << "/" << name << ": " << res.error().message();
    }
  });
}

void ApiWriter::ClearNomination(PodInfoPtr pod) {
  Submit([this, pod = std::move(pod)] {
    auto res = client_->PatchDiscardingResult(Pods(), pod->ns, pod->name, client::PatchType::kStrategic,
                                              R"({"status":{"nominatedNodeName":null}})", "status");
    if (!res.ok() && !res.NotFound()) {
      KITE_LOG(1) << "scheduler: clearing nominated node of pod " << pod->key << ": " << res.error().message();
    }
  });
}

void ApiWriter::Preempt(PodInfoPtr victim, PodInfoPtr preemptor, std::string node) {
  Submit([this, victim = std::move(victim), preemptor = std::move(preemptor), node = std::move(node)] {
    json::object cond{{"type", "DisruptionTarget"},
                      {"status", "True"},
                      {"reason", "PreemptionByScheduler"},
                      {"message", preemptor->scheduler_name + ": preempting to accommodate a higher priority pod"},
                      {"lastTransitionTime", api::FormatTime(clock_->Now())}};
    json::object patch{{"status", json::object{{"conditions", json::array{std::move(cond)}}}}};
    auto patched = client_->Patch(Pods(), victim->ns, victim->name, client::PatchType::kStrategic,
                                  json::serialize(patch), "status");
    if (patched.NotFound()) return;
    auto res = client_->Delete(Pods(), victim->ns, victim->name);
    if (!res.ok() && !res.NotFound()) {
      KITE_LOG(0) << "scheduler: preempting pod " << victim->key << ": " << res.error().message();
      return;
    }
    KITE_LOG(1) << "scheduler: pod " << preemptor->key << " preempted " << victim->key << " on node " << node;
    Event(*victim, "Normal", "Preempted", "Preempting", "Preempted by pod " + preemptor->uid + " on node " + node);
  });
}

void ApiWriter::Event(const PodInfo& pod, const std::string& type, const std::string& reason, const std::string& action,
                      const std::string& message) {
  recorder_.RecordFor(InvolvedPod(pod), type, reason, action, message);  // queued; dropped after Stop
}

}  // namespace kite::scheduler
