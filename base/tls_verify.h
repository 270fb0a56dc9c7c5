// Certificate validity in TLS handshakes, judged by kite's clock rather than OpenSSL's (issue 21).
//
// OpenSSL checks each certificate's notBefore/notAfter during a handshake against its own
// time(); Debian 12's armhf OpenSSL has a 32-bit time_t, whose time() fails from 2038-01-19 on
// (-1: every certificate would look not yet valid, so every handshake that verifies fails).
// UseClockForCertificateTimes turns that check off (X509_V_FLAG_NO_CHECK_TIME) and does it
// itself, with `clock` (64-bit everywhere, base/clock.h), for every certificate of the verified
// chain, the trust anchor included, as OpenSSL would.
//
// Every TLS context kite builds that verifies a peer goes through it: HttpsServer's (client
// certificates) and MakeTlsContext's (kite's HTTPS clients: the kubelet client, the agent, the
// client library). The etcd endpoint's gRPC server builds its own context inside gRPC, out of
// reach (docs/architecture/packaging.md, "Times past 2038": left).
//
// The check runs in SSL_CTX_set_cert_verify_callback, around OpenSSL's X509_verify_cert, not
// in the SSL_set_verify callback: streams set their own verify callback (asio's
// host_name_verification in PrepareTlsStream), which would replace one set here. A validity
// failure is reported like OpenSSL's (X509_V_ERR_CERT_NOT_YET_VALID / _HAS_EXPIRED through
// the verify callback, then in SSL_get_verify_result), so verify_none still ignores it and a
// verify callback still sees it.
#pragma once

#include <openssl/ssl.h>

#include "base/clock.h"

namespace kite {

// `clock` must outlive `ctx`. Call before the context's first handshake.
void UseClockForCertificateTimes(SSL_CTX* ctx, const Clock* clock = Clock::Real());

}  // namespace kite
