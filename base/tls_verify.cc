#include "base/tls_verify.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

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

}  // namespace

void UseClockForCertificateTimes(SSL_CTX* ctx, const Clock* clock) {
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
  SSL_CTX_set_cert_verify_callback(ctx, VerifyChainWithKiteClock, const_cast<Clock*>(clock));
}

Status VerifyPeerChain(std::string_view chain_pem, const std::string& ca_pem, bool client, const Clock* clock) {
  struct Free {
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(X509_STORE* p) const { X509_STORE_free(p); }
    void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
    void operator()(STACK_OF(X509)* p) const { sk_X509_pop_free(p, X509_free); }
  };
  auto read_all = [](std::string_view pem) {
    std::unique_ptr<STACK_OF(X509), Free> certs(sk_X509_new_null());
    std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) sk_X509_push(certs.get(), x);
    ERR_clear_error();  // the end of the PEM text
    return certs;
  };
  auto peer = read_all(chain_pem);
  if (sk_X509_num(peer.get()) == 0) return Status(Code::kUnauthenticated, "no peer certificate");
  auto anchors = read_all(ca_pem);
  std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
  for (int i = 0; i < sk_X509_num(anchors.get()); ++i) X509_STORE_add_cert(store.get(), sk_X509_value(anchors.get(), i));
  std::unique_ptr<X509_STORE_CTX, Free> ctx(X509_STORE_CTX_new());
  X509* leaf = sk_X509_value(peer.get(), 0);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, peer.get()) != 1) {
    return Status(Code::kInternal, "certificate verification: out of memory");
  }
  // What OpenSSL's handshake sets: the peer's purpose (a server verifies a client's certificate).
  X509_STORE_CTX_set_default(ctx.get(), client ? "ssl_client" : "ssl_server");
  if (VerifyChainWithKiteClock(ctx.get(), const_cast<Clock*>(clock)) != 1) {
    return Status(Code::kUnauthenticated, std::string("certificate verify failed: ") +
                                              X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Status::Ok();
}

}  // namespace kite
