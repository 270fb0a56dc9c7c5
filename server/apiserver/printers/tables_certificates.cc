// Table columns of certificates.k8s.io's CertificateSigningRequests, as upstream's printers
// (`kubectl get csr`: NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION).
#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver::tables {
namespace {

constexpr Column kCsrColumns[] = {
    kNameCol,
    kAgeCol,
    {"SignerName", "string", "", "The signer the request asks to issue the certificate.", 0},
    {"Requestor", "string", "", "Name of the user who requested the CSR.", 0},
    {"RequestedDuration", "string", "", "The requested validity of the issued certificate.", 0},
    {"Condition", "string", "", "Whether the request is approved, denied or failed, and whether it is issued.", 0},
};

// Denied wins over Approved (they exclude each other anyway), then Failed and Issued follow.
std::string CsrCondition(const json::object& o) {
  const json::object& status = api::GetObject(o, "status");
  bool approved = false, denied = false, failed = false;
  if (const json::array* conds = api::FindArray(status, "conditions")) {
    for (const json::value& c : *conds) {
      const std::string type = api::GetString(api::AsObject(c), "type");
      approved = approved || type == "Approved";
      denied = denied || type == "Denied";
      failed = failed || type == "Failed";
    }
  }
  std::string s = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) s += ",Failed";
  if (!api::GetString(status, "certificate").empty()) s += ",Issued";
  return s;
}

PrintedRow PrintCsr(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  std::string duration = "<none>";
  if (api::Find(spec, "expirationSeconds"))
    duration = HumanDuration(std::chrono::seconds(api::GetInt(spec, "expirationSeconds")));
  return Row({json::value(api::Name(o)), json::value(Age(o, ctx)),
              json::value(NoneIfEmpty(api::GetString(spec, "signerName"))),
              json::value(api::GetString(spec, "username")), json::value(duration), json::value(CsrCondition(o))});
}

const PrinterEntry kCertificatePrinters[] = {
    {"certificates.k8s.io", "certificatesigningrequests", {kCsrColumns, PrintCsr}},
};

}  // namespace

std::span<const PrinterEntry> CertificatePrinters() { return kCertificatePrinters; }

}  // namespace kite::apiserver::tables
