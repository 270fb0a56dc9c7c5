// client/informer.cc against a real in-process API server: an informer lists, watches and calls
// its handlers; informers of two factories share one decoded copy of each object version.
#include "client/informer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "client/client.h"
#include "tests/unit/eventually.h"
#include "tests/unit/client/api_server_fixture.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

using kite::testing::Eventually;

using InformerTest = testing_fixture::ApiServerTest;
using testing_fixture::ConfigMapsResource;
using testing_fixture::TestConfigMap;

TEST_F(InformerTest, ListsWatchesAndCallsHandlers) {
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("before", "1")).ok());
  InformerFactory factory(client_.get());
  Informer* inf = factory.For(ConfigMapsResource());
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  // The test's own: the API server keeps ConfigMaps of its own in kube-system
  // (extension-apiserver-authentication).
  auto mine = [](const ObjectPtr& o) { return o->at("metadata").at("namespace").as_string() == "default"; };
  inf->AddHandler(EventHandler{[&](const ObjectPtr& o) { adds += mine(o); },
                               [&](const ObjectPtr&, const ObjectPtr& o) { updates += mine(o); },
                               [&](const ObjectPtr& o) { deletes += mine(o); }});
  factory.Start();
  ASSERT_TRUE(factory.WaitForSync(5s));
  EXPECT_EQ(adds.load(), 1);
  ASSERT_NE(inf->Get("default", "before"), nullptr);
  EXPECT_EQ(inf->Get("default", "before")->at("kind").as_string(), "ConfigMap");

  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("after", "1")).ok());
  ASSERT_TRUE(client_->Patch(ConfigMapsResource(), "default", "before", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  ASSERT_TRUE(client_->Delete(ConfigMapsResource(), "default", "after").ok());
  EXPECT_TRUE(Eventually([&] { return adds == 2 && updates == 1 && deletes == 1; }));
  EXPECT_EQ(inf->Get("default", "before")->at("data").at("k").as_string(), "2");
  EXPECT_EQ(inf->List("default", "app=x").size(), 1u);
  EXPECT_EQ(inf->List("other").size(), 0u);
  factory.Stop();
}

// Two factories (as kite-server's controller manager and scheduler have) share one decoded
// copy of each object version; events.k8s.io and core/v1 views of one Event stay distinct.
TEST_F(InformerTest, TwoFactoriesShareObjectVersions) {
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("shared", "1")).ok());
  InformerFactory a(client_.get()), b(client_.get());
  Informer* ia = a.For(ConfigMapsResource());
  Informer* ib = b.For(ConfigMapsResource());
  a.Start();
  b.Start();
  ASSERT_TRUE(a.WaitForSync(5s) && b.WaitForSync(5s));
  EXPECT_EQ(ia->Get("default", "shared").get(), ib->Get("default", "shared").get());  // both listed
  ASSERT_TRUE(client_->Patch(ConfigMapsResource(), "default", "shared", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  ASSERT_TRUE(Eventually([&] {
    auto x = ia->Get("default", "shared"), y = ib->Get("default", "shared");
    return x && y && x->at("data").at("k") == "2" && y->at("data").at("k") == "2";
  }));
  EXPECT_EQ(ia->Get("default", "shared").get(), ib->Get("default", "shared").get());  // both watched
  EXPECT_EQ(ia->LastResourceVersion(), ib->LastResourceVersion());
  // Adds, updates and deletes reach both (the second informer usually takes the first one's
  // decoded object for the same watch line).
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  for (Informer* inf : {ia, ib}) {
    inf->AddHandler(EventHandler{[&](const ObjectPtr&) { ++adds; },
                                 [&](const ObjectPtr&, const ObjectPtr& now) {
                                   if (now->at("data").at("k") == "3") ++updates;
                                 },
                                 [&](const ObjectPtr&) { ++deletes; }});
  }
  for (int i = 0; i < 5; ++i) {
    const std::string name = "w" + std::to_string(i);
    ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap(name, "1")).ok());
    ASSERT_TRUE(client_->Patch(ConfigMapsResource(), "default", name, PatchType::kMerge, R"({"data":{"k":"3"}})").ok());
    ASSERT_TRUE(client_->Delete(ConfigMapsResource(), "default", name).ok());
  }
  EXPECT_TRUE(Eventually([&] { return adds == 10 && updates == 10 && deletes == 10; }))
      << adds << " " << updates << " " << deletes;
  EXPECT_EQ(ia->Get("default", "w0"), nullptr);
  EXPECT_EQ(ib->Get("default", "w0"), nullptr);
  EXPECT_EQ(ia->LastResourceVersion(), ib->LastResourceVersion());

  const auto* core_events = api::FindResource("", "v1", "events");
  const auto* new_events = api::FindResource("events.k8s.io", "v1", "events");
  ASSERT_TRUE(core_events && new_events);
  ASSERT_TRUE(client_->Create(*core_events, "default",
                              json::object{{"apiVersion", "v1"}, {"kind", "Event"},
                                           {"metadata", json::object{{"name", "ev"}}},
                                           {"involvedObject", json::object{{"kind", "Pod"}, {"name", "p"}, {"namespace", "default"}}},
                                           {"reason", "R"}, {"message", "m"}, {"type", "Normal"}})
                  .ok());
  Informer* ea = a.For(*core_events);
  Informer* eb = b.For(*new_events);
  ASSERT_TRUE(a.WaitForSync(5s) && b.WaitForSync(5s));
  ASSERT_TRUE(ea->Get("default", "ev") && eb->Get("default", "ev"));
  EXPECT_NE(ea->Get("default", "ev").get(), eb->Get("default", "ev").get());
  EXPECT_EQ(ea->Get("default", "ev")->at("apiVersion"), "v1");
  EXPECT_EQ(eb->Get("default", "ev")->at("apiVersion"), "events.k8s.io/v1");
  a.Stop();
  b.Stop();
}

}  // namespace
}  // namespace kite::client
