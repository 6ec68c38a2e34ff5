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
#   test/services/kafka.sh halt [DIR]     stop the broker (SIGTERM), keep DIR (an outage)
#   test/services/kafka.sh kill [DIR]     SIGKILL the broker, keep DIR (a crash)
#   test/services/kafka.sh stop [DIR]     stop the broker and remove DIR
#
# Environment:
#   KAFKA_HEAP          JVM heap options (default -Xms128m -Xmx512m)
#   KAFKA_JVM_OPTS      other JVM options (default -XX:+UseSerialGC -XX:TieredStopAtLevel=1:
#                       a quick start; give "-XX:+UseSerialGC" for full JIT when benchmarking)
#   KAFKA_START_TIMEOUT seconds to wait for the broker (default 90)
#   KAFKA_OWNER_PID     if set, the broker is stopped once that process exits,
#                       so a crashed test run leaves no JVM behind
#   KAFKA_SERVER_PROPS  extra lines appended to server.properties on first start
#   KAFKA_SECURE=1      on first start, also open a SASL_PLAINTEXT listener (PLAIN,
#                       SCRAM-SHA-256, SCRAM-SHA-512) and an SSL listener with a fresh
#                       CA (DIR/tls/ca.pem), and turn on ACLs: users `weir` (password
#                       `weir-secret`, a super user) and `nobody` (`nobody-secret`, no ACLs,
#                       PLAIN only). The plaintext listener stays anonymous and super.
#
# DIR/listeners lists every listener as NAME=127.0.0.1:PORT.
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
  local dir="$1" port cport sport tport
  port="$(free_port)"
  cport="$(free_port)"
  while [[ "$cport" == "$port" ]]; do cport="$(free_port)"; done
  mkdir -p "$dir/data"
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  echo "PLAINTEXT=127.0.0.1:$port" >"$dir/listeners"
  if [[ "${KAFKA_SECURE:-}" == 1 ]]; then
    sport="$(free_port)"; tport="$(free_port)"
    while [[ "$sport" == "$port" || "$sport" == "$cport" ]]; do sport="$(free_port)"; done
    while [[ "$tport" == "$port" || "$tport" == "$cport" || "$tport" == "$sport" ]]; do tport="$(free_port)"; done
    make_tls "$dir/tls"
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport"
    advertised+=",SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL"
    printf 'SASL_PLAINTEXT=127.0.0.1:%s\nSSL=127.0.0.1:%s\n' "$sport" "$tport" >>"$dir/listeners"
  fi
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
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
# After a SIGKILL the restarted broker cannot register until its old session expires (default 9 s).
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
EOF
  if [[ "${KAFKA_SECURE:-}" == 1 ]]; then
    cat >>"$dir/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_weir="weir-secret" user_nobody="nobody-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$dir/tls/server.pem
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:weir
EOF
  fi
  printf '%s\n' "${KAFKA_SERVER_PROPS:-}" >>"$dir/server.properties"
  echo "$port" >"$dir/port"
}

# A throwaway CA and a server certificate for 127.0.0.1/localhost, as PEM (Kafka reads PEM keystores).
make_tls() {
  local tls="$1"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weir test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/san.ext" -out "$tls/server.crt" 2>/dev/null
  cat "$tls/server.key" "$tls/server.crt" >"$tls/server.pem"
}

# JVM options: a small heap and a quick start matter more here than peak throughput.
java_args() {
  # shellcheck disable=SC2206 # KAFKA_HEAP is a list of JVM options
  # shellcheck disable=SC2206
  JAVA_ARGS=(${KAFKA_HEAP:--Xms128m -Xmx512m} ${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}
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
    local scram=()
    if [[ "${KAFKA_SECURE:-}" == 1 ]]; then
      scram=(--add-scram 'SCRAM-SHA-256=[name=weir,password=weir-secret]' --add-scram 'SCRAM-SHA-512=[name=weir,password=weir-secret]')
    fi
    java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format --cluster-id "$CLUSTER_ID" \
      --config "$dir/server.properties" --ignore-formatted "${scram[@]}" >"$dir/format.log" 2>&1 \
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
    # Watchdog: if the owner dies first (a crashed test run), stop the broker and
    # remove DIR; it ends quietly when the broker is stopped by this script.
    setsid bash -c '
      owner=$1 pid=$2 dir=$3
      ours() { tr "\0" " " <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/server.properties"; }
      while kill -0 "$owner" 2>/dev/null && ours; do sleep 2; done
      kill -0 "$owner" 2>/dev/null && exit 0
      ours && kill -TERM "$pid"
      for _ in $(seq 1 100); do ours || break; sleep 0.2; done
      ours && kill -KILL "$pid"
      sleep 0.5
      [[ -f "$dir/server.properties" ]] && rm -rf "$dir"
      exit 0' _ "$KAFKA_OWNER_PID" "$pid" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  echo "127.0.0.1:$port"
}

# SIGTERM lets the broker close its logs cleanly (a fast restart); SIGKILL after 30 s.
# With "KILL" it is a crash instead: no controlled shutdown, log recovery on restart.
kill_broker() {
  local dir="$1" signal="${2:-TERM}" pid
  pid="$(broker_pid "$dir")" || return 0
  kill "-$signal" "$pid" 2>/dev/null || return 0
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
# The broker's command line names DIR absolutely; so must every later lookup.
[[ -d "$dir" ]] && dir="$(cd "$dir" && pwd)"
case "$cmd" in
  fetch) fetch ;;
  start) start "$dir" ;;
  halt) kill_broker "$dir" TERM ;;
  kill) kill_broker "$dir" KILL ;;
  stop)
    kill_broker "$dir"
    # Only remove what looks like one of ours.
    if [[ -f "$dir/server.properties" ]]; then rm -rf "$dir"; fi
    ;;
  *) die "usage: kafka.sh fetch | start [DIR] | halt [DIR] | kill [DIR] | stop [DIR]" ;;
esac
