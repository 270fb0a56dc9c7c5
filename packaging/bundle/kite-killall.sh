#!/bin/sh
# Stops kite and everything it runs on this machine — the service, containerd, the containers —
# and cleans its network state (pod interfaces, the pod bridge, flannel.1, the KUBE-/FLANNEL-/
# CNI- iptables chains), keeping the data: starting the service again brings the node back.
# Written by kite's install.sh (paths filled in at install time).
set -u
[ "$(id -u)" = 0 ] || { echo "kite-killall.sh: run as root" >&2; exit 1; }
DATA_DIR='@DATA_DIR@'
ROOT='@ROOT@'
SYSTEMD_DIR='@SYSTEMD_DIR@'
BIN_DIR='@BIN_DIR@'

# The service first (only when it is installed under this root and systemd runs), so it does not
# restart what is killed below.
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  for unit in kite kite-agent; do
    [ -f "$SYSTEMD_DIR/$unit.service" ] && systemctl stop "$unit" 2>/dev/null
  done
fi

# The containerd state dir of this data dir (agent/cri/containerd.h): /run/kite/<12 hex digits
# of the SHA-256 of the data dir's path>; the pod bridge: kite<8 hex digits> (agent/network).
sum=$(printf %s "$DATA_DIR" | sha256sum | cut -c1-12)
RUN_DIR=/run/kite/$sum
BRIDGE=kite$(printf %s "$DATA_DIR" | sha256sum | cut -c1-8)

pids_of() {  # processes whose command line names $1
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
  done
}
children_of() {
  for p in /proc/[0-9]*; do
    [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
  done
}
for name in kite-server kite-agent; do  # this install's binaries only (by their path)
  for pid in $(pids_of "$ROOT$BIN_DIR/$name"); do
    [ "$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -1)" = "$ROOT$BIN_DIR/$name" ] && kill -9 "$pid" 2>/dev/null
  done
done

# kite's containerd (named by its config path under the data dir), then the shims (named by the
# state dir) and their containers.
for pid in $(pids_of "$DATA_DIR/agent/etc/containerd") $(pids_of "$RUN_DIR/"); do
  for child in $(children_of "$pid"); do kill -9 "$child" 2>/dev/null; done
  kill -9 "$pid" 2>/dev/null
done
# Mounts under the data dir and the state dir, deepest first (pod volumes, netns files, rootfs).
for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($DATA_DIR|$RUN_DIR)(/|\$)" | sort -r); do
  umount -l "$m" 2>/dev/null
done

# The pods' veths hang off the bridge; the bridge and the VXLAN device go after them.
if command -v ip >/dev/null; then
  for veth in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$veth" 2>/dev/null
  done
  ip link delete "$BRIDGE" 2>/dev/null
  ip link delete flannel.1 2>/dev/null
fi

# The rules kite's service proxy, flannel and the CNI plugins wrote, in every table and backend.
for tool in iptables ip6tables; do
  command -v "$tool-save" >/dev/null || continue
  "$tool-save" 2>/dev/null | grep -qE 'KUBE-|FLANNEL-|CNI-' || continue
  "$tool-save" | grep -vE 'KUBE-|FLANNEL-|CNI-' | "$tool-restore"
done
if command -v nft >/dev/null; then
  for t in "ip kube-proxy" "ip6 kube-proxy"; do nft delete table $t 2>/dev/null; done
  # With the nf_tables backend the tables kite made (nat, mangle, filter) stay behind empty: an
  # empty table whose chains all accept is no table at all, so it goes too (the legacy backend's
  # tables are the kernel's and stay).
  for tool in iptables ip6tables; do
    command -v "$tool-save" >/dev/null && "$tool" --version 2>/dev/null | grep -q nf_tables || continue
    family=ip
    [ "$tool" = ip6tables ] && family=ip6
    for t in $("$tool-save" 2>/dev/null | awk '/^\*/ {t = substr($0, 2); keep[t] = 0; next}
        /^-A/ || (/^:/ && $2 != "ACCEPT") {keep[t] = 1} END {for (t in keep) if (!keep[t]) print t}'); do
      nft delete table "$family" "$t" 2>/dev/null
    done
  done
fi
rm -rf "$RUN_DIR"
rmdir /run/kite 2>/dev/null
exit 0
