#!/usr/bin/env bash
# npm run bench [-- --parts 2000,20000 --workers 2]: builds, starts the local stack, runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci; fi
npm run build >/dev/null
node dist/manager/cli/main.js dev up >/dev/null
node dist/scripts/bench/bench.js "$@"
