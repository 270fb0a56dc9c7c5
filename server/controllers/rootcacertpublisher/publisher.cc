#include "server/controllers/rootcacertpublisher/publisher.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char kName[] = "kube-root-ca.crt";
// Upstream's description annotation on the ConfigMap.
constexpr const char kDescription[] =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes "
    "clusters.";

class RootCaCertPublisher final : public client::Controller {
 public:
  RootCaCertPublisher(const client::Client* c, std::string ca, const kite::Clock* clock)
      : Controller("root-ca-cert-publisher", 1, clock), client_(c), cmr_(api::FindResource("", "v1", "configmaps")),
        ca_(std::move(ca)) {}

  void Init(client::InformerFactory& f) override {
    namespaces_ = f.For("", "v1", "namespaces");
    configmaps_ = f.For(*cmr_);
    namespaces_->AddHandler(client::EnqueueSelf(&queue_));
    auto ours = [this](const ObjectPtr& cm) {
      if (api::Name(*cm) == kName) queue_.Add(api::Namespace(*cm));
    };
    configmaps_->AddHandler(client::EventHandler{nullptr, [ours](const ObjectPtr&, const ObjectPtr& cm) { ours(cm); }, ours});
  }

  Status Reconcile(const std::string& ns) override {
    if (ca_.empty()) return Status::Ok();
    ObjectPtr n = namespaces_->Get("", ns);
    if (!n || api::IsBeingDeleted(*n) || api::GetString(*n, {"status", "phase"}) == "Terminating") {
      return Status::Ok();
    }
    const json::object data{{"ca.crt", ca_}};
    ObjectPtr cm = configmaps_->Get(ns, kName);
    if (!cm) {
      json::object obj{{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", json::object{{"name", kName},
                                                 {"annotations", json::object{{"kubernetes.io/description", kDescription}}}}},
                       {"data", data}};
      auto r = client_->Create(*cmr_, ns, obj);
      if (r.ok() || r.AlreadyExists() || r.error().http_code() == 403 || r.NotFound()) return Status::Ok();
      return r.error().Annotate("creating " + std::string(kName) + " in " + ns);
    }
    if (api::GetObject(*cm, "data") == data && !cm->contains("binaryData")) return Status::Ok();
    json::object updated = *cm;
    updated["data"] = data;
    updated.erase("binaryData");
    json::object& meta = updated["metadata"].as_object();
    json::value& ann = meta["annotations"];
    if (!ann.is_object()) ann = json::object();
    ann.as_object()["kubernetes.io/description"] = kDescription;
    auto r = client_->Update(*cmr_, ns, updated);
    if (r.ok() || r.NotFound()) return Status::Ok();
    return r.error().Annotate("updating " + std::string(kName) + " in " + ns);
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* cmr_;
  const std::string ca_;
  client::Informer* namespaces_ = nullptr;
  client::Informer* configmaps_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewRootCaCertPublisher(const client::Client* client, std::string ca_pem,
                                                           const kite::Clock* clock) {
  return std::make_unique<RootCaCertPublisher>(client, std::move(ca_pem), clock);
}

}  // namespace kite::controllers
