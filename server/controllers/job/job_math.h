// The arithmetic of the Job controller, apart from its API calls so it can be tested alone:
// completed-index sets in the API's text form, how many pods should be active, the pod
// re-creation back-off, and which terminated pod counts as what.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace kite::controllers {

// status.completedIndexes: ascending, comma-separated single indexes or "a-b" ranges
// ("1,3-5,7"). Parse ignores malformed parts and indexes >= `completions`.
std::set<int64_t> ParseIndexes(const std::string& text, int64_t completions);
std::string FormatIndexes(const std::set<int64_t>& indexes);

// The batch.kubernetes.io/job-completion-index annotation of a pod, if valid.
std::optional<int64_t> CompletionIndex(const boost::json::object& pod);

// How many pods a NonIndexed Job wants running: parallelism, capped by the completions still
// missing; with no completions (a work queue), none once any pod succeeded.
int64_t WantActive(std::optional<int64_t> completions, int64_t parallelism, int64_t succeeded, int64_t active);

// Delay before creating pods again after `failures` pod failures: 10 s doubling per failure,
// at most 6 minutes (upstream's defaults); zero without failures.
std::chrono::seconds BackoffDelay(int64_t failures);

// How a pod that carries the tracking finalizer counts once it stops: "Succeeded", "Failed"
// (phase Failed, or deleted before it succeeded) or "" while it still runs.
std::string TerminalOutcome(const boost::json::object& pod);

}  // namespace kite::controllers
