// The Job controller's arithmetic: index sets, active-pod targets, back-off and pod outcomes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/job/job_math.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

TEST(JobMath, CompletedIndexes) {
  EXPECT_EQ(ParseIndexes("1,3-5,7", 10), (std::set<int64_t>{1, 3, 4, 5, 7}));
  EXPECT_EQ(ParseIndexes("1,3-5,7", 5), (std::set<int64_t>{1, 3, 4}));
  EXPECT_EQ(ParseIndexes("", 5), (std::set<int64_t>{}));
  EXPECT_EQ(ParseIndexes("x,2,4-3,-1,3", 5), (std::set<int64_t>{2, 3}));
  EXPECT_EQ(FormatIndexes({0, 1, 2, 4, 6, 7}), "0-2,4,6-7");
  EXPECT_EQ(FormatIndexes({}), "");
  EXPECT_EQ(FormatIndexes(ParseIndexes("0-2,4,6-7", 100)), "0-2,4,6-7");
}

TEST(JobMath, ActivePodsWanted) {
  EXPECT_EQ(WantActive(5, 2, 0, 0), 2);
  EXPECT_EQ(WantActive(5, 2, 4, 1), 1);   // one completion missing
  EXPECT_EQ(WantActive(5, 2, 5, 0), 0);
  EXPECT_EQ(WantActive(std::nullopt, 3, 0, 0), 3);  // work queue
  EXPECT_EQ(WantActive(std::nullopt, 3, 1, 2), 2);  // a pod succeeded: no new ones
}

TEST(JobMath, Backoff) {
  EXPECT_EQ(BackoffDelay(0).count(), 0);
  EXPECT_EQ(BackoffDelay(1).count(), 10);
  EXPECT_EQ(BackoffDelay(2).count(), 20);
  EXPECT_EQ(BackoffDelay(6).count(), 320);
  EXPECT_EQ(BackoffDelay(7).count(), 360);
  EXPECT_EQ(BackoffDelay(100).count(), 360);
}

TEST(JobMath, PodOutcomes) {
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Succeeded"}})")), "Succeeded");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Failed"}})")), "Failed");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"status":{"phase":"Running"}})")), "");
  // Deleted before it succeeded: a failure (it never had the chance to finish).
  EXPECT_EQ(TerminalOutcome(Parse(R"({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"},"status":{"phase":"Running"}})")),
            "Failed");
  EXPECT_EQ(TerminalOutcome(Parse(R"({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"},"status":{"phase":"Succeeded"}})")),
            "Succeeded");
  EXPECT_EQ(CompletionIndex(Parse(R"({"metadata":{"annotations":{"batch.kubernetes.io/job-completion-index":"3"}}})")), 3);
  EXPECT_EQ(CompletionIndex(Parse(R"({"metadata":{"annotations":{"batch.kubernetes.io/job-completion-index":"x"}}})")),
            std::nullopt);
}

}  // namespace
}  // namespace kite::controllers
