// ControllerRunner's pool on its own (no API server: a controller fed by its queue): a burst of
// slow reconciles grows the pool up to max_threads, and it shrinks back to its threads when idle.
// The runner with informers and retries: local_client_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "client/controller.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {

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
  ControllerRunner runner(&factory, 2);
  auto owned = std::make_unique<RunnerBlockingController>(6);
  RunnerBlockingController* c = owned.get();
  runner.Add(std::move(owned));
  ASSERT_TRUE(runner.Start(5s));
  for (int i = 0; i < 5; ++i) c->queue().Add("default/k" + std::to_string(i));
  EXPECT_TRUE(Eventually([&] { return c->Get(c->running) == 2; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(c->Get(c->running), 2);
  c->Release(true);
  EXPECT_TRUE(Eventually([&] { return c->Get(c->done) == 5; }));
  EXPECT_EQ(c->Get(c->peak), 2);
  runner.Stop();
  factory.Stop();
}

}  // namespace
}  // namespace kite::client
