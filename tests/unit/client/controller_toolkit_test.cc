// client/slow_start.h, client/expectations.h and SplitKey: the controller toolkit's pure parts.
#include <gtest/gtest.h>

#include <vector>

#include "client/controller.h"
#include "client/expectations.h"
#include "client/slow_start.h"

namespace kite::client {
namespace {

TEST(SlowStartBatchTest, StopsAfterTheFirstBatchWithAFailure) {
  std::vector<int> calls;
  Status first;
  // Batches 1, 2, 4: the call with index 4 (in the third batch) fails; the batch still ends.
  int ok = SlowStartBatch(20, 1, [&](int i) {
    calls.push_back(i);
    return i == 4 || i == 5 ? Status(Code::kUnavailable, "no " + std::to_string(i)) : Status::Ok();
  }, &first);
  EXPECT_EQ(calls.size(), 7u);
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(first.message(), "no 4");
  EXPECT_EQ(SlowStartBatch(10, 1, [](int) { return Status::Ok(); }), 10);
  EXPECT_EQ(SlowStartBatch(0, 1, [](int) { return Status(Code::kInternal, "never"); }), 0);
}

TEST(ExpectationsTest, SatisfiedWhenObservedOrForgotten) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 2, 1);
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.CreationObserved("ns/a");
  e.CreationObserved("ns/a");
  EXPECT_FALSE(e.Satisfied("ns/a"));
  e.DeletionObserved("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
  e.Expect("ns/a", 1, 0);
  e.Delete("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
}

TEST(SplitKeyTest, NamespacedAndClusterScoped) {
  EXPECT_EQ(SplitKey("ns/name"), (std::pair<std::string, std::string>{"ns", "name"}));
  EXPECT_EQ(SplitKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
}

}  // namespace
}  // namespace kite::client
