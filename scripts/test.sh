#!/usr/bin/env bash
# The test command (npm test): installs, lints, builds, starts the local stack (installing what
# is missing), migrates the database and runs jest, then (on a full run) the fault suite. Extra
# arguments go to jest, and then only jest runs: npm test -- test/unit
set -euo pipefail
cd "$(dirname "$0")/.."
# Quiet tests: services log warnings and errors only.
export LOG_LEVEL="${LOG_LEVEL:-warn}"

source scripts/install.sh
npm run lint
npm run build
node dist/manager/cli/main.js dev up
node dist/manager/cli/main.js db migrate
# Each jest run writes its results as JSON; the last line printed adds them up as
# "N passed, M failed" on stdout and stderr (the closing line CI reads), also when a run failed.
results=.batchgrid/test-results
rm -rf "$results" && mkdir -p "$results"
trap 'node scripts/test-summary.mjs "$results"' EXIT

# Runs a command in a process group of its own and, once it has ended, stops what it left behind.
# A test that times out can leave children running (a consumer waiting on a queue) whose stdout and
# stderr are this script's: they would hold its output open, and CI waits for that to close.
# Services started detached (dev up's, the fault suite's stack) have groups of their own and stay.
# Ctrl-C or a TERM of this script stops the group too.
in_own_group() {
  set -m
  "$@" &
  local pid=$!
  set +m
  trap 'kill -TERM -- "-'"$pid"'" 2>/dev/null; exit 130' INT TERM
  local rc=0
  wait "$pid" || rc=$?
  trap - INT TERM
  if pkill -TERM -g "$pid" 2>/dev/null; then echo "stopped the processes $1 left running" >&2; fi
  return "$rc"
}
# On CI, jest's summary reporter: failures and the totals, not a PASS line per file (whose bare
# PASS/FAIL lines other runners' closing-line readers could take for their own). And --forceExit:
# a handle a test left open is reported ("Force exiting Jest") instead of holding CI to its timeout.
ci_flags=()
if [ "${CI:-}" = true ]; then ci_flags=(--reporters=summary --forceExit); fi
in_own_group npx jest --ci "${ci_flags[@]}" --json --outputFile="$results/jest.json" "$@"
# A full run (no arguments) ends with the fault suite, on its own stack and serially (scripts/chaos.sh).
if [ "$#" -eq 0 ]; then in_own_group env BATCHGRID_CHAOS_BUILT=1 bash scripts/chaos.sh "${ci_flags[@]}" --json --outputFile="$results/chaos.json"; fi
