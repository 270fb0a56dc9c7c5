#include "server/controllers/statefulset/stateful_set_plan.h"

#include <algorithm>

namespace kite::controllers {

std::optional<int64_t> ParseOrdinal(const std::string& set_name, const std::string& pod_name) {
  if (pod_name.size() <= set_name.size() + 1 || pod_name.compare(0, set_name.size(), set_name) != 0 ||
      pod_name[set_name.size()] != '-') {
    return std::nullopt;
  }
  const std::string digits = pod_name.substr(set_name.size() + 1);
  if (digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoll(digits);
}

std::vector<StatefulSetAction> PlanStatefulSet(const StatefulSetPlanInput& in) {
  std::vector<StatefulSetAction> out;
  const bool monotonic = !in.parallel;
  const int64_t end = in.start + in.replicas;
  auto revision_for_new = [&](int64_t ordinal) {
    return in.rolling && ordinal < in.start + in.partition ? in.current_revision : in.update_revision;
  };

  bool any_unhealthy = false;
  for (int64_t i = in.start; i < end; ++i) {
    auto it = in.pods.find(i);
    if (it == in.pods.end()) {
      out.push_back({StatefulSetAction::kCreate, i, revision_for_new(i)});
      if (monotonic) return out;
      any_unhealthy = true;
      continue;
    }
    const StatefulPodState& p = it->second;
    if (p.finished && !p.terminating) {
      out.push_back({StatefulSetAction::kDelete, i, ""});
      if (monotonic) return out;
      any_unhealthy = true;
      continue;
    }
    if (!p.healthy) {
      any_unhealthy = true;
      if (monotonic) return out;
    }
  }

  std::vector<int64_t> condemned;
  for (const auto& [ordinal, p] : in.pods) {
    if (ordinal < in.start || ordinal >= end) condemned.push_back(ordinal);
  }
  std::sort(condemned.rbegin(), condemned.rend());
  for (size_t k = 0; k < condemned.size(); ++k) {
    const StatefulPodState& p = in.pods.at(condemned[k]);
    if (p.terminating) {
      if (monotonic) return out;
      continue;
    }
    // Ordered scale-down waits for every other pod to be healthy first.
    if (monotonic) {
      bool others_unhealthy = any_unhealthy;
      for (size_t j = k + 1; j < condemned.size(); ++j) {
        if (!in.pods.at(condemned[j]).healthy) others_unhealthy = true;
      }
      if (others_unhealthy) return out;
    }
    out.push_back({StatefulSetAction::kDelete, condemned[k], ""});
    if (monotonic) return out;
  }

  if (!in.rolling) return out;
  // Parallel creations or deletions in flight: the update waits for them.
  if (!out.empty()) return out;
  for (int64_t i = end - 1; i >= in.start + std::max<int64_t>(in.partition, 0); --i) {
    auto it = in.pods.find(i);
    if (it == in.pods.end()) return out;
    const StatefulPodState& p = it->second;
    if (p.revision != in.update_revision && !p.terminating) {
      out.push_back({StatefulSetAction::kDelete, i, ""});
      return out;
    }
    if (!p.healthy) return out;
  }
  return out;
}

}  // namespace kite::controllers
