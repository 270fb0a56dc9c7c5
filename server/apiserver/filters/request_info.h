// RequestInfo: what a URL and method ask for, by upstream's rules (apiserver's
// RequestInfoFactory): resource requests under /api/v1/... and /apis/<group>/<version>/...,
// with optional namespaces/<ns>/ prefix, name and subresource; verbs get/list/watch/create/
// update/patch/delete/deletecollection; `?watch=true` and the legacy /watch/ prefix mean watch.
// Everything else is a non-resource request with the HTTP method's lower-case verb.
#pragma once

#include <string>
#include <vector>

#include "base/https_server.h"

namespace kite::apiserver {

struct RequestInfo {
  bool resource_request = false;
  std::string path;
  std::string verb;
  std::string api_group, api_version;
  std::string namespace_;
  std::string resource, subresource, name;
};

RequestInfo ParseRequestInfo(const std::string& method, const std::string& path, bool watch_param);

}  // namespace kite::apiserver
