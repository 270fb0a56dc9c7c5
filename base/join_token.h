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

// What a server tells its agents at the join, so that a node needs no flags but --server and
// --token and still agrees with the server (k3s's agents read the server's /v1-k3s/config):
// served as a JSON object by GET /v1-kite/config (server/apiserver/join/join_endpoints.h), read
// by the agent (agent/bootstrap/bootstrap.h), which takes each setting its own flags leave unset.
struct ClusterSettings {
  std::string cluster_cidr;     // the server's --cluster-cidr ("10.42.0.0/16"; dual-stack "v4,v6")
  std::string service_cidr;     // --service-cidr ("10.43.0.0/16")
  std::string cluster_dns;      // --cluster-dns ("10.43.0.10")
  std::string cluster_domain;   // --cluster-domain ("cluster.local")
  std::string flannel_backend;  // --flannel-backend ("vxlan")
  std::string network_policy;   // "disabled" with --disable-network-policy, else "enforced"
};
// {"clusterCIDR":…,"serviceCIDR":…,"clusterDNS":…,"clusterDomain":…,"flannelBackend":…,
// "networkPolicy":…}.
std::string EncodeClusterSettings(const ClusterSettings& s);
// Unknown keys are ignored and missing ones stay ""; InvalidArgument when the text is not a JSON
// object of strings.
Result<ClusterSettings> DecodeClusterSettings(const std::string& text);

}  // namespace kite
