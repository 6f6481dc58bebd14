#!/usr/bin/env bash
# The test command (npm test): installs, lints, builds, starts the local stack (installing what
# is missing), migrates the database and runs jest. Extra arguments go to jest: npm test -- test/unit
set -euo pipefail
cd "$(dirname "$0")/.."
# Quiet tests: services log warnings and errors only.
export LOG_LEVEL="${LOG_LEVEL:-warn}"

source scripts/install.sh
npm run lint
npm run build
node dist/manager/cli/main.js dev up
node dist/manager/cli/main.js db migrate
npx jest --ci "$@"
