#include "base/tls_verify.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>
#include <string>

#include "base/pki.h"

namespace kite {
namespace {

// OpenSSL's chain verification without its time checks, then the validity of every certificate
// in the chain against kite's clock; an out-of-date one goes to the verify callback as
// OpenSSL's own check_cert_time would send it.
int VerifyChainWithKiteClock(X509_STORE_CTX* store, void* arg) {
  const auto* clock = static_cast<const Clock*>(arg);
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(store), X509_V_FLAG_NO_CHECK_TIME);
  const int ok = X509_verify_cert(store);
  if (ok <= 0) return ok;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store);
  const X509_STORE_CTX_verify_cb callback = X509_STORE_CTX_get_verify_cb(store);
  const auto now = clock->Now();
  for (int depth = 0; depth < sk_X509_num(chain); ++depth) {
    X509* cert = sk_X509_value(chain, depth);
    int err = X509_V_OK;
    if (now < pki::TimePointOf(X509_get0_notBefore(cert))) err = X509_V_ERR_CERT_NOT_YET_VALID;
    else if (now > pki::TimePointOf(X509_get0_notAfter(cert))) err = X509_V_ERR_CERT_HAS_EXPIRED;
    if (err == X509_V_OK) continue;
    X509_STORE_CTX_set_error_depth(store, depth);
    X509_STORE_CTX_set_current_cert(store, cert);
    X509_STORE_CTX_set_error(store, err);
    if (!callback || callback(0, store) == 0) return 0;
  }
  return 1;
}

struct OpenSslFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(STACK_OF(X509)* p) const { sk_X509_pop_free(p, X509_free); }
};
using CertStack = std::unique_ptr<STACK_OF(X509), OpenSslFree>;

// Every PEM certificate in `pem`, in order (none when there are none or the text is not PEM).
CertStack ReadPemCertificates(std::string_view pem) {
  CertStack certs(sk_X509_new_null());
  if (!certs || pem.empty()) return certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return certs;
  while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (sk_X509_push(certs.get(), x) <= 0) X509_free(x);
  }
  BIO_free(bio);
  ERR_clear_error();  // PEM_read_bio_X509 reports the end of the text as an error
  return certs;
}

}  // namespace

void UseClockForCertificateTimes(SSL_CTX* ctx, const Clock* clock) {
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
  SSL_CTX_set_cert_verify_callback(ctx, VerifyChainWithKiteClock, const_cast<Clock*>(clock));
}

Status LoadSystemTrustAnchors(SSL_CTX* ctx) {
  const char* env = std::getenv(X509_get_default_cert_file_env());  // "SSL_CERT_FILE"
  const std::string path = env && *env ? env : "/etc/ssl/certs/ca-certificates.crt";
  // A file only (no directory): read whole with fopen, no stat.
  if (SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return Status(Code::kFailedPrecondition,
                  "system certificate authorities: cannot read " + path + " (SSL_CERT_FILE names another bundle file)");
  }
  return Status::Ok();
}

Result<PeerChainVerifier> PeerChainVerifier::Create(std::string_view ca_pem, Peer peer, const Clock* clock) {
  CertStack anchors = ReadPemCertificates(ca_pem);
  if (!anchors || sk_X509_num(anchors.get()) == 0) {
    return Status(Code::kInvalidArgument, "certificate authority: no PEM certificate");
  }
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (!store) return Status(Code::kInternal, "certificate authority: out of memory");
  for (int i = 0; i < sk_X509_num(anchors.get()); ++i) {
    if (X509_STORE_add_cert(store.get(), sk_X509_value(anchors.get(), i)) != 1) {
      ERR_clear_error();  // a duplicate anchor: already in the store
    }
  }
  return PeerChainVerifier(std::move(store), peer, clock);
}

Status PeerChainVerifier::Verify(std::string_view leaf_pem, std::string_view chain_pem) const {
  CertStack leaf = ReadPemCertificates(leaf_pem);
  if (!leaf || sk_X509_num(leaf.get()) == 0) return Status(Code::kUnauthenticated, "no peer certificate");
  CertStack untrusted = ReadPemCertificates(chain_pem);
  std::unique_ptr<X509_STORE_CTX, OpenSslFree> ctx(X509_STORE_CTX_new());
  if (!ctx || !untrusted ||
      X509_STORE_CTX_init(ctx.get(), store_.get(), sk_X509_value(leaf.get(), 0), untrusted.get()) != 1) {
    ERR_clear_error();
    return Status(Code::kInternal, "certificate verification: out of memory");
  }
  // The purpose and trust OpenSSL's handshake sets (ssl_verify_cert_chain): a server checks that
  // the client's certificate is meant for a client, and the reverse.
  X509_STORE_CTX_set_default(ctx.get(), peer_ == Peer::kClient ? "ssl_client" : "ssl_server");
  if (VerifyChainWithKiteClock(ctx.get(), const_cast<Clock*>(clock_)) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Status(Code::kUnauthenticated, std::string("certificate verify failed: ") + X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

}  // namespace kite
