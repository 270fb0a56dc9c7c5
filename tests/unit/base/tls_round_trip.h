// The TLS contexts kite builds, end to end on loopback: an HttpsServer that asks for client
// certificates and a client from MakeTlsContext + HttpsConnection, each judging certificate
// validity by a clock of the test's choosing (base/tls_verify.h). Used by tls_verify_test.cc and,
// built for armhf, by time64_test.cc.
#pragma once

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/https_client.h"
#include "base/https_server.h"
#include "base/pki.h"

namespace kite::testing {

struct TlsPeers {
  pki::KeyPair ca;      // valid from now for 60 years: the leaves' validity is what a test varies
  pki::KeyPair server;  // serving certificate for 127.0.0.1
  pki::KeyPair client;  // client certificate "tls-test-client"
};

inline TlsPeers MakeTlsPeers(std::optional<std::chrono::system_clock::time_point> not_before, int days) {
  TlsPeers p;
  p.ca = pki::CreateCA("tls-test-ca", 365 * 60).value();
  pki::CertSpec s;
  s.common_name = "tls-test-server";
  s.ip_addresses = {"127.0.0.1"};
  s.server = true;
  s.not_before = not_before;
  s.days = days;
  p.server = pki::Issue(p.ca, s).value();
  pki::CertSpec c;
  c.common_name = "tls-test-client";
  c.client = true;
  c.not_before = not_before;
  c.days = days;
  p.client = pki::Issue(p.ca, c).value();
  return p;
}

// One GET from the client to the server: "" when the server answered 200 naming the client's
// certificate, otherwise what went wrong. `system_cas`: the client's kubeconfig names no CA, so
// it trusts the system's (base/tls_verify.h's LoadSystemTrustAnchors; the test sets SSL_CERT_FILE).
inline std::string TlsRoundTrip(const TlsPeers& p, const Clock* server_clock, const Clock* client_clock,
                                bool system_cas = false) {
  HttpsServer server([](HttpsRequest& req, HttpsResponder& res) -> boost::asio::awaitable<void> {
    // A named local: g++ 12 miscompiles temporaries with destructors inside co_await.
    std::string who = req.peer ? req.peer->common_name : "anonymous";
    co_await res.Send(200, "text/plain", std::move(who));
  });
  HttpsServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.cert_pem = p.server.cert_pem;
  o.key_pem = p.server.key_pem;
  o.client_ca_pem = p.ca.cert_pem;
  o.threads = 1;
  o.clock = server_clock;
  if (Status s = server.Start(o); !s.ok()) return "server: " + s.message();
  Kubeconfig kc;
  kc.host = "127.0.0.1";
  kc.port = std::to_string(server.port());
  kc.server = "https://127.0.0.1:" + kc.port;
  if (!system_cas) kc.ca_pem = p.ca.cert_pem;
  kc.cert_pem = p.client.cert_pem;
  kc.key_pem = p.client.key_pem;
  auto tls = MakeTlsContext(kc, client_clock);
  if (!tls.ok()) return "client: " + tls.status().message();
  HttpsConnection conn(kc, *tls, "tls-test", std::chrono::seconds(20));
  std::string error;
  if (!conn.Connect(&error)) return "connect: " + error;
  HttpsReply r = conn.Do(boost::beast::http::verb::get, "/whoami");
  if (r.status != 200) return "status " + std::to_string(r.status) + ": " + r.error + r.body;
  if (r.body != "tls-test-client") return "the server saw " + r.body;
  return "";
}

// Sets an environment variable for a scope (SSL_CERT_FILE, SSL_CERT_DIR), then puts back what was.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// `ca_pem` as OpenSSL's hashed-directory lookup finds it (c_rehash's layout, as in
// /etc/ssl/certs): `dir`/<subject hash>.0. Returns that file's path ("" on failure).
inline std::string WriteHashedCertificate(const std::string& dir, const std::string& ca_pem) {
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!x) return "";
  char name[32];
  std::snprintf(name, sizeof name, "%08lx.0", X509_NAME_hash_ex(X509_get_subject_name(x), nullptr, nullptr, nullptr));
  X509_free(x);
  const std::string path = dir + "/" + name;
  std::ofstream(path) << ca_pem;
  return path;
}

}  // namespace kite::testing
