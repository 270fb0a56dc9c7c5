#!/bin/sh
# Fills <dir> with the test image's root file system from Debian's busybox-static: /bin/busybox,
# a link per applet (sh, sleep, httpd, nc, …), /etc/passwd and /etc/group with root and nobody,
# and the directories programs expect. Usage: busybox-rootfs.sh <busybox binary> <dir>
set -eu
bb=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/root" "$dir/var/www"
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
printf 'kite test image\n' > "$dir/var/www/index.html"
