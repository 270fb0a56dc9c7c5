#include "addons/ingress/certs.h"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>

#include "api/object.h"
#include "base/encoding.h"
#include "base/https_server.h"
#include "base/log.h"

namespace kite::ingress {

namespace ssl = boost::asio::ssl;

Result<SslContextPtr> ServerContext(const std::string& cert_pem, const std::string& key_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  UseServerTlsPolicy(*ctx);
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) return Status(Code::kInvalidArgument, "tls.crt: " + ec.message());
  // (OpenSSL refuses here a key that does not match the certificate: "key values mismatch".)
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return Status(Code::kInvalidArgument, "tls.key: " + ec.message());
  return ctx;
}

SslContextPtr TlsConfig::For(std::string_view server_name) const {
  const std::string* secret = table ? table->TlsSecretFor(server_name) : nullptr;
  if (!secret) return nullptr;
  const auto it = by_secret.find(*secret);
  return it == by_secret.end() ? nullptr : it->second;
}

std::shared_ptr<const TlsConfig> TlsCertificates::Update(std::shared_ptr<const RouteTable> table, const Lookup& secret) {
  auto config = std::make_shared<TlsConfig>();
  std::map<std::string, Entry> next;
  for (const std::string& key : table->TlsSecrets()) {
    const auto obj = secret(key);
    const std::string rv = obj ? api::ResourceVersion(*obj) : "";
    auto it = cache_.find(key);
    if (it == cache_.end() || it->second.resource_version != rv) {
      Entry e{rv, nullptr};
      if (!obj) {
        KITE_LOG(0) << "kite-ingress: TLS secret " << key << " not found: its hosts get the default certificate";
      } else {
        const boost::json::object& data = api::GetObject(*obj, "data");
        auto crt = Base64Decode(api::GetString(data, "tls.crt"));
        auto k = Base64Decode(api::GetString(data, "tls.key"));
        auto ctx = crt && k ? ServerContext(*crt, *k) : Result<SslContextPtr>(Status(Code::kInvalidArgument, "tls.crt or tls.key missing or not base64"));
        if (ctx.ok()) {
          e.context = *ctx;
        } else {
          KITE_LOG(0) << "kite-ingress: TLS secret " << key << ": " << ctx.status().message()
                      << ": its hosts get the default certificate";
        }
      }
      it = cache_.insert_or_assign(key, std::move(e)).first;
    }
    next.emplace(key, it->second);
    if (it->second.context) config->by_secret.emplace(key, it->second.context);
  }
  cache_ = std::move(next);  // Secrets no route names any more are forgotten
  config->table = std::move(table);
  return config;
}

}  // namespace kite::ingress
