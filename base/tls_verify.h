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
// client library). The etcd endpoint's gRPC server builds its own OpenSSL context inside gRPC,
// out of reach: it asks for a client certificate without verifying it and hands the certificates
// to a PeerChainVerifier from a gRPC certificate verifier (datastore/etcdserver/etcd_server.cc).
//
// The check runs in SSL_CTX_set_cert_verify_callback, around OpenSSL's X509_verify_cert, not
// in the SSL_set_verify callback: streams set their own verify callback (asio's
// host_name_verification in PrepareTlsStream), which would replace one set here. A validity
// failure is reported like OpenSSL's (X509_V_ERR_CERT_NOT_YET_VALID / _HAS_EXPIRED through
// the verify callback, then in SSL_get_verify_result), so verify_none still ignores it and a
// verify callback still sees it.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace kite {

// `clock` must outlive `ctx`. Call before the context's first handshake.
void UseClockForCertificateTimes(SSL_CTX* ctx, const Clock* clock = Clock::Real());

// The system's trust anchors (for a kubeconfig that names no CA), from one bundle file: the one
// `SSL_CERT_FILE` names, as OpenSSL reads that variable, else Debian's
// /etc/ssl/certs/ca-certificates.crt. Not OpenSSL's set_default_verify_paths: its hashed-directory
// lookup stats /etc/ssl/certs/<hash>.0 with the library's stat, 32-bit on Debian 12 armhf, which
// fails on a file whose times are past 2038 (every file read after 2038 gets such an atime).
// FailedPrecondition naming the file when it cannot be read.
Status LoadSystemTrustAnchors(SSL_CTX* ctx);

// The same verification outside a handshake, for a TLS stack that verifies nothing itself and
// hands kite the peer's certificates afterwards: OpenSSL's chain building and checks against the
// trust anchors given at creation, with the purpose OpenSSL's handshake would ask for (a server
// verifying a client: extendedKeyUsage clientAuth; a client verifying a server: serverAuth), and
// validity judged by `clock` through the check above. No host name check.
// Threading: Verify may be called from any thread at once (OpenSSL's X509_STORE locks itself).
class PeerChainVerifier {
 public:
  enum class Peer { kClient, kServer };  // whose certificates are verified

  // `ca_pem`: one or more PEM certificates, the trust anchors. InvalidArgument when it holds
  // none. `clock` must outlive the verifier.
  static Result<PeerChainVerifier> Create(std::string_view ca_pem, Peer peer, const Clock* clock = Clock::Real());

  // `leaf_pem`: the peer's certificate; `chain_pem`: the other certificates it sent (PEM, may be
  // empty, may repeat the leaf). Unauthenticated with OpenSSL's reason ("certificate has
  // expired", "unable to get local issuer certificate", …) when the chain does not verify.
  Status Verify(std::string_view leaf_pem, std::string_view chain_pem) const;

 private:
  PeerChainVerifier(std::shared_ptr<X509_STORE> store, Peer peer, const Clock* clock)
      : store_(std::move(store)), peer_(peer), clock_(clock) {}
  std::shared_ptr<X509_STORE> store_;
  Peer peer_;
  const Clock* clock_;
};

}  // namespace kite
