// Private registry configuration: k3s's `registries.yaml` (mirrors, rewrites, per-host auth and
// TLS) read into a RegistryConfig and rendered for containerd 1.6's CRI plugin.
//
// The file (default /etc/kite/registries.yaml, kite-agent's --private-registry; k3s reads
// /etc/rancher/k3s/registries.yaml):
//
//   mirrors:
//     docker.io:                      # a registry host[:port], or "*" for every registry
//       endpoint: ["http://10.0.0.5:5000", "https://mirror.example.com"]
//       rewrite: {"^library/(.*)": "mirrored/$1"}
//   configs:
//     10.0.0.5:5000:                  # the host[:port] contacted (a mirror endpoint's host)
//       auth: {username: u, password: p}        # or auth: <base64 u:p>, or identity_token
//       tls: {ca_file: ..., cert_file: ..., key_file: ..., insecure_skip_verify: false}
//
// Rendering: containerd 1.6 offers two mutually exclusive ways (setting both is a start-up
// error): `registry.mirrors` + `registry.configs` tables in config.toml, or `registry.config_path`
// (a directory of hosts.toml files). hosts.toml in 1.6 has no credentials (auth would still have
// to come from `registry.configs`, and `configs.tls` is refused beside config_path), so kite
// renders the config.toml tables, which carry mirrors, auth and TLS in one place — what k3s did
// on containerd 1.6. Facts of containerd 1.6 (pkg/cri/server/image_pull.go) this relies on:
//  - a registry's endpoints are its mirror's, else the "*" mirror's; the registry itself is
//    tried last unless one endpoint is that host; an endpoint without scheme gets http for
//    loopback hosts and https otherwise; an endpoint without path gets /v2 (a path is used as is);
//  - auth and TLS are looked up by the host of the endpoint being contacted; credentials sent
//    with a CRI pull (imagePullSecrets) take precedence over configured ones.
// Not supported by stock containerd 1.6 and reported as warnings, not applied: `rewrite` (k3s
// patches its containerd for it). containerd logs that `mirrors` is deprecated (it still works
// through 1.7).
//
// Errors are values: a file that is not YAML, or a field of the wrong type or an endpoint that is
// not an http(s) URL, is InvalidArgument naming the field; nothing throws. Unknown keys are
// ignored, as k3s does, but listed in `warnings` so a typo (`endpoints:`) is seen.
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::cri {

inline constexpr std::string_view kDefaultRegistriesPath = "/etc/kite/registries.yaml";

struct RegistryMirror {
  std::vector<std::string> endpoints;                          // URLs, in order of preference
  std::vector<std::pair<std::string, std::string>> rewrites;  // regex → replacement (not applied)
};

struct RegistryAuth {
  std::string username, password;
  std::string auth;            // base64 "username:password"
  std::string identity_token;  // an OAuth refresh token
};

struct RegistryTLS {
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
};

struct RegistryHostConfig {
  std::optional<RegistryAuth> auth;
  std::optional<RegistryTLS> tls;
};

struct RegistryConfig {
  std::map<std::string, RegistryMirror> mirrors;     // by registry host ("docker.io", "*")
  std::map<std::string, RegistryHostConfig> configs;  // by host[:port] contacted
  std::vector<std::string> warnings;                 // settings read but not applied; unknown keys

  bool empty() const { return mirrors.empty() && configs.empty(); }
};

// Parses registries.yaml text. An empty document is an empty config.
Result<RegistryConfig> ParseRegistries(std::string_view yaml);

// Reads and parses the file at `path`. A file that does not exist is an empty config (the file
// is optional, as in k3s); one that cannot be read is an error.
Result<RegistryConfig> LoadRegistries(const std::string& path);

// The config.toml (version 2) tables for `config` under [plugins."io.containerd.grpc.v1.cri"]:
// registry.mirrors."<host>" and registry.configs."<host>".{auth,tls}. Only table headers and
// their keys, so it can be appended at the end of a config.toml; the config must not set
// registry.config_path. Empty for an empty config. Credentials configured for "docker.io" are
// also rendered for "registry-1.docker.io", the host containerd contacts for it.
std::string RenderContainerdRegistryToml(const RegistryConfig& config);

}  // namespace kite::cri
