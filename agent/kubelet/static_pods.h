// StaticPods: the pods of a node's manifest directory (<data-dir>/agent/pod-manifests/, as k3s's
// agent/pod-manifests), each shown in the API as a mirror pod, as upstream's kubelet does for its
// file source: a manifest `foo` on node `n` is the pod `foo-n` in its namespace (default
// "default"), bound to the node, annotated kubernetes.io/config.source=file,
// kubernetes.io/config.mirror=<hash of the manifest> and owned by the Node. A mirror pod
// deleted by hand comes back; an edited manifest replaces it; a removed manifest deletes it. The
// pod workers then run it like any pod bound to the node.
// Difference from upstream (said in docs/architecture/kubelet.md): the pod runs through its
// mirror, so a static pod starts only once the API server answers (upstream's starts without it).
// The directory is read every `interval` and whenever a mirror pod changes; a manifest that
// does not parse is one log line (with the file) and is skipped.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agent/kubelet/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::kubelet {

class StaticPods final : public client::Controller {
 public:
  StaticPods(const client::Client* client, const NodeSet* nodes, std::string manifest_dir,
             std::chrono::milliseconds interval = std::chrono::seconds(5));

  void Init(client::InformerFactory& informers) override;
  // One key, the directory: compares the manifests with the mirror pods of our node.
  Status Reconcile(const std::string& key) override;

  // The mirror pod a manifest's text makes for `node` (name, namespace, nodeName, annotations);
  // InvalidArgument for what is not a Pod manifest. Pure: for tests.
  static Result<boost::json::object> MirrorPod(const std::string& text, const std::string& node,
                                               const std::string& node_uid);

 private:
  const client::Client* client_;
  const NodeSet* nodes_;
  const std::string dir_;
  const std::chrono::milliseconds interval_;
  client::Informer* pods_ = nullptr;
  std::map<std::string, std::string> bad_;  // file → the error last logged (log once per change)
};

}  // namespace kite::kubelet
