#include "server/apiserver/filters/request_info.h"

#include <gtest/gtest.h>

namespace kite::apiserver {
namespace {

struct Case {
  std::string method, path;
  bool watch;
  std::string verb, group, version, ns, resource, name, sub;
  bool resource_request = true;
};

TEST(RequestInfo, ParsesLikeUpstream) {
  std::vector<Case> cases = {
      {"GET", "/api/v1/pods", false, "list", "", "v1", "", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods", false, "list", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods/web", false, "get", "", "v1", "default", "pods", "web", ""},
      {"GET", "/api/v1/namespaces/default/pods/web/log", false, "get", "", "v1", "default", "pods", "web", "log"},
      {"GET", "/api/v1/namespaces/default/pods", true, "watch", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/watch/namespaces/default/pods", false, "watch", "", "v1", "default", "pods", "", ""},
      {"POST", "/apis/apps/v1/namespaces/ns1/deployments", false, "create", "apps", "v1", "ns1", "deployments", "", ""},
      {"PATCH", "/apis/apps/v1/namespaces/ns1/deployments/d/scale", false, "patch", "apps", "v1", "ns1", "deployments", "d", "scale"},
      {"PUT", "/api/v1/nodes/n1/status", false, "update", "", "v1", "", "nodes", "n1", "status"},
      {"DELETE", "/api/v1/namespaces/default/configmaps", false, "deletecollection", "", "v1", "default", "configmaps", "", ""},
      {"DELETE", "/api/v1/namespaces/default/configmaps/c", false, "delete", "", "v1", "default", "configmaps", "c", ""},
      {"GET", "/api/v1/namespaces", false, "list", "", "v1", "", "namespaces", "", ""},
      {"GET", "/api/v1/namespaces/kube-system", false, "get", "", "v1", "kube-system", "namespaces", "kube-system", ""},
      {"PUT", "/api/v1/namespaces/gone/finalize", false, "update", "", "v1", "gone", "namespaces", "gone", "finalize"},
      {"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", false, "create", "authorization.k8s.io", "v1", "",
       "selfsubjectaccessreviews", "", ""},
  };
  for (const auto& c : cases) {
    auto info = ParseRequestInfo(c.method, c.path, c.watch);
    SCOPED_TRACE(c.method + " " + c.path);
    EXPECT_TRUE(info.resource_request);
    EXPECT_EQ(info.verb, c.verb);
    EXPECT_EQ(info.api_group, c.group);
    EXPECT_EQ(info.api_version, c.version);
    EXPECT_EQ(info.namespace_, c.ns);
    EXPECT_EQ(info.resource, c.resource);
    EXPECT_EQ(info.name, c.name);
    EXPECT_EQ(info.subresource, c.sub);
  }
}

TEST(RequestInfo, NonResourcePaths) {
  for (const char* p : {"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version", "/healthz", "/openapi/v3"}) {
    auto info = ParseRequestInfo("GET", p, false);
    EXPECT_FALSE(info.resource_request) << p;
    EXPECT_EQ(info.verb, "get") << p;
  }
  EXPECT_EQ(ParseRequestInfo("POST", "/version", false).verb, "post");
}

}  // namespace
}  // namespace kite::apiserver
