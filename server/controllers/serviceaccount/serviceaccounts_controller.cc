#include "server/controllers/serviceaccount/serviceaccounts_controller.h"

#include "api/object.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char kDefault[] = "default";

class ServiceAccountsController final : public client::Controller {
 public:
  explicit ServiceAccountsController(const client::Client* c, const kite::Clock* clock)
      : Controller("serviceaccount", 1, clock), client_(c), sar_(api::FindResource("", "v1", "serviceaccounts")) {}

  void Init(client::InformerFactory& f) override {
    namespaces_ = f.For("", "v1", "namespaces");
    accounts_ = f.For(*sar_);
    namespaces_->AddHandler(client::EnqueueSelf(&queue_));
    // Only a deleted "default" account needs work; the queue key is its namespace.
    accounts_->AddHandler(client::EventHandler{nullptr, nullptr, [this](const ObjectPtr& sa) {
                                                 if (api::Name(*sa) == kDefault) {
                                                   queue_.Add(api::Namespace(*sa));
                                                 }
                                               }});
  }

  Status Reconcile(const std::string& ns) override {
    ObjectPtr n = namespaces_->Get("", ns);
    if (!n || api::IsBeingDeleted(*n) || api::GetString(*n, {"status", "phase"}) == "Terminating") {
      return Status::Ok();
    }
    if (accounts_->Get(ns, kDefault)) return Status::Ok();
    json::object sa{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", json::object{{"name", kDefault}}}};
    auto r = client_->Create(*sar_, ns, sa);
    // AlreadyExists: the cache lagged; Forbidden: the namespace started terminating.
    if (r.ok() || r.AlreadyExists() || r.error().http_code() == 403 || r.NotFound()) return Status::Ok();
    return r.error().Annotate("creating default service account in " + ns);
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* sar_;
  client::Informer* namespaces_ = nullptr;
  client::Informer* accounts_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewServiceAccountsController(const client::Client* client,
                                                                 const kite::Clock* clock) {
  return std::make_unique<ServiceAccountsController>(client, clock);
}

}  // namespace kite::controllers
