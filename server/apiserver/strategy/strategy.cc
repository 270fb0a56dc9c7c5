// The generic strategy (what a kind without rules of its own gets), the table of built-in kinds'
// strategies, and validation's one entry point (strategy.h).
#include "server/apiserver/strategy/strategy.h"

#include <boost/json.hpp>

#include <map>
#include <utility>

#include "api/object.h"
#include "api/validation.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver {
namespace json = boost::json;

std::string Strategy::ValidateName(const std::string& name) const {
  auto errs = api::IsDNS1123Subdomain(name);
  return errs.empty() ? "" : errs.front();  // the first (the length one, when too long), as upstream
}
void Strategy::Normalize(json::object&) const {}
void Strategy::PrepareForCreate(json::object&) const {}
void Strategy::PrepareForUpdate(json::object&, const json::object&) const {}
json::object Strategy::EmptyStatus(const api::ResourceInfo&) const { return json::object(); }
bool Strategy::TracksGeneration() const { return true; }
std::optional<Status> Strategy::PrepareForWrite(json::object&, const CustomResources&) const { return std::nullopt; }
bool Strategy::ChangesServedResources() const { return false; }
bool Strategy::ChangesAdmission() const { return false; }
bool Strategy::ChangesAggregation() const { return false; }
void Strategy::Validate(const api::ResourceInfo&, const json::object&, FieldErrors&) const {}
void Strategy::ValidateUpdate(const json::object&, const json::object&, FieldErrors&) const {}
void Strategy::ValidateCreate(const json::object&, FieldErrors&) const {}
void Strategy::PrepareSubresourceUpdate(std::string_view, json::object&, const json::object&) const {}
void Strategy::ValidateSubresourceUpdate(std::string_view, const json::object& obj, const json::object& old,
                                         FieldErrors& e) const {
  ValidateUpdate(obj, old, e);
}
bool Strategy::ResetsStatusOnUpdate() const { return true; }
std::string Strategy::DefaultPropagationPolicy() const { return "Background"; }
int64_t Strategy::BeforeDelete(json::object&, std::optional<int64_t>) const { return 0; }
bool Strategy::DeletionPendingOnDelete(const json::object&) const { return false; }
bool Strategy::DeletionPendingOnUpdate(const json::object&) const { return false; }
bool Strategy::ReturnsDeletedObject() const { return false; }
std::vector<std::string_view> Strategy::SelectableFields() const { return {}; }
std::optional<std::string> Strategy::FieldValue(const json::value&, std::string_view) const { return std::nullopt; }
bool Strategy::SelectorIsLabelMap() const { return false; }
Status Strategy::NodeStreamUnavailable(const api::ResourceInfo& r, const json::object&, const std::string& name,
                                         const std::string&) const {
  return Status::Api(503, "ServiceUnavailable", "no endpoints available for " + r.resource + " \"" + name + "\"");
}

namespace strategies {

json::object ZeroCounters(std::initializer_list<const char*> names) {
  json::object o;
  for (const char* n : names) o[n] = 0;
  return o;
}

}  // namespace strategies

const Strategy& StrategyFor(const api::ResourceInfo& r) {
  static const Strategy kGeneric;
  if (r.custom) return kGeneric;
  using Key = std::pair<std::string_view, std::string_view>;  // group, resource
  static const std::map<Key, const Strategy*> kByResource = {
      {{"", "pods"}, &strategies::Pod()},
      {{"", "namespaces"}, &strategies::Namespace()},
      {{"", "services"}, &strategies::Service()},
      {{"", "secrets"}, &strategies::Secret()},
      {{"", "configmaps"}, &strategies::ConfigMap()},
      {{"", "events"}, &strategies::CoreEvent()},
      {{"", "nodes"}, &strategies::Node()},
      {{"", "persistentvolumeclaims"}, &strategies::PersistentVolumeClaim()},
      {{"", "podtemplates"}, &strategies::PodTemplate()},
      {{"", "replicationcontrollers"}, &strategies::ReplicationController()},
      {{"apps", "deployments"}, &strategies::Deployment()},
      {{"apps", "replicasets"}, &strategies::ReplicaSet()},
      {{"apps", "statefulsets"}, &strategies::StatefulSet()},
      {{"apps", "daemonsets"}, &strategies::DaemonSet()},
      {{"batch", "jobs"}, &strategies::Job()},
      {{"batch", "cronjobs"}, &strategies::CronJob()},
      {{"events.k8s.io", "events"}, &strategies::Event()},
      {{"coordination.k8s.io", "leases"}, &strategies::Lease()},
      {{"autoscaling", "horizontalpodautoscalers"}, &strategies::HorizontalPodAutoscaler()},
      {{"policy", "poddisruptionbudgets"}, &strategies::PodDisruptionBudget()},
      {{"node.k8s.io", "runtimeclasses"}, &strategies::RuntimeClass()},
      {{"apiextensions.k8s.io", "customresourcedefinitions"}, &strategies::CustomResourceDefinition()},
      {{"certificates.k8s.io", "certificatesigningrequests"}, &strategies::CertificateSigningRequest()},
      {{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"}, &strategies::MutatingWebhookConfiguration()},
      {{"admissionregistration.k8s.io", "validatingwebhookconfigurations"}, &strategies::ValidatingWebhookConfiguration()},
      {{"apiregistration.k8s.io", "apiservices"}, &strategies::ApiService()},
  };
  auto it = kByResource.find(Key{r.group, r.resource});
  return it == kByResource.end() ? kGeneric : *it->second;
}

namespace {

std::string QualifiedKind(const api::ResourceInfo& r) { return r.group.empty() ? r.kind : r.kind + "." + r.group; }

}  // namespace

std::optional<Status> InvalidStatus(const api::ResourceInfo& r, const json::object& obj, const FieldErrors& e) {
  if (e.causes.empty()) return std::nullopt;
  const auto mit = obj.find("metadata");
  std::string name = mit != obj.end() && mit->value().is_object() ? api::GetString(mit->value().as_object(), "name") : "";
  std::string list;
  for (size_t i = 0; i < e.causes.size(); ++i) {
    auto& c = e.causes[i];
    list += (i ? ", " : "") + c.field + ": " + c.message;
  }
  Status::Details d;
  d.causes = e.causes;
  d.name = name;
  d.group = r.group;
  d.kind = r.kind;
  return Status::Api(422, "Invalid", QualifiedKind(r) + " " + Quoted(name) + " is invalid: " +
                                         (e.causes.size() > 1 ? "[" + list + "]" : list))
      .set_details(std::move(d));
}

std::optional<Status> ValidateObject(const api::ResourceInfo& r, const json::object& obj) {
  FieldErrors e;
  ValidateMeta(obj, e);
  StrategyFor(r).Validate(r, obj, e);
  return InvalidStatus(r, obj, e);
}

std::optional<Status> ValidateUpdate(const api::ResourceInfo& r, const json::object& obj, const json::object& old,
                                     std::string_view sub) {
  FieldErrors e;
  if (sub.empty()) StrategyFor(r).ValidateUpdate(obj, old, e);
  else StrategyFor(r).ValidateSubresourceUpdate(sub, obj, old, e);
  if (auto err = InvalidStatus(r, obj, e)) return err;
  return ValidateObject(r, obj);
}

std::optional<Status> ValidateCreate(const api::ResourceInfo& r, const json::object& obj) {
  FieldErrors e;
  StrategyFor(r).ValidateCreate(obj, e);
  return InvalidStatus(r, obj, e);
}

std::optional<Status> ValidatePatchedUid(const api::ResourceInfo& r, const json::object& patched, const json::object& old) {
  const std::string uid = api::Uid(patched);
  if (uid.empty() || uid == api::Uid(old)) return std::nullopt;
  FieldErrors e;
  e.Immutable("metadata.uid", Quoted(uid));
  return InvalidStatus(r, patched, e);
}

}  // namespace kite::apiserver
