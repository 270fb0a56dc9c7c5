#include "agent/hollow/node_status_controller.h"

#include <boost/json.hpp>

#include <cstdio>
#include <random>

#include "agent/hollow/backoff.h"
#include "agent/hollow/json_fields.h"
#include "api/time.h"
#include "base/log.h"
#include "client/informer.h"

namespace kite::hollow {
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

json::object& ObjectAt(json::object& o, const char* key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}

// The node's Ready condition ("" without one).
const json::object* ReadyCondition(const json::object& node) {
  const json::value* status = node.if_contains("status");
  const json::value* conds = status && status->is_object() ? status->as_object().if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array()) return nullptr;
  for (const auto& c : conds->as_array()) {
    if (c.is_object() && StringField(c.as_object(), "type") == "Ready") return &c.as_object();
  }
  return nullptr;
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
      present = present || (have.is_object() && StringField(have.as_object(), "key") == StringField(want, "key") &&
                            StringField(have.as_object(), "effect") == StringField(want, "effect"));
    }
    if (!present) taints.push_back(want);
  }
}

}  // namespace

NodeStatusController::NodeStatusController(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                                           NodeLeaseController* leases, std::chrono::milliseconds status_interval,
                                           int workers)
    : Controller("hollow-node-status", workers),
      client_(client),
      tmpl_(tmpl),
      nodes_(nodes),
      leases_(leases),
      interval_(status_interval),
      boot_id_(RandomUuid()) {}

void NodeStatusController::Init(client::InformerFactory& informers) {
  auto check = [this](const client::ObjectPtr& node) {
    const std::string name = client::MetaStr(*node, "name");
    if (!nodes_->Find(name)) return;
    const json::object* ready = ReadyCondition(*node);
    if (!ready || StringField(*ready, "status") == "True") return;
    std::lock_guard<std::mutex> lock(mu_);
    NodeState& st = state_[name];
    if (!st.registered) return;
    st.not_ready_seen = true;
    queue_.Add(name);
  };
  client::EventHandler h;
  h.on_add = check;
  h.on_update = [check](const client::ObjectPtr&, const client::ObjectPtr& node) { check(node); };
  informers.For(Nodes())->AddHandler(std::move(h));
  for (const auto& id : nodes_->nodes()) queue_.Add(id.name);
}

// The caller takes over the not-ready flag; one raised while it works survives PutState.
NodeStatusController::NodeState NodeStatusController::GetState(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeState st = state_[node];
  state_[node].not_ready_seen = false;
  return st;
}

void NodeStatusController::PutState(const std::string& node, const NodeState& st) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool raised_meanwhile = state_[node].not_ready_seen;
  state_[node] = st;
  state_[node].not_ready_seen = st.not_ready_seen || raised_meanwhile;
}

void NodeStatusController::Retry(const std::string& node, NodeState* st, const kite::Status& e, const char* what) {
  KITE_LOG(st->failures == 0 ? 0 : 2) << "node " << node << ": " << what << ": " << e.http_code() << " " << e.reason() << " "
                                      << e.message() << " (retrying)";
  queue_.AddAfter(node, RetryDelay(st->failures++));
}

kite::Result<json::object> NodeStatusController::Register(const NodeIdentity& id, NodeState* st) {
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
    if (const json::object* ready = ReadyCondition(node); ready && StringField(*ready, "status") == "True") {
      if (auto t = api::ParseTime(StringField(*ready, "lastTransitionTime"))) st->transition = *t;
    }
    json::object& labels = ObjectAt(ObjectAt(node, "metadata"), "labels");
    for (const auto& [k, v] : want["metadata"].as_object()["labels"].as_object()) labels[k] = v;
    json::object& spec = ObjectAt(node, "spec");
    MergeTaints(spec, tmpl_->taints);
    if (StringField(spec, "podCIDR").empty()) {  // immutable once set: keep what the node has
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
  nodes_->SetRegistered(id.name, client::MetaStr(node, "uid"), StringField(ObjectAt(node, "spec"), "podCIDR"));
  return node;
}

Status NodeStatusController::Reconcile(const std::string& name) {
  const NodeIdentity* id = nodes_->Find(name);
  if (!id) return Status::Ok();
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
  if (st.not_ready_seen) {  // back to Ready: the conditions change now
    st.transition = now;
    st.not_ready_seen = false;
  }
  json::object patch{{"status", BuildNodeStatus(*tmpl_, *id, st.transition, now, boot_id_)}};
  auto posted = client_->Patch(Nodes(), "", name, client::PatchType::kMerge, json::serialize(patch), "status");
  if (posted.ok()) {
    st.failures = 0;
    queue_.AddAfter(name, interval_);
  } else {
    Retry(name, &st, posted.error(), "status");
  }
  PutState(name, st);
  if (just_registered) {
    leases_->NodeRegistered(name);
    KITE_LOG(1) << "node " << name << ": registered";
    const size_t n = ++registered_;
    if (n == nodes_->nodes().size()) KITE_LOG(0) << "all " << n << " hollow nodes registered";
  }
  return Status::Ok();
}

}  // namespace kite::hollow
