// The service-account signing keys, in the server's TLS dir as k3s keeps them:
//   <tls-dir>/service.current.key   the private key that signs new tokens (ES256, mode 0600)
//   <tls-dir>/service.key           every key that verifies tokens (PEM, several allowed, 0600)
// Created at first start. Rotation (RotateKeys) makes a new signing key and appends its public
// key to service.key: tokens signed by the old key keep verifying until an operator removes
// that key from service.key (the overlap), while new tokens use the new key. By hand: replace
// service.current.key with a new private key and restart; the start appends its public key to
// service.key and keeps the old ones. A user may pre-populate both files (RSA 2048+ or EC P-256).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "server/serviceaccount/jwt.h"

namespace kite::serviceaccount {

struct SigningKeys {
  jwt::Key signing;
  std::vector<jwt::Key> verifying;  // includes the signing key
};

// Loads the keys from `tls_dir`, creating what is missing (the directory must exist). A signing
// key missing from service.key is added to it.
Result<SigningKeys> LoadOrCreateKeys(const std::string& tls_dir);

// A new signing key; the old keys stay in service.key. Returns the keys as now on disk.
Result<SigningKeys> RotateKeys(const std::string& tls_dir);

}  // namespace kite::serviceaccount
