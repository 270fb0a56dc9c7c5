// The max-in-flight filter's budgets (filters/inflight.h): wide LISTs have their own; and
// through an API server in this process, kite's own components are never refused.
#include "server/apiserver/filters/inflight.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "api/resources.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::apiserver {
namespace {

TEST(Inflight, WideListsHaveTheirOwnQuarterOfTheReadOnlyBudget) {
  InflightLimiter limiter({200, 100});
  EXPECT_EQ(WideListBudget(200), 50);
  std::vector<InflightLimiter::Seats> held;
  for (int i = 0; i < 5; ++i) {
    auto s = limiter.TryAcquire(false, 10);
    ASSERT_TRUE(s) << i;
    held.push_back(std::move(*s));
  }
  EXPECT_FALSE(limiter.TryAcquire(false, 10)) << "a sixth 1,000-object LIST is refused";
  EXPECT_FALSE(limiter.TryAcquire(false, 2)) << "so is any other wide one";
  for (int i = 0; i < 150; ++i) {
    auto s = limiter.TryAcquire(false, 1);
    ASSERT_TRUE(s) << "small reads keep three quarters: " << i;
    held.push_back(std::move(*s));
  }
  EXPECT_FALSE(limiter.TryAcquire(false, 1)) << "the read-only budget is spent";
  EXPECT_TRUE(limiter.TryAcquire(true, 1)) << "writes have theirs";
  held.erase(held.begin());  // one wide LIST done: its seats are back in both budgets
  auto again = limiter.TryAcquire(false, 10);
  EXPECT_TRUE(again);
  EXPECT_FALSE(limiter.TryAcquire(false, 1));
}

TEST(Inflight, SmallBudgetsStillLetOneWideListRun) {
  EXPECT_EQ(WideListBudget(4), 4);
  EXPECT_EQ(WideListBudget(0), 0);
  InflightLimiter limiter({4, 2});
  auto first = limiter.TryAcquire(false, 10);
  EXPECT_TRUE(first) << "wider than the budget, alone";
  EXPECT_FALSE(limiter.TryAcquire(false, 10));
  EXPECT_FALSE(limiter.TryAcquire(false, 1));
  first.reset();
  EXPECT_TRUE(limiter.TryAcquire(false, 1));
}

// The in-process scheduler runs as system:kube-scheduler (not system:masters) and keeps up to
// 1,024 bindings in flight: with the mutating budget spent it used to get 429s, and each refused
// binding waited out a second's backoff (bind p99 1-7 s in bench/run_cluster_bench.sh).
TEST(InflightServer, InProcessComponentsAreNeverRefused) {
  testing::InProcessApiServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start(false, [](ApiServerOptions& o) {
    o.inflight = {.max_readonly = 1, .max_mutating = 1};
    o.always_allow = true;  // the budgets, not the scheduler's RBAC role, are under test
  }));
  const auto* configmaps = api::FindResource("", "v1", "configmaps");
  ASSERT_NE(configmaps, nullptr);
  client::Client scheduler(server.LocalTransport("system:kube-scheduler", {}));
  std::atomic<int> ok{0};
  std::vector<std::string> errors(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        boost::json::object cm{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                               {"metadata", {{"name", "cm-" + std::to_string(t) + "-" + std::to_string(i)}}}};
        auto r = scheduler.Create(*configmaps, "default", cm);
        if (r.ok()) {
          ++ok;
        } else if (errors[t].empty()) {
          errors[t] = r.error().message();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 16 * 20);
  for (const auto& e : errors) EXPECT_EQ(e, "");
}

}  // namespace
}  // namespace kite::apiserver
