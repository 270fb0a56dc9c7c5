#!/usr/bin/env bash
# Secrets encryption at rest with the real kubectl and etcdctl: with --secrets-encryption the
# datastore (read raw through kite's etcd endpoint, and the database files) holds no plaintext of
# a Secret while `kubectl get secret -o yaml` shows it; the stored value is upstream's
# k8s:enc:aescbc:v1:<key>: form and decrypts with openssl and the key from
# <data-dir>/server/cred/encryption-config.json; `kite-server secrets-encrypt` status, prepare,
# rotate, reencrypt, rotate-keys, disable and enable work as k3s's, and every secret still decrypts
# after each step and after a restart.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool "$ETCDCTL"
require_tool openssl
KITE_ARGS=(--secrets-encryption)
start_kite_api
DATA=$TEST_TMP/kite-data
CONFIG=$DATA/server/cred/encryption-config.json

se() { timeout 60 "$KITE_SERVER" secrets-encrypt "$@" --data-dir "$DATA" --server "https://127.0.0.1:$API_PORT"; }
# raw KEY — the value as stored, base64 (etcdctl's JSON output), through kite's etcd endpoint.
raw_b64() { ctl "127.0.0.1:$PORT" get "$1" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["value"])'; }
raw_value() { raw_b64 "$1" | base64 -d; }
# raw_prefix KEY — "k8s:enc:<provider>:v1:<key>:" of the stored value, or its first 10 bytes.
# (Key names hold colons, k3s's timestamps: the prefix is found by the names the config has.)
raw_prefix() {
  python3 - "$CONFIG" "$(raw_b64 "$1")" <<'PY'
import base64, json, sys
raw = base64.b64decode(sys.argv[2])
names = [k["name"] for p in json.load(open(sys.argv[1]))["resources"][0]["providers"] for k in p.get("aescbc", {}).get("keys", [])]
for n in sorted(names, key=len, reverse=True):
    if raw.startswith(("k8s:enc:aescbc:v1:" + n + ":").encode()):
        print("k8s:enc:aescbc:v1:" + n + ":"); sys.exit(0)
print(raw[:10].decode(errors="replace"))
PY
}
# plaintext_count KEY VALUE — how often VALUE (or its base64) appears in the stored value.
plaintext_count() { raw_value "$1" | grep -a -c -e "$2" -e "$(printf %s "$2" | base64)" || true; }
db_files_with() { grep -ra -l -e "$1" -e "$(printf %s "$1" | base64)" "$DATA/server/db" | wc -l; }
first_byte() { raw_value "$1" | head -c 1; echo; }
old_key_listed() { se status | grep -c -e 'AES-CBC   aescbckey$' || true; }
two_values() { echo "$(value_of "$1") $(value_of "$2")"; }
value_of() { k get secret "$1" -o 'jsonpath={.data.password}' | base64 -d; }
# openssl_decrypt KEY — decrypts the stored value with openssl and the first aescbc key of the config
# whose name the value names: an independent check of the stored format.
openssl_decrypt() {
  python3 - "$CONFIG" "$(raw_b64 "$1")" <<'PY'
import base64, json, subprocess, sys
config = json.load(open(sys.argv[1]))
raw = base64.b64decode(sys.argv[2])
keys = {k["name"]: base64.b64decode(k["secret"]) for p in config["resources"][0]["providers"] if "aescbc" in p for k in p["aescbc"]["keys"]}
name = next(n for n in sorted(keys, key=len, reverse=True) if raw.startswith(("k8s:enc:aescbc:v1:" + n + ":").encode()))
rest = raw[len("k8s:enc:aescbc:v1:" + name + ":"):]
iv, body = rest[:16], rest[16:]
out = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-K", keys[name].hex(), "-iv", iv.hex()], input=body, capture_output=True, check=True)
print(json.loads(out.stdout)["data"]["password"])
PY
}

k create secret generic s1 --from-literal=password=topsecret-value-1 >/dev/null
k create configmap c1 --from-literal=note=visible-value >/dev/null
B64=$(printf topsecret-value-1 | base64)
expect_exact "kubectl shows the secret's value" "topsecret-value-1" -- value_of s1
expect "-o yaml shows the data" "password: $B64" -- k get secret s1 -o yaml
expect_exact "stored with upstream's aescbc prefix and k3s's first key name" "k8s:enc:aescbc:v1:aescbckey:" -- raw_prefix /registry/secrets/default/s1
expect_exact "no plaintext in the raw value" "0" -- plaintext_count /registry/secrets/default/s1 topsecret-value-1
expect_exact "openssl decrypts the stored value with the configured key" "$B64" -- openssl_decrypt /registry/secrets/default/s1
expect "configmaps are not encrypted" "visible-value" -- raw_value /registry/configmaps/default/c1
expect "list shows the value too" "$B64" -- k get secrets -o yaml
expect_exact "the database files hold no plaintext" "0" -- db_files_with topsecret-value-1
expect "status: enabled, stage start, one key" $'Encryption Status: Enabled\nCurrent Rotation Stage: start' -- se status
expect " \*      AES-CBC   aescbckey" " \*      AES-CBC   aescbckey$" -- se status
expect_fail "rotate before prepare is refused" "incorrect stage: start" -- se rotate

# The legacy procedure: prepare → rotate → reencrypt.
expect "prepare" "prepare completed successfully" -- se prepare
expect "prepare: the new key is listed, not active" "Current Rotation Stage: prepare" -- se status
NEW_KEY=$(se status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["inactivekeys"][0])')
expect_exact "new keys are named as k3s names them" "ok" -- bash -c "[[ $NEW_KEY =~ ^aescbckey-[0-9T:Z-]+$ ]] && echo ok"
k create secret generic s2 --from-literal=password=topsecret-value-2 >/dev/null
expect_exact "after prepare, writes still use the old key" "k8s:enc:aescbc:v1:aescbckey:" -- raw_prefix /registry/secrets/default/s2
expect "rotate" "rotate completed successfully" -- se rotate
expect " the new key is active" " \*      AES-CBC   $NEW_KEY" -- se status
k create secret generic s3 --from-literal=password=topsecret-value-3 >/dev/null
expect_exact "after rotate, writes use the new key" "k8s:enc:aescbc:v1:$NEW_KEY:" -- raw_prefix /registry/secrets/default/s3
expect_exact "old secrets still decrypt after rotate" "topsecret-value-1" -- value_of s1
expect "reencrypt" "reencryption started" -- se reencrypt
eventually "reencrypt finishes" "Current Rotation Stage: reencrypt_finished" 30 -- se status
expect_exact "every secret now under the new key" "k8s:enc:aescbc:v1:$NEW_KEY:" -- raw_prefix /registry/secrets/default/s1
expect_exact "the old key is removed" "0" -- old_key_listed
expect_exact "s1 decrypts after reencrypt" "topsecret-value-1" -- value_of s1
expect_exact "s2 decrypts after reencrypt" "topsecret-value-2" -- value_of s2
expect_exact "openssl agrees after reencrypt" "$(printf topsecret-value-2 | base64)" -- openssl_decrypt /registry/secrets/default/s2

# The one-step rotation.
expect "rotate-keys" "keys rotated, reencryption started" -- se rotate-keys
eventually "rotate-keys finishes" "Current Rotation Stage: reencrypt_finished" 30 -- se status
NEWEST=$(se status -o json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["activekey"], len(s.get("inactivekeys", [])))')
expect_exact "one key left, not the previous one" "ok" -- bash -c "[[ '$NEWEST' != '$NEW_KEY 0' && '$NEWEST' == *' 0' ]] && echo ok"
expect_exact "stored under the newest key" "k8s:enc:aescbc:v1:${NEWEST% *}:" -- raw_prefix /registry/secrets/default/s3
expect_exact "s3 decrypts after rotate-keys" "topsecret-value-3" -- value_of s3

# Still readable after a restart (the configuration is in the data dir).
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
rm -f "$TEST_TMP/kubeconfig"
start_kite_api
expect_exact "after a restart everything decrypts" "topsecret-value-1 topsecret-value-3" -- two_values s1 s3

# Disable: identity first, secrets rewritten in plaintext; enable: encrypted again.
expect "disable" "secrets-encryption disabled" -- se disable
eventually "disabled secrets are rewritten as plaintext" "^[{]" 30 -- first_byte /registry/secrets/default/s1
expect "status says disabled" "Encryption Status: Disabled" -- se status
expect_exact "readable while disabled" "topsecret-value-1" -- value_of s1
expect "enable" "secrets-encryption enabled" -- se enable
eventually "enabled again: encrypted" "^k8s:enc:aescbc:v1:" 30 -- raw_prefix /registry/secrets/default/s1
expect_exact "readable after enable" "topsecret-value-1" -- value_of s1
expect_fail "unknown verbs are refused" "unknown verb" -- se frobnicate
finish
