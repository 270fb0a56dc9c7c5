// JSON Web Tokens (RFC 7519) signed with JWS compact serialisation (RFC 7515), on OpenSSL: the
// form of service-account tokens. Written here rather than taken from a library because Debian
// ships no C++ JOSE library; only what service-account tokens need is supported: ES256 (ECDSA
// P-256, signature r||s) and RS256 (RSA PKCS#1 v1.5 with SHA-256), a `kid` header naming the key,
// and the JWK form of public keys for /openid/v1/jwks.
//
// ParseJwt takes untrusted input (every bearer token a client sends): it never throws, refuses
// tokens over kMaxTokenSize, and checks only the shape (three base64url parts, header and claims
// JSON objects). VerifyJwt then checks the signature against the keys; claims are the caller's
// (tokens.h). Keys are immutable once made and safe to share between threads.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kite::serviceaccount::jwt {

// Bearer tokens larger than this are refused before decoding (upstream's tokens are ~1 KiB).
inline constexpr size_t kMaxTokenSize = 16 * 1024;

std::string Base64UrlEncode(std::string_view data);
// Unpadded base64url only (JWS's form); nullopt for anything else.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// A key pair (signing) or a public key (verification only).
class Key {
 public:
  // Reads one PEM key: a private key (PKCS#8 or traditional EC/RSA) or a public key
  // (SubjectPublicKeyInfo). EC keys must be on P-256; RSA keys at least 2048 bits.
  static Result<Key> FromPem(std::string_view pem);
  // Every PEM key in `text` (a key file may hold several, as upstream's --service-account-key-file).
  static Result<std::vector<Key>> AllFromPem(std::string_view text);
  // A fresh ECDSA P-256 key pair.
  static Result<Key> GenerateEs256();

  bool has_private() const { return has_private_; }
  const std::string& alg() const { return alg_; }  // "ES256" or "RS256"
  // The key id: base64url SHA-256 of the DER public key, as upstream names its keys.
  const std::string& kid() const { return kid_; }
  std::string PrivatePem() const;  // "" for a public key
  std::string PublicPem() const;
  // The public key as a JWK (kty, alg, use "sig", kid, crv/x/y or n/e).
  boost::json::object Jwk() const;

  // The JWS signature of `input` in JWS's encoding (ES256: 64 bytes r||s). Needs the private key.
  Result<std::string> Sign(std::string_view input) const;
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  bool has_private_ = false;
  std::string alg_, kid_;
};

// header.claims.signature with header {"alg", "kid", "typ": "JWT"}.
Result<std::string> Sign(const Key& key, const boost::json::object& claims);

struct Parsed {
  boost::json::object header, claims;
  std::string signing_input;  // the first two parts as sent
  std::string signature;      // decoded
};

// Whether `token` has a JWT's shape at all (two dots, no spaces): a cheap test before a bearer
// token is tried as one.
bool LooksLikeJwt(std::string_view token);

// Shape only; kUnauthenticated with a reason for anything malformed.
Result<Parsed> Parse(std::string_view token);

// True when the header's alg is a supported one and one of `keys` (matching kid when the token
// names one, else each of that alg) verifies the signature.
bool Verify(const Parsed& token, const std::vector<Key>& keys);

}  // namespace kite::serviceaccount::jwt
