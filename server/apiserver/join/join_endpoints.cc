#include "server/apiserver/join/join_endpoints.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "api/validation.h"
#include "base/atomic_file.h"
#include "base/encoding.h"
#include "base/fs.h"
#include "base/ip_address.h"
#include "base/join_token.h"
#include "base/log.h"
#include "base/pki.h"
#include "server/apiserver/join/node_password.h"

namespace kite::apiserver::join {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "/v1-kite/";
constexpr const char kWrongSecret[] = "Unauthorized: the join token's secret is not this server's (see <data-dir>/server/token on the server)";

RawResponse Text(int code, std::string body) {
  if (!body.empty() && body.back() != '\n') body += '\n';
  return RawResponse{code, "text/plain; charset=utf-8", std::move(body), {}};
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      while (!cur.empty() && cur.back() == ' ') cur.pop_back();
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ' || !cur.empty()) {
      cur += c;
    }
  }
  return out;
}

Status WriteToken(const std::string& path, const std::string& token) {
  std::error_code ec;
  files::CreateDirectories(fs::path(path).parent_path(), ec);
  auto r = WriteFileIfChanged(path, token + "\n", 0600);  // unchanged on a restart: not rewritten
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

JoinEndpoints::JoinEndpoints(std::string secret, std::string token, ClusterCerts certs, ClusterSettings settings,
                             std::shared_ptr<client::Transport> t)
    : secret_(std::move(secret)), token_(std::move(token)), certs_(std::move(certs)), settings_(std::move(settings)),
      client_(std::move(t)) {}

Result<std::unique_ptr<JoinEndpoints>> JoinEndpoints::Create(const JoinOptions& o, const ClusterCerts& certs,
                                                             std::shared_ptr<client::Transport> client) {
  const std::string& ca = certs.server_ca.cert_pem;
  std::string secret;
  if (!o.token.empty()) {
    auto t = ParseJoinToken(o.token);
    if (!t.ok()) return t.status().Annotate("--token");
    if (!t->ca_hash.empty() && t->ca_hash != CaBundleHash(ca)) {
      return Status(Code::kInvalidArgument, "--token carries CA hash " + t->ca_hash.substr(0, 12) +
                                                "…, but this cluster's CA hashes to " + CaBundleHash(ca).substr(0, 12) + "…");
    }
    secret = t->secret;
  } else if (std::ifstream in(o.token_path); in) {
    std::string line;
    std::getline(in, line);
    if (auto t = ParseJoinToken(line); t.ok()) secret = t->secret;
  }
  if (secret.empty()) secret = RandomSecret();
  std::string token = FormatJoinToken(ca, "server", secret);
  if (auto s = WriteToken(o.token_path, token); !s.ok()) return s;
  // k3s writes the agents' token beside it as node-token, which its docs tell users to read.
  if (auto s = WriteToken((fs::path(o.token_path).parent_path() / "node-token").string(), token); !s.ok()) return s;
  return std::unique_ptr<JoinEndpoints>(
      new JoinEndpoints(std::move(secret), std::move(token), certs, o.settings, std::move(client)));
}

bool JoinEndpoints::Owns(std::string_view path) {
  return path == "/cacerts" || path.substr(0, kPrefix.size()) == kPrefix;
}

RawResponse JoinEndpoints::Serve(const HttpsRequest& req) const {
  if (req.method != "GET") return Text(405, "method not allowed: the join endpoints answer GET");
  // The bundle's exact bytes: the token pins their hash.
  if (req.path == "/cacerts") return RawResponse{200, "text/plain; charset=utf-8", certs_.server_ca.cert_pem, {}};
  if (req.path == "/v1-kite/client-kubelet.crt") return IssueKubeletCert(req, false);
  if (req.path == "/v1-kite/serving-kubelet.crt") return IssueKubeletCert(req, true);
  if (req.path == "/v1-kite/config") {
    if (!Authorized(req)) return Text(401, kWrongSecret);
    return RawResponse{200, "application/json", EncodeClusterSettings(settings_) + "\n", {}};
  }
  return Text(404, "not found: " + req.path);
}

bool JoinEndpoints::Authorized(const HttpsRequest& req) const {
  // Basic auth node:<secret> (agents) or server:<secret> (the token as written), as k3s takes it.
  const std::string auth = req.Header("authorization");
  std::optional<std::string> creds;
  if (auth.rfind("Basic ", 0) == 0) creds = Base64Decode(auth.substr(6));
  const size_t colon = creds ? creds->find(':') : std::string::npos;
  const std::string user = colon == std::string::npos ? "" : creds->substr(0, colon);
  if (colon == std::string::npos || (user != "node" && user != "server") || !SameSecret(creds->substr(colon + 1), secret_)) {
    KITE_LOG(0) << "join: refused a request for " << req.path << " from " << req.remote << ": wrong join token secret";
    return false;
  }
  return true;
}

RawResponse JoinEndpoints::IssueKubeletCert(const HttpsRequest& req, bool serving) const {
  if (!Authorized(req)) {
    return Text(401, kWrongSecret);
  }
  std::string node = req.Header("kite-node-name");
  for (char& c : node) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string password = req.Header("kite-node-password");
  if (node.empty() || password.empty()) return Text(400, "the Kite-Node-Name and Kite-Node-Password headers are required");
  if (auto bad = api::IsDNS1123Subdomain(node); !bad.empty()) {
    return Text(400, "node name \"" + node + "\" is not valid: " + api::JoinMessages(bad, "; "));
  }
  std::vector<std::string> ips = SplitComma(req.Header("kite-node-ip"));
  for (const auto& ip : ips) {
    if (!IsIpAddress(ip)) return Text(400, "Kite-Node-IP: \"" + ip + "\" is not an IP address");
  }
  if (Status s = EnsureNodePassword(client_, node, password); !s.ok()) {
    KITE_LOG(0) << "join: refused node " << node << " from " << req.remote << ": " << s.message();
    return Text(s.http_code() == 403 ? 403 : 500, s.message());
  }
  pki::CertSpec spec;
  if (serving) {
    spec.common_name = node;
    spec.server = true;
    spec.dns_names = {node, "localhost"};
    spec.ip_addresses = {"127.0.0.1"};
    for (const auto& ip : ips) {
      if (ip != "127.0.0.1") spec.ip_addresses.push_back(ip);
    }
  } else {
    spec.common_name = "system:node:" + node;
    spec.organizations = {"system:nodes"};
    spec.client = true;
  }
  const pki::KeyPair& ca = serving ? certs_.server_ca : certs_.client_ca;
  auto kp = pki::Issue(ca, spec);
  if (!kp.ok()) return Text(500, "issuing the certificate: " + kp.status().message());
  KITE_LOG(1) << "join: issued the " << (serving ? "serving" : "client") << " certificate of node " << node;
  return Text(200, kp->cert_pem + ca.cert_pem + kp->key_pem);
}

}  // namespace kite::apiserver::join
