// FilePodSource: the static pods of a node's manifest directory (<data-dir>/agent/pod-manifests/,
// as k3s's agent/pod-manifests), upstream's kubelet "file" pod source. It needs no API server:
// the pod workers run its pods straight from here (pod_sources.h), and MirrorPods shows them in
// the API as mirror pods once there is one.
//
// A manifest `foo` (a v1 Pod, YAML or JSON, *.yaml / *.yml / *.json, not hidden) on node `n` is
// the pod `foo-n` in its namespace (default "default"), bound to `n`, with the API server's
// defaults applied, annotated kubernetes.io/config.source=file and kubernetes.io/config.hash=<uid>.
// Its uid is a hash of the manifest and the node name: the same on every start (a restarted
// agent adopts the containers that run), another one when the manifest changes (the pod workers
// then replace the old pod's containers).
//
// The directory is watched with inotify and read again every `interval` anyway (a missed event,
// a file system without inotify). A manifest that does not parse is one log line (once per
// change) and is skipped; two manifests naming the same pod: the first file (by name) wins.
// Thread-safety: Get and List from any thread. Subscribers are called on the source's thread
// (or Start's caller for the first read), one key at a time; they should only enqueue.
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace kite::kubelet {

class FilePodSource {
 public:
  using PodPtr = std::shared_ptr<const boost::json::object>;
  // `on_change(key, pod)`: the static pod of `key` ("ns/name") was added or changed (`pod` is
  // the new one) or removed (`pod` is the last one).
  using OnChange = std::function<void(const std::string& key, const PodPtr& pod)>;

  FilePodSource(std::string dir, std::string node_name, std::chrono::milliseconds interval = std::chrono::seconds(20));
  ~FilePodSource();  // Stop()

  // Before Start.
  void Subscribe(OnChange on_change);
  // Reads the directory once (so the first pods are there when it returns), then watches it.
  void Start();
  void Stop();

  PodPtr Get(const std::string& key) const;
  std::vector<PodPtr> List() const;
  const std::string& dir() const { return dir_; }

  // Reads the directory now and tells the subscribers what changed (Start's first read; tests).
  void Scan();

  // The static pod a manifest's text makes on `node`; InvalidArgument for what is not a v1 Pod
  // manifest. Pure: for tests.
  static Result<boost::json::object> StaticPod(const std::string& text, const std::string& node);

 private:
  void Watch();

  const std::string dir_, node_;
  const std::chrono::milliseconds interval_;
  std::vector<OnChange> subscribers_;  // set before Start; read-only after
  mutable std::mutex mu_;              // guards pods_
  std::map<std::string, PodPtr> pods_;  // by "ns/name"
  std::map<std::string, std::string> bad_;  // file → the error last logged; Scan's caller only
  int inotify_ = -1, wake_ = -1;  // the inotify fd and an eventfd that ends the watch
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kite::kubelet
