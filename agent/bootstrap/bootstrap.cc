#include "agent/bootstrap/bootstrap.h"

#include <sys/stat.h>

#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/atomic_file.h"
#include "base/clock.h"
#include "base/encoding.h"
#include "base/fs.h"
#include "base/https_client.h"
#include "base/join_token.h"
#include "base/log.h"

namespace kite::agent {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

// Saved certificates are renewed when less than this remains (they are issued for 365 days).
constexpr auto kRenewBefore = std::chrono::hours(24 * 90);  // k3s's rule for every leaf certificate

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Written aside and renamed over, 0600; an unchanged file is left alone (no flash wear).
Status WriteFile(const fs::path& p, const std::string& data) {
  auto r = WriteFileIfChanged(p.string(), data, 0600);
  return r.ok() ? Status::Ok() : r.status();
}

std::string Prefix(const std::string& hash) { return hash.substr(0, 12) + "…"; }

// One GET on a fresh connection.
HttpsReply Get(const Kubeconfig& kc, const std::string& target, const HttpsConnection::Headers& headers = {}) {
  auto tls = MakeTlsContext(kc);
  if (!tls.ok()) return HttpsReply{0, "", tls.status().message(), false};
  HttpsConnection conn(kc, *tls, "kite-agent", std::chrono::seconds(10));
  return conn.Do(http::verb::get, target, "", "", headers);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Usable(const pki::KeyPair& kp, const std::string& ca_pem, const std::string& cn,
            const std::vector<std::string>& ips) {
  auto info = pki::Inspect(kp.cert_pem);
  if (!info.ok() || info->common_name != cn || !pki::SignedBy(kp.cert_pem, ca_pem) || kp.key_pem.empty()) return false;
  if (info->not_after - kite::Clock::Real()->Now() < kRenewBefore) return false;
  for (const auto& ip : ips) {
    if (std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) == info->ip_addresses.end()) return false;
  }
  return true;
}

std::string KubeconfigYaml(const std::string& server, const fs::path& dir) {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Config\nclusters:\n- name: kite\n  cluster:\n    server: " << server
    << "\n    certificate-authority: " << (dir / "server-ca.crt").string() << "\ncontexts:\n- name: kite\n  context:\n"
    << "    cluster: kite\n    user: kubelet\ncurrent-context: kite\nusers:\n- name: kubelet\n  user:\n"
    << "    client-certificate: " << (dir / "client-kubelet.crt").string()
    << "\n    client-key: " << (dir / "client-kubelet.key").string() << "\n";
  return y.str();
}

// The certificates of an earlier join under the server CA `ca`, when they are still good for
// this node (name, IPs, 90 days); the kubeconfig is written again for `o.server`.
std::optional<Result<NodeCredentials>> LoadSaved(const BootstrapOptions& o, const std::string& ca) {
  const fs::path dir(o.agent_dir);
  NodeCredentials creds;
  creds.server_ca_pem = ca;
  creds.kubeconfig_path = (dir / "kubelet.kubeconfig").string();
  auto load = [&](const char* name) {
    return pki::KeyPair{ReadFile(dir / (std::string(name) + ".crt")).value_or(""),
                        ReadFile(dir / (std::string(name) + ".key")).value_or("")};
  };
  const auto client_ca = ReadFile(dir / "client-ca.crt");
  creds.client = load("client-kubelet");
  creds.serving = load("serving-kubelet");
  if (!client_ca || !Usable(creds.client, *client_ca, "system:node:" + o.node_name, {}) ||
      !Usable(creds.serving, ca, o.node_name, o.node_ips)) {
    return std::nullopt;
  }
  creds.reused = true;
  if (auto s = WriteFile(creds.kubeconfig_path, KubeconfigYaml(o.server, dir)); !s.ok()) return Result<NodeCredentials>(s);
  return Result<NodeCredentials>(std::move(creds));
}

}  // namespace

Result<NodeCredentials> SavedCredentials(const BootstrapOptions& o) {
  auto token = ParseJoinToken(o.token);
  if (!token.ok()) return token.status();
  const auto ca = ReadFile(fs::path(o.agent_dir) / "server-ca.crt");
  if (!ca) return Status(Code::kNotFound, "no earlier join in " + o.agent_dir);
  if (!token->ca_hash.empty() && CaBundleHash(*ca) != token->ca_hash) {
    return Status(Code::kFailedPrecondition, "the CA of the earlier join is not the one the token pins");
  }
  auto saved = LoadSaved(o, *ca);
  if (!saved) return Status(Code::kNotFound, "the certificates of the earlier join are missing, expiring or for another node");
  return std::move(*saved);
}

Result<std::string> LoadOrCreateNodePassword(const std::string& agent_dir) {
  const fs::path p = fs::path(agent_dir) / "node-password";
  if (auto text = ReadFile(p); text && !Trimmed(*text).empty()) return Trimmed(*text);
  std::error_code ec;
  files::CreateDirectories(agent_dir, ec);
  std::string pw = RandomSecret();
  if (auto s = WriteFile(p, pw + "\n"); !s.ok()) return s;
  return pw;
}

Result<IssuedCert> SplitIssuedCert(const std::string& body) {
  std::vector<std::string> certs;
  std::string key;
  size_t pos = 0;
  while ((pos = body.find("-----BEGIN ", pos)) != std::string::npos) {
    const size_t label_end = body.find("-----", pos + 11);
    if (label_end == std::string::npos) break;
    const std::string label = body.substr(pos + 11, label_end - pos - 11);
    const std::string end_marker = "-----END " + label + "-----";
    size_t end = body.find(end_marker, label_end);
    if (end == std::string::npos) return Status(Code::kInvalidArgument, "unterminated PEM block " + label);
    end += end_marker.size();
    std::string block = body.substr(pos, end - pos) + "\n";
    if (label == "CERTIFICATE") certs.push_back(std::move(block));
    else if (label.find("PRIVATE KEY") != std::string::npos) key = std::move(block);
    pos = end;
  }
  if (certs.size() < 2 || key.empty()) {
    return Status(Code::kInvalidArgument, "the server's answer is not a certificate, its CA and a key");
  }
  return IssuedCert{certs[0], certs[1], key};
}

Result<NodeCredentials> Bootstrap(const BootstrapOptions& o) {
  auto token = ParseJoinToken(o.token);
  if (!token.ok()) return token.status();
  Kubeconfig kc;
  if (Status s = SetServer(o.server, &kc); !s.ok()) return s.Annotate("--server");
  const fs::path dir(o.agent_dir);
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return Status(Code::kUnavailable, "create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);

  // 1. The CA bundle, from a server we do not trust yet, checked against the token's hash
  //    before any credential goes out.
  kc.insecure_skip_tls_verify = true;
  HttpsReply ca_reply = Get(kc, "/cacerts");
  if (ca_reply.status != 200) {
    return Status(Code::kUnavailable, "GET " + o.server + "/cacerts: " +
                                          (ca_reply.status == 0 ? ca_reply.error : std::to_string(ca_reply.status)));
  }
  const std::string ca = ca_reply.body;
  const std::string got = CaBundleHash(ca);
  const auto saved_ca = ReadFile(dir / "server-ca.crt");
  if (!token->ca_hash.empty()) {
    if (got != token->ca_hash) {
      return Status(Code::kFailedPrecondition,
                    "the server's CA certificate hashes to " + Prefix(got) + " but the join token pins " +
                        Prefix(token->ca_hash) + ": refusing to send it the token (a different server, or a token of another cluster)");
    }
  } else if (saved_ca && *saved_ca != ca) {
    return Status(Code::kFailedPrecondition, "the server's CA certificate (" + Prefix(got) + ") is not the one this node joined (" +
                                                 Prefix(CaBundleHash(*saved_ca)) + ") and the token has no CA hash to say it changed");
  } else if (!saved_ca) {
    KITE_LOG(0) << "join: the token has no CA hash, so the server's CA (" << Prefix(got)
                << ") is trusted as given; use the full K10 token from the server's <data-dir>/server/token";
  }
  // 2. From here on, TLS is verified against that CA (k3s also checks the server's certificate
  //    against the bundle it just downloaded).
  kc.insecure_skip_tls_verify = false;
  kc.ca_pem = ca;
  HttpsReply verified = Get(kc, "/cacerts");
  if (verified.status != 200) {
    return Status(Code::kFailedPrecondition, "the server's certificate does not verify against its own CA bundle: " +
                                                 (verified.status == 0 ? verified.error : std::to_string(verified.status)));
  }

  if (saved_ca && *saved_ca == ca) {
    if (auto saved = LoadSaved(o, ca)) return std::move(*saved);
  }
  NodeCredentials creds;
  creds.server_ca_pem = ca;
  creds.kubeconfig_path = (dir / "kubelet.kubeconfig").string();

  // 3. New certificates, asked with the token's secret and the node password.
  auto password = LoadOrCreateNodePassword(dir.string());
  if (!password.ok()) return password.status();
  std::string ips;
  for (const auto& ip : o.node_ips) ips += (ips.empty() ? "" : ",") + ip;
  HttpsConnection::Headers headers{{"Authorization", "Basic " + Base64Encode("node:" + token->secret)},
                                   {"Kite-Node-Name", o.node_name},
                                   {"Kite-Node-Password", *password}};
  if (!ips.empty()) headers.emplace_back("Kite-Node-IP", ips);
  std::string issued_client_ca;
  for (const char* what : {"client-kubelet", "serving-kubelet"}) {
    HttpsReply r = Get(kc, std::string("/v1-kite/") + what + ".crt", headers);
    const std::string said = Trimmed(r.body);
    if (r.status == 401) return Status(Code::kUnauthenticated, "the server refused the join token: " + said);
    if (r.status == 403) return Status(Code::kPermissionDenied, "the server refused node " + o.node_name + ": " + said);
    if (r.status != 200) {
      return Status(Code::kUnavailable, std::string("requesting ") + what + ".crt: " +
                                            (r.status == 0 ? r.error : std::to_string(r.status) + " " + said));
    }
    auto split = SplitIssuedCert(r.body);
    if (!split.ok()) return split.status().Annotate(what);
    pki::KeyPair& kp = std::string(what) == "client-kubelet" ? creds.client : creds.serving;
    kp = pki::KeyPair{split->cert_pem + split->ca_pem, split->key_pem};
    if (std::string(what) == "client-kubelet") issued_client_ca = split->ca_pem;
  }
  // 4. Saved for the next start; the CA last, so a crash in between asks again.
  for (auto [name, kp] : {std::pair<const char*, const pki::KeyPair*>{"client-kubelet", &creds.client},
                          {"serving-kubelet", &creds.serving}}) {
    if (auto s = WriteFile(dir / (std::string(name) + ".crt"), kp->cert_pem); !s.ok()) return s;
    if (auto s = WriteFile(dir / (std::string(name) + ".key"), kp->key_pem); !s.ok()) return s;
  }
  if (auto s = WriteFile(dir / "client-ca.crt", issued_client_ca); !s.ok()) return s;
  if (auto s = WriteFile(creds.kubeconfig_path, KubeconfigYaml(o.server, dir)); !s.ok()) return s;
  if (auto s = WriteFile(dir / "server-ca.crt", ca); !s.ok()) return s;
  KITE_LOG(0) << "join: node " << o.node_name << " has its certificates from " << o.server;
  return creds;
}

Result<ClusterSettings> FetchClusterSettings(const BootstrapOptions& o, const std::string& server_ca_pem) {
  const fs::path saved = fs::path(o.agent_dir) / "cluster-settings.json";
  auto token = ParseJoinToken(o.token);
  if (!token.ok()) return token.status();
  Kubeconfig kc;
  if (Status s = SetServer(o.server, &kc); !s.ok()) return s.Annotate("--server");
  kc.ca_pem = server_ca_pem;
  HttpsReply r = Get(kc, "/v1-kite/config", {{"Authorization", "Basic " + Base64Encode("node:" + token->secret)}});
  if (r.status == 200) {
    auto settings = DecodeClusterSettings(r.body);
    if (!settings.ok()) return settings.status();
    if (auto s = WriteFile(saved, r.body); !s.ok()) return s;
    return settings;
  }
  if (r.status == 404) return Status(Code::kUnimplemented, "the server does not serve its cluster settings (GET /v1-kite/config: 404)");
  if (r.status == 401) return Status(Code::kUnauthenticated, "the server refused the join token: " + Trimmed(r.body));
  const std::string why = "GET " + o.server + "/v1-kite/config: " + (r.status == 0 ? r.error : std::to_string(r.status));
  if (auto text = ReadFile(saved)) {
    auto settings = DecodeClusterSettings(*text);
    if (settings.ok()) {
      KITE_LOG(0) << "join: " << why << "; using the cluster settings saved at an earlier start";
      return settings;
    }
  }
  return Status(Code::kUnavailable, why);
}

}  // namespace kite::agent
