// CertificateSigningRequests carry spec.request from any user allowed to create one: the PEM/DER
// parser (base/pki.h's ParseCsr) sees it before anything is known about it, and the signing
// controller signs what it accepted. Never a crash; an error is InvalidArgument; what parses
// signs (with the kubelet's usages) into a certificate that carries the parsed subject and SANs.
// The input is tried as given (PEM text) and wrapped as the DER body of a PEM block.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "base/pki.h"

namespace pki = kite::pki;

namespace {

void Check(const std::string& text) {
  auto info = pki::ParseCsr(text);
  if (!info.ok()) {
    if (info.status().code() != kite::Code::kInvalidArgument) std::abort();
    return;
  }
  static const pki::KeyPair ca = *pki::CreateCA("fuzz-ca");
  auto cert = pki::SignCsr(ca, text, {"digital signature", "client auth"}, 3600);
  if (!cert.ok()) return;  // a key type OpenSSL cannot put in a certificate
  auto got = pki::Inspect(*cert);
  if (!got.ok() || got->common_name != info->common_name || got->organizations != info->organizations ||
      got->dns_names != info->dns_names || !pki::SignedBy(*cert, ca.cert_pem)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  Check(in);
  std::string b64 = kite::Base64Encode(in), pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  Check(pem + "-----END CERTIFICATE REQUEST-----\n");
  return 0;
}
