#include "agent/kubelet/node_status_manager.h"

#include <boost/json.hpp>

#include <cstdio>
#include <random>

#include "agent/kubelet/backoff.h"
#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "client/informer.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

const api::ResourceInfo& Nodes() { return *api::FindResource("", "v1", "nodes"); }

std::string RandomUuid() {
  std::random_device rd;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%04x%08x", rd(), rd() & 0xffff, rd() & 0xfff,
                (rd() & 0x3fff) | 0x8000, rd() & 0xffff, rd());
  return buf;
}

// The node's Ready condition (nullptr without one).
const json::object* ReadyCondition(const json::object& node) {
  return api::FindCondition(api::GetObject(node, "status"), "Ready");
}

// Adds `ours` to the node's spec.taints, keeping its own (a taint is its key and effect).
void MergeTaints(json::object& spec, const json::array& ours) {
  if (ours.empty()) return;
  json::value& tv = spec["taints"];
  if (!tv.is_array()) tv = json::array();
  json::array& taints = tv.as_array();
  for (const auto& t : ours) {
    const auto& want = t.as_object();
    bool present = false;
    for (const auto& have : taints) {
      present = present || (have.is_object() && api::GetString(have.as_object(), "key") == api::GetString(want, "key") &&
                            api::GetString(have.as_object(), "effect") == api::GetString(want, "effect"));
    }
    if (!present) taints.push_back(want);
  }
}

}  // namespace

NodeStatusManager::NodeStatusManager(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                                           NodeLeaseController* leases, std::chrono::milliseconds status_interval,
                                           int workers)
    : Controller("node-status", workers),
      client_(client),
      tmpl_(tmpl),
      nodes_(nodes),
      leases_(leases),
      interval_(status_interval),
      boot_id_(RandomUuid()) {}

void NodeStatusManager::Init(client::InformerFactory& informers) {
  auto check = [this](const client::ObjectPtr& node) {
    const std::string name = api::Name(*node);
    if (!nodes_->Find(name)) return;
    const std::string cidr = api::GetString(api::GetObject(*node, "spec"), "podCIDR");
    const json::object* ready = ReadyCondition(*node);
    bool new_cidr = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      NodeState& st = state_[name];
      if (!st.registered) return;
      if (!cidr.empty() && cidr != st.pod_cidr) {  // assigned by the server after registration
        st.pod_cidr = cidr;
        new_cidr = true;
      }
      // What we posted last is what the Node should show; anything else (the node lifecycle
      // controller's Unknown) is repaired at once.
      const std::string want = st.last[3] == 0 ? "False" : "True";
      if (ready && api::GetString(*ready, "status") != want) {
        st.not_ready_seen = true;
        queue_.Add(name);
      }
    }
    // The runtime call outside the lock (a CRI runtime answers over gRPC).
    if (new_cidr) nodes_->SetRegistered(name, api::Uid(*node), cidr);
  };
  client::EventHandler h;
  h.on_add = check;
  h.on_update = [check](const client::ObjectPtr&, const client::ObjectPtr& node) { check(node); };
  node_informer_ = informers.For(Nodes());
  node_informer_->AddHandler(std::move(h));
  for (const auto& n : nodes_->nodes()) queue_.Add(n.id.name);
}

// The caller takes over the not-ready flag; one raised while it works survives PutState.
NodeStatusManager::NodeState NodeStatusManager::GetState(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState st = state_[node];
  state_[node].not_ready_seen = false;
  return st;
}

void NodeStatusManager::PutState(const std::string& node, const NodeState& st) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool raised_meanwhile = state_[node].not_ready_seen;
  const std::string cidr = state_[node].pod_cidr;  // the informer's handler may have seen a newer one
  state_[node] = st;
  if (state_[node].pod_cidr.empty()) state_[node].pod_cidr = cidr;
  state_[node].not_ready_seen = st.not_ready_seen || raised_meanwhile;
}

void NodeStatusManager::Retry(const std::string& node, NodeState* st, const kite::Status& e, const char* what) {
  KITE_LOG(st->failures == 0 ? 0 : 2) << "node " << node << ": " << what << ": " << e.http_code() << " " << e.reason() << " "
                                      << e.message() << " (retrying)";
  queue_.AddAfter(node, RetryDelay(st->failures++));
}

kite::Result<json::object> NodeStatusManager::Register(const NodeIdentity& id, NodeState* st) {
  json::object want = BuildNode(*tmpl_, id);
  auto created = client_->Create(Nodes(), "", want);
  json::object node;
  st->transition = WallClock::now();
  if (created.ok()) {
    node = std::move(created.value());
  } else if (created.AlreadyExists()) {
    auto got = client_->Get(Nodes(), "", id.name);
    if (!got.ok()) return got;
    node = std::move(got.value());
    // A node Ready since before our start keeps its transition time, as a restarted kubelet's does.
    if (const json::object* ready = ReadyCondition(node); ready && api::GetString(*ready, "status") == "True") {
      if (auto t = api::ParseTime(api::GetString(*ready, "lastTransitionTime"))) st->transition = *t;
    }
    json::object& labels = api::MutableObject(api::MutableObject(node, "metadata"), "labels");
    for (const auto& [k, v] : want["metadata"].as_object()["labels"].as_object()) labels[k] = v;
    json::object& spec = api::MutableObject(node, "spec");
    MergeTaints(spec, tmpl_->taints);
    if (api::GetString(spec, "podCIDR").empty()) {  // immutable once set: keep what the node has
      spec["podCIDR"] = id.pod_cidr;
      spec["podCIDRs"] = json::array{json::string(id.pod_cidr)};
    }
    auto updated = client_->Update(Nodes(), "", node);
    if (!updated.ok()) return updated;
    node = std::move(updated.value());
    KITE_LOG(1) << "node " << id.name << ": took over the existing Node";
  } else {
    return created;
  }
  st->pod_cidr = api::GetString(api::MutableObject(node, "spec"), "podCIDR");
  nodes_->SetRegistered(id.name, api::Uid(node), st->pod_cidr);
  return node;
}

NodeHealth NodeStatusManager::Measure(const Node& node) {
  NodeHealth h = pressure_ ? pressure_(node) : NodeHealth{};
  if (!h.not_ready.empty()) return h;
  // The runtime's readiness, worded as upstream's kubelet words it.
  auto conditions = node.runtime->RuntimeStatus();
  if (!conditions.ok()) {
    h.not_ready = "container runtime is down: " + conditions.status().message();
    return h;
  }
  for (const auto& c : *conditions) {
    if (c.status) continue;
    if (c.type == "RuntimeReady") {
      h.not_ready = "container runtime not ready: RuntimeReady=false reason:" + c.reason + " message:" + c.message;
      return h;
    }
    if (c.type == "NetworkReady") {
      h.not_ready = "container runtime network not ready: NetworkReady=false reason:" + c.reason + " message:" + c.message;
    }
  }
  return h;
}

Status NodeStatusManager::Reconcile(const std::string& name) {
  const Node* n = nodes_->Find(name);
  if (!n) return Status::Ok();
  const NodeIdentity* id = &n->id;
  NodeState st = GetState(name);
  bool just_registered = false;
  if (!st.registered) {
    auto reg = Register(*id, &st);
    if (!reg.ok()) {
      Retry(name, &st, reg.error(), "register");
      PutState(name, st);
      return Status::Ok();
    }
    st.registered = just_registered = true;
    st.failures = 0;
  }
  const auto now = WallClock::now();
  if (just_registered) st.since.fill(st.transition);
  // Level-triggered too: the handler above misses a CIDR assigned before registration finished.
  if (client::ObjectPtr cached = node_informer_ ? node_informer_->Get("", name) : nullptr) {
    const std::string cidr = api::GetString(*cached, {"spec", "podCIDR"});
    if (!cidr.empty() && cidr != st.pod_cidr) {
      st.pod_cidr = cidr;
      nodes_->SetRegistered(name, api::Uid(*cached), cidr);
    }
  }
  const NodeHealth health = Measure(*n);
  const std::array<int, 4> values{health.memory_pressure, health.disk_pressure, health.pid_pressure,
                                  health.not_ready.empty()};
  for (size_t i = 0; i < values.size(); ++i) {
    if (st.last[i] != -1 && st.last[i] != values[i]) st.since[i] = now;
    st.last[i] = values[i];
  }
  const bool repair = st.not_ready_seen;  // the Node shows another Ready than ours: post now
  if (repair) st.since[3] = now;         // back from Unknown: a transition
  st.not_ready_seen = false;
  if (health.not_ready != st.not_ready) {
    KITE_LOG(0) << "node " << name << (health.not_ready.empty() ? ": Ready" : ": NotReady: " + health.not_ready);
    st.not_ready = health.not_ready;
  }
  // A node that is not Ready looks again within a second (a runtime that is starting, a CNI
  // config just written): it must not sit NotReady for a whole status interval once it is fine.
  const auto next = health.not_ready.empty() ? interval_ : std::min(interval_, std::chrono::milliseconds(1000));
  // Unchanged but for the heartbeat, and reported recently: nothing to write.
  const std::string shape = json::serialize(BuildNodeStatus(*tmpl_, *id, health, st.since, WallClock::time_point{}, boot_id_));
  if (!just_registered && !repair && shape == st.posted_shape && now - st.posted_at < report_interval_) {
    queue_.AddAfter(name, next);
    PutState(name, st);
    return Status::Ok();
  }
  json::object patch{{"status", BuildNodeStatus(*tmpl_, *id, health, st.since, now, boot_id_)}};
  auto posted = client_->Patch(Nodes(), "", name, client::PatchType::kMerge, json::serialize(patch), "status");
  if (posted.ok()) {
    st.failures = 0;
    st.posted_shape = shape;
    st.posted_at = now;
    queue_.AddAfter(name, next);
  } else {
    Retry(name, &st, posted.error(), "status");
  }
  PutState(name, st);
  if (just_registered) {
    leases_->NodeRegistered(name);
    KITE_LOG(1) << "node " << name << ": registered";
    const size_t n = ++registered_;
    if (n == nodes_->nodes().size()) KITE_LOG(0) << "all " << n << " nodes registered";
  }
  return Status::Ok();
}

}  // namespace kite::kubelet
