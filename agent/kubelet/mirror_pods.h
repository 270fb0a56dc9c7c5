// MirrorPods: the API's view of a node's static pods (file_pod_source.h), as upstream's kubelet
// keeps mirror pods through its mirror client. Each static pod has in the API a mirror pod of
// the same name and namespace: the static pod without its uid, annotated
// kubernetes.io/config.mirror=<the static pod's uid> and owned by the Node. The pods themselves
// run from the file source whether or not the API server answers (pod_sources.h); this
// controller only needs the API, and catches up when it comes: mirror pods are created for
// static pods that have none, replaced when the manifest changed (another uid), re-created when
// deleted by hand (a deletion under way is finished with grace 0: the static pod keeps running),
// and deleted when their manifest is gone. The pod workers write the status to them.
#pragma once

#include <chrono>
#include <string>

#include "agent/kubelet/file_pod_source.h"
#include "agent/kubelet/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::kubelet {

class MirrorPods final : public client::Controller {
 public:
  // `file` must outlive it; it subscribes to it (before the source starts).
  MirrorPods(const client::Client* client, const NodeSet* nodes, FilePodSource* file,
             std::chrono::milliseconds interval = std::chrono::seconds(20));

  void Init(client::InformerFactory& informers) override;
  // One key: compares the static pods with the mirror pods of our node.
  Status Reconcile(const std::string& key) override;

  // The mirror pod of `static_pod` for the Node of `node_uid` ("": no owner). Pure: for tests.
  static boost::json::object MirrorPod(const boost::json::object& static_pod, const std::string& node_uid);

 private:
  const client::Client* client_;
  const NodeSet* nodes_;
  FilePodSource* const file_;
  const std::chrono::milliseconds interval_;
  client::Informer* pods_ = nullptr;
};

}  // namespace kite::kubelet
