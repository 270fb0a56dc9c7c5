// X.509 certificates for the cluster's PKI, on OpenSSL: create a CA, issue leaf certificates
// (server and/or client usage, DNS and IP SANs, Kubernetes identities as CN/O), inspect them.
// Keys are ECDSA P-256, as k3s uses; lifetimes follow k3s (CA 10 years, leaves 365 days).
// All functions are thread-safe and return errors as values.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

typedef struct asn1_string_st ASN1_TIME;  // <openssl/asn1.h>

namespace kite::pki {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string common_name;                 // Kubernetes user name for client certs
  std::vector<std::string> organizations;  // Kubernetes groups for client certs
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server = false;  // extendedKeyUsage serverAuth
  bool client = false;  // extendedKeyUsage clientAuth
  int days = 365;
  // Start of validity, then valid for `days` from it. Unset: valid from an hour ago (clock skew)
  // to `days` from now.
  std::optional<std::chrono::system_clock::time_point> not_before;
};

struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  std::chrono::system_clock::time_point not_after;
};

Result<KeyPair> CreateCA(const std::string& common_name, int days = 3650);
Result<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec);
Result<CertInfo> Inspect(const std::string& cert_pem);
// An ASN1_TIME (a certificate's notBefore/notAfter) as a time point, read through struct tm's
// int fields and kite's calendar, so without a time_t (64-bit safe with Debian 12 armhf's
// OpenSSL); the epoch when `t` is unreadable.
std::chrono::system_clock::time_point TimePointOf(const ASN1_TIME* t);
// True when `cert_pem` was signed by `ca_pem` (signature check only).
bool SignedBy(const std::string& cert_pem, const std::string& ca_pem);

// --- Certificate signing requests (the CSR API). ParseCsr takes untrusted input.
struct CsrInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names, ip_addresses, emails, uris;
};
// Parses one PEM "CERTIFICATE REQUEST" block (text around it is ignored) and checks its
// self-signature. InvalidArgument with upstream's wording ("PEM block type must be CERTIFICATE
// REQUEST", …) otherwise.
Result<CsrInfo> ParseCsr(const std::string& pem);
// Issues a certificate for the CSR's key, subject and subjectAltName extension, signed by `ca`:
// key usages and extended key usages from `usages` (certificates.k8s.io's names: "digital
// signature", "client auth", …; unknown names are InvalidArgument), valid from 5 minutes ago (clock
// skew) for `seconds`, cut at the CA's own expiry. Returns the certificate as PEM.
Result<std::string> SignCsr(const KeyPair& ca, const std::string& csr_pem, const std::vector<std::string>& usages,
                            int64_t seconds);
// A new key and a CSR for it with `spec`'s subject and SANs (what a kubelet sends); the
// KeyPair's cert_pem holds the CSR.
Result<KeyPair> CreateCsr(const CertSpec& spec);

// Lower-case hex SHA-256 of `data` (the K10 join token carries the CA's hash).
std::string Sha256Hex(const std::string& data);

}  // namespace kite::pki
