#!/usr/bin/env bash
# Runs the reverse proxy as three separate JVMs on this machine and sends it the sample packets:
#
#   proxy     cluster seed + client TCP endpoint   127.0.0.1:PORT, cluster port CLUSTER_PORT
#   worker A  workers 100 (policy 111) and 200 (policy 222)
#   worker B  workers 300 (policy 111) and 400 (policy 222)
#   client    waits until each policy is served by both worker nodes, sends packets/*.json,
#             checks every reply hash and the round robin spread
#
# With --proxies N there are N proxy nodes, proxy k (k = 1..N) on PORT+k-1, cluster port
# CLUSTER_PORT+k-1 and management port MANAGEMENT_PORT+k-1; every node lists all of them as
# seeds, the client is given all of them (client --proxy, failing over in order), and a second
# client run goes through proxy 2 alone, to show it serves as well as the first.
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
PROXIES=1
TLS=0
JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/demo-logs
CERTS=target/demo-certs
# Three cluster JVMs plus the client share the machine: keep them small.
# shellcheck disable=SC2206  # DEMO_JAVA_OPTS is a space-separated list on purpose
JAVA_OPTS=(${DEMO_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC})

usage() {
  cat <<EOF
Usage: ./run-demo.sh [--port N] [--cluster-port N] [--management-port N] [--proxies N] [--tls]

Starts the proxy and two worker nodes as separate JVMs on 127.0.0.1, then runs the client
over packets/ and reports each reply. Builds $JAR first if it is missing or out of date.

  --port N          TCP port of the proxy for clients (default 2100)
  --cluster-port N  Akka cluster (Artery) port of the proxy, the seed node (default 2551)
  --management-port N
                    management HTTP endpoint of the proxy (/ready, /metrics; default 8558)
  --proxies N       run N proxy nodes (1-$MAX_PROXIES, default 1), each a seed of the cluster:
                    proxy k on the three ports above plus k-1; the client gets them all
                    (--proxy), and a second client run goes through proxy 2 alone
  --tls             TLS on every hop: mutual TLS between the nodes, TLS with client
                    certificates for the client; certificates in $CERTS/ (made if missing)
  -h, --help        show this help

Logs: $LOG_DIR/{proxy,worker-a,worker-b,client}.log (proxy k > 1: proxy-k.log, client-k.log)
Environment: DEMO_JAVA_OPTS overrides the JVM options (default: ${JAVA_OPTS[*]}).
EOF
}

MAX_PROXIES=9

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
    --proxies) (($# >= 2)) || die "--proxies needs a value"; PROXIES=$2; shift 2 ;;
    --proxies=*) PROXIES=${1#*=}; shift ;;
    --tls) TLS=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo >&2; die "unknown argument '$1'" ;;
  esac
done
if [[ ! $PROXIES =~ ^[0-9]+$ ]] || ((10#$PROXIES < 1 || 10#$PROXIES > MAX_PROXIES)); then
  die "--proxies needs a number of proxies (1-$MAX_PROXIES), got '$PROXIES'"
fi
PROXIES=$((10#$PROXIES))
((PORT != CLUSTER_PORT)) || die "--port and --cluster-port must differ (both are $PORT)"
((MANAGEMENT_PORT != PORT && MANAGEMENT_PORT != CLUSTER_PORT)) ||
  die "--management-port must differ from --port and --cluster-port (it is $MANAGEMENT_PORT)"
# Proxy k (0-based here) uses each base port plus k: the three ranges must fit and not overlap.
for base in "$PORT" "$CLUSTER_PORT" "$MANAGEMENT_PORT"; do
  ((base + PROXIES - 1 <= 65535)) || die "$PROXIES proxies need the ports $base to $((base + PROXIES - 1)), past 65535"
done
for a in "$PORT" "$CLUSTER_PORT" "$MANAGEMENT_PORT"; do
  for b in "$PORT" "$CLUSTER_PORT" "$MANAGEMENT_PORT"; do
    if ((a < b && b - a < PROXIES)); then
      die "with --proxies $PROXIES the ports from $a and from $b overlap: choose base ports at least $PROXIES apart"
    fi
  done
done
PROXY_PORTS=()      # client port of proxy k
PROXY_CLUSTER=()    # cluster port
PROXY_MANAGEMENT=() # management port
for ((k = 0; k < PROXIES; k++)); do
  PROXY_PORTS+=($((PORT + k)))
  PROXY_CLUSTER+=($((CLUSTER_PORT + k)))
  PROXY_MANAGEMENT+=($((MANAGEMENT_PORT + k)))
done

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

for ((k = 0; k < PROXIES; k++)); do
  if lib_port_in_use "${PROXY_PORTS[k]}"; then
    die "port ${PROXY_PORTS[k]} on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --port N"
  fi
  if lib_port_in_use "${PROXY_CLUSTER[k]}"; then
    die "cluster port ${PROXY_CLUSTER[k]} on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --cluster-port N"
  fi
  if lib_port_in_use "${PROXY_MANAGEMENT[k]}"; then
    die "management port ${PROXY_MANAGEMENT[k]} on 127.0.0.1 is already in use (a proxy or demo still running?): stop that program or choose another port with --management-port N"
  fi
done

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
SEEDS=()         # --seed of every node: all the proxies, in order
CLIENT_PROXIES=() # --proxy of the client: all the proxies, in order
for ((k = 0; k < PROXIES; k++)); do
  SEEDS+=(--seed "127.0.0.1:${PROXY_CLUSTER[k]}")
  CLIENT_PROXIES+=(--proxy "127.0.0.1:${PROXY_PORTS[k]}")
done

if ((PROXIES == 1)); then
  echo "Akka reverse proxy demo: proxy on 127.0.0.1:$PORT (cluster seed 127.0.0.1:$CLUSTER_PORT), 2 worker nodes"
else
  echo "Akka reverse proxy demo: $PROXIES proxies, 2 worker nodes; every node lists all the proxies as seeds"
  for ((k = 0; k < PROXIES; k++)); do
    echo "  proxy $((k + 1)): clients 127.0.0.1:${PROXY_PORTS[k]}, cluster port ${PROXY_CLUSTER[k]}, management port ${PROXY_MANAGEMENT[k]}"
  done
fi
echo "  worker A: workers 100 (policy 111), 200 (policy 222); worker B: 300 (111), 400 (222)"
if ((TLS)); then
  echo "  with TLS on every hop: mutual TLS between the nodes, TLS with client certificates"
  echo "  between the client and the proxy (certificates in $CERTS/)"
fi
echo "Starting JVMs (${JAVA_OPTS[*]}):"
for ((k = 0; k < PROXIES; k++)); do
  name=proxy
  ((k == 0)) || name=proxy-$((k + 1))
  start_node "$name" "$LOG_DIR/$name.log" \
    proxy --host 127.0.0.1 --port "${PROXY_PORTS[k]}" --cluster-port "${PROXY_CLUSTER[k]}" "${SEEDS[@]}" \
    --management-port "${PROXY_MANAGEMENT[k]}" \
    ${NODE_TLS[@]+"${NODE_TLS[@]}"} ${PROXY_TLS[@]+"${PROXY_TLS[@]}"}
done
start_node worker-a "$LOG_DIR/worker-a.log" \
  worker --worker 100:111 --worker 200:222 "${SEEDS[@]}" --cluster-port 0 \
  ${NODE_TLS[@]+"${NODE_TLS[@]}"}
start_node worker-b "$LOG_DIR/worker-b.log" \
  worker --worker 300:111 --worker 400:222 "${SEEDS[@]}" --cluster-port 0 \
  ${NODE_TLS[@]+"${NODE_TLS[@]}"}

run_client() { # log client-options... -> the client's exit status; output to the terminal and log
  local log=$1 deadline client_pid tee_pid client_status=0 i node_status
  shift
  mkfifo "$FIFO"
  tee "$log" <"$FIFO" &
  tee_pid=$!
  lib_track "$tee_pid"
  lib_start "$FIFO" java "${JAVA_OPTS[@]}" -jar "$JAR" client "$@" \
    ${CLIENT_TLS[@]+"${CLIENT_TLS[@]}"} --expect-workers 111=2,222=2 --wait 60s packets/
  client_pid=$LIB_PID
  # The client ends by itself (60 s readiness wait + 30 s reply timeout); the deadline is a backstop.
  deadline=$((SECONDS + 150))
  while kill -0 "$client_pid" 2>/dev/null; do
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
  wait "$client_pid" || client_status=$?
  wait "$tee_pid" || true
  rm -f "$FIFO"
  return "$client_status"
}

# The client is the readiness check: it probes with real requests until policies 111 and 222
# are each served by 2 workers (up to 60 s), then sends the packets (replies within 30 s).
# Its output goes to the terminal and to client.log; meanwhile the nodes are watched.
if ((PROXIES == 1)); then
  echo "Running the client over packets/ (output also in $CLIENT_LOG):"
  CLIENT_TARGET=(--host 127.0.0.1 --port "$PORT")
else
  echo "Running the client over packets/ with every proxy (--proxy, failing over in order; output also in $CLIENT_LOG):"
  CLIENT_TARGET=("${CLIENT_PROXIES[@]}")
fi
echo
client_status=0
run_client "$CLIENT_LOG" "${CLIENT_TARGET[@]}" || client_status=$?
echo
if ((client_status != 0)); then
  fail "the client exited with status $client_status (its report is above and in $CLIENT_LOG)"
fi

if ((PROXIES > 1)); then
  SECOND_LOG=$LOG_DIR/client-2.log
  echo "Running the client again through proxy 2 alone, 127.0.0.1:${PROXY_PORTS[1]} (output also in $SECOND_LOG):"
  echo
  run_client "$SECOND_LOG" --proxy "127.0.0.1:${PROXY_PORTS[1]}" || client_status=$?
  echo
  if ((client_status != 0)); then
    fail "the client through proxy 2 exited with status $client_status (its report is above and in $SECOND_LOG)"
  fi
fi
echo "Demo OK: every reply verified$( ((PROXIES > 1)) && echo ", also through proxy 2 alone")$( ((TLS)) && echo ", over TLS on every hop"). Logs in $LOG_DIR/"
