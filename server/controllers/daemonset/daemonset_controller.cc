#include "server/controllers/daemonset/daemonset_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "server/controllers/common/controller_utils.h"
#include "server/controllers/common/history.h"
#include "server/controllers/daemonset/daemon_pod.h"

namespace kite::controllers {
namespace {

constexpr int kBurstReplicas = 250;  // upstream's per-sync cap on creations/deletions
constexpr const char* kTemplateGenerationLabel = "pod-template-generation";

// An IntOrString against `total`; percentages round up, as upstream does for DaemonSets.
int64_t ScaledUp(const json::value* v, int64_t total, int64_t fallback) {
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_string()) {
    std::string s(v->as_string());
    if (!s.empty() && s.back() == '%') {
      return static_cast<int64_t>(std::ceil(std::atof(s.c_str()) * static_cast<double>(total) / 100.0));
    }
    return std::atoll(s.c_str());
  }
  return fallback;
}

std::string Created(const ObjectPtr& p) { return Str(Obj(*p, "metadata"), "creationTimestamp"); }
bool Older(const ObjectPtr& a, const ObjectPtr& b) {
  if (Created(a) != Created(b)) return Created(a) < Created(b);
  return Str(Obj(*a, "metadata"), "name") < Str(Obj(*b, "metadata"), "name");
}

struct NodePods {
  std::vector<ObjectPtr> active;  // not terminal, not being deleted; oldest first
  std::vector<ObjectPtr> failed;
};

class DaemonSetController final : public client::Controller {
 public:
  explicit DaemonSetController(const client::Client* c)
      : Controller("daemonset", 2),
        client_(c),
        ds_r_(api::FindResource("apps", "v1", "daemonsets")),
        pods_r_(api::FindResource("", "v1", "pods")),
        recorder_(c, "daemonset-controller") {}

  void Init(client::InformerFactory& f) override {
    dsets_ = f.For(*ds_r_);
    pods_ = f.For(*pods_r_);
    nodes_ = f.For("", "v1", "nodes");
    revisions_ = f.For("apps", "v1", "controllerrevisions");
    dsets_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr&, const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr& o) {
          expectations_.Delete(KeyOf(*o));
          queue_.Add(KeyOf(*o));
        }});
    pods_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& p) {
          if (auto owner = OwnerKey(*p)) {
            expectations_.CreationObserved(*owner);
            queue_.Add(*owner);
          }
        },
        [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
          auto owner = OwnerKey(*p);
          if (!owner) return;
          if (Obj(*p, "metadata").contains("deletionTimestamp") && !Obj(*old_pod, "metadata").contains("deletionTimestamp")) {
            expectations_.DeletionObserved(*owner);
          }
          queue_.Add(*owner);
        },
        [this](const ObjectPtr& p) {
          auto owner = OwnerKey(*p);
          if (!owner) return;
          if (!Obj(*p, "metadata").contains("deletionTimestamp")) expectations_.DeletionObserved(*owner);
          queue_.Add(*owner);
        }});
    // Only what decides placement matters; status heartbeats would wake every DaemonSet.
    auto all = [this] {
      for (const auto& ds : dsets_->List()) queue_.Add(KeyOf(*ds));
    };
    nodes_->AddHandler(client::EventHandler{
        [all](const ObjectPtr&) { all(); },
        [all](const ObjectPtr& a, const ObjectPtr& b) {
          if (Obj(Obj(*a, "metadata"), "labels") != Obj(Obj(*b, "metadata"), "labels") ||
              Obj(*a, "spec") != Obj(*b, "spec")) {
            all();
          }
        },
        [all](const ObjectPtr&) { all(); }});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = SplitKey(key);
    ObjectPtr dsp = dsets_->Get(ns, name);
    if (!dsp) {
      expectations_.Delete(key);
      return Status::Ok();
    }
    const json::object& ds = *dsp;
    api::LabelSelector selector = SelectorOf(ds);
    if (selector.Empty() || selector.IsNothing()) {
      recorder_.Warning(ds, "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.");
      return Status::Ok();
    }
    if (Obj(ds, "metadata").contains("deletionTimestamp")) return Status::Ok();

    std::vector<json::object> revisions = OwnedRevisions(*revisions_, ds);
    int64_t collisions = Int(Obj(ds, "status"), "collisionCount");
    auto cur = EnsureRevision(*client_, ds, revisions, &collisions);
    if (!cur.ok()) {
      if (collisions != Int(Obj(ds, "status"), "collisionCount")) {
        json::object updated = ds;
        json::object st = Obj(ds, "status");
        st["collisionCount"] = collisions;
        updated["status"] = std::move(st);
        (void)client_->UpdateStatus(*ds_r_, ns, updated);
      }
      return Status(Code::kUnavailable, "controller revision: " + cur.error().message());
    }
    const std::string hash = Str(Obj(Obj(*cur, "metadata"), "labels"), kControllerRevisionHashLabel);

    std::map<std::string, NodePods> by_node;
    Claim(ds, selector, &by_node);
    const json::object daemon_spec = AddDaemonTolerations(Obj(Obj(Obj(ds, "spec"), "template"), "spec"));
    const auto nodes = nodes_->List();

    Status sync;
    if (expectations_.Satisfied(key)) {
      std::vector<std::string> create_on;
      std::vector<ObjectPtr> to_delete;
      Manage(ds, nodes, daemon_spec, hash, by_node, &create_on, &to_delete);
      const auto& strategy = Obj(Obj(ds, "spec"), "updateStrategy");
      if (create_on.empty() && to_delete.empty() && Str(strategy, "type") != "OnDelete") {
        RollingUpdate(ds, nodes, daemon_spec, hash, by_node, &create_on, &to_delete);
      }
      sync = SyncNodes(key, ds, hash, create_on, to_delete);
    }

    std::set<std::string> live{Str(Obj(*cur, "metadata"), "name")};
    std::set<std::string> hashes;
    for (const auto& [node, pods] : by_node) {
      for (const auto& p : pods.active) hashes.insert(Str(Obj(Obj(*p, "metadata"), "labels"), kControllerRevisionHashLabel));
    }
    for (const auto& r : revisions) {
      if (hashes.count(Str(Obj(Obj(r, "metadata"), "labels"), kControllerRevisionHashLabel))) {
        live.insert(Str(Obj(r, "metadata"), "name"));
      }
    }
    TruncateHistory(*client_, revisions, live, Int(Obj(ds, "spec"), "revisionHistoryLimit", 10));

    if (auto s = UpdateStatus(ds, nodes, daemon_spec, hash, by_node, collisions); !s.ok()) return s;
    return sync;
  }

 private:
  std::optional<std::string> OwnerKey(const json::object& pod) const {
    const json::object* ref = ControllerOf(pod);
    if (!ref || Str(*ref, "kind") != "DaemonSet") return std::nullopt;
    return Str(Obj(pod, "metadata"), "namespace") + "/" + Str(*ref, "name");
  }

  static bool Updated(const ObjectPtr& pod, const std::string& hash) {
    return Str(Obj(Obj(*pod, "metadata"), "labels"), kControllerRevisionHashLabel) == hash;
  }

  // Owned pods (and adopted orphans that match), by the node they are for.
  void Claim(const json::object& ds, const api::LabelSelector& selector, std::map<std::string, NodePods>* out) {
    const auto& m = Obj(ds, "metadata");
    const std::string uid = Str(m, "uid");
    for (const auto& pod : pods_->List(Str(m, "namespace"))) {
      const json::object* ref = ControllerOf(*pod);
      ObjectPtr mine = pod;
      if (ref) {
        if (Str(*ref, "uid") != uid) continue;
      } else {
        if (!LabelsMatch(selector, *pod)) continue;
        const auto& pm = Obj(*pod, "metadata");
        json::object patch{{"metadata", json::object{{"ownerReferences", json::array{ControllerRef(ds)}}, {"uid", Str(pm, "uid")}}}};
        auto r = client_->Patch(*pods_r_, Str(pm, "namespace"), Str(pm, "name"), client::PatchType::kStrategic,
                                json::serialize(patch));
        if (!r.ok()) continue;
        mine = std::make_shared<const json::object>(std::move(r.value()));
      }
      NodePods& np = (*out)[DaemonPodNodeName(*mine)];
      const std::string phase = Str(Obj(*mine, "status"), "phase");
      if (phase == "Failed") np.failed.push_back(mine);
      else if (IsPodActive(*mine)) np.active.push_back(mine);
    }
    for (auto& [node, np] : *out) std::sort(np.active.begin(), np.active.end(), Older);
  }

  void Manage(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
              const std::string& hash, std::map<std::string, NodePods>& by_node, std::vector<std::string>* create_on,
              std::vector<ObjectPtr>* to_delete) {
    const bool surge = Surging(ds);
    std::set<std::string> existing;
    for (const auto& node : nodes) {
      const std::string name = Str(Obj(*node, "metadata"), "name");
      existing.insert(name);
      NodeFit fit = NodeShouldRunDaemonPod(*node, daemon_spec);
      auto it = by_node.find(name);
      NodePods empty;
      NodePods& np = it == by_node.end() ? empty : it->second;
      if (fit.should_run) {
        for (const auto& p : np.failed) {
          recorder_.Warning(ds, "FailedDaemonPod", "Found failed daemon pod " + KeyOf(*p) + " on node " + name +
                                                       ", will try to kill it");
          to_delete->push_back(p);
        }
        // A failed pod is replaced on the next sync, once its deletion is observed.
        if (np.active.empty() && np.failed.empty()) create_on->push_back(name);
        if (np.active.size() > 1) {
          ObjectPtr keep_old, keep_new;
          for (const auto& p : np.active) {
            if (!surge) {
              if (!keep_old) keep_old = p;
            } else if (Updated(p, hash)) {
              keep_new = p;  // the newest updated one
            } else if (!keep_old) {
              keep_old = p;
            }
          }
          for (const auto& p : np.active) {
            if (p != keep_old && p != keep_new) to_delete->push_back(p);
          }
        }
      } else if (!fit.should_continue_running) {
        for (const auto& p : np.active) to_delete->push_back(p);
      }
    }
    // Unscheduled pods for nodes that are gone.
    for (const auto& [node, np] : by_node) {
      if (existing.count(node)) continue;
      for (const auto& p : np.active) {
        if (Str(Obj(*p, "spec"), "nodeName").empty()) to_delete->push_back(p);
      }
    }
  }

  static bool Surging(const json::object& ds) {
    const auto& strategy = Obj(Obj(ds, "spec"), "updateStrategy");
    if (Str(strategy, "type") == "OnDelete") return false;
    return ScaledUp(Obj(strategy, "rollingUpdate").if_contains("maxSurge"), 1, 0) > 0;
  }

  void RollingUpdate(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
                     const std::string& hash, std::map<std::string, NodePods>& by_node,
                     std::vector<std::string>* create_on, std::vector<ObjectPtr>* to_delete) {
    const auto& spec = Obj(ds, "spec");
    const auto& ru = Obj(Obj(spec, "updateStrategy"), "rollingUpdate");
    const int64_t min_ready = Int(spec, "minReadySeconds");
    const auto now = std::chrono::system_clock::now();
    std::vector<std::string> eligible;
    for (const auto& node : nodes) {
      if (NodeShouldRunDaemonPod(*node, daemon_spec).should_run) eligible.push_back(Str(Obj(*node, "metadata"), "name"));
    }
    const int64_t desired = static_cast<int64_t>(eligible.size());
    int64_t max_surge = ScaledUp(ru.if_contains("maxSurge"), desired, 0);
    int64_t max_unavailable = ScaledUp(ru.if_contains("maxUnavailable"), desired, 1);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    auto available = [&](const ObjectPtr& p) { return IsPodAvailable(*p, min_ready, now); };
    auto split = [&](const NodePods& np, ObjectPtr* fresh, ObjectPtr* old) {
      for (const auto& p : np.active) {
        if (Updated(p, hash)) *fresh = p;
        else if (!*old) *old = p;
      }
    };

    if (max_surge == 0) {
      int64_t unavailable = 0;
      std::vector<ObjectPtr> always, candidates;
      for (const auto& name : eligible) {
        const NodePods& np = by_node[name];
        if (np.active.size() > 1) {
          ++unavailable;  // Manage sorts it out
          continue;
        }
        ObjectPtr fresh, old;
        split(np, &fresh, &old);
        if (!fresh && !old) {
          ++unavailable;
        } else if (fresh) {
          if (!available(fresh)) ++unavailable;
        } else if (!available(old)) {
          always.push_back(old);  // replacing an unavailable pod costs no availability
        } else {
          candidates.push_back(old);
        }
      }
      int64_t budget = std::max<int64_t>(max_unavailable - unavailable, 0);
      for (const auto& p : always) to_delete->push_back(p);
      for (size_t i = 0; i < candidates.size() && static_cast<int64_t>(i) < budget; ++i) to_delete->push_back(candidates[i]);
      return;
    }

    // Surge: a new pod starts next to the old one; the old goes once the new is available.
    int64_t surging = 0;
    std::vector<std::string> want_surge, always_surge;
    for (const auto& name : eligible) {
      const NodePods& np = by_node[name];
      ObjectPtr fresh, old;
      split(np, &fresh, &old);
      if (!old) continue;
      if (fresh) {
        if (available(fresh)) to_delete->push_back(old);
        else ++surging;
        continue;
      }
      if (!available(old)) always_surge.push_back(name);
      else want_surge.push_back(name);
    }
    for (const auto& n : always_surge) create_on->push_back(n);
    for (const auto& n : want_surge) {
      if (surging >= max_surge) break;
      create_on->push_back(n);
      ++surging;
    }
  }

  Status SyncNodes(const std::string& key, const json::object& ds, const std::string& hash,
                   std::vector<std::string> create_on, std::vector<ObjectPtr> to_delete) {
    if (create_on.size() > kBurstReplicas) create_on.resize(kBurstReplicas);
    if (to_delete.size() > kBurstReplicas) to_delete.resize(kBurstReplicas);
    if (create_on.empty() && to_delete.empty()) return Status::Ok();
    const std::string ns = Str(Obj(ds, "metadata"), "namespace");
    expectations_.Expect(key, static_cast<int>(create_on.size()), static_cast<int>(to_delete.size()));
    Status result;
    // Slow start, as the ReplicaSet controller: batches of 1, 2, 4, … stop at the first failure.
    size_t next = 0;
    for (size_t batch = 1; next < create_on.size(); batch *= 2) {
      size_t end = std::min(create_on.size(), next + batch);
      bool failed = false;
      for (; next < end; ++next) {
        auto r = client_->Create(*pods_r_, ns, NewPod(ds, hash, create_on[next]));
        if (r.ok()) {
          recorder_.Normal(ds, "SuccessfulCreate", "Created pod: " + Str(Obj(*r, "metadata"), "name"));
          continue;
        }
        failed = true;
        expectations_.CreationObserved(key);
        recorder_.Warning(ds, "FailedCreate", "Error creating: " + r.error().message());
        result = Status(Code::kUnavailable, "creating pod: " + r.error().message());
      }
      if (failed) {
        for (; next < create_on.size(); ++next) expectations_.CreationObserved(key);
      }
    }
    for (const auto& pod : to_delete) {
      const std::string pod_name = Str(Obj(*pod, "metadata"), "name");
      auto r = client_->Delete(*pods_r_, ns, pod_name);
      if (r.ok()) {
        recorder_.Normal(ds, "SuccessfulDelete", "Deleted pod: " + pod_name);
      } else {
        expectations_.DeletionObserved(key);
        if (!r.NotFound()) result = Status(Code::kUnavailable, "deleting pod: " + r.error().message());
      }
    }
    return result;
  }

  json::object NewPod(const json::object& ds, const std::string& hash, const std::string& node) {
    const json::object& tmpl = Obj(Obj(ds, "spec"), "template");
    json::object pod = PodFromTemplate(tmpl, ds, Str(Obj(ds, "metadata"), "name") + "-");
    auto& meta = pod["metadata"].as_object();
    json::object labels = Obj(meta, "labels");
    labels[kControllerRevisionHashLabel] = hash;
    labels[kTemplateGenerationLabel] = std::to_string(Int(Obj(ds, "metadata"), "generation", 1));
    meta["labels"] = std::move(labels);
    pod["spec"] = PinToNode(AddDaemonTolerations(Obj(tmpl, "spec")), node);
    return pod;
  }

  Status UpdateStatus(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
                      const std::string& hash, std::map<std::string, NodePods>& by_node, int64_t collisions) {
    const int64_t min_ready = Int(Obj(ds, "spec"), "minReadySeconds");
    const auto now = std::chrono::system_clock::now();
    int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    bool wait_available = false;
    for (const auto& node : nodes) {
      const std::string name = Str(Obj(*node, "metadata"), "name");
      auto it = by_node.find(name);
      const bool scheduled = it != by_node.end() && !it->second.active.empty();
      if (!NodeShouldRunDaemonPod(*node, daemon_spec).should_run) {
        if (scheduled) ++misscheduled;
        continue;
      }
      ++desired;
      if (!scheduled) continue;
      ++current;
      ObjectPtr pick = it->second.active.front();
      for (const auto& p : it->second.active) {
        if (Updated(p, hash)) pick = p;
      }
      if (Updated(pick, hash)) ++updated;
      if (IsPodReady(*pick)) {
        ++ready;
        if (IsPodAvailable(*pick, min_ready, now)) ++available;
        else wait_available = true;
      }
    }
    if (wait_available) queue_.AddAfter(KeyOf(ds), std::chrono::seconds(std::max<int64_t>(min_ready, 1)));
    const json::object old = Obj(ds, "status");
    json::object st = old;
    st["desiredNumberScheduled"] = desired;
    st["currentNumberScheduled"] = current;
    st["numberMisscheduled"] = misscheduled;
    st["numberReady"] = ready;
    st["numberAvailable"] = available;
    st["updatedNumberScheduled"] = updated;
    st["numberUnavailable"] = desired - available;
    st["observedGeneration"] = Int(Obj(ds, "metadata"), "generation", 1);
    if (collisions > 0) st["collisionCount"] = collisions;
    // Upstream omits these when zero (omitempty); the others are always present.
    for (const char* f : {"numberAvailable", "updatedNumberScheduled", "numberUnavailable"}) {
      if (Int(st, f) == 0) st.erase(f);
    }
    if (st == old) return Status::Ok();
    json::object next = ds;
    next["status"] = std::move(st);
    auto r = client_->UpdateStatus(*ds_r_, Str(Obj(ds, "metadata"), "namespace"), next);
    if (!r.ok() && !r.NotFound()) return Status(Code::kAborted, "updating status: " + r.error().message());
    return Status::Ok();
  }

  const client::Client* client_;
  const api::ResourceInfo* ds_r_;
  const api::ResourceInfo* pods_r_;
  client::Informer* dsets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* revisions_ = nullptr;
  Expectations expectations_;
  EventRecorder recorder_;
};

}  // namespace

std::unique_ptr<client::Controller> NewDaemonSetController(const client::Client* client) {
  return std::make_unique<DaemonSetController>(client);
}

}  // namespace kite::controllers
