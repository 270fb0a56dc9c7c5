// PodSources: the pods a kubelet runs, merged from its sources as upstream's pod config merges
// the "file" and "api" sources: the static pods of the manifest directory (file_pod_source.h)
// and the pods the API server binds to the node (the pods informer). The pod workers ask it what
// a key ("ns/name") is, and hear from it when any source changes.
//
// The file source answers at once, with or without an API server: a static pod runs before the
// informers have synced, and goes on running, or is replaced or removed as its manifest says,
// while the API server is down. What the API has under a static pod's name is its mirror pod
// (annotation kubernetes.io/config.mirror), never run itself; a mirror pod whose static pod is
// gone is nothing to run (MirrorPods deletes it). Until the API source has synced, a key no
// source has is unknown, not gone: a restarted agent must not kill the containers of API pods it
// simply has not listed yet (upstream waits for all sources to be ready before cleaning up).
//
// Thread-safety: Get from any thread. AttachApi and Subscribe before the sources start.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/kubelet/file_pod_source.h"
#include "client/informer.h"

namespace kite::kubelet {

// The annotations that link a static pod and its mirror pod (upstream's names).
inline constexpr const char kConfigSource[] = "kubernetes.io/config.source";
inline constexpr const char kConfigMirror[] = "kubernetes.io/config.mirror";
inline constexpr const char kConfigHash[] = "kubernetes.io/config.hash";

// What a key is to the pod workers.
struct SourcedPod {
  enum class Kind {
    kRun,      // run `pod`
    kGone,     // nothing runs under this key: what the runtime has of it goes
    kUnknown,  // the API source has not synced and no other source has it: ask again later
  };
  Kind kind = Kind::kUnknown;
  client::ObjectPtr pod;
  bool is_static = false;  // `pod` is a static pod (its status goes to its mirror pod)
};

// The merge rule, pure (for tests): `file` is the file source's pod of the key (may be null),
// `api` the informer's (may be null), `api_synced` whether the informer has listed.
SourcedPod MergePodSources(const client::ObjectPtr& file, const client::ObjectPtr& api, bool api_synced);

// A mirror pod (the API's copy of a static pod)?
bool IsMirrorPod(const boost::json::object& pod);

class PodSources {
 public:
  using OnChange = std::function<void(const client::ObjectPtr& pod)>;

  // `file` may be null (no static pods: kite-hollow); it must outlive this and is started by
  // its owner.
  explicit PodSources(FilePodSource* file = nullptr);

  // The API source: the pods informer of `informers` (before they start).
  void AttachApi(client::InformerFactory& informers);
  bool api_attached() const { return api_ != nullptr; }
  bool ApiSynced() const { return api_ && api_->HasSynced(); }

  // `on_change(pod)` for every pod any source adds, changes or removes (the last one).
  void Subscribe(OnChange on_change);

  SourcedPod Get(const std::string& key) const;
  // The mirror pod of the static pod `pod` when the API has the one made from this manifest
  // (its kubernetes.io/config.mirror is the pod's uid); null otherwise.
  client::ObjectPtr MirrorOf(const boost::json::object& pod) const;

 private:
  FilePodSource* const file_;
  client::Informer* api_ = nullptr;
  std::vector<OnChange> subscribers_;
};

}  // namespace kite::kubelet
