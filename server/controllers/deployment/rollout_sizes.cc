// The Deployment controller's sizing arithmetic (deployment_controller.h): the pod-template-hash,
// maxSurge/maxUnavailable, proportional scaling. Pure functions of their arguments.
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

#include "api/int_or_string.h"
#include "api/object.h"
#include "server/controllers/common/history.h"
#include "server/controllers/deployment/deployment_controller.h"

namespace kite::controllers {
namespace json = boost::json;

std::vector<int64_t> ProportionalSizes(const std::vector<ActiveReplicaSet>& sets, int64_t deployment_replicas,
                                       int64_t allowed, int64_t status_replicas) {
  int64_t total = 0;
  for (const auto& rs : sets) total += rs.replicas;
  const int64_t to_add = allowed - total;
  std::vector<int64_t> sizes(sets.size());
  for (size_t i = 0; i < sets.size(); ++i) sizes[i] = sets[i].replicas;
  if (to_add == 0 || sets.empty()) return sizes;
  // Larger sets first; among equal sizes, newer first when growing and older first when
  // shrinking. The first set in this order also takes the rounding leftovers.
  std::vector<size_t> order(sets.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (sets[a].replicas != sets[b].replicas) return sets[a].replicas > sets[b].replicas;
    return to_add > 0 ? sets[a].creation_timestamp > sets[b].creation_timestamp
                      : sets[a].creation_timestamp < sets[b].creation_timestamp;
  });
  int64_t added = 0;
  for (size_t i : order) {
    const ActiveReplicaSet& rs = sets[i];
    if (rs.replicas == 0 || to_add == added) continue;
    int64_t fraction = 0;
    if (deployment_replicas == 0) {
      fraction = -rs.replicas;
    } else {
      const int64_t annotated = rs.max_replicas.value_or(status_replicas);
      if (annotated > 0) {
        const double size = static_cast<double>(rs.replicas) * static_cast<double>(allowed) / static_cast<double>(annotated);
        fraction = std::lround(size) - rs.replicas;
      }
    }
    const int64_t left = to_add - added;
    const int64_t p = to_add > 0 ? std::min(fraction, left) : std::max(fraction, left);
    sizes[i] += p;
    added += p;
  }
  sizes[order[0]] = std::max<int64_t>(0, sizes[order[0]] + to_add - added);
  return sizes;
}

std::string PodTemplateHash(const json::object& pod_template, int64_t collision_count) {
  return RevisionHash(pod_template, collision_count);  // upstream's ComputeHash: the same hash
}

std::pair<int64_t, int64_t> ResolveSurgeUnavailable(const json::object& d) {
  const auto& spec = api::GetObject(d, "spec");
  const auto& strategy = api::GetObject(spec, "strategy");
  if (api::GetString(strategy, "type") == "Recreate") return {0, 0};
  const auto& ru = api::GetObject(strategy, "rollingUpdate");
  const int64_t replicas = api::GetInt(spec, "replicas", 1);
  int64_t surge = api::ScaledIntOrPercent(ru.if_contains("maxSurge"), replicas, true, (replicas + 3) / 4);
  int64_t unavailable = api::ScaledIntOrPercent(ru.if_contains("maxUnavailable"), replicas, false, replicas / 4);
  if (surge == 0 && unavailable == 0) unavailable = 1;
  return {surge, unavailable};
}

}  // namespace kite::controllers
