#!/usr/bin/env bash
# Runs the reverse proxy as three separate JVMs on this machine and sends it the sample packets:
#
#   proxy     cluster seed + client TCP endpoint   127.0.0.1:PORT, cluster port CLUSTER_PORT
#   worker A  workers 100 (policy 111) and 200 (policy 222)
#   worker B  workers 300 (policy 111) and 400 (policy 222)
#   client    waits until each policy is served by both worker nodes, sends packets/*.json,
#             checks every reply hash and the round robin spread
#
# With --tls every hop is TLS: mutual TLS between the three nodes (--cluster-tls), and TLS with
# client certificates between the client and the proxy (--client-tls, --require-client-auth,
# client --tls), with certificates made by scripts/make-certs.sh in target/demo-certs/.
#
# Logs go to target/demo-logs/. Exit status 0 only if the client verified everything.
# Every JVM started here is stopped on exit, including on Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PORT=2100
CLUSTER_PORT=2551
MANAGEMENT_PORT=8558
TLS=0
JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/demo-logs
CERTS=target/demo-certs
# Three cluster JVMs plus the client share the machine: keep them small.
# shellcheck disable=SC2206  # DEMO_JAVA_OPTS is a space-separated list on purpose
JAVA_OPTS=(${DEMO_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC})

usage() {
  cat <<EOF
Usage: ./run-demo.sh [--port N] [--cluster-port N] [--management-port N] [--tls]

Starts the proxy and two worker nodes as separate JVMs on 127.0.0.1, then runs the client
over packets/ and reports each reply. Builds $JAR first if it is missing or out of date.

  --port N          TCP port of the proxy for clients (default 2100)
  --cluster-port N  Akka cluster (Artery) port of the proxy, the seed node (default 2551)
  --management-port N
                    management HTTP endpoint of the proxy (/ready, /metrics; default 8558)
  --tls             TLS on every hop: mutual TLS between the nodes, TLS with client
                    certificates for the client; certificates in $CERTS/ (made if missing)
  -h, --help        show this help

Logs: $LOG_DIR/{proxy,worker-a,worker-b,client}.log
Environment: DEMO_JAVA_OPTS overrides the JVM options (default: ${JAVA_OPTS[*]}).
EOF
}

port_number() { # option value -> the value as a port number, or die
  if [[ ! $2 =~ ^[0-9]{1,5}$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
    die "$1 needs a port number (1-65535), got '$2'"
  fi
  echo $((10#$2))
}

while (($# > 0)); do
  case $1 in
    --port) (($# >= 2)) || die "--port needs a value"; PORT=$(port_number --port "$2"); shift 2 ;;
    --port=*) PORT=$(port_number --port "${1#*=}"); shift ;;
    --cluster-port) (($# >= 2)) || die "--cluster-port needs a value"; CLUSTER_PORT=$(port_number --cluster-port "$2"); shift 2 ;;
    --cluster-port=*) CLUSTER_PORT=$(port_number --cluster-port "${1#*=}"); shift ;;
    --management-port) (($# >= 2)) || die "--management-port needs a value"; MANAGEMENT_PORT=$(port_number --management-port "$2"); shift 2 ;;
    --management-port=*) MANAGEMENT_PORT=$(port_number --management-port "${1#*=}"); shift ;;
    --tls) TLS=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo >&2; die "unknown argument '$1'" ;;
  esac
done
((PORT != CLUSTER_PORT)) || die "--port and --cluster-port must differ (both are $PORT)"
((MANAGEMENT_PORT != PORT && MANAGEMENT_PORT != CLUSTER_PORT)) ||
  die "--management-port must differ from --port and --cluster-port (it is $MANAGEMENT_PORT)"

# --- Prerequisites and build ------------------------------------------------------------------

command -v java >/dev/null || die "java not found: install a Java 17 JDK (e.g. apt-get install openjdk-17-jdk-headless)"
java_version=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [[ -n $java_version ]] && ((java_version < 17)); then
  die "Java 17 or newer is needed, but 'java' is version $java_version ($(command -v java))"
fi

lib_build_jar "$JAR"

# --- TLS --------------------------------------------------------------------------------------

NODE_TLS=()   # options of the three cluster nodes
PROXY_TLS=()  # options of the proxy's client port
CLIENT_TLS=() # options of the client
if ((TLS)); then
  if [[ ! -f $CERTS/node.p12 || ! -f $CERTS/truststore.p12 || ! -f $CERTS/password ]]; then
    echo "Making TLS certificates in $CERTS/ (scripts/make-certs.sh) ..."
    scripts/make-certs.sh "$CERTS" --force >/dev/null || die "scripts/make-certs.sh failed"
  fi
  NODE_TLS=(--cluster-tls "$CERTS")
  PROXY_TLS=(--client-tls "$CERTS" --require-client-auth)
  CLIENT_TLS=(--tls "$CERTS")
fi

# --- Ports ------------------------------------------------------------------------------------

if lib_port_in_use "$PORT"; then
  die "port $PORT on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --port N"
fi
if lib_port_in_use "$CLUSTER_PORT"; then
  die "cluster port $CLUSTER_PORT on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --cluster-port N"
fi
if lib_port_in_use "$MANAGEMENT_PORT"; then
  die "management port $MANAGEMENT_PORT on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --management-port N"
fi

# --- Processes and cleanup --------------------------------------------------------------------

NAMES=() # the cluster nodes: name, PID and log, same index
NODE_PIDS=()
LOGS=()
CLIENT_LOG=$LOG_DIR/client.log
FIFO=$LOG_DIR/.client-output

stop_all() {
  trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
  local alive
  alive=$(lib_running ${LIB_PIDS[@]+"${LIB_PIDS[@]}"})
  if [[ -n $alive ]]; then
    echo "Stopping $(wc -w <<<"$alive") process(es): $alive"
    # Up to 10 s for a graceful shutdown; 20 s with --tls, where a node whose peers are still
    # up needs about 10 s more (see "Known limits" in README.md).
    # shellcheck disable=SC2086 # a list of PIDs
    lib_stop $((TLS ? 20 : 10)) $alive
  fi
  rm -f "$FIFO"
}

on_exit() {
  local status=$?
  stop_all
  echo "Wall time: ${SECONDS}s"
  exit "$status"
}
trap on_exit EXIT
trap 'echo; echo "Interrupted."; exit 130' INT
trap 'echo "Terminated."; exit 143' TERM

show_logs() {
  local log
  for log in "${LOGS[@]}"; do
    echo
    echo "----- last 20 lines of $log -----"
    tail -n 20 "$log" 2>/dev/null || true
  done
}

fail() {
  echo
  echo "Demo FAILED: $*"
  echo "Logs: ${LOGS[*]} $CLIENT_LOG"
  show_logs
  exit 1
}

start_node() { # name log args... (background JVM, stdout and stderr to its log)
  local name=$1 log=$2
  shift 2
  lib_start "$log" java "${JAVA_OPTS[@]}" -jar "$JAR" "$@"
  NAMES+=("$name")
  NODE_PIDS+=("$LIB_PID")
  LOGS+=("$log")
  printf '  %-9s pid %-7s log %s\n' "$name" "$LIB_PID" "$log"
}

# --- Demo -------------------------------------------------------------------------------------

rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
SEED=127.0.0.1:$CLUSTER_PORT

echo "Akka reverse proxy demo: proxy on 127.0.0.1:$PORT (cluster seed $SEED), 2 worker nodes"
echo "  worker A: workers 100 (policy 111), 200 (policy 222); worker B: 300 (111), 400 (222)"
if ((TLS)); then
  echo "  with TLS on every hop: mutual TLS between the nodes, TLS with client certificates"
  echo "  between the client and the proxy (certificates in $CERTS/)"
fi
echo "Starting JVMs (${JAVA_OPTS[*]}):"
start_node proxy "$LOG_DIR/proxy.log" \
  proxy --host 127.0.0.1 --port "$PORT" --cluster-port "$CLUSTER_PORT" --seed "$SEED" \
  --management-port "$MANAGEMENT_PORT" \
  ${NODE_TLS[@]+"${NODE_TLS[@]}"} ${PROXY_TLS[@]+"${PROXY_TLS[@]}"}
start_node worker-a "$LOG_DIR/worker-a.log" \
  worker --worker 100:111 --worker 200:222 --seed "$SEED" --cluster-port 0 \
  ${NODE_TLS[@]+"${NODE_TLS[@]}"}
start_node worker-b "$LOG_DIR/worker-b.log" \
  worker --worker 300:111 --worker 400:222 --seed "$SEED" --cluster-port 0 \
  ${NODE_TLS[@]+"${NODE_TLS[@]}"}

# The client is the readiness check: it probes with real requests until policies 111 and 222
# are each served by 2 workers (up to 60 s), then sends the packets (replies within 30 s).
# Its output goes to the terminal and to client.log; meanwhile the nodes are watched.
echo "Running the client over packets/ (output also in $CLIENT_LOG):"
echo
mkfifo "$FIFO"
tee "$CLIENT_LOG" <"$FIFO" &
TEE_PID=$!
lib_track "$TEE_PID"
lib_start "$FIFO" java "${JAVA_OPTS[@]}" -jar "$JAR" client --host 127.0.0.1 --port "$PORT" \
  ${CLIENT_TLS[@]+"${CLIENT_TLS[@]}"} --expect-workers 111=2,222=2 --wait 60s packets/
CLIENT_PID=$LIB_PID

# The client ends by itself (60 s readiness wait + 30 s reply timeout); the deadline is a backstop.
deadline=$((SECONDS + 150))
while kill -0 "$CLIENT_PID" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the client did not finish within 150 s"
  for i in "${!NODE_PIDS[@]}"; do
    if ! kill -0 "${NODE_PIDS[i]}" 2>/dev/null; then
      node_status=0
      wait "${NODE_PIDS[i]}" || node_status=$?
      fail "the ${NAMES[i]} JVM exited early with status $node_status (see ${LOGS[i]})"
    fi
  done
  # Pause in the background: the wait builtin, unlike a foreground sleep, lets the INT/TERM
  # traps run at once even when only this script is signalled.
  sleep 0.5 &
  wait $! || true
done
client_status=0
wait "$CLIENT_PID" || client_status=$?
wait "$TEE_PID" || true

echo
if ((client_status != 0)); then
  fail "the client exited with status $client_status (its report is above and in $CLIENT_LOG)"
fi
echo "Demo OK: every reply verified$( ((TLS)) && echo ", over TLS on every hop"). Logs in $LOG_DIR/"
