#!/usr/bin/env bash
# A throwaway VictoriaMetrics for the InfluxDB sink tests: it accepts InfluxDB
# line protocol at /api/v2/write and gives it back through /api/v1/export.
#
#   test/services/victoria-metrics.sh start [STATE_DIR]  # prints the port on stdout
#   test/services/victoria-metrics.sh stop  [STATE_DIR]  # kills it, removes its data
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
  local bin port attempt
  bin=$(vm_binary)
  rm -rf "$state"; mkdir -p "$state/data"
  for attempt in 1 2 3; do
    port=$(free_port)
    # latencyOffset=0 and no cache: a test reads back what it wrote a moment ago
    "$bin" -httpListenAddr "127.0.0.1:$port" -storageDataPath "$state/data" \
      -search.latencyOffset=0s -search.disableCache -loggerLevel WARN \
      >"$state/log" 2>&1 &
    echo $! >"$state/pid"; echo "$port" >"$state/port"
    local i
    for i in $(seq 1 100); do
      if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then echo "$port"; return 0; fi
      kill -0 "$(cat "$state/pid")" 2>/dev/null || break
      sleep 0.1
    done
    kill "$(cat "$state/pid")" 2>/dev/null || true
    wait "$(cat "$state/pid")" 2>/dev/null || true
  done
  echo "victoria-metrics did not become ready:" >&2; cat "$state/log" >&2
  return 1
}

stop() {
  if [[ -f $state/pid ]]; then
    local pid; pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$state"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2 ;;
esac
