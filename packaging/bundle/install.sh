#!/bin/sh
# kite's offline installer: installs kite from the bundle this script sits in (bin/, lib/kite/,
# images/, systemd/ beside it) — no network. As k3s's install.sh:
#   sudo ./install.sh                                           a server (kite-server, a node too)
#   sudo KITE_URL=https://SERVER:6443 KITE_TOKEN=K10... ./install.sh   an agent joining SERVER
# It writes the binaries, kite.service or kite-agent.service (Type=notify), its environment
# file (<unit>.service.env, the KITE_* settings), kite-killall.sh and kite-uninstall.sh, copies
# the image archives to <data-dir>/agent/images/, then enables and starts the service.
#
# Environment:
#   KITE_URL, KITE_TOKEN, KITE_TOKEN_FILE   agent mode (KITE_URL set): the server to join and the
#                                 join token (the server's <data-dir>/server/token)
#   KITE_TOKEN                    server mode: the cluster's join token (default: generated)
#   KITE_DATA_DIR                 default /var/lib/kite
#   KITE_NODE_NAME                the node's name (default: the hostname)
#   INSTALL_KITE_EXEC             extra flags for the service's command; a first word "server" or
#                                 "agent" picks the mode (as INSTALL_K3S_EXEC)
#   INSTALL_KITE_CONFIG           a YAML file installed as /etc/kite/config.yaml (agent:
#                                 /etc/kite/agent.yaml): keys are the long flag names
#   INSTALL_KITE_BIN_DIR          default /usr/local/bin (a release bundle's shared libraries go
#                                 to <its parent>/lib/kite, where the binaries' run path looks)
#   INSTALL_KITE_SYSTEMD_DIR      default /etc/systemd/system
#   INSTALL_KITE_SKIP_ENABLE=true neither enable nor start the service
#   INSTALL_KITE_SKIP_START=true  do not start it
#   INSTALL_KITE_SKIP_CHECKS=true install even when a prerequisite is missing
#   INSTALL_KITE_ROOT             write every file under this root instead of / (a scratch root
#                                 for tests and image builds; a KITE_DATA_DIR given is used as
#                                 is); nothing is enabled or started then
set -eu

info() { echo "[kite] $*"; }
fatal() { echo "[kite] ERROR: $*" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${INSTALL_KITE_ROOT:-}
BIN_DIR=${INSTALL_KITE_BIN_DIR:-/usr/local/bin}
SYSTEMD_DIR=${INSTALL_KITE_SYSTEMD_DIR:-/etc/systemd/system}
DATA_DIR=${KITE_DATA_DIR:-/var/lib/kite}
# Where the data dir's files go now: under the install root unless KITE_DATA_DIR names it (then it
# is used as is). The killall and uninstall scripts act on this one.
DATA_FILES=${KITE_DATA_DIR:-$ROOT/var/lib/kite}
EXEC=${INSTALL_KITE_EXEC:-}

# --- the mode -----------------------------------------------------------------------------------
case "$EXEC" in
  server|server\ *) MODE=server; EXEC=${EXEC#server} ;;
  agent|agent\ *) MODE=agent; EXEC=${EXEC#agent} ;;
  *) if [ -n "${KITE_URL:-}" ]; then MODE=agent; else MODE=server; fi ;;
esac
if [ "$MODE" = agent ]; then
  [ -n "${KITE_URL:-}" ] || fatal "agent mode needs KITE_URL (https://SERVER:6443)"
  [ -n "${KITE_TOKEN:-}${KITE_TOKEN_FILE:-}" ] || fatal "agent mode needs KITE_TOKEN or KITE_TOKEN_FILE"
  UNIT=kite-agent BIN=kite-agent CONFIG=agent.yaml
else
  UNIT=kite BIN=kite-server CONFIG=config.yaml
fi
ENV_FILE=$SYSTEMD_DIR/$UNIT.service.env

# --- the bundle ---------------------------------------------------------------------------------
[ -x "$HERE/bin/$BIN" ] || fatal "$HERE/bin/$BIN missing: run install.sh from an unpacked kite bundle"
if [ -f "$HERE/MANIFEST" ] && command -v sha256sum >/dev/null; then
  (cd "$HERE" && sha256sum -c --quiet MANIFEST) || fatal "the bundle's files do not match its MANIFEST"
fi

# --- prerequisites: one line for each thing missing ------------------------------------------
missing=0
miss() { echo "[kite] missing: $*" >&2; missing=$((missing + 1)); }
[ "$(id -u)" = 0 ] || miss "root (run as root)"
# The binary must load here: its architecture, and glibc >= 2.34 (2.36 for amd64, whose release
# packs its relocations as DT_RELR); the loader's own message says which.
"$HERE/bin/$BIN" --version >/dev/null 2>&1 ||
  miss "a system this $BIN runs on ($BIN --version: $("$HERE/bin/$BIN" --version 2>&1 | head -1))"
for tool in containerd runc iptables ip; do
  command -v "$tool" >/dev/null 2>&1 || miss "$tool (Debian package: $(case $tool in ip) echo iproute2 ;; *) echo "$tool" ;; esac))"
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/portmap ] ||
  miss "the CNI plugins in /usr/lib/cni (Debian package: containernetworking-plugins)"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  for c in cpu memory pids; do
    grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || miss "cgroup v2 controller $c (kernel command line: cgroup_enable=$c)"
  done
elif [ -d /sys/fs/cgroup/memory ]; then
  [ -d /sys/fs/cgroup/cpu ] || miss "cgroup v1 cpu controller"
else
  miss "cgroups: /sys/fs/cgroup has neither cgroup v2 nor a v1 memory controller (kernel command line: cgroup_enable=memory cgroup_memory=1)"
fi
# Loaded, built in, or loadable (the unit's ExecStartPre loads them at start).
loadable() { [ -d "/sys/module/$1" ] || grep -qw "^$1" /proc/modules 2>/dev/null || modprobe -n "$1" 2>/dev/null; }
grep -qw overlay /proc/filesystems || loadable overlay || miss "kernel module overlay (containerd's snapshotter)"
[ -e /proc/sys/net/bridge ] || loadable br_netfilter || miss "kernel module br_netfilter (pod traffic through iptables)"
if command -v iptables >/dev/null 2>&1; then
  # Whichever backend the iptables command uses, the kernel must answer it.
  backend=$(iptables --version 2>/dev/null | sed -n 's/.*(\(.*\)).*/\1/p')
  case "$backend" in
    nf_tables|legacy) iptables -S >/dev/null 2>&1 || miss "kernel support for iptables' $backend backend (iptables -S fails: $(iptables -S 2>&1 | head -1))" ;;
    *) miss "a known iptables backend (iptables --version says: $(iptables --version 2>&1))" ;;
  esac
fi
if [ "$MODE" = server ]; then
  for port in 6443 2379 2381 10250; do
    if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then
      miss "free TCP port $port (taken: $(ss -Htlnp "sport = :$port" 2>/dev/null | head -1 | awk '{print $NF}'))"
    fi
  done
fi
if [ "$missing" -gt 0 ]; then
  [ "${INSTALL_KITE_SKIP_CHECKS:-}" = true ] || fatal "$missing prerequisite(s) missing (INSTALL_KITE_SKIP_CHECKS=true installs anyway)"
  info "installing despite $missing missing prerequisite(s) (INSTALL_KITE_SKIP_CHECKS=true)"
fi

# --- files ----------------------------------------------------------------------------------------
umask 022
mkdir -p "$ROOT$BIN_DIR" "$ROOT$SYSTEMD_DIR" "$ROOT/etc/kite"
for b in kite-server kite-agent kite-cni; do
  [ -x "$HERE/bin/$b" ] || continue
  cp "$HERE/bin/$b" "$ROOT$BIN_DIR/$b.tmp" && mv -f "$ROOT$BIN_DIR/$b.tmp" "$ROOT$BIN_DIR/$b"
done
info "installed $BIN to $ROOT$BIN_DIR"
# The shared libraries a release build's binaries load (libstdc++, libgcc_s, prometheus-cpp): their
# run path is $ORIGIN/../lib/kite, so they go there. Whether this install made that folder's
# parent (then the uninstall removes it again) is remembered across re-installs.
LIB_DIR=$(dirname "$BIN_DIR")/lib/kite
LIB_PARENT_MADE=no
if grep -q "^LIB_PARENT_MADE='yes'" "$ROOT$BIN_DIR/kite-uninstall.sh" 2>/dev/null; then LIB_PARENT_MADE=yes; fi
if [ -d "$HERE/lib/kite" ]; then
  [ -d "$ROOT$(dirname "$LIB_DIR")" ] || LIB_PARENT_MADE=yes
  mkdir -p "$ROOT$LIB_DIR"
  for lib in "$HERE"/lib/kite/*; do
    cp "$lib" "$ROOT$LIB_DIR/${lib##*/}.tmp" && mv -f "$ROOT$LIB_DIR/${lib##*/}.tmp" "$ROOT$LIB_DIR/${lib##*/}"
  done
  info "installed its shared libraries to $ROOT$LIB_DIR"
fi

# Image archives the agent imports at start (pause, kite-dns, kite-ingress): no registry needed.
(umask 077 && mkdir -p "$DATA_FILES/agent/images")
for img in "$HERE"/images/*; do if [ -f "$img" ]; then cp "$img" "$DATA_FILES/agent/images/"; fi; done

if [ -n "${INSTALL_KITE_CONFIG:-}" ]; then
  [ -f "$INSTALL_KITE_CONFIG" ] || fatal "INSTALL_KITE_CONFIG: $INSTALL_KITE_CONFIG is not a file"
  (umask 077 && cp "$INSTALL_KITE_CONFIG" "$ROOT/etc/kite/$CONFIG")
  info "wrote $ROOT/etc/kite/$CONFIG"
fi

# The environment file: the KITE_* settings given, readable by root only (the token is a secret).
(
  umask 077
  {
    echo "# kite $MODE: read by $UNIT.service and by $BIN (written by install.sh)"
    echo "KITE_DATA_DIR=$DATA_DIR"
    for v in KITE_URL KITE_TOKEN KITE_TOKEN_FILE KITE_NODE_NAME; do
      eval "val=\${$v:-}"
      if [ -n "$val" ]; then echo "$v=$val"; fi
    done
  } >"$ROOT$ENV_FILE"
)
if [ -n "${KITE_NODE_NAME:-}" ]; then EXEC="--node-name=$KITE_NODE_NAME $EXEC"; fi
EXEC_START="$BIN_DIR/$BIN$(echo " $EXEC" | sed 's/[[:space:]]*$//; s/^[[:space:]]*$//')"

fill() {  # fill TEMPLATE OUT MODE: the @NAME@ placeholders
  sed -e "s|@MODE@|$MODE|g" -e "s|@ENV_FILE@|$ENV_FILE|g" -e "s|@EXEC_START@|$EXEC_START|g" \
      -e "s|@ROOT@|$ROOT|g" -e "s|@BIN_DIR@|$BIN_DIR|g" -e "s|@SYSTEMD_DIR@|$SYSTEMD_DIR|g" \
      -e "s|@DATA_DIR@|$DATA_FILES|g" -e "s|@UNIT@|$UNIT|g" -e "s|@LIB_DIR@|$LIB_DIR|g" \
      -e "s|@LIB_PARENT_MADE@|$LIB_PARENT_MADE|g" "$1" >"$2.tmp"
  chmod "$3" "$2.tmp" && mv -f "$2.tmp" "$2"
}
fill "$HERE/systemd/kite.service" "$ROOT$SYSTEMD_DIR/$UNIT.service" 644
fill "$HERE/kite-killall.sh" "$ROOT$BIN_DIR/kite-killall.sh" 755
fill "$HERE/kite-uninstall.sh" "$ROOT$BIN_DIR/kite-uninstall.sh" 755
info "wrote $ROOT$SYSTEMD_DIR/$UNIT.service, $ROOT$ENV_FILE, $ROOT$BIN_DIR/kite-killall.sh, $ROOT$BIN_DIR/kite-uninstall.sh"

# --- the service ------------------------------------------------------------------------------
if [ -n "$ROOT" ] || [ ! -d /run/systemd/system ]; then
  if [ -n "$ROOT" ]; then why="install root $ROOT"; else why="systemd is not running"; fi
  info "not enabling or starting $UNIT ($why)"
  exit 0
fi
systemctl daemon-reload
[ "${INSTALL_KITE_SKIP_ENABLE:-}" = true ] && { info "not enabling $UNIT (INSTALL_KITE_SKIP_ENABLE)"; exit 0; }
systemctl enable "$UNIT" >/dev/null 2>&1
info "enabled $UNIT"
[ "${INSTALL_KITE_SKIP_START:-}" = true ] && { info "not starting $UNIT (INSTALL_KITE_SKIP_START)"; exit 0; }
info "starting $UNIT"
systemctl restart "$UNIT"
