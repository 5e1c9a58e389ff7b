#!/usr/bin/env bash
# Run a single-node Apache Kafka 4.x broker (KRaft, broker+controller) without Docker.
#
# The broker jars come from Maven Central via `mvn dependency:copy-dependencies` on the small
# pom.xml next to this script, cached in ~/.cache/ccmon/kafka-$KAFKA_VERSION.
#
#   scripts/kafka/apache-kafka.sh fetch
#   scripts/kafka/apache-kafka.sh start [--port 9092] [--data-dir DIR] [--partitions N] [--fresh]
#       [--sasl-ssl-port 9094 [--sasl-user ccmon] [--sasl-password PW]] [--ssl-port 9095]
#       [--tls-dir DIR]
#   CCMON_TEST_KAFKA_BOOTSTRAP=127.0.0.1:9092 pytest -m integration
#   scripts/kafka/apache-kafka.sh stop [--data-dir DIR]
#
# Run with `help` for every option. Needs: java 17+, mvn (only for fetch), openssl (only for
# --sasl-ssl-port or --ssl-port without ready certificates).
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
SASL_SSL_PORT=""            # off unless given
SSL_PORT=""                 # off unless given
SASL_USER="ccmon"
SASL_PASSWORD="ccmon-test-password"
TLS_DIR=""                  # default: DATA_DIR/tls
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
  --sasl-ssl-port S    Also listen on S with SASL_SSL (SCRAM-SHA-256/512 and PLAIN; off by default)
  --sasl-user U        SASL user created at storage format time (default $SASL_USER)
  --sasl-password P    Its password (default $SASL_PASSWORD)
  --ssl-port S         Also listen on S with SSL requiring a client certificate the CA signed
  --tls-dir T          ca.pem and server.pem (PKCS#8 key + certificate chain) of the TLS
                       listeners, client.pem and client.key for --ssl-port; made with
                       openssl when absent (default: DATA_DIR/tls)

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
      --sasl-ssl-port) SASL_SSL_PORT="${2:?--sasl-ssl-port needs a value}"; shift 2 ;;
      --ssl-port) SSL_PORT="${2:?--ssl-port needs a value}"; shift 2 ;;
      --sasl-user) SASL_USER="${2:?--sasl-user needs a value}"; shift 2 ;;
      --sasl-password) SASL_PASSWORD="${2:?--sasl-password needs a value}"; shift 2 ;;
      --tls-dir) TLS_DIR="${2:?--tls-dir needs a value}"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' (see '$(basename "$0") help')" ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT'"
  CONTROLLER_PORT="${CONTROLLER_PORT:-$((PORT + 1))}"
  [[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "--controller-port must be a number"
  [[ "$PARTITIONS" =~ ^[1-9][0-9]*$ ]] || die "--partitions must be a positive number"
  [[ "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number"
  [[ -z "$SASL_SSL_PORT" || "$SASL_SSL_PORT" =~ ^[0-9]+$ ]] || die "--sasl-ssl-port must be a number"
  [[ -z "$SSL_PORT" || "$SSL_PORT" =~ ^[0-9]+$ ]] || die "--ssl-port must be a number"
  [[ "$SASL_USER$SASL_PASSWORD" != *[\"\'\ \],=]* ]] \
    || die "--sasl-user and --sasl-password may not hold quotes, spaces, commas, '=' or ']'"
  mkdir -p "$DATA_DIR"
  DATA_DIR="$(cd "$DATA_DIR" && pwd)"
  PID_FILE="$DATA_DIR/kafka.pid"
  LOG_DIR="$DATA_DIR/logs"
  KRAFT_DIR="$DATA_DIR/kraft-logs"
  PROPS="$DATA_DIR/server.properties"
  TLS_DIR="${TLS_DIR:-$DATA_DIR/tls}"
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

# A test CA, a server certificate for HOST (also 127.0.0.1 and localhost) and a client
# certificate, valid two days from now, unless TLS_DIR already holds ca.pem and server.pem.
make_certificates() {
  [[ -f "$TLS_DIR/ca.pem" && -f "$TLS_DIR/server.pem" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found; needed to make the SASL_SSL certificates"
  mkdir -p "$TLS_DIR"
  local san="DNS:localhost,IP:127.0.0.1"
  if [[ "$HOST" =~ ^[0-9.]+$ ]]; then san="$san,IP:$HOST"; else san="$san,DNS:$HOST"; fi
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ccmon test CA" \
      -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout server.key -out server.csr
    printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
      "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.crt
    cat server.key server.crt >server.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=ccmon-client" -keyout client.key -out client.csr
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=clientAuth" "authorityKeyIdentifier=keyid" >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile client.ext -out client.pem
    rm -f server.csr server.ext client.csr client.ext ca.srl
  ) >>"$LOG_DIR/openssl.log" 2>&1 || die "making certificates in $TLS_DIR failed; see $LOG_DIR/openssl.log"
  log "made a test CA, a server certificate for $HOST and a client certificate in $TLS_DIR"
}

write_properties() {
  local listeners="PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"
  local advertised="PLAINTEXT://$HOST:$PORT"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners="$listeners,SASL_SSL://$HOST:$SASL_SSL_PORT"
    advertised="$advertised,SASL_SSL://$HOST:$SASL_SSL_PORT"
    protocols="$protocols,SASL_SSL:SASL_SSL"
  fi
  if [[ -n "$SSL_PORT" ]]; then
    listeners="$listeners,SSL://$HOST:$SSL_PORT"
    advertised="$advertised,SSL://$HOST:$SSL_PORT"
    protocols="$protocols,SSL:SSL"
  fi
  cat >"$PROPS" <<PROPS
# Generated by scripts/kafka/apache-kafka.sh -- single-node KRaft (broker + controller).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
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
  if [[ -n "$SASL_SSL_PORT" ]]; then
    # SCRAM users live in the KRaft metadata (created at format time); PLAIN's in the JAAS line.
    cat >>"$PROPS" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/server.pem
PROPS
  fi
  if [[ -n "$SSL_PORT" ]]; then
    # Mutual TLS: a client must show a certificate the CA in ca.pem signed.
    cat >>"$PROPS" <<PROPS
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$TLS_DIR/server.pem
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$TLS_DIR/ca.pem
listener.name.ssl.ssl.client.auth=required
PROPS
  fi
}

cmd_start() {
  local pid java cluster_id deadline started
  if pid="$(running_pid)"; then
    die "a broker from $DATA_DIR is already running (pid $pid); run 'stop' first"
  fi
  rm -f "$PID_FILE"
  port_open "$HOST" "$PORT" && die "port $HOST:$PORT is already in use"
  port_open "$HOST" "$CONTROLLER_PORT" && die "controller port $HOST:$CONTROLLER_PORT is already in use"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    port_open "$HOST" "$SASL_SSL_PORT" && die "SASL_SSL port $HOST:$SASL_SSL_PORT is already in use"
  fi
  if [[ -n "$SSL_PORT" ]]; then
    port_open "$HOST" "$SSL_PORT" && die "SSL port $HOST:$SSL_PORT is already in use"
  fi
  [[ -f "$LOG4J2_CONFIG" ]] || die "missing $LOG4J2_CONFIG"
  cmd_fetch
  java="$(java_bin)"

  if [[ "$FRESH" == "true" ]]; then
    rm -rf "$KRAFT_DIR"
    # Certificates made here start afresh too (given ones are the caller's).
    [[ "$TLS_DIR" == "$DATA_DIR/tls" ]] && rm -rf "$TLS_DIR"
  fi
  mkdir -p "$LOG_DIR" "$KRAFT_DIR"
  local -a scram=()
  [[ -n "$SASL_SSL_PORT$SSL_PORT" ]] && make_certificates
  if [[ -n "$SASL_SSL_PORT" ]]; then
    scram=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]"
           --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]")
  fi
  write_properties

  if [[ ! -f "$KRAFT_DIR/meta.properties" ]]; then
    cluster_id="$("$java" -cp "$CACHE_DIR/*" "$STORAGE_TOOL_CLASS" random-uuid 2>>"$LOG_DIR/storage-tool.log")" \
      || die "StorageTool random-uuid failed; see $LOG_DIR/storage-tool.log"
    # --standalone: this node is the single voter of a dynamic KRaft quorum.
    "$java" -Dlog4j2.configurationFile="$LOG4J2_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$CACHE_DIR/*" "$STORAGE_TOOL_CLASS" format --config "$PROPS" \
      --cluster-id "$cluster_id" --standalone "${scram[@]}" >>"$LOG_DIR/storage-tool.log" 2>&1 \
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
  if [[ -n "$SASL_SSL_PORT" ]]; then
    log "SASL_SSL on $HOST:$SASL_SSL_PORT (user $SASL_USER; SCRAM-SHA-256/512, PLAIN); CA $TLS_DIR/ca.pem"
  fi
  if [[ -n "$SSL_PORT" ]]; then
    log "SSL with client certificates on $HOST:$SSL_PORT; CA and client certificate in $TLS_DIR"
  fi
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
