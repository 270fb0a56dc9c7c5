// client/slow_start.h: SlowStartBatch, the controllers' slow-start create loop (batches of 1, 2,
// 4, … that stop after the first batch with a failure).
#include "client/slow_start.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

}  // namespace
}  // namespace kite::client
