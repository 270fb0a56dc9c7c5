// client/client.cc against a real in-process API server through the local transport: verbs and
// errors, concurrent patches, asynchronous requests, watches. Informers: informer_test.cc; the
// controller runner: controller_test.cc; leader election: leader_election_test.cc.
#include "client/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/unit/client/api_server_fixture.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

using kite::testing::Eventually;

using ClientTest = testing_fixture::ApiServerTest;
using testing_fixture::ConfigMapsResource;
using testing_fixture::TestConfigMap;

TEST_F(ClientTest, VerbsAndErrors) {
  auto created = client_->Create(ConfigMapsResource(), "default", TestConfigMap("a", "1"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_FALSE(api::Uid(*created).empty());
  auto again = client_->Create(ConfigMapsResource(), "default", TestConfigMap("a", "1"));
  EXPECT_TRUE(again.AlreadyExists());
  EXPECT_EQ(again.error().http_code(), 409);

  auto got = client_->Get(ConfigMapsResource(), "default", "a");
  ASSERT_TRUE(got.ok());
  json::object stale = got.value();
  (*got)["data"].as_object()["k"] = "2";
  ASSERT_TRUE(client_->Update(ConfigMapsResource(), "default", *got).ok());
  stale["data"].as_object()["k"] = "3";
  EXPECT_TRUE(client_->Update(ConfigMapsResource(), "default", stale).Conflict());

  auto patched = client_->Patch(ConfigMapsResource(), "default", "a", PatchType::kMerge, R"({"data":{"k":"4"}})");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched->at("data").at("k").as_string(), "4");

  // A patch whose caller ignores the result: applied, nothing serialised back; errors still are.
  auto quiet = client_->PatchDiscardingResult(ConfigMapsResource(), "default", "a", PatchType::kMerge, R"({"data":{"k":"5"}})");
  ASSERT_TRUE(quiet.ok()) << quiet.error().message();
  EXPECT_TRUE(quiet->empty());
  EXPECT_EQ(client_->Get(ConfigMapsResource(), "default", "a")->at("data").at("k").as_string(), "5");
  auto missing = client_->PatchDiscardingResult(ConfigMapsResource(), "default", "zz", PatchType::kMerge, R"({"data":{}})");
  EXPECT_TRUE(missing.NotFound());
  EXPECT_NE(missing.error().message().find("\"zz\" not found"), std::string::npos) << missing.error().message();

  ListParams p;
  p.label_selector = "app=x";
  auto list = client_->List(ConfigMapsResource(), "default", p);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->at("items").as_array().size(), 1u);

  EXPECT_TRUE(client_->Delete(ConfigMapsResource(), "default", "a").ok());
  EXPECT_TRUE(client_->Get(ConfigMapsResource(), "default", "a").NotFound());
  EXPECT_EQ(client_->Get(ConfigMapsResource(), "nope", "a").error().reason(), "NotFound");
}

// Concurrent patches of one object: each is applied to the version it read (the Registry takes
// that read instead of reading again) and read and applied again when another write got in
// first, so none is refused (upstream retries these without bound) and none is lost. A patch
// that changes nothing writes nothing.
TEST_F(ClientTest, ConcurrentPatchesLoseNothing) {
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("busy", "0")).ok());
  constexpr int kThreads = 4, kPatches = 25;
  std::vector<std::vector<std::string>> applied(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPatches; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = client_->Patch(ConfigMapsResource(), "default", "busy", PatchType::kMerge,
                                R"({"data":{")" + key + R"(":"v"}})");
        if (r.ok()) applied[t].push_back(key);
        else ADD_FAILURE() << r.error().http_code() << " " << r.error().message();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto got = client_->Get(ConfigMapsResource(), "default", "busy");
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
  ASSERT_TRUE(client_->Patch(ConfigMapsResource(), "default", "busy", PatchType::kMerge, R"({"data":{"t0-0":"v"}})").ok());
  auto again = client_->Get(ConfigMapsResource(), "default", "busy");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(api::ResourceVersion(*again), rv);
}

// Bindings sent without waiting, many in flight from one thread (as the scheduler sends them):
// every answer arrives once, errors included, and a stopped server still answers.
TEST_F(ClientTest, AsyncRequestsAnswerOnceEach) {
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

TEST_F(ClientTest, WatchDeliversEventsInOrder) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto start = client_->List(ConfigMapsResource(), "default");
  ASSERT_TRUE(start.ok());
  ListParams p;
  p.resource_version = api::ResourceVersion(*start);
  auto w = client_->Watch(
      ConfigMapsResource(), "default", p,
      [&](WatchEvent ev) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(ev.type + " " + api::Name(ev.object));
      },
      [](Status) {});
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("w", "1")).ok());
  ASSERT_TRUE(client_->Patch(ConfigMapsResource(), "default", "w", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  ASSERT_TRUE(client_->Delete(ConfigMapsResource(), "default", "w").ok());
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= 3;
  }));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED w", "MODIFIED w", "DELETED w"}));
}

}  // namespace
}  // namespace kite::client
