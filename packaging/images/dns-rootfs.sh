#!/bin/sh
# Fills <dir> with kite-dns's image root: /kite-dns (stripped) and the shared libraries it loads,
# at the paths the dynamic loader looks for them (as `ldd` lists them on the build machine: the
# image is built for the architecture kite is built for, from the same Debian packages), plus
# /etc/passwd and /etc/group with root and nobody, and an empty /tmp. No shell, no package
# manager: the process is the image. Usage: dns-rootfs.sh <kite-dns binary> <strip> <dir>
set -eu
bin=$1 strip=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/tmp"
chmod 1777 "$dir/tmp"
cp "$bin" "$dir/kite-dns"
"$strip" "$dir/kite-dns"
# "libx.so => /lib/.../libx.so (0x...)" and the loader's own "/lib64/ld-linux-x86-64.so.2 (0x...)"
for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
  mkdir -p "$dir$(dirname "$lib")"
  cp -L "$lib" "$dir$lib"
  "$strip" --strip-unneeded "$dir$lib"
done
printf 'root:x:0:0:root:/:/kite-dns\nnobody:x:65534:65534:nobody:/nonexistent:/kite-dns\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
