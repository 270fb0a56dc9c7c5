// registries.yaml (k3s's format) read and rendered as containerd 1.6's CRI registry tables.
// Against a real containerd and docker-registry: tests/integration/registry_mirror.sh.
#include "agent/cri/registries.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace kite::cri {
namespace {

TEST(Registries, ParsesMirrorsAndConfigs) {
  auto c = ParseRegistries(R"(
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - https://mirror.example.com
  "*":
    endpoint: ["https://any.example.com"]
configs:
  "127.0.0.1:5000":
    auth:
      username: kite
      password: 12345
  mirror.example.com:
    auth: {auth: a2l0ZTpzM2NyZXQ=, identity_token: tok}
    tls:
      ca_file: /etc/ssl/ca.pem
      cert_file: /etc/ssl/c.pem
      key_file: /etc/ssl/k.pem
      insecure_skip_verify: true
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->mirrors.size(), 2u);
  EXPECT_EQ(c->mirrors.at("docker.io").endpoints,
            (std::vector<std::string>{"http://127.0.0.1:5000", "https://mirror.example.com"}));
  EXPECT_EQ(c->mirrors.at("*").endpoints, std::vector<std::string>{"https://any.example.com"});
  const auto& local = c->configs.at("127.0.0.1:5000");
  ASSERT_TRUE(local.auth);
  EXPECT_EQ(local.auth->username, "kite");
  EXPECT_EQ(local.auth->password, "12345");  // a YAML number taken as the text written
  EXPECT_FALSE(local.tls);
  const auto& m = c->configs.at("mirror.example.com");
  EXPECT_EQ(m.auth->auth, "a2l0ZTpzM2NyZXQ=");
  EXPECT_EQ(m.auth->identity_token, "tok");
  EXPECT_EQ(m.tls->ca_file, "/etc/ssl/ca.pem");
  EXPECT_TRUE(m.tls->insecure_skip_verify);
  EXPECT_TRUE(c->warnings.empty());
}

TEST(Registries, EmptyDocumentsAreEmptyConfigs) {
  for (const char* text : {"", "\n", "# nothing\n", "mirrors:\nconfigs:\n", "{}"}) {
    auto c = ParseRegistries(text);
    ASSERT_TRUE(c.ok()) << text << ": " << c.status().ToString();
    EXPECT_TRUE(c->empty()) << text;
    EXPECT_EQ(RenderContainerdRegistryToml(*c), "") << text;
  }
}

TEST(Registries, BadInputIsAClearError) {
  struct Case {
    const char* yaml;
    const char* want;  // in the message
  } cases[] = {
      {"mirrors: [a, b]", "mirrors: want a mapping"},
      {"mirrors:\n  docker.io:\n    endpoint: http://x", "mirrors.\"docker.io\".endpoint: want a list"},
      {"mirrors:\n  docker.io:\n    endpoint: [{a: b}]", "endpoint[0]: want a string"},
      {"mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]", "scheme must be http or https"},
      {"mirrors:\n  docker.io:\n    endpoint: [\"http://\"]", "not a registry URL"},
      {"mirrors:\n  docker.io:\n    endpoint: [\"http://a b\"]", "not a registry URL"},
      {"mirrors:\n  \"a/b\":\n    endpoint: []", "not a registry host"},
      {"configs:\n  x:\n    auth: [1]", "configs.\"x\".auth: want a mapping"},
      {"configs:\n  x:\n    auth: {username: [1]}", "configs.\"x\".auth.username: want a string"},
      {"configs:\n  x:\n    tls: {insecure_skip_verify: maybe}", "want true or false"},
      {"configs:\n  x:\n    tls: {cert_file: /c}", "cert_file and key_file go together"},
      {"mirrors: {a: [", "registries.yaml"},
      {"- 1\n- 2", "want a mapping with mirrors and configs"},
  };
  for (const auto& tc : cases) {
    auto c = ParseRegistries(tc.yaml);
    ASSERT_FALSE(c.ok()) << tc.yaml;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << tc.yaml;
    EXPECT_NE(c.status().message().find(tc.want), std::string::npos) << tc.yaml << " → " << c.status().message();
  }
}

TEST(Registries, RewritesAndUnknownKeysAreWarnings) {
  auto c = ParseRegistries(R"yaml(
mirrors:
  docker.io:
    endpoints: ["http://typo"]
    rewrite:
      "^library/(.*)": "mirrored/$1"
configs:
  x:
    tls: {ca: /a}
)yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->mirrors.at("docker.io").endpoints.empty());
  ASSERT_EQ(c->mirrors.at("docker.io").rewrites.size(), 1u);
  EXPECT_EQ(c->mirrors.at("docker.io").rewrites[0].second, "mirrored/$1");
  std::string all;
  for (const auto& w : c->warnings) all += w + "\n";
  EXPECT_NE(all.find("mirrors.\"docker.io\".endpoints ignored"), std::string::npos) << all;
  EXPECT_NE(all.find("rewrite is not supported by containerd 1.6"), std::string::npos) << all;
  EXPECT_NE(all.find("configs.\"x\".tls.ca ignored"), std::string::npos) << all;
}

TEST(Registries, RendersContainerdTables) {
  RegistryConfig c;
  c.mirrors["docker.io"].endpoints = {"http://127.0.0.1:5000", "https://m.example.com/v2/proxy"};
  c.configs["127.0.0.1:5000"].auth = RegistryAuth{"kite", "p\"w\\d", "", ""};
  c.configs["m.example.com"].tls = RegistryTLS{"/ca.pem", "", "", false};
  EXPECT_EQ(RenderContainerdRegistryToml(c),
            "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n"
            "  endpoint = [\"http://127.0.0.1:5000\", \"https://m.example.com/v2/proxy\"]\n"
            "[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"127.0.0.1:5000\".auth]\n"
            "  username = \"kite\"\n"
            "  password = \"p\\\"w\\\\d\"\n"
            "[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"m.example.com\".tls]\n"
            "  ca_file = \"/ca.pem\"\n"
            "  insecure_skip_verify = false\n");
}

TEST(Registries, DockerHubCredentialsAlsoGoToTheHostContainerdContacts) {
  RegistryConfig c;
  c.configs["docker.io"].auth = RegistryAuth{"", "", "dTpw", ""};
  std::string toml = RenderContainerdRegistryToml(c);
  EXPECT_NE(toml.find("configs.\"docker.io\".auth]\n  auth = \"dTpw\"\n"), std::string::npos) << toml;
  EXPECT_NE(toml.find("configs.\"registry-1.docker.io\".auth]\n  auth = \"dTpw\"\n"), std::string::npos) << toml;
}

TEST(Registries, ControlCharactersAreEscaped) {
  RegistryConfig c;
  c.configs["h"].auth = RegistryAuth{"a\nb\x01", "", "", ""};
  EXPECT_NE(RenderContainerdRegistryToml(c).find("username = \"a\\nb\\u0001\""), std::string::npos);
}

TEST(Registries, LoadsAFileAndAMissingFileIsEmpty) {
  auto none = LoadRegistries("/nonexistent/kite/registries.yaml");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  char dir[] = "/tmp/kite-registries-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/registries.yaml";
  std::ofstream(path) << "mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:1\"]\n";
  auto c = LoadRegistries(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->mirrors.at("docker.io").endpoints.size(), 1u);

  std::ofstream(path) << "mirrors: [";
  auto bad = LoadRegistries(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path), std::string::npos) << bad.status().message();
  std::remove(path.c_str());
  auto dir_given = LoadRegistries(dir);
  ASSERT_FALSE(dir_given.ok());
  EXPECT_NE(dir_given.status().message().find("is not a file"), std::string::npos) << dir_given.status().message();
  rmdir(dir);
}

}  // namespace
}  // namespace kite::cri
