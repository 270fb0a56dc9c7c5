#!/usr/bin/env bash
# The std::filesystem calls that stat stay out of kite's product code (issue 21): on Debian 12
# armhf libstdc++ stats with a 32-bit time_t, and they fail (EOVERFLOW) or answer wrongly on any
# file or directory touched after 2038-01-19 (the list in base/fs.h, measured under qemu by
# tests/unit/time64_test.cc's StdFilesystemPast2038). base/fs.h has kite's 64-bit versions.
#
#   fs_rule_test.sh SOURCE_DIR
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
dirs=(addons agent api base client datastore server tools)
# Qualified calls (fs::x, std::filesystem::x), and directory_entry's members that stat
# (it->file_size(), e.is_regular_file(): readdir's d_type answers the type queries only on
# file systems that fill it in).
qualified='(fs|filesystem)::(status|symlink_status|is_directory|is_regular_file|is_symlink|is_block_file|is_character_file|is_fifo|is_socket|is_other|is_empty|file_size|last_write_time|create_directory|create_directories|copy|copy_file|copy_symlink|equivalent|hard_link_count|read_symlink|temp_directory_path)\b'
member='(\.|->)(symlink_status|is_directory|is_regular_file|is_symlink|is_block_file|is_character_file|is_fifo|is_socket|is_other|file_size|last_write_time|hard_link_count|refresh)\('
adds='perm_options::(add|remove)'
found=$(grep -rnE --include='*.cc' --include='*.h' "$qualified|$member|$adds" "${dirs[@]}" 2>/dev/null |
  grep -v '^base/fs\.\(h\|cc\):' || true)
if [[ -n $found ]]; then
  echo "std::filesystem calls that stat with a 32-bit time_t on armhf; use base/fs.h instead:"
  echo "$found"
  exit 1
fi
echo "no std::filesystem call that stats in ${dirs[*]}"
