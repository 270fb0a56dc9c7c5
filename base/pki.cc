#include "base/pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <memory>

namespace kite::pki {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status Err(const std::string& what) { return Status(Code::kInternal, "pki: " + what); }

PkeyPtr NewKey() { return PkeyPtr(EVP_EC_gen("P-256")); }

std::string ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

X509Ptr ParseCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A fresh certificate skeleton: random 128-bit serial, validity from an hour ago (clock skew
// between nodes) to `days` from now, subject CN/O.
X509Ptr NewCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs, int days) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<KeyPair> CreateCA(const std::string& common_name, int days) {
  PkeyPtr key = NewKey();
  if (!key) return Err("key generation failed");
  X509Ptr cert = NewCert(key.get(), common_name, {}, days);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(cert.get(), cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") ||
      !AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash")) {
    return Err("CA extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Err("CA signing failed");
  return KeyPair{ToPem(cert.get()), ToPem(key.get())};
}

Result<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec) {
  X509Ptr ca_cert = ParseCert(ca.cert_pem);
  PkeyPtr ca_key = ParseKey(ca.key_pem);
  if (!ca_cert || !ca_key) return Err("unreadable CA certificate or key");
  PkeyPtr key = NewKey();
  if (!key) return Err("key generation failed");
  X509Ptr cert = NewCert(key.get(), spec.common_name, spec.organizations, spec.days);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string eku;
  if (spec.server) eku = "serverAuth";
  if (spec.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : spec.ip_addresses) {
    if (!IsIp(ip)) return Status(Code::kInvalidArgument, "pki: not an IP address: " + ip);
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  if (!AddExt(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !AddExt(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      (!eku.empty() && !AddExt(cert.get(), ca_cert.get(), NID_ext_key_usage, eku)) ||
      (!san.empty() && !AddExt(cert.get(), ca_cert.get(), NID_subject_alt_name, san)) ||
      !AddExt(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always")) {
    return Err("certificate extensions");
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) return Err("signing failed");
  return KeyPair{ToPem(cert.get()), ToPem(key.get())};
}

Result<CertInfo> Inspect(const std::string& cert_pem) {
  X509Ptr cert = ParseCert(cert_pem);
  if (!cert) return Status(Code::kInvalidArgument, "pki: not a PEM certificate");
  CertInfo info;
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (n < 0) continue;
    std::string v(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
    if (nid == NID_commonName) info.common_name = v;
    if (nid == NID_organizationName) info.organizations.push_back(v);
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                  static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(g->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf, sizeof buf);
      info.ip_addresses.emplace_back(buf);
    }
  }
  GENERAL_NAMES_free(sans);
  info.is_ca = X509_check_ca(cert.get()) != 0;
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get()));
  info.not_after = std::chrono::system_clock::now() + std::chrono::hours(24) * days + std::chrono::seconds(secs);
  return info;
}

bool SignedBy(const std::string& cert_pem, const std::string& ca_pem) {
  X509Ptr cert = ParseCert(cert_pem), ca = ParseCert(ca_pem);
  if (!cert || !ca) return false;
  EVP_PKEY* key = X509_get0_pubkey(ca.get());
  return key && X509_verify(cert.get(), key) == 1;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace kite::pki
