#!/usr/bin/env bash
# npm run bench [-- --parts 20000 --rounds 3 --json …]: builds, starts the local stack (`dev up`
# also installs Debian's redis-server for the BullMQ peer when missing), runs the benchmark. Everything but the
# result goes to stderr, so `npm run -s bench -- --json` prints one JSON document on stdout
# (npm's own banner, without -s, is npm's). `--help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOG_LEVEL="${LOG_LEVEL:-warn}"
source scripts/install.sh >&2
npm run build >/dev/null
node dist/manager/cli/main.js dev up >/dev/null
node dist/scripts/bench/bench.js "$@"
