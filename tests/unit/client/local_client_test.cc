// The client library against a real in-process API server through the local transport: verbs
// and errors, watches, informers (list, watch, relist), leader election and the controller
// runner. The work queue on its own: workqueue_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/leader_election.h"
#include "client/workqueue.h"
#include "tests/unit/server/apiserver/test_server.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

const api::ResourceInfo& ConfigMaps() { return *api::FindResource("", "v1", "configmaps"); }

json::object ConfigMap(const std::string& name, const std::string& value) {
  return json::object{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", json::object{{"name", name}, {"labels", json::object{{"app", "x"}}}}},
                      {"data", json::object{{"k", value}}}};
}

using kite::testing::Eventually;

class LocalClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<testing::InProcessApiServer>();
    ASSERT_NO_FATAL_FAILURE(api_->Start());
    client_ = api_->AdminClient();
  }
  void TearDown() override {
    client_.reset();
    api_.reset();
  }
  std::unique_ptr<testing::InProcessApiServer> api_;
  std::unique_ptr<Client> client_;
};

TEST_F(LocalClientTest, VerbsAndErrors) {
  auto created = client_->Create(ConfigMaps(), "default", ConfigMap("a", "1"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_FALSE(api::Uid(*created).empty());
  auto again = client_->Create(ConfigMaps(), "default", ConfigMap("a", "1"));
  EXPECT_TRUE(again.AlreadyExists());
  EXPECT_EQ(again.error().http_code(), 409);

  auto got = client_->Get(ConfigMaps(), "default", "a");
  ASSERT_TRUE(got.ok());
  json::object stale = got.value();
  (*got)["data"].as_object()["k"] = "2";
  ASSERT_TRUE(client_->Update(ConfigMaps(), "default", *got).ok());
  stale["data"].as_object()["k"] = "3";
  EXPECT_TRUE(client_->Update(ConfigMaps(), "default", stale).Conflict());

  auto patched = client_->Patch(ConfigMaps(), "default", "a", PatchType::kMerge, R"({"data":{"k":"4"}})");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched->at("data").at("k").as_string(), "4");

  // A patch whose caller ignores the result: applied, nothing serialised back; errors still are.
  auto quiet = client_->PatchDiscardingResult(ConfigMaps(), "default", "a", PatchType::kMerge, R"({"data":{"k":"5"}})");
  ASSERT_TRUE(quiet.ok()) << quiet.error().message();
  EXPECT_TRUE(quiet->empty());
  EXPECT_EQ(client_->Get(ConfigMaps(), "default", "a")->at("data").at("k").as_string(), "5");
  auto missing = client_->PatchDiscardingResult(ConfigMaps(), "default", "zz", PatchType::kMerge, R"({"data":{}})");
  EXPECT_TRUE(missing.NotFound());
  EXPECT_NE(missing.error().message().find("\"zz\" not found"), std::string::npos) << missing.error().message();

  ListParams p;
  p.label_selector = "app=x";
  auto list = client_->List(ConfigMaps(), "default", p);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->at("items").as_array().size(), 1u);

  EXPECT_TRUE(client_->Delete(ConfigMaps(), "default", "a").ok());
  EXPECT_TRUE(client_->Get(ConfigMaps(), "default", "a").NotFound());
  EXPECT_EQ(client_->Get(ConfigMaps(), "nope", "a").error().reason(), "NotFound");
}

// Concurrent patches of one object: each is applied to the version it read (the Registry takes
// that read instead of reading again) and read and applied again when another write got in
// first, so none is refused (upstream retries these without bound) and none is lost. A patch
// that changes nothing writes nothing.
TEST_F(LocalClientTest, ConcurrentPatchesLoseNothing) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("busy", "0")).ok());
  constexpr int kThreads = 4, kPatches = 25;
  std::vector<std::vector<std::string>> applied(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPatches; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client_->Patch(ConfigMaps(), "default", "busy", PatchType::kMerge,
                                R"({"data":{")" + key + R"(":"v"}})");
        if (r.ok()) applied[t].push_back(key);
        else ADD_FAILURE() << r.error().http_code() << " " << r.error().message();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto got = client_->Get(ConfigMaps(), "default", "busy");
  ASSERT_TRUE(got.ok());
  const auto& data = got->at("data").as_object();
  size_t acked = 0;
  for (const auto& keys : applied) {
    for (const auto& k : keys) EXPECT_TRUE(data.contains(k)) << "lost " << k;
    acked += keys.size();
  }
  EXPECT_EQ(data.size(), acked + 1);  // + the original "k"
  EXPECT_EQ(acked, static_cast<size_t>(kThreads * kPatches));
  const std::string rv = api::ResourceVersion(*got);
  ASSERT_TRUE(client_->Patch(ConfigMaps(), "default", "busy", PatchType::kMerge, R"({"data":{"t0-0":"v"}})").ok());
  auto again = client_->Get(ConfigMaps(), "default", "busy");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(api::ResourceVersion(*again), rv);
}

// Bindings sent without waiting, many in flight from one thread (as the scheduler sends them):
// every answer arrives once, errors included, and a stopped server still answers.
TEST_F(LocalClientTest, AsyncRequestsAnswerOnceEach) {
  const api::ResourceInfo& pods = *api::FindResource("", "v1", "pods");
  ASSERT_TRUE(client_->transport()->SupportsAsync());
  constexpr int kPods = 64;
  for (int i = 0; i < kPods; ++i) {
    json::object pod{{"apiVersion", "v1"},
                     {"kind", "Pod"},
                     {"metadata", json::object{{"name", "p" + std::to_string(i)}}},
                     {"spec", json::object{{"containers", json::array{json::object{{"name", "c"}, {"image", "i"}}}}}}};
    ASSERT_TRUE(client_->Create(pods, "default", pod).ok());
  }
  auto binding = [](int i) {
    return json::object{{"apiVersion", "v1"},
                        {"kind", "Binding"},
                        {"metadata", json::object{{"name", "p" + std::to_string(i)}}},
                        {"target", json::object{{"kind", "Node"}, {"name", "n" + std::to_string(i % 4)}}}};
  };
  std::atomic<int> ok{0}, conflicts{0}, other{0};
  auto count = [&](Result<json::object> r) {
    if (r.ok()) ++ok;
    else if (r.error().http_code() == 409) ++conflicts;
    else ++other;
  };
  for (int i = 0; i < kPods; ++i) client_->CreateSubresourceAsync(pods, "default", "p" + std::to_string(i), "binding", binding(i), count);
  ASSERT_TRUE(Eventually([&] { return ok + conflicts + other == kPods; }));
  EXPECT_EQ(ok, kPods);
  for (int i = 0; i < kPods; ++i) {
    auto got = client_->Get(pods, "default", "p" + std::to_string(i));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->at("spec").at("nodeName").as_string(), "n" + std::to_string(i % 4));
  }
  // A second binding of a bound pod is the API's 409, answered the same way.
  client_->CreateSubresourceAsync(pods, "default", "p0", "binding", binding(1), count);
  ASSERT_TRUE(Eventually([&] { return conflicts == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ok + conflicts + other, kPods + 1);  // nothing answered twice

  auto keep = api_->AdminTransport();  // outlives the server
  api_->Stop();
  std::atomic<int> answers{0};
  Response last;
  keep->DoAsync(Request{}, [&](Response r) {
    last = r;
    ++answers;
  });
  ASSERT_TRUE(Eventually([&] { return answers == 1; }));
  EXPECT_EQ(last.code, 0);
}

TEST_F(LocalClientTest, WatchDeliversEventsInOrder) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto start = client_->List(ConfigMaps(), "default");
  ASSERT_TRUE(start.ok());
  ListParams p;
  p.resource_version = api::ResourceVersion(*start);
  auto w = client_->Watch(
      ConfigMaps(), "default", p,
      [&](WatchEvent ev) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(ev.type + " " + api::Name(ev.object));
      },
      [](Status) {});
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("w", "1")).ok());
  ASSERT_TRUE(client_->Patch(ConfigMaps(), "default", "w", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  ASSERT_TRUE(client_->Delete(ConfigMaps(), "default", "w").ok());
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= 3;
  }));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED w", "MODIFIED w", "DELETED w"}));
}

TEST_F(LocalClientTest, InformerListsWatchesAndCallsHandlers) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("before", "1")).ok());
  InformerFactory factory(client_.get());
  Informer* inf = factory.For(ConfigMaps());
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  inf->AddHandler(EventHandler{[&](const ObjectPtr&) { ++adds; }, [&](const ObjectPtr&, const ObjectPtr&) { ++updates; },
                               [&](const ObjectPtr&) { ++deletes; }});
  factory.Start();
  ASSERT_TRUE(factory.WaitForSync(5s));
  EXPECT_EQ(adds.load(), 1);
  ASSERT_NE(inf->Get("default", "before"), nullptr);
  EXPECT_EQ(inf->Get("default", "before")->at("kind").as_string(), "ConfigMap");

  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("after", "1")).ok());
  ASSERT_TRUE(client_->Patch(ConfigMaps(), "default", "before", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  ASSERT_TRUE(client_->Delete(ConfigMaps(), "default", "after").ok());
  EXPECT_TRUE(Eventually([&] { return adds == 2 && updates == 1 && deletes == 1; }));
  EXPECT_EQ(inf->Get("default", "before")->at("data").at("k").as_string(), "2");
  EXPECT_EQ(inf->List("default", "app=x").size(), 1u);
  EXPECT_EQ(inf->List("other").size(), 0u);
  factory.Stop();
}

// Two factories (as kite-server's controller manager and scheduler have) share one decoded
// copy of each object version; events.k8s.io and core/v1 views of one Event stay distinct.
TEST_F(LocalClientTest, InformersOfTwoFactoriesShareObjectVersions) {
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("shared", "1")).ok());
  InformerFactory a(client_.get()), b(client_.get());
  Informer* ia = a.For(ConfigMaps());
  Informer* ib = b.For(ConfigMaps());
  a.Start();
  b.Start();
  ASSERT_TRUE(a.WaitForSync(5s) && b.WaitForSync(5s));
  EXPECT_EQ(ia->Get("default", "shared").get(), ib->Get("default", "shared").get());  // both listed
  ASSERT_TRUE(client_->Patch(ConfigMaps(), "default", "shared", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
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
    ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap(name, "1")).ok());
    ASSERT_TRUE(client_->Patch(ConfigMaps(), "default", name, PatchType::kMerge, R"({"data":{"k":"3"}})").ok());
    ASSERT_TRUE(client_->Delete(ConfigMaps(), "default", name).ok());
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

// Another holder's lease counts for the leaseDurationSeconds it wrote, not for ours.
TEST_F(LocalClientTest, LeaderElectionHonoursTheHoldersLeaseDuration) {
  const auto* leases = api::FindResource("coordination.k8s.io", "v1", "leases");
  ASSERT_TRUE(client_->Create(*leases, "kube-system",
                              json::object{{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                                           {"metadata", json::object{{"name", "long-lock"}}},
                                           {"spec", json::object{{"holderIdentity", "other"}, {"leaseDurationSeconds", 3600}}}})
                  .ok());
  LeaderElectionConfig c;
  c.lease_name = "long-lock";
  c.identity = "a";
  c.lease_duration = 300ms;
  c.renew_deadline = 200ms;
  c.retry_period = 50ms;
  LeaderElector a(client_.get(), c);
  std::atomic<bool> leads{false};
  a.Start([&] { leads = true; }, [&] { leads = false; });
  std::this_thread::sleep_for(1200ms);  // four of our lease durations
  EXPECT_FALSE(leads);
  a.Stop();
  EXPECT_EQ(client_->Get(*leases, "kube-system", "long-lock")->at("spec").at("holderIdentity").as_string(), "other");
}

TEST_F(LocalClientTest, LeaderElectionOneHolderAtATimeAndRelease) {
  LeaderElectionConfig c;
  c.lease_name = "test-lock";
  c.identity = "a";
  c.lease_duration = 1s;
  c.renew_deadline = 800ms;
  c.retry_period = 100ms;
  auto a = std::make_unique<LeaderElector>(client_.get(), c);
  c.identity = "b";
  LeaderElector b(client_.get(), c);
  std::atomic<bool> a_leads{false}, b_leads{false};
  a->Start([&] { a_leads = true; }, [&] { a_leads = false; });
  ASSERT_TRUE(Eventually([&] { return a_leads.load(); }));
  b.Start([&] { b_leads = true; }, [&] { b_leads = false; });
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(a_leads);
  EXPECT_FALSE(b_leads);
  a.reset();  // releases the lease
  EXPECT_TRUE(Eventually([&] { return b_leads.load(); }, 3s));
  auto lease = client_->Get(*api::FindResource("coordination.k8s.io", "v1", "leases"), "kube-system", "test-lock");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->at("spec").at("holderIdentity").as_string(), "b");
}

class CountingController : public Controller {
 public:
  CountingController() : Controller("counting", 2) {}
  void Init(InformerFactory& f) override {
    f.For(ConfigMaps())->AddHandler(EventHandler{[this](const ObjectPtr& o) { queue_.Add(Key(*o)); },
                                                 [this](const ObjectPtr&, const ObjectPtr& o) { queue_.Add(Key(*o)); },
                                                 [this](const ObjectPtr& o) { queue_.Add(Key(*o)); }});
  }
  Status Reconcile(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu);
    if (key == "default/flaky" && ++flaky_calls < 3) return Status(Code::kUnavailable, "try again");
    reconciled.push_back(key);
    return Status::Ok();
  }
  std::mutex mu;
  std::vector<std::string> reconciled;
  int flaky_calls = 0;
};

TEST_F(LocalClientTest, RunnerReconcilesAndRetriesWithBackOff) {
  InformerFactory factory(client_.get());
  ControllerRunner runner(&factory, 2);
  auto owned = std::make_unique<CountingController>();
  CountingController* c = owned.get();
  runner.Add(std::move(owned));
  ASSERT_TRUE(runner.Start(5s));
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("one", "1")).ok());
  ASSERT_TRUE(client_->Create(ConfigMaps(), "default", ConfigMap("flaky", "1")).ok());
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(c->mu);
    return std::count(c->reconciled.begin(), c->reconciled.end(), "default/flaky") == 1 &&
           std::count(c->reconciled.begin(), c->reconciled.end(), "default/one") >= 1;
  }));
  std::lock_guard<std::mutex> lock(c->mu);
  EXPECT_EQ(c->flaky_calls, 3);
  runner.Stop();
  factory.Stop();
}

}  // namespace
}  // namespace kite::client
