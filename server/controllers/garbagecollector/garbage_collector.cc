#include "server/controllers/garbagecollector/garbage_collector.h"

#include <boost/json.hpp>

#include <mutex>
#include <set>
#include <unordered_map>

#include "api/object.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "server/controllers/common/served_resources.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace gc {

std::vector<OwnerRef> OwnerRefsOf(const json::object& obj) {
  std::vector<OwnerRef> out;
  for (const auto& v : api::GetArray(obj, {"metadata", "ownerReferences"})) {
    if (!v.is_object()) continue;
    const auto& r = v.as_object();
    out.push_back(OwnerRef{api::GetString(r, "uid"), api::GetString(r, "apiVersion"), api::GetString(r, "kind"), api::GetString(r, "name"), api::GetBool(r, "blockOwnerDeletion")});
  }
  return out;
}

bool HasFinalizer(const json::object& obj, const char* finalizer) {
  for (const auto& f : api::GetArray(obj, {"metadata", "finalizers"})) {
    if (f.is_string() && f.as_string() == finalizer) return true;
  }
  return false;
}

Decision Decide(const json::object& item, const std::vector<OwnerRef>& owners, const std::vector<OwnerState>& states,
                bool has_dependents, bool dependent_deleting_dependents) {
  Decision d;
  if (owners.empty()) return d;
  std::vector<std::string> dangling, waiting;
  bool solid = false;
  for (size_t i = 0; i < owners.size() && i < states.size(); ++i) {
    if (states[i] == OwnerState::kSolid) solid = true;
    else if (states[i] == OwnerState::kDangling) dangling.push_back(owners[i].uid);
    else waiting.push_back(owners[i].uid);
  }
  if (solid) {
    // Another owner keeps the object alive: only the references to gone (or going) owners go.
    if (dangling.empty() && waiting.empty()) return d;
    d.action = Decision::Action::kRemoveRefs;
    d.remove_uids = dangling;
    d.remove_uids.insert(d.remove_uids.end(), waiting.begin(), waiting.end());
    return d;
  }
  d.action = Decision::Action::kDelete;
  if (!waiting.empty() && has_dependents) {
    // An owner waits for this object, which has dependents of its own: delete it in the
    // foreground too, so the wait covers the whole tree. A dependent already deleting its own
    // dependents may be a cycle back to the owner: unblock the owner first.
    d.policy = "Foreground";
    d.unblock = dependent_deleting_dependents;
    return d;
  }
  if (HasFinalizer(item, "orphan")) d.policy = "Orphan";
  else if (HasFinalizer(item, "foregroundDeletion")) d.policy = "Foreground";
  else d.policy = "Background";
  return d;
}

std::string PinnedMetaPatch(const json::object& obj, const char* field, json::value value) {
  json::object meta{{field, std::move(value)}, {"resourceVersion", api::ResourceVersion(obj)}};
  return json::serialize(json::object{{"metadata", std::move(meta)}});
}

}  // namespace gc

namespace {

using gc::OwnerRef;
using gc::OwnerState;

constexpr const char kDeletePrefix[] = "delete:";
constexpr const char kOrphanPrefix[] = "orphan:";

class GarbageCollector final : public client::Controller {
 public:
  explicit GarbageCollector(const client::Client* c, const kite::Clock* clock)
      : Controller("garbagecollector", 5, clock), client_(c) {}

  void Init(client::InformerFactory& f) override {
    factory_ = &f;
    for (const api::ResourceInfo* r : SweepableBuiltins(true)) Monitor(r);
    // Custom resources join the graph as their definitions become established.
    const api::ResourceInfo* crds = api::FindResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    auto on_crd = [this](const ObjectPtr& crd) {
      auto r = CustomResourceOf(*crd);
      if (!r) return;
      const api::ResourceInfo* stored = kinds_.Add(*r);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!monitored_.insert(stored->group + "/" + stored->resource).second) return;
      }
      client::Informer* inf = Monitor(stored);
      // An informer started after Start replays nothing to late handlers: take what it has.
      for (const auto& o : inf->List()) Upsert(stored, nullptr, o);
    };
    f.For(*crds)->AddHandler(client::EventHandler{on_crd, [on_crd](const ObjectPtr&, const ObjectPtr& o) { on_crd(o); },
                                                  nullptr});
  }

  Status Reconcile(const std::string& key) override {
    if (key.rfind(kOrphanPrefix, 0) == 0) return AttemptToOrphan(key.substr(sizeof kOrphanPrefix - 1));
    if (key.rfind(kDeletePrefix, 0) == 0) return AttemptToDelete(key.substr(sizeof kDeletePrefix - 1));
    return Status::Ok();
  }

 private:
  struct Node {
    const api::ResourceInfo* r = nullptr;
    std::string ns, name;
    std::vector<OwnerRef> owners;
    bool deleting = false;              // deletionTimestamp set
    bool deleting_dependents = false;   // … with the foregroundDeletion finalizer
  };

  client::Informer* Monitor(const api::ResourceInfo* r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      monitored_.insert(r->group + "/" + r->resource);
    }
    client::Informer* inf = factory_->For(*r);
    inf->AddHandler(client::EventHandler{[this, r](const ObjectPtr& o) { Upsert(r, nullptr, o); },
                                         [this, r](const ObjectPtr& old, const ObjectPtr& o) { Upsert(r, old, o); },
                                         [this](const ObjectPtr& o) { Remove(*o); }});
    return inf;
  }

  // Graph changes (informer threads): update the node and its edges, then enqueue what the
  // change may have unblocked, as upstream's graph builder does.
  void Upsert(const api::ResourceInfo* r, const ObjectPtr& old_obj, const ObjectPtr& obj) {
    const auto& m = api::Metadata(*obj);
    const std::string uid = api::GetString(m, "uid");
    if (uid.empty()) return;
    Node n;
    n.r = r;
    n.ns = api::GetString(m, "namespace");
    n.name = api::GetString(m, "name");
    n.owners = gc::OwnerRefsOf(*obj);
    n.deleting = m.contains("deletionTimestamp");
    n.deleting_dependents = n.deleting && gc::HasFinalizer(*obj, "foregroundDeletion");
    const bool orphan = n.deleting && gc::HasFinalizer(*obj, "orphan");
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = nodes_.find(uid);
      const bool was_deleting_dependents = it != nodes_.end() && it->second.deleting_dependents;
      std::vector<OwnerRef> old_owners;
      if (it != nodes_.end()) old_owners = it->second.owners;
      for (const auto& o : old_owners) dependents_[o.uid].erase(uid);
      for (const auto& o : n.owners) dependents_[o.uid].insert(uid);
      for (const auto& o : old_owners) {
        if (auto d = dependents_.find(o.uid); d != dependents_.end() && d->second.empty()) dependents_.erase(d);
      }
      // An owner waiting for its dependents re-checks when a reference to it went away or
      // stopped blocking.
      for (const auto& o : old_owners) {
        bool still_blocks = false;
        for (const auto& nw : n.owners) still_blocks |= nw.uid == o.uid && nw.block;
        if (!still_blocks && IsDeletingDependents(o.uid)) keys.push_back(kDeletePrefix + o.uid);
      }
      // An owner the graph has not seen may be gone: check the object.
      bool unknown_owner = false;
      for (const auto& o : n.owners) unknown_owner |= !nodes_.count(o.uid);
      if (unknown_owner && !n.deleting) keys.push_back(kDeletePrefix + uid);
      if (n.deleting_dependents) {
        keys.push_back(kDeletePrefix + uid);
        if (!was_deleting_dependents) {
          if (auto d = dependents_.find(uid); d != dependents_.end()) {
            for (const auto& dep : d->second) keys.push_back(kDeletePrefix + dep);
          }
        }
      }
      if (orphan) keys.push_back(kOrphanPrefix + uid);
      nodes_[uid] = std::move(n);
    }
    (void)old_obj;
    for (const auto& k : keys) queue_.Add(k);
  }

  void Remove(const json::object& obj) {
    const std::string uid = api::Uid(obj);
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = nodes_.find(uid);
      if (it == nodes_.end()) return;
      for (const auto& o : it->second.owners) {
        if (auto d = dependents_.find(o.uid); d != dependents_.end()) {
          d->second.erase(uid);
          if (d->second.empty()) dependents_.erase(d);
        }
        if (IsDeletingDependents(o.uid)) keys.push_back(kDeletePrefix + o.uid);
      }
      nodes_.erase(it);
      // Its dependents may have lost their last owner.
      if (auto d = dependents_.find(uid); d != dependents_.end()) {
        for (const auto& dep : d->second) keys.push_back(kDeletePrefix + dep);
      }
    }
    for (const auto& k : keys) queue_.Add(k);
  }

  bool IsDeletingDependents(const std::string& uid) const {  // mu_ held
    auto it = nodes_.find(uid);
    return it != nodes_.end() && it->second.deleting_dependents;
  }

  std::optional<Node> NodeOf(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<std::string> DependentsOf(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dependents_.find(uid);
    if (it == dependents_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  // The live object of a node, if it still is the one with that uid.
  Result<std::optional<json::object>> Live(const Node& n, const std::string& uid) {
    auto got = client_->Get(*n.r, n.ns, n.name);
    if (got.NotFound()) return std::optional<json::object>();
    if (!got.ok()) return got.error();
    if (api::Uid(*got) != uid) return std::optional<json::object>();
    return std::optional<json::object>(std::move(got.value()));
  }

  Status AttemptToDelete(const std::string& uid) {
    auto node = NodeOf(uid);
    if (!node) return Status::Ok();
    auto live = Live(*node, uid);
    if (!live.ok()) return live.error().Annotate("getting " + node->name);
    if (!live.value()) return Status::Ok();  // gone: the informer will tell
    json::object& item = *live.value();
    const auto& meta = api::Metadata(item);
    if (meta.contains("deletionTimestamp")) {
      if (!gc::HasFinalizer(item, "foregroundDeletion")) return Status::Ok();
      return ProcessDeletingDependents(*node, uid, item);
    }
    auto owners = gc::OwnerRefsOf(item);
    if (owners.empty()) return Status::Ok();
    std::vector<OwnerState> states;
    for (const auto& o : owners) {
      auto st = StateOf(o, *node);
      if (!st.ok()) return st.status();
      states.push_back(st.value());
    }
    bool dep_deleting_dependents = false;
    auto dependents = DependentsOf(uid);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& d : dependents) dep_deleting_dependents |= IsDeletingDependents(d);
    }
    gc::Decision d = gc::Decide(item, owners, states, !dependents.empty(), dep_deleting_dependents);
    switch (d.action) {
      case gc::Decision::Action::kNothing:
        return Status::Ok();
      case gc::Decision::Action::kRemoveRefs: {
        json::array kept;
        for (const auto& v : api::GetArray(meta, "ownerReferences")) {
          if (!v.is_object()) continue;
          std::string ou = api::GetString(v.as_object(), "uid");
          if (std::find(d.remove_uids.begin(), d.remove_uids.end(), ou) == d.remove_uids.end()) kept.push_back(v);
        }
        KITE_LOG(2) << "garbagecollector: removing dangling owner references from " << node->r->resource << " "
                    << client::Key(item);
        return PatchMeta(*node, item, "ownerReferences", kept.empty() ? json::value(nullptr) : json::value(kept));
      }
      case gc::Decision::Action::kDelete:
        break;
    }
    if (d.unblock) {
      json::array refs;
      for (const auto& v : api::GetArray(meta, "ownerReferences")) {
        json::value r = v;
        if (r.is_object()) {
          for (size_t i = 0; i < owners.size(); ++i) {
            if (states[i] == OwnerState::kWaiting && owners[i].uid == api::GetString(r.as_object(), "uid")) {
              r.as_object()["blockOwnerDeletion"] = false;
            }
          }
        }
        refs.push_back(std::move(r));
      }
      if (auto s = PatchMeta(*node, item, "ownerReferences", refs); !s.ok()) return s;
    }
    KITE_LOG(1) << "garbagecollector: deleting " << node->r->resource << " " << client::Key(item) << " (" << d.policy << ")";
    client::DeleteParams p;
    p.propagation_policy = d.policy;
    p.precondition_uid = uid;
    auto r = client_->Delete(*node->r, node->ns, node->name, p);
    if (!r.ok() && !r.NotFound() && r.error().http_code() != 409) {
      return r.error().Annotate("deleting " + node->name);
    }
    return Status::Ok();
  }

  // Whether owner `o` of `dependent` still exists (by uid), is gone, or waits for dependents.
  Result<OwnerState> StateOf(const OwnerRef& o, const Node& dependent) {
    const api::ResourceInfo* r = kinds_.Find(o.api_version, o.kind);
    if (!r) {
      // A kind nobody serves cannot be checked; keep the dependent rather than guess.
      KITE_LOG(2) << "garbagecollector: owner kind " << o.api_version << "/" << o.kind << " of " << dependent.name
                  << " is not served";
      return OwnerState::kSolid;
    }
    // A namespaced owner is in the dependent's namespace; a cluster-scoped dependent cannot
    // have a namespaced owner (such a reference is treated as absent, as upstream does).
    if (r->namespaced && dependent.ns.empty()) return OwnerState::kDangling;
    auto got = client_->Get(*r, r->namespaced ? dependent.ns : "", o.name);
    if (got.NotFound()) return OwnerState::kDangling;
    if (!got.ok()) return got.error().Annotate("getting owner " + o.name);
    if (api::Uid(*got) != o.uid) return OwnerState::kDangling;
    if (api::IsBeingDeleted(*got) && gc::HasFinalizer(*got, "foregroundDeletion")) {
      return OwnerState::kWaiting;
    }
    return OwnerState::kSolid;
  }

  Status ProcessDeletingDependents(const Node& node, const std::string& uid, const json::object& item) {
    std::vector<std::string> blocking, to_delete;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto d = dependents_.find(uid); d != dependents_.end()) {
        for (const auto& dep : d->second) {
          auto it = nodes_.find(dep);
          if (it == nodes_.end()) continue;
          bool blocks = false;
          for (const auto& o : it->second.owners) blocks |= o.uid == uid && o.block;
          if (!blocks) continue;
          blocking.push_back(dep);
          if (!it->second.deleting_dependents) to_delete.push_back(dep);
        }
      }
    }
    if (blocking.empty()) {
      KITE_LOG(1) << "garbagecollector: dependents of " << node.r->resource << " " << client::Key(item)
                  << " are gone; removing foregroundDeletion";
      return RemoveFinalizer(node, item, "foregroundDeletion");
    }
    for (const auto& dep : to_delete) queue_.Add(kDeletePrefix + dep);
    return Status::Ok();
  }

  Status AttemptToOrphan(const std::string& uid) {
    auto node = NodeOf(uid);
    if (!node) return Status::Ok();
    auto live = Live(*node, uid);
    if (!live.ok()) return live.error().Annotate("getting " + node->name);
    if (!live.value() || !gc::HasFinalizer(*live.value(), "orphan")) return Status::Ok();
    for (const auto& dep_uid : DependentsOf(uid)) {
      auto dep = NodeOf(dep_uid);
      if (!dep) continue;
      auto dl = Live(*dep, dep_uid);
      if (!dl.ok()) return dl.error().Annotate("getting " + dep->name);
      if (!dl.value()) continue;
      json::array kept;
      bool had = false;
      for (const auto& v : api::GetArray(*dl.value(), {"metadata", "ownerReferences"})) {
        if (v.is_object() && api::GetString(v.as_object(), "uid") == uid) had = true;
        else kept.push_back(v);
      }
      if (!had) continue;
      auto s = PatchMeta(*dep, *dl.value(), "ownerReferences", kept.empty() ? json::value(nullptr) : json::value(kept));
      if (!s.ok()) return s;
    }
    KITE_LOG(1) << "garbagecollector: orphaned the dependents of " << node->r->resource << " " << client::Key(*live.value());
    return RemoveFinalizer(*node, *live.value(), "orphan");
  }

  Status RemoveFinalizer(const Node& node, const json::object& obj, const char* finalizer) {
    json::array kept;
    for (const auto& f : api::GetArray(obj, {"metadata", "finalizers"})) {
      if (!(f.is_string() && f.as_string() == finalizer)) kept.push_back(f);
    }
    return PatchMeta(node, obj, "finalizers", kept.empty() ? json::value(nullptr) : json::value(kept));
  }

  Status PatchMeta(const Node& node, const json::object& obj, const char* field, json::value value) {
    auto r = client_->Patch(*node.r, node.ns, node.name, client::PatchType::kMerge,
                            gc::PinnedMetaPatch(obj, field, std::move(value)));
    if (r.ok() || r.NotFound()) return Status::Ok();
    // A conflict means the object changed since read: retry with what it is now.
    return r.error().Annotate("patching " + node.name);
  }

  const client::Client* client_;
  client::InformerFactory* factory_ = nullptr;
  KindResolver kinds_;
  std::mutex mu_;  // guards nodes_, dependents_, monitored_
  std::unordered_map<std::string, Node> nodes_;                        // uid → node
  std::unordered_map<std::string, std::set<std::string>> dependents_;  // owner uid → dependent uids
  std::set<std::string> monitored_;                                    // "group/resource"
};

}  // namespace

std::unique_ptr<client::Controller> NewGarbageCollector(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<GarbageCollector>(client, clock);
}

}  // namespace kite::controllers
