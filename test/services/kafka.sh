#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM)
# on loopback, for the Kafka sink tests. Jars come from Maven Central through
# test/kafka/pom.xml and are cached in test/.cache/kafka-libs.
#
# Usage:
#   test/services/kafka.sh fetch          fetch the jars if missing (idempotent)
#   test/services/kafka.sh start [DIR]    start a broker whose state lives in DIR
#                                         (default test/.run/kafka); prints 127.0.0.1:PORT.
#                                         A DIR left by `halt` restarts on the same
#                                         ports with its data.
#   test/services/kafka.sh halt [DIR]     stop the broker, keep DIR (an outage)
#   test/services/kafka.sh stop [DIR]     stop the broker and remove DIR
#
# Environment:
#   KAFKA_HEAP          JVM heap options (default -Xms128m -Xmx512m)
#   KAFKA_START_TIMEOUT seconds to wait for the broker (default 90)
#   KAFKA_OWNER_PID     if set, the broker is stopped once that process exits,
#                       so a crashed test run leaves no JVM behind
#   KAFKA_SERVER_PROPS  extra lines appended to server.properties on first start
#
# Only the pid recorded in DIR is ever signalled.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
POM="$ROOT/test/kafka/pom.xml"
LIBS="$ROOT/test/.cache/kafka-libs"
# A fixed cluster id is enough: every DIR is formatted afresh.
CLUSTER_ID="d2Vpci1rYWZrYS10ZXN0MQ"

die() { echo "kafka.sh: $*" >&2; exit 1; }

ensure_tools() {
  command -v java >/dev/null && command -v mvn >/dev/null && return 0
  # shellcheck source=../lib/ensure-debian-packages.sh
  source "$ROOT/test/lib/ensure-debian-packages.sh"
  ensure_debian_packages openjdk-17-jre-headless:/usr/bin/java maven:/usr/bin/mvn
}

# The marker names the pom's hash, so editing the pom (a new Kafka version) refetches.
fetch() {
  ensure_tools
  local stamp; stamp="$LIBS/.complete-$(sha1sum "$POM" | cut -c1-12)"
  [[ -f "$stamp" ]] && return 0
  mkdir -p "$ROOT/test/.cache"
  # Two test files may start brokers at once; one fetches, the other waits.
  exec 9>"$ROOT/test/.cache/kafka-libs.lock"
  flock 9
  if [[ ! -f "$stamp" ]]; then
    local tmp; tmp="$(mktemp -d "$ROOT/test/.cache/kafka-libs.XXXXXX")"
    echo "kafka.sh: fetching Kafka jars from Maven Central into $LIBS" >&2
    mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >&2 \
      || { rm -rf "$tmp"; die "mvn could not fetch the Kafka jars"; }
    touch "$tmp/.complete-$(sha1sum "$POM" | cut -c1-12)"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
  fi
  flock -u 9
}

free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => console.log(p)); });'
}

broker_pid() {
  local dir="$1" pid
  [[ -f "$dir/kafka.pid" ]] || return 1
  pid="$(cat "$dir/kafka.pid")"
  # Guard against a recycled pid: the process must be our JVM for this DIR.
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/server.properties" || return 1
  echo "$pid"
}

write_config() {
  local dir="$1" port cport
  port="$(free_port)"
  cport="$(free_port)"
  while [[ "$cport" == "$port" ]]; do cport="$(free_port)"; done
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.flush.interval.messages=9223372036854775807
${KAFKA_SERVER_PROPS:-}
EOF
  echo "$port" >"$dir/port"
}

# JVM options: a small heap and a quick start matter more here than peak throughput.
java_args() {
  # shellcheck disable=SC2206 # KAFKA_HEAP is a list of JVM options
  JAVA_ARGS=(${KAFKA_HEAP:--Xms128m -Xmx512m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$ROOT/test/kafka/log4j2.properties"
    -cp "$LIBS/*")
}

start() {
  local dir="$1" pid port started timeout
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if pid="$(broker_pid "$dir")"; then
    die "a broker (pid $pid) is already running for $dir"
  fi
  if [[ ! -f "$dir/server.properties" ]]; then
    write_config "$dir"
    java_args
    java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format --cluster-id "$CLUSTER_ID" \
      --config "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; die "formatting the storage failed"; }
  fi
  port="$(cat "$dir/port")"
  # A restart appends; the log's line count tells where this start begins.
  started=1
  [[ -f "$dir/server.log" ]] && started=$(( $(wc -l <"$dir/server.log") + 1 ))
  java_args
  # Its own session, so the broker outlives this script and no terminal signal reaches it.
  setsid java "${JAVA_ARGS[@]}" kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/server.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
  pid=$!
  timeout="${KAFKA_START_TIMEOUT:-90}"
  local until=$((SECONDS + timeout))
  until grep -q "Kafka Server started" < <(tail -n +"$started" "$dir/server.log"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/server.log" >&2
      die "the broker exited during start (log: $dir/server.log)"
    fi
    if ((SECONDS >= until)); then
      tail -n 40 "$dir/server.log" >&2
      kill_broker "$dir" || true
      die "the broker did not start within ${timeout}s (log: $dir/server.log)"
    fi
    sleep 0.2
  done
  # "started" is logged once the listeners accept; check the socket all the same.
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    ((SECONDS < until)) || die "nothing accepts connections on 127.0.0.1:$port"
    sleep 0.2
  done
  if [[ -n "${KAFKA_OWNER_PID:-}" ]]; then
    # Watchdog: outlives this script, ends with the broker or its owner.
    setsid bash -c "while kill -0 $KAFKA_OWNER_PID 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 2; done; \
      kill -0 $pid 2>/dev/null && kill -TERM $pid; sleep 20; kill -0 $pid 2>/dev/null && kill -KILL $pid; true" \
      </dev/null >/dev/null 2>&1 &
  fi
  echo "127.0.0.1:$port"
}

# SIGTERM lets the broker close its logs cleanly (a fast restart); SIGKILL after 30 s.
kill_broker() {
  local dir="$1" pid
  pid="$(broker_pid "$dir")" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/kafka.pid"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
  rm -f "$dir/kafka.pid"
}

cmd="${1:-}"
dir="${2:-$ROOT/test/.run/kafka}"
case "$cmd" in
  fetch) fetch ;;
  start) start "$dir" ;;
  halt) kill_broker "$dir" ;;
  stop)
    kill_broker "$dir"
    # Only remove what looks like one of ours.
    if [[ -f "$dir/server.properties" ]]; then rm -rf "$dir"; fi
    ;;
  *) die "usage: kafka.sh fetch | start [DIR] | halt [DIR] | stop [DIR]" ;;
esac
