#include "server/controllers/resourcequota/resource_quota_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <string_view>

#include "api/object.h"
#include "api/quantity.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/resync.h"
#include "server/controllers/common/served_resources.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace quota {

namespace {

bool IsTerminal(const json::object& pod) {
  std::string phase = api::GetString(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

bool IsBestEffort(const json::object& pod) {
  for (const char* list : {"containers", "initContainers"}) {
    for (const auto& c : api::GetArray(api::GetObject(pod, "spec"), list)) {
      if (!c.is_object()) continue;
      const auto& res = api::GetObject(c.as_object(), "resources");
      if (!api::GetObject(res, "requests").empty() || !api::GetObject(res, "limits").empty()) return false;
    }
  }
  return true;
}

bool InScopes(const json::object& pod, const std::vector<std::string>& scopes) {
  const bool terminating = api::GetObject(pod, "spec").contains("activeDeadlineSeconds");
  for (const auto& s : scopes) {
    if (s == "Terminating" && !terminating) return false;
    if (s == "NotTerminating" && terminating) return false;
    if (s == "BestEffort" && !IsBestEffort(pod)) return false;
    if (s == "NotBestEffort" && IsBestEffort(pod)) return false;
  }
  return true;
}

api::Quantity Amount(const json::object& res, const char* kind, const std::string& name) {
  auto* v = api::GetObject(res, kind).if_contains(name);
  if (!v) return {};
  auto q = api::Quantity::FromJson(*v);
  return q.ok() ? q.value() : api::Quantity();
}

// Upstream's PodRequests/PodLimits: the larger of the containers' sum and the biggest init
// container, plus the pod overhead.
api::Quantity PodAmount(const json::object& pod, const char* kind, const std::string& name) {
  const auto& spec = api::GetObject(pod, "spec");
  api::Quantity sum;
  for (const auto& c : api::GetArray(spec, "containers")) {
    if (c.is_object()) (void)sum.Add(Amount(api::GetObject(c.as_object(), "resources"), kind, name));
  }
  for (const auto& c : api::GetArray(spec, "initContainers")) {
    if (!c.is_object()) continue;
    api::Quantity init = Amount(api::GetObject(c.as_object(), "resources"), kind, name);
    if (init > sum) sum = init;
  }
  // An unset limit means unbounded: overhead is only added to limits that are set.
  const bool limits = std::string_view(kind) == "limits";
  if (auto* o = api::GetObject(spec, "overhead").if_contains(name); o && (!limits || !sum.IsZero())) {
    if (auto q = api::Quantity::FromJson(*o); q.ok()) (void)sum.Add(q.value());
  }
  return sum;
}

}  // namespace

std::optional<std::string> PodUsage(const std::string& resource, const std::vector<client::ObjectPtr>& pods,
                                    const std::vector<std::string>& scopes) {
  std::vector<const json::object*> counted;
  for (const auto& p : pods) {
    if (!IsTerminal(*p) && InScopes(*p, scopes)) counted.push_back(p.get());
  }
  if (resource == "pods" || resource == "count/pods") return std::to_string(counted.size());
  const char* kind = nullptr;
  std::string name;
  if (resource == "cpu" || resource == "memory" || resource == "ephemeral-storage") {
    kind = "requests";
    name = resource;
  } else if (resource.rfind("requests.", 0) == 0 && resource != "requests.storage") {
    kind = "requests";
    name = resource.substr(9);
  } else if (resource.rfind("limits.", 0) == 0) {
    kind = "limits";
    name = resource.substr(7);
  } else {
    return std::nullopt;
  }
  api::Quantity total;
  for (const auto* p : counted) (void)total.Add(PodAmount(*p, kind, name));
  return total.String();
}

}  // namespace quota

namespace {

class ResourceQuotaController final : public client::Controller {
 public:
  explicit ResourceQuotaController(const client::Client* c, const kite::Clock* clock)
      : Controller("resourcequota", 2, clock), client_(c), quota_r_(api::FindResource("", "v1", "resourcequotas")) {}

  void Init(client::InformerFactory& f) override {
    quotas_ = f.For(*quota_r_);
    quotas_->AddHandler(client::EnqueueSelf(&queue_));
    // Changes to what quotas count bring every quota of that namespace up to date.
    auto ns_changed = [this](const ObjectPtr& o) {
      for (const auto& q : quotas_->List(api::Namespace(*o))) queue_.Add(client::Key(*q));
    };
    client::EventHandler h{ns_changed, [ns_changed](const ObjectPtr&, const ObjectPtr& o) { ns_changed(o); }, ns_changed};
    for (const char* r : {"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers"}) {
      counted_[r] = f.For("", "v1", r);
      counted_[r]->AddHandler(h);
    }
    counted_["resourcequotas"] = quotas_;
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr q = quotas_->Get(ns, name);
    if (!q) {
      resync_.Forget(key);
      return Status::Ok();
    }
    const auto& spec = api::GetObject(*q, "spec");
    const std::vector<std::string> scopes = api::GetStrings(spec, "scopes");
    const auto pods = counted_["pods"]->List(ns);
    json::object used;
    for (const auto& [res, limit] : api::GetObject(spec, "hard")) {
      const std::string r(res);
      if (auto u = quota::PodUsage(r, pods, scopes)) {
        used[r] = *u;
      } else if (auto n = ObjectUsage(r, ns); n.ok()) {
        if (!n->empty()) used[r] = *n;
      } else {
        return n.status();
      }
    }
    json::object want = api::GetObject(*q, "status");
    want["hard"] = api::GetObject(spec, "hard");
    want["used"] = std::move(used);
    resync_.After(queue_, key, std::chrono::minutes(5));  // upstream's full resync period
    return client::UpdateStatusIfChanged(*client_, *quota_r_, *q, std::move(want));
  }

 private:
  // Counts and storage of objects; "" for a name without an evaluator.
  Result<std::string> ObjectUsage(const std::string& res, const std::string& ns) {
    auto count = [&](const char* r) { return std::to_string(counted_[r]->List(ns).size()); };
    if (res == "services" || res == "configmaps" || res == "secrets" || res == "persistentvolumeclaims" ||
        res == "replicationcontrollers" || res == "resourcequotas") {
      return count(res.c_str());
    }
    if (res == "services.nodeports" || res == "services.loadbalancers") {
      int64_t n = 0;
      for (const auto& s : counted_["services"]->List(ns)) {
        const std::string type = api::GetString(*s, {"spec", "type"});
        if (res == "services.loadbalancers") n += type == "LoadBalancer";
        else if (type == "NodePort" || type == "LoadBalancer") n += static_cast<int64_t>(api::GetArray(*s, {"spec", "ports"}).size());
      }
      return std::to_string(n);
    }
    if (res == "requests.storage") {
      api::Quantity total;
      for (const auto& c : counted_["persistentvolumeclaims"]->List(ns)) {
        if (auto* v = api::GetObject(*c, {"spec", "resources", "requests"}).if_contains("storage")) {
          if (auto q = api::Quantity::FromJson(*v); q.ok()) (void)total.Add(q.value());
        }
      }
      return total.String();
    }
    if (res.rfind("count/", 0) == 0) {
      // count/<resource>[.<group>]: listed live, whatever the resource.
      std::string rest = res.substr(6);
      auto dot = rest.find('.');
      std::string resource = rest.substr(0, dot), group = dot == std::string::npos ? "" : rest.substr(dot + 1);
      if (group.empty() && counted_.count(resource)) return count(resource.c_str());
      for (const auto* r : SweepableBuiltins(false)) {
        if (r->resource != resource || r->group != group || !r->namespaced) continue;
        auto list = client_->List(*r, ns);
        if (!list.ok()) return list.error().Annotate("counting " + rest);
        return std::to_string(api::GetArray(*list, "items").size());
      }
      return std::string();
    }
    return std::string();
  }

  const client::Client* client_;
  const api::ResourceInfo* quota_r_;
  client::Informer* quotas_ = nullptr;
  std::map<std::string, client::Informer*> counted_;  // written in Init only
  Resync resync_;
};

}  // namespace

std::unique_ptr<client::Controller> NewResourceQuotaController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<ResourceQuotaController>(client, clock);
}

}  // namespace kite::controllers
