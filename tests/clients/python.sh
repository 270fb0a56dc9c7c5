#!/usr/bin/env bash
# The official Python client (Debian's python3-kubernetes) against a kite-server: starts one
# with controllers and scheduler, as tests/integration/kubectl/lib_kubectl.sh does, and runs
# tests/clients/python/test_kite.py (unittest) with its admin kubeconfig.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/../integration/kubectl/lib_kubectl.sh"
# Debian's interpreter: a python3 found first on PATH (pyenv, venvs) does not see dist-packages.
PYTHON=${KITE_TEST_PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import kubernetes' 2>/dev/null || fail "required tool not found: python3-kubernetes for $PYTHON"
start_kite_api
KUBECONFIG=$TEST_TMP/kubeconfig "$PYTHON" "$HERE/python/test_kite.py" "$@"
