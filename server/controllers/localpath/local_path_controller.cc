#include "server/controllers/localpath/local_path_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>

#include "api/object.h"
#include "api/quantity.h"
#include "base/log.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/localpath/helper_pod.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

// Not a valid object name (upper case), so it never collides with a claim or volume key.
constexpr const char kClassKey[] = "StorageClass";
constexpr const char kDefaultClassAnnotation[] = "storageclass.kubernetes.io/is-default-class";
constexpr const char kProvisionedBy[] = "pv.kubernetes.io/provisioned-by";
constexpr const char kBindCompleted[] = "pv.kubernetes.io/bind-completed";
constexpr const char kBoundByController[] = "pv.kubernetes.io/bound-by-controller";
constexpr const char kSelectedNode[] = "volume.kubernetes.io/selected-node";

std::vector<std::string> ClaimNames(const json::object& pod) {
  std::vector<std::string> out;
  for (const auto& v : api::GetArray(pod, {"spec", "volumes"})) {
    if (!v.is_object()) continue;
    std::string claim = api::GetString(v.as_object(), {"persistentVolumeClaim", "claimName"});
    if (!claim.empty()) out.push_back(std::move(claim));
  }
  return out;
}

bool ContainsAll(const json::array& have, const json::array& want) {
  return std::all_of(want.begin(), want.end(), [&](const json::value& m) { return std::find(have.begin(), have.end(), m) != have.end(); });
}

std::optional<api::Quantity> Storage(const json::object& resources) {
  const json::value* v = api::Find(resources, "storage");
  if (!v) return std::nullopt;
  auto q = api::Quantity::FromJson(*v);
  if (!q.ok()) return std::nullopt;
  return q.value();
}

json::object& Annotate(json::object& obj, const char* key, const char* value) {
  auto& ann = api::MutableObject(api::MutableObject(obj, "metadata"), "annotations");
  ann[key] = value;
  return obj;
}

class LocalPathController final : public client::Controller {
 public:
  LocalPathController(const client::Client* c, std::string storage_dir, std::string helper_image,
                      const kite::Clock* clock)
      : Controller("local-path-provisioner", 1, clock), client_(c), helper_image_(std::move(helper_image)),
        classes_r_(api::FindResource("storage.k8s.io", "v1", "storageclasses")),
        claims_r_(api::FindResource("", "v1", "persistentvolumeclaims")),
        volumes_r_(api::FindResource("", "v1", "persistentvolumes")), storage_dir_(std::move(storage_dir)) {}

  void Init(client::InformerFactory& f) override {
    classes_ = f.For(*classes_r_);
    claims_ = f.For(*claims_r_);
    volumes_ = f.For(*volumes_r_);
    pods_ = f.For("", "v1", "pods");
    claims_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& c) { queue_.Add(client::Key(*c)); },
        [this](const ObjectPtr&, const ObjectPtr& c) { queue_.Add(client::Key(*c)); },
        [this](const ObjectPtr& c) {
          // Its volume may now be released.
          if (std::string pv = api::GetString(*c, {"spec", "volumeName"}); !pv.empty()) queue_.Add(pv);
          for (const auto& v : volumes_->List()) {
            if (api::GetString(*v, {"spec", "claimRef", "uid"}) == api::Uid(*c)) queue_.Add(client::Key(*v));
          }
        }});
    auto on_volume = [this](const ObjectPtr& v) {
      queue_.Add(client::Key(*v));
      const auto& ref = api::GetObject(*v, {"spec", "claimRef"});
      if (!ref.empty()) queue_.Add(api::GetString(ref, "namespace") + "/" + api::GetString(ref, "name"));
      // A new static volume may fit a pending claim.
      if (ref.empty()) {
        for (const auto& c : claims_->List()) {
          if (api::GetString(*c, {"status", "phase"}) == "Pending") queue_.Add(client::Key(*c));
        }
      }
    };
    volumes_->AddHandler(client::EventHandler{on_volume, [on_volume](const ObjectPtr&, const ObjectPtr& v) { on_volume(v); },
                                              on_volume});
    auto on_pod = [this](const ObjectPtr& p) {
      if (std::string v = api::GetString(*p, {"metadata", "labels", localpath::kHelperVolumeLabel}); !v.empty()) {
        queue_.Add(v);  // a helper pod's progress: its volume may now be deleted
      }
      if (api::GetString(*p, {"spec", "nodeName"}).empty()) return;
      for (const auto& claim : ClaimNames(*p)) queue_.Add(api::Namespace(*p) + "/" + claim);
    };
    pods_->AddHandler(client::EventHandler{on_pod, [on_pod](const ObjectPtr&, const ObjectPtr& p) { on_pod(p); }, nullptr});
    queue_.Add(kClassKey);
  }

  Status Reconcile(const std::string& key) override {
    if (key == kClassKey) return EnsureClass();
    auto [ns, name] = client::SplitKey(key);
    if (ns.empty()) return SyncVolume(name);
    return SyncClaim(ns, name);
  }

 private:
  // Created once; an existing class (edited by its user or not) is left as it is.
  Status EnsureClass() {
    if (classes_->Get("", localpath::kClassName)) return Status::Ok();
    json::object sc{{"apiVersion", "storage.k8s.io/v1"},
                    {"kind", "StorageClass"},
                    {"metadata", json::object{{"name", localpath::kClassName},
                                              {"annotations", json::object{{kDefaultClassAnnotation, "true"}}}}},
                    {"provisioner", localpath::kProvisioner},
                    {"reclaimPolicy", "Delete"},
                    {"volumeBindingMode", "WaitForFirstConsumer"}};
    auto r = client_->Create(*classes_r_, "", sc);
    if (r.ok() || r.AlreadyExists()) return Status::Ok();
    return r.error().Annotate("creating StorageClass local-path");
  }

  // The node the claim's first consumer runs on: the scheduler's annotation, else a pod using it.
  std::string ConsumerNode(const json::object& claim) {
    if (std::string n = api::GetString(api::Annotations(claim), kSelectedNode); !n.empty()) return n;
    const std::string name = api::Name(claim);
    for (const auto& p : pods_->List(api::Namespace(claim))) {
      const std::string node = api::GetString(*p, {"spec", "nodeName"});
      const std::string phase = api::GetString(*p, {"status", "phase"});
      if (node.empty() || phase == "Succeeded" || phase == "Failed" || api::IsBeingDeleted(*p)) continue;
      const auto claims = ClaimNames(*p);
      if (std::count(claims.begin(), claims.end(), name)) return node;
    }
    return "";
  }

  static bool RefersTo(const json::object& pv, const json::object& claim) {
    const auto& ref = api::GetObject(pv, {"spec", "claimRef"});
    if (ref.empty()) return false;
    std::string uid = api::GetString(ref, "uid");
    return api::GetString(ref, "name") == api::Name(claim) && api::GetString(ref, "namespace") == api::Namespace(claim) &&
           (uid.empty() || uid == api::Uid(claim));
  }

  // The smallest Available volume of the claim's class that is big enough and has its access
  // modes; a volume pre-bound to the claim (claimRef) first.
  ObjectPtr StaticMatch(const json::object& claim, const std::string& class_name) {
    const auto want = Storage(api::GetObject(claim, {"spec", "resources", "requests"}));
    const auto& modes = api::GetArray(claim, {"spec", "accessModes"});
    ObjectPtr best;
    std::optional<api::Quantity> best_size;
    for (const auto& v : volumes_->List()) {
      if (api::IsBeingDeleted(*v)) continue;
      if (RefersTo(*v, claim)) return v;
      if (!api::GetObject(*v, {"spec", "claimRef"}).empty()) continue;
      if (api::GetString(*v, {"spec", "storageClassName"}) != class_name) continue;
      const std::string phase = api::GetString(*v, {"status", "phase"});
      if (phase != "Available" && phase != "Pending" && !phase.empty()) continue;
      if (!ContainsAll(api::GetArray(*v, {"spec", "accessModes"}), modes)) continue;
      auto size = Storage(api::GetObject(*v, {"spec", "capacity"}));
      if (want && (!size || *size < *want)) continue;
      if (!best || (size && best_size && *size < *best_size)) {
        best = v;
        best_size = size;
      }
    }
    return best;
  }

  Status SyncClaim(const std::string& ns, const std::string& name) {
    ObjectPtr claim = claims_->Get(ns, name);
    if (!claim || api::IsBeingDeleted(*claim)) return Status::Ok();
    if (const std::string pv_name = api::GetString(*claim, {"spec", "volumeName"}); !pv_name.empty()) {
      ObjectPtr pv = volumes_->Get("", pv_name);
      if (!pv) return Status::Ok();  // a volume named ahead of its creation: wait for it
      const auto& ref = api::GetObject(*pv, {"spec", "claimRef"});
      if (!ref.empty() && !RefersTo(*pv, *claim)) return Status::Ok();  // another claim's
      return Bind(*pv, *claim);
    }
    const json::value* cls = api::Find(api::GetObject(*claim, "spec"), "storageClassName");
    const std::string class_name = cls && cls->is_string() ? std::string(cls->as_string()) : "";
    ObjectPtr sc = class_name.empty() ? nullptr : classes_->Get("", class_name);
    const bool wait_for_consumer = sc && api::GetString(*sc, "volumeBindingMode") == "WaitForFirstConsumer";
    const std::string node = wait_for_consumer ? ConsumerNode(*claim) : "";
    if (wait_for_consumer && node.empty()) return Status::Ok();
    if (ObjectPtr pv = StaticMatch(*claim, class_name)) return Bind(*pv, *claim);
    if (!sc || api::GetString(*sc, "provisioner") != localpath::kProvisioner) return Status::Ok();
    if (node.empty()) return Status::Ok();  // Immediate local-path classes still need a node
    return Provision(*claim, *sc, node);
  }

  Status Provision(const json::object& claim, const json::object& sc, const std::string& node) {
    const std::string uid = api::Uid(claim);
    const std::string pv_name = "pvc-" + uid;
    if (ObjectPtr pv = volumes_->Get("", pv_name)) return Bind(*pv, claim);
    const std::string path =
        storage_dir_ + "/" + pv_name + "_" + api::Namespace(claim) + "_" + api::Name(claim);
    json::value size = "0";
    if (const json::value* s = api::Find(api::GetObject(claim, {"spec", "resources", "requests"}), "storage")) size = *s;
    std::string reclaim = api::GetString(sc, "reclaimPolicy");
    if (reclaim.empty()) reclaim = "Delete";
    json::object pv{
        {"apiVersion", "v1"},
        {"kind", "PersistentVolume"},
        {"metadata", json::object{{"name", pv_name}, {"annotations", json::object{{kProvisionedBy, localpath::kProvisioner}}}}},
        {"spec",
         json::object{
             {"capacity", json::object{{"storage", size}}},
             {"accessModes", api::GetArray(claim, {"spec", "accessModes"})},
             {"hostPath", json::object{{"path", path}, {"type", "DirectoryOrCreate"}}},
             {"nodeAffinity",
              json::object{{"required",
                            json::object{{"nodeSelectorTerms",
                                          json::array{json::object{
                                              {"matchExpressions",
                                               json::array{json::object{{"key", "kubernetes.io/hostname"},
                                                                        {"operator", "In"},
                                                                        {"values", json::array{node}}}}}}}}}}}},
             {"claimRef", ClaimRef(claim)},
             {"persistentVolumeReclaimPolicy", reclaim},
             {"storageClassName", api::Name(sc)},
             {"volumeMode", "Filesystem"}}}};
    KITE_LOG(1) << "local-path: provisioning " << pv_name << " at " << path << " on " << node << " for "
                << client::Key(claim);
    auto r = client_->Create(*volumes_r_, "", pv);
    if (!r.ok()) {
      if (r.AlreadyExists()) return Status::Ok();  // the informer brings it, and the claim again
      return r.error().Annotate("creating persistentvolume " + pv_name);
    }
    return Bind(r.value(), claim);
  }

  static json::object ClaimRef(const json::object& claim) {
    return json::object{{"kind", "PersistentVolumeClaim"}, {"namespace", api::Namespace(claim)},
                        {"name", api::Name(claim)},       {"uid", api::Uid(claim)},
                        {"apiVersion", "v1"},             {"resourceVersion", api::ResourceVersion(claim)}};
  }

  // Upstream's order: the volume's claimRef, its phase, the claim's volumeName, its status.
  Status Bind(json::object pv, const json::object& claim_in) {
    const std::string pv_name = api::Name(pv);
    if (api::GetString(api::GetObject(pv, {"spec", "claimRef"}), "uid") != api::Uid(claim_in)) {
      const bool ours = api::GetObject(pv, {"spec", "claimRef"}).empty();
      api::MutableObject(pv, "spec")["claimRef"] = ClaimRef(claim_in);
      if (ours) Annotate(pv, kBoundByController, "yes");
      auto r = client_->Update(*volumes_r_, "", pv);
      if (!r.ok()) return r.error().Annotate("binding persistentvolume " + pv_name);
      pv = std::move(r.value());
    }
    if (api::GetString(pv, {"status", "phase"}) != "Bound") {
      api::MutableObject(pv, "status")["phase"] = "Bound";
      // Not UpdateStatusIfChanged: a volume gone under its claim must fail this sync (NotFound
      // is an error here), so the claim is tried again with another volume.
      auto r = client_->UpdateStatus(*volumes_r_, "", pv);
      if (!r.ok()) return r.error().Annotate("persistentvolume " + pv_name + " status");
      pv = std::move(r.value());
    }
    json::object claim = claim_in;
    const auto& ann = api::Annotations(claim);
    if (api::GetString(claim, {"spec", "volumeName"}) != pv_name || api::GetString(ann, kBindCompleted) != "yes") {
      if (api::GetString(claim, {"spec", "volumeName"}) != pv_name) {
        api::MutableObject(claim, "spec")["volumeName"] = pv_name;
        Annotate(claim, kBoundByController, "yes");
      }
      Annotate(claim, kBindCompleted, "yes");
      auto r = client_->Update(*claims_r_, api::Namespace(claim), claim);
      if (!r.ok()) return r.error().Annotate("binding persistentvolumeclaim " + client::Key(claim_in));
      claim = std::move(r.value());
    }
    const json::object& st = api::GetObject(claim, "status");
    const json::value capacity = api::GetObject(pv, {"spec", "capacity"});
    const json::value modes = api::GetArray(pv, {"spec", "accessModes"});
    if (api::GetString(st, "phase") != "Bound" || api::GetObject(st, "capacity") != capacity.as_object() ||
        api::GetArray(st, "accessModes") != modes.as_array()) {
      json::object status = st;
      status["phase"] = "Bound";
      status["capacity"] = capacity;
      status["accessModes"] = modes;
      std::optional<json::object> written;
      if (auto s = client::UpdateStatusIfChanged(*client_, *claims_r_, claim, std::move(status), &written); !s.ok()) {
        return s.Annotate("persistentvolumeclaim " + client::Key(claim_in));
      }
      if (written) KITE_LOG(1) << "local-path: bound " << client::Key(claim_in) << " to " << pv_name;
    }
    return Status::Ok();
  }

  // A volume whose claim is gone: deleted (Delete policy, provisioned by us) or Released.
  Status SyncVolume(const std::string& name) {
    ObjectPtr pv = volumes_->Get("", name);
    if (!pv || api::IsBeingDeleted(*pv)) return Status::Ok();
    const auto& ref = api::GetObject(*pv, {"spec", "claimRef"});
    const std::string uid = api::GetString(ref, "uid");
    if (uid.empty()) return Status::Ok();
    const std::string ns = api::GetString(ref, "namespace"), claim_name = api::GetString(ref, "name");
    if (ObjectPtr c = claims_->Get(ns, claim_name); c && api::Uid(*c) == uid) return Status::Ok();
    // The cache may lag behind a claim just created: ask the API server before acting.
    auto live = client_->Get(*claims_r_, ns, claim_name);
    if (live.ok() && api::Uid(live.value()) == uid) return Status::Ok();
    if (!live.ok() && !live.NotFound()) return live.error();
    const bool ours = api::GetString(api::Annotations(*pv), kProvisionedBy) == localpath::kProvisioner;
    if (ours && api::GetString(*pv, {"spec", "persistentVolumeReclaimPolicy"}) == "Delete") {
      auto cleaned = DirectoryRemoved(*pv);
      if (!cleaned.ok()) return cleaned.error();
      if (!*cleaned) return Status::Ok();  // its helper pod's updates bring the volume back
      KITE_LOG(1) << "local-path: deleting " << name << " (claim " << ns << "/" << claim_name << " is gone)";
      client::DeleteParams p;
      p.precondition_uid = api::Uid(*pv);
      auto r = client_->Delete(*volumes_r_, "", name, p);
      if (!r.ok() && !r.NotFound() && !r.Conflict()) return r.error().Annotate("deleting persistentvolume " + name);
      // The helper pod is owned by the volume; delete it now rather than wait for the collector.
      auto d = client_->Delete(*pods_r_, localpath::kHelperNamespace, localpath::HelperPodName(name));
      if (!d.ok() && !d.NotFound()) return d.error().Annotate("deleting helper pod of " + name);
      return Status::Ok();
    }
    if (api::GetString(*pv, {"status", "phase"}) == "Released") return Status::Ok();
    json::object status = api::GetObject(*pv, "status");
    status["phase"] = "Released";
    Status s = client::UpdateStatusIfChanged(*client_, *volumes_r_, *pv, std::move(status));
    if (s.ok() || s.IsConflict()) return Status::Ok();
    return s.Annotate("releasing persistentvolume " + name);
  }

  // Whether the volume's directory is gone from its node (or can't be: no helper image, the
  // node is gone, the path is not one we made): creates the helper pod and follows it.
  Result<bool> DirectoryRemoved(const json::object& pv) {
    if (helper_image_.empty()) return true;
    const std::string name = api::Name(pv);
    auto pod = localpath::DeleteHelperPod(pv, storage_dir_, helper_image_);
    if (!pod.ok()) {
      KITE_LOG(0) << "local-path: not removing the directory of " << name << ": " << pod.error().message();
      return true;
    }
    const std::string node = api::GetString(*pod, {"spec", "nodeName"});
    auto live_node = client_->Get(*nodes_r_, "", node);
    if (!live_node.ok()) {
      if (!live_node.NotFound()) return live_node.error();
      return true;  // no node, nothing to clean
    }
    ObjectPtr helper = pods_->Get(localpath::kHelperNamespace, localpath::HelperPodName(name));
    if (!helper) {
      KITE_LOG(1) << "local-path: removing the directory of " << name << " on " << node << " with a helper pod";
      auto r = client_->Create(*pods_r_, localpath::kHelperNamespace, *pod);
      if (!r.ok() && !r.AlreadyExists()) return r.error().Annotate("creating helper pod for " + name);
      return false;
    }
    const std::string phase = api::GetString(*helper, {"status", "phase"});
    if (phase == "Succeeded") return true;
    if (phase == "Failed" && !api::IsBeingDeleted(*helper)) {
      // Try again later with a new pod (the directory may be busy); the volume stays meanwhile.
      KITE_LOG(0) << "local-path: helper pod for " << name << " failed; retrying in 30s";
      auto d = client_->Delete(*pods_r_, localpath::kHelperNamespace, api::Name(*helper));
      if (!d.ok() && !d.NotFound()) return d.error().Annotate("deleting failed helper pod of " + name);
      queue_.AddAfter(name, std::chrono::seconds(30));
    }
    return false;
  }

  const client::Client* client_;
  const std::string helper_image_;
  const api::ResourceInfo* pods_r_ = api::FindResource("", "v1", "pods");
  const api::ResourceInfo* nodes_r_ = api::FindResource("", "v1", "nodes");
  const api::ResourceInfo* classes_r_;
  const api::ResourceInfo* claims_r_;
  const api::ResourceInfo* volumes_r_;
  const std::string storage_dir_;
  client::Informer* classes_ = nullptr;
  client::Informer* claims_ = nullptr;
  client::Informer* volumes_ = nullptr;
  client::Informer* pods_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewLocalPathController(const client::Client* client, std::string storage_dir,
                                                           std::string helper_image, const kite::Clock* clock) {
  return std::make_unique<LocalPathController>(client, std::move(storage_dir), std::move(helper_image), clock);
}

}  // namespace kite::controllers
