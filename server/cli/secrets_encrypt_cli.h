// `kite-server secrets-encrypt <verb>`: k3s's command of that name. It asks the running
// kite-server (--server, default https://127.0.0.1:6443) as the admin (the client-admin
// certificate under <data-dir>/server/tls), over the API server's /kite/v1/encrypt/* paths
// (server/apiserver/encryption/secrets_encrypt.h). Verbs: status, enable, disable, prepare,
// rotate, reencrypt, rotate-keys; flags --force (prepare, rotate, reencrypt) and --skip
// (reencrypt: keep the old keys), -o/--output text|json (status).
#pragma once

namespace kite::cli {

// argv[0] is "secrets-encrypt". Returns the process exit code.
int SecretsEncryptMain(int argc, char** argv);

}  // namespace kite::cli
