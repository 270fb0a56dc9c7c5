#include "server/controllers/replicaset/replicaset_controller.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/controller_ref_manager.h"
#include "client/event_recorder.h"
#include "client/expectations.h"
#include "client/informer.h"
#include "client/pod_control.h"
#include "client/slow_start.h"
#include "client/status_update.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr int kBurstReplicas = 500;  // upstream's per-sync cap on creations/deletions

class ReplicaSetController final : public client::Controller {
 public:
  ReplicaSetController(const client::Client* c, bool rc, const kite::Clock* clock)
      : Controller(rc ? "replicationcontroller" : "replicaset", 5, clock),
        client_(c),
        rc_(rc),
        resource_(rc ? api::FindResource("", "v1", "replicationcontrollers")
                     : api::FindResource("apps", "v1", "replicasets")),
        pods_r_(api::FindResource("", "v1", "pods")),
        expectations_(clock),
        recorder_(c, rc ? "replication-controller" : "replicaset-controller", "", clock),
        pod_control_(c, &recorder_) {}

  void Init(client::InformerFactory& f) override {
    sets_ = f.For(*resource_);
    pods_ = f.For(*pods_r_);
    sets_->AddHandler(client::EnqueueSelf(&queue_, &expectations_));
    pods_->AddHandler(client::DependentHandler({
        .queue = &queue_,
        .expectations = &expectations_,
        .owner_key = [this](const json::object& pod) { return client::ResolveControllerRef(pod, resource_->kind, *sets_); },
        .enqueue_adopters = [this](const json::object& pod) { EnqueueMatching(pod); },
    }));
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr set = sets_->Get(ns, name);
    if (!set) {
      expectations_.Delete(key);
      return Status::Ok();
    }
    const bool deleting = api::IsBeingDeleted(*set);

    std::vector<ObjectPtr> active;
    for (const auto& pod : pods_->List(ns)) {
      if (api::IsPodActive(*pod)) active.push_back(pod);
    }
    Status claim;
    client::ControllerRefManager refs(client_, *pods_r_, *set, Selector(*set));
    const std::vector<ObjectPtr> owned = refs.Claim(active, &claim);

    Status manage;
    if (!deleting && expectations_.Satisfied(key)) manage = Manage(key, *set, owned);
    if (auto s = UpdateStatus(*set, owned); !s.ok()) return s;
    if (!manage.ok()) return manage;
    return claim;
  }

 private:
  // spec.selector; a ReplicationController without one selects its template's labels.
  api::LabelSelector Selector(const json::object& set) const {
    const auto& spec = api::GetObject(set, "spec");
    if (!rc_) return api::SelectorOf(set);
    api::LabelSelector selector = api::MapSelector(spec.if_contains("selector"));
    if (selector.IsNothing()) selector = api::MapSelector(api::GetObject(spec, {"template", "metadata"}).if_contains("labels"));
    return selector;
  }

  void EnqueueMatching(const json::object& pod) {
    for (const auto& set : sets_->List(api::Namespace(pod))) {
      const auto& spec = api::GetObject(*set, "spec");
      api::LabelSelector s = rc_ ? api::MapSelector(spec.if_contains("selector")) : api::SelectorOf(*set);
      if (api::LabelsMatch(s, pod)) queue_.Add(client::Key(*set));
    }
  }

  // Creates or deletes pods so that spec.replicas are active, at most kBurstReplicas per pass.
  Status Manage(const std::string& key, const json::object& set, const std::vector<ObjectPtr>& owned) {
    const int64_t diff = static_cast<int64_t>(owned.size()) - api::GetInt(set, {"spec", "replicas"}, 1);
    if (diff < 0) {
      int want = static_cast<int>(std::min<int64_t>(-diff, kBurstReplicas));
      expectations_.Expect(key, want, 0);
      const json::object& tmpl = api::GetObject(set, {"spec", "template"});
      const std::string prefix = api::Name(set) + "-";
      Status error;
      const int created = client::SlowStartBatch(want, 1, [&](int) {
        auto r = pod_control_.CreatePod(set, api::PodFromTemplate(tmpl, set, prefix));
        return r.ok() ? Status::Ok() : r.error().Annotate("creating pods");
      }, &error);
      // The pods not created will never be observed: stop expecting them.
      for (int i = created; i < want; ++i) expectations_.CreationObserved(key);
      return error;
    }
    if (diff > 0) {
      int n = static_cast<int>(std::min<int64_t>(diff, kBurstReplicas));
      std::vector<ObjectPtr> victims = owned;
      std::sort(victims.begin(), victims.end(), [](const ObjectPtr& a, const ObjectPtr& b) { return DeleteFirst(*a, *b); });
      victims.resize(n);
      expectations_.Expect(key, 0, n);
      Status s;
      for (const auto& pod : victims) {
        auto r = pod_control_.DeletePod(set, *pod);
        if (r.ok()) continue;
        expectations_.DeletionObserved(key);  // a pod not deleted will never be observed going
        if (!r.NotFound()) s = r.error().Annotate("deleting pod");
      }
      return s;
    }
    return Status::Ok();
  }

  // Upstream's ranking of pods to delete: unscheduled before scheduled, pending before unknown
  // before running, not ready before ready, more restarts before fewer, newer before older.
  static bool DeleteFirst(const json::object& a, const json::object& b) {
    auto scheduled = [](const json::object& p) { return !api::GetString(p, {"spec", "nodeName"}).empty(); };
    if (scheduled(a) != scheduled(b)) return !scheduled(a);
    auto phase_rank = [](const json::object& p) {
      std::string ph = api::GetString(p, {"status", "phase"});
      return ph == "Pending" ? 0 : ph == "Unknown" ? 1 : ph == "Running" ? 2 : 0;
    };
    if (phase_rank(a) != phase_rank(b)) return phase_rank(a) < phase_rank(b);
    if (api::IsPodReady(a) != api::IsPodReady(b)) return !api::IsPodReady(a);
    auto restarts = [](const json::object& p) {
      int64_t n = 0;
      for (const auto& cs : api::GetArray(p, {"status", "containerStatuses"})) {
        if (cs.is_object()) n = std::max(n, api::GetInt(cs.as_object(), "restartCount"));
      }
      return n;
    };
    if (restarts(a) != restarts(b)) return restarts(a) > restarts(b);
    return api::GetString(a, {"metadata", "creationTimestamp"}) > api::GetString(b, {"metadata", "creationTimestamp"});
  }

  Status UpdateStatus(const json::object& set, const std::vector<ObjectPtr>& owned) {
    const auto& spec = api::GetObject(set, "spec");
    const int64_t min_ready = api::GetInt(spec, "minReadySeconds");
    const auto& template_labels = api::GetObject(spec, {"template", "metadata", "labels"});
    const auto now = clock()->Now();
    int64_t fully = 0, ready = 0, available = 0;
    for (const auto& pod : owned) {
      const auto& labels = api::Labels(*pod);
      bool all = true;
      for (const auto& [k, v] : template_labels) {
        auto* have = labels.if_contains(k);
        if (!have || *have != v) all = false;
      }
      fully += all;
      if (api::IsPodReady(*pod)) {
        ++ready;
        if (api::IsPodAvailable(*pod, min_ready, now)) ++available;
      }
    }
    if (min_ready > 0 && ready > available) queue_.AddAfter(client::Key(set), std::chrono::seconds(min_ready));
    json::object want = api::GetObject(set, "status");
    want["replicas"] = static_cast<int64_t>(owned.size());
    want["fullyLabeledReplicas"] = fully;
    want["readyReplicas"] = ready;
    want["availableReplicas"] = available;
    want["observedGeneration"] = api::GetInt(set, {"metadata", "generation"}, 1);
    return client::UpdateStatusIfChanged(*client_, *resource_, set, std::move(want));
  }

  const client::Client* client_;
  const bool rc_;
  const api::ResourceInfo* resource_;
  const api::ResourceInfo* pods_r_;
  client::Informer* sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Expectations expectations_;
  client::EventRecorder recorder_;
  client::PodControl pod_control_;
};

}  // namespace

std::unique_ptr<client::Controller> NewReplicaSetController(const client::Client* client, bool replication_controller,
                                                            const kite::Clock* clock) {
  return std::make_unique<ReplicaSetController>(client, replication_controller, clock);
}

}  // namespace kite::controllers
