// The routing table of subresources (handlers/routes.h): every (resource, subresource, verb)
// discovery advertises reaches its handler, and no route answers a verb discovery does not
// advertise; an unknown or unserved subresource is 404, a wrong verb 405; the one replaced verb
// of an object (bindings); the requester admission per kind. Then the same answers through an API
// server in this process, as Status objects.
#include "server/apiserver/handlers/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>

#include "api/object.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;
using H = RouteHandler;

const api::ResourceInfo& Builtin(const char* group, const char* version, const char* resource) {
  const api::ResourceInfo* r = api::FindResource(group, version, resource);
  EXPECT_NE(r, nullptr) << resource;
  return *r;
}

// What each served subresource of a built-in kind is answered by, per verb (verb "" = every verb
// the subresource has).
H Expected(const std::string& resource, const std::string& sub, const std::string& verb) {
  if (sub == "status" || sub == "approval") {
    return verb == "get" ? H::kGetObject : verb == "update" ? H::kUpdateStatus : H::kPatchStatus;
  }
  if (resource == "pods" && sub == "ephemeralcontainers") {
    return verb == "get" ? H::kGetObject : verb == "update" ? H::kUpdateObject : H::kPatchObject;
  }
  static const std::map<std::string, H> kBySubresource = {
      {"*/scale", H::kScale},
      {"namespaces/finalize", H::kUpdateObject},
      {"nodes/proxy", H::kNodeProxy},
      {"pods/attach", H::kRemoteCommand},
      {"pods/binding", H::kBinding},
      {"pods/eviction", H::kEviction},
      {"pods/exec", H::kRemoteCommand},
      {"pods/log", H::kPodLog},
      {"pods/portforward", H::kRemoteCommand},
      {"pods/proxy", H::kObjectProxy},
      {"serviceaccounts/token", H::kTokenRequest},
      {"services/proxy", H::kObjectProxy},
  };
  auto it = kBySubresource.find(sub == "scale" ? "*/scale" : resource + "/" + sub);
  return it == kBySubresource.end() ? H::kNone : it->second;
}

const std::vector<std::string> kEveryVerb = {"get", "list", "create", "update", "patch", "delete", "deletecollection",
                                             "options"};

TEST(RoutesTest, EveryAdvertisedSubresourceVerbReachesItsHandler) {
  const auto served = api::ResourceSet::With({});
  int routes = 0;
  std::set<std::string> seen;
  for (const auto& r : served->resources) {
    for (const auto& s : r.subresources) {
      const std::string what = r.group + "/" + r.resource + "/" + s.name;
      EXPECT_TRUE(SubresourceServed(r, s.name)) << what;
      seen.insert(r.resource + "/" + s.name);
      const std::set<std::string> advertised(s.verbs.begin(), s.verbs.end());
      for (const auto& verb : kEveryVerb) {
        const Route route = FindRoute(r, s.name, verb);
        if (advertised.count(verb)) {
          EXPECT_EQ(route.handler, Expected(r.resource, s.name, verb)) << what << " " << verb;
          EXPECT_NE(route.handler, H::kNone) << what << " " << verb;
          ++routes;
        } else if (s.name == "proxy" && verb == "options") {
          EXPECT_EQ(route.handler, Expected(r.resource, s.name, verb)) << what << " OPTIONS is relayed";
        } else {
          EXPECT_EQ(route.handler, H::kNone) << what << " " << verb;
          EXPECT_EQ(route.code, 405) << what << " " << verb;
        }
        // Only the connection upgrades skip the write options.
        EXPECT_EQ(route.before_write_options, route.handler == H::kRemoteCommand) << what << " " << verb;
      }
    }
  }
  EXPECT_GE(routes, 70);  // 3 verbs × ~20 status subresources, scale ×4, and the rest
  for (const char* want : {"pods/exec", "pods/attach", "pods/portforward", "pods/log", "pods/proxy", "pods/binding",
                           "pods/eviction", "nodes/proxy", "services/proxy", "serviceaccounts/token",
                           "namespaces/finalize", "certificatesigningrequests/approval", "deployments/scale",
                           "pods/ephemeralcontainers",
                           "replicationcontrollers/scale", "jobs/status"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
}

TEST(RoutesTest, UnknownOrUnservedSubresourcesAre404) {
  const auto& pods = Builtin("", "v1", "pods");
  EXPECT_EQ(FindRoute(pods, "bogus", "get").code, 404);
  EXPECT_EQ(FindRoute(pods, "token", "create").code, 404);                // another kind's
  EXPECT_EQ(FindRoute(Builtin("", "v1", "configmaps"), "status", "get").code, 404);
  EXPECT_EQ(FindRoute(Builtin("", "v1", "services"), "log", "get").code, 404);
  EXPECT_EQ(FindRoute(Builtin("apps", "v1", "daemonsets"), "scale", "get").code, 404);
  EXPECT_EQ(FindRoute(Builtin("", "v1", "namespaces"), "approval", "get").code, 404);
  EXPECT_FALSE(SubresourceServed(pods, "bogus"));
  EXPECT_FALSE(SubresourceServed(Builtin("", "v1", "configmaps"), "status"));
}

TEST(RoutesTest, WrongVerbsAre405) {
  struct Case {
    const char *group, *resource, *sub, *verb;
  };
  for (const Case& c : std::vector<Case>{{"", "pods", "log", "update"},
                                         {"", "pods", "exec", "delete"},
                                         {"", "pods", "exec", "patch"},
                                         {"", "pods", "eviction", "get"},
                                         {"", "pods", "binding", "update"},
                                         {"", "pods", "status", "delete"},
                                         {"", "pods", "status", "create"},
                                         {"", "serviceaccounts", "token", "get"},
                                         {"", "namespaces", "finalize", "patch"},
                                         {"apps", "deployments", "scale", "delete"},
                                         {"certificates.k8s.io", "certificatesigningrequests", "approval", "delete"}}) {
    const Route route = FindRoute(Builtin(c.group, "v1", c.resource), c.sub, c.verb);
    EXPECT_EQ(route.handler, H::kNone) << c.resource << "/" << c.sub << " " << c.verb;
    EXPECT_EQ(route.code, 405) << c.resource << "/" << c.sub << " " << c.verb;
  }
}

TEST(RoutesTest, TheObjectItselfKeepsTheGenericVerbsExceptWhereAKindReplacesOne) {
  const auto& bindings = Builtin("", "v1", "bindings");
  EXPECT_EQ(FindRoute(bindings, "", "create").handler, H::kBindingFromBody);
  for (const char* verb : {"get", "list", "delete"}) {
    EXPECT_EQ(FindRoute(bindings, "", verb).handler, H::kNone) << verb;
    EXPECT_EQ(FindRoute(bindings, "", verb).code, 0) << verb;
  }
  for (const auto& verb : kEveryVerb) {
    const Route route = FindRoute(Builtin("", "v1", "pods"), "", verb);
    EXPECT_EQ(route.handler, H::kNone) << verb;
    EXPECT_EQ(route.code, 0) << verb;
  }
}

TEST(RoutesTest, CustomResourcesGetStatusAndScaleButNoBuiltInKindsRoutes) {
  api::ResourceInfo widgets{"example.com", "v1", "Widget", "widgets", "widget", true, {"get", "list"}, {}, {},
                            {{"status", "", "", "Widget", {"get", "patch", "update"}},
                             {"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}}},
                            true, nullptr, false, false, ""};
  EXPECT_EQ(FindRoute(widgets, "status", "patch").handler, H::kPatchStatus);
  EXPECT_EQ(FindRoute(widgets, "scale", "get").handler, H::kScale);
  EXPECT_TRUE(SubresourceServed(widgets, "status"));
  // A custom resource that names a built-in kind's resource and subresource does not borrow its
  // handler (only a built-in kind declares these subresources; this one is made up).
  api::ResourceInfo borrowed = Builtin("", "v1", "serviceaccounts");
  borrowed.custom = true;
  EXPECT_EQ(FindRoute(borrowed, "token", "create").code, 404);
  EXPECT_FALSE(SubresourceServed(borrowed, "token"));
}

TEST(RoutesTest, RequesterAdmissionIsTheCertificateSigningRequestsOnly) {
  const auto served = api::ResourceSet::With({});
  for (const auto& r : served->resources) {
    EXPECT_EQ(RequesterAdmissionFor(r) != nullptr, r.resource == "certificatesigningrequests") << r.resource;
  }
  api::ResourceInfo custom = Builtin("certificates.k8s.io", "v1", "certificatesigningrequests");
  custom.custom = true;
  EXPECT_EQ(RequesterAdmissionFor(custom), nullptr);
}

// Through the handlers: the answers are Status objects with upstream's codes and reasons.
class RoutesThroughTheServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(server_.Start());
    transport_ = server_.AdminTransport();
  }
  void TearDown() override { transport_.reset(); }

  client::Response Do(const char* method, const std::string& path, std::string body = "") {
    client::Request req;
    req.method = method;
    req.path = path;
    req.body = std::move(body);
    if (std::string(method) == "PATCH") req.content_type = "application/merge-patch+json";
    return transport_->Do(req);
  }
  // The answer's Status: its code and reason, "" when the answer is not a Status.
  static std::string Reason(const client::Response& res) {
    auto v = json::parse(res.body);
    if (!v.is_object() || api::GetString(v.as_object(), "kind") != "Status") return "";
    EXPECT_EQ(api::GetInt(v.as_object(), "code"), res.code) << res.body;
    return api::GetString(v.as_object(), "reason");
  }

  testing::InProcessApiServer server_;
  std::shared_ptr<client::Transport> transport_;
};

TEST_F(RoutesThroughTheServer, UnknownIs404WrongVerbIs405) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  ASSERT_EQ(Do("POST", pods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
                                 "spec":{"containers":[{"name":"c","image":"i"}]}})").code, 201);
  struct Case {
    const char* method;
    std::string path;
    int code;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"GET", pods + "/p/bogus", 404, "NotFound"},
           {"DELETE", pods + "/p/ephemeralcontainers", 405, "MethodNotAllowed"},
           {"GET", "/api/v1/namespaces/default/configmaps/c/status", 404, "NotFound"},
           {"PUT", pods + "/p/log", 405, "MethodNotAllowed"},
           {"PATCH", pods + "/p/exec", 405, "MethodNotAllowed"},
           {"GET", pods + "/p/eviction", 405, "MethodNotAllowed"},
           {"DELETE", pods + "/p/status", 405, "MethodNotAllowed"},
           {"GET", "/api/v1/namespaces/default/serviceaccounts/default/token", 405, "MethodNotAllowed"},
           {"DELETE", "/apis/apps/v1/namespaces/default/deployments/missing/scale", 405, "MethodNotAllowed"},
           {"GET", pods + "/missing/status", 404, "NotFound"},  // routed; the object is missing
       }) {
    auto res = Do(c.method, c.path);
    EXPECT_EQ(res.code, c.code) << c.method << " " << c.path << ": " << res.body;
    EXPECT_EQ(Reason(res), c.reason) << c.method << " " << c.path;
  }
  // Routed subresources answer: the status read, and the bindings resource's create (the pod named
  // in the body's metadata).
  auto status = Do("GET", pods + "/p/status");
  ASSERT_EQ(status.code, 200) << status.body;
  EXPECT_EQ(api::GetString(json::parse(status.body).as_object(), {"metadata", "name"}), "p");
  auto bound = Do("POST", "/api/v1/namespaces/default/bindings",
                  R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}})");
  ASSERT_EQ(bound.code, 201) << bound.body;
  auto pod = Do("GET", pods + "/p");
  EXPECT_EQ(api::GetString(json::parse(pod.body).as_object(), {"spec", "nodeName"}), "n1");
}

}  // namespace
}  // namespace kite::apiserver
