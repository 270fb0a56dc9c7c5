#include "server/controllers/deployment/deployment_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "api/conditions.h"
#include "api/object.h"
#include "api/owner_references.h"
#include "api/selectors.h"
#include "api/time.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/controller_ref_manager.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/history.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char* kRevision = "deployment.kubernetes.io/revision";
constexpr const char* kDesired = "deployment.kubernetes.io/desired-replicas";
constexpr const char* kMaxReplicas = "deployment.kubernetes.io/max-replicas";
constexpr const char* kHashLabel = "pod-template-hash";

// An integer annotation (revision, desired-replicas, max-replicas); nullopt when absent or not
// a whole number.
std::optional<int64_t> AnnotationInt(const json::object& obj, const char* key) {
  std::string s = api::GetString(api::Annotations(obj), key);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

int64_t Revision(const json::object& obj) { return AnnotationInt(obj, kRevision).value_or(0); }

int64_t Replicas(const json::object& obj) { return api::GetInt(obj, {"spec", "replicas"}, 1); }
int64_t StatusInt(const json::object& obj, const char* f) { return api::GetInt(api::GetObject(obj, "status"), f); }

json::object TemplateWithoutHash(const json::object& tmpl) {
  json::object t = tmpl;
  if (auto* m = t.if_contains("metadata"); m && m->is_object()) {
    if (auto* l = m->as_object().if_contains("labels"); l && l->is_object()) {
      l->as_object().erase(kHashLabel);
      if (l->as_object().empty()) m->as_object().erase("labels");
    }
    if (m->as_object().empty()) t.erase("metadata");
  }
  return t;
}

class DeploymentController final : public client::Controller {
 public:
  explicit DeploymentController(const client::Client* c, const kite::Clock* clock)
      : Controller("deployment", 5, clock),
        client_(c),
        deploy_r_(api::FindResource("apps", "v1", "deployments")),
        rs_r_(api::FindResource("apps", "v1", "replicasets")),
        recorder_(c, "deployment-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    deployments_ = f.For(*deploy_r_);
    sets_ = f.For(*rs_r_);
    pods_ = f.For("", "v1", "pods");
    deployments_->AddHandler(client::EnqueueSelf(&queue_));
    sets_->AddHandler(client::DependentHandler({
        .queue = &queue_,
        .owner_key = [](const json::object& rs) { return api::ControllerKeyOf(rs, "Deployment"); },
        .enqueue_adopters = [this](const json::object& rs) { EnqueueMatching(rs); },
    }));
    // Recreate waits for old pods to be gone: their deletion wakes the Deployment.
    pods_->AddHandler(client::EventHandler{nullptr, nullptr, [this](const ObjectPtr& pod) {
                                             const json::object* ref = api::ControllerOf(*pod);
                                             if (!ref || api::GetString(*ref, "kind") != "ReplicaSet") return;
                                             const std::string ns = api::Namespace(*pod);
                                             if (auto rs = sets_->Get(ns, api::GetString(*ref, "name"))) {
                                               if (const json::object* dref = api::ControllerOf(*rs)) {
                                                 queue_.Add(ns + "/" + api::GetString(*dref, "name"));
                                               }
                                             }
                                           }});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr dp = deployments_->Get(ns, name);
    if (!dp) return Status::Ok();
    json::object d = *dp;
    api::LabelSelector selector = api::SelectorOf(d);
    if (selector.Empty() || selector.IsNothing()) {
      recorder_.Warning(d, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      return Status::Ok();
    }
    Status claim;
    std::vector<json::object> sets = ClaimReplicaSets(d, selector, &claim);
    if (auto s = SyncDeployment(d, sets); !s.ok()) return s;
    return claim;
  }

 private:
  // The Deployment's ReplicaSets, claimed as client::ControllerRefManager does.
  std::vector<json::object> ClaimReplicaSets(const json::object& d, const api::LabelSelector& selector, Status* error) {
    client::ControllerRefManager refs(client_, *rs_r_, d, selector);
    std::vector<json::object> out;
    for (const auto& rs : refs.Claim(sets_->List(api::Namespace(d)), error)) out.push_back(*rs);
    return out;
  }

  // An orphan ReplicaSet wakes the Deployments that would adopt it.
  void EnqueueMatching(const json::object& rs) {
    for (const auto& d : deployments_->List(api::Namespace(rs))) {
      if (api::LabelsMatch(api::SelectorOf(*d), rs)) queue_.Add(client::Key(*d));
    }
  }

  // What the Deployment's state asks for: status only while it is being deleted; scaling
  // when paused or resized; else a rollout by its strategy.
  Status SyncDeployment(json::object& d, std::vector<json::object>& sets) {
    if (api::IsBeingDeleted(d)) return UpdateStatus(d, sets, nullptr);
    const auto& spec = api::GetObject(d, "spec");
    if (api::GetBool(spec, "paused") || ScalingEvent(d, sets)) return SyncScale(d, sets);
    if (api::GetString(spec, {"strategy", "type"}) == "Recreate") return Recreate(d, sets);
    return Rolling(d, sets);
  }

  // The ReplicaSet whose template is the Deployment's (the oldest, if several).
  static json::object* FindNew(const json::object& d, std::vector<json::object>& sets) {
    json::object want = TemplateWithoutHash(api::GetObject(d, {"spec", "template"}));
    json::object* found = nullptr;
    for (auto& rs : sets) {
      if (TemplateWithoutHash(api::GetObject(rs, {"spec", "template"})) != want) continue;
      if (!found || api::GetString(rs, {"metadata", "creationTimestamp"}) < api::GetString(*found, {"metadata", "creationTimestamp"})) {
        found = &rs;
      }
    }
    return found;
  }

  // Returns the new ReplicaSet (creating it when `create`), with its revision brought up to date;
  // null when none exists and create is false.
  Result<json::object*> NewReplicaSet(json::object& d, std::vector<json::object>& sets, bool create) {
    json::object* nrs = FindNew(d, sets);
    int64_t max_old = 0;
    for (const auto& rs : sets) {
      if (&rs != nrs) max_old = std::max(max_old, Revision(rs));
    }
    const int64_t revision = max_old + 1;
    const std::string ns = api::Namespace(d);
    auto [surge, unavailable] = ResolveSurgeUnavailable(d);
    (void)unavailable;
    if (nrs) {
      // A rollback (or an old template coming back) makes an old ReplicaSet new again.
      if (Revision(*nrs) < revision) {
        json::object updated = *nrs;
        auto& ann = updated["metadata"].as_object()["annotations"];
        if (!ann.is_object()) ann = json::object();
        ann.as_object()[kRevision] = std::to_string(revision);
        auto r = client_->Update(*rs_r_, ns, updated);
        if (!r.ok()) return r.error();
        *nrs = std::move(r.value());
      }
      if (Status s = SetDeploymentRevision(d, Revision(*nrs)); !s.ok()) return s;
      return nrs;
    }
    if (!create) return static_cast<json::object*>(nullptr);
    const auto& spec = api::GetObject(d, "spec");
    json::object tmpl = api::GetObject(spec, "template");
    const int64_t collisions = StatusInt(d, "collisionCount");
    const std::string hash = PodTemplateHash(tmpl, collisions);
    auto& tm = tmpl["metadata"];
    if (!tm.is_object()) tm = json::object();
    auto& tl = tm.as_object()["labels"];
    if (!tl.is_object()) tl = json::object();
    tl.as_object()[kHashLabel] = hash;
    json::object selector = api::GetObject(spec, "selector");
    auto& ml = selector["matchLabels"];
    if (!ml.is_object()) ml = json::object();
    ml.as_object()[kHashLabel] = hash;
    json::object annotations;
    for (const auto& [k, v] : api::Annotations(d)) {
      if (k == "kubectl.kubernetes.io/last-applied-configuration" || k == kRevision) continue;
      annotations[k] = v;
    }
    annotations[kRevision] = std::to_string(revision);
    annotations[kDesired] = std::to_string(Replicas(d));
    annotations[kMaxReplicas] = std::to_string(Replicas(d) + surge);
    const std::string rs_name = api::Name(d) + "-" + hash;
    int64_t initial = 0;
    if (api::GetString(spec, {"strategy", "type"}) != "Recreate") initial = NewReplicasForRolling(d, sets, 0);
    json::object rs{{"apiVersion", "apps/v1"},
                    {"kind", "ReplicaSet"},
                    {"metadata", json::object{{"name", rs_name},
                                              {"namespace", ns},
                                              {"labels", tl},
                                              {"annotations", std::move(annotations)},
                                              {"ownerReferences", json::array{api::ControllerRef(d)}}}},
                    {"spec", json::object{{"replicas", initial},
                                          {"minReadySeconds", api::GetInt(spec, "minReadySeconds")},
                                          {"selector", std::move(selector)},
                                          {"template", std::move(tmpl)}}}};
    auto created = client_->Create(*rs_r_, ns, rs);
    if (!created.ok()) {
      if (created.AlreadyExists()) {
        // A ReplicaSet of that name with another template: bump collisionCount so the next
        // hash differs (upstream's hash-collision handling).
        auto existing = client_->Get(*rs_r_, ns, rs_name);
        if (existing.ok() && TemplateWithoutHash(api::GetObject(*existing, {"spec", "template"})) ==
                                 TemplateWithoutHash(api::GetObject(spec, "template"))) {
          return Status::Api(409, "AlreadyExists", "new replica set exists but is not yet in the cache");
        }
        json::object st = api::GetObject(d, "status");
        st["collisionCount"] = collisions + 1;
        // The count must be stored before the retry, or the same name collides again.
        if (auto s = client::UpdateStatusIfChanged(*client_, *deploy_r_, d, std::move(st)); !s.ok()) return s;
      }
      return created.error();
    }
    if (initial > 0) {
      recorder_.Normal(d, "ScalingReplicaSet", "Scaled up replica set " + rs_name + " from 0 to " + std::to_string(initial));
    }
    sets.push_back(std::move(created.value()));
    json::object& nrs_ref = sets.back();
    json::object status = api::GetObject(d, "status");
    SetDeploymentCondition(status, DeploymentCondition(clock()->Now(), "Progressing", "True", "NewReplicaSetCreated",
                                   "Created new replica set \"" + rs_name + "\""));
    d["status"] = std::move(status);
    {
      std::lock_guard<std::mutex> lock(mu_);
      progressing_changed_[client::Key(d)] = true;
    }
    if (Status s = SetDeploymentRevision(d, revision); !s.ok()) return s;
    return &nrs_ref;
  }

  // The Deployment carries its current revision in the same annotation.
  Status SetDeploymentRevision(json::object& d, int64_t revision) {
    if (Revision(d) == revision) return Status::Ok();
    json::object patch{{"metadata", json::object{{"annotations", json::object{{kRevision, std::to_string(revision)}}}}}};
    auto r = client_->Patch(*deploy_r_, api::Namespace(d), api::Name(d),
                            client::PatchType::kMerge, json::serialize(patch));
    if (!r.ok()) return r.error().Annotate("recording revision " + std::to_string(revision));
    json::object status = api::GetObject(d, "status");
    d = std::move(r.value());
    d["status"] = std::move(status);
    return Status::Ok();
  }

  // Scales rs to n (and records the desired/max annotations); returns whether it changed.
  Result<bool> Scale(const json::object& d, json::object& rs, int64_t n) {
    auto [surge, unavailable] = ResolveSurgeUnavailable(d);
    (void)unavailable;
    const int64_t before = Replicas(rs);
    const auto& ann = api::Annotations(rs);
    const std::string desired = std::to_string(Replicas(d)), max = std::to_string(Replicas(d) + surge);
    if (before == n && api::GetString(ann, kDesired) == desired && api::GetString(ann, kMaxReplicas) == max) return false;
    json::object updated = rs;
    updated["spec"].as_object()["replicas"] = n;
    auto& a = updated["metadata"].as_object()["annotations"];
    if (!a.is_object()) a = json::object();
    a.as_object()[kDesired] = desired;
    a.as_object()[kMaxReplicas] = max;
    auto r = client_->Update(*rs_r_, api::Namespace(rs), updated);
    if (!r.ok()) return r.error().Annotate("scaling replica set " + api::Name(rs));
    rs = std::move(r.value());
    if (before != n) {
      recorder_.Normal(d, "ScalingReplicaSet", std::string("Scaled ") + (n > before ? "up" : "down") + " replica set " +
                                                   api::Name(rs) + " from " + std::to_string(before) +
                                                   " to " + std::to_string(n));
    }
    return before != n;
  }

  // Replicas the new ReplicaSet may have now under maxSurge.
  static int64_t NewReplicasForRolling(const json::object& d, const std::vector<json::object>& sets, int64_t current_new) {
    auto [surge, unavailable] = ResolveSurgeUnavailable(d);
    (void)unavailable;
    const int64_t want = Replicas(d);
    int64_t total = 0;
    for (const auto& rs : sets) total += Replicas(rs);
    if (current_new >= want) return want;
    const int64_t max_total = want + surge;
    if (total >= max_total) return current_new;
    return current_new + std::min(max_total - total, want - current_new);
  }

  Status Rolling(json::object& d, std::vector<json::object>& sets) {
    auto got = NewReplicaSet(d, sets, true);
    if (!got.ok()) return got.error().Annotate("new replica set");
    json::object* nrs = got.value();
    // Scale the new ReplicaSet up (or down to the wanted count).
    const int64_t new_count = NewReplicasForRolling(d, sets, Replicas(*nrs));
    auto up = Scale(d, *nrs, std::min(new_count, std::max(Replicas(d), int64_t{0})));
    if (!up.ok()) return up.error();
    if (up.value()) return UpdateStatus(d, sets, nrs);
    // Scale old ones down within maxUnavailable.
    auto down = ScaleDownOld(d, sets, nrs);
    if (!down.ok()) return down.error();
    if (down.value()) return UpdateStatus(d, sets, nrs);
    if (Complete(d, sets, nrs)) CleanupOld(d, sets, nrs);
    return UpdateStatus(d, sets, nrs);
  }

  Result<bool> ScaleDownOld(const json::object& d, std::vector<json::object>& sets, json::object* nrs) {
    auto [surge, max_unavailable] = ResolveSurgeUnavailable(d);
    (void)surge;
    int64_t old_pods = 0, all = 0, available = 0;
    for (auto& rs : sets) {
      all += Replicas(rs);
      available += StatusInt(rs, "availableReplicas");
      if (&rs != nrs) old_pods += Replicas(rs);
    }
    if (old_pods == 0) return false;
    const int64_t min_available = Replicas(d) - max_unavailable;
    const int64_t new_unavailable = Replicas(*nrs) - StatusInt(*nrs, "availableReplicas");
    int64_t max_scale_down = all - min_available - new_unavailable;
    if (max_scale_down <= 0) return false;
    // Oldest first (by revision).
    std::vector<json::object*> olds;
    for (auto& rs : sets) {
      if (&rs != nrs && Replicas(rs) > 0) olds.push_back(&rs);
    }
    std::sort(olds.begin(), olds.end(), [](json::object* a, json::object* b) { return Revision(*a) < Revision(*b); });
    bool changed = false;
    // First the unhealthy: replicas that are not available can go without lowering availability.
    for (json::object* rs : olds) {
      if (max_scale_down <= 0) break;
      int64_t unhealthy = Replicas(*rs) - StatusInt(*rs, "availableReplicas");
      if (unhealthy <= 0) continue;
      int64_t n = std::min(unhealthy, max_scale_down);
      auto r = Scale(d, *rs, Replicas(*rs) - n);
      if (!r.ok()) return r.error();
      changed = changed || r.value();
      max_scale_down -= n;
    }
    // Then healthy ones, as far as availability above minAvailable allows.
    int64_t can_go = std::min(max_scale_down, available - min_available);
    for (json::object* rs : olds) {
      if (can_go <= 0) break;
      if (Replicas(*rs) == 0) continue;
      int64_t n = std::min(Replicas(*rs), can_go);
      auto r = Scale(d, *rs, Replicas(*rs) - n);
      if (!r.ok()) return r.error();
      changed = changed || r.value();
      can_go -= n;
    }
    return changed;
  }

  Status Recreate(json::object& d, std::vector<json::object>& sets) {
    auto got = NewReplicaSet(d, sets, false);
    if (!got.ok()) return got.error().Annotate("new replica set");
    json::object* nrs = got.value();
    bool scaled = false;
    for (auto& rs : sets) {
      if (&rs == nrs || Replicas(rs) == 0) continue;
      auto r = Scale(d, rs, 0);
      if (!r.ok()) return r.error();
      scaled = scaled || r.value();
    }
    if (scaled) return UpdateStatus(d, sets, nrs);
    // Wait until no pod of an old ReplicaSet is left running.
    const std::string ns = api::Namespace(d);
    for (const auto& pod : pods_->List(ns)) {
      const json::object* ref = api::ControllerOf(*pod);
      if (!ref || (nrs && api::GetString(*ref, "uid") == api::Uid(*nrs))) continue;
      std::string phase = api::GetString(*pod, {"status", "phase"});
      if (phase == "Succeeded" || phase == "Failed") continue;
      for (const auto& rs : sets) {
        if (api::Uid(rs) == api::GetString(*ref, "uid")) return UpdateStatus(d, sets, nrs);
      }
    }
    if (!nrs) {
      auto created = NewReplicaSet(d, sets, true);
      if (!created.ok()) return created.error().Annotate("new replica set");
      nrs = created.value();
    }
    auto r = Scale(d, *nrs, Replicas(d));
    if (!r.ok()) return r.error();
    if (Complete(d, sets, nrs)) CleanupOld(d, sets, nrs);
    return UpdateStatus(d, sets, nrs);
  }

  // A resize: an active ReplicaSet was last sized for another spec.replicas.
  static bool ScalingEvent(const json::object& d, const std::vector<json::object>& sets) {
    for (const auto& rs : sets) {
      if (Replicas(rs) <= 0) continue;
      const std::string desired = api::GetString(api::Annotations(rs), kDesired);
      if (!desired.empty() && desired != std::to_string(Replicas(d))) return true;
    }
    return false;
  }

  // Paused Deployments and resizes (upstream's sync): no rollout step, only sizes. One active
  // ReplicaSet (or none: the newest) takes spec.replicas; a saturated new ReplicaSet means the
  // old ones go to zero; otherwise, for RollingUpdate, the change is spread proportionally.
  Status SyncScale(json::object& d, std::vector<json::object>& sets) {
    auto got = NewReplicaSet(d, sets, false);
    if (!got.ok()) return got.error().Annotate("new replica set");
    json::object* nrs = got.value();
    const int64_t want = Replicas(d);
    std::vector<json::object*> active;
    for (auto& rs : sets) {
      if (Replicas(rs) > 0) active.push_back(&rs);
    }
    auto scale = [&](json::object& rs, int64_t n) -> Status {
      auto r = Scale(d, rs, n);
      return r.ok() ? Status::Ok() : r.error();
    };
    if (active.size() <= 1) {
      json::object* target = active.empty() ? nrs : active[0];
      if (!target) {
        for (auto& rs : sets) {
          if (!target || api::GetString(rs, {"metadata", "creationTimestamp"}) > api::GetString(*target, {"metadata", "creationTimestamp"})) target = &rs;
        }
      }
      if (target && Replicas(*target) != want) {
        if (auto st = scale(*target, want); !st.ok()) return st;
      }
      return UpdateStatus(d, sets, nrs);
    }
    const bool saturated = nrs && api::GetString(api::Annotations(*nrs), kDesired) == std::to_string(want) &&
                           Replicas(*nrs) == want && StatusInt(*nrs, "availableReplicas") == want;
    if (saturated) {
      for (json::object* rs : active) {
        if (rs == nrs) continue;
        if (auto st = scale(*rs, 0); !st.ok()) return st;
      }
      return UpdateStatus(d, sets, nrs);
    }
    if (api::GetString(d, {"spec", "strategy", "type"}) == "Recreate") return UpdateStatus(d, sets, nrs);
    auto [surge, unavailable] = ResolveSurgeUnavailable(d);
    (void)unavailable;
    std::vector<ActiveReplicaSet> sizes_in;
    for (json::object* rs : active) {
      ActiveReplicaSet a;
      a.replicas = Replicas(*rs);
      a.max_replicas = AnnotationInt(*rs, kMaxReplicas);
      a.creation_timestamp = api::GetString(*rs, {"metadata", "creationTimestamp"});
      sizes_in.push_back(std::move(a));
    }
    auto sizes = ProportionalSizes(sizes_in, want, want > 0 ? want + surge : 0, StatusInt(d, "replicas"));
    for (size_t i = 0; i < active.size(); ++i) {
      if (auto st = scale(*active[i], sizes[i]); !st.ok()) return st;
    }
    return UpdateStatus(d, sets, nrs);
  }

  static bool Complete(const json::object& d, const std::vector<json::object>& sets, const json::object* nrs) {
    if (!nrs) return false;
    const int64_t want = Replicas(d);
    int64_t total = 0;
    for (const auto& rs : sets) total += StatusInt(rs, "replicas");
    return StatusInt(*nrs, "replicas") == want && StatusInt(*nrs, "availableReplicas") == want && total == want &&
           Replicas(*nrs) == want;
  }

  void CleanupOld(const json::object& d, const std::vector<json::object>& sets, const json::object* nrs) {
    const int64_t limit = api::GetInt(d, {"spec", "revisionHistoryLimit"}, 10);
    std::vector<const json::object*> olds;
    for (const auto& rs : sets) {
      if (&rs == nrs || Replicas(rs) != 0 || StatusInt(rs, "replicas") != 0) continue;
      if (api::IsBeingDeleted(rs)) continue;
      olds.push_back(&rs);
    }
    if (static_cast<int64_t>(olds.size()) <= limit) return;
    std::sort(olds.begin(), olds.end(), [](const json::object* a, const json::object* b) { return Revision(*a) < Revision(*b); });
    for (size_t i = 0; i + limit < olds.size(); ++i) {
      const auto& m = api::Metadata(*olds[i]);
      // Best effort, as history clean-up is: a ReplicaSet not deleted now is still old at the
      // next sync, which tries again.
      (void)client_->Delete(*rs_r_, api::GetString(m, "namespace"), api::GetString(m, "name"));
    }
  }

  // The status NextDeploymentStatus computes (deployment_status.cc), written when it changed.
  Status UpdateStatus(json::object& d, const std::vector<json::object>& sets, const json::object* nrs) {
    const std::string key = client::Key(d);
    auto [status, requeue] = NextDeploymentStatus(d, sets, nrs, *clock(), [&] { return TakeProgressChanged(key); });
    if (requeue) queue_.AddAfter(key, *requeue);
    return client::UpdateStatusIfChanged(*client_, *deploy_r_, d, std::move(status));
  }

  const client::Client* client_;
  const api::ResourceInfo* deploy_r_;
  const api::ResourceInfo* rs_r_;
  client::Informer* deployments_ = nullptr;
  client::Informer* sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::EventRecorder recorder_;
  bool TakeProgressChanged(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return progressing_changed_.erase(key) > 0;
  }
  std::mutex mu_;  // guards progressing_changed_ (workers reconcile different keys at once)
  // Deployments whose new ReplicaSet was just created: report progress on the next status.
  std::map<std::string, bool> progressing_changed_;
};

}  // namespace

std::unique_ptr<client::Controller> NewDeploymentController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<DeploymentController>(client, clock);
}

}  // namespace kite::controllers
