// TLS for kite-ingress's websecure entry point: OpenSSL server contexts made from the Secrets
// (kubernetes.io/tls: tls.crt, tls.key) the Ingresses' spec.tls name, and the choice among them
// by the client's SNI name (RouteTable::TlsSecretFor).
//
// Contract:
// - ServerContext: TLS 1.2 and 1.3 with AEAD suites only (kite's servers' list), the PEM chain
//   and its key, which must match; an error saying what is wrong otherwise.
// - TlsCertificates::Update makes a context only for a Secret it has not seen at that
//   resourceVersion (a rebuild of the routes costs no TLS work when the Secrets did not change);
//   a Secret that is missing or holds no usable pair is left out, so its hosts get the default
//   certificate, and why is logged once per resourceVersion.
// - TlsConfig::For answers from one immutable snapshot; thread-safe.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "addons/ingress/routes.h"
#include "base/status.h"

namespace kite::ingress {

using SslContextPtr = std::shared_ptr<boost::asio::ssl::context>;

Result<SslContextPtr> ServerContext(const std::string& cert_pem, const std::string& key_pem);

// What the SNI callback reads: the routes' TLS hosts and the contexts of their Secrets.
struct TlsConfig {
  std::shared_ptr<const RouteTable> table;
  std::map<std::string, SslContextPtr> by_secret;  // "ns/name" → its context

  // The context for an SNI name, or null (the default certificate).
  SslContextPtr For(std::string_view server_name) const;
};

class TlsCertificates {
 public:
  // Looks a Secret up by "ns/name": its object, or null.
  using Lookup = std::function<std::shared_ptr<const boost::json::object>(const std::string& key)>;

  // The config for `table`: a context for every Secret it names that holds a usable pair.
  std::shared_ptr<const TlsConfig> Update(std::shared_ptr<const RouteTable> table, const Lookup& secret);

 private:
  struct Entry {
    std::string resource_version;
    SslContextPtr context;  // null: unusable at that version
  };
  std::map<std::string, Entry> cache_;
};

}  // namespace kite::ingress
