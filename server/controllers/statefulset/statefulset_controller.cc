#include "server/controllers/statefulset/statefulset_controller.h"

#include <boost/json.hpp>

#include <map>

#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "client/controller.h"
#include "client/controller_ref_manager.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/history.h"
#include "server/controllers/statefulset/stateful_set_plan.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char* kPodNameLabel = "statefulset.kubernetes.io/pod-name";
constexpr const char* kPodIndexLabel = "apps.kubernetes.io/pod-index";

class StatefulSetController final : public client::Controller {
 public:
  explicit StatefulSetController(const client::Client* c, const kite::Clock* clock)
      : Controller("statefulset", 2, clock),
        client_(c),
        sts_r_(api::FindResource("apps", "v1", "statefulsets")),
        pods_r_(api::FindResource("", "v1", "pods")),
        pvc_r_(api::FindResource("", "v1", "persistentvolumeclaims")),
        recorder_(c, "statefulset-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    sets_ = f.For(*sts_r_);
    pods_ = f.For(*pods_r_);
    revisions_ = f.For("apps", "v1", "controllerrevisions");
    claims_ = f.For(*pvc_r_);
    sets_->AddHandler(client::EnqueueSelf(&queue_));
    pods_->AddHandler(client::DependentHandler({
        .queue = &queue_,
        .owner_key = [](const json::object& pod) { return api::ControllerKeyOf(pod, "StatefulSet"); },
        .enqueue_adopters = [this](const json::object& pod) { EnqueueMatching(pod); },
    }));
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr setp = sets_->Get(ns, name);
    if (!setp) return Status::Ok();
    const json::object& set = *setp;
    api::LabelSelector selector = api::SelectorOf(set);
    if (selector.Empty() || selector.IsNothing()) return Status::Ok();

    std::vector<json::object> revisions = OwnedRevisions(*revisions_, set);
    const json::object& old_status = api::GetObject(set, "status");
    int64_t collisions = api::GetInt(old_status, "collisionCount");
    auto update = EnsureRevision(*client_, set, revisions, &collisions);
    if (!update.ok()) {
      if (collisions != api::GetInt(old_status, "collisionCount")) {
        json::object st = old_status;
        st["collisionCount"] = collisions;
        // The count must be stored before the retry, or the same name collides again.
        if (auto s = client::UpdateStatusIfChanged(*client_, *sts_r_, set, std::move(st)); !s.ok()) return s;
      }
      return update.error().Annotate("controller revision");
    }
    const std::string update_name = api::Name(*update);
    const json::object* current = &*update;
    for (const auto& r : revisions) {
      if (api::Name(r) == api::GetString(old_status, "currentRevision")) current = &r;
    }
    const std::string current_name = api::Name(*current);

    const auto& spec = api::GetObject(set, "spec");
    const int64_t min_ready = api::GetInt(spec, "minReadySeconds");
    const auto now = clock()->Now();
    Status claim;
    std::map<int64_t, ObjectPtr> pods = ClaimPods(set, selector, &claim);

    StatefulSetPlanInput in;
    in.start = api::GetInt(spec, {"ordinals", "start"});
    in.replicas = api::GetInt(spec, "replicas", 1);
    in.parallel = api::GetString(spec, "podManagementPolicy") == "Parallel";
    const auto& strategy = api::GetObject(spec, "updateStrategy");
    in.rolling = api::GetString(strategy, "type") != "OnDelete";
    in.partition = api::GetInt(strategy, {"rollingUpdate", "partition"});
    in.current_revision = current_name;
    in.update_revision = update_name;
    bool wait_available = false;
    for (const auto& [ordinal, pod] : pods) {
      StatefulPodState s;
      const auto& pm = api::Metadata(*pod);
      const std::string phase = api::GetString(*pod, {"status", "phase"});
      s.terminating = pm.contains("deletionTimestamp");
      s.finished = phase == "Failed" || phase == "Succeeded";
      const bool running_ready = phase == "Running" && api::IsPodReady(*pod) && !s.terminating;
      s.healthy = running_ready && api::IsPodAvailable(*pod, min_ready, now);
      wait_available = wait_available || (running_ready && !s.healthy);
      s.revision = api::GetString(api::GetObject(pm, "labels"), kControllerRevisionHashLabel);
      in.pods[ordinal] = s;
    }
    if (wait_available) queue_.AddAfter(key, std::chrono::seconds(std::max<int64_t>(min_ready, 1)));

    Status result;
    const bool deleting = api::IsBeingDeleted(set);
    if (!deleting) {
      // Claims of existing pods too: a claim deleted under a pending pod comes back.
      for (const auto& [ordinal, pod] : pods) {
        // Best effort: the pod stays Pending without its claim, and its next update (or the
        // resync) brings it here again.
        if (api::GetString(*pod, {"status", "phase"}) == "Pending") (void)EnsureClaims(set, ordinal, false);
      }
      for (const auto& a : PlanStatefulSet(in)) {
        Status s = a.kind == StatefulSetAction::kCreate
                       ? CreatePod(set, a.ordinal, a.revision == current_name ? *current : *update)
                       : DeletePod(set, pods.at(a.ordinal), a.ordinal >= in.start + in.replicas || a.ordinal < in.start);
        if (!s.ok()) {
          result = s;
          break;
        }
      }
    }

    std::set<std::string> live{current_name, update_name};
    for (const auto& [ordinal, s] : in.pods) live.insert(s.revision);
    TruncateHistory(*client_, revisions, live, api::GetInt(spec, "revisionHistoryLimit", 10));
    if (auto s = UpdateStatus(set, pods, current_name, update_name, collisions); !s.ok()) return s;
    if (!result.ok()) return result;
    return claim;
  }

 private:
  // An orphan pod wakes the StatefulSets that would adopt it.
  void EnqueueMatching(const json::object& pod) {
    for (const auto& set : sets_->List(api::Namespace(pod))) {
      if (api::LabelsMatch(api::SelectorOf(*set), pod)) queue_.Add(client::Key(*set));
    }
  }

  // The StatefulSet's pods by ordinal, claimed as client::ControllerRefManager does; pods whose
  // names carry no ordinal of this set are not members and are left alone (upstream's
  // isMemberOf filter).
  std::map<int64_t, ObjectPtr> ClaimPods(const json::object& set, const api::LabelSelector& selector, Status* error) {
    const std::string name = api::Name(set);
    std::vector<ObjectPtr> members;
    for (const auto& pod : pods_->List(api::Namespace(set))) {
      if (ParseOrdinal(name, api::Name(*pod))) members.push_back(pod);
    }
    client::ControllerRefManager refs(client_, *pods_r_, set, selector);
    std::map<int64_t, ObjectPtr> out;
    for (const auto& pod : refs.Claim(members, error)) out[*ParseOrdinal(name, api::Name(*pod))] = pod;
    return out;
  }

  static std::string PodName(const json::object& set, int64_t ordinal) {
    return api::Name(set) + "-" + std::to_string(ordinal);
  }
  static std::string ClaimName(const json::object& tmpl, const json::object& set, int64_t ordinal) {
    return api::Name(tmpl) + "-" + PodName(set, ordinal);
  }

  // Creates the pod's missing PVCs (`record`: with events, when about to create the pod).
  Status EnsureClaims(const json::object& set, int64_t ordinal, bool record) {
    const auto& sm = api::Metadata(set);
    const std::string ns = api::GetString(sm, "namespace");
    const auto& spec = api::GetObject(set, "spec");
    const bool owned_by_set = api::GetString(spec, {"persistentVolumeClaimRetentionPolicy", "whenDeleted"}) == "Delete";
    for (const auto& t : api::GetArray(spec, "volumeClaimTemplates")) {
      if (!t.is_object()) continue;
      const json::object& tmpl = t.as_object();
      const std::string claim = ClaimName(tmpl, set, ordinal);
      if (claims_->Get(ns, claim)) continue;
      json::object labels = api::Labels(tmpl);
      for (const auto& [k, v] : api::GetObject(spec, {"selector", "matchLabels"})) labels[k] = v;
      json::object meta{{"name", claim}, {"namespace", ns}};
      if (!labels.empty()) meta["labels"] = std::move(labels);
      if (const auto& ann = api::Annotations(tmpl); !ann.empty()) meta["annotations"] = ann;
      if (owned_by_set) {
        json::object ref = api::ControllerRef(set);
        ref.erase("controller");
        meta["ownerReferences"] = json::array{std::move(ref)};
      }
      json::object pvc{{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"metadata", std::move(meta)},
                       {"spec", api::GetObject(tmpl, "spec")}};
      auto r = client_->Create(*pvc_r_, ns, pvc);
      if (r.ok() || r.AlreadyExists()) {
        if (r.ok() && record) {
          recorder_.Normal(set, "SuccessfulCreate", "create Claim " + claim + " Pod " + PodName(set, ordinal) +
                                                        " in StatefulSet " + api::GetString(sm, "name") + " success");
        }
        continue;
      }
      if (record) {
        recorder_.Warning(set, "FailedCreate", "create Claim " + claim + " for Pod " + PodName(set, ordinal) +
                                                   " in StatefulSet " + api::GetString(sm, "name") + " failed error: " +
                                                   r.error().message());
      }
      return r.error().Annotate("creating claim " + claim);
    }
    return Status::Ok();
  }

  Status CreatePod(const json::object& set, int64_t ordinal, const json::object& revision) {
    const auto& sm = api::Metadata(set);
    const std::string ns = api::GetString(sm, "namespace"), set_name = api::GetString(sm, "name");
    const std::string pod_name = PodName(set, ordinal);
    if (auto s = EnsureClaims(set, ordinal, true); !s.ok()) return s;
    json::object pod = api::PodFromTemplate(RevisionTemplate(revision), set, "");
    auto& meta = pod["metadata"].as_object();
    meta.erase("generateName");
    meta["name"] = pod_name;
    json::object labels = api::GetObject(meta, "labels");
    labels[kPodNameLabel] = pod_name;
    labels[kPodIndexLabel] = std::to_string(ordinal);
    labels[kControllerRevisionHashLabel] = api::Name(revision);
    meta["labels"] = std::move(labels);
    json::object spec = api::GetObject(pod, "spec");
    spec["hostname"] = pod_name;
    if (std::string svc = api::GetString(set, {"spec", "serviceName"}); !svc.empty()) spec["subdomain"] = svc;
    // Each claim template becomes the volume of its name.
    json::array volumes;
    std::set<std::string> claimed;
    for (const auto& t : api::GetArray(set, {"spec", "volumeClaimTemplates"})) {
      if (!t.is_object()) continue;
      const std::string vname = api::Name(t.as_object());
      claimed.insert(vname);
      volumes.push_back(json::object{
          {"name", vname},
          {"persistentVolumeClaim", json::object{{"claimName", ClaimName(t.as_object(), set, ordinal)}}}});
    }
    for (const auto& v : api::GetArray(spec, "volumes")) {
      if (v.is_object() && !claimed.count(api::GetString(v.as_object(), "name"))) volumes.push_back(v);
    }
    if (!volumes.empty()) spec["volumes"] = std::move(volumes);
    pod["spec"] = std::move(spec);
    auto r = client_->Create(*pods_r_, ns, pod);
    if (r.ok()) {
      recorder_.Normal(set, "SuccessfulCreate", "create Pod " + pod_name + " in StatefulSet " + set_name + " successful");
      return Status::Ok();
    }
    if (r.AlreadyExists()) return Status::Ok();  // the cache is behind; the watch brings it
    recorder_.Warning(set, "FailedCreate", "create Pod " + pod_name + " in StatefulSet " + set_name +
                                               " failed error: " + r.error().message());
    return r.error().Annotate("creating pod " + pod_name);
  }

  Status DeletePod(const json::object& set, const ObjectPtr& pod, bool condemned) {
    const auto& sm = api::Metadata(set);
    const auto& pm = api::Metadata(*pod);
    const std::string ns = api::GetString(sm, "namespace"), pod_name = api::GetString(pm, "name");
    if (condemned &&
        api::GetString(set, {"spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"}) == "Delete") {
      // The claims go with the pod: the garbage collector deletes them after it.
      auto ordinal = ParseOrdinal(api::GetString(sm, "name"), pod_name);
      for (const auto& t : api::GetArray(set, {"spec", "volumeClaimTemplates"})) {
        if (!t.is_object() || !ordinal) continue;
        json::object ref{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_name}, {"uid", api::GetString(pm, "uid")}};
        json::object patch{{"metadata", json::object{{"ownerReferences", json::array{std::move(ref)}}}}};
        // Best effort, as upstream: a claim left without the pod as owner is only kept, not lost.
        (void)client_->Patch(*pvc_r_, ns, ClaimName(t.as_object(), set, *ordinal), client::PatchType::kStrategic,
                             json::serialize(patch));
      }
    }
    auto r = client_->Delete(*pods_r_, ns, pod_name);
    if (r.ok() || r.NotFound()) {
      if (r.ok()) {
        recorder_.Normal(set, "SuccessfulDelete", "delete Pod " + pod_name + " in StatefulSet " + api::GetString(sm, "name") + " successful");
      }
      return Status::Ok();
    }
    recorder_.Warning(set, "FailedDelete", "delete Pod " + pod_name + " in StatefulSet " + api::GetString(sm, "name") +
                                               " failed error: " + r.error().message());
    return r.error().Annotate("deleting pod " + pod_name);
  }

  Status UpdateStatus(const json::object& set, const std::map<int64_t, ObjectPtr>& pods, const std::string& current,
                      const std::string& update, int64_t collisions) {
    const auto& spec = api::GetObject(set, "spec");
    const int64_t min_ready = api::GetInt(spec, "minReadySeconds");
    const auto now = clock()->Now();
    int64_t replicas = 0, ready = 0, available = 0, current_n = 0, updated_n = 0;
    for (const auto& [ordinal, pod] : pods) {
      const auto& pm = api::Metadata(*pod);
      if (api::GetString(*pod, {"status", "phase"}).empty()) continue;  // not created as far as status tells
      ++replicas;
      const bool terminating = pm.contains("deletionTimestamp");
      if (api::GetString(*pod, {"status", "phase"}) == "Running" && api::IsPodReady(*pod) && !terminating) {
        ++ready;
        if (api::IsPodAvailable(*pod, min_ready, now)) ++available;
      }
      if (terminating) continue;
      const std::string rev = api::GetString(api::GetObject(pm, "labels"), kControllerRevisionHashLabel);
      if (rev == current) ++current_n;
      if (rev == update) ++updated_n;
    }
    json::object st = api::GetObject(set, "status");
    st["observedGeneration"] = api::GetInt(set, {"metadata", "generation"}, 1);
    st["replicas"] = replicas;
    st["readyReplicas"] = ready;
    st["availableReplicas"] = available;
    st["currentReplicas"] = current_n;
    st["updatedReplicas"] = updated_n;
    st["currentRevision"] = current;
    st["updateRevision"] = update;
    st["collisionCount"] = collisions;
    // A finished rolling update makes the update revision the current one.
    if (api::GetString(spec, {"updateStrategy", "type"}) != "OnDelete" && updated_n == replicas && ready == replicas) {
      st["currentReplicas"] = updated_n;
      st["currentRevision"] = update;
    }
    for (const char* f : {"readyReplicas", "currentReplicas", "updatedReplicas"}) {
      if (api::GetInt(st, f) == 0) st.erase(f);  // omitempty upstream
    }
    return client::UpdateStatusIfChanged(*client_, *sts_r_, set, std::move(st));
  }

  const client::Client* client_;
  const api::ResourceInfo* sts_r_;
  const api::ResourceInfo* pods_r_;
  const api::ResourceInfo* pvc_r_;
  client::Informer* sets_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* revisions_ = nullptr;
  client::Informer* claims_ = nullptr;
  client::EventRecorder recorder_;
};

}  // namespace

std::unique_ptr<client::Controller> NewStatefulSetController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<StatefulSetController>(client, clock);
}

}  // namespace kite::controllers
