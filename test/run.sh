#!/usr/bin/env bash
# `npm test`: the whole test suite on a fresh machine. Installs what the tests
# need (npm packages, Debian's mosquitto and its clients), builds, runs every
# suite against real peers on loopback, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/ensure-debian-packages.sh
ensure_debian_packages mosquitto:/usr/sbin/mosquitto mosquitto-clients:/usr/bin/mosquitto_pub socat:/usr/bin/socat openssl:/usr/bin/openssl
source deploy/dev/ensure-build.sh

status=0
# vitest only strips types: type-check the tests against the code they drive
npx tsc -p tsconfig.test.json || status=1
# aedes-persistence's own abstract suite (node:test) against weir's broker persistence
node --test --test-reporter=spec test/persistence/ || status=1
if (($# > 0)); then
  npx vitest run "$@" || status=1
else
  # everything else (vitest): unit, integration over real sockets, CLI, faults
  npx vitest run --exclude 'test/deploy-*.test.ts' || status=1
  # the package tests install into this machine's real system: alone, one file at a time
  npx vitest run --maxWorkers 1 test/deploy- || status=1
fi
exit "$status"
