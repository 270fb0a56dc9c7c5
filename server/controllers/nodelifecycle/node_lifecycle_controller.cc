#include "server/controllers/nodelifecycle/node_lifecycle_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "api/conditions.h"
#include "api/object.h"
#include "api/pod.h"
#include "api/time.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/resync.h"
#include "server/controllers/nodelifecycle/taints.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr const char kLeaseNamespace[] = "kube-node-lease";

const json::object* Condition(const json::object& node, const char* type) {
  return api::FindCondition(api::GetObject(node, "status"), type);
}

class NodeLifecycleController final : public client::Controller {
 public:
  NodeLifecycleController(const client::Client* c, std::chrono::milliseconds grace, std::chrono::milliseconds startup,
                          const kite::Clock* clock)
      : Controller("nodelifecycle", 2, clock), client_(c), nodes_r_(api::FindResource("", "v1", "nodes")),
        pods_r_(api::FindResource("", "v1", "pods")), grace_(grace), startup_grace_(startup),
        period_(std::clamp<std::chrono::milliseconds>(grace / 5, std::chrono::milliseconds(500), std::chrono::seconds(5))),
        recorder_(c, "node-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    nodes_ = f.For(*nodes_r_);
    leases_ = f.For("coordination.k8s.io", "v1", "leases");
    pods_ = f.For(*pods_r_);
    nodes_->AddHandler(client::EventHandler{[this](const ObjectPtr& n) { queue_.Add(client::Key(*n)); },
                                            [this](const ObjectPtr&, const ObjectPtr& n) { queue_.Add(client::Key(*n)); },
                                            [this](const ObjectPtr& n) { queue_.Add(client::Key(*n)); }});
    auto lease = [this](const ObjectPtr& l) {
      if (api::Namespace(*l) == kLeaseNamespace) queue_.Add(api::Name(*l));
    };
    leases_->AddHandler(client::EventHandler{lease, [lease](const ObjectPtr&, const ObjectPtr& l) { lease(l); }, nullptr});
  }

  Status Reconcile(const std::string& name) override {
    ObjectPtr cached = nodes_->Get("", name);
    if (!cached) {
      std::string uid;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = health_.find(name);
        if (it == health_.end()) return Status::Ok();
        uid = it->second.uid;
        health_.erase(it);
      }
      resync_.Forget(name);
      json::object gone{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", json::object{{"name", name}, {"uid", uid}}}};
      recorder_.Normal(gone, "RemovingNode", "Node " + name + " event: Removing Node " + name + " from Controller");
      return Status::Ok();
    }
    json::object node = *cached;
    const auto now = clock()->SteadyNow();
    const json::object* ready = Condition(node, "Ready");
    const std::string heartbeat = ready ? api::GetString(*ready, "lastHeartbeatTime") : "";
    std::string renew;
    if (ObjectPtr l = leases_->Get(kLeaseNamespace, name)) renew = api::GetString(*l, {"spec", "renewTime"});
    Health h;
    bool registered = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, fresh] = health_.try_emplace(name);
      if (fresh) {
        it->second.probe = now;
        it->second.last_ready = ready ? api::GetString(*ready, "status") : "";
        it->second.uid = api::Uid(node);
        registered = true;
      } else if (heartbeat != it->second.heartbeat || renew != it->second.renew) {
        it->second.probe = now;  // the kubelet spoke
      }
      it->second.heartbeat = heartbeat;
      it->second.renew = renew;
      h = it->second;
    }
    if (registered) recorder_.Normal(node, "RegisteredNode", "Node " + name + " event: Registered Node " + name + " in Controller");
    const auto grace = ready ? grace_ : startup_grace_;
    const std::string status_now = ready ? api::GetString(*ready, "status") : "";
    if (now - h.probe > grace && status_now != "Unknown") {
      KITE_LOG(0) << "nodelifecycle: node " << name << " stopped posting status; marking it Unknown";
      json::object st = api::GetObject(node, "status");
      st["conditions"] = nodelifecycle::UnknownConditions(api::GetArray(node, {"status", "conditions"}), api::FormatTime(clock()->Now()));
      std::optional<json::object> written;
      if (auto s = client::UpdateStatusIfChanged(*client_, *nodes_r_, node, std::move(st), &written); !s.ok()) {
        return s.Annotate("marking node " + name + " Unknown");
      }
      if (!written) return Status::Ok();  // the node is gone
      node = std::move(*written);
    }
    ready = Condition(node, "Ready");
    const std::string status = ready ? api::GetString(*ready, "status") : "";
    if (status != h.last_ready) {
      if (h.last_ready == "True") {
        recorder_.Normal(node, "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
        if (auto s = MarkPodsNotReady(name); !s.ok()) return s;
      } else if (status == "True") {
        recorder_.Normal(node, "NodeReady", "Node " + name + " status is now: NodeReady");
      }
      std::lock_guard<std::mutex> lock(mu_);
      health_[name].last_ready = status;
    }
    json::array taints = nodelifecycle::DesiredTaints(node, api::FormatTime(clock()->Now()));
    if (taints != api::GetArray(node, {"spec", "taints"})) {
      json::object updated = node;
      json::value& spec = updated["spec"];
      if (!spec.is_object()) spec = json::object();
      if (taints.empty()) spec.as_object().erase("taints");
      else spec.as_object()["taints"] = std::move(taints);
      auto r = client_->Update(*nodes_r_, "", updated);
      if (r.NotFound()) return Status::Ok();
      if (!r.ok()) return r.error().Annotate("tainting node " + name);
    }
    resync_.After(queue_, name, period_);
    return Status::Ok();
  }

 private:
  struct Health {
    SteadyClock::time_point probe;  // when the kubelet was last heard from (or first seen)
    std::string heartbeat;    // Ready lastHeartbeatTime last seen
    std::string renew;        // Lease renewTime last seen
    std::string last_ready;   // Ready status last acted on
    std::string uid;          // for the event when the node goes
  };

  // Upstream's MarkPodsNotReady: the node cannot vouch for its pods any more.
  Status MarkPodsNotReady(const std::string& node_name) {
    Status result;
    for (const auto& pod : pods_->List()) {
      if (api::GetString(*pod, {"spec", "nodeName"}) != node_name) continue;
      std::string phase = api::GetString(*pod, {"status", "phase"});
      if (phase == "Succeeded" || phase == "Failed" || !api::IsPodReady(*pod)) continue;
      json::object st = api::GetObject(*pod, "status");
      for (auto& c : st["conditions"].as_array()) {
        if (c.is_object() && api::GetString(c.as_object(), "type") == "Ready") {
          c.as_object()["status"] = "False";
          c.as_object()["lastTransitionTime"] = api::FormatTime(clock()->Now());
        }
      }
      std::optional<json::object> written;
      if (auto s = client::UpdateStatusIfChanged(*client_, *pods_r_, *pod, std::move(st), &written); !s.ok()) {
        result = s.Annotate("marking pod not ready");
      }
      if (written) recorder_.Warning(*pod, "NodeNotReady", "Node is not ready");
    }
    return result;
  }

  const client::Client* client_;
  const api::ResourceInfo* nodes_r_;
  const api::ResourceInfo* pods_r_;
  const std::chrono::milliseconds grace_, startup_grace_, period_;
  client::EventRecorder recorder_;
  client::Informer* nodes_ = nullptr;
  client::Informer* leases_ = nullptr;
  client::Informer* pods_ = nullptr;
  Resync resync_;
  std::mutex mu_;  // guards health_
  std::map<std::string, Health> health_;
};

class TaintEvictionController final : public client::Controller {
 public:
  explicit TaintEvictionController(const client::Client* c, const kite::Clock* clock)
      : Controller("taint-eviction-controller", 2, clock), client_(c), pods_r_(api::FindResource("", "v1", "pods")),
        recorder_(c, "taint-eviction-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    nodes_ = f.For("", "v1", "nodes");
    pods_ = f.For(*pods_r_);
    auto pod = [this](const ObjectPtr& p) {
      if (!api::GetString(*p, {"spec", "nodeName"}).empty()) queue_.Add(client::Key(*p));
    };
    pods_->AddHandler(client::EventHandler{pod, [pod](const ObjectPtr&, const ObjectPtr& p) { pod(p); }, nullptr});
    nodes_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& n) { EnqueuePodsOn(*n); },
        [this](const ObjectPtr& old_node, const ObjectPtr& n) {
          if (NoExecute(*old_node) != NoExecute(*n)) EnqueuePodsOn(*n);
        },
        nullptr});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr pod = pods_->Get(ns, name);
    const std::string node_name = pod ? api::GetString(*pod, {"spec", "nodeName"}) : "";
    ObjectPtr node = node_name.empty() ? nullptr : nodes_->Get("", node_name);
    if (!pod || !node || api::IsBeingDeleted(*pod)) {
      Forget(key, nullptr);
      return Status::Ok();
    }
    json::array taints = NoExecute(*node);
    auto window = nodelifecycle::TolerationWindow(*pod, taints);
    if (!window) {
      Forget(key, pod.get());
      return Status::Ok();
    }
    // Counted from when the taint appeared (its timeAdded; when first seen otherwise).
    const auto now = clock()->Now();
    std::optional<std::chrono::system_clock::time_point> added;
    for (const auto& t : taints) {
      if (auto ta = api::ParseTime(api::GetString(t.as_object(), "timeAdded")); ta && (!added || *ta < *added)) added = *ta;
    }
    std::chrono::system_clock::time_point first_seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first_seen = scheduled_.try_emplace(key, now).first->second;
    }
    const auto since = added ? *added : first_seen;
    const auto due = since + *window;
    if (due > now) {
      queue_.AddAfter(key, due - now + std::chrono::milliseconds(10));
      return Status::Ok();
    }
    recorder_.Normal(*pod, "TaintManagerEviction", "Marking for deletion Pod " + key);
    KITE_LOG(0) << "taint-eviction-controller: deleting pod " << key << " from node " << node_name;
    client::DeleteParams p;
    p.precondition_uid = api::Uid(*pod);
    auto r = client_->Delete(*pods_r_, ns, name, p);
    {
      std::lock_guard<std::mutex> lock(mu_);
      scheduled_.erase(key);
    }
    if (r.ok() || r.NotFound() || r.error().http_code() == 409) return Status::Ok();
    return r.error().Annotate("evicting pod " + key);
  }

 private:
  static json::array NoExecute(const json::object& node) {
    json::array out;
    for (const auto& t : api::GetArray(node, {"spec", "taints"})) {
      if (t.is_object() && api::GetString(t.as_object(), "effect") == "NoExecute") out.push_back(t);
    }
    return out;
  }

  void EnqueuePodsOn(const json::object& node) {
    const std::string name = api::Name(node);
    for (const auto& p : pods_->List()) {
      if (api::GetString(*p, {"spec", "nodeName"}) == name) queue_.Add(client::Key(*p));
    }
  }

  // A pending eviction no longer due: say so, as upstream does, when the pod is still there.
  void Forget(const std::string& key, const json::object* pod) {
    bool was = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was = scheduled_.erase(key) > 0;
    }
    if (was && pod) recorder_.Normal(*pod, "TaintManagerEviction", "Cancelling deletion of Pod " + key);
  }

  const client::Client* client_;
  const api::ResourceInfo* pods_r_;
  client::EventRecorder recorder_;
  client::Informer* nodes_ = nullptr;
  client::Informer* pods_ = nullptr;
  std::mutex mu_;  // guards scheduled_
  std::map<std::string, std::chrono::system_clock::time_point> scheduled_;  // pod key → counted since
};

}  // namespace

std::unique_ptr<client::Controller> NewNodeLifecycleController(const client::Client* client,
                                                               std::chrono::milliseconds monitor_grace,
                                                               std::chrono::milliseconds startup_grace,
                                                               const kite::Clock* clock) {
  return std::make_unique<NodeLifecycleController>(client, monitor_grace, startup_grace, clock);
}

std::unique_ptr<client::Controller> NewTaintEvictionController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<TaintEvictionController>(client, clock);
}

}  // namespace kite::controllers
