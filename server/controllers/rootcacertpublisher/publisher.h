// The root CA certificate publisher (upstream's "root-ca-cert-publisher"): every active
// namespace has a ConfigMap "kube-root-ca.crt" whose data["ca.crt"] is the PEM of the CA that
// signs the API server's serving certificate, so pods can verify https://kubernetes.default.
// A deleted or edited ConfigMap is put back.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

// `ca_pem` empty: the controller does nothing (there is no CA to publish).
std::unique_ptr<client::Controller> NewRootCaCertPublisher(const client::Client* client, std::string ca_pem,
                                                           const Clock* clock = Clock::Real());

}  // namespace kite::controllers
