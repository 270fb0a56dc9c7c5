#include "server/controllers/job/job_math.h"

#include <algorithm>
#include <cstdlib>

#include "api/object.h"

namespace kite::controllers {
namespace json = boost::json;
namespace {

std::optional<int64_t> ParseIndex(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(s);
}

}  // namespace

std::set<int64_t> ParseIndexes(const std::string& text, int64_t completions) {
  std::set<int64_t> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string part = text.substr(pos, comma - pos);
    pos = comma + 1;
    size_t dash = part.find('-');
    auto lo = ParseIndex(part.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : ParseIndex(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) continue;
    for (int64_t i = *lo; i <= *hi && i < completions; ++i) out.insert(i);
  }
  return out;
}

std::string FormatIndexes(const std::set<int64_t>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    int64_t lo = *it, hi = *it;
    for (++it; it != indexes.end() && *it == hi + 1; ++it) hi = *it;
    if (!out.empty()) out += ',';
    out += std::to_string(lo);
    if (hi > lo) out += "-" + std::to_string(hi);
  }
  return out;
}

std::optional<int64_t> CompletionIndex(const json::object& pod) {
  return ParseIndex(api::GetString(pod, {"metadata", "annotations", "batch.kubernetes.io/job-completion-index"}));
}

int64_t WantActive(std::optional<int64_t> completions, int64_t parallelism, int64_t succeeded, int64_t active) {
  if (!completions) return succeeded > 0 ? std::min(active, parallelism) : parallelism;
  return std::clamp<int64_t>(*completions - succeeded, 0, parallelism);
}

std::chrono::seconds BackoffDelay(int64_t failures) {
  if (failures <= 0) return std::chrono::seconds(0);
  int64_t s = 10;
  for (int64_t i = 1; i < failures && s < 360; ++i) s *= 2;
  return std::chrono::seconds(std::min<int64_t>(s, 360));
}

std::string TerminalOutcome(const json::object& pod) {
  const std::string phase = api::GetString(pod, {"status", "phase"});
  if (phase == "Succeeded") return "Succeeded";
  if (phase == "Failed") return "Failed";
  if (api::IsBeingDeleted(pod)) return "Failed";
  return "";
}

}  // namespace kite::controllers
