// What the handlers answer, before the router (apiserver.cc) writes it out with its metrics.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "base/https_server.h"

namespace kite::apiserver {

// A resource request's answer: a JSON object (Tables are converted by the router).
struct ApiResponse {
  int code = 200;
  boost::json::object body;
  std::vector<std::string> warnings;  // sent as `Warning: 299 - "<text>"` headers
  // The handler has answered on the connection itself (a watch streams its events); the router
  // writes nothing more.
  bool streamed = false;
};

// A non-resource answer (version, health, discovery, OpenAPI): a body in its media type.
struct RawResponse {
  int code = 200;
  std::string content_type;
  std::string body;
  HttpsResponder::Headers headers;
};

// `Warning: 299 - "<text>"` headers, one per warning, with `"` and `\` escaped as upstream's
// warning headers quote them.
HttpsResponder::Headers WarningHeaders(const std::vector<std::string>& warnings);

}  // namespace kite::apiserver
