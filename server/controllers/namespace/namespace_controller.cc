#include "server/controllers/namespace/namespace_controller.h"

#include <boost/json.hpp>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/resync.h"
#include "server/controllers/common/served_resources.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace ns {

json::array DeletionConditions(const Remaining& r, const json::array& current, const std::string& now) {
  auto Condition = [&now](const char* type, bool status, const char* reason, const std::string& message) {
    return api::NewCondition(type, status ? "True" : "False", reason, message, now);
  };
  std::vector<json::object> want;
  want.push_back(Condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered",
                           "All resources successfully discovered"));
  want.push_back(Condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions",
                           "All legacy kube types successfully parsed"));
  if (r.failures.empty()) {
    want.push_back(Condition("NamespaceDeletionContentFailure", false, "ContentDeleted",
                             "All content successfully deleted, may be waiting on finalization"));
  } else {
    std::string list;
    for (const auto& [res, err] : r.failures) list += (list.empty() ? "" : ", ") + res + ": " + err;
    want.push_back(Condition("NamespaceDeletionContentFailure", true, "ContentDeletionFailed",
                             "Failed to delete all resource types, " + std::to_string(r.failures.size()) +
                                 " remaining: " + list));
  }
  if (r.resources.empty()) {
    want.push_back(Condition("NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed"));
  } else {
    std::string list;
    for (const auto& [res, n] : r.resources) {
      list += (list.empty() ? "" : ", ") + res + " has " + std::to_string(n) + " resource instances";
    }
    want.push_back(Condition("NamespaceContentRemaining", true, "SomeResourcesRemain", "Some resources are remaining: " + list));
  }
  if (r.finalizers.empty()) {
    want.push_back(Condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers",
                             "All content-preserving finalizers finished"));
  } else {
    std::string list;
    for (const auto& [f, n] : r.finalizers) {
      list += (list.empty() ? "" : ", ") + f + " in " + std::to_string(n) + " resource instances";
    }
    want.push_back(Condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                             "Some content in the namespace has finalizers remaining: " + list));
  }
  // Each condition keeps its transition time while its status stays; only these five are kept.
  json::object status{{"conditions", current}};
  json::array out;
  for (auto& c : want) {
    const std::string type = api::GetString(c, "type");
    api::SetCondition(status, std::move(c));
    out.push_back(*api::FindCondition(status, type));
  }
  return out;
}

}  // namespace ns

namespace {

constexpr const char kFinalizer[] = "kubernetes";

class NamespaceController final : public client::Controller {
 public:
  explicit NamespaceController(const client::Client* c, const kite::Clock* clock)
      : Controller("namespace", 2, clock), client_(c), nsr_(api::FindResource("", "v1", "namespaces")),
        crdr_(api::FindResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")) {}

  void Init(client::InformerFactory& f) override {
    namespaces_ = f.For(*nsr_);
    namespaces_->AddHandler(client::EnqueueSelf(&queue_));
  }

  Status Reconcile(const std::string& key) override {
    ObjectPtr cached = namespaces_->Get("", key);
    if (!cached || !api::IsBeingDeleted(*cached)) {
      resync_.Forget(key);
      return Status::Ok();
    }
    // Work on the live object: a stale cache must not finalize a namespace twice.
    auto live = client_->Get(*nsr_, "", key);
    if (live.NotFound()) return Status::Ok();
    if (!live.ok()) return live.error().Annotate("reading namespace " + key);
    json::object nsobj = std::move(live.value());
    if (!api::IsBeingDeleted(nsobj)) return Status::Ok();
    bool ours = false;
    for (const auto& f : api::GetArray(nsobj, {"spec", "finalizers"})) ours |= f.is_string() && f.as_string() == kFinalizer;
    if (!ours) return Status::Ok();

    ns::Remaining rem = DeleteContent(key);
    if (auto s = UpdateStatus(nsobj, rem); !s.ok()) return s;
    if (!rem.resources.empty() || !rem.failures.empty()) {
      // Objects in graceful deletion or held by finalizers: look again shortly.
      resync_.After(queue_, key, std::chrono::seconds(rem.failures.empty() ? 1 : 5));
      return Status::Ok();
    }
    return Finalize(nsobj);
  }

 private:
  // Every resource to sweep: the built-ins plus what the CRDs serve (listed live, so a CRD
  // created a moment ago is not missed).
  std::vector<api::ResourceInfo> Resources(ns::Remaining& rem) {
    std::vector<api::ResourceInfo> out;
    for (const auto* r : SweepableBuiltins(false)) {
      if (r->namespaced) out.push_back(*r);
    }
    auto crds = client_->List(*crdr_, "");
    if (!crds.ok()) {
      rem.failures["customresourcedefinitions.apiextensions.k8s.io"] = crds.error().message();
      return out;
    }
    for (const auto& item : api::GetArray(*crds, "items")) {
      if (!item.is_object()) continue;
      auto r = CustomResourceOf(item.as_object());
      if (r && r->namespaced) out.push_back(std::move(*r));
    }
    return out;
  }

  ns::Remaining DeleteContent(const std::string& ns) {
    ns::Remaining rem;
    for (const auto& r : Resources(rem)) {
      const std::string gr = r.resource + "." + r.group;  // upstream's spelling: "pods." for the core group
      auto list = client_->List(r, ns);
      if (!list.ok()) {
        if (list.error().http_code() != 404) rem.failures[gr] = list.error().message();
        continue;
      }
      int64_t left = 0;
      for (const auto& item : api::GetArray(*list, "items")) {
        if (!item.is_object()) continue;
        const auto& m = api::Metadata(item.as_object());
        ++left;
        for (const auto& f : api::GetArray(m, "finalizers")) {
          if (f.is_string()) ++rem.finalizers[std::string(f.as_string())];
        }
        if (m.contains("deletionTimestamp")) continue;  // already on its way
        client::DeleteParams p;
        p.propagation_policy = "Background";
        p.precondition_uid = api::GetString(m, "uid");
        auto d = client_->Delete(r, ns, api::GetString(m, "name"), p);
        if (d.NotFound()) {
          --left;
          continue;
        }
        if (!d.ok() && d.error().http_code() != 409) {
          rem.failures[gr] = d.error().message();
          continue;
        }
        // Deleted at once unless it answered with the object still pending.
        if (d.ok() && api::GetString(*d, "kind") == "Status") --left;
        else if (d.ok() && !api::IsBeingDeleted(*d)) --left;
      }
      if (left > 0) rem.resources[gr] = left;
    }
    return rem;
  }

  Status UpdateStatus(json::object& nsobj, const ns::Remaining& rem) {
    json::object status = api::GetObject(nsobj, "status");
    status["conditions"] = ns::DeletionConditions(rem, api::GetArray(status, "conditions"), api::FormatTime(clock()->Now()));
    status["phase"] = "Terminating";
    std::optional<json::object> written;
    if (auto s = client::UpdateStatusIfChanged(*client_, *nsr_, nsobj, std::move(status), &written); !s.ok()) return s;
    if (written) nsobj = std::move(*written);
    return Status::Ok();
  }

  Status Finalize(json::object nsobj) {
    json::array kept;
    for (const auto& f : api::GetArray(nsobj, {"spec", "finalizers"})) {
      if (!(f.is_string() && f.as_string() == kFinalizer)) kept.push_back(f);
    }
    nsobj["spec"].as_object()["finalizers"] = std::move(kept);
    const std::string name = api::Name(nsobj);
    auto r = client_->Update(*nsr_, "", nsobj, "finalize");
    if (!r.ok() && !r.NotFound()) return r.error().Annotate("finalizing namespace " + name);
    KITE_LOG(1) << "namespace " << name << ": content removed, finalized";
    return Status::Ok();
  }

  const client::Client* client_;
  const api::ResourceInfo* nsr_;
  const api::ResourceInfo* crdr_;
  client::Informer* namespaces_ = nullptr;
  Resync resync_;
};

}  // namespace

std::unique_ptr<client::Controller> NewNamespaceController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<NamespaceController>(client, clock);
}

}  // namespace kite::controllers
