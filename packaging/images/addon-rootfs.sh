#!/bin/sh
# Fills <dir> with an add-on's image root (kite-dns, kite-ingress): /<its name> (stripped) and
# the shared libraries it loads, plus /etc/passwd and /etc/group with root and nobody, and an
# empty /tmp. No shell, no package manager: the process is the image. Usage:
#   addon-rootfs.sh <binary> <strip> <dir> <multiarch> <library dir>...
# The libraries are the binary's NEEDED entries and theirs, read from the ELF files (readelf
# reads every architecture, so a cross build makes its target's image the same way), each taken
# from the first <library dir> that has it: the compiler's own (libc, libstdc++, libgcc_s), then
# the target's Debian libraries. They go to /lib/<multiarch>/, where the target's loader looks by
# default, and the loader itself to the path the binary names (PT_INTERP).
set -eu
bin=$1 strip=$2 dir=$3 multiarch=$4
shift 4
rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/tmp" "$dir/lib/$multiarch"
chmod 1777 "$dir/tmp"
prog=$(basename "$bin")
cp "$bin" "$dir/$prog"
"$strip" "$dir/$prog"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
interp=$(readelf -l "$bin" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
[ -n "$interp" ] || { echo "addon-rootfs.sh: $bin names no program interpreter" >&2; exit 1; }
find_lib() {  # find_lib NAME [DIR...]: the first DIR/NAME
  name=$1
  shift
  for d in "$@"; do
    if [ -e "$d/$name" ]; then echo "$d/$name"; return 0; fi
  done
  echo "addon-rootfs.sh: $name (needed by $prog) not found in: $*" >&2
  return 1
}
copy() {  # copy SRC DEST: the file behind SRC, stripped
  mkdir -p "$(dirname "$2")"
  cp -L "$1" "$2"
  "$strip" --strip-unneeded "$2"
}
src=$(find_lib "$(basename "$interp")" "$@")
copy "$src" "$dir$interp"
todo=$(needed "$bin") seen=" $(basename "$interp") "
while [ -n "$todo" ]; do
  next=""
  for lib in $todo; do
    case $seen in *" $lib "*) continue ;; esac
    seen="$seen$lib "
    src=$(find_lib "$lib" "$@")
    copy "$src" "$dir/lib/$multiarch/$lib"
    next="$next $(needed "$src")"
  done
  todo=$next
done
printf 'root:x:0:0:root:/:/%s\nnobody:x:65534:65534:nobody:/nonexistent:/%s\n' "$prog" "$prog" > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
