#!/usr/bin/env bash
# The official JavaScript client (@kubernetes/client-node, pinned in tests/clients/js/package.json
# and package-lock.json; packaging/dev.sh deps installs it with `npm ci`) against a kite-server:
# starts one with controllers and scheduler, as tests/integration/kubectl/lib_kubectl.sh does,
# and runs tests/clients/js/kite.test.mjs with node's test runner and its admin kubeconfig.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/kubectl/lib_kubectl.sh"
NODE=${NODE:-node}
require_tool "$NODE"
[[ -d $HERE/js/node_modules/@kubernetes/client-node ]] ||
  fail "required tool not found: @kubernetes/client-node (run: packaging/dev.sh deps)"
start_kite_api
cd "$HERE/js"
KUBECONFIG=$TEST_TMP/kubeconfig "$NODE" --test --test-concurrency=1 --test-reporter=spec kite.test.mjs "$@"
