// The network policy controller over the fake API with a recording exec: the first sync lists the
// filter table and writes; a sync whose rules are the ones written writes nothing (a pod no
// policy selects came); a policy that selects a pod writes; a write sync_period old is redone
// whatever changed (rules deleted by hand come back).
#include "agent/netpol/netpol_controller.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "api/resources.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/testing/fake_transport.h"

namespace kite::netpol {
namespace {

namespace json = boost::json;

struct Recorder {
  std::mutex mu;
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> restores;
  Result<std::string> operator()(const std::vector<std::string>& argv, const std::string& input) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(argv);
    if (argv[0].find("-restore") != std::string::npos) restores.push_back(input);
    if (argv[0].find("-save") != std::string::npos) return std::string("*filter\n:KUBE-POD-IN-STALE - [0:0]\nCOMMIT\n");
    if (std::find(argv.begin(), argv.end(), "-C") != argv.end()) return Status(Code::kUnknown, "no rule");
    return std::string();
  }
  size_t Restores() {
    std::lock_guard<std::mutex> lock(mu);
    return restores.size();
  }
  size_t Calls() {
    std::lock_guard<std::mutex> lock(mu);
    return calls.size();
  }
};

json::object Pod(const std::string& name, const std::string& ip, const std::string& app) {
  json::object o = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"default","labels":{}},
    "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}})").as_object();
  o["metadata"].as_object()["name"] = name;
  o["metadata"].as_object()["labels"].as_object()["app"] = app;
  o["status"].as_object()["podIP"] = ip;
  return o;
}

TEST(NetpolControllerTest, WritesOnlyWhatChangedOrIsOld) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}})").as_object());
  fake->Add(Pod("web", "10.42.0.2", "web"));
  client::Client c(fake);
  client::InformerFactory informers(&c);
  auto rec = std::make_shared<Recorder>();
  NetpolOptions o;
  o.node_name = "n1";
  o.sync_period = std::chrono::milliseconds(400);
  o.backend = proxy::Backend::kLegacy;
  o.exec = [rec](const std::vector<std::string>& argv, const std::string& input) { return (*rec)(argv, input); };
  NetpolController ctl(o);
  ctl.Init(informers);
  informers.Start();
  ASSERT_TRUE(informers.WaitForSync(std::chrono::seconds(10)));
  fake->WaitForIdle();

  ASSERT_TRUE(ctl.Sync().ok());
  ASSERT_EQ(rec->Restores(), 1u);
  EXPECT_NE(rec->restores[0].find("-X KUBE-POD-IN-STALE\n"), std::string::npos);  // an earlier process's chain
  EXPECT_EQ(ctl.isolated_pods(), 0u);

  // The stale chain's deletion is no longer in the batch: one write, then nothing.
  ASSERT_TRUE(ctl.Sync().ok());
  const size_t after_settle = rec->Restores();
  const size_t calls = rec->Calls();
  ASSERT_TRUE(ctl.Sync().ok());
  EXPECT_EQ(rec->Restores(), after_settle);
  EXPECT_EQ(rec->Calls(), calls);  // not even the jump's check

  // A pod no policy selects: the same rules, no process started.
  ASSERT_TRUE(c.Create(*api::FindResource("", "v1", "pods"), "default", Pod("other", "10.42.0.3", "other")).ok());
  fake->WaitForIdle();
  ASSERT_TRUE(ctl.Sync().ok());
  EXPECT_EQ(rec->Calls(), calls);

  // A policy that isolates web: written.
  ASSERT_TRUE(c.Create(*api::FindResource("networking.k8s.io", "v1", "networkpolicies"), "default",
                       json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",
                         "metadata":{"name":"deny","namespace":"default"},
                         "spec":{"podSelector":{"matchLabels":{"app":"web"}},"policyTypes":["Ingress"]}})")
                           .as_object())
                  .ok());
  fake->WaitForIdle();
  ASSERT_TRUE(ctl.Sync().ok());
  EXPECT_EQ(rec->Restores(), after_settle + 1);
  EXPECT_EQ(ctl.isolated_pods(), 1u);

  // Unchanged but sync_period old: written again (and the jump checked), so a rule deleted by
  // hand comes back.
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  ASSERT_TRUE(ctl.Sync().ok());
  EXPECT_EQ(rec->Restores(), after_settle + 2);
  EXPECT_EQ(rec->restores.back(), rec->restores[rec->restores.size() - 2]);
  informers.Stop();
}

}  // namespace
}  // namespace kite::netpol
