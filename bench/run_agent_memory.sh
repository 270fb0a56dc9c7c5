#!/usr/bin/env bash
# Where an idle kite-agent's memory goes (bench/RESULTS.md, "Pods on a node"), for one or more
# agent binaries or settings, side by side on one node. In one network namespace: kite-server
# (--disable-agent) and a kite-agent joined to it, its own containerd; each variant is the agent
# restarted on the same data dir (no pods), Ready, then idle for IDLE seconds, then
# /proc/<pid>/smaps summed by mapping (the binary's text and data, heap, anonymous memory —
# thread stacks and malloc arenas —, each shared library) and the threads by name.
#
# Usage: bench/run_agent_memory.sh [--build DIR] [--idle S] VARIANT...   (needs root)
#   VARIANT: NAME=BINARY or NAME=BINARY:ENV=VALUE[,ENV=VALUE]  (e.g. arenas2=bin/kite-agent:MALLOC_ARENA_MAX=2)
# The server is KITE_SERVER (default DIR's); the image archives are DIR's.
set -euo pipefail
BUILD=build
IDLE=30
while [[ $# -gt 0 && $1 == --* ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--build DIR] [--idle S] NAME=BINARY[:ENV=VALUE,...]..." >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=${KITE_SERVER:-$BUILD/bin/kite-server} KITE_IMAGES=$BUILD/images
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers

new_server_and_agent_in_one_ns mem
k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
ready() { k get node mem-node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
echo "# idle kite-agent memory: commit $(git -C "$HERE" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), idle ${IDLE} s"

for v in "$@"; do
  name=${v%%=*}
  spec=${v#*=}
  bin=${spec%%:*}
  envs=()
  [[ $spec == *:* ]] && IFS=, read -r -a envs <<<"${spec#*:}"
  envargs=()
  for e in "${envs[@]}"; do envargs+=(--env "$e"); done
  start_ns_agent --log "$TEST_TMP/agent-$name.log" "${envargs[@]}" "$bin" mem-node
  pid=$AGENT_PID
  wait_until 120 ready || fail "$name: node not Ready"
  sleep "$IDLE"
  agent=$pid  # nsenter and env exec the agent: the same process
  echo "== $name: $bin ${envs[*]}"
  python3 - "$agent" <<'PY'
import collections, os, re, sys
pid = sys.argv[1]
exe = os.readlink(f"/proc/{pid}/exe")
cat, cur = collections.Counter(), None
for line in open(f"/proc/{pid}/smaps"):
    m = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
    if m:
        perms, name = m.group(1), m.group(2).strip()
        cur = ("binary text" if "x" in perms else "binary data, rodata, relocations") if name == exe else \
              "heap" if name == "[heap]" else "anonymous (thread stacks, malloc arenas)" if name in ("", "[stack]") else \
              name if name.startswith("[") else "lib " + os.path.basename(name)
    elif line.startswith("Rss:"):
        cat[cur] += int(line.split()[1])
tasks = os.listdir(f"/proc/{pid}/task")
print(f"VmRSS {sum(cat.values())} KiB ({sum(cat.values()) / 1024:.1f} MiB), {len(tasks)} threads")
for k, v in cat.most_common():
    if v >= 64: print(f"  {v:7d} KiB  {k}")
names = collections.Counter(open(f"/proc/{pid}/task/{t}/comm").read().strip() for t in tasks)
print("  threads: " + ", ".join(f"{n} x{c}" if c > 1 else n for n, c in names.most_common()))
PY
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
