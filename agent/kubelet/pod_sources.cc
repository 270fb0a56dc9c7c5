#include "agent/kubelet/pod_sources.h"

#include "api/object.h"
#include "api/resources.h"

namespace kite::kubelet {

bool IsMirrorPod(const boost::json::object& pod) {
  return !api::GetString(pod, {"metadata", "annotations", kConfigMirror}).empty();
}

SourcedPod MergePodSources(const client::ObjectPtr& file, const client::ObjectPtr& api, bool api_synced) {
  SourcedPod out;
  if (file) {
    // The static pod wins over whatever the API has under its name (its mirror pod, or a pod
    // someone created with that name: upstream would run both; one name, one pod here).
    out.kind = SourcedPod::Kind::kRun;
    out.pod = file;
    out.is_static = true;
  } else if (api && !IsMirrorPod(*api)) {
    out.kind = SourcedPod::Kind::kRun;
    out.pod = api;
  } else if (api || api_synced) {
    out.kind = SourcedPod::Kind::kGone;  // a mirror pod without its manifest, or no pod at all
  }
  return out;
}

PodSources::PodSources(FilePodSource* file) : file_(file) {
  if (file_) {
    file_->Subscribe([this](const std::string&, const FilePodSource::PodPtr& pod) {
      for (const auto& s : subscribers_) s(pod);
    });
  }
}

void PodSources::AttachApi(client::InformerFactory& informers) {
  api_ = informers.For(*api::FindResource("", "v1", "pods"));
  client::EventHandler h;
  h.on_add = [this](const client::ObjectPtr& pod) {
    for (const auto& s : subscribers_) s(pod);
  };
  h.on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& pod) {
    for (const auto& s : subscribers_) s(pod);
  };
  h.on_delete = h.on_add;
  api_->AddHandler(std::move(h));
}

void PodSources::Subscribe(OnChange on_change) { subscribers_.push_back(std::move(on_change)); }

SourcedPod PodSources::Get(const std::string& key) const {
  const auto slash = key.find('/');
  client::ObjectPtr api;
  if (api_ && slash != std::string::npos) api = api_->Get(key.substr(0, slash), key.substr(slash + 1));
  return MergePodSources(file_ ? file_->Get(key) : nullptr, api, ApiSynced());
}

client::ObjectPtr PodSources::MirrorOf(const boost::json::object& pod) const {
  if (!api_) return nullptr;
  client::ObjectPtr m = api_->Get(api::Namespace(pod), api::Name(pod));
  if (!m || api::GetString(*m, {"metadata", "annotations", kConfigMirror}) != api::Uid(pod)) return nullptr;
  return m;
}

}  // namespace kite::kubelet
