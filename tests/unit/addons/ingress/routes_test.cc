// RouteTable: which Ingresses are ours (classes, the default class, the annotation), host and
// path matching with the Ingress API's precedence, default backends, and backends resolved to
// the Service's cluster IP and port (or why not).
#include "addons/ingress/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kite::ingress {
namespace {

using Objects = RouteTable::Objects;

std::shared_ptr<const boost::json::object> Obj(const std::string& text) {
  return std::make_shared<const boost::json::object>(boost::json::parse(text).as_object());
}

std::shared_ptr<const boost::json::object> Class(const std::string& name, const std::string& controller, bool is_default) {
  return Obj(R"({"metadata":{"name":")" + name + R"(","annotations":{"ingressclass.kubernetes.io/is-default-class":")" +
             (is_default ? "true" : "false") + R"("}},"spec":{"controller":")" + controller + R"("}})");
}

std::shared_ptr<const boost::json::object> Service(const std::string& name, const std::string& ip,
                                                   const std::string& ports = R"([{"name":"http","port":80},{"name":"alt","port":8080}])") {
  return Obj(R"({"metadata":{"name":")" + name + R"(","namespace":"default"},"spec":{"clusterIP":")" + ip +
             R"(","ports":)" + ports + "}}");
}

// An Ingress in "default" with `spec` as its spec (JSON) and `extra_meta` added to its metadata.
std::shared_ptr<const boost::json::object> Ingress(const std::string& name, const std::string& spec,
                                                   const std::string& created = "2026-01-01T00:00:00Z",
                                                   const std::string& extra_meta = "") {
  return Obj(R"({"metadata":{"name":")" + name + R"(","namespace":"default","creationTimestamp":")" + created + "\"" +
             (extra_meta.empty() ? "" : "," + extra_meta) + R"(},"spec":)" + spec + "}");
}

std::string Rule(const std::string& host, const std::string& path, const std::string& type, const std::string& svc,
                 const std::string& port = R"({"number":80})") {
  return R"({"host":")" + host + R"(","http":{"paths":[{"path":")" + path + R"(","pathType":")" + type +
         R"(","backend":{"service":{"name":")" + svc + R"(","port":)" + port + "}}}]}}";
}

class RouteTableTest : public ::testing::Test {
 protected:
  Objects classes_{Class("traefik", "kite.io/ingress", true), Class("nginx", "k8s.io/ingress-nginx", false)};
  Objects services_{Service("web", "10.43.0.10"), Service("api", "10.43.0.11"), Service("other", "10.43.0.12"),
                    Service("headless", "None"), Service("v6", "fd00::5")};

  std::shared_ptr<const RouteTable> Build(const Objects& ingresses) {
    return RouteTable::Build(Options{}, ingresses, classes_, services_);
  }
  static std::string Where(const RouteTable& t, const std::string& host, const std::string& path) {
    const Backend* b = t.Match(host, path);
    return b ? (b->address.empty() ? "error: " + b->error : b->address) : "404";
  }
};

TEST_F(RouteTableTest, PrefixMatchesWholePathElements) {
  auto t = Build({Ingress("a", "{\"rules\":[" + Rule("", "/foo/", "Prefix", "web") + "]}")});
  EXPECT_EQ(Where(*t, "x", "/foo"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "x", "/foo/"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "x", "/foo/bar"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "x", "/foobar"), "404");
  EXPECT_EQ(Where(*t, "x", "/"), "404");
}

TEST_F(RouteTableTest, ExactMatchesOnlyThePath) {
  auto t = Build({Ingress("a", "{\"rules\":[" + Rule("", "/foo", "Exact", "web") + "]}")});
  EXPECT_EQ(Where(*t, "x", "/foo"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "x", "/foo/"), "404");
  EXPECT_EQ(Where(*t, "x", "/foo/bar"), "404");
}

TEST_F(RouteTableTest, LongestPathWinsThenExactThenOlderIngress) {
  auto t = Build({Ingress("short", "{\"rules\":[" + Rule("", "/", "Prefix", "web") + "]}", "2026-01-01T00:00:00Z"),
                  Ingress("long", "{\"rules\":[" + Rule("", "/api/v1", "Prefix", "api") + "]}", "2026-01-03T00:00:00Z"),
                  Ingress("exact", "{\"rules\":[" + Rule("", "/api/v1", "Exact", "other") + "]}", "2026-01-04T00:00:00Z"),
                  Ingress("newer", "{\"rules\":[" + Rule("", "/api/v1", "Prefix", "web", R"({"number":8080})") + "]}",
                          "2026-01-05T00:00:00Z")});
  EXPECT_EQ(Where(*t, "x", "/api/v1"), "10.43.0.12:80");       // Exact before Prefix
  EXPECT_EQ(Where(*t, "x", "/api/v1/pods"), "10.43.0.11:80");  // the older of two equal Prefixes
  EXPECT_EQ(Where(*t, "x", "/api"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "x", "/anything"), "10.43.0.10:80");
}

TEST_F(RouteTableTest, HostsExactThenWildcardThenHostless) {
  auto t = Build({Ingress("a", "{\"rules\":[" + Rule("Web.Example.com", "/", "Prefix", "web") + "," +
                                   Rule("*.example.com", "/", "Prefix", "api") + "," + Rule("", "/only", "Prefix", "other") +
                                   "," + Rule("web.example.com", "/x", "Exact", "other") + "]}")});
  EXPECT_EQ(Where(*t, "web.example.com", "/"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "WEB.example.com:8080", "/"), "10.43.0.10:80");  // port and case ignored
  EXPECT_EQ(Where(*t, "web.example.com.", "/x"), "10.43.0.12:80");     // a trailing dot too
  EXPECT_EQ(Where(*t, "a.example.com", "/"), "10.43.0.11:80");
  EXPECT_EQ(Where(*t, "a.b.example.com", "/only"), "10.43.0.12:80");   // one label only: not the wildcard
  EXPECT_EQ(Where(*t, "example.com", "/"), "404");
  EXPECT_EQ(Where(*t, "", "/only"), "10.43.0.12:80");
}

TEST_F(RouteTableTest, AHostsRulesFallThroughToHostlessOnes) {
  auto t = Build({Ingress("a", "{\"rules\":[" + Rule("a.test", "/app", "Prefix", "web") + "," +
                                   Rule("", "/", "Prefix", "api") + "]}")});
  EXPECT_EQ(Where(*t, "a.test", "/app/x"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "a.test", "/other"), "10.43.0.11:80");
}

TEST_F(RouteTableTest, ClassesDecideWhichIngressesAreOurs) {
  auto t = Build({Ingress("named", "{\"ingressClassName\":\"traefik\",\"rules\":[" + Rule("named", "/", "Prefix", "web") + "]}"),
                  Ingress("classless", "{\"rules\":[" + Rule("classless", "/", "Prefix", "web") + "]}"),
                  Ingress("nginx", "{\"ingressClassName\":\"nginx\",\"rules\":[" + Rule("nginx", "/", "Prefix", "web") + "]}"),
                  Ingress("unknown", "{\"ingressClassName\":\"gone\",\"rules\":[" + Rule("unknown", "/", "Prefix", "web") + "]}"),
                  Ingress("annotated", "{\"ingressClassName\":\"nginx\",\"rules\":[" + Rule("annotated", "/", "Prefix", "web") + "]}",
                          "2026-01-01T00:00:00Z", R"("annotations":{"kubernetes.io/ingress.class":"traefik"})")});
  EXPECT_EQ(Where(*t, "named", "/"), "10.43.0.10:80");
  EXPECT_EQ(Where(*t, "classless", "/"), "10.43.0.10:80");  // ours: our class is the default
  EXPECT_EQ(Where(*t, "nginx", "/"), "404");
  EXPECT_EQ(Where(*t, "unknown", "/"), "404");
  EXPECT_EQ(Where(*t, "annotated", "/"), "10.43.0.10:80");  // the annotation wins over the field
  EXPECT_EQ(t->ingresses(), (std::vector<std::string>{"default/annotated", "default/classless", "default/named"}));

  classes_ = {Class("traefik", "kite.io/ingress", false)};  // no default class: classless is not ours
  t = Build({Ingress("classless", "{\"rules\":[" + Rule("classless", "/", "Prefix", "web") + "]}")});
  EXPECT_EQ(Where(*t, "classless", "/"), "404");
  EXPECT_TRUE(t->ingresses().empty());
}

TEST_F(RouteTableTest, DefaultBackendOfTheOldestIngress) {
  auto t = Build({Ingress("b", R"({"defaultBackend":{"service":{"name":"api","port":{"number":80}}}})", "2026-01-02T00:00:00Z"),
                  Ingress("a", R"({"defaultBackend":{"service":{"name":"web","port":{"name":"alt"}}}})", "2026-01-01T00:00:00Z"),
                  Ingress("c", "{\"rules\":[" + Rule("c", "/", "Prefix", "other") + "]}")});
  EXPECT_EQ(Where(*t, "c", "/"), "10.43.0.12:80");
  EXPECT_EQ(Where(*t, "elsewhere", "/x"), "10.43.0.10:8080");
}

TEST_F(RouteTableTest, BackendsThatCannotBeResolvedSayWhy) {
  auto t = Build({Ingress("a", "{\"rules\":[" + Rule("", "/missing", "Prefix", "nope") + "," +
                                   Rule("", "/port", "Prefix", "web", R"({"number":81})") + "," +
                                   Rule("", "/named", "Prefix", "web", R"({"name":"grpc"})") + "," +
                                   Rule("", "/headless", "Prefix", "headless") + "," + Rule("", "/v6", "Prefix", "v6") + "]}")});
  EXPECT_EQ(Where(*t, "x", "/missing"), "error: service default/nope not found");
  EXPECT_EQ(Where(*t, "x", "/port"), "error: service default/web has no TCP port 81");
  EXPECT_EQ(Where(*t, "x", "/named"), "error: service default/web has no TCP port grpc");
  EXPECT_EQ(Where(*t, "x", "/headless").rfind("error: service default/headless has no cluster IP", 0), 0u);
  EXPECT_EQ(Where(*t, "x", "/v6"), "[fd00::5]:80");
  EXPECT_EQ(t->Match("x", "/port")->service, "default/web:81");
}

TEST_F(RouteTableTest, TlsHostsNameTheirSecretsTheOlderIngressWinning) {
  auto t = Build({Ingress("new", R"({"tls":[{"hosts":["a.test","*.w.test"],"secretName":"new-cert"}]})", "2026-02-01T00:00:00Z"),
                  Ingress("old", R"({"tls":[{"hosts":["A.test."],"secretName":"old-cert"},{"secretName":"no-hosts"},
                                            {"hosts":["x*y.test"],"secretName":"odd"}]})", "2026-01-01T00:00:00Z"),
                  Ingress("other", R"({"ingressClassName":"nginx","tls":[{"hosts":["o.test"],"secretName":"theirs"}]})")});
  ASSERT_NE(t->TlsSecretFor("a.test"), nullptr);
  EXPECT_EQ(*t->TlsSecretFor("a.test"), "default/old-cert");
  ASSERT_NE(t->TlsSecretFor("X.W.test"), nullptr);
  EXPECT_EQ(*t->TlsSecretFor("X.W.test"), "default/new-cert");
  EXPECT_EQ(t->TlsSecretFor("a.b.w.test"), nullptr);
  EXPECT_EQ(t->TlsSecretFor("o.test"), nullptr);  // another class's
  EXPECT_EQ(t->TlsSecretFor("x*y.test"), nullptr);
  EXPECT_EQ(t->TlsSecrets(), (std::vector<std::string>{"default/new-cert", "default/old-cert"}));
}

TEST_F(RouteTableTest, TraefiksEntrypointAnnotationsLimitWhereRulesAreServed) {
  const std::string meta_secure = R"("annotations":{"traefik.ingress.kubernetes.io/router.entrypoints":"websecure"})";
  const std::string meta_tls = R"("annotations":{"traefik.ingress.kubernetes.io/router.tls":"true"})";
  const std::string meta_both = R"("annotations":{"traefik.ingress.kubernetes.io/router.entrypoints":" web , websecure"})";
  const std::string meta_other = R"("annotations":{"traefik.ingress.kubernetes.io/router.entrypoints":"traefik"})";
  auto t = Build({Ingress("secure", "{\"rules\":[" + Rule("s.test", "/", "Prefix", "web") + "]}", "2026-01-01T00:00:00Z", meta_secure),
                  Ingress("tls", "{\"rules\":[" + Rule("t.test", "/", "Prefix", "api") + "]}", "2026-01-01T00:00:00Z", meta_tls),
                  Ingress("both", "{\"rules\":[" + Rule("b.test", "/", "Prefix", "api") + "]}", "2026-01-01T00:00:00Z", meta_both),
                  Ingress("other", "{\"rules\":[" + Rule("o.test", "/", "Prefix", "api") + "]}", "2026-01-01T00:00:00Z", meta_other),
                  Ingress("dflt", R"({"defaultBackend":{"service":{"name":"other","port":{"number":80}}}})", "2025-01-01T00:00:00Z",
                          meta_tls)});
  EXPECT_EQ(t->Match("s.test", "/", kWeb), nullptr);
  EXPECT_EQ(t->Match("s.test", "/", kWebsecure)->address, "10.43.0.10:80");
  EXPECT_EQ(t->Match("t.test", "/", kWeb), nullptr);
  EXPECT_EQ(t->Match("t.test", "/", kWebsecure)->address, "10.43.0.11:80");
  EXPECT_EQ(t->Match("b.test", "/", kWeb)->address, "10.43.0.11:80");
  EXPECT_EQ(t->Match("b.test", "/", kWebsecure)->address, "10.43.0.11:80");
  EXPECT_EQ(t->Match("o.test", "/", kWebsecure)->address, "10.43.0.12:80");  // the default backend: o.test's rule is nowhere
  EXPECT_EQ(t->Match("o.test", "/", kWeb), nullptr);                          // and the default is websecure's only
}

TEST_F(RouteTableTest, OddInputBuildsNothingHarmful) {
  auto t = Build({Ingress("a", R"({"rules":[{"host":"a*b.test","http":{"paths":[{"path":"/","backend":{}}]}},
                                           {"http":{"paths":[{"path":"regex.*","pathType":"ImplementationSpecific"}]}},
                                           {"http":{"paths":[{"pathType":"ImplementationSpecific","backend":{"resource":{"kind":"Bucket"}}}]}},
                                           7, {"http":7}]})"),
                  Obj(R"({"metadata":7,"spec":[]})")});
  EXPECT_EQ(Where(*t, "a*b.test", "/"), "error: backend is not a Service (resource backends are not supported)");
  EXPECT_EQ(t->rules(), 1u);
}

}  // namespace
}  // namespace kite::ingress
