#!/usr/bin/env bash
# npm run bench [-- --parts 20000 --rounds 3 --json …]: builds, starts the local stack (and, for
# BullMQ, installs Debian's redis-server when missing), runs the benchmark. Everything but the
# result goes to stderr, so `npm run -s bench -- --json` prints one JSON document on stdout
# (npm's own banner, without -s, is npm's). `--help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOG_LEVEL="${LOG_LEVEL:-warn}"
source scripts/install.sh >&2
npm run build >/dev/null
node dist/manager/cli/main.js dev up >/dev/null
if ! command -v redis-server >/dev/null && [[ " $* " != *bullmq* ]]; then
  echo "… installing redis-server for the BullMQ peer (apt-get)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y redis-server >&2 || { apt-get update >&2 && apt-get install -y redis-server >&2; }
  else sudo apt-get install -y redis-server >&2; fi
fi
node dist/scripts/bench/bench.js "$@"
