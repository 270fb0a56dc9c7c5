#include "server/serviceaccount/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <boost/json.hpp>

#include <array>

namespace kite::serviceaccount::jwt {
namespace json = boost::json;

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string BnBytes(const BIGNUM* bn, int width) {
  std::string out(static_cast<size_t>(width > 0 ? width : BN_num_bytes(bn)), '\0');
  if (width > 0) BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), width);
  else BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string BnParam(EVP_PKEY* k, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &raw) != 1) return "";
  BnPtr bn(raw);
  return BnBytes(bn.get(), width);
}

}  // namespace

struct Key::Impl {
  PkeyPtr pkey;
};

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                       static_cast<uint8_t>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(data[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (rest == 2) out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int s = Sextet(c);
    if (s < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(s);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero: one encoding per byte string.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

namespace {

// Checks the key type and fills alg and kid.
Status Describe(EVP_PKEY* pkey, std::string* alg, std::string* kid) {
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1") {
      return Status(Code::kInvalidArgument, "service-account key: EC keys must be on P-256");
    }
    *alg = "ES256";
  } else if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(pkey) < 2048) return Status(Code::kInvalidArgument, "service-account key: RSA keys need at least 2048 bits");
    *alg = "RS256";
  } else {
    return Status(Code::kInvalidArgument, "service-account key: only EC P-256 and RSA keys are supported");
  }
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0) return Status(Code::kInternal, "service-account key: cannot encode the public key");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(n), digest);
  OPENSSL_free(der);
  *kid = Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  return {};
}

}  // namespace

Result<Key> Key::FromPem(std::string_view pem) {
  auto keys = AllFromPem(pem);
  if (!keys.ok()) return keys.status();
  if (keys->size() != 1) return Status(Code::kInvalidArgument, "service-account key: want exactly one PEM key");
  return std::move(keys->front());
}

Result<std::vector<Key>> Key::AllFromPem(std::string_view text) {
  std::vector<Key> out;
  size_t pos = 0;
  while (true) {
    const size_t begin = text.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) break;
    const size_t end_marker = text.find("-----END ", begin);
    if (end_marker == std::string_view::npos) return Status(Code::kInvalidArgument, "service-account key: unterminated PEM block");
    size_t end = text.find('\n', end_marker);
    end = end == std::string_view::npos ? text.size() : end + 1;
    const std::string_view block = text.substr(begin, end - begin);
    pos = end;
    const std::string_view label = block.substr(11, block.find("-----", 11) - 11);
    BioPtr bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    PkeyPtr pkey;
    bool priv = false;
    if (label == "PUBLIC KEY") {
      pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    } else if (label == "PRIVATE KEY" || label == "EC PRIVATE KEY" || label == "RSA PRIVATE KEY") {
      pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
      priv = true;
    } else {
      continue;  // certificates and parameters in the same file are not keys
    }
    if (!pkey) return Status(Code::kInvalidArgument, "service-account key: cannot parse a " + std::string(label) + " block");
    Key k;
    if (Status s = Describe(pkey.get(), &k.alg_, &k.kid_); !s.ok()) return s;
    auto impl = std::make_shared<Impl>();
    impl->pkey = std::move(pkey);
    k.impl_ = std::move(impl);
    k.has_private_ = priv;
    out.push_back(std::move(k));
  }
  if (out.empty()) return Status(Code::kInvalidArgument, "service-account key: no PEM key found");
  return out;
}

Result<Key> Key::GenerateEs256() {
  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) return Status(Code::kInternal, "service-account key: cannot generate a P-256 key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return FromPem(BioText(bio.get()));
}

std::string Key::PrivatePem() const {
  if (!has_private_ || !impl_) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

std::string Key::PublicPem() const {
  if (!impl_) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get());
  return BioText(bio.get());
}

json::object Key::Jwk() const {
  json::object o{{"use", "sig"}, {"kid", kid_}, {"alg", alg_}};
  if (!impl_) return o;
  EVP_PKEY* k = impl_->pkey.get();
  if (alg_ == "ES256") {
    o["kty"] = "EC";
    o["crv"] = "P-256";
    o["x"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    o["y"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  } else {
    o["kty"] = "RSA";
    o["n"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_RSA_N, 0));
    o["e"] = Base64UrlEncode(BnParam(k, OSSL_PKEY_PARAM_RSA_E, 0));
  }
  return o;
}

Result<std::string> Key::Sign(std::string_view input) const {
  if (!has_private_ || !impl_) return Status(Code::kFailedPrecondition, "service-account key: no private key to sign with");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Status(Code::kInternal, "service-account key: signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Status(Code::kInternal, "service-account key: signing failed");
  }
  sig.resize(len);
  if (alg_ != "ES256") return sig;
  // OpenSSL gives DER; JWS wants r and s as 32 bytes each.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, SigFree> es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!es) return Status(Code::kInternal, "service-account key: bad ECDSA signature");
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(es.get(), &r, &s);
  return BnBytes(r, 32) + BnBytes(s, 32);
}

bool Key::Verify(std::string_view input, std::string_view signature) const {
  if (!impl_) return false;
  std::string der;
  if (alg_ == "ES256") {
    if (signature.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, SigFree> es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* out = nullptr;
    const int n = i2d_ECDSA_SIG(es.get(), &out);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    OPENSSL_free(out);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->pkey.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

Result<std::string> Sign(const Key& key, const json::object& claims) {
  const json::object header{{"alg", key.alg()}, {"kid", key.kid()}, {"typ", "JWT"}};
  std::string input = Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims));
  auto sig = key.Sign(input);
  if (!sig.ok()) return sig.status();
  return input + "." + Base64UrlEncode(*sig);
}

bool LooksLikeJwt(std::string_view token) {
  size_t dots = 0;
  for (char c : token) {
    if (c == '.') ++dots;
    else if (Sextet(c) < 0) return false;
  }
  return dots == 2;
}

namespace {

Result<json::object> DecodeJsonPart(std::string_view part, const char* what) {
  auto raw = Base64UrlDecode(part);
  if (!raw) return Status(Code::kUnauthenticated, std::string("malformed token: ") + what + " is not base64url");
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  json::value v = json::parse(*raw, ec, {}, opts);
  if (ec || !v.is_object()) return Status(Code::kUnauthenticated, std::string("malformed token: ") + what + " is not a JSON object");
  return std::move(v.as_object());
}

}  // namespace

Result<Parsed> Parse(std::string_view token) {
  if (token.size() > kMaxTokenSize) return Status(Code::kUnauthenticated, "malformed token: too large");
  if (!LooksLikeJwt(token)) return Status(Code::kUnauthenticated, "malformed token: not a JWT");
  const size_t a = token.find('.'), b = token.find('.', a + 1);
  Parsed p;
  try {
    auto header = DecodeJsonPart(token.substr(0, a), "header");
    if (!header.ok()) return header.status();
    auto claims = DecodeJsonPart(token.substr(a + 1, b - a - 1), "claims");
    if (!claims.ok()) return claims.status();
    p.header = std::move(*header);
    p.claims = std::move(*claims);
  } catch (const std::exception&) {  // std::bad_alloc from a huge document: refuse, not crash
    return Status(Code::kUnauthenticated, "malformed token");
  }
  auto sig = Base64UrlDecode(token.substr(b + 1));
  if (!sig) return Status(Code::kUnauthenticated, "malformed token: signature is not base64url");
  p.signing_input = std::string(token.substr(0, b));
  p.signature = std::move(*sig);
  return p;
}

bool Verify(const Parsed& token, const std::vector<Key>& keys) {
  const json::value* alg = token.header.if_contains("alg");
  if (!alg || !alg->is_string()) return false;
  const json::value* kid = token.header.if_contains("kid");
  const bool named = kid && kid->is_string() && !kid->as_string().empty();
  for (const Key& k : keys) {
    if (k.alg() != alg->as_string()) continue;  // never "none", never another alg with this key
    if (named && k.kid() != kid->as_string()) continue;
    if (k.Verify(token.signing_input, token.signature)) return true;
  }
  return false;
}

}  // namespace kite::serviceaccount::jwt
