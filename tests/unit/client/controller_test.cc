// client/controller.cc: the ControllerRunner's pool on its own (no API server: a controller fed by
// its queue; a burst of slow reconciles grows the pool up to max_threads, and it shrinks back to
// its threads when idle), the runner with informers and retries against a real in-process API
// server, and SplitKey.
#include "client/controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/eventually.h"
#include "tests/unit/client/api_server_fixture.h"

namespace kite::client {
namespace {
namespace json = boost::json;

using namespace std::chrono_literals;
using kite::testing::Eventually;

// Reconciles that block until `release`: how many ran at once.
class RunnerBlockingController : public Controller {
 public:
  explicit RunnerBlockingController(int workers) : Controller("blocking", workers) {}
  void Init(InformerFactory&) override {}
  Status Reconcile(const std::string&) override {
    std::unique_lock<std::mutex> lock(mu);
    peak = std::max(peak, ++running);
    cv.wait(lock, [this] { return release; });
    --running;
    ++done;
    return Status::Ok();
  }
  int Get(const int& field) {
    std::lock_guard<std::mutex> lock(mu);
    return field;
  }
  void Release(bool r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      release = r;
    }
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int running = 0, peak = 0, done = 0;
};

int CountCtrlWorkerThreads() {
  int n = 0;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(t.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "ctrl-worker") ++n;
  }
  return n;
}

TEST(ControllerRunnerTest, GrowsForABurstAndShrinksBack) {
  InformerFactory factory(nullptr);  // no informers: nothing is listed
  const int before = CountCtrlWorkerThreads();
  ControllerRunner runner(&factory, 2, 6, 300ms);
  auto owned = std::make_unique<RunnerBlockingController>(6);
  RunnerBlockingController* c = owned.get();
  runner.Add(std::move(owned));
  ASSERT_TRUE(runner.Start(5s));
  EXPECT_TRUE(Eventually([&] { return CountCtrlWorkerThreads() == before + 2; }));
  for (int i = 0; i < 10; ++i) c->queue().Add("default/k" + std::to_string(i));
  // Six at once (the controller's and the pool's limit), not two, and no more.
  EXPECT_TRUE(Eventually([&] { return c->Get(c->running) == 6; }));
  EXPECT_EQ(CountCtrlWorkerThreads(), before + 6);
  c->Release(true);
  EXPECT_TRUE(Eventually([&] { return c->Get(c->done) == 10; }));
  EXPECT_EQ(c->Get(c->peak), 6);
  // Idle again: back to the two it keeps.
  EXPECT_TRUE(Eventually([&] { return CountCtrlWorkerThreads() == before + 2; }, 5s));
  // And it grows again for the next burst.
  c->Release(false);
  for (int i = 0; i < 4; ++i) c->queue().Add("default/again" + std::to_string(i));
  EXPECT_TRUE(Eventually([&] { return c->Get(c->running) == 4; }));
  c->Release(true);
  runner.Stop();
  EXPECT_EQ(CountCtrlWorkerThreads(), before);
  factory.Stop();
}

// Without max_threads the pool stays at its threads, whatever the controller's own limit.
TEST(ControllerRunnerTest, FixedPoolByDefault) {
  InformerFactory factory(nullptr);
  const int before = CountCtrlWorkerThreads();
  ControllerRunner runner(&factory, 2);
  auto owned = std::make_unique<RunnerBlockingController>(6);
  RunnerBlockingController* c = owned.get();
  runner.Add(std::move(owned));
  ASSERT_TRUE(runner.Start(5s));
  for (int i = 0; i < 5; ++i) c->queue().Add("default/k" + std::to_string(i));
  // A worker starts another (when the pool may grow) as it takes a key, before its Reconcile:
  // once both run, with three keys waiting, any third worker would exist already (and named
  // ctrl-worker from its start: a thread inherits its creator's name).
  EXPECT_TRUE(Eventually([&] { return c->Get(c->running) == 2 && c->queue().Len() == 3; }));
  EXPECT_EQ(CountCtrlWorkerThreads(), before + 2);
  EXPECT_EQ(c->Get(c->running), 2);
  c->Release(true);
  EXPECT_TRUE(Eventually([&] { return c->Get(c->done) == 5; }));
  EXPECT_EQ(c->Get(c->peak), 2);
  runner.Stop();
  factory.Stop();
}

// The runner with informers: handlers enqueue, workers reconcile, a failure retries with back-off.

using ControllerRunnerApiTest = testing_fixture::ApiServerTest;
using testing_fixture::ConfigMapsResource;
using testing_fixture::TestConfigMap;

class CountingController : public Controller {
 public:
  CountingController() : Controller("counting", 2) {}
  void Init(InformerFactory& f) override {
    f.For(ConfigMapsResource())->AddHandler(EventHandler{[this](const ObjectPtr& o) { queue_.Add(Key(*o)); },
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

TEST_F(ControllerRunnerApiTest, RunnerReconcilesAndRetriesWithBackOff) {
  InformerFactory factory(client_.get());
  ControllerRunner runner(&factory, 2);
  auto owned = std::make_unique<CountingController>();
  CountingController* c = owned.get();
  runner.Add(std::move(owned));
  ASSERT_TRUE(runner.Start(5s));
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("one", "1")).ok());
  ASSERT_TRUE(client_->Create(ConfigMapsResource(), "default", TestConfigMap("flaky", "1")).ok());
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

TEST(SplitKeyTest, NamespacedAndClusterScoped) {
  EXPECT_EQ(SplitKey("ns/name"), (std::pair<std::string, std::string>{"ns", "name"}));
  EXPECT_EQ(SplitKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
}

}  // namespace
}  // namespace kite::client
