#include "agent/kubelet/mirror_pods.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "agent/kubelet/pod_sources.h"
#include "api/object.h"
#include "api/resources.h"
#include "base/log.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

constexpr const char kKey[] = "mirror";

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

}  // namespace

MirrorPods::MirrorPods(const client::Client* client, const NodeSet* nodes, FilePodSource* file,
                       std::chrono::milliseconds interval)
    : Controller("mirror-pods", 1), client_(client), nodes_(nodes), file_(file), interval_(interval) {
  file_->Subscribe([this](const std::string&, const FilePodSource::PodPtr&) { queue_.Add(kKey); });
}

void MirrorPods::Init(client::InformerFactory& informers) {
  pods_ = informers.For(Pods());
  auto mine = [this](const client::ObjectPtr& p) {
    if (api::GetString(*p, {"metadata", "annotations", kConfigSource}) == "file") queue_.Add(kKey);
  };
  pods_->AddHandler(client::EventHandler{mine, [mine](const client::ObjectPtr&, const client::ObjectPtr& p) { mine(p); },
                                         mine});
  queue_.Add(kKey);
}

json::object MirrorPods::MirrorPod(const json::object& static_pod, const std::string& node_uid) {
  json::object pod = static_pod;
  json::object& meta = pod["metadata"].as_object();
  const std::string uid = api::Uid(static_pod);
  meta.erase("uid");
  if (!meta["annotations"].is_object()) meta["annotations"] = json::object{};
  meta["annotations"].as_object()[kConfigMirror] = uid;
  if (!node_uid.empty()) {
    meta["ownerReferences"] = json::array{json::object{{"apiVersion", "v1"},
                                                       {"kind", "Node"},
                                                       {"name", api::GetString(static_pod, {"spec", "nodeName"})},
                                                       {"uid", node_uid},
                                                       {"controller", true}}};
  }
  pod.erase("status");
  return pod;
}

Status MirrorPods::Reconcile(const std::string&) {
  queue_.AddAfter(kKey, interval_);  // a safety net: every change is an event
  const Node& node = nodes_->nodes().front();
  const std::string node_uid = nodes_->Uid(node.id.name);
  if (node_uid.empty()) {
    // Mirror pods are owned by the Node: look again soon, not only at the 20 s safety net (the
    // node registers within a second or two of the start).
    queue_.AddAfter(kKey, std::min<std::chrono::milliseconds>(interval_, std::chrono::seconds(1)));
    return Status::Ok();
  }

  std::map<std::string, FilePodSource::PodPtr> want;
  for (const auto& p : file_->List()) want[api::Namespace(*p) + "/" + api::Name(*p)] = p;
  std::map<std::string, client::ObjectPtr> have;  // mirror pods on our node
  for (const auto& p : pods_->List()) {
    if (api::GetString(*p, {"spec", "nodeName"}) != node.id.name || !IsMirrorPod(*p)) continue;
    have[api::Namespace(*p) + "/" + api::Name(*p)] = p;
  }

  Status first = Status::Ok();
  auto note = [&](const Status& s, const std::string& what) {
    if (!s.ok() && first.ok()) first = s.Annotate(what);
  };
  for (const auto& [key, p] : have) {
    auto w = want.find(key);
    const char* why = w == want.end()                                                    ? "manifest gone"
                      : api::GetString(*p, {"metadata", "annotations", kConfigMirror}) != api::Uid(*w->second)
                          ? "manifest changed"
                      : api::IsBeingDeleted(*p) ? "deleted by hand"
                                                : nullptr;
    if (!why) continue;
    // At once: a mirror pod has no containers of its own to wait for (the static pod's run on).
    KITE_LOG(1) << "static pods: deleting mirror pod " << key << " (" << why << ")";
    client::DeleteParams dp;
    dp.grace_period_seconds = 0;
    dp.precondition_uid = api::Uid(*p);
    auto r = client_->Delete(Pods(), api::Namespace(*p), api::Name(*p), dp);
    if (!r.ok() && !r.error().IsNotFound() && r.error().http_code() != 409) note(r.error(), "deleting mirror pod " + key);
  }
  for (const auto& [key, pod] : want) {
    if (have.contains(key)) continue;  // up to date, or just deleted: its DELETED event brings us back
    auto r = client_->Create(Pods(), api::Namespace(*pod), MirrorPod(*pod, node_uid));
    if (r.ok()) KITE_LOG(0) << "static pods: mirror pod " << key << " created";
    else if (!r.error().IsAlreadyExists()) note(r.error(), "creating mirror pod " + key);
  }
  return first;
}

}  // namespace kite::kubelet
