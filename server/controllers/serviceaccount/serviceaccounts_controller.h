// The service account controller (upstream's "serviceaccount"): every active namespace has a
// ServiceAccount named "default"; one deleted is made again. Namespaces being deleted are left
// alone (the API server refuses new content in them anyway).
#pragma once

#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewServiceAccountsController(const client::Client* client,
                                                                 const Clock* clock = Clock::Real());

}  // namespace kite::controllers
