#!/usr/bin/env bash
# Images without internet and through a local mirror, with the real containerd 1.6, ctr,
# Debian's docker-registry and skopeo (issue 17). As root; skipped (77) otherwise.
#
#  1. registries.yaml → kite's rendering (image_tool render-registries) → a private containerd:
#     a CRI PullImage of docker.io/library/busybox:1.35 is served by the local mirror (its
#     access log shows the manifest request), with the mirror's htpasswd credentials from
#     registries.yaml; a made-up registry is served by its mirror; TLS mirrors work with
#     ca_file and with insecure_skip_verify; a rewrite is warned about.
#  2. A wrong password fails: sent with the pull (as from an imagePullSecret), or configured in
#     registries.yaml; without its CA the TLS mirror is refused; credentials from an
#     imagePullSecret (image_tool pull-auth, kite's PullCredentialsFor) succeed where
#     registries.yaml's are wrong.
#  3. Image archives in an images dir are imported (image_tool import: kite's ImageImporter),
#     seen by CRI's ImageStatus, and a container runs from one; a bad archive fails alone; a
#     second pass (as after a restart) imports nothing again; the watching importer picks up a
#     compressed archive renamed into the directory.
#
# The CRI calls go through tests/integration/cri_call.py (curl speaking gRPC to containerd's
# socket) until kite's CRI client is on main. containerd here has its own config, root, state
# and socket under the test's temporary directory; the host's containerd is never touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
[[ $(id -u) == 0 ]] || skip "needs root (containerd)"
for t in containerd ctr docker-registry skopeo curl python3 openssl; do
  command -v "$t" >/dev/null || skip "$t not installed"
done
IMAGE_TOOL=${IMAGE_TOOL:-./bin/image_tool}
KITE_IMAGES=${KITE_IMAGES:-./images}
require_tool "$IMAGE_TOOL"
CRI="python3 $here/cri_call.py"

# ---- the test image (packaging/images/ builds it; a throwaway one when that build is absent) ----
archive=$KITE_IMAGES/busybox.tar
if [[ ! -f $archive ]]; then
  [[ -x /bin/busybox ]] || skip "no $archive and no /bin/busybox to make one"
  sh "$here/../../packaging/images/busybox-rootfs.sh" /bin/busybox "$TEST_TMP/bbroot"
  sh "$here/../../packaging/images/build-image.sh" kite.local/busybox:1.35 amd64 "$TEST_TMP/bbroot" '[]' '["sh"]' \
    "$TEST_TMP/busybox.tar"
  archive=$TEST_TMP/busybox.tar
fi

# ---- two registries: an open one and one with htpasswd auth ---------------------------------
open_port=$(free_port)
auth_port=$(free_port)
python3 -W ignore -c 'import crypt; print("kite:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
  >"$TEST_TMP/htpasswd"
registry() { # NAME PORT [auth|tls]
  local name=$1 port=$2 scheme=http
  mkdir -p "$TEST_TMP/$name"
  {
    printf 'version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$TEST_TMP/$name/data" "$port"
    if [[ ${3:-} == tls ]]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' "$TEST_TMP/tls/registry.pem" "$TEST_TMP/tls/registry.key"
    fi
    if [[ ${3:-} == auth ]]; then
      printf 'auth:\n  htpasswd:\n    realm: kite-test\n    path: %s\n' "$TEST_TMP/htpasswd"
    fi
  } >"$TEST_TMP/$name/config.yml"
  [[ ${3:-} == tls ]] && scheme=https
  _spawn "$TEST_TMP/$name.log" docker-registry serve "$TEST_TMP/$name/config.yml"
  local _ head
  for _ in $(seq 1 100); do
    # The registry's own answer (its API version header), not whatever else holds the port.
    head=$(curl -sk -o /dev/null -D - "$scheme://127.0.0.1:$port/v2/" || true)
    grep -i '^docker-distribution-api-version: registry/2' <<<"$head" >/dev/null && return 0
    sleep 0.1
  done
  fail "registry $name did not start on port $port (last answer: ${head:-none})"
}
# A CA of the test's own and the TLS registry's certificate (127.0.0.1 and localhost).
mkdir -p "$TEST_TMP/tls"
(
  cd "$TEST_TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 1 \
    -subj /CN=kite-test-ca 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout registry.key -out registry.csr \
    -subj /CN=127.0.0.1 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
  openssl x509 -req -in registry.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out registry.pem -days 1 \
    -extfile san.ext 2>/dev/null
)
tls_port=$(free_port)
registry open "$open_port"
registry auth "$auth_port" auth
registry tls "$tls_port" tls

log "pushing $archive to the three registries as library/busybox:1.35"
skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" \
  "docker://127.0.0.1:$open_port/library/busybox:1.35"
skopeo copy -q --dest-tls-verify=false --dest-creds kite:s3cret "docker-archive:$archive" \
  "docker://127.0.0.1:$auth_port/library/busybox:1.35"
skopeo copy -q --dest-tls-verify=false "docker-archive:$archive" \
  "docker://127.0.0.1:$tls_port/library/busybox:1.35"
if skopeo copy -q --dest-tls-verify=false --dest-creds kite:wrong "docker-archive:$archive" \
  "docker://127.0.0.1:$auth_port/library/other:1" 2>/dev/null; then
  fail "the auth registry took a push with a wrong password"
fi

# ---- a private containerd with kite's rendered registry config -------------------------------
# start_containerd NAME REGISTRY_TOML_FILE: own root, state and socket; $SOCK is its socket.
start_containerd() {
  local name=$1 fragment=$2 d=$TEST_TMP/$1
  mkdir -p "$d/cni"
  SOCK=$d/containerd.sock
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "kite.local/pause:3.9"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
EOF
  # kite's output goes at the end: tables only, no top-level keys.
  cat "$fragment" >>"$d/config.toml"
  _spawn "$TEST_TMP/containerd-$name.log" containerd --config "$d/config.toml"
  CONTAINERD_PID=$LAST_PID
  local _
  for _ in $(seq 1 200); do
    ctr --address "$SOCK" version >/dev/null 2>&1 && $CRI "$SOCK" status kite.local/none:0 >/dev/null 2>&1 && return 0
    kill -0 "$CONTAINERD_PID" 2>/dev/null || fail "containerd $name exited"
    sleep 0.1
  done
  fail "containerd $name did not start"
}
stop_containerd() {
  stop_pid "$CONTAINERD_PID" || true
}

# manifest_gets LOG: how many of containerd's manifest requests for docker.io's library/busybox
# the registry answered 200 (containerd names the registry it mirrors in ?ns=).
manifest_gets() {
  grep -cE '"(GET|HEAD) /v2/library/busybox/manifests/1.35\?ns=docker.io HTTP/1.1" 200 .*containerd' "$1" || true
}

expect() { # WHAT OUTPUT PATTERN (a glob)
  # shellcheck disable=SC2053
  [[ $2 == $3 ]] || fail "$1: got: $2"
  log "ok: $1"
}

# ---- 1. mirror + auth from registries.yaml ---------------------------------------------------
cat >"$TEST_TMP/registries.yaml" <<EOF
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:$auth_port"
  registry.invalid:
    endpoint: ["http://127.0.0.1:$open_port"]
    rewrite:
      "^library/(.*)": "mirrored/\$1"
  tls.invalid:
    endpoint: ["https://127.0.0.1:$tls_port"]
  skipverify.invalid:
    endpoint: ["https://localhost:$tls_port"]
configs:
  "127.0.0.1:$auth_port":
    auth:
      username: kite
      password: s3cret
  "127.0.0.1:$tls_port":
    tls:
      ca_file: $TEST_TMP/tls/ca.pem
  "localhost:$tls_port":
    tls:
      insecure_skip_verify: true
EOF
"$IMAGE_TOOL" render-registries "$TEST_TMP/registries.yaml" >"$TEST_TMP/registry.toml" 2>"$TEST_TMP/render.err" ||
  fail "render-registries: $(cat "$TEST_TMP/render.err")"
grep -q 'registry.invalid".rewrite is not supported by containerd 1.6' "$TEST_TMP/render.err" ||
  fail "no warning for the rewrite: $(cat "$TEST_TMP/render.err")"
grep -q "registry.mirrors.\"docker.io\"" "$TEST_TMP/registry.toml" || fail "no mirror rendered"
start_containerd good "$TEST_TMP/registry.toml"

before=$(manifest_gets "$TEST_TMP/auth.log")
out=$($CRI "$SOCK" pull docker.io/library/busybox:1.35)
expect "CRI pull of docker.io/library/busybox:1.35 through the mirror with registries.yaml's auth" "$out" "OK sha256:*"
after=$(manifest_gets "$TEST_TMP/auth.log")
((after > before)) || fail "the mirror's access log shows no manifest request ($before → $after)"
log "ok: the mirror served the manifest (access log: $before → $after requests)"
out=$($CRI "$SOCK" status docker.io/library/busybox:1.35)
expect "ImageStatus sees docker.io/library/busybox:1.35" "$out" "PRESENT sha256:* docker.io/library/busybox:1.35*"
# The CRI plugin labels images from its event loop, a moment after the pull returns.
managed() { ctr --address "$SOCK" -n k8s.io images ls | grep '^docker.io/library/busybox:1.35 .*io.cri-containerd.image=managed' >/dev/null; }
for _ in $(seq 1 100); do managed && break; sleep 0.1; done
managed || fail "the pulled image is not in k8s.io as managed"

out=$($CRI "$SOCK" pull registry.invalid/library/busybox:1.35)
expect "a registry that does not exist is served by its mirror" "$out" "OK sha256:*"

out=$($CRI "$SOCK" pull tls.invalid/library/busybox:1.35)
expect "a TLS mirror verified with registries.yaml's ca_file" "$out" "OK sha256:*"
out=$($CRI "$SOCK" pull skipverify.invalid/library/busybox:1.35)
expect "a TLS mirror with insecure_skip_verify" "$out" "OK sha256:*"

# A wrong password sent with the pull (as an imagePullSecret's) wins over registries.yaml's.
out=$($CRI "$SOCK" pull docker.io/library/busybox:1.35 kite wrong)
expect "a pull with a wrong password fails" "$out" "ERROR * 401 Unauthorized*"
stop_containerd

# ---- 2. a wrong password in registries.yaml; the pull secret's credentials then work --------
sed -i -e 's/password: s3cret/password: not-it/' -e '/ca_file:/d' "$TEST_TMP/registries.yaml"
"$IMAGE_TOOL" render-registries "$TEST_TMP/registries.yaml" >"$TEST_TMP/registry-bad.toml" 2>/dev/null
start_containerd badpw "$TEST_TMP/registry-bad.toml"
out=$($CRI "$SOCK" pull docker.io/library/busybox:1.35)
expect "registries.yaml with a wrong password: the pull fails" "$out" "ERROR * 401 Unauthorized*"
out=$($CRI "$SOCK" pull tls.invalid/library/busybox:1.35)
expect "without the CA the TLS mirror is refused" "$out" "ERROR *x509: certificate signed by unknown authority*"

dockerconfig=$(printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}' "$auth_port" "$(printf kite:s3cret | base64)")
printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"%s"}}' \
  "$(printf '%s' "$dockerconfig" | base64 -w0)" >"$TEST_TMP/secret.json"
# The secret names the mirror's host; the kubelet pulls 127.0.0.1:<port>/library/busybox:1.35.
mapfile -t auth < <("$IMAGE_TOOL" pull-auth "$TEST_TMP/secret.json" "127.0.0.1:$auth_port/library/busybox:1.35")
expect "pull-auth normalises the reference" "${auth[0]}" "127.0.0.1:$auth_port/library/busybox:1.35"
expect "pull-auth finds the secret's credentials" "${auth[1]:-}" "kite s3cret"
mapfile -t none < <("$IMAGE_TOOL" pull-auth "$TEST_TMP/secret.json" busybox:1.35)
expect "no credentials for Docker Hub from that secret" "${#none[@]} ${none[0]}" "1 docker.io/library/busybox:1.35"
# shellcheck disable=SC2086
out=$($CRI "$SOCK" pull "${auth[0]}" ${auth[1]})
expect "the pull secret's credentials pull where registries.yaml's are wrong" "$out" "OK sha256:*"
stop_containerd

# ---- 3. image archives imported into the CRI namespace ---------------------------------------
: >"$TEST_TMP/empty.toml"
start_containerd import "$TEST_TMP/empty.toml"
images=$TEST_TMP/agent/images
mkdir -p "$images"
cp "$archive" "$images/busybox.tar"
[[ -f $KITE_IMAGES/pause.tar ]] && cp "$KITE_IMAGES/pause.tar" "$images/pause.tar"
echo "not an archive" >"$images/bad.tar"
echo "ignored" >"$images/README"
out=$($CRI "$SOCK" status kite.local/busybox:1.35)
expect "before the import CRI has no kite.local/busybox:1.35" "$out" "ABSENT"
"$IMAGE_TOOL" import "$images" "$TEST_TMP/agent/images.imported" "$SOCK" overlayfs >"$TEST_TMP/import.out" \
  2>"$TEST_TMP/import.err"
cat "$TEST_TMP/import.out" >&2
grep -q '^bad.tar failed ctr: ' "$TEST_TMP/import.out" || fail "bad.tar did not fail with ctr's reason"
grep -q '^busybox.tar ok kite.local/busybox:1.35$' "$TEST_TMP/import.out" || fail "busybox.tar not imported"
grep -q 'image import: bad.tar: failed: ctr: ' "$TEST_TMP/import.err" || fail "no one-line log for bad.tar"
out=$($CRI "$SOCK" status kite.local/busybox:1.35)
expect "CRI's ImageStatus sees the imported image" "$out" "PRESENT sha256:* kite.local/busybox:1.35"
imported_managed() { ctr --address "$SOCK" -n k8s.io images ls | grep '^kite.local/busybox:1.35 .*io.cri-containerd.image=managed' >/dev/null; }
for _ in $(seq 1 100); do imported_managed && break; sleep 0.1; done
imported_managed || fail "the imported image is not managed by CRI"
# Unpacked where the runtime looks: a container runs from it (ctr run, runc; no CNI needed).
name=kite-import-check-$$
if ! out=$(timeout 60 ctr --address "$SOCK" -n k8s.io run --rm kite.local/busybox:1.35 "$name" sh -c 'echo imported-ok' 2>&1); then
  ctr --address "$SOCK" -n k8s.io task kill -s SIGKILL "$name" 2>/dev/null || true
  ctr --address "$SOCK" -n k8s.io task rm -f "$name" 2>/dev/null || true
  ctr --address "$SOCK" -n k8s.io container rm "$name" 2>/dev/null || true
  fail "a container from the imported image did not run: $out"
fi
expect "a container runs from the imported image" "$out" "imported-ok"
"$IMAGE_TOOL" import "$images" "$TEST_TMP/agent/images.imported" "$SOCK" overlayfs >"$TEST_TMP/import2.out" 2>/dev/null
# Failures are remembered only in memory: a restart tries (and logs) bad.tar once more.
expect "a second pass (a restart) imports nothing again" "$(cat "$TEST_TMP/import2.out")" "bad.tar failed ctr: *"

# The watching importer: a compressed archive renamed into the directory is imported.
skopeo copy -q "docker-archive:$archive" "docker-archive:$TEST_TMP/late.tar:kite.local/late:1"
gzip -c "$TEST_TMP/late.tar" >"$images/.late.tar.gz.part"
"$IMAGE_TOOL" watch "$images" "$TEST_TMP/agent/images.imported" "$SOCK" 120 >"$TEST_TMP/watch.log" 2>&1 &
watcher=$!
track_bg "$watcher"
mv "$images/.late.tar.gz.part" "$images/late.tar.gz"
for _ in $(seq 1 300); do
  out=$($CRI "$SOCK" status kite.local/late:1)
  [[ $out == PRESENT* ]] && break
  sleep 0.1
done
expect "the watching importer imported late.tar.gz" "$out" "PRESENT sha256:* kite.local/late:1"
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
stop_containerd
log "PASS registry_mirror"
