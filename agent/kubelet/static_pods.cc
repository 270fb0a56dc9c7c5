#include "agent/kubelet/static_pods.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "api/object.h"
#include "api/resources.h"
#include "api/yaml_json.h"
#include "base/log.h"
#include "base/pki.h"

namespace kite::kubelet {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char kSource[] = "kubernetes.io/config.source";
constexpr const char kMirror[] = "kubernetes.io/config.mirror";
constexpr const char kKey[] = "static";
constexpr size_t kMaxManifest = 1 << 20;  // a manifest is a pod, not a file system

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

std::string ReadSmall(const fs::path& p, bool* too_big) {
  std::ifstream in(p, std::ios::binary);
  std::string text(kMaxManifest + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  *too_big = text.size() > kMaxManifest;
  return text;
}

}  // namespace

StaticPods::StaticPods(const client::Client* client, const NodeSet* nodes, std::string manifest_dir,
                       std::chrono::milliseconds interval)
    : Controller("static-pods", 1), client_(client), nodes_(nodes), dir_(std::move(manifest_dir)), interval_(interval) {}

void StaticPods::Init(client::InformerFactory& informers) {
  pods_ = informers.For(Pods());
  auto mine = [this](const client::ObjectPtr& p) {
    if (api::GetString(*p, {"metadata", "annotations", kSource}) == "file") queue_.Add(kKey);
  };
  pods_->AddHandler(client::EventHandler{mine, [mine](const client::ObjectPtr&, const client::ObjectPtr& p) { mine(p); },
                                         mine});
  queue_.Add(kKey);
}

Result<json::object> StaticPods::MirrorPod(const std::string& text, const std::string& node, const std::string& node_uid) {
  auto v = api::YamlToJson(text);
  if (!v.ok()) return v.error();
  if (!v->is_object()) return Status(Code::kInvalidArgument, "not an object");
  json::object pod = v->as_object();
  if (api::GetString(pod, "kind") != "Pod" || api::GetString(pod, "apiVersion") != "v1") {
    return Status(Code::kInvalidArgument, "not a v1 Pod");
  }
  const std::string name = api::GetString(pod, {"metadata", "name"});
  if (name.empty()) return Status(Code::kInvalidArgument, "metadata.name: Required value");
  json::object& meta = pod["metadata"].as_object();
  meta["name"] = name + "-" + node;
  if (api::GetString(meta, "namespace").empty()) meta["namespace"] = "default";
  for (const char* k : {"uid", "resourceVersion", "generateName", "creationTimestamp"}) meta.erase(k);
  if (!meta["annotations"].is_object()) meta["annotations"] = json::object{};
  json::object& ann = meta["annotations"].as_object();
  ann[kSource] = "file";
  ann[kMirror] = pki::Sha256Hex(text).substr(0, 32);
  ann["kubernetes.io/config.hash"] = ann[kMirror];
  if (!node_uid.empty()) {
    meta["ownerReferences"] = json::array{json::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node},
                                                       {"uid", node_uid}, {"controller", true}}};
  }
  if (!pod["spec"].is_object()) return Status(Code::kInvalidArgument, "spec: Required value");
  pod["spec"].as_object()["nodeName"] = node;
  pod.erase("status");
  return pod;
}

Status StaticPods::Reconcile(const std::string&) {
  queue_.AddAfter(kKey, interval_);  // the directory has no watch: read it again soon
  const Node& node = nodes_->nodes().front();
  const std::string uid = nodes_->Uid(node.id.name);
  if (uid.empty()) return Status::Ok();  // registered first: mirror pods are owned by the Node

  // What the directory wants: mirror pods by namespace/name.
  std::map<std::string, json::object> want;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string f = e.path().filename().string();
    if (!e.is_regular_file() || f.starts_with(".")) continue;
    if (f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    bool too_big = false;
    const std::string text = ReadSmall(f, &too_big);
    auto pod = too_big ? Result<json::object>(Status(Code::kInvalidArgument, "over 1 MiB"))
                       : MirrorPod(text, node.id.name, uid);
    const std::string file = f.filename().string();
    if (!pod.ok()) {
      if (bad_[file] != pod.error().message()) {
        KITE_LOG(0) << "static pods: " << f.string() << ": " << pod.error().message() << " (skipped)";
        bad_[file] = pod.error().message();
      }
      continue;
    }
    bad_.erase(file);
    want[api::Namespace(*pod) + "/" + api::Name(*pod)] = std::move(*pod);
  }

  // What the API has: mirror pods on our node.
  std::map<std::string, client::ObjectPtr> have;
  for (const auto& p : pods_->List()) {
    if (api::GetString(*p, {"spec", "nodeName"}) != node.id.name) continue;
    if (api::GetString(*p, {"metadata", "annotations", kSource}) != "file") continue;
    have[api::Namespace(*p) + "/" + api::Name(*p)] = p;
  }
  Status first = Status::Ok();
  auto note = [&](const Status& s, const std::string& what) {
    if (!s.ok() && first.ok()) first = s.Annotate(what);
  };
  for (const auto& [key, p] : have) {
    auto w = want.find(key);
    const bool stale = w == want.end() ||
        api::GetString(*p, {"metadata", "annotations", kMirror}) != api::GetString(w->second, {"metadata", "annotations", kMirror});
    if (!stale || !api::GetString(*p, {"metadata", "deletionTimestamp"}).empty()) continue;
    KITE_LOG(1) << "static pods: deleting mirror pod " << key << (w == want.end() ? " (manifest gone)" : " (manifest changed)");
    auto r = client_->Delete(Pods(), api::Namespace(*p), api::Name(*p));
    if (!r.ok() && !r.error().IsNotFound()) note(r.error(), "deleting mirror pod " + key);
  }
  for (const auto& [key, pod] : want) {
    if (have.contains(key)) continue;
    auto r = client_->Create(Pods(), api::Namespace(pod), pod);
    if (r.ok()) KITE_LOG(0) << "static pods: mirror pod " << key << " created";
    else if (!r.error().IsAlreadyExists()) note(r.error(), "creating mirror pod " + key);
  }
  return first;
}

}  // namespace kite::kubelet
