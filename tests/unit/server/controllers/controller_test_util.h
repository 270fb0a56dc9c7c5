// The fixture every controller's Reconcile test shares: a controller built by its factory over a
// Client on the fake API (client/testing/fake_transport.h) and a FakeClock, its informers synced
// from that fake, and helpers to seed objects and read back what the controller did.
//
// The flow of a case: seed objects with Seed(), Start(NewXController(client(), …, &clock_)),
// Reconcile("ns/name"), then assert on fake().Writes(…) and on the stored objects. Settle()
// waits until the informers saw the controller's own writes (before a second Reconcile).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/resources.h"
#include "base/testing/fake_clock.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/testing/fake_transport.h"

namespace kite::controllers::testing {

namespace json = boost::json;
using client::testing::Action;

inline json::object J(std::string_view text) { return json::parse(text).as_object(); }

inline const api::ResourceInfo& R(const char* group, const char* version, const char* resource) {
  const api::ResourceInfo* r = api::FindResource(group, version, resource);
  if (!r) throw std::invalid_argument(std::string("no resource ") + resource);
  return *r;
}
inline const api::ResourceInfo& Pods() { return R("", "v1", "pods"); }

inline std::string Name(const json::object& o) {
  const auto& m = o.at("metadata").as_object();
  auto* n = m.if_contains("name");
  return n && n->is_string() ? std::string(n->as_string()) : "";
}

inline std::vector<std::string> Names(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.name.empty() ? Name(a.object) : a.name);
  return out;
}

// A value at a dotted path ("status.replicas"), or null.
inline json::value At(const json::object& o, std::string_view path) {
  const json::value* cur = nullptr;
  const json::object* obj = &o;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    cur = obj->if_contains(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur) return nullptr;
    if (dot == std::string_view::npos) return *cur;
    if (!cur->is_object()) return nullptr;
    obj = &cur->as_object();
    start = dot + 1;
  }
}

// A controller ownerReference to `owner` (as controllers write them).
inline json::object ControllerRef(const json::object& owner) {
  const auto& m = owner.at("metadata").as_object();
  return json::object{{"apiVersion", owner.at("apiVersion")}, {"kind", owner.at("kind")}, {"name", m.at("name")},
                      {"uid", m.at("uid")}, {"controller", true}, {"blockOwnerDeletion", true}};
}

// A pod as a test needs it: Pod("web-1").Labels(R"({"app":"web"})").Owner(rs).Ready().Node("n1").
struct Pod {
  // An existing pod to build on (Pod(*cached).Deleting()).
  explicit Pod(json::object pod) : o(std::move(pod)) {}
  explicit Pod(const std::string& name, const std::string& ns = "default")
      : o(J(R"({"apiVersion":"v1","kind":"Pod","metadata":{"labels":{}},
               "spec":{"containers":[{"name":"c","image":"busybox"}]},"status":{"phase":"Running"}})")) {
    meta()["name"] = name;
    meta()["namespace"] = ns;
  }
  json::object& meta() { return o["metadata"].as_object(); }
  json::object& spec() { return o["spec"].as_object(); }
  json::object& status() { return o["status"].as_object(); }
  Pod& Labels(std::string_view labels) {
    meta()["labels"] = J(labels);
    return *this;
  }
  Pod& Owner(const json::object& owner) {
    meta()["ownerReferences"] = json::array{ControllerRef(owner)};
    return *this;
  }
  Pod& Node(const std::string& node) {
    spec()["nodeName"] = node;
    return *this;
  }
  Pod& Phase(const std::string& phase) {
    status()["phase"] = phase;
    return *this;
  }
  Pod& Ready(bool ready = true, const std::string& since = "2025-12-31T00:00:00Z") {
    status()["conditions"] = json::array{json::object{
        {"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", since}}};
    return *this;
  }
  Pod& Ip(const std::string& ip) {
    status()["podIP"] = ip;
    return *this;
  }
  Pod& Created(const std::string& when) {
    meta()["creationTimestamp"] = when;
    return *this;
  }
  Pod& Uid(const std::string& uid) {
    meta()["uid"] = uid;
    return *this;
  }
  Pod& Deleting(const std::string& since = "2026-01-01T00:00:00Z") {
    meta()["deletionTimestamp"] = since;
    return *this;
  }
  // A named TCP port on the pod's (first) container.
  Pod& Port(const std::string& name, int64_t container_port) {
    json::object& c = spec()["containers"].as_array()[0].as_object();
    if (!c["ports"].is_array()) c["ports"] = json::array();
    c["ports"].as_array().push_back(json::object{{"name", name}, {"containerPort", container_port}});
    return *this;
  }
  operator json::object() const { return o; }  // NOLINT: a builder
  // As the informer's cache holds it.
  client::ObjectPtr Shared() const { return std::make_shared<const json::object>(o); }
  json::object o;
};

// The pod and the Service the endpoint helpers are tested on: a pod of app "web" on node n1 at
// `ip`, serving the named port "http" on `container_port`; a Service selecting app "web" with
// `ports` (JSON), by default "http" → the pods' "http" port.
inline client::ObjectPtr EndpointPod(const std::string& name, const std::string& ip, bool ready,
                                     int64_t container_port = 8080) {
  return Pod(name).Uid("u-" + name).Labels(R"({"app":"web"})").Node("n1").Ip(ip).Ready(ready).Port("http", container_port).Shared();
}
inline json::object ServiceWithPorts(
    const std::string& ports = R"([{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}])") {
  return J(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default","uid":"u-svc"},
    "spec":{"selector":{"app":"web"},"clusterIP":"10.43.0.5","ports":)" + ports + "}}");
}

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() : fake_(std::make_shared<client::testing::FakeTransport>(&clock_)), client_(fake_) {}
  ~ControllerTest() override {
    informers_.reset();  // stops the streams (and handler calls) before the controller goes
    controller_.reset();
  }

  const client::Client* client() const { return &client_; }
  client::testing::FakeTransport& fake() { return *fake_; }
  client::Controller& controller() { return *controller_; }

  // Stores an object (apiVersion and kind name its resource) as the API server would.
  json::object Seed(std::string_view text) { return fake_->Add(J(text)); }
  json::object Seed(json::object obj) { return fake_->Add(std::move(obj)); }

  // Init with an InformerFactory on the same client, start it, wait for the caches; the actions
  // recorded so far (seeding, lists, watches) are cleared.
  void Start(std::unique_ptr<client::Controller> c) {
    controller_ = std::move(c);
    informers_ = std::make_unique<client::InformerFactory>(&client_);
    controller_->Init(*informers_);
    informers_->Start();
    ASSERT_TRUE(informers_->WaitForSync(std::chrono::seconds(10)));
    fake_->WaitForIdle();
    fake_->ClearActions();
  }

  Status Reconcile(const std::string& key) { return controller_->Reconcile(key); }

  // Reconciles `key` and lets the informers catch up, up to `rounds` times, until `done()` holds
  // (a controller that writes in steps, e.g. status before finalizers); false if it never did.
  template <typename F>
  bool ReconcileUntil(const std::string& key, F done, int rounds = 6) {
    for (int i = 0; i < rounds; ++i) {
      Status s = Reconcile(key);
      Settle();
      if (done()) return true;
      if (!s.ok()) ADD_FAILURE() << "Reconcile(" << key << "): " << s.message();
    }
    return false;
  }

  // Waits until every change so far reached the informers (and so the controller's caches).
  void Settle() {
    fake_->WaitForIdle();
    ASSERT_TRUE(informers_->WaitForSync(std::chrono::seconds(10)));
    fake_->WaitForIdle();
  }

  // Writes of the status subresource of `resource`, whatever verb carried them.
  std::vector<Action> StatusWrites(const std::string& resource) const {
    std::vector<Action> out;
    for (auto& a : fake_->Writes()) {
      if (a.resource == resource && a.subresource == "status") out.push_back(std::move(a));
    }
    return out;
  }

  // Writes of `resource` (any verb), e.g. to count patches and updates together.
  std::vector<Action> WritesOf(const std::string& resource) const {
    std::vector<Action> out;
    for (auto& a : fake_->Writes()) {
      if (a.resource == resource) out.push_back(std::move(a));
    }
    return out;
  }

  // Reasons of the events the controller recorded (core/v1 or events.k8s.io/v1 creates).
  std::vector<std::string> EventReasons() const {
    std::vector<std::string> out;
    for (const auto& a : fake_->Writes()) {
      if (a.resource != "events" || a.verb != "create" || !a.body.is_object()) continue;
      auto* r = a.body.as_object().if_contains("reason");
      if (r && r->is_string()) out.emplace_back(r->as_string());
    }
    return out;
  }

  json::object Stored(const api::ResourceInfo& r, const std::string& ns, const std::string& name) {
    auto o = fake_->Get(r, ns, name);
    EXPECT_TRUE(o.has_value()) << r.resource << " " << ns << "/" << name << " not stored";
    return o ? *o : json::object();
  }

  kite::testing::FakeClock clock_;
  std::shared_ptr<client::testing::FakeTransport> fake_;
  client::Client client_;
  std::unique_ptr<client::Controller> controller_;
  std::unique_ptr<client::InformerFactory> informers_;
};

}  // namespace kite::controllers::testing
