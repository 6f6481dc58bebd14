#!/usr/bin/env bash
# npm run bench [-- --parts 2000,20000 --workers 2]: builds, starts the local stack, runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOG_LEVEL="${LOG_LEVEL:-warn}"
source scripts/install.sh
npm run build >/dev/null
node dist/manager/cli/main.js dev up >/dev/null
node dist/scripts/bench/bench.js "$@"
