#!/usr/bin/env bash
# npm run chaos [-- -t 'SIGTERM']: the fault suite (test/chaos) on a stack of its own, serially.
# Each row kills, freezes or restarts a process or service during a real job, so it never runs on
# the stack other tests use: Temporal, moto and ElasticMQ get their own home and ports (override
# any of the variables below). Postgres is the one local server both share: its rows stop it.
# Extra arguments go to jest. The table of every row run is printed at the end and saved under
# $BATCHGRID_HOME/chaos/.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOG_LEVEL="${LOG_LEVEL:-warn}"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
export BATCHGRID_HOME="${BATCHGRID_HOME:-$PWD/.batchgrid/chaos}"
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:27233}"
export TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-28233}"
export BATCHGRID_MOTO_PORT="${BATCHGRID_MOTO_PORT:-25000}"
export BATCHGRID_ELASTICMQ_PORT="${BATCHGRID_ELASTICMQ_PORT:-29324}"
export BATCHGRID_S3_PORT="${BATCHGRID_S3_PORT:-29000}"
export BATCHGRID_CHAOS=1

# Reuse the default stack's installs (Python venv, the versitygw build, ElasticMQ jars) instead of fetching them again.
seed="${BATCHGRID_CHAOS_SEED_HOME:-$PWD/.batchgrid}"
mkdir -p "$BATCHGRID_HOME/elasticmq"
if [ ! -e "$BATCHGRID_HOME/venv" ] && [ -d "$seed/venv" ]; then ln -s "$seed/venv" "$BATCHGRID_HOME/venv"; fi
if [ ! -e "$BATCHGRID_HOME/go" ] && [ -d "$seed/go" ]; then ln -s "$seed/go" "$BATCHGRID_HOME/go"; fi
if [ ! -e "$BATCHGRID_HOME/elasticmq/lib" ] && [ -d "$seed/elasticmq/lib" ]; then ln -s "$seed/elasticmq/lib" "$BATCHGRID_HOME/elasticmq/lib"; fi

# scripts/test.sh has just built; anyone else gets a fresh dist/ (the rows run the compiled CLI).
if [ "${BATCHGRID_CHAOS_BUILT:-}" != 1 ]; then npm run build >/dev/null; fi
node dist/manager/cli/main.js dev up >/dev/null
echo "chaos stack: $BATCHGRID_HOME, Temporal $TEMPORAL_ADDRESS (stop it with: BATCHGRID_HOME=$BATCHGRID_HOME TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS BATCHGRID_MOTO_PORT=$BATCHGRID_MOTO_PORT BATCHGRID_ELASTICMQ_PORT=$BATCHGRID_ELASTICMQ_PORT BATCHGRID_S3_PORT=$BATCHGRID_S3_PORT bin/batchgrid dev down)"
npx jest --ci --selectProjects chaos --runInBand "$@"
