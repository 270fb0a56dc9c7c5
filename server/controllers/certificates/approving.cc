#include <boost/json.hpp>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "base/encoding.h"
#include "base/log.h"
#include "client/informer.h"
#include "server/controllers/certificates/certificates.h"

namespace kite::controllers {
namespace json = boost::json;
namespace {

constexpr char kKubeletClient[] = "kubernetes.io/kube-apiserver-client-kubelet";

class CsrApprovingController final : public client::Controller {
 public:
  CsrApprovingController(const client::Client* c, const kite::Clock* clock)
      : Controller("csrapproving", 1, clock), client_(c), csrs_r_(api::FindResource("certificates.k8s.io", "v1", "certificatesigningrequests")),
        sar_r_(api::FindResource("authorization.k8s.io", "v1", "subjectaccessreviews")) {}

  void Init(client::InformerFactory& f) override {
    csrs_ = f.For(*csrs_r_);
    csrs_->AddHandler(client::EnqueueSelf(&queue_));
  }

  Status Reconcile(const std::string& key) override {
    client::ObjectPtr csr = csrs_->Get("", key);
    if (!csr) return Status::Ok();
    const json::object& spec = api::GetObject(*csr, "spec");
    const json::object& status = api::GetObject(*csr, "status");
    if (api::GetString(spec, "signerName") != kKubeletClient || api::FindCondition(status, "Approved") ||
        api::FindCondition(status, "Denied") || !api::GetString(status, "certificate").empty()) {
      return Status::Ok();
    }
    auto pem = Base64Decode(api::GetString(spec, "request"));
    auto info = pem ? pki::ParseCsr(*pem) : Result<pki::CsrInfo>(Status(Code::kInvalidArgument, "not base64"));
    // Only what the signer would issue: a node's client certificate.
    if (!info.ok() || !SignerRefusal(kKubeletClient, *info, api::GetArray(spec, "usages")).empty()) return Status::Ok();
    // A node renewing its own certificate first, then any identity allowed to ask for nodes.
    const bool self = api::GetString(spec, "username") == info->common_name;
    struct Way {
      const char* subresource;
      const char* message;
    };
    const Way ways[] = {{"selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview."},
                        {"nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview."}};
    for (const Way& w : ways) {
      if (std::string(w.subresource) == "selfnodeclient" && !self) continue;
      auto allowed = Allowed(spec, w.subresource);
      if (!allowed.ok()) return allowed.status();
      if (!*allowed) continue;
      json::object st = status;
      const std::string now = api::FormatTime(clock()->Now());
      api::SetCondition(st, api::NewCondition("Approved", "True", "AutoApproved", w.message, now, "lastUpdateTime"));
      const std::string body = json::serialize(json::object{{"status", json::object{{"conditions", st["conditions"]}}}});
      auto r = client_->Patch(*csrs_r_, "", key, client::PatchType::kMerge, body, "approval");
      if (!r.ok() && !r.NotFound()) return r.error().Annotate("approving CSR " + key);
      KITE_LOG(1) << "csrapproving: approved " << key << " (" << w.subresource << ")";
      return Status::Ok();
    }
    return Status::Ok();
  }

 private:
  // Whether the requester (as recorded in the CSR) may create certificatesigningrequests/<sub>.
  Result<bool> Allowed(const json::object& spec, const char* sub) const {
    json::object sar_spec{{"user", api::GetString(spec, "username")},
                          {"resourceAttributes", json::object{{"group", "certificates.k8s.io"},
                                                              {"resource", "certificatesigningrequests"},
                                                              {"verb", "create"},
                                                              {"subresource", sub}}}};
    if (auto it = spec.find("groups"); it != spec.end()) sar_spec["groups"] = it->value();
    if (auto it = spec.find("uid"); it != spec.end()) sar_spec["uid"] = it->value();
    if (auto it = spec.find("extra"); it != spec.end()) sar_spec["extra"] = it->value();
    json::object sar{{"apiVersion", "authorization.k8s.io/v1"}, {"kind", "SubjectAccessReview"}, {"spec", std::move(sar_spec)}};
    auto r = client_->Create(*sar_r_, "", sar);
    if (!r.ok()) return r.error().Annotate("SubjectAccessReview");
    const json::value* allowed = api::GetObject(*r, "status").if_contains("allowed");
    return allowed && allowed->is_bool() && allowed->as_bool();
  }

  const client::Client* client_;
  const api::ResourceInfo* csrs_r_;
  const api::ResourceInfo* sar_r_;
  client::Informer* csrs_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewCsrApprovingController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<CsrApprovingController>(client, clock);
}

}  // namespace kite::controllers
