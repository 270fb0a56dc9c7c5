// services/proxy and pods/proxy (service_proxy.cc has the semantics): the answer streamed to
// `res`, or the error to answer with. `name` is the [scheme:]name[:port] of the request path.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "server/apiserver/handlers/handlers_internal.h"

namespace kite::apiserver {

boost::asio::awaitable<Result<ApiResponse>> PodOrServiceProxy(Registry& registry, const api::ResourceInfo& r,
                                                              const std::string& ns, const std::string& name,
                                                              HttpsRequest& req, HttpsResponder& res);

}  // namespace kite::apiserver
