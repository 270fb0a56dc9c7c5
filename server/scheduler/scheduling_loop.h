// SchedulingLoop: one running scheduler (while this process leads): informers for pods, nodes,
// namespaces, PriorityClasses and PodDisruptionBudgets; one thread owning the cache and the
// queue that applies informer events and runs scheduling cycles; an ApiWriter for its writes.
//
// Informer handlers only parse the object (so that work is off the loop) and hand it to the
// loop's inbox; the loop applies a batch of inbox items, moves parked pods the batch may help,
// then schedules a batch of pods. Decisions are "assumed" in the cache at once and bound
// asynchronously; a failed binding forgets the assumption and requeues the pod with back-off.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/informer.h"
#include "server/scheduler/algorithm.h"
#include "server/scheduler/api_writer.h"
#include "server/scheduler/queue.h"
#include "server/scheduler/scheduler.h"

namespace kite::scheduler {

class SchedulingLoop {
 public:
  SchedulingLoop(const client::Client* client, const SchedulerOptions& options, std::string instance);
  ~SchedulingLoop();  // stops informers, the loop and the writer

 private:
  struct Item {
    enum Kind { kPod, kNode, kNodeDeleted, kNamespace, kNamespaceDeleted, kBindFailed, kBound, kVolumes };
    explicit Item(Kind k) : kind(k) {}
    Kind kind;
    PodInfoPtr pod;  // kPod: new state (null when deleted); kBind*: the pod
    NodeSpecPtr node;
    // kPod deleted: the pod's key; kNodeDeleted / kNamespace*: the name; kBindFailed: the error
    std::string name;
    Labels labels;     // kNamespace
    bool not_found = false;  // kBindFailed: the pod is gone
  };

  void Push(Item item);
  void Run();
  void Apply(Item& item, uint32_t* moves);
  void ApplyPod(const PodInfoPtr& pod, uint32_t* moves);
  void ScheduleOne(const SchedulingQueue::Entry& entry);
  void Fail(const PodInfoPtr& pod, const std::string& reason, const std::string& message, uint32_t rejected_by,
            bool error, std::optional<std::string> nominated);
  std::optional<std::pair<int32_t, std::string>> LookupPriorityClass(const std::string& name) const;
  bool Responsible(const PodInfo& pod) const;

  const client::Client* client_;
  const SchedulerOptions options_;
  client::InformerFactory informers_;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* namespaces_ = nullptr;
  client::Informer* priority_classes_ = nullptr;
  client::Informer* pdbs_ = nullptr;
  client::Informer* claims_ = nullptr;          // PersistentVolumeClaims, PersistentVolumes and
  client::Informer* volumes_ = nullptr;         // StorageClasses, for VolumeBinding
  client::Informer* storage_classes_ = nullptr;
  ApiWriter writer_;

  std::mutex mu_;  // guards inbox_, stopping_
  std::condition_variable cv_;
  std::deque<Item> inbox_;
  bool stopping_ = false;
  std::thread thread_;

  // Owned by the loop thread.
  Cache cache_;
  SchedulingQueue queue_;
  Algorithm algorithm_;
  CycleState state_;
  Diagnosis diag_;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace kite::scheduler
