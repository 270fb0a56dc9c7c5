// ServiceLB: a LoadBalancer Service's ingress is the Ready nodes' InternalIPs (or the opted-in
// nodes'), other classes are left alone, a Service that stops being a LoadBalancer loses it, and
// a port goes to the older of two Services that want it (the newer stays Pending until it is free).
#include "server/controllers/servicelb/servicelb_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
namespace json = boost::json;

json::object Node(const std::string& name, const std::string& ip, bool ready, bool enablelb = false) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{"labels":{}},"status":{}})");
  n["metadata"].as_object()["name"] = name;
  if (enablelb) n["metadata"].as_object()["labels"].as_object()[kEnableLbLabel] = "true";
  n["status"].as_object()["addresses"] = json::array{json::object{{"type", "InternalIP"}, {"address", ip}},
                                                     json::object{{"type", "Hostname"}, {"address", name}}};
  n["status"].as_object()["conditions"] = json::array{json::object{{"type", "Ready"}, {"status", ready ? "True" : "False"}}};
  return n;
}

json::object Svc(const std::string& name, const std::string& type, const std::string& cls = "") {
  json::object s = J(R"({"apiVersion":"v1","kind":"Service","metadata":{"namespace":"default"},
    "spec":{"clusterIP":"10.43.0.50","ports":[{"port":80,"protocol":"TCP","nodePort":30050}]}})");
  s["metadata"].as_object()["name"] = name;
  s["spec"].as_object()["type"] = type;
  if (!cls.empty()) s["spec"].as_object()["loadBalancerClass"] = cls;
  return s;
}

class ServiceLbTest : public ControllerTest {
 protected:
  const api::ResourceInfo& Services() { return *api::FindResource("", "v1", "services"); }
  std::vector<std::string> Ingress(const std::string& name) {
    std::vector<std::string> out;
    const json::object svc = Stored(Services(), "default", name);
    for (const auto& i : api::GetArray(svc, {"status", "loadBalancer", "ingress"})) {
      out.push_back(api::GetString(i.as_object(), "ip"));
    }
    return out;
  }
};

TEST_F(ServiceLbTest, IngressIsTheReadyNodesAddresses) {
  Seed(Node("b", "10.99.0.2", true));
  Seed(Node("a", "10.99.0.1", true));
  Seed(Node("down", "10.99.0.3", false));
  Seed(Svc("lb", "LoadBalancer"));
  Seed(Svc("other", "LoadBalancer", "example.com/metal"));
  Seed(Svc("plain", "ClusterIP"));
  ASSERT_NO_FATAL_FAILURE(Start(NewServiceLbController(client())));
  ASSERT_TRUE(Reconcile("default/lb").ok());
  ASSERT_TRUE(Reconcile("default/other").ok());
  ASSERT_TRUE(Reconcile("default/plain").ok());
  Settle();
  EXPECT_EQ(Ingress("lb"), (std::vector<std::string>{"10.99.0.1", "10.99.0.2"}));
  EXPECT_TRUE(Ingress("other").empty());
  EXPECT_EQ(StatusWrites("services").size(), 1u);
  // Idempotent.
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/lb").ok());
  EXPECT_TRUE(fake().Writes().empty());
}

TEST_F(ServiceLbTest, OptInLabelAndTypeChange) {
  Seed(Node("a", "10.99.0.1", true));
  Seed(Node("b", "10.99.0.2", true, true));
  Seed(Svc("lb", "LoadBalancer", kServiceLbClass));
  ASSERT_NO_FATAL_FAILURE(Start(NewServiceLbController(client())));
  ASSERT_TRUE(Reconcile("default/lb").ok());
  Settle();
  EXPECT_EQ(Ingress("lb"), std::vector<std::string>{"10.99.0.2"});
  // No longer a LoadBalancer: the ingress goes.
  json::object s = Stored(Services(), "default", "lb");
  s["spec"].as_object()["type"] = "NodePort";
  ASSERT_TRUE(client()->Update(Services(), "default", s).ok());
  Settle();
  ASSERT_TRUE(Reconcile("default/lb").ok());
  Settle();
  EXPECT_TRUE(Ingress("lb").empty());
}

TEST_F(ServiceLbTest, APortIsHeldByTheOlderService) {
  Seed(Node("a", "10.99.0.1", true));
  auto aged = [](json::object s, const char* created, int port) {
    s["metadata"].as_object()["creationTimestamp"] = created;
    s["spec"].as_object()["ports"].as_array()[0].as_object()["port"] = port;
    return s;
  };
  Seed(aged(Svc("ingress", "LoadBalancer"), "2026-01-01T00:00:00Z", 80));
  Seed(aged(Svc("mine", "LoadBalancer"), "2026-02-01T00:00:00Z", 80));
  Seed(aged(Svc("other-port", "LoadBalancer"), "2026-03-01T00:00:00Z", 8080));
  Seed(aged(Svc("theirs", "LoadBalancer", "example.com/metal"), "2025-01-01T00:00:00Z", 8080));  // not ours: holds nothing
  ASSERT_NO_FATAL_FAILURE(Start(NewServiceLbController(client())));
  for (const char* k : {"default/ingress", "default/mine", "default/other-port"}) ASSERT_TRUE(Reconcile(k).ok());
  Settle();
  EXPECT_EQ(Ingress("ingress"), std::vector<std::string>{"10.99.0.1"});
  EXPECT_TRUE(Ingress("mine").empty());  // Pending: port 80/TCP is the older one's
  EXPECT_EQ(Ingress("other-port"), std::vector<std::string>{"10.99.0.1"});
  // The holder goes: the port is free for the next.
  ASSERT_TRUE(client()->Delete(Services(), "default", "ingress").ok());
  Settle();
  ASSERT_TRUE(Reconcile("default/mine").ok());
  Settle();
  EXPECT_EQ(Ingress("mine"), std::vector<std::string>{"10.99.0.1"});
}

}  // namespace
}  // namespace kite::controllers
