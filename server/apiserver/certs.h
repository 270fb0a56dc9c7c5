// The cluster's certificates, created on first start under <data-dir>/server/tls and reused on
// later starts (k3s's layout and lifetimes):
//   server-ca.{crt,key}                    signs serving certificates
//   client-ca.{crt,key}                    signs client certificates (verified by the API server)
//   serving-kube-apiserver.{crt,key}       the API server's certificate
//   client-admin.{crt,key}                 system:admin in system:masters, for the kubeconfig
//   client-kube-apiserver.{crt,key}        system:apiserver in system:masters: the API server's
//                                          client certificate towards the kubelets (logs, proxy)
//   client-controller.{crt,key}            system:kube-controller-manager
//   client-scheduler.{crt,key}             system:kube-scheduler
//   client-kube-proxy.{crt,key}            system:kube-proxy
//   request-header-ca.{crt,key}            signs the front-proxy client certificate, which
//                                          aggregated API servers trust for X-Remote-User
//   client-auth-proxy.{crt,key}            system:auth-proxy: the API server towards them
//   etcd/server-ca.{crt,key}               the etcd endpoint's own CA (both sides: a Kubernetes
//                                          client certificate is no key to the raw datastore)
//   etcd/server.{crt,key}, etcd/client.{crt,key}   its serving certificate and a client's (etcdctl)
// Leaves live a year (k3s) and are re-issued at start when fewer than 90 days remain (k3s's
// rule), when one is missing (`kite-server certificate rotate` removes them) or not signed by the
// CA, and the serving certificates when a wanted SAN is missing (new --tls-san or node IP). CAs
// live 10 years and are never replaced automatically; CAs placed in the directory before the
// first start (the user's own) are used as found. Every file is 0600.
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
  pki::KeyPair controller_manager;
  pki::KeyPair scheduler;
  pki::KeyPair kube_proxy;
  pki::KeyPair request_header_ca;
  pki::KeyPair auth_proxy;
};

// The etcd endpoint's TLS material (etcd/ above), created when missing, renewed by the same rule.
struct EtcdCerts {
  pki::KeyPair ca, server, client;
};
Result<EtcdCerts> LoadOrCreateEtcdCerts(const std::string& tls_dir, const std::vector<std::string>& sans);

// The leaf files (without .crt/.key) `kite-server certificate rotate` removes for a service
// (k3s's names: admin, api-server, controller-manager, scheduler, kube-proxy, kubelet, etcd),
// relative to the tls dir; all of them for "".
Result<std::vector<std::string>> LeafFiles(const std::string& service);

// A leaf is renewed at start when fewer than this many days remain (k3s).
inline constexpr int kRenewWithinDays = 90;

// SANs the serving certificate must carry: hostname, localhost, kubernetes.default.svc…,
// 127.0.0.1, ::1, `service_ip` (the `kubernetes` Service's: 10.43.0.1; "" none), this host's
// addresses outside `cluster_cidr` (the pod network's; "" or malformed: none left out), plus
// `extra_sans`.
std::vector<std::string> WantedSans(const std::vector<std::string>& extra_sans, const std::string& cluster_cidr,
                                    const std::string& service_ip);

Result<ClusterCerts> LoadOrCreateCerts(const std::string& tls_dir, const std::vector<std::string>& sans);

// The serving certificate of kite-server's embedded kubelet (which does not join over HTTP): for
// `node`, localhost, 127.0.0.1 and `ips`, signed by the server CA, as the join endpoints issue it.
Result<pki::KeyPair> IssueKubeletServingCert(const ClusterCerts& certs, const std::string& node,
                                             const std::vector<std::string>& ips);

// Writes an admin kubeconfig for https://<host>:<port> with file mode `mode` (e.g. 0600).
Status WriteKubeconfig(const std::string& path, const ClusterCerts& certs, const std::string& host, int port,
                       unsigned mode);

}  // namespace kite::apiserver
