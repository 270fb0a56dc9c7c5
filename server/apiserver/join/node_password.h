// Node passwords: what stops a second host from taking a registered node's name (k3s's idea).
//
// Each agent keeps a random password of its own (<agent-dir>/node-password). The first time a
// node name asks for certificates, its password is stored hashed in the Secret
// kube-system/<node>.node-password.kite (k3s: <node>.node-password.k3s), immutable, key `hash`;
// later requests for that name must bring the same password. So the same host re-joins as often
// as it likes, and another host with the same name is refused until someone deletes the Secret
// (a reinstalled node). The hash is PBKDF2-HMAC-SHA256 with a random salt (k3s uses scrypt):
// the passwords are 128-bit random secrets, so a memory-hard hash would only cost kite-server
// memory on small devices without adding strength.
#pragma once

#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kite::apiserver::join {

// "$pbkdf2-sha256$<iterations>$<base64 salt>$<base64 key>".
std::string HashNodePassword(const std::string& password);
// False for a wrong password or a hash in no format we wrote.
bool VerifyNodePassword(const std::string& hash, const std::string& password);

// kube-system's Secret name for a node's password.
std::string NodePasswordSecretName(const std::string& node);

// Verifies `password` against the node's Secret, creating the Secret when there is none.
// PermissionDenied (403) with a message saying what to do when the password differs; the
// client's error (annotated) when the API fails.
Status EnsureNodePassword(const client::Client& client, const std::string& node, const std::string& password);

}  // namespace kite::apiserver::join
