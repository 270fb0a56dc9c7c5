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
  const json::object* status = Obj(&o, "status");
  bool approved = false, denied = false, failed = false;
  if (const json::array* conds = Arr(status, "conditions")) {
    for (const json::value& c : *conds) {
      const std::string type = Str(AsObj(c), "type");
      approved = approved || type == "Approved";
      denied = denied || type == "Denied";
      failed = failed || type == "Failed";
    }
  }
  std::string s = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) s += ",Failed";
  if (!Str(status, "certificate").empty()) s += ",Issued";
  return s;
}

PrintedRow PrintCsr(const json::object& o, const PrintContext& ctx) {
  const json::object* spec = Obj(&o, "spec");
  std::string duration = "<none>";
  if (Has(spec, "expirationSeconds")) duration = HumanDuration(std::chrono::seconds(Int(spec, "expirationSeconds")));
  return Row({json::value(Name(o)), json::value(Age(o, ctx)), json::value(NoneIfEmpty(Str(spec, "signerName"))),
              json::value(Str(spec, "username")), json::value(duration), json::value(CsrCondition(o))});
}

const PrinterEntry kCertificatePrinters[] = {
    {"certificates.k8s.io", "certificatesigningrequests", {kCsrColumns, PrintCsr}},
};

}  // namespace

std::span<const PrinterEntry> CertificatePrinters() { return kCertificatePrinters; }

}  // namespace kite::apiserver::tables
