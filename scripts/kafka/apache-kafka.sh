#!/usr/bin/env bash
# Run a single-node Apache Kafka 4.x broker (KRaft, broker+controller) without Docker.
#
# The broker jars come from Maven Central via `mvn dependency:copy-dependencies` on the small
# pom.xml next to this script, cached in ~/.cache/ccmon/kafka-$KAFKA_VERSION.
#
#   scripts/kafka/apache-kafka.sh fetch
#   scripts/kafka/apache-kafka.sh start [--port 9092] [--data-dir DIR] [--partitions N] [--fresh]
#   CCMON_TEST_KAFKA_BOOTSTRAP=127.0.0.1:9092 pytest -m integration
#   scripts/kafka/apache-kafka.sh stop [--data-dir DIR]
#
# Run with `help` for every option. Needs: java 17+, mvn (only for fetch).
set -euo pipefail

# Pinned: latest 4.x on Maven Central when this script was written.
readonly KAFKA_VERSION_PINNED="4.4.0"
KAFKA_VERSION="${CCMON_KAFKA_VERSION:-$KAFKA_VERSION_PINNED}"
readonly SCALA_BINARY_VERSION="2.13"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly POM="$SCRIPT_DIR/pom.xml"
readonly LOG4J2_CONFIG="$SCRIPT_DIR/log4j2.properties"

CACHE_DIR="${CCMON_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccmon/kafka-$KAFKA_VERSION}"
DATA_DIR="${CCMON_KAFKA_DATA_DIR:-${TMPDIR:-/tmp}/ccmon-kafka}"
HOST="127.0.0.1"
PORT="9092"
CONTROLLER_PORT=""          # default: PORT + 1
PARTITIONS="1"
START_TIMEOUT="90"          # seconds
STOP_TIMEOUT="30"           # seconds
FRESH="false"
readonly MAIN_CLASS="kafka.Kafka"
readonly STORAGE_TOOL_CLASS="kafka.tools.StorageTool"   # in kafka_2.13 (core) for 4.x
readonly COMPLETE_MARKER=".ccmon-fetch-complete"

die() { echo "apache-kafka.sh: error: $*" >&2; exit 1; }
log() { echo "apache-kafka.sh: $*" >&2; }

usage() {
  cat <<USAGE
Usage: $(basename "$0") <command> [options]

Commands:
  fetch    Download Kafka $KAFKA_VERSION jars into the cache (skipped when already present).
  start    Fetch if needed, write server.properties, format storage, start the broker in the
           background and wait until it accepts clients. Prints the bootstrap address.
  stop     Stop the broker started from --data-dir (SIGTERM, then SIGKILL after a timeout).
  status   Exit 0 and print the pid when the broker from --data-dir is running.
  help     Show this text.

Options (start/stop/status):
  --port P             PLAINTEXT listener port (default $PORT)
  --controller-port C  KRaft controller port (default: port + 1)
  --host H             Listener/advertised host (default $HOST)
  --data-dir D         Config, KRaft log dirs, pid file and logs (default $DATA_DIR)
  --partitions N       num.partitions for auto-created topics (default $PARTITIONS)
  --timeout S          Seconds to wait for start/stop (default start $START_TIMEOUT, stop $STOP_TIMEOUT)
  --fresh              Delete the broker's previous KRaft log dirs in --data-dir before start

Environment:
  CCMON_KAFKA_VERSION   Kafka version (default $KAFKA_VERSION_PINNED)
  CCMON_KAFKA_CACHE     Jar cache dir (default ~/.cache/ccmon/kafka-\$VERSION)
  CCMON_KAFKA_DATA_DIR  Default for --data-dir
  CCMON_KAFKA_MAVEN_REPO  Maven local repository for fetch (default ~/.m2/repository)
  KAFKA_HEAP_OPTS       JVM heap flags (default -Xms256m -Xmx1g)
  JAVA                  java executable (default: java on PATH)
USAGE
}

parse_options() {
  while (($#)); do
    case "$1" in
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --controller-port) CONTROLLER_PORT="${2:?--controller-port needs a value}"; shift 2 ;;
      --host) HOST="${2:?--host needs a value}"; shift 2 ;;
      --data-dir) DATA_DIR="${2:?--data-dir needs a value}"; shift 2 ;;
      --partitions) PARTITIONS="${2:?--partitions needs a value}"; shift 2 ;;
      --timeout) START_TIMEOUT="${2:?--timeout needs a value}"; STOP_TIMEOUT="$2"; shift 2 ;;
      --fresh) FRESH="true"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' (see '$(basename "$0") help')" ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT'"
  CONTROLLER_PORT="${CONTROLLER_PORT:-$((PORT + 1))}"
  [[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "--controller-port must be a number"
  [[ "$PARTITIONS" =~ ^[1-9][0-9]*$ ]] || die "--partitions must be a positive number"
  [[ "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number"
  mkdir -p "$DATA_DIR"
  DATA_DIR="$(cd "$DATA_DIR" && pwd)"
  PID_FILE="$DATA_DIR/kafka.pid"
  LOG_DIR="$DATA_DIR/logs"
  KRAFT_DIR="$DATA_DIR/kraft-logs"
  PROPS="$DATA_DIR/server.properties"
}

java_bin() {
  local java="${JAVA:-java}"
  command -v "$java" >/dev/null 2>&1 || die "java not found (install JDK 17+ or set JAVA=...)"
  echo "$java"
}

cmd_fetch() {
  if [[ -f "$CACHE_DIR/$COMPLETE_MARKER" ]]; then
    log "Kafka $KAFKA_VERSION already in $CACHE_DIR ($(du -sh "$CACHE_DIR" | cut -f1)); skipping download"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found; install Maven 3.6+ to fetch the Kafka jars"
  local tmp start end mvn_log
  local -a mvn_args=(--batch-mode --no-transfer-progress -f "$POM")
  [[ -n "${CCMON_KAFKA_MAVEN_REPO:-}" ]] && mvn_args+=("-Dmaven.repo.local=$CCMON_KAFKA_MAVEN_REPO")
  mkdir -p "$(dirname "$CACHE_DIR")"
  tmp="$(mktemp -d "$CACHE_DIR.tmp.XXXXXX")"
  mvn_log="$tmp.mvn.log"
  log "fetching Kafka $KAFKA_VERSION (Scala $SCALA_BINARY_VERSION) jars from Maven Central..."
  start=$(date +%s)
  if ! mvn "${mvn_args[@]}" dependency:copy-dependencies \
      -Dkafka.version="$KAFKA_VERSION" -Dscala.binary.version="$SCALA_BINARY_VERSION" \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$tmp" "$mvn_log"
    die "mvn dependency:copy-dependencies failed for Kafka $KAFKA_VERSION (output above)"
  fi
  end=$(date +%s)
  rm -f "$mvn_log"
  [[ -f "$tmp/kafka_${SCALA_BINARY_VERSION}-$KAFKA_VERSION.jar" ]] \
    || { rm -rf "$tmp"; die "fetched jars lack kafka_${SCALA_BINARY_VERSION}-$KAFKA_VERSION.jar"; }
  echo "$KAFKA_VERSION" >"$tmp/$COMPLETE_MARKER"
  rm -rf "$CACHE_DIR"
  mv "$tmp" "$CACHE_DIR"
  log "fetched $(find "$CACHE_DIR" -name '*.jar' | wc -l) jars," \
      "$(du -sh "$CACHE_DIR" | cut -f1) in $((end - start))s into $CACHE_DIR"
}

# Prints the pid from the pid file if that process is alive and is our Kafka broker.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be a JVM running our server.properties.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$MAIN_CLASS $PROPS" || return 1
  echo "$pid"
}

port_open() {
  # bash's /dev/tcp; the subshell closes the fd again.
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

write_properties() {
  cat >"$PROPS" <<PROPS
# Generated by scripts/kafka/apache-kafka.sh -- single-node KRaft (broker + controller).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KRAFT_DIR
num.partitions=$PARTITIONS
auto.create.topics.enable=true
delete.topic.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
}

cmd_start() {
  local pid java cluster_id deadline started
  if pid="$(running_pid)"; then
    die "a broker from $DATA_DIR is already running (pid $pid); run 'stop' first"
  fi
  rm -f "$PID_FILE"
  port_open "$HOST" "$PORT" && die "port $HOST:$PORT is already in use"
  port_open "$HOST" "$CONTROLLER_PORT" && die "controller port $HOST:$CONTROLLER_PORT is already in use"
  [[ -f "$LOG4J2_CONFIG" ]] || die "missing $LOG4J2_CONFIG"
  cmd_fetch
  java="$(java_bin)"

  if [[ "$FRESH" == "true" ]]; then
    rm -rf "$KRAFT_DIR"
  fi
  mkdir -p "$LOG_DIR" "$KRAFT_DIR"
  write_properties

  if [[ ! -f "$KRAFT_DIR/meta.properties" ]]; then
    cluster_id="$("$java" -cp "$CACHE_DIR/*" "$STORAGE_TOOL_CLASS" random-uuid 2>>"$LOG_DIR/storage-tool.log")" \
      || die "StorageTool random-uuid failed; see $LOG_DIR/storage-tool.log"
    # --standalone: this node is the single voter of a dynamic KRaft quorum.
    "$java" -Dlog4j2.configurationFile="$LOG4J2_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$CACHE_DIR/*" "$STORAGE_TOOL_CLASS" format --config "$PROPS" \
      --cluster-id "$cluster_id" --standalone >>"$LOG_DIR/storage-tool.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/storage-tool.log" >&2; die "formatting $KRAFT_DIR failed"; }
    log "formatted $KRAFT_DIR (cluster id $cluster_id)"
  else
    log "reusing formatted $KRAFT_DIR (pass --fresh to start empty)"
  fi

  : >"$LOG_DIR/server.log"
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is a list of JVM flags.
  setsid "$java" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J2_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$CACHE_DIR/*" "$MAIN_CLASS" "$PROPS" \
    >"$LOG_DIR/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "started Kafka $KAFKA_VERSION (pid $pid), waiting up to ${START_TIMEOUT}s for $HOST:$PORT"

  started=$SECONDS
  deadline=$((started + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      tail -n 30 "$LOG_DIR/server.log" "$LOG_DIR/stdout.log" >&2 || true
      die "Kafka exited during startup; logs in $LOG_DIR"
    fi
    # The socket may accept before the broker is unfenced; the log line marks real readiness.
    if port_open "$HOST" "$PORT" && grep -q "Kafka Server started" "$LOG_DIR/server.log"; then
      break
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_DIR/server.log" "$LOG_DIR/stdout.log" >&2 || true
      cmd_stop || true
      die "Kafka did not become ready on $HOST:$PORT within ${START_TIMEOUT}s; logs in $LOG_DIR"
    fi
    sleep 0.2
  done
  log "Kafka ready after ~$((SECONDS - started))s; log: $LOG_DIR/server.log"
  echo "$HOST:$PORT"
}

cmd_stop() {
  local pid deadline
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "no running broker for $DATA_DIR"
    return 0
  fi
  kill -TERM "$pid"
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "broker (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  log "stopped broker (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running pid=$pid data-dir=$DATA_DIR"
  else
    echo "not running (data-dir=$DATA_DIR)"
    return 1
  fi
}

main() {
  local cmd="${1:-help}"
  (($#)) && shift
  case "$cmd" in
    fetch) (($# == 0)) || die "fetch takes no options"; cmd_fetch ;;
    start) parse_options "$@"; cmd_start ;;
    stop) parse_options "$@"; cmd_stop ;;
    status) parse_options "$@"; cmd_status ;;
    help|-h|--help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
