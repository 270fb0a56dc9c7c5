#!/bin/sh
# Builds a one-layer container image as a docker-archive tarball (the format `docker save`
# writes and `ctr images import` reads), offline and byte-for-byte reproducible: sorted entries,
# mtime 0, owner root. Usage:
#   build-image.sh <reference> <arch> <rootfs-dir> <entrypoint-json-array> <cmd-json-array|-> <out.tar>
# e.g. build-image.sh kite.local/pause:3.9 amd64 rootfs '["/pause"]' - pause.tar
# <arch> is the image's architecture in OCI spelling (amd64, arm64, arm); arm adds variant v7.
set -eu
[ $# -eq 6 ] || { echo "usage: $0 <reference> <arch> <rootfs> <entrypoint-json> <cmd-json> <out.tar>" >&2; exit 2; }
ref=$1 arch=$2 rootfs=$3 entrypoint=$4 cmd=$5 out=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
tarit() {  # <dir> <out> : reproducible tar of the dir's contents (no "./" prefix)
  (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort > "$work/list") &&
    tar --no-recursion --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -C "$1" -cf "$2" -T "$work/list"
}
mkdir "$work/out"
tarit "$rootfs" "$work/layer.tar"
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/out/$layer_sha"
mv "$work/layer.tar" "$work/out/$layer_sha/layer.tar"
variant=""
[ "$arch" = arm ] && variant=',"variant":"v7"'
cmdfield=""
[ "$cmd" != - ] && cmdfield=",\"Cmd\":$cmd"
printf '{"architecture":"%s"%s,"os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":%s%s,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"kite packaging/images/build-image.sh"}]}' \
  "$arch" "$variant" "$entrypoint" "$cmdfield" "$layer_sha" > "$work/config.json"
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/out/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$ref" "$layer_sha" > "$work/out/manifest.json"
tarit "$work/out" "$work/image.tar"
mv "$work/image.tar" "$out"
