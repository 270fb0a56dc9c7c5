#include "server/apiserver/join/node_password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

#include "api/object.h"
#include "api/resources.h"
#include "base/encoding.h"

namespace kite::apiserver::join {
namespace json = boost::json;

namespace {

constexpr int kIterations = 10000;
constexpr size_t kKeyBytes = 32;

std::string Derive(const std::string& password, const std::string& salt, int iterations) {
  std::string key(kKeyBytes, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    EVP_sha256(), static_cast<int>(key.size()), reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

const api::ResourceInfo& Secrets() { return *api::FindResource("", "v1", "secrets"); }

}  // namespace

std::string HashNodePassword(const std::string& password) {
  std::string salt(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size()));
  return "$pbkdf2-sha256$" + std::to_string(kIterations) + "$" + Base64Encode(salt) + "$" +
         Base64Encode(Derive(password, salt, kIterations));
}

bool VerifyNodePassword(const std::string& hash, const std::string& password) {
  auto parts = Split(hash, '$');  // "", "pbkdf2-sha256", iterations, salt, key
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "pbkdf2-sha256") return false;
  int iterations = 0;
  for (char c : parts[2]) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || iterations > 10'000'000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  auto salt = Base64Decode(parts[3]);
  auto key = Base64Decode(parts[4]);
  if (iterations < 1 || !salt || !key || key->size() != kKeyBytes) return false;
  const std::string got = Derive(password, *salt, iterations);
  return CRYPTO_memcmp(got.data(), key->data(), kKeyBytes) == 0;
}

std::string NodePasswordSecretName(const std::string& node) {
  std::string name = node + ".node-password.kite";
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

Status EnsureNodePassword(const client::Client& client, const std::string& node, const std::string& password) {
  const std::string name = NodePasswordSecretName(node);
  auto check = [&](const json::object& secret) -> Status {
    auto stored = Base64Decode(api::GetString(api::GetObject(secret, "data"), "hash"));
    if (stored && VerifyNodePassword(*stored, password)) return Status::Ok();
    return Status(Code::kPermissionDenied,
                  "node \"" + node + "\" is registered with another node password: another host uses this node name. "
                  "Give this host another --node-name, or if the node was reinstalled delete the Secret kube-system/" +
                      name + " and join again");
  };
  auto got = client.Get(Secrets(), "kube-system", name);
  if (got.ok()) return check(*got);
  if (!got.NotFound()) return got.status().Annotate("reading the node password");
  json::object secret{{"apiVersion", "v1"},
                      {"kind", "Secret"},
                      {"metadata", json::object{{"name", name}, {"namespace", "kube-system"}}},
                      {"immutable", true},
                      {"type", "Opaque"},
                      {"data", json::object{{"hash", Base64Encode(HashNodePassword(password))}}}};
  auto created = client.Create(Secrets(), "kube-system", secret);
  if (created.ok()) return Status::Ok();
  if (!created.AlreadyExists()) return created.status().Annotate("storing the node password");
  auto again = client.Get(Secrets(), "kube-system", name);  // lost a race with another request
  if (!again.ok()) return again.status().Annotate("reading the node password");
  return check(*again);
}

}  // namespace kite::apiserver::join
