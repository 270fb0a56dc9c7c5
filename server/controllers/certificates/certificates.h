// The CSR controllers of kube-controller-manager for certificates.k8s.io/v1:
//
//  csrapproving  approves kubelet client certificate requests (signer
//                kubernetes.io/kube-apiserver-client-kubelet) whose subject is a node's
//                (CN system:node:<name>, O system:nodes, client usages, no SANs) when a
//                SubjectAccessReview says the requester may create
//                certificatesigningrequests/selfnodeclient (a node renewing its own certificate)
//                or certificatesigningrequests/nodeclient (a bootstrap identity); reason
//                AutoApproved. Every other request waits for `kubectl certificate approve|deny`.
//  csrsigning    issues approved requests of the kubernetes.io signers into status.certificate:
//                kube-apiserver-client and kube-apiserver-client-kubelet from the client CA,
//                kubelet-serving from the server CA (the CA the API server's kubelet client
//                trusts); a request its signer's rules refuse gets a Failed condition
//                (SignerValidationFailure). Lifetime: spec.expirationSeconds, at most `max_duration`.
#pragma once

#include <chrono>
#include <memory>

#include "base/pki.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

struct CsrSigningOptions {
  pki::KeyPair client_ca;   // empty: the controller signs nothing
  pki::KeyPair serving_ca;
  std::chrono::seconds max_duration{365 * 24 * 3600};  // --cluster-signing-duration
};

std::unique_ptr<client::Controller> NewCsrApprovingController(const client::Client* client);
std::unique_ptr<client::Controller> NewCsrSigningController(const client::Client* client, CsrSigningOptions options);

// The signer's rules for a request's subject and usages: "" when `signer` (a kubernetes.io one)
// may issue it, else why not. Shared by both controllers (the approver only approves what the
// signer would issue).
std::string SignerRefusal(const std::string& signer, const pki::CsrInfo& csr, const boost::json::array& usages);

}  // namespace kite::controllers
