#include <boost/json.hpp>

#include <algorithm>

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

bool Only(const std::vector<std::string>& have, std::initializer_list<const char*> want) {
  return have.size() == want.size() && std::equal(have.begin(), have.end(), want.begin());
}

class CsrSigningController final : public client::Controller {
 public:
  CsrSigningController(const client::Client* c, CsrSigningOptions o, const kite::Clock* clock)
      : Controller("csrsigning", 1, clock), client_(c), csrs_r_(api::FindResource("certificates.k8s.io", "v1", "certificatesigningrequests")),
        o_(std::move(o)) {}

  void Init(client::InformerFactory& f) override {
    csrs_ = f.For(*csrs_r_);
    csrs_->AddHandler(client::EnqueueSelf(&queue_));
  }

  Status Reconcile(const std::string& key) override {
    client::ObjectPtr csr = csrs_->Get("", key);
    if (!csr || o_.client_ca.cert_pem.empty()) return Status::Ok();
    const json::object& status = api::GetObject(*csr, "status");
    if (!api::IsConditionTrue(status, "Approved") || api::IsConditionTrue(status, "Denied") ||
        api::IsConditionTrue(status, "Failed") || !api::GetString(status, "certificate").empty()) {
      return Status::Ok();
    }
    const json::object& spec = api::GetObject(*csr, "spec");
    const std::string signer = api::GetString(spec, "signerName");
    const pki::KeyPair* ca = signer == "kubernetes.io/kubelet-serving" ? &o_.serving_ca
                             : signer == "kubernetes.io/kube-apiserver-client" ||
                                       signer == "kubernetes.io/kube-apiserver-client-kubelet"
                                 ? &o_.client_ca
                                 : nullptr;
    if (!ca) return Status::Ok();  // another signer's
    auto pem = Base64Decode(api::GetString(spec, "request"));
    auto info = pem ? pki::ParseCsr(*pem) : Result<pki::CsrInfo>(Status(Code::kInvalidArgument, "not base64"));
    std::string refusal = info.ok() ? SignerRefusal(signer, *info, api::GetArray(spec, "usages")) : info.status().message();
    std::string cert;
    if (refusal.empty()) {
      int64_t seconds = o_.max_duration.count();
      if (auto it = spec.find("expirationSeconds"); it != spec.end() && it->value().is_int64()) {
        seconds = std::min(seconds, it->value().as_int64());
      }
      auto signed_pem = pki::SignCsr(*ca, *pem, api::GetStrings(spec, "usages"), seconds);
      if (!signed_pem.ok()) refusal = signed_pem.status().message();
      else cert = *signed_pem;
    }
    json::object patch_status;
    if (cert.empty()) {
      json::object st = status;
      const std::string now = api::FormatTime(clock()->Now());
      api::SetCondition(st, api::NewCondition("Failed", "True", "SignerValidationFailure", refusal, now, "lastUpdateTime"));
      patch_status["conditions"] = st["conditions"];
      KITE_LOG(0) << "csrsigning: " << key << " failed: " << refusal;
    } else {
      patch_status["certificate"] = Base64Encode(cert);
    }
    const std::string body = json::serialize(json::object{{"status", std::move(patch_status)}});
    auto r = client_->Patch(*csrs_r_, "", key, client::PatchType::kMerge, body, "status");
    if (!r.ok() && !r.NotFound()) return r.error().Annotate("updating the status of CSR " + key);
    if (!cert.empty()) KITE_LOG(1) << "csrsigning: issued " << key << " (" << signer << ")";
    return Status::Ok();
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* csrs_r_;
  CsrSigningOptions o_;
  client::Informer* csrs_ = nullptr;
};

}  // namespace

std::string SignerRefusal(const std::string& signer, const pki::CsrInfo& csr, const json::array& usages) {
  const std::vector<std::string> u = api::AsStrings(usages);
  auto allowed = [&](std::initializer_list<const char*> ok, const char* required) -> std::string {
    for (const auto& x : u) {
      if (std::none_of(ok.begin(), ok.end(), [&](const char* k) { return x == k; })) return "usage \"" + x + "\" is not allowed";
    }
    if (std::find(u.begin(), u.end(), required) == u.end()) return std::string("missing required usage \"") + required + "\"";
    return "";
  };
  const bool node_subject = csr.common_name.rfind("system:node:", 0) == 0 && csr.common_name.size() > 12 &&
                            Only(csr.organizations, {"system:nodes"});
  if (signer == "kubernetes.io/kube-apiserver-client") {
    return allowed({"digital signature", "key encipherment", "client auth"}, "client auth");
  }
  if (signer == "kubernetes.io/kube-apiserver-client-kubelet") {
    if (!node_subject) return "subject must be CN system:node:<name> in the single organization system:nodes";
    if (!csr.dns_names.empty() || !csr.ip_addresses.empty() || !csr.emails.empty() || !csr.uris.empty()) {
      return "subjectAltNames are not allowed";
    }
    return allowed({"digital signature", "key encipherment", "client auth"}, "client auth");
  }
  if (signer == "kubernetes.io/kubelet-serving") {
    if (!node_subject) return "subject must be CN system:node:<name> in the single organization system:nodes";
    if (csr.dns_names.empty() && csr.ip_addresses.empty()) return "at least one DNS or IP subjectAltName is required";
    if (!csr.emails.empty() || !csr.uris.empty()) return "email and URI subjectAltNames are not allowed";
    return allowed({"digital signature", "key encipherment", "server auth"}, "server auth");
  }
  return "unknown signer " + signer;
}

std::unique_ptr<client::Controller> NewCsrSigningController(const client::Client* client, CsrSigningOptions options,
                                                            const kite::Clock* clock) {
  return std::make_unique<CsrSigningController>(client, std::move(options), clock);
}

}  // namespace kite::controllers
