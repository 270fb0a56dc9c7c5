// Image references as the kubelet normalises them, and the credentials it sends with a pull from
// a pod's imagePullSecrets, with upstream's matching rules.
#include "agent/kubelet/pull_secrets.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/encoding.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

std::string Norm(std::string_view image) {
  auto r = ParseImageReference(image);
  return r.ok() ? r->String() : "error: " + r.status().message();
}

TEST(ImageReference, Normalises) {
  EXPECT_EQ(Norm("nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(Norm("nginx:1.26"), "docker.io/library/nginx:1.26");
  EXPECT_EQ(Norm("library/nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(Norm("user/app:v1"), "docker.io/user/app:v1");
  EXPECT_EQ(Norm("docker.io/nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(Norm("index.docker.io/library/nginx"), "docker.io/library/nginx:latest");
  EXPECT_EQ(Norm("localhost/app"), "localhost/app:latest");
  EXPECT_EQ(Norm("localhost:5000/app:1"), "localhost:5000/app:1");
  EXPECT_EQ(Norm("registry.example.com/a/b/c:1.0-rc_1"), "registry.example.com/a/b/c:1.0-rc_1");
  EXPECT_EQ(Norm("kite.local/busybox:1.35"), "kite.local/busybox:1.35");
  EXPECT_EQ(Norm("[::1]:5000/app"), "[::1]:5000/app:latest");
  EXPECT_EQ(Norm("a__b/c-d.e--f"), "docker.io/a__b/c-d.e--f:latest");
  const std::string d = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Norm("nginx@" + d), "docker.io/library/nginx@" + d);
  EXPECT_EQ(Norm("nginx:1.26@" + d), "docker.io/library/nginx:1.26@" + d);

  auto r = ParseImageReference("quay.io:443/coreos/etcd:v3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->domain, "quay.io:443");
  EXPECT_EQ(r->path, "coreos/etcd");
  EXPECT_EQ(r->tag, "v3");
  EXPECT_EQ(r->Repository(), "quay.io:443/coreos/etcd");
}

TEST(ImageReference, RefusesWhatIsNotAReference) {
  for (const char* bad : {"", "Nginx", "docker.io/Library/nginx", "nginx:", "nginx:-x", "a//b", "/a", "a/", "a..b",
                          "a-/b", ":tag", "nginx@sha256:abc", "nginx@sha256", "reg:port/a", "reg.example.com:/a",
                          "a b", "nginx:tag:more"}) {
    auto r = ParseImageReference(bad);
    EXPECT_FALSE(r.ok()) << bad << " → " << (r.ok() ? r->String() : "");
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(ParseImageReference(std::string(64, 'a')).ok());  // an image id is not a name
  EXPECT_FALSE(ParseImageReference("nginx:" + std::string(129, 'a')).ok());
}

ImageReference Ref(std::string_view image) {
  auto r = ParseImageReference(image);
  EXPECT_TRUE(r.ok()) << image;
  return r.ok() ? *r : ImageReference{};
}

std::vector<std::string> Users(const DockerKeyring& k, std::string_view image) {
  std::vector<std::string> users;
  for (const auto& a : k.Lookup(Ref(image))) users.push_back(a.username + ":" + a.password);
  return users;
}

TEST(DockerKeyring, MatchesUpstreamsRules) {
  DockerKeyring k;
  ASSERT_TRUE(k.AddDockerConfigJson(R"({"auths":{
      "registry.example.com": {"username":"host","password":"p1"},
      "registry.example.com/team": {"username":"team","password":"p2"},
      "https://registry.example.com:5000/v2/": {"username":"port","password":"p3"},
      "*.corp.example": {"username":"wild","password":"p4"},
      "https://index.docker.io/v1/": {"auth":")" + Base64Encode("hub:p5") + R"("}}})")
                  .ok());
  EXPECT_EQ(Users(k, "registry.example.com/team/app"), (std::vector<std::string>{"team:p2", "host:p1"}));
  EXPECT_EQ(Users(k, "registry.example.com/other/app"), std::vector<std::string>{"host:p1"});
  EXPECT_EQ(Users(k, "registry.example.com:5000/app"), std::vector<std::string>{"port:p3"});
  EXPECT_EQ(Users(k, "a.corp.example/app"), std::vector<std::string>{"wild:p4"});
  EXPECT_TRUE(Users(k, "a.b.corp.example/app").empty());  // a glob part is one host part
  EXPECT_TRUE(Users(k, "corp.example/app").empty());
  EXPECT_TRUE(Users(k, "example.com/app").empty());
  // Docker Hub's key, whatever way the image names it.
  EXPECT_EQ(Users(k, "nginx"), std::vector<std::string>{"hub:p5"});
  EXPECT_EQ(Users(k, "docker.io/user/app:1"), std::vector<std::string>{"hub:p5"});
  EXPECT_TRUE(Users(k, "quay.io/app").empty());
}

TEST(DockerKeyring, DockerIoKeyAndDockercfg) {
  DockerKeyring k;
  ASSERT_TRUE(k.AddDockerCfg(R"({"docker.io": {"username":"u","password":"p","email":"e@x"}})").ok());
  EXPECT_EQ(Users(k, "busybox:1.35"), std::vector<std::string>{"u:p"});
  EXPECT_TRUE(Users(k, "ghcr.io/x/y").empty());
}

TEST(DockerKeyring, BadDocumentsAreErrors) {
  DockerKeyring k;
  EXPECT_FALSE(k.AddDockerConfigJson("{").ok());
  EXPECT_FALSE(k.AddDockerConfigJson("[]").ok());
  EXPECT_FALSE(k.AddDockerConfigJson(R"({"auths": []})").ok());
  EXPECT_FALSE(k.AddDockerConfigJson(R"({"auths": {"r": 1}})").ok());
  EXPECT_FALSE(k.AddDockerConfigJson(R"({"auths": {"r": {"auth": "%%%"}}})").ok());
  EXPECT_FALSE(k.AddDockerConfigJson(R"({"auths": {"r": {"auth": ")" + Base64Encode("nocolon") + "\"}}}").ok());
  EXPECT_TRUE(k.AddDockerConfigJson(R"({"credsStore": "x"})").ok());
}

json::object Secret(const std::string& type, const std::string& key, const std::string& doc) {
  json::object s;
  s["type"] = type;
  s["data"] = json::object{{key, Base64Encode(doc)}};
  return s;
}

TEST(PullCredentials, FromThePodsImagePullSecrets) {
  json::object pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns1"},
      "spec":{"imagePullSecrets":[{"name":"gone"},{"name":"opaque"},{"name":"cfg"},{"name":"json"}]}})")
                         .as_object();
  std::vector<std::string> asked;
  SecretLookup lookup = [&](const std::string& ns, const std::string& name) -> Result<json::object> {
    asked.push_back(ns + "/" + name);
    if (name == "json") {
      return Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                    R"({"auths":{"127.0.0.1:5000":{"username":"kite","password":"s3cret"}}})");
    }
    if (name == "cfg") return Secret("kubernetes.io/dockercfg", ".dockercfg", R"({"docker.io":{"username":"d","password":"x"}})");
    if (name == "opaque") return Secret("Opaque", ".dockerconfigjson", "{");  // ignored: other type
    return Status(Code::kNotFound, "secrets \"" + name + "\" not found");
  };
  auto c = PullCredentialsFor(pod, Ref("127.0.0.1:5000/library/busybox:1.35"), lookup);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(asked, (std::vector<std::string>{"ns1/gone", "ns1/opaque", "ns1/cfg", "ns1/json"}));
  ASSERT_EQ(c->auths.size(), 1u);
  EXPECT_EQ(c->auths[0].username, "kite");
  EXPECT_EQ(c->auths[0].password, "s3cret");
  EXPECT_EQ(c->auths[0].server_address, "");
  EXPECT_EQ(c->missing, std::vector<std::string>{"gone: secrets \"gone\" not found"});

  auto hub = PullCredentialsFor(pod, Ref("busybox"), lookup);
  ASSERT_TRUE(hub.ok());
  ASSERT_EQ(hub->auths.size(), 1u);
  EXPECT_EQ(hub->auths[0].username, "d");

  auto none = PullCredentialsFor(json::object{}, Ref("busybox"), lookup);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->auths.empty());
}

TEST(PullCredentials, AMalformedDockerSecretFailsThePull) {
  json::object pod = json::parse(R"({"metadata":{"namespace":"ns1"},"spec":{"imagePullSecrets":[{"name":"s"}]}})").as_object();
  SecretLookup lookup = [](const std::string&, const std::string&) -> Result<json::object> {
    return Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", "not json");
  };
  auto c = PullCredentialsFor(pod, Ref("busybox"), lookup);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("imagePullSecret s"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace kite::kubelet
