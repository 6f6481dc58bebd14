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
# On CI, jest's summary reporter: failures and the totals, not a PASS line per file (whose bare
# PASS/FAIL lines other runners' closing-line readers could take for their own).
reporters=()
if [ "${CI:-}" = true ]; then reporters=(--reporters=summary); fi
npx jest --ci "${reporters[@]}" --json --outputFile="$results/jest.json" "$@"
# A full run (no arguments) ends with the fault suite, on its own stack and serially (scripts/chaos.sh).
if [ "$#" -eq 0 ]; then BATCHGRID_CHAOS_BUILT=1 bash scripts/chaos.sh "${reporters[@]}" --json --outputFile="$results/chaos.json"; fi
