#include "server/scheduler/scheduling_loop.h"

#include <boost/json.hpp>

#include "base/log.h"
#include "base/metrics.h"
#include "base/thread_name.h"
#include "server/scheduler/preemption.h"
#include "server/scheduler/volume_binding.h"

namespace kite::scheduler {
namespace json = boost::json;
// Durations measured for metrics and the loop's waits on its condition variable stay on the
// real clock (base/clock.h); the queue's times are the scheduler's clock (options_.clock).
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Pods scheduled per loop iteration before the inbox is looked at again: informer events are
// at most this many cycles stale.
constexpr int kPodsPerIteration = 64;
// Upstream's noteLengthLimit for event messages.
constexpr size_t kMaxEventMessage = 1024;

// Which plugins' rejections a cluster event may resolve (coarse queueing hints).
constexpr uint32_t kAllPlugins = ~0u;
const uint32_t kAssignedPodAdded = PluginBit(Plugin::kInterPodAffinity) | PluginBit(Plugin::kPodTopologySpread);
const uint32_t kAssignedPodDeleted = PluginBit(Plugin::kNodeResourcesFit) | PluginBit(Plugin::kNodePorts) |
                                     PluginBit(Plugin::kInterPodAffinity) | PluginBit(Plugin::kPodTopologySpread);

uint32_t PluginsHelpedByNodeChange(uint32_t changes) {
  if (changes & Cache::kNodeAdded) return kAllPlugins;
  uint32_t p = 0;
  if (changes & Cache::kNodeLabels) {
    p |= PluginBit(Plugin::kNodeAffinity) | PluginBit(Plugin::kPodTopologySpread) | PluginBit(Plugin::kInterPodAffinity);
  }
  if (changes & Cache::kNodeTaints) p |= PluginBit(Plugin::kTaintToleration) | PluginBit(Plugin::kPodTopologySpread);
  if (changes & Cache::kNodeUnschedulable) p |= PluginBit(Plugin::kNodeUnschedulable);
  if (changes & Cache::kNodeAllocatable) p |= PluginBit(Plugin::kNodeResourcesFit);
  return p;
}

std::string Truncate(std::string msg) {
  if (msg.size() > kMaxEventMessage) msg = msg.substr(0, kMaxEventMessage - 3) + "...";
  return msg;
}

struct SchedulerMetrics {
  prometheus::Family<prometheus::Counter>& attempts;
  prometheus::Family<prometheus::Histogram>& attempt_duration;
  prometheus::Family<prometheus::Gauge>& pending;
  prometheus::Counter& preemption_attempts;
  prometheus::Histogram& preemption_victims;

  static SchedulerMetrics& Get() {
    auto& r = metrics::Default();
    static auto& victims = prometheus::BuildHistogram()
                               .Name("scheduler_preemption_victims")
                               .Help("Number of selected preemption victims")
                               .Register(r);
    static auto& preemptions = prometheus::BuildCounter()
                                   .Name("scheduler_preemption_attempts_total")
                                   .Help("Total preemption attempts in the cluster till now")
                                   .Register(r);
    static SchedulerMetrics m{
        prometheus::BuildCounter()
            .Name("scheduler_schedule_attempts_total")
            .Help("Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be "
                  "scheduled, while 'error' means an internal scheduler problem.")
            .Register(r),
        prometheus::BuildHistogram()
            .Name("scheduler_scheduling_attempt_duration_seconds")
            .Help("Scheduling attempt latency in seconds (scheduling algorithm + binding)")
            .Register(r),
        prometheus::BuildGauge()
            .Name("scheduler_pending_pods")
            .Help("Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' "
                  "means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods; "
                  "'gated' is the number of unschedulable pods waiting for their scheduling gates to be removed.")
            .Register(r),
        preemptions.Add({}),
        victims.Add({}, metrics::ExponentialBuckets(1, 2, 7)),
    };
    return m;
  }
};

// The attempt counter and latency histogram of one result, looked up once (a family lookup
// hashes the labels under a mutex, too slow to do per pod).
struct AttemptMetrics {
  prometheus::Counter* count;
  prometheus::Histogram* duration;
  AttemptMetrics(const std::string& profile, const char* result)
      : count(&SchedulerMetrics::Get().attempts.Add({{"result", result}, {"profile", profile}})),
        duration(&SchedulerMetrics::Get().attempt_duration.Add({{"result", result}, {"profile", profile}},
                                                              metrics::ExponentialBuckets(0.0001, 2, 15))) {}
  void Observe(double seconds) {
    count->Increment();
    duration->Observe(seconds);
  }
};

}  // namespace

struct SchedulingLoop::Metrics {
  explicit Metrics(const std::string& profile)
      : scheduled(profile, "scheduled"), unschedulable(profile, "unschedulable"), error(profile, "error") {}
  AttemptMetrics scheduled, unschedulable, error;
};

SchedulingLoop::SchedulingLoop(const client::Client* client, const SchedulerOptions& options, std::string instance)
    : client_(client),
      options_(options),
      informers_(client),
      writer_(client, options.api_workers, options.scheduler_name, std::move(instance), options.clock),
      queue_(QueueOptions{}, options.clock),
      algorithm_(AlgorithmOptions{options.percentage_of_nodes_to_score, 0}),
      metrics_(std::make_unique<Metrics>(options.scheduler_name)) {
  priority_classes_ = informers_.For("scheduling.k8s.io", "v1", "priorityclasses");
  pdbs_ = informers_.For("policy", "v1", "poddisruptionbudgets");
  namespaces_ = informers_.For("", "v1", "namespaces");
  nodes_ = informers_.For("", "v1", "nodes");
  pods_ = informers_.For("", "v1", "pods");
  claims_ = informers_.For("", "v1", "persistentvolumeclaims");
  volumes_ = informers_.For("", "v1", "persistentvolumes");
  storage_classes_ = informers_.For("storage.k8s.io", "v1", "storageclasses");
  // Any change to claims, volumes or classes may resolve a VolumeBinding rejection.
  auto on_volumes = [this](const client::ObjectPtr&) { Push(Item(Item::kVolumes)); };
  for (client::Informer* inf : {claims_, volumes_, storage_classes_}) {
    inf->AddHandler({on_volumes, [on_volumes](const client::ObjectPtr&, const client::ObjectPtr& obj) { on_volumes(obj); },
                     on_volumes});
  }

  auto lookup = [this](const std::string& name) { return LookupPriorityClass(name); };
  auto on_pod = [this, lookup](const client::ObjectPtr& obj) {
    Item it(Item::kPod);
    it.pod = ParsePod(obj, lookup);
    Push(std::move(it));
  };
  pods_->AddHandler({on_pod, [on_pod](const client::ObjectPtr&, const client::ObjectPtr& obj) { on_pod(obj); },
                     [this](const client::ObjectPtr& last) {
                       Item it(Item::kPod);
                       it.name = client::Key(*last);
                       Push(std::move(it));
                     }});
  auto on_node = [this](const client::ObjectPtr& obj) {
    Item it(Item::kNode);
    it.node = ParseNode(obj);
    Push(std::move(it));
  };
  nodes_->AddHandler({on_node, [on_node](const client::ObjectPtr&, const client::ObjectPtr& obj) { on_node(obj); },
                      [this](const client::ObjectPtr& last) {
                        Item it(Item::kNodeDeleted);
                        it.name = api::Name(*last);
                        Push(std::move(it));
                      }});
  auto on_ns = [this](const client::ObjectPtr& obj) {
    Item it(Item::kNamespace);
    it.name = api::Name(*obj);
    if (const auto* l = api::Metadata(*obj).if_contains("labels"); l && l->is_object()) {
      for (const auto& [k, v] : l->get_object()) {
        if (v.is_string()) it.labels.emplace(std::string(k), std::string(v.get_string()));
      }
    }
    Push(std::move(it));
  };
  namespaces_->AddHandler({on_ns, [on_ns](const client::ObjectPtr&, const client::ObjectPtr& obj) { on_ns(obj); },
                           [this](const client::ObjectPtr& last) {
                             Item it(Item::kNamespaceDeleted);
                             it.name = api::Name(*last);
                             Push(std::move(it));
                           }});
  informers_.Start();
  thread_ = std::thread([this] {
    SetThreadName("sched-loop");
    Run();
  });
}

SchedulingLoop::~SchedulingLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  informers_.Stop();
  writer_.Stop();
}

std::optional<std::pair<int32_t, std::string>> SchedulingLoop::LookupPriorityClass(const std::string& name) const {
  auto value = [](const client::ObjectPtr& pc) -> std::pair<int32_t, std::string> {
    int32_t v = 0;
    if (const auto* x = pc->if_contains("value"); x && x->is_int64()) v = static_cast<int32_t>(x->get_int64());
    std::string policy = "PreemptLowerPriority";
    if (const auto* p = pc->if_contains("preemptionPolicy"); p && p->is_string()) policy = std::string(p->get_string());
    return {v, policy};
  };
  if (!name.empty()) {
    if (auto pc = priority_classes_->Get("", name)) return value(pc);
    return std::nullopt;
  }
  for (const auto& pc : priority_classes_->List()) {
    if (const auto* g = pc->if_contains("globalDefault"); g && g->is_bool() && g->get_bool()) return value(pc);
  }
  return std::nullopt;
}

bool SchedulingLoop::Responsible(const PodInfo& pod) const {
  return pod.scheduler_name.empty() || pod.scheduler_name == options_.scheduler_name;
}

void SchedulingLoop::Push(Item item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void SchedulingLoop::ApplyPod(const PodInfoPtr& pod, uint32_t* moves) {
  const std::string& key = pod->key;
  if (!pod->node_name.empty()) {
    // Bound (by us or anyone): it counts on its node and leaves the queue.
    queue_.Delete(key);
    PodInfoPtr prev = cache_.FindPod(key);
    if (pod->terminal()) {
      // Finished pods hold no resources.
      if (prev) {
        cache_.RemovePod(key);
        *moves |= kAssignedPodDeleted;
      }
      return;
    }
    const bool was_assumed = cache_.IsAssumed(key);
    cache_.AddPod(pod);
    if (!prev) {
      *moves |= kAssignedPodAdded;
    } else if (!was_assumed) {
      if (prev->labels != pod->labels || prev->terminating != pod->terminating) *moves |= kAssignedPodAdded;
      if (!(prev->requests == pod->requests)) *moves |= kAssignedPodDeleted;
    }
    return;
  }
  if (cache_.HasPod(key)) return;  // assumed: its binding is on the way
  if (Responsible(*pod) && !pod->terminating && !pod->terminal()) {
    queue_.AddOrUpdate(pod);
  } else {
    queue_.Delete(key);
  }
}

void SchedulingLoop::Apply(Item& item, uint32_t* moves) {
  switch (item.kind) {
    case Item::kPod:
      if (item.pod) {
        ApplyPod(item.pod, moves);
      } else {
        if (cache_.HasPod(item.name)) {
          cache_.RemovePod(item.name);
          *moves |= kAssignedPodDeleted;
        }
        queue_.Delete(item.name);
      }
      return;
    case Item::kNode:
      *moves |= PluginsHelpedByNodeChange(cache_.SetNode(item.node));
      return;
    case Item::kNodeDeleted:
      cache_.RemoveNode(item.name);
      *moves |= PluginBit(Plugin::kPodTopologySpread) | PluginBit(Plugin::kInterPodAffinity);
      return;
    case Item::kNamespace:
      cache_.SetNamespaceLabels(item.name, std::move(item.labels));
      *moves |= PluginBit(Plugin::kInterPodAffinity);
      return;
    case Item::kNamespaceDeleted:
      cache_.RemoveNamespace(item.name);
      return;
    case Item::kVolumes:
      *moves |= PluginBit(Plugin::kVolumeBinding);
      return;
    case Item::kBound:
      queue_.Done(item.pod->key);
      return;
    case Item::kBindFailed: {
      const std::string& key = item.pod->key;
      cache_.ForgetPod(key);
      *moves |= kAssignedPodDeleted;  // the capacity it took is free again
      if (item.not_found) {
        queue_.Delete(key);
        return;
      }
      KITE_LOG(1) << "scheduler: binding pod " << key << " failed: " << item.name;
      const auto* e = queue_.Get(key);
      PodInfoPtr latest = e ? e->pod : item.pod;
      Fail(latest, "SchedulerError", "Binding rejected: " + item.name, 0, true, std::nullopt);
      return;
    }
  }
}

void SchedulingLoop::Fail(const PodInfoPtr& pod, const std::string& reason, const std::string& message,
                          uint32_t rejected_by, bool error, std::optional<std::string> nominated) {
  queue_.Requeue(pod->key, rejected_by, error);
  if (nominated) queue_.SetNomination(pod->key, *nominated);
  writer_.Event(*pod, "Warning", "FailedScheduling", "Scheduling", Truncate(message));
  if (NeedsStatusUpdate(*pod, reason, message, nominated)) writer_.UpdatePodStatus(pod, reason, message, nominated);
}

void SchedulingLoop::ScheduleOne(const SchedulingQueue::Entry& entry) {
  const PodInfoPtr pod = entry.pod;  // `entry` may go away below
  auto& m = SchedulerMetrics::Get();
  if (cache_.HasPod(pod->key) || pod->terminating) {
    queue_.Done(pod->key);
    return;
  }
  const auto start = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  // VolumeBinding's PreFilter: the claims' state, resolved now (it changes without the pod).
  PodInfoPtr candidate = pod;
  VolumeDecision volumes;
  if (!pod->claims.empty() && !cache_.Nodes().empty()) {
    volumes = ResolveVolumes(*pod, VolumeLookups{
                                       [this](const std::string& ns, const std::string& n) { return claims_->Get(ns, n); },
                                       [this](const std::string& n) { return volumes_->Get("", n); },
                                       [this](const std::string& n) { return storage_classes_->Get("", n); },
                                   });
    if (!volumes.error.empty() || !volumes.node_affinity.empty()) {
      // A rejection reads like any PreFilter's (parse_error), preemption included.
      auto copy = std::make_shared<PodInfo>(*pod);
      if (copy->parse_error.empty()) copy->parse_error = std::move(volumes.error);
      copy->volume_node_affinity = std::move(volumes.node_affinity);
      candidate = std::move(copy);
    }
  }
  bool no_nodes = false;
  std::string node = algorithm_.Schedule(cache_, *candidate, queue_.nominated(), &state_, &diag_, &no_nodes);
  if (!node.empty()) {
    for (const auto& claim : volumes.delayed_claims) writer_.AnnotateClaim(pod->ns, claim, kSelectedNodeAnnotation, node);
    cache_.AssumePod(pod, node);
    queue_.SetNomination(pod->key, "");
    writer_.Bind(pod, node, [this, pod](const kite::Status* err) {
      Item it(err ? Item::kBindFailed : Item::kBound);
      it.pod = pod;
      if (err) {
        it.name = err->message();
        it.not_found = err->IsNotFound();
      }
      Push(std::move(it));
    });
    metrics_->scheduled.Observe(seconds());
    return;
  }
  if (no_nodes) {
    Fail(pod, "SchedulerError", "no nodes available to schedule pods", 0, true, std::string());
    metrics_->error.Observe(seconds());
    return;
  }
  // DefaultPreemption (PostFilter).
  m.preemption_attempts.Increment();
  std::vector<DisruptionBudget> pdbs;
  for (const auto& p : pdbs_->List()) pdbs.push_back(ParseDisruptionBudget(*p));
  PreemptionResult pr = Preempt(cache_, *candidate, state_, diag_, pdbs, queue_.nominated(), algorithm_.rng());
  std::optional<std::string> nominated;
  if (!pr.node.empty()) {
    nominated = pr.node;
    m.preemption_victims.Observe(static_cast<double>(pr.victims.size()));
    for (const auto& v : pr.victims) {
      if (!v->terminating) writer_.Preempt(v, pod, pr.node);
    }
    for (const auto& p : pr.lower_nominated) {
      queue_.SetNomination(p->key, "");
      writer_.ClearNomination(p);
    }
  } else if (pr.clear_nomination) {
    nominated = std::string();
  }
  uint32_t rejected_by = diag_.plugins;
  if (!diag_.pre_filter_msg.empty()) rejected_by = 0;
  Fail(pod, "Unschedulable", FitErrorMessage(diag_, *candidate, pr.message), rejected_by, false, nominated);
  metrics_->unschedulable.Observe(seconds());
}

void SchedulingLoop::Run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (informers_.WaitForSync(200ms)) break;
  }
  // Pods may have been listed before the PriorityClasses were (the informers list one after
  // another): parse them again now that every cache is full, so their priorities are right.
  auto lookup = [this](const std::string& name) { return LookupPriorityClass(name); };
  for (const auto& obj : pods_->List()) {
    Item it(Item::kPod);
    it.pod = ParsePod(obj, lookup);
    Push(std::move(it));
  }
  KITE_LOG(0) << "scheduler: caches synced, scheduling";
  auto& m = SchedulerMetrics::Get();
  auto last_unschedulable_flush = options_.clock->SteadyNow();
  std::deque<Item> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (inbox_.empty() && queue_.Size(SchedulingQueue::Where::kActive) == 0 && !stopping_) {
        auto wake = Clock::now() + 1s;
        // The next back-off expiry is on the scheduler's clock: wait as long on the real one.
        if (auto b = queue_.NextBackoffExpiry()) {
          wake = std::min(wake, Clock::now() + std::max(*b - options_.clock->SteadyNow(), Clock::duration::zero()));
        }
        cv_.wait_until(lock, wake, [this] { return stopping_ || !inbox_.empty(); });
      }
      if (stopping_) return;
      batch.swap(inbox_);
    }
    uint32_t moves = 0;
    for (auto& item : batch) Apply(item, &moves);
    batch.clear();
    if (moves) queue_.MoveAll(moves);
    queue_.FlushBackoff();
    if (const auto now = options_.clock->SteadyNow(); now - last_unschedulable_flush >= 30s) {
      queue_.FlushUnschedulable();
      last_unschedulable_flush = now;
    }
    for (int i = 0; i < kPodsPerIteration; ++i) {
      const SchedulingQueue::Entry* e = queue_.Pop();
      if (!e) break;
      ScheduleOne(*e);
    }
    m.pending.Add({{"queue", "active"}}).Set(static_cast<double>(queue_.Size(SchedulingQueue::Where::kActive)));
    m.pending.Add({{"queue", "backoff"}}).Set(static_cast<double>(queue_.Size(SchedulingQueue::Where::kBackoff)));
    m.pending.Add({{"queue", "unschedulable"}})
        .Set(static_cast<double>(queue_.Size(SchedulingQueue::Where::kUnschedulable)));
  }
}

}  // namespace kite::scheduler
