#include "server/apiserver/filters/request_info.h"

namespace kite::apiserver {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

RequestInfo ParseRequestInfo(const std::string& method, const std::string& path, bool watch_param) {
  RequestInfo info;
  info.path = path;
  info.verb = Lower(method);
  auto parts = Split(path);
  size_t i = 0;
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return info;
  if (parts[0] == "api") {
    if (parts.size() < 3) return info;  // /api, /api/v1: discovery
    info.api_version = parts[1];
    i = 2;
  } else {
    if (parts.size() < 4) return info;  // /apis, /apis/g, /apis/g/v: discovery
    info.api_group = parts[1];
    info.api_version = parts[2];
    i = 3;
  }
  info.resource_request = true;
  bool legacy_watch = false;
  if (parts[i] == "watch") {  // deprecated /watch/ prefix, still served upstream
    legacy_watch = true;
    ++i;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
  // namespaces/<ns>/<resource>... is a namespaced request; namespaces and namespaces/<name>
  // (and its subresources) are the namespace objects themselves.
  // namespaces/<name>/status and /finalize are subresources of the namespace object.
  if (rest.size() >= 2 && rest[0] == "namespaces") {
    info.namespace_ = rest[1];  // upstream sets namespace = name for namespace objects too
    if (rest.size() >= 3 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (!rest.empty()) info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];

  if (method == "GET" || method == "HEAD") {
    info.verb = (legacy_watch || watch_param) ? "watch" : info.name.empty() ? "list" : "get";
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  }
  return info;
}

}  // namespace kite::apiserver
