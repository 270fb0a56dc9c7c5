// The fixture of the pod workers' tests (pod_workers_test.cc: a pod's life;
// pod_workers_admit_test.cc: admission, adoption, ephemeral containers, status writes): the pod
// workers and the status manager over kite-hollow's fake runtime, against a real in-process API
// server (local transport).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/pod_workers.h"
#include "agent/kubelet/status_manager.h"
#include "api/object.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "tests/unit/eventually.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::kubelet::testing_pod_workers {

namespace json = boost::json;
using namespace std::chrono_literals;
using kite::testing::Eventually;

inline const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
inline const api::ResourceInfo& Events() { return *api::FindResource("", "v1", "events"); }

inline json::object Container(const std::string& name, const std::string& image = "nginx:1.26") {
  return json::object{{"name", name}, {"image", image}};
}

inline json::object Pod(const std::string& name, const std::string& restart_policy, json::array containers,
                 json::array init = json::array{Container("init", "busybox")}) {
  json::object spec{{"nodeName", "n-0"}, {"restartPolicy", restart_policy}, {"containers", std::move(containers)}};
  if (!init.empty()) spec["initContainers"] = std::move(init);
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", json::object{{"name", name}, {"namespace", "default"}}},
                      {"spec", std::move(spec)}};
}

inline json::object Pod(const std::string& name, const std::string& restart_policy) {
  return Pod(name, restart_policy, json::array{Container("main")});
}

inline json::object ExecProbe(int failure_threshold = 1) {
  return json::object{{"exec", json::object{{"command", json::array{"check"}}}},
                      {"periodSeconds", 1},
                      {"failureThreshold", failure_threshold}};
}

class PodWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<testing::InProcessApiServer>();
    ASSERT_NO_FATAL_FAILURE(api_->Start());
    client_ = api_->AdminClient();
    // Init containers named init exit 0 at once, containers of pods named job-* after 100 ms;
    // the others run until stopped (or made to exit by a test).
    runtime_ = std::make_unique<hollow::HollowRuntime>(
        "10.64.0.0/24", [](const cri::PodSandboxMetadata& pod, const std::string& container)
                            -> std::optional<std::chrono::milliseconds> {
          if (container == "init") return 0ms;
          if (pod.name.rfind("job-", 0) == 0) return 100ms;
          return std::nullopt;
        });
    nodes_ = std::make_unique<NodeSet>(std::vector<Node>{TestNode()});
    status_ = std::make_unique<StatusManager>(client_.get());
    events_ = std::make_unique<client::EventRecorder>(client_.get(), "kubelet", "n-0");
  }
  void TearDown() override {
    StopWorkers();
    events_.reset();
    client_.reset();
    api_.reset();
  }

  Node TestNode() {
    Node n;
    n.id = NodeIdentity{0, "n-0", "10.200.0.1", "10.64.0.0/24"};
    n.runtime = runtime_.get();
    n.images = runtime_.get();
    return n;
  }
  static PodWorkers::Options FastOptions() {
    PodWorkers::Options po;
    po.relist_period = 20ms;
    po.workers = 2;
    po.backoff_initial = 500ms;
    po.backoff_max = 1s;
    return po;
  }
  void StartWorkers(PodWorkers::Options po = FastOptions(), PodWorkers::AdmitHandler admit = nullptr) {
    informers_ = std::make_unique<client::InformerFactory>(client_.get());
    runner_ = std::make_unique<client::ControllerRunner>(informers_.get(), 2);
    auto w = std::make_unique<PodWorkers>(nodes_.get(), status_.get(), events_.get(), po);
    if (admit) w->AddAdmitHandler(std::move(admit));
    workers_ = w.get();
    runner_->Add(std::move(w));
    ASSERT_TRUE(runner_->Start(10s));
  }
  void StopWorkers() {
    // Informers first, as the agent stops (agent.cc): an event delivered after the runner freed
    // the PodWorkers would call into it (its source subscription holds `this`).
    if (informers_) informers_->Stop();
    runner_.reset();
    informers_.reset();
    workers_ = nullptr;
  }

  std::string Create(const json::object& pod) {
    auto created = client_->Create(Pods(), "default", pod);
    EXPECT_TRUE(created.ok()) << created.error().message();
    return created.ok() ? api::Uid(*created) : "";
  }
  json::object Get(const std::string& name) {
    auto got = client_->Get(Pods(), "default", name);
    return got.ok() ? got.value() : json::object();
  }
  std::string Phase(const std::string& name) { return api::GetString(Get(name), {"status", "phase"}); }
  // The status of container `i` of the pod (containerStatuses, or initContainerStatuses).
  json::object CStatus(const std::string& name, size_t i = 0, const char* list = "containerStatuses") {
    const json::object pod = Get(name);
    const json::array& a = api::GetArray(pod, {"status", list});
    return i < a.size() && a[i].is_object() ? a[i].as_object() : json::object();
  }
  std::string Waiting(const std::string& name, size_t i = 0) {
    return api::GetString(CStatus(name, i), {"state", "waiting", "reason"});
  }
  bool IsRunning(const std::string& name, size_t i = 0) {
    return api::FindObject(api::GetObject(CStatus(name, i), "state"), "running") != nullptr;
  }
  int64_t Restarts(const std::string& name, size_t i = 0) { return api::GetInt(CStatus(name, i), "restartCount"); }
  std::string Condition(const std::string& name, const char* type) {
    const json::object pod = Get(name);
    for (const auto& c : api::GetArray(pod, {"status", "conditions"})) {
      if (c.is_object() && api::GetString(c.as_object(), "type") == type) return api::GetString(c.as_object(), "status");
    }
    return "";
  }
  size_t Sandboxes(const std::string& uid) {
    cri::PodSandboxFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}};
    return runtime_->ListPodSandbox(f)->size();
  }
  // Sandboxes of the pod still ready (a finished pod's are stopped, and kept for its logs).
  size_t ReadySandboxes(const std::string& uid) {
    cri::PodSandboxFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}};
    size_t n = 0;
    const auto list = runtime_->ListPodSandbox(f);  // named: a range over *temporary would dangle
    for (const auto& sb : *list) n += sb.state == cri::PodSandboxState::kReady;
    return n;
  }
  // The newest runtime container of `name` in the pod.
  std::string ContainerId(const std::string& uid, const std::string& name) {
    cri::ContainerFilter f;
    f.label_selector = {{"io.kubernetes.pod.uid", uid}, {"io.kubernetes.container.name", name}};
    std::string id;
    uint32_t attempt = 0;
    const auto list = runtime_->ListContainers(f);
    for (const auto& c : *list) {
      if (id.empty() || c.metadata.attempt >= attempt) {
        id = c.id;
        attempt = c.metadata.attempt;
      }
    }
    return id;
  }
  bool IsRunningInRuntime(const std::string& uid, const std::string& name) {
    const std::string id = ContainerId(uid, name);
    if (id.empty()) return false;
    auto st = runtime_->ContainerStatus(id);
    return st.ok() && st->state == cri::ContainerState::kRunning;
  }
  // "Reason: message" of every Event about the pod.
  std::vector<std::string> EventsAbout(const std::string& uid) {
    std::vector<std::string> out;
    auto list = client_->List(Events(), "default");
    if (!list.ok()) return out;
    for (const auto& e : api::GetArray(*list, "items")) {
      if (!e.is_object() || api::GetString(e.as_object(), {"involvedObject", "uid"}) != uid) continue;
      out.push_back(api::GetString(e.as_object(), "reason") + ": " + api::GetString(e.as_object(), "message"));
    }
    return out;
  }
  bool HasEvent(const std::string& uid, const std::string& text) {
    for (const auto& e : EventsAbout(uid)) {
      if (e == text) return true;
    }
    return false;
  }

  std::unique_ptr<testing::InProcessApiServer> api_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<hollow::HollowRuntime> runtime_;
  std::unique_ptr<NodeSet> nodes_;
  std::unique_ptr<StatusManager> status_;
  std::unique_ptr<client::EventRecorder> events_;
  std::unique_ptr<client::InformerFactory> informers_;
  std::unique_ptr<client::ControllerRunner> runner_;
  PodWorkers* workers_ = nullptr;
};

}  // namespace kite::kubelet::testing_pod_workers
