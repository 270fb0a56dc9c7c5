#include "server/controllers/daemonset/daemonset_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "api/int_or_string.h"
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
#include "server/controllers/common/history.h"
#include "server/controllers/daemonset/daemon_pod.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr int kBurstReplicas = 250;  // upstream's per-sync cap on creations/deletions
constexpr const char* kTemplateGenerationLabel = "pod-template-generation";

std::string Created(const ObjectPtr& p) { return api::GetString(*p, {"metadata", "creationTimestamp"}); }
bool Older(const ObjectPtr& a, const ObjectPtr& b) {
  if (Created(a) != Created(b)) return Created(a) < Created(b);
  return api::Name(*a) < api::Name(*b);
}

struct NodePods {
  std::vector<ObjectPtr> active;  // not terminal, not being deleted; oldest first
  std::vector<ObjectPtr> failed;
};

class DaemonSetController final : public client::Controller {
 public:
  explicit DaemonSetController(const client::Client* c, const kite::Clock* clock)
      : Controller("daemonset", 2, clock),
        client_(c),
        ds_r_(api::FindResource("apps", "v1", "daemonsets")),
        pods_r_(api::FindResource("", "v1", "pods")),
        expectations_(clock),
        recorder_(c, "daemonset-controller", "", clock),
        pod_control_(c, &recorder_) {}

  void Init(client::InformerFactory& f) override {
    dsets_ = f.For(*ds_r_);
    pods_ = f.For(*pods_r_);
    nodes_ = f.For("", "v1", "nodes");
    revisions_ = f.For("apps", "v1", "controllerrevisions");
    dsets_->AddHandler(client::EnqueueSelf(&queue_, &expectations_));
    pods_->AddHandler(client::DependentHandler({
        .queue = &queue_,
        .expectations = &expectations_,
        .owner_key = [](const json::object& pod) { return api::ControllerKeyOf(pod, "DaemonSet"); },
        .enqueue_adopters = [this](const json::object& pod) { EnqueueMatching(pod); },
    }));
    // Only what decides placement matters; status heartbeats would wake every DaemonSet.
    auto all = [this] {
      for (const auto& ds : dsets_->List()) queue_.Add(client::Key(*ds));
    };
    nodes_->AddHandler(client::EventHandler{
        [all](const ObjectPtr&) { all(); },
        [all](const ObjectPtr& a, const ObjectPtr& b) {
          if (api::Labels(*a) != api::Labels(*b) ||
              api::GetObject(*a, "spec") != api::GetObject(*b, "spec")) {
            all();
          }
        },
        [all](const ObjectPtr&) { all(); }});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr dsp = dsets_->Get(ns, name);
    if (!dsp) {
      expectations_.Delete(key);
      return Status::Ok();
    }
    const json::object& ds = *dsp;
    api::LabelSelector selector = api::SelectorOf(ds);
    if (selector.Empty() || selector.IsNothing()) {
      recorder_.Warning(ds, "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.");
      return Status::Ok();
    }
    if (api::IsBeingDeleted(ds)) return Status::Ok();

    std::vector<json::object> revisions = OwnedRevisions(*revisions_, ds);
    int64_t collisions = api::GetInt(ds, {"status", "collisionCount"});
    auto cur = EnsureRevision(*client_, ds, revisions, &collisions);
    if (!cur.ok()) {
      if (collisions != api::GetInt(ds, {"status", "collisionCount"})) {
        json::object st = api::GetObject(ds, "status");
        st["collisionCount"] = collisions;
        // The count must be stored before the retry, or the same name collides again.
        if (auto s = client::UpdateStatusIfChanged(*client_, *ds_r_, ds, std::move(st)); !s.ok()) return s;
      }
      return cur.error().Annotate("controller revision");
    }
    const std::string hash = api::GetString(api::Labels(*cur), kControllerRevisionHashLabel);

    std::map<std::string, NodePods> by_node;
    const Status claim = ClaimPods(ds, selector, &by_node);
    const json::object daemon_spec = AddDaemonTolerations(api::GetObject(ds, {"spec", "template", "spec"}));
    const auto nodes = nodes_->List();

    Status sync;
    if (expectations_.Satisfied(key)) {
      std::vector<std::string> create_on;
      std::vector<ObjectPtr> to_delete;
      Manage(ds, nodes, daemon_spec, hash, by_node, &create_on, &to_delete);
      const auto& strategy = api::GetObject(ds, {"spec", "updateStrategy"});
      if (create_on.empty() && to_delete.empty() && api::GetString(strategy, "type") != "OnDelete") {
        RollingUpdate(ds, nodes, daemon_spec, hash, by_node, &create_on, &to_delete);
      }
      sync = SyncNodes(key, ds, hash, create_on, to_delete);
    }

    std::set<std::string> live{api::Name(*cur)};
    std::set<std::string> hashes;
    for (const auto& [node, pods] : by_node) {
      for (const auto& p : pods.active) hashes.insert(api::GetString(api::Labels(*p), kControllerRevisionHashLabel));
    }
    for (const auto& r : revisions) {
      if (hashes.count(api::GetString(api::Labels(r), kControllerRevisionHashLabel))) {
        live.insert(api::Name(r));
      }
    }
    TruncateHistory(*client_, revisions, live, api::GetInt(ds, {"spec", "revisionHistoryLimit"}, 10));

    if (auto s = UpdateStatus(ds, nodes, daemon_spec, hash, by_node, collisions); !s.ok()) return s;
    if (!sync.ok()) return sync;
    return claim;
  }

 private:
  // An orphan pod wakes the DaemonSets that would adopt it.
  void EnqueueMatching(const json::object& pod) {
    for (const auto& ds : dsets_->List(api::Namespace(pod))) {
      if (api::LabelsMatch(api::SelectorOf(*ds), pod)) queue_.Add(client::Key(*ds));
    }
  }

  static bool Updated(const ObjectPtr& pod, const std::string& hash) {
    return api::GetString(api::Labels(*pod), kControllerRevisionHashLabel) == hash;
  }

  // Owned pods (and adopted orphans that match), by the node they are for.
  // The DaemonSet's pods (claimed as client::ControllerRefManager does), by the node they are for.
  Status ClaimPods(const json::object& ds, const api::LabelSelector& selector, std::map<std::string, NodePods>* out) {
    Status error;
    client::ControllerRefManager refs(client_, *pods_r_, ds, selector);
    for (const auto& mine : refs.Claim(pods_->List(api::Namespace(ds)), &error)) {
      NodePods& np = (*out)[DaemonPodNodeName(*mine)];
      const std::string phase = api::GetString(*mine, {"status", "phase"});
      if (phase == "Failed") np.failed.push_back(mine);
      else if (api::IsPodActive(*mine)) np.active.push_back(mine);
    }
    for (auto& [node, np] : *out) std::sort(np.active.begin(), np.active.end(), Older);
    return error;
  }

  void Manage(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
              const std::string& hash, std::map<std::string, NodePods>& by_node, std::vector<std::string>* create_on,
              std::vector<ObjectPtr>* to_delete) {
    const bool surge = Surging(ds);
    std::set<std::string> existing;
    for (const auto& node : nodes) {
      const std::string name = api::Name(*node);
      existing.insert(name);
      NodeFit fit = NodeShouldRunDaemonPod(*node, daemon_spec);
      auto it = by_node.find(name);
      NodePods empty;
      NodePods& np = it == by_node.end() ? empty : it->second;
      if (fit.should_run) {
        for (const auto& p : np.failed) {
          recorder_.Warning(ds, "FailedDaemonPod", "Found failed daemon pod " + client::Key(*p) + " on node " + name +
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
        if (api::GetString(*p, {"spec", "nodeName"}).empty()) to_delete->push_back(p);
      }
    }
  }

  static bool Surging(const json::object& ds) {
    const auto& strategy = api::GetObject(ds, {"spec", "updateStrategy"});
    if (api::GetString(strategy, "type") == "OnDelete") return false;
    return api::ScaledIntOrPercent(api::GetObject(strategy, "rollingUpdate").if_contains("maxSurge"), 1, true, 0) > 0;
  }

  void RollingUpdate(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
                     const std::string& hash, std::map<std::string, NodePods>& by_node,
                     std::vector<std::string>* create_on, std::vector<ObjectPtr>* to_delete) {
    const auto& spec = api::GetObject(ds, "spec");
    const auto& ru = api::GetObject(spec, {"updateStrategy", "rollingUpdate"});
    const int64_t min_ready = api::GetInt(spec, "minReadySeconds");
    const auto now = clock()->Now();
    std::vector<std::string> eligible;
    for (const auto& node : nodes) {
      if (NodeShouldRunDaemonPod(*node, daemon_spec).should_run) eligible.push_back(api::Name(*node));
    }
    const int64_t desired = static_cast<int64_t>(eligible.size());
    int64_t max_surge = api::ScaledIntOrPercent(ru.if_contains("maxSurge"), desired, true, 0);
    int64_t max_unavailable = api::ScaledIntOrPercent(ru.if_contains("maxUnavailable"), desired, true, 1);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    auto available = [&](const ObjectPtr& p) { return api::IsPodAvailable(*p, min_ready, now); };
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
    expectations_.Expect(key, static_cast<int>(create_on.size()), static_cast<int>(to_delete.size()));
    Status result;
    const int want = static_cast<int>(create_on.size());
    const int created = client::SlowStartBatch(want, 1, [&](int i) {
      auto r = pod_control_.CreatePod(ds, NewPod(ds, hash, create_on[static_cast<size_t>(i)]));
      return r.ok() ? Status::Ok() : r.error().Annotate("creating pod");
    }, &result);
    // The pods not created will never be observed: stop expecting them.
    for (int i = created; i < want; ++i) expectations_.CreationObserved(key);
    for (const auto& pod : to_delete) {
      auto r = pod_control_.DeletePod(ds, *pod);
      if (r.ok()) continue;
      expectations_.DeletionObserved(key);  // a pod not deleted will never be observed going
      if (!r.NotFound()) result = r.error().Annotate("deleting pod");
    }
    return result;
  }

  json::object NewPod(const json::object& ds, const std::string& hash, const std::string& node) {
    const json::object& tmpl = api::GetObject(ds, {"spec", "template"});
    json::object pod = api::PodFromTemplate(tmpl, ds, api::Name(ds) + "-");
    auto& meta = pod["metadata"].as_object();
    json::object labels = api::GetObject(meta, "labels");
    labels[kControllerRevisionHashLabel] = hash;
    labels[kTemplateGenerationLabel] = std::to_string(api::GetInt(ds, {"metadata", "generation"}, 1));
    meta["labels"] = std::move(labels);
    pod["spec"] = PinToNode(AddDaemonTolerations(api::GetObject(tmpl, "spec")), node);
    return pod;
  }

  Status UpdateStatus(const json::object& ds, const std::vector<ObjectPtr>& nodes, const json::object& daemon_spec,
                      const std::string& hash, std::map<std::string, NodePods>& by_node, int64_t collisions) {
    const int64_t min_ready = api::GetInt(ds, {"spec", "minReadySeconds"});
    const auto now = clock()->Now();
    int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    bool wait_available = false;
    for (const auto& node : nodes) {
      const std::string name = api::Name(*node);
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
      if (api::IsPodReady(*pick)) {
        ++ready;
        if (api::IsPodAvailable(*pick, min_ready, now)) ++available;
        else wait_available = true;
      }
    }
    if (wait_available) queue_.AddAfter(client::Key(ds), std::chrono::seconds(std::max<int64_t>(min_ready, 1)));
    json::object st = api::GetObject(ds, "status");
    st["desiredNumberScheduled"] = desired;
    st["currentNumberScheduled"] = current;
    st["numberMisscheduled"] = misscheduled;
    st["numberReady"] = ready;
    st["numberAvailable"] = available;
    st["updatedNumberScheduled"] = updated;
    st["numberUnavailable"] = desired - available;
    st["observedGeneration"] = api::GetInt(ds, {"metadata", "generation"}, 1);
    if (collisions > 0) st["collisionCount"] = collisions;
    // Upstream omits these when zero (omitempty); the others are always present.
    for (const char* f : {"numberAvailable", "updatedNumberScheduled", "numberUnavailable"}) {
      if (api::GetInt(st, f) == 0) st.erase(f);
    }
    return client::UpdateStatusIfChanged(*client_, *ds_r_, ds, std::move(st));
  }

  const client::Client* client_;
  const api::ResourceInfo* ds_r_;
  const api::ResourceInfo* pods_r_;
  client::Informer* dsets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  client::Informer* revisions_ = nullptr;
  client::Expectations expectations_;
  client::EventRecorder recorder_;
  client::PodControl pod_control_;
};

}  // namespace

std::unique_ptr<client::Controller> NewDaemonSetController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<DaemonSetController>(client, clock);
}

}  // namespace kite::controllers
