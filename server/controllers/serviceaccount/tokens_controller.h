// The service-account token controller (upstream's "serviceaccount-token"): a Secret of type
// kubernetes.io/service-account-token, made by hand with the annotation
// kubernetes.io/service-account.name, gets a legacy (non-expiring) token for that account in
// data.token, the cluster CA in data["ca.crt"], the namespace in data.namespace, and the
// account's uid in the annotation kubernetes.io/service-account.uid. A secret whose account does
// not exist (or was re-created with another uid) is deleted, as upstream does; one that already
// holds a token keeps it. Tokens are signed with `key_file`'s private key (kube-controller-
// manager's --service-account-private-key-file); without one the controller does nothing.
#pragma once

#include <memory>
#include <string>

#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewServiceAccountTokensController(const client::Client* client,
                                                                      const std::string& key_file,
                                                                      const std::string& root_ca_pem);

}  // namespace kite::controllers
