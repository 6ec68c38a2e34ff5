#!/usr/bin/env bash
# `npm start`: installs what is missing, builds, and runs the gateway on its
# embedded defaults (MQTT on 0.0.0.0:1883, anonymous from this machine only,
# HTTP on 127.0.0.1:8080, data in ./data). Extra arguments go to `weir start`,
# e.g. `npm start -- --mqtt-port 1884 --config weir.yaml`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/dev/ensure-build.sh
exec node bin/weir.js start "$@"
