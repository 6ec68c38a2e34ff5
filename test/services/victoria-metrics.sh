#!/usr/bin/env bash
# A throwaway VictoriaMetrics for the InfluxDB sink tests: it accepts InfluxDB
# line protocol at /api/v2/write and gives it back through /api/v1/export.
#
#   test/services/victoria-metrics.sh start  [STATE_DIR]  # prints the port on stdout
#   test/services/victoria-metrics.sh stop   [STATE_DIR]  # kills it, removes its data
#   test/services/victoria-metrics.sh halt   STATE_DIR    # an outage: stops it, keeps data and port
#   test/services/victoria-metrics.sh resume STATE_DIR    # back on the same port with the same data
#
# STATE_DIR (default: a fixed dir under $TMPDIR) holds the pid, the port, the log
# and the storage, so `stop` finds exactly the process `start` began, never one by name.
set -euo pipefail
cd "$(dirname "$0")/../.."
state="${2:-${TMPDIR:-/tmp}/weir-victoria-metrics}"

# Debian's binary; an install on a fresh machine, nothing downloaded by hand.
vm_binary() {
  local b
  for b in /usr/bin/victoria-metrics /usr/sbin/victoria-metrics; do
    [[ -x $b ]] && { echo "$b"; return 0; }
  done
  return 1
}

free_port() {
  # The kernel's choice on loopback; never a fixed port (1883 and friends are taken here).
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  if [[ -f $state/pid ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    cat "$state/port"; return 0
  fi
  if ! vm_binary >/dev/null; then
    echo "weir tests: installing Debian's victoria-metrics" >&2
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends victoria-metrics >&2
  fi
  rm -rf "$state"; mkdir -p "$state/data"
  local attempt
  for attempt in 1 2 3; do
    launch "$(free_port)" && return 0
  done
  echo "victoria-metrics did not become ready:" >&2; cat "$state/log" >&2
  return 1
}

# Starts it on $1 with the data in $state, waits until /health answers, prints the port.
launch() {
  local port=$1 bin i
  bin=$(vm_binary)
  # latencyOffset=0 and no cache: a test reads back what it wrote a moment ago
  "$bin" -httpListenAddr "127.0.0.1:$port" -storageDataPath "$state/data" \
    -search.latencyOffset=0s -search.disableCache -loggerLevel WARN \
    >>"$state/log" 2>&1 &
  echo $! >"$state/pid"; echo "$port" >"$state/port"
  for i in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then echo "$port"; return 0; fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || break
    sleep 0.1
  done
  kill "$(cat "$state/pid")" 2>/dev/null || true
  return 1
}

halt() {
  [[ -f $state/pid ]] || return 0
  local pid; pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

resume() {
  [[ -f $state/port ]] || { echo "nothing to resume in $state" >&2; return 1; }
  launch "$(cat "$state/port")" || { echo "victoria-metrics did not come back:" >&2; cat "$state/log" >&2; return 1; }
}

stop() {
  halt
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  halt) halt ;;
  resume) resume ;;
  *) echo "usage: $0 start|stop|halt|resume [STATE_DIR]" >&2; exit 2 ;;
esac
