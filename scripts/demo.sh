#!/usr/bin/env bash
# The demo (npm run demo): on a fresh clone, installs and builds, starts the local stack
# (`batchgrid dev up`), migrates the database, then runs the claims example end to end
# (scripts/demo/demo.ts): an orchestrator and two fleet workers as child processes, 300,000
# generated claims, live progress, the summary, the results, a performance report and the
# Temporal UI link. Extra arguments go to the driver: npm run demo -- --rows 1000000 --workers 4
# `npm run demo -- --media` runs the media example instead (scripts/demo/media.ts): ffmpeg test
# videos probed, thumbnailed and transcoded on two fleets, small and big (`dev up` installs ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh
npm run build
node dist/manager/cli/main.js dev up
node dist/manager/cli/main.js db migrate
if [[ "${1:-}" == "--media" ]]; then
  shift
  exec node dist/scripts/demo/media.js "$@"
fi
exec node dist/scripts/demo/demo.js "$@"
