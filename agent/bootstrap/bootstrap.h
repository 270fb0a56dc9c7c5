// Agent bootstrap: from a server URL and the join token to the node's credentials, as k3s's
// agent joins (server side: server/apiserver/join/join_endpoints.h).
//
//  1. Parse the token (base/join_token.h).
//  2. GET /cacerts WITHOUT verifying TLS, and compare the bundle's sha256 with the token's hash
//     before any credential is sent: on a mismatch the agent refuses (FailedPrecondition, naming
//     both hashes' prefixes). A token without a hash cannot pin the CA: as k3s does, the agent
//     then trusts the bundle it was given, and says so in the log, unless an earlier join saved
//     the CA (then that one must match).
//  3. With TLS verified against that CA, fetch the kubelet's client certificate (CN
//     system:node:<name>, O system:nodes) and serving certificate, authenticating with
//     `node:<secret>` and the node password (<agent-dir>/node-password, created once, 0600).
//  4. Write under <agent-dir>: server-ca.crt, client-ca.crt, client-kubelet.{crt,key},
//     serving-kubelet.{crt,key} and kubelet.kubeconfig (all 0600).
//
// On a restart the saved certificates are reused without asking the server for new ones while
// the server's CA is the same, they are for this node name (and IPs), and more than 90 days of
// validity remain; otherwise they are requested again.
//
// Errors: Unauthenticated (the token's secret is wrong: 401), PermissionDenied (the node name
// belongs to another host's node password: 403), FailedPrecondition (the CA hash or the server's
// certificate does not match), InvalidArgument (a malformed token or URL) — all final; Unavailable
// when the server cannot be reached or answers otherwise (worth retrying).
#pragma once

#include <string>
#include <vector>

#include "base/join_token.h"
#include "base/pki.h"
#include "base/status.h"

namespace kite::agent {

struct BootstrapOptions {
  std::string server;     // https://host:port
  std::string token;      // the join token
  std::string agent_dir;  // <data-dir>/agent
  std::string node_name;
  std::vector<std::string> node_ips;  // SANs of the serving certificate (besides 127.0.0.1)
};

struct NodeCredentials {
  std::string kubeconfig_path;  // <agent-dir>/kubelet.kubeconfig
  std::string server_ca_pem;
  pki::KeyPair client;   // system:node:<name>
  pki::KeyPair serving;  // the kubelet's serving certificate
  bool reused = false;   // from an earlier join, nothing was requested
};

Result<NodeCredentials> Bootstrap(const BootstrapOptions& o);

// The credentials of an earlier join, without asking the server: for a start while it cannot
// be reached (the kubelet then runs its static pods and its pods, and talks to the server when
// it is back). NotFound when there was no earlier join or its certificates would not be reused
// (another node name or IP, less than 90 days left); FailedPrecondition when the saved CA is not
// the one the token pins.
Result<NodeCredentials> SavedCredentials(const BootstrapOptions& o);

// The cluster's settings from the server (GET /v1-kite/config with the token's secret, TLS
// verified against `server_ca_pem`), saved as <agent-dir>/cluster-settings.json; when the server
// cannot be reached, the ones saved at an earlier start. Unavailable when neither is there;
// Unimplemented when the server does not serve them (an older kite-server: 404).
Result<ClusterSettings> FetchClusterSettings(const BootstrapOptions& o, const std::string& server_ca_pem);

// The node password of this agent data dir (<agent-dir>/node-password): read, or created once
// (128 random bits, 0600). kite-server's embedded agent claims its node name with it too.
Result<std::string> LoadOrCreateNodePassword(const std::string& agent_dir);

// Splits a certificate-request answer (certificates, then a private key, all PEM) into the leaf
// certificate, the CA that follows it and the key. InvalidArgument when a part is missing.
struct IssuedCert {
  std::string cert_pem, ca_pem, key_pem;
};
Result<IssuedCert> SplitIssuedCert(const std::string& body);

}  // namespace kite::agent
