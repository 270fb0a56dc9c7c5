// services/proxy and pods/proxy (service_proxy.cc has the semantics): the answer streamed to
// `res`, or the error to answer with. `name` is the [scheme:]name[:port] of the request path.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "server/apiserver/handlers/handlers_internal.h"

namespace kite::apiserver {

// A ready endpoint of Service ns/name for its port named `port_name` (the Endpoints' ports carry
// the Service's port names): the address and port to dial, or 503 "no endpoints available for
// service". Shared by services/proxy and the admission webhooks' service clientConfig.
struct ServiceEndpoint {
  std::string host;
  int port = 0;
};
boost::asio::awaitable<Result<ServiceEndpoint>> ReadyServiceEndpoint(Registry& registry, const std::string& ns,
                                                                   const std::string& name,
                                                                   const std::string& port_name);

boost::asio::awaitable<Result<ApiResponse>> PodOrServiceProxy(Registry& registry, const api::ResourceInfo& r,
                                                              const std::string& ns, const std::string& name,
                                                              HttpsRequest& req, HttpsResponder& res);

}  // namespace kite::apiserver
