// The cluster join token, in k3s's format, which kite-server writes and kite-agent reads:
//
//   K10<sha256 hex of the server CA bundle>::<user>:<secret>
//
// The hash pins the cluster's CA: an agent downloads the bundle (GET /cacerts) without trusting
// it, and sends a credential only once the bundle's hash equals the token's. As k3s computes it,
// the hash is over the bundle's bytes exactly as served (the server-ca.crt file: one PEM
// certificate); kite's CA bundle is always one certificate, so k3s's rule for multi-certificate
// bundles (hash the root's DER) is not needed. A bare secret ("s3cret") and the hashless form
// (K10::user:secret) are accepted, as k3s accepts them: such a token cannot pin the CA, and the
// agent then refuses to join (see agent/bootstrap/bootstrap.h).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace kite {

struct JoinToken {
  std::string ca_hash;  // 64 lower-case hex digits, or "" when the token carries none
  std::string user;     // "server" in the token kite-server writes; agents authenticate as "node"
  std::string secret;
};

// Accepts "K10<hash>::<user>:<secret>", "K10::<user>:<secret>" and a bare secret (user "").
// Fails (InvalidArgument, a message naming what is wrong, never the secret) for an empty token,
// a hash that is not 64 hex digits, or a K10 token without user:secret.
Result<JoinToken> ParseJoinToken(std::string_view text);

// "K10<sha256 hex of ca_bundle>::<user>:<secret>".
std::string FormatJoinToken(const std::string& ca_bundle, const std::string& user, const std::string& secret);

// The lower-case hex SHA-256 of a CA bundle, as the token carries it.
std::string CaBundleHash(const std::string& ca_bundle);

// A fresh random secret: 32 lower-case hex digits (128 bits from the OS's CSPRNG).
std::string RandomSecret();

}  // namespace kite
