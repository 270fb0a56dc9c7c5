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
//  csrcleaner    deletes requests nobody needs any more, as upstream's cleaner: Denied or Failed
//                an hour after that condition's lastUpdateTime, Approved and issued an hour after
//                the Approved condition's lastUpdateTime or as soon as the issued certificate
//                has expired, Pending (no condition) a day after creationTimestamp. Approved but
//                not yet issued requests stay. Upstream looks at every request once an hour; this
//                one looks at each when it changes and again at its deadline (`clock`'s time).
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "base/pki.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

struct CsrSigningOptions {
  pki::KeyPair client_ca;   // empty: the controller signs nothing
  pki::KeyPair serving_ca;
  std::chrono::seconds max_duration{365 * 24 * 3600};  // --cluster-signing-duration
};

// `clock` stamps the conditions the controllers write (tests pass a FakeClock).
std::unique_ptr<client::Controller> NewCsrApprovingController(const client::Client* client,
                                                              const kite::Clock* clock = kite::Clock::Real());
std::unique_ptr<client::Controller> NewCsrSigningController(const client::Client* client, CsrSigningOptions options,
                                                            const kite::Clock* clock = kite::Clock::Real());
std::unique_ptr<client::Controller> NewCsrCleanerController(const client::Client* client,
                                                            const kite::Clock* clock = kite::Clock::Real());

// When csrcleaner deletes `csr` (a CertificateSigningRequest), by the rules above; nullopt: never
// (pending approval's outcome, or approved and waiting for its certificate).
std::optional<std::chrono::system_clock::time_point> CsrCleanupDeadline(const boost::json::object& csr);

// The signer's rules for a request's subject and usages: "" when `signer` (a kubernetes.io one)
// may issue it, else why not. Shared by both controllers (the approver only approves what the
// signer would issue).
std::string SignerRefusal(const std::string& signer, const pki::CsrInfo& csr, const boost::json::array& usages);

}  // namespace kite::controllers
