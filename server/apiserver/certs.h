// The cluster's certificates, created on first start under <data-dir>/server/tls and reused on
// later starts (k3s's layout and lifetimes):
//   server-ca.{crt,key}                    signs serving certificates
//   client-ca.{crt,key}                    signs client certificates (verified by the API server)
//   serving-kube-apiserver.{crt,key}       the API server's certificate
//   client-admin.{crt,key}                 system:admin in system:masters, for the kubeconfig
//   client-kube-apiserver.{crt,key}        system:apiserver in system:masters: the API server's
//                                          client certificate towards the kubelets (logs, proxy)
// The serving certificate is re-issued when a wanted SAN is missing from it (new --tls-san or
// node IP) or when it expires within 120 days; the CAs are never replaced automatically.
#pragma once

#include <string>
#include <vector>

#include "base/pki.h"
#include "base/status.h"

namespace kite::apiserver {

struct ClusterCerts {
  pki::KeyPair server_ca;
  pki::KeyPair client_ca;
  pki::KeyPair serving;
  pki::KeyPair admin;
  pki::KeyPair kubelet_client;
};

// SANs the serving certificate must carry: hostname, localhost, kubernetes.default.svc…,
// 127.0.0.1, ::1, the service IP 10.43.0.1, this host's addresses, plus `extra_sans`.
std::vector<std::string> WantedSans(const std::vector<std::string>& extra_sans);

Result<ClusterCerts> LoadOrCreateCerts(const std::string& tls_dir, const std::vector<std::string>& sans);

// Writes an admin kubeconfig for https://<host>:<port> with file mode `mode` (e.g. 0600).
Status WriteKubeconfig(const std::string& path, const ClusterCerts& certs, const std::string& host, int port,
                       unsigned mode);

}  // namespace kite::apiserver
