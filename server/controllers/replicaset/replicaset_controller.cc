#include "server/controllers/replicaset/replicaset_controller.h"

#include <boost/json.hpp>

#include <algorithm>

#include "server/controllers/common/controller_utils.h"

namespace kite::controllers {
namespace {

constexpr int kBurstReplicas = 500;  // upstream's per-sync cap on creations/deletions

class ReplicaSetController final : public client::Controller {
 public:
  ReplicaSetController(const client::Client* c, bool rc)
      : Controller(rc ? "replicationcontroller" : "replicaset", 5),
        client_(c),
        rc_(rc),
        resource_(rc ? api::FindResource("", "v1", "replicationcontrollers")
                     : api::FindResource("apps", "v1", "replicasets")),
        pods_r_(api::FindResource("", "v1", "pods")),
        recorder_(c, rc ? "replication-controller" : "replicaset-controller") {}

  void Init(client::InformerFactory& f) override {
    sets_ = f.For(*resource_);
    pods_ = f.For(*pods_r_);
    sets_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr&, const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr& o) {
          expectations_.Delete(KeyOf(*o));
          queue_.Add(KeyOf(*o));
        }});
    pods_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& p) {
          if (Obj(*p, "metadata").contains("deletionTimestamp")) return PodGone(*p);
          if (auto owner = OwnerKey(*p)) {
            expectations_.CreationObserved(*owner);
            queue_.Add(*owner);
          } else {
            EnqueueMatching(*p);
          }
        },
        [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
          if (Str(Obj(*old_pod, "metadata"), "resourceVersion") == Str(Obj(*p, "metadata"), "resourceVersion")) return;
          if (Obj(*p, "metadata").contains("deletionTimestamp") && !Obj(*old_pod, "metadata").contains("deletionTimestamp")) {
            return PodGone(*p);
          }
          auto old_owner = OwnerKey(*old_pod), owner = OwnerKey(*p);
          if (old_owner && old_owner != owner) queue_.Add(*old_owner);
          if (owner) queue_.Add(*owner);
          else EnqueueMatching(*p);
        },
        [this](const ObjectPtr& p) {
          if (!Obj(*p, "metadata").contains("deletionTimestamp")) PodGone(*p);
          else if (auto owner = OwnerKey(*p)) queue_.Add(*owner);
        }});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = SplitKey(key);
    ObjectPtr set = sets_->Get(ns, name);
    if (!set) {
      expectations_.Delete(key);
      return Status::Ok();
    }
    const auto& spec = Obj(*set, "spec");
    const std::string uid = Str(Obj(*set, "metadata"), "uid");
    const bool deleting = Obj(*set, "metadata").contains("deletionTimestamp");
    api::LabelSelector selector = rc_ ? MapSelector(spec.if_contains("selector")) : SelectorOf(*set);
    if (rc_ && selector.IsNothing()) selector = MapSelector(Obj(Obj(spec, "template"), "metadata").if_contains("labels"));
    const int64_t replicas = Int(spec, "replicas", 1);

    // Claim: owned and matching pods stay; owned ones that stopped matching are released;
    // matching orphans are adopted.
    std::vector<ObjectPtr> owned;
    Status err;
    for (const auto& pod : pods_->List(ns)) {
      if (!IsPodActive(*pod)) continue;
      const json::object* ref = ControllerOf(*pod);
      const bool matches = LabelsMatch(selector, *pod);
      if (ref) {
        if (Str(*ref, "uid") != uid) continue;
        if (matches) owned.push_back(pod);
        else if (auto s = Release(*pod, uid); !s.ok()) err = s;
        continue;
      }
      if (!matches || deleting) continue;
      if (auto adopted = Adopt(*set, *pod); adopted) owned.push_back(adopted);
    }

    Status manage;
    if (!deleting && expectations_.Satisfied(key)) manage = Manage(key, *set, owned, replicas);
    if (auto s = UpdateStatus(*set, owned); !s.ok()) return s;
    if (!manage.ok()) return manage;
    return err;
  }

 private:
  // The key of the pod's controlling owner if that is one of ours (kind matches).
  std::optional<std::string> OwnerKey(const json::object& pod) const {
    const json::object* ref = ControllerOf(pod);
    if (!ref || Str(*ref, "kind") != resource_->kind) return std::nullopt;
    const std::string ns = Str(Obj(pod, "metadata"), "namespace");
    ObjectPtr set = sets_->Get(ns, Str(*ref, "name"));
    if (!set || Str(Obj(*set, "metadata"), "uid") != Str(*ref, "uid")) return std::nullopt;
    return ns + "/" + Str(*ref, "name");
  }

  void PodGone(const json::object& pod) {
    if (auto owner = OwnerKey(pod)) {
      expectations_.DeletionObserved(*owner);
      queue_.Add(*owner);
    }
  }

  void EnqueueMatching(const json::object& pod) {
    const std::string ns = Str(Obj(pod, "metadata"), "namespace");
    for (const auto& set : sets_->List(ns)) {
      const auto& spec = Obj(*set, "spec");
      api::LabelSelector s = rc_ ? MapSelector(spec.if_contains("selector")) : SelectorOf(*set);
      if (LabelsMatch(s, pod)) queue_.Add(KeyOf(*set));
    }
  }

  ObjectPtr Adopt(const json::object& set, const json::object& pod) {
    const auto& pm = Obj(pod, "metadata");
    json::object patch{{"metadata", json::object{{"ownerReferences", json::array{ControllerRef(set)}},
                                                 {"uid", Str(pm, "uid")}}}};
    auto r = client_->Patch(*pods_r_, Str(pm, "namespace"), Str(pm, "name"), client::PatchType::kStrategic,
                            json::serialize(patch));
    if (!r.ok()) return nullptr;
    return std::make_shared<const json::object>(std::move(r.value()));
  }

  Status Release(const json::object& pod, const std::string& owner_uid) {
    const auto& pm = Obj(pod, "metadata");
    json::object patch{{"metadata", json::object{{"ownerReferences", json::array{json::object{
                                                                         {"$patch", "delete"}, {"uid", owner_uid}}}},
                                                 {"uid", Str(pm, "uid")}}}};
    auto r = client_->Patch(*pods_r_, Str(pm, "namespace"), Str(pm, "name"), client::PatchType::kStrategic,
                            json::serialize(patch));
    if (!r.ok() && !r.NotFound()) return Status(Code::kUnavailable, "releasing pod: " + r.error().message());
    return Status::Ok();
  }

  Status Manage(const std::string& key, const json::object& set, const std::vector<ObjectPtr>& owned, int64_t replicas) {
    const int64_t diff = static_cast<int64_t>(owned.size()) - replicas;
    const std::string ns = Str(Obj(set, "metadata"), "namespace");
    if (diff < 0) {
      int want = static_cast<int>(std::min<int64_t>(-diff, kBurstReplicas));
      expectations_.Expect(key, want, 0);
      const json::object& tmpl = Obj(Obj(set, "spec"), "template");
      const std::string prefix = Str(Obj(set, "metadata"), "name") + "-";
      int created = 0;
      // Slow start: batches of 1, 2, 4, …; stop at the first batch with a failure.
      for (int batch = 1; created < want; batch *= 2) {
        int n = std::min(batch, want - created);
        int failed = 0;
        std::string error;
        for (int i = 0; i < n; ++i) {
          auto r = client_->Create(*pods_r_, ns, PodFromTemplate(tmpl, set, prefix));
          if (r.ok()) {
            recorder_.Normal(set, "SuccessfulCreate", "Created pod: " + Str(Obj(*r, "metadata"), "name"));
          } else {
            ++failed;
            error = r.error().message();
            recorder_.Warning(set, "FailedCreate", "Error creating: " + error);
          }
        }
        created += n;
        if (failed > 0) {
          // The pods not created will never be observed: stop expecting them.
          for (int i = 0; i < failed + (want - created); ++i) expectations_.CreationObserved(key);
          return Status(Code::kUnavailable, "creating pods: " + error);
        }
      }
      return Status::Ok();
    }
    if (diff > 0) {
      int n = static_cast<int>(std::min<int64_t>(diff, kBurstReplicas));
      std::vector<ObjectPtr> victims = owned;
      std::sort(victims.begin(), victims.end(), [](const ObjectPtr& a, const ObjectPtr& b) { return DeleteFirst(*a, *b); });
      victims.resize(n);
      expectations_.Expect(key, 0, n);
      Status s;
      for (const auto& pod : victims) {
        const std::string pod_name = Str(Obj(*pod, "metadata"), "name");
        auto r = client_->Delete(*pods_r_, ns, pod_name);
        if (r.ok()) {
          recorder_.Normal(set, "SuccessfulDelete", "Deleted pod: " + pod_name);
        } else {
          expectations_.DeletionObserved(key);
          if (!r.NotFound()) s = Status(Code::kUnavailable, "deleting pod: " + r.error().message());
        }
      }
      return s;
    }
    return Status::Ok();
  }

  // Upstream's ranking of pods to delete: unscheduled before scheduled, pending before unknown
  // before running, not ready before ready, more restarts before fewer, newer before older.
  static bool DeleteFirst(const json::object& a, const json::object& b) {
    auto scheduled = [](const json::object& p) { return !Str(Obj(p, "spec"), "nodeName").empty(); };
    if (scheduled(a) != scheduled(b)) return !scheduled(a);
    auto phase_rank = [](const json::object& p) {
      std::string ph = Str(Obj(p, "status"), "phase");
      return ph == "Pending" ? 0 : ph == "Unknown" ? 1 : ph == "Running" ? 2 : 0;
    };
    if (phase_rank(a) != phase_rank(b)) return phase_rank(a) < phase_rank(b);
    if (IsPodReady(a) != IsPodReady(b)) return !IsPodReady(a);
    auto restarts = [](const json::object& p) {
      int64_t n = 0;
      for (const auto& cs : Arr(Obj(p, "status"), "containerStatuses")) {
        if (cs.is_object()) n = std::max(n, Int(cs.as_object(), "restartCount"));
      }
      return n;
    };
    if (restarts(a) != restarts(b)) return restarts(a) > restarts(b);
    return Str(Obj(a, "metadata"), "creationTimestamp") > Str(Obj(b, "metadata"), "creationTimestamp");
  }

  Status UpdateStatus(const json::object& set, const std::vector<ObjectPtr>& owned) {
    const auto& spec = Obj(set, "spec");
    const int64_t min_ready = Int(spec, "minReadySeconds");
    const auto& template_labels = Obj(Obj(Obj(spec, "template"), "metadata"), "labels");
    const auto now = std::chrono::system_clock::now();
    int64_t fully = 0, ready = 0, available = 0;
    for (const auto& pod : owned) {
      const auto& labels = Obj(Obj(*pod, "metadata"), "labels");
      bool all = true;
      for (const auto& [k, v] : template_labels) {
        auto* have = labels.if_contains(k);
        if (!have || *have != v) all = false;
      }
      fully += all;
      if (IsPodReady(*pod)) {
        ++ready;
        if (IsPodAvailable(*pod, min_ready, now)) ++available;
      }
    }
    if (min_ready > 0 && ready > available) queue_.AddAfter(KeyOf(set), std::chrono::seconds(min_ready));
    json::object status = Obj(set, "status");
    json::object want = status;
    want["replicas"] = static_cast<int64_t>(owned.size());
    want["fullyLabeledReplicas"] = fully;
    want["readyReplicas"] = ready;
    want["availableReplicas"] = available;
    want["observedGeneration"] = Int(Obj(set, "metadata"), "generation", 1);
    if (want == status) return Status::Ok();
    json::object updated = set;
    updated["status"] = std::move(want);
    auto r = client_->UpdateStatus(*resource_, Str(Obj(set, "metadata"), "namespace"), updated);
    if (!r.ok() && !r.NotFound()) return Status(Code::kAborted, "updating status: " + r.error().message());
    return Status::Ok();
  }

  const client::Client* client_;
  const bool rc_;
  const api::ResourceInfo* resource_;
  const api::ResourceInfo* pods_r_;
  client::Informer* sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  Expectations expectations_;
  EventRecorder recorder_;
};

}  // namespace

std::unique_ptr<client::Controller> NewReplicaSetController(const client::Client* client, bool replication_controller) {
  return std::make_unique<ReplicaSetController>(client, replication_controller);
}

}  // namespace kite::controllers
