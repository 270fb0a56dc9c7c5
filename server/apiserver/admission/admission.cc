// Create-time admission for built-in kinds, run by every path that creates an object (POST and
// server-side apply to a missing object), after defaulting and validation and before storage:
// - Pods: ServiceAccount (service_account.h: the default account, the token volume),
//   DefaultTolerationSeconds, RuntimeClass, then Priority (below).
// - Services: cluster IP and node port allocation (service_addresses.cc).
// - PersistentVolumeClaims: DefaultStorageClass — a claim without spec.storageClassName (absent
//   or null; "" asks for no class) gets the default StorageClass (annotation
//   storageclass.kubernetes.io/is-default-class "true"), the newest when several are, as
//   upstream's plugin chooses; none: the claim is left without a class.
//
// Priority follows upstream's Priority admission plugin: spec.priorityClassName names a
// PriorityClass whose value becomes spec.priority and whose preemptionPolicy becomes
// spec.preemptionPolicy; without a name, the globalDefault class with the lowest value is used
// (and its name recorded), or priority 0 with PreemptLowerPriority when there is none. A class
// that does not exist, or a spec.priority / spec.preemptionPolicy that disagrees with the class,
// is 403 Forbidden with upstream's wording.
//
// RuntimeClass follows upstream's RuntimeClass admission plugin: spec.runtimeClassName must name
// an existing RuntimeClass (else 403 "pod rejected: RuntimeClass "x" not found"); its
// overhead.podFixed becomes spec.overhead (a pod that gives another overhead, or one without the
// class defining any, is refused; compared as JSON, so "1" and "1000m" differ), and its
// scheduling.nodeSelector and tolerations are merged into the pod's (a nodeSelector key the pod
// sets to another value is refused).
#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "api/object.h"
#include "api/defaults.h"
#include "server/apiserver/admission/service_account.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct PriorityChoice {
  std::string class_name;
  int64_t value = 0;
  std::string preemption_policy = "PreemptLowerPriority";
};

PriorityChoice FromClass(const json::object& pc) {
  PriorityChoice p;
  if (auto* m = pc.if_contains("metadata"); m && m->is_object()) p.class_name = api::GetString(m->as_object(), "name");
  if (auto* v = pc.if_contains("value"); v && v->is_int64()) p.value = v->as_int64();
  if (std::string policy = api::GetString(pc, "preemptionPolicy"); !policy.empty()) p.preemption_policy = policy;
  return p;
}

Status PodForbidden(const json::object& pod, const std::string& why) {
  json::object empty;
  const json::object* meta = &empty;
  if (auto* m = pod.if_contains("metadata"); m && m->is_object()) meta = &m->as_object();
  std::string name = api::GetString(*meta, "name");
  Status::Details d;
  d.name = name;
  d.kind = "pods";
  return Forbidden("pods \"" + name + "\" is forbidden: " + why).set_details(std::move(d));
}

// The default class among a StorageClass list, or "" (newest creationTimestamp, then name).
std::string DefaultStorageClass(const json::object& list) {
  std::string best, best_created;
  for (const json::value& item : api::GetArray(list, "items")) {
    if (!item.is_object()) continue;
    const json::object& sc = item.as_object();
    if (api::GetString(api::Annotations(sc), "storageclass.kubernetes.io/is-default-class") != "true" &&
        api::GetString(api::Annotations(sc), "storageclass.beta.kubernetes.io/is-default-class") != "true") {
      continue;
    }
    const std::string created = api::GetString(api::Metadata(sc), "creationTimestamp");
    const std::string name = api::Name(sc);
    if (best.empty() || created > best_created || (created == best_created && name < best)) {
      best = name;
      best_created = created;
    }
  }
  return best;
}

}  // namespace

asio::awaitable<Result<int64_t>> ResourceHandlers::AdmitPodPriority(json::object& pod) {
  json::value& sv = pod["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  const api::ResourceInfo* classes = api::FindResource("scheduling.k8s.io", "v1", "priorityclasses");
  PriorityChoice chosen;
  const std::string name = api::GetString(spec, "priorityClassName");
  const std::string cluster_scope;
  if (!name.empty()) {
    auto pc = co_await registry_.Get(*classes, cluster_scope, name);
    if (!pc.ok()) {
      if (pc.error().http_code() == 404) co_return PodForbidden(pod, "no PriorityClass with name " + name + " was found");
      co_return pc.error();
    }
    chosen = FromClass(pc.value());
  } else {
    const ListOptions everything;
    auto all = co_await registry_.List(*classes, cluster_scope, everything);
    if (!all.ok()) co_return all.error();
    std::optional<PriorityChoice> best;
    if (auto* items = all.value().if_contains("items"); items && items->is_array()) {
      for (const json::value& item : items->as_array()) {
        if (!item.is_object()) continue;
        const json::value* def = item.as_object().if_contains("globalDefault");
        if (!def || !def->is_bool() || !def->as_bool()) continue;
        PriorityChoice p = FromClass(item.as_object());
        if (!best || p.value < best->value) best = p;
      }
    }
    if (best) chosen = *best;
  }
  if (const json::value* given = spec.if_contains("priority"); given && !given->is_null()) {
    if (!given->is_int64() || given->as_int64() != chosen.value) {
      co_return PodForbidden(pod, "the integer value of priority (" + json::serialize(*given) +
                                      ") must not be provided in pod spec; priority admission controller computed " +
                                      std::to_string(chosen.value) + " from the given PriorityClass name");
    }
  }
  if (std::string given = api::GetString(spec, "preemptionPolicy"); !given.empty() && given != chosen.preemption_policy) {
    co_return PodForbidden(pod, "the string value of PreemptionPolicy (" + given +
                                    ") must not be provided in pod spec; priority admission controller computed " +
                                    chosen.preemption_policy + " from the given PriorityClass name");
  }
  if (!chosen.class_name.empty()) spec["priorityClassName"] = chosen.class_name;
  spec["priority"] = chosen.value;
  spec["preemptionPolicy"] = chosen.preemption_policy;
  co_return chosen.value;
}

asio::awaitable<Status> ResourceHandlers::AdmitPodRuntimeClass(json::object& pod) {
  json::value& sv = pod["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  const std::string name = api::GetString(spec, "runtimeClassName");
  if (name.empty()) co_return Status::Ok();
  const api::ResourceInfo* classes = api::FindResource("node.k8s.io", "v1", "runtimeclasses");
  const std::string cluster_scope;
  auto rc = co_await registry_.Get(*classes, cluster_scope, name);
  if (!rc.ok()) {
    if (rc.error().http_code() == 404) co_return PodForbidden(pod, "pod rejected: RuntimeClass \"" + name + "\" not found");
    co_return rc.error();
  }
  const json::object& cls = rc.value();
  const json::value* given = spec.if_contains("overhead");
  const bool has_given = given && !given->is_null();
  if (const json::value* fixed = api::GetObject(cls, "overhead").if_contains("podFixed"); fixed && fixed->is_object()) {
    if (has_given && *given != *fixed) {
      co_return PodForbidden(pod, "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    }
    spec["overhead"] = *fixed;
  } else if (has_given) {
    co_return PodForbidden(pod, "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
  }
  const json::object& scheduling = api::GetObject(cls, "scheduling");
  if (const json::object& selector = api::GetObject(scheduling, "nodeSelector"); !selector.empty()) {
    json::value& pv = spec["nodeSelector"];
    if (!pv.is_object()) pv = json::object();
    json::object& pod_selector = pv.as_object();
    for (const auto& kv : selector) {
      if (!kv.value().is_string()) continue;
      const std::string key(kv.key()), want(kv.value().as_string());
      if (const json::value* have = pod_selector.if_contains(key); have && have->is_string() && have->as_string() != want) {
        co_return PodForbidden(pod, "conflict: runtimeClass.scheduling.nodeSelector[" + key + "] = " + want +
                                        "; pod.spec.nodeSelector[" + key + "] = " + std::string(have->as_string()));
      }
      pod_selector[key] = want;
    }
  }
  if (const json::array& tolerations = api::GetArray(scheduling, "tolerations"); !tolerations.empty()) {
    json::value& tv = spec["tolerations"];
    if (!tv.is_array()) tv = json::array();
    json::array& pod_tolerations = tv.as_array();
    for (const json::value& t : tolerations) {
      if (std::find(pod_tolerations.begin(), pod_tolerations.end(), t) == pod_tolerations.end()) pod_tolerations.push_back(t);
    }
  }
  co_return Status::Ok();
}

asio::awaitable<Result<int64_t>> ResourceHandlers::AdmitCreate(const api::ResourceInfo& r, const std::string& ns, json::object& obj,
                                                               ServiceAddressHolds::Hold* hold) {
  if (!r.group.empty()) co_return int64_t{0};
  if (r.kind == "Pod") {
    if (obj["spec"].is_object()) {
      if (const std::string sa_name = DefaultServiceAccountName(obj); !sa_name.empty()) {
        auto sa = co_await registry_.Get(*api::FindResource("", "v1", "serviceaccounts"), ns, sa_name);
        if (!sa.ok() && !sa.NotFound()) co_return sa.error();
        if (Status s = AdmitServiceAccount(obj, ns, sa.ok() ? &sa.value() : nullptr); !s.ok()) co_return s;
      }
      api::AddDefaultTolerationSeconds(obj["spec"].as_object());
    }
    Status runtime_class = co_await AdmitPodRuntimeClass(obj);
    if (!runtime_class.ok()) co_return runtime_class;
    co_return co_await AdmitPodPriority(obj);
  }
  if (r.kind == "Service") co_return co_await AllocateServiceAddresses(obj, ns, nullptr, hold);
  if (r.kind == "PersistentVolumeClaim") {
    json::value& sv = obj["spec"];
    if (!sv.is_object()) sv = json::object();
    const json::value* given = sv.as_object().if_contains("storageClassName");
    if (given && !given->is_null()) co_return int64_t{0};
    const api::ResourceInfo* classes = api::FindResource("storage.k8s.io", "v1", "storageclasses");
    const std::string cluster_scope;
    const ListOptions everything;
    auto all = co_await registry_.List(*classes, cluster_scope, everything);
    if (!all.ok()) co_return all.error();
    if (std::string name = DefaultStorageClass(all.value()); !name.empty()) sv.as_object()["storageClassName"] = name;
  }
  co_return int64_t{0};
}

asio::awaitable<Result<int64_t>> ResourceHandlers::AdmitUpdate(const api::ResourceInfo& r, json::object& obj,
                                                              const json::object& old, ServiceAddressHolds::Hold* hold) {
  if (r.group.empty() && r.kind == "Service") {
    const std::string ns = api::GetString(api::GetObject(old, "metadata"), "namespace");
    co_return co_await AllocateServiceAddresses(obj, ns, &old, hold);
  }
  co_return int64_t{0};
}

}  // namespace kite::apiserver
