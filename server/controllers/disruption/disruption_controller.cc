#include "server/controllers/disruption/disruption_controller.h"

#include <boost/json.hpp>

#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "api/conditions.h"
#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "api/time.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/status_update.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace disruption {

Result<int64_t> ScaledValue(const json::value& v, int64_t total) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.as_uint64());
  if (v.is_string()) {
    std::string s(v.as_string());
    if (!s.empty() && s.back() == '%' && s.size() > 1 && s.find_first_not_of("0123456789") == s.size() - 1) {
      int64_t pct = std::stoll(s.substr(0, s.size() - 1));
      return (pct * total + 99) / 100;  // rounded up, as upstream's GetScaledValueFromIntOrPercent(…, true)
    }
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
    return Status(Code::kInvalidArgument, "invalid value for IntOrString: invalid value \"" + s + "\"");
  }
  return Status(Code::kInvalidArgument, "invalid value for IntOrString");
}

Result<Counts> ComputeCounts(const json::object& pdb, int64_t matching_pods, std::optional<int64_t> controller_scale) {
  const auto& spec = api::GetObject(pdb, "spec");
  const json::value* max_unavailable = spec.if_contains("maxUnavailable");
  const json::value* min_available = spec.if_contains("minAvailable");
  Counts c;
  if (max_unavailable && !max_unavailable->is_null()) {
    if (!controller_scale) return Status(Code::kFailedPrecondition, "found no controllers for the pods");
    c.expected = *controller_scale;
    auto mu = ScaledValue(*max_unavailable, c.expected);
    if (!mu.ok()) return mu.status();
    c.desired_healthy = std::max<int64_t>(0, c.expected - mu.value());
    return c;
  }
  if (min_available && !min_available->is_null()) {
    if (min_available->is_string() && std::string(min_available->as_string()).find('%') != std::string::npos) {
      if (!controller_scale) return Status(Code::kFailedPrecondition, "found no controllers for the pods");
      c.expected = *controller_scale;
    } else {
      c.expected = matching_pods;
    }
    auto ma = ScaledValue(*min_available, c.expected);
    if (!ma.ok()) return ma.status();
    c.desired_healthy = ma.value();
    return c;
  }
  // Neither set: upstream's defaulting gives minAvailable 1.
  c.expected = matching_pods;
  c.desired_healthy = 1;
  return c;
}

}  // namespace disruption

namespace {

class DisruptionController final : public client::Controller {
 public:
  explicit DisruptionController(const client::Client* c, const kite::Clock* clock)
      : Controller("disruption", 2, clock),
        client_(c), pdb_r_(api::FindResource("policy", "v1", "poddisruptionbudgets")) {}

  void Init(client::InformerFactory& f) override {
    pdbs_ = f.For(*pdb_r_);
    pods_ = f.For("", "v1", "pods");
    rss_ = f.For("apps", "v1", "replicasets");
    deployments_ = f.For("apps", "v1", "deployments");
    statefulsets_ = f.For("apps", "v1", "statefulsets");
    rcs_ = f.For("", "v1", "replicationcontrollers");
    pdbs_->AddHandler(client::EnqueueSelf(&queue_));
    auto pod = [this](const ObjectPtr& p) { EnqueueBudgetsOf(*p); };
    pods_->AddHandler(client::EventHandler{pod, [pod](const ObjectPtr& old_pod, const ObjectPtr& p) {
                                             pod(p);
                                             if (api::Labels(*old_pod) != api::Labels(*p)) pod(old_pod);
                                           },
                                           pod});
    // A controller's replicas change a percentage budget's expectation: look at every budget of
    // that namespace.
    auto scale = [this](const ObjectPtr& o) {
      for (const auto& b : pdbs_->List(api::Namespace(*o))) queue_.Add(client::Key(*b));
    };
    for (auto* inf : {rss_, deployments_, statefulsets_, rcs_}) {
      inf->AddHandler(client::EventHandler{nullptr, [scale](const ObjectPtr&, const ObjectPtr& o) { scale(o); }, nullptr});
    }
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr pdb = pdbs_->Get(ns, name);
    if (!pdb) return Status::Ok();
    const auto& spec = api::GetObject(*pdb, "spec");
    api::LabelSelector sel = api::LabelSelector::Nothing();
    if (auto* s = spec.if_contains("selector"); s && !s->is_null()) {
      auto parsed = api::LabelSelector::FromLabelSelectorJson(*s);
      if (parsed.ok()) sel = parsed.value();
    }
    std::vector<ObjectPtr> pods;
    for (const auto& p : pods_->List(ns)) {
      if (api::LabelsMatch(sel, *p)) pods.push_back(p);
    }
    json::object want = api::GetObject(*pdb, "status");
    // Pods the eviction subresource has just let go are not healthy any more, though their
    // deletion may not have been seen yet (upstream's DeletionTimeout: two minutes).
    PruneDisrupted(want, key);
    const json::object& disrupted = api::GetObject(want, "disruptedPods");
    int64_t healthy = 0;
    for (const auto& p : pods) {
      const auto& meta = api::Metadata(*p);
      if (meta.contains("deletionTimestamp") || disrupted.contains(api::GetString(meta, "name"))) continue;
      if (api::IsPodReady(*p)) ++healthy;
    }
    auto counts = disruption::ComputeCounts(*pdb, static_cast<int64_t>(pods.size()), ControllerScale(pods));
    const std::string now = api::FormatTime(clock()->Now());
    if (!counts.ok()) {
      want["disruptionsAllowed"] = 0;
      SetDisruptionAllowed(want, "False", "SyncFailed", counts.status().message(), now);
    } else {
      int64_t allowed = std::max<int64_t>(0, healthy - counts->desired_healthy);
      if (counts->expected <= 0 && allowed > 0) allowed = 0;
      want["currentHealthy"] = healthy;
      want["desiredHealthy"] = counts->desired_healthy;
      want["expectedPods"] = counts->expected;
      want["disruptionsAllowed"] = allowed;
      SetDisruptionAllowed(want, allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods", "", now);
    }
    want["observedGeneration"] = api::GetInt(*pdb, {"metadata", "generation"}, 1);
    return client::UpdateStatusIfChanged(*client_, *pdb_r_, *pdb, std::move(want));
  }

 private:
  void EnqueueBudgetsOf(const json::object& pod) {
    for (const auto& b : pdbs_->List(api::Namespace(pod))) {
      const auto* s = api::GetObject(*b, "spec").if_contains("selector");
      if (!s || s->is_null()) continue;
      auto parsed = api::LabelSelector::FromLabelSelectorJson(*s);
      if (parsed.ok() && api::LabelsMatch(parsed.value(), pod)) queue_.Add(client::Key(*b));
    }
  }

  // The summed replicas of the pods' controllers (a Deployment counts for its ReplicaSets), or
  // nullopt if a pod has none of the kinds a scale is known for.
  std::optional<int64_t> ControllerScale(const std::vector<ObjectPtr>& pods) {
    std::set<std::string> seen;
    int64_t total = 0;
    for (const auto& p : pods) {
      const json::object* ref = api::ControllerOf(*p);
      if (!ref) return std::nullopt;
      const std::string ns = api::Namespace(*p);
      const std::string kind = api::GetString(*ref, "kind");
      ObjectPtr owner;
      if (kind == "ReplicaSet") {
        owner = rss_->Get(ns, api::GetString(*ref, "name"));
        if (owner) {
          if (const json::object* dref = api::ControllerOf(*owner); dref && api::GetString(*dref, "kind") == "Deployment") {
            if (ObjectPtr d = deployments_->Get(ns, api::GetString(*dref, "name"))) owner = d;
          }
        }
      } else if (kind == "StatefulSet") {
        owner = statefulsets_->Get(ns, api::GetString(*ref, "name"));
      } else if (kind == "ReplicationController") {
        owner = rcs_->Get(ns, api::GetString(*ref, "name"));
      }
      if (!owner) return std::nullopt;
      if (seen.insert(api::Uid(*owner)).second) total += api::GetInt(*owner, {"spec", "replicas"}, 1);
    }
    return total;
  }

  // The one condition of a PodDisruptionBudget, DisruptionAllowed.
  static void SetDisruptionAllowed(json::object& status, const char* value, const char* reason,
                                   const std::string& message, const std::string& now) {
    api::SetCondition(status, api::NewCondition("DisruptionAllowed", value, reason, message, now));
  }

  // Drops disruptedPods entries whose pod is gone or terminating, or that are older than the
  // deletion timeout; the budget is looked at again when the oldest kept entry times out.
  void PruneDisrupted(json::object& status, const std::string& key) {
    auto* dp = status.if_contains("disruptedPods");
    if (!dp || !dp->is_object()) return;
    constexpr auto kDeletionTimeout = std::chrono::minutes(2);
    const std::string ns = client::SplitKey(key).first;
    const auto now = clock()->Now();
    json::object kept;
    std::optional<std::chrono::system_clock::duration> recheck;
    for (const auto& [pod, when] : dp->as_object()) {
      auto t = when.is_string() ? api::ParseTime(when.as_string()) : std::nullopt;
      if (!t || now - *t > kDeletionTimeout) continue;
      ObjectPtr p = pods_->Get(ns, std::string(pod));
      if (!p || api::IsBeingDeleted(*p)) continue;
      kept[pod] = when;
      auto left = *t + kDeletionTimeout - now;
      if (!recheck || left < *recheck) recheck = left;
    }
    if (recheck) queue_.AddAfter(key, *recheck + std::chrono::seconds(1));
    if (kept.empty()) status.erase("disruptedPods");
    else status["disruptedPods"] = std::move(kept);
  }

  const client::Client* client_;
  const api::ResourceInfo* pdb_r_;
  client::Informer* pdbs_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* rss_ = nullptr;
  client::Informer* deployments_ = nullptr;
  client::Informer* statefulsets_ = nullptr;
  client::Informer* rcs_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewDisruptionController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<DisruptionController>(client, clock);
}

}  // namespace kite::controllers
