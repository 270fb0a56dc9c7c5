#!/bin/sh
# Removes kite from this machine: stops it (kite-killall.sh), then deletes what the install
# wrote (units, environment file, binaries and their lib/kite/, scripts, /etc/kite) and what the cluster made (the
# data dir: database, certificates, images, volumes). Written by kite's install.sh (paths
# filled in at install time); nothing else is touched.
set -u
[ "$(id -u)" = 0 ] || { echo "kite-uninstall.sh: run as root" >&2; exit 1; }
ROOT='@ROOT@'
BIN_DIR='@BIN_DIR@'
SYSTEMD_DIR='@SYSTEMD_DIR@'
DATA_DIR='@DATA_DIR@'
UNIT='@UNIT@'
LIB_DIR='@LIB_DIR@'
LIB_PARENT_MADE='@LIB_PARENT_MADE@'

"$ROOT$BIN_DIR/kite-killall.sh"
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  systemctl disable "$UNIT" 2>/dev/null
  systemctl reset-failed "$UNIT" 2>/dev/null
fi
rm -f "$ROOT$SYSTEMD_DIR/$UNIT.service" "$ROOT$SYSTEMD_DIR/$UNIT.service.env" \
  "$ROOT$SYSTEMD_DIR/multi-user.target.wants/$UNIT.service"
[ -z "$ROOT" ] && [ -d /run/systemd/system ] && systemctl daemon-reload
for b in kite-server kite-agent kite-cni kite-killall.sh; do rm -f "$ROOT$BIN_DIR/$b"; done
rm -rf "$ROOT$LIB_DIR"
[ "$LIB_PARENT_MADE" = yes ] && rmdir "$ROOT${LIB_DIR%/kite}" 2>/dev/null
rm -rf "$ROOT/etc/kite" "$DATA_DIR"
rm -f "$ROOT$BIN_DIR/kite-uninstall.sh"
echo "kite uninstalled"
