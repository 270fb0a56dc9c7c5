// The join endpoints: how a node gets into the cluster with nothing but the join token (k3s's
// supervisor routes, served as k3s serves them, on the API server's HTTPS port, in front of
// authentication):
//
//   GET /cacerts                         anonymous: the server CA bundle (server-ca.crt's bytes),
//                                        which the agent pins by the token's hash
//   GET /v1-kite/client-kubelet.crt      the kubelet's client certificate: CN system:node:<name>,
//                                        O system:nodes, signed by the client CA, so the API
//                                        server's x509 authentication maps it to that user/group
//   GET /v1-kite/serving-kubelet.crt     the kubelet's serving certificate for <name>, localhost,
//                                        127.0.0.1 and the node's IPs, signed by the server CA
//   GET /v1-kite/config                  the cluster's settings an agent takes unless its own
//                                        flags say otherwise (base/join_token.h ClusterSettings:
//                                        cluster and service CIDRs, cluster DNS and domain, the
//                                        flannel backend), JSON; k3s: /v1-k3s/config
//
// The /v1-kite/ routes (k3s: /v1-k3s/…) take HTTP basic auth `node:<secret>` (or
// `server:<secret>`) with the join token's secret, and the headers Kite-Node-Name,
// The certificate routes also take the headers Kite-Node-Name, Kite-Node-Password and optionally
// Kite-Node-IP (comma-separated) (k3s: K3s-Node-Name, …).
// The answer is the certificate, then the CA that signed it, then a fresh private key, all PEM.
// A wrong secret is 401 with no certificate; a node name registered with another node password
// is 403 (node_password.h). Bodies are text/plain messages a person can act on.
//
// The token: `<data-dir>/server/token` and `node-token` (0600, as k3s has both) hold
// K10<CA hash>::server:<secret>. Its secret is
// --token's (the full K10 form or a bare secret, as k3s accepts), else the file's from an earlier
// start, else a new random one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/https_server.h"
#include "base/join_token.h"
#include "base/status.h"
#include "client/client.h"
#include "server/apiserver/certs.h"
#include "server/apiserver/handlers/response.h"

namespace kite::apiserver::join {

struct JoinOptions {
  std::string token_path;  // <data-dir>/server/token; "" disables the join endpoints
  std::string token;       // --token: K10<hash>::<user>:<secret>, or a bare secret; "" keeps/generates
  ClusterSettings settings;  // what GET /v1-kite/config tells agents
};

class JoinEndpoints {
 public:
  // Settles the secret and writes the token file. `client` stores node passwords (acting with
  // rights to kube-system's Secrets). Fails for a malformed --token, or one whose CA hash is not
  // this cluster's.
  static Result<std::unique_ptr<JoinEndpoints>> Create(const JoinOptions& o, const ClusterCerts& certs,
                                                       std::shared_ptr<client::Transport> client);

  // Whether `path` is a join route, served before authentication.
  static bool Owns(std::string_view path);

  // Serves one join request. Blocking (it may read and write a Secret through the client, and
  // signs a certificate): a join is a rare event, so the caller's thread waits for it.
  RawResponse Serve(const HttpsRequest& req) const;

  // The full token, as written to the file.
  const std::string& token() const { return token_; }

 private:
  JoinEndpoints(std::string secret, std::string token, ClusterCerts certs, ClusterSettings settings,
                std::shared_ptr<client::Transport> t);
  // Whether the request carries the token's secret (basic auth node:<secret> or server:<secret>).
  bool Authorized(const HttpsRequest& req) const;
  RawResponse IssueKubeletCert(const HttpsRequest& req, bool serving) const;

  const std::string secret_;
  const std::string token_;
  const ClusterCerts certs_;
  const ClusterSettings settings_;
  const client::Client client_;
};

}  // namespace kite::apiserver::join
