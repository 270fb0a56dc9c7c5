// certificates.k8s.io CertificateSigningRequests: upstream's field validation (the request must
// be a self-signed PEM CERTIFICATE REQUEST, a qualified signerName, known usages, a duration of at
// least 10 minutes, consistent conditions) and what may change on update. The requester fields
// and the subresources' rules are the request edge's (handlers/certificates.cc).
#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "api/validation.h"
#include "base/encoding.h"
#include "base/pki.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

constexpr std::initializer_list<const char*> kUsages = {
    "signing",       "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign",     "crl sign",           "encipher only",    "decipher only",
    "any",           "server auth",       "client auth",        "code signing",     "email protection",
    "s/mime",        "ipsec end system",  "ipsec tunnel",       "ipsec user",       "timestamping",
    "ocsp signing",  "microsoft sgc",     "netscape sgc"};

void ValidateSignerName(const std::string& signer, FieldErrors& e) {
  const std::string field = "spec.signerName";
  if (signer.empty()) return e.Required(field);
  const size_t slash = signer.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == signer.size()) {
    return e.Invalid(field, Quoted(signer), "must be a fully qualified domain and path of the form 'example.com/signer-name'");
  }
  if (auto bad = api::IsDNS1123Subdomain(signer.substr(0, slash)); !bad.empty()) {
    e.Invalid(field, Quoted(signer), "validating domain component: " + api::JoinMessages(bad, "; "));
  }
}

void ValidateConditions(const json::object* status, FieldErrors& e) {
  if (!status) return;
  auto it = status->find("conditions");
  if (it == status->end() || !it->value().is_array()) return;
  const json::array& conds = it->value().as_array();
  bool approved = false, denied = false;
  std::vector<std::string> seen;
  for (size_t i = 0; i < conds.size(); ++i) {
    const std::string path = "status.conditions[" + std::to_string(i) + "]";
    static const json::object kEmpty;
    const json::object& c = conds[i].is_object() ? conds[i].as_object() : kEmpty;
    const std::string type = api::GetString(c, "type");
    const std::string st = api::GetString(c, "status");
    if (type.empty()) e.Required(path + ".type");
    const bool known = type == "Approved" || type == "Denied" || type == "Failed";
    if (known) {
      if (st != "True") e.NotSupported(path + ".status", st, {"True"});
      if (std::count(seen.begin(), seen.end(), type)) e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(type), path + ".type");
      seen.push_back(type);
      approved = approved || type == "Approved";
      denied = denied || type == "Denied";
      if (approved && denied && (type == "Approved" || type == "Denied")) {
        e.Invalid(path + ".type", Quoted(type), "Approved and Denied conditions are mutually exclusive");
      }
    } else if (st != "True" && st != "False" && st != "Unknown") {
      e.NotSupported(path + ".status", st, {"False", "True", "Unknown"});
    }
  }
}

class CertificateSigningRequestStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object& spec = api::GetObject(obj, "spec");
    const std::string request = api::GetString(spec, "request");
    if (request.empty()) {
      e.Required("spec.request");
    } else {
      auto pem = Base64Decode(request);
      auto parsed = pem ? pki::ParseCsr(*pem) : Result<pki::CsrInfo>(Status(Code::kInvalidArgument, "not base64"));
      if (!parsed.ok()) e.Invalid("spec.request", "[]byte{...}", parsed.status().message());
    }
    ValidateSignerName(api::GetString(spec, "signerName"), e);
    const json::array& usages = api::GetArray(spec, "usages");
    if (usages.empty()) e.Required("spec.usages");
    std::vector<std::string> seen;
    for (size_t i = 0; i < usages.size(); ++i) {
      const std::string u = usages[i].is_string() ? std::string(usages[i].as_string()) : "";
      const std::string path = "spec.usages[" + std::to_string(i) + "]";
      if (std::none_of(kUsages.begin(), kUsages.end(), [&](const char* k) { return u == k; })) {
        e.NotSupported(path, u, kUsages);
      } else if (std::count(seen.begin(), seen.end(), u)) {
        e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(u), path);
      }
      seen.push_back(u);
    }
    if (auto it = spec.find("expirationSeconds"); it != spec.end() && it->value().is_int64() &&
                                                   it->value().as_int64() < 600) {
      e.Invalid("spec.expirationSeconds", std::to_string(it->value().as_int64()),
                "may not specify a duration less than 600 seconds (10 minutes)");
    }
    const json::object* status = api::FindObject(obj, "status");
    ValidateConditions(status, e);
    if (status) {
      const std::string cert = api::GetString(*status, "certificate");
      if (!cert.empty()) {
        auto pem = Base64Decode(cert);
        if (!pem || !pki::Inspect(*pem).ok()) e.Invalid("status.certificate", "\"<certificate data>\"", "must contain at least one CERTIFICATE PEM block");
      }
    }
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    if (!SameAt(obj, old, {"spec"})) e.Add("FieldValueForbidden", "Forbidden: the spec cannot be changed after creation", "spec");
    // Approved, Denied and Failed stay once added; an issued certificate stays as issued.
    const json::object* before = api::FindObject(old, "status");
    const json::object* after = api::FindObject(obj, "status");
    if (!before) return;
    for (const json::value& c : api::GetArray(*before, "conditions")) {
      const std::string type = c.is_object() ? api::GetString(c.as_object(), "type") : "";
      if (type != "Approved" && type != "Denied" && type != "Failed") continue;
      bool kept = false;
      if (after) {
        for (const json::value& n : api::GetArray(*after, "conditions")) {
          kept = kept || (n.is_object() && api::GetString(n.as_object(), "type") == type);
        }
      }
      if (!kept) e.Add("FieldValueForbidden", "Forbidden: updates may not remove a condition of type " + Quoted(type), "status.conditions");
    }
    const std::string cert = api::GetString(*before, "certificate");
    if (!cert.empty() && (!after || api::GetString(*after, "certificate") != cert)) {
      e.Add("FieldValueForbidden", "Forbidden: updates may not modify existing certificate content", "status.certificate");
    }
  }

  std::vector<std::string_view> SelectableFields() const override { return {"spec.signerName"}; }
};

}  // namespace

const Strategy& CertificateSigningRequest() {
  static const CertificateSigningRequestStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
