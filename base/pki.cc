#include "base/pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <openssl/err.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>

#include "base/civil_time.h"
#include "base/clock.h"

namespace kite::pki {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;

Status Err(const std::string& what) { return Status(Code::kInternal, "pki: " + what); }

PkeyPtr NewKey() { return PkeyPtr(EVP_EC_gen("P-256")); }

// Validity times from kite's own 64-bit clock and calendar, not X509_gmtime_adj or ASN1_TIME_diff
// against "now": OpenSSL reads "now" itself with time(), and Debian 12's armhf OpenSSL has a
// 32-bit time_t, for which time() fails from 2038-01-19 on. ASN1_TIME_set_string_X509 writes the
// form RFC 5280 asks for (UTCTime up to 2049, GeneralizedTime after).
void SetPkiTime(ASN1_TIME* field, std::chrono::system_clock::time_point t) {
  ASN1_TIME_set_string_X509(field, FormatUtc(t, "%Y%m%d%H%M%SZ").c_str());
}

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
X509Ptr NewCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs, int days,
                std::optional<std::chrono::system_clock::time_point> not_before = std::nullopt) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  const auto now = Clock::Real()->Now();
  SetPkiTime(X509_getm_notBefore(cert.get()), not_before ? *not_before : now - std::chrono::hours(1));
  SetPkiTime(X509_getm_notAfter(cert.get()), (not_before ? *not_before : now) + std::chrono::days(days));
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

// "DNS:a,IP:b" for X509V3_EXT_conf_nid; InvalidArgument for a non-IP in `ips`.
Result<std::string> SanValue(const std::vector<std::string>& dns, const std::vector<std::string>& ips) {
  std::string san;
  for (const auto& d : dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ips) {
    if (!IsIp(ip)) return Status(Code::kInvalidArgument, "pki: not an IP address: " + ip);
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  return san;
}

std::string Utf8(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string v(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return v;
}

// Subject CN and O of `name`.
void ReadName(X509_NAME* name, std::string& cn, std::vector<std::string>& orgs) {
  for (int i = 0; name && i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (nid == NID_commonName) cn = Utf8(X509_NAME_ENTRY_get_data(e));
    if (nid == NID_organizationName) orgs.push_back(Utf8(X509_NAME_ENTRY_get_data(e)));
  }
}

void ReadSans(const GENERAL_NAMES* sans, std::vector<std::string>& dns, std::vector<std::string>& ips,
              std::vector<std::string>* emails, std::vector<std::string>* uris) {
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    auto text = [](const ASN1_STRING* a) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(a)), static_cast<size_t>(ASN1_STRING_length(a)));
    };
    if (g->type == GEN_DNS) {
      dns.push_back(text(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(g->d.iPAddress);
      if (len != 4 && len != 16) continue;
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf, sizeof buf);
      ips.emplace_back(buf);
    } else if (g->type == GEN_EMAIL && emails) {
      emails->push_back(text(g->d.rfc822Name));
    } else if (g->type == GEN_URI && uris) {
      uris->push_back(text(g->d.uniformResourceIdentifier));
    }
  }
}

// The first PEM block of `text`: its label and DER bytes (nullopt: no block).
struct PemBlock {
  std::string label;
  std::string der;
};
std::optional<PemBlock> FirstPemBlock(const std::string& text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) return std::nullopt;
  PemBlock b{name, std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len))};
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return b;
}

Result<ReqPtr> ReadCsr(const std::string& pem) {
  auto block = FirstPemBlock(pem);
  if (!block) return Status(Code::kInvalidArgument, "PEM block type must be CERTIFICATE REQUEST");
  if (block->label != "CERTIFICATE REQUEST" && block->label != "NEW CERTIFICATE REQUEST") {
    return Status(Code::kInvalidArgument, "PEM block type must be CERTIFICATE REQUEST");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(block->der.data());
  ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(block->der.size())));
  ERR_clear_error();
  if (!req) return Status(Code::kInvalidArgument, "asn1: structure error: the CERTIFICATE REQUEST does not parse");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  const bool signed_ok = key && X509_REQ_verify(req.get(), key) == 1;
  ERR_clear_error();
  if (!signed_ok) return Status(Code::kInvalidArgument, "x509: the request's signature does not verify with its public key");
  return req;
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

Result<CsrInfo> ParseCsr(const std::string& pem) {
  auto req = ReadCsr(pem);
  if (!req.ok()) return req.status();
  CsrInfo info;
  ReadName(X509_REQ_get_subject_name(req->get()), info.common_name, info.organizations);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req->get());
  auto* sans = static_cast<GENERAL_NAMES*>(exts ? X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr) : nullptr);
  ReadSans(sans, info.dns_names, info.ip_addresses, &info.emails, &info.uris);
  GENERAL_NAMES_free(sans);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ERR_clear_error();
  return info;
}

Result<std::string> SignCsr(const KeyPair& ca, const std::string& csr_pem, const std::vector<std::string>& usages,
                            int64_t seconds) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kKeyUsages = {
      {"signing", "digitalSignature"},        {"digital signature", "digitalSignature"},
      {"content commitment", "nonRepudiation"}, {"key encipherment", "keyEncipherment"},
      {"key agreement", "keyAgreement"},      {"data encipherment", "dataEncipherment"},
      {"cert sign", "keyCertSign"},           {"crl sign", "cRLSign"},
      {"encipher only", "encipherOnly"},      {"decipher only", "decipherOnly"}};
  static const std::vector<std::pair<std::string_view, std::string_view>> kExtUsages = {
      {"any", "anyExtendedKeyUsage"},   {"server auth", "serverAuth"},       {"client auth", "clientAuth"},
      {"code signing", "codeSigning"},  {"email protection", "emailProtection"}, {"s/mime", "emailProtection"},
      {"ipsec end system", "ipsecEndSystem"}, {"ipsec tunnel", "ipsecTunnel"}, {"ipsec user", "ipsecUser"},
      {"timestamping", "timeStamping"}, {"ocsp signing", "OCSPSigning"},     {"microsoft sgc", "msSGC"},
      {"netscape sgc", "nsSGC"}};
  std::string ku, eku;
  for (const auto& u : usages) {
    auto find = [&u](const auto& table) -> std::string_view {
      for (const auto& [name, value] : table) if (name == u) return value;
      return {};
    };
    std::string_view k = find(kKeyUsages), e = find(kExtUsages);
    if (k.empty() && e.empty()) return Status(Code::kInvalidArgument, "unsupported key usage \"" + u + "\"");
    std::string& list = k.empty() ? eku : ku;
    const std::string v(k.empty() ? e : k);
    if (list.find(v) == std::string::npos) list += (list.empty() ? "" : ",") + v;
  }
  auto req = ReadCsr(csr_pem);
  if (!req.ok()) return req.status();
  X509Ptr ca_cert = ParseCert(ca.cert_pem);
  PkeyPtr ca_key = ParseKey(ca.key_pem);
  if (!ca_cert || !ca_key) return Err("unreadable CA certificate or key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  const auto now = Clock::Real()->Now();
  SetPkiTime(X509_getm_notBefore(cert.get()), now - std::chrono::minutes(5));
  SetPkiTime(X509_getm_notAfter(cert.get()), now + std::chrono::seconds(seconds));
  if (ASN1_TIME_compare(X509_get0_notAfter(ca_cert.get()), X509_get0_notAfter(cert.get())) < 0) {
    X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca_cert.get()));
  }
  X509_set_pubkey(cert.get(), X509_REQ_get0_pubkey(req->get()));
  X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req->get()));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  if (!AddExt(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      (!ku.empty() && !AddExt(cert.get(), ca_cert.get(), NID_key_usage, "critical," + ku)) ||
      (!eku.empty() && !AddExt(cert.get(), ca_cert.get(), NID_ext_key_usage, eku)) ||
      !AddExt(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always")) {
    return Err("certificate extensions");
  }
  // The requested subjectAltName, as it was encoded.
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req->get());
  for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name) X509_add_ext(cert.get(), ext, -1);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) return Err("signing failed");
  return ToPem(cert.get());
}

Result<KeyPair> CreateCsr(const CertSpec& spec) {
  PkeyPtr key = NewKey();
  if (!key) return Err("key generation failed");
  ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  for (const auto& o : spec.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  auto san = SanValue(spec.dns_names, spec.ip_addresses);
  if (!san.ok()) return san.status();
  if (!san->empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san->c_str());
    if (!ext) return Err("subjectAltName");
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) == 0) return Err("CSR signing failed");
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return KeyPair{std::string(data, static_cast<size_t>(n)), ToPem(key.get())};
}

Result<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec) {
  X509Ptr ca_cert = ParseCert(ca.cert_pem);
  PkeyPtr ca_key = ParseKey(ca.key_pem);
  if (!ca_cert || !ca_key) return Err("unreadable CA certificate or key");
  PkeyPtr key = NewKey();
  if (!key) return Err("key generation failed");
  X509Ptr cert = NewCert(key.get(), spec.common_name, spec.organizations, spec.days, spec.not_before);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string eku;
  if (spec.server) eku = "serverAuth";
  if (spec.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  auto sans = SanValue(spec.dns_names, spec.ip_addresses);
  if (!sans.ok()) return sans.status();
  const std::string& san = *sans;
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

std::chrono::system_clock::time_point TimePointOf(const ASN1_TIME* t) {
  using namespace std::chrono;
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};  // a null t would mean OpenSSL's "now"
  const sys_days day{year(tm.tm_year + 1900) / month(static_cast<unsigned>(tm.tm_mon + 1)) /
                     static_cast<unsigned>(tm.tm_mday)};
  return system_clock::time_point(day) + hours(tm.tm_hour) + minutes(tm.tm_min) + seconds(tm.tm_sec);
}

Result<CertInfo> Inspect(const std::string& cert_pem) {
  X509Ptr cert = ParseCert(cert_pem);
  if (!cert) return Status(Code::kInvalidArgument, "pki: not a PEM certificate");
  CertInfo info;
  ReadName(X509_get_subject_name(cert.get()), info.common_name, info.organizations);
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ReadSans(sans, info.dns_names, info.ip_addresses, nullptr, nullptr);
  GENERAL_NAMES_free(sans);
  info.is_ca = X509_check_ca(cert.get()) != 0;
  info.not_after = TimePointOf(X509_get0_notAfter(cert.get()));
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
