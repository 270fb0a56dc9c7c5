// certificates.k8s.io CertificateSigningRequests at the request edge: what upstream's CSR
// strategies and the CertificateApproval, CertificateSigning and CertificateSubjectRestriction
// admission plugins do with the requester in hand. Field validation is strategy/certificates.cc's.
#include <boost/json.hpp>

#include "api/object.h"
#include "base/encoding.h"
#include "base/pki.h"
#include "server/apiserver/handlers/handlers_internal.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

const json::array* Conditions(const json::object& csr) {
  const json::object* status = api::FindObject(csr, {"status"});
  if (!status) return nullptr;
  auto it = status->find("conditions");
  return it != status->end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}

bool IsApproval(const json::value& cond) {
  const std::string type = cond.is_object() ? api::GetString(cond.as_object(), "type") : "";
  return type == "Approved" || type == "Denied";
}

// upstream's signer authorization: `verb` on signers/<signerName>, or on signers/<domain>/*.
bool MaySigner(const Authorizer& authz, const UserInfo& user, const std::string& verb, const std::string& signer) {
  RequestAttributes a;
  a.user = user;
  a.verb = verb;
  a.resource_request = true;
  a.api_group = "certificates.k8s.io";
  a.api_version = "*";
  a.resource = "signers";
  a.name = signer;
  if (authz.Authorize(a).allowed) return true;
  const size_t slash = signer.find('/');
  if (slash == std::string::npos) return false;
  a.name = signer.substr(0, slash) + "/*";
  return authz.Authorize(a).allowed;
}

Status Forbidden(const json::object& csr, const std::string& why) {
  const std::string name = api::GetString(api::GetObject(csr, "metadata"), "name");
  return Status::Api(403, "Forbidden",
                     "certificatesigningrequests.certificates.k8s.io \"" + name + "\" is forbidden: " + why);
}

}  // namespace

Status AdmitCertificateSigningRequest(const std::string& sub, const Authorizer& authz, const UserInfo& user,
                                      json::object& obj, const json::object* old) {
  const std::string signer = api::GetString(api::GetObject(obj, "spec"), "signerName");
  if (!old) {
    // The requester, as the server saw it; whatever the body claimed is replaced.
    json::object& spec = api::MutableObject(obj, "spec");
    spec["username"] = user.name;
    if (user.uid.empty()) spec.erase("uid");
    else spec["uid"] = user.uid;
    json::array groups;
    for (const auto& g : user.groups) groups.emplace_back(g);
    spec["groups"] = std::move(groups);
    if (user.extra.empty()) {
      spec.erase("extra");
    } else {
      json::object extra;
      for (const auto& [k, vs] : user.extra) {
        json::array a;
        for (const auto& v : vs) a.emplace_back(v);
        extra[k] = std::move(a);
      }
      spec["extra"] = std::move(extra);
    }
    obj["status"] = json::object();
    // CertificateSubjectRestriction: no client certificate for the superuser group through this API.
    if (signer == "kubernetes.io/kube-apiserver-client") {
      auto request = Base64Decode(api::GetString(spec, "request"));
      auto info = request ? pki::ParseCsr(*request) : Result<pki::CsrInfo>(Status(Code::kInvalidArgument, ""));
      if (info.ok()) {
        for (const auto& o : info->organizations) {
          if (o == "system:masters") {
            return Forbidden(obj, "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed");
          }
        }
      }
    }
    return Status::Ok();
  }
  if (sub != "approval" && sub != "status") return Status::Ok();
  // What each subresource may change: …/approval the Approved and Denied conditions, …/status the
  // rest of the status (the certificate, Failed). The rest is kept as stored.
  json::array kept;
  const json::array* mine = Conditions(obj);
  const json::array* stored = Conditions(*old);
  for (const json::array* from : {stored, mine}) {
    if (!from) continue;
    for (const json::value& c : *from) {
      const bool approval = IsApproval(c);
      if ((from == mine) == (sub == "approval" ? approval : !approval)) kept.push_back(c);
    }
  }
  json::array approvals_before, approvals_after;
  if (stored) {
    for (const auto& c : *stored) if (IsApproval(c)) approvals_before.push_back(c);
  }
  for (const auto& c : kept) if (IsApproval(c)) approvals_after.push_back(c);
  const bool approval_changed = approvals_before != approvals_after;
  json::object& status = api::MutableObject(obj, "status");
  status["conditions"] = std::move(kept);
  if (status["conditions"].as_array().empty()) status.erase("conditions");
  const std::string old_cert = api::GetString(api::GetObject(*old, "status"), "certificate");
  if (sub == "approval") {
    if (old_cert.empty()) status.erase("certificate");
    else status["certificate"] = old_cert;
    if (approval_changed && !MaySigner(authz, user, "approve", signer)) {
      return Forbidden(obj, "user not permitted to approve requests with signerName \"" + signer + "\"");
    }
  } else {
    const std::string cert = api::GetString(status, "certificate");
    if (cert != old_cert && !MaySigner(authz, user, "sign", signer)) {
      return Forbidden(obj, "user not permitted to sign requests with signerName \"" + signer + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace kite::apiserver
