#include "base/tls_verify.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

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

}  // namespace kite
