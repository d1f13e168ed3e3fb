#!/usr/bin/env bash
# Runs the proxy and two worker nodes on three hosts, as far as the network goes: three Linux
# network namespaces, each with its own IP on one bridge, and the client in this (the root)
# namespace, reaching the proxy through the bridge:
#
#   rp-proxy     10.77.0.10  proxy: clients 2100, cluster 2551, management 8558
#   rp-worker-a  10.77.0.11  workers 100 (policy 111), 200 (222); cluster 2552, management 8558
#   rp-worker-b  10.77.0.12  workers 300 (111), 400 (222); cluster 2552, management 8558
#   this host    10.77.0.1   bridge rpbr0; the client and `status` run here
#
# By default the workers join the proxy as their seed (--seed 10.77.0.10:2551); with --bootstrap
# no node has a seed: Cluster Bootstrap finds the three management endpoints through config
# discovery and forms the cluster. Then the client sends packets/ and checks every reply, and
# `status` shows the members and policies. Needs root. Everything it creates (namespaces, veths,
# bridge, JVMs) is removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

JAR=target/akka-reverse-proxy.jar
SUBNET=${HOSTS_SUBNET:-10.77.0} # the first three octets of a /24
BRIDGE=rpbr0
NAMESPACES=(rp-proxy rp-worker-a rp-worker-b)
HOST_IP=$SUBNET.1
PROXY_IP=$SUBNET.10
WORKER_A_IP=$SUBNET.11
WORKER_B_IP=$SUBNET.12
# Each namespace has its own ports: the defaults do not clash with anything on this host.
CLIENT_PORT=2100
PROXY_CLUSTER_PORT=2551
WORKER_CLUSTER_PORT=2552
MANAGEMENT_PORT=8558
# shellcheck disable=SC2206  # HOSTS_JAVA_OPTS is a space-separated list on purpose
JAVA_OPTS=(${HOSTS_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC})
BOOTSTRAP=0

usage() {
  cat <<EOF
Usage: scripts/hosts.sh [--bootstrap]

Runs the proxy and two worker nodes in three network namespaces (rp-proxy $PROXY_IP,
rp-worker-a $WORKER_A_IP, rp-worker-b $WORKER_B_IP, bridge $BRIDGE with $HOST_IP here), then
the client from this namespace against $PROXY_IP:$CLIENT_PORT, and status from $PROXY_IP:$MANAGEMENT_PORT.

  --bootstrap  form the cluster with Cluster Bootstrap and config discovery, no seed nodes
               (default: the workers use the proxy as their seed)
  -h, --help   show this help

Exit status: 0 every reply verified, all 3 nodes Up and everything removed again; 1 failed;
2 bad usage; 3 cannot run here (not root, no ip command, or network namespaces, veths or
bridges refused), said in one line.
Logs: target/hosts-logs/{static,bootstrap}/. Environment: HOSTS_SUBNET (default 10.77.0, a free
/24), HOSTS_JAVA_OPTS (default: ${JAVA_OPTS[*]}).
EOF
}

die() {
  echo "hosts.sh: $*" >&2
  exit 1
}

cannot_run_here() {
  echo "hosts.sh: cannot run here: $*" >&2
  exit 3
}

while (($# > 0)); do
  case $1 in
    --bootstrap) BOOTSTRAP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo >&2; echo "hosts.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ $SUBNET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "hosts.sh: HOSTS_SUBNET must be three octets like 10.77.0, got '$SUBNET'" >&2; exit 2; }
MODE=$( ((BOOTSTRAP)) && echo bootstrap || echo static)
LOG_DIR=target/hosts-logs/$MODE

# --- Prerequisites --------------------------------------------------------------------------

command -v ip >/dev/null || cannot_run_here "the ip command (iproute2) is missing"
((EUID == 0)) || cannot_run_here "network namespaces need root (running as uid $EUID)"
command -v java >/dev/null || die "java not found: install a Java 17 JDK"
command -v python3 >/dev/null || die "python3 not found (it reads the status JSON)"

if [[ ! -f $JAR || -n $(find src/main pom.xml application.conf packets -newer "$JAR" -print -quit 2>/dev/null) ]]; then
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8+ to build $JAR"
  echo "Building $JAR (mvn -B -q -Dmaven.test.skip=true package) ..."
  mvn -B -q -Dmaven.test.skip=true package || die "the build failed"
fi

# grep reads all of its input (no -q): an early exit would fail the pipe under pipefail.
netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -x -- "$1" >/dev/null; }

# Nothing of ours may exist yet (another run, or one killed with -9), and the subnet must be free.
for ns in "${NAMESPACES[@]}"; do
  if netns_exists "$ns"; then
    die "network namespace $ns already exists (another hosts.sh running, or left over: ip netns del $ns)"
  fi
done
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  die "interface $BRIDGE already exists (another hosts.sh running, or left over: ip link del $BRIDGE)"
fi
if [[ -n $(ip -4 -o addr show to "$SUBNET.0/24") || -n $(ip -4 route show root "$SUBNET.0/24") ||
  -n $(ip -4 route show match "$SUBNET.0/24" | grep -v '^default') ]]; then
  die "subnet $SUBNET.0/24 is already used on this host (ip addr / ip route): choose another with HOSTS_SUBNET=a.b.c"
fi

# --- Processes, network and cleanup ---------------------------------------------------------

NAMES=() # the cluster nodes: name, PID and log, same index
NODE_PIDS=()
LOGS=()
CLIENT_PID=
CREATED_NAMESPACES=()
CREATED_BRIDGE=0
STARTED=0 # set once the network setup begins: from then on the run ends with a verdict line

stop_processes() {
  local pid alive=() i still
  for pid in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"} $CLIENT_PID; do
    kill -0 "$pid" 2>/dev/null && alive+=("$pid")
  done
  ((${#alive[@]} > 0)) || return 0
  echo "Stopping ${#alive[@]} process(es): ${alive[*]}"
  kill -TERM "${alive[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do # up to 10 s for a graceful shutdown
    still=()
    for pid in "${alive[@]}"; do
      kill -0 "$pid" 2>/dev/null && still+=("$pid")
    done
    ((${#still[@]} == 0)) && break
    sleep 0.2
  done
  for pid in "${alive[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "Process $pid did not stop within 10 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait "${alive[@]}" 2>/dev/null || true
}

# Deleting a namespace deletes the veth inside it, and with it its peer on the bridge.
remove_network() { # status 0 if nothing of ours is left
  local ns left=()
  for ns in ${CREATED_NAMESPACES[@]+"${CREATED_NAMESPACES[@]}"}; do
    ip netns del "$ns" 2>/dev/null || true
  done
  if ((CREATED_BRIDGE)); then ip link del "$BRIDGE" 2>/dev/null || true; fi
  for ns in ${CREATED_NAMESPACES[@]+"${CREATED_NAMESPACES[@]}"}; do
    if netns_exists "$ns"; then left+=("namespace $ns"); fi
  done
  if ((CREATED_BRIDGE)) && ip link show "$BRIDGE" >/dev/null 2>&1; then left+=("bridge $BRIDGE"); fi
  if ((${#left[@]} > 0)); then
    echo "Cleanup FAILED: still there: ${left[*]}"
    return 1
  fi
  if ((${#CREATED_NAMESPACES[@]} > 0)); then
    echo "Removed namespaces ${CREATED_NAMESPACES[*]}$( ((CREATED_BRIDGE)) && echo " and bridge $BRIDGE")"
  fi
}

on_exit() {
  local status=$?
  trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
  stop_processes
  if ! remove_network && ((status == 0)); then
    status=1
  fi
  if ((STARTED && status != 3)); then
    if ((status == 0)); then
      echo "HOSTS ($MODE): OK in ${SECONDS}s"
    else
      echo "HOSTS ($MODE): FAILED (exit status $status) after ${SECONDS}s; logs in $LOG_DIR/"
    fi
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'echo; echo "Interrupted."; exit 130' INT
trap 'echo "Terminated."; exit 143' TERM

setup() { # command... : run it, or stop with "cannot run here" and its message
  local out
  out=$("$@" 2>&1) || cannot_run_here "'$*' failed: ${out:-no message}"
}

make_host() { # namespace ip
  local ns=$1 addr=$2
  setup ip netns add "$ns"
  CREATED_NAMESPACES+=("$ns")
  setup ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  setup ip link set "v-$ns" master "$BRIDGE" up
  setup ip -n "$ns" addr add "$addr/24" dev eth0
  setup ip -n "$ns" link set eth0 up
  setup ip -n "$ns" link set lo up
}

STARTED=1
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
setup ip link add "$BRIDGE" type bridge
CREATED_BRIDGE=1
setup ip addr add "$HOST_IP/24" dev "$BRIDGE"
setup ip link set "$BRIDGE" up
make_host rp-proxy "$PROXY_IP"
make_host rp-worker-a "$WORKER_A_IP"
make_host rp-worker-b "$WORKER_B_IP"
echo "Network: bridge $BRIDGE ($HOST_IP/24 on this host), namespaces ${NAMESPACES[*]}"
for ns in "${NAMESPACES[@]}"; do
  printf '  %-12s %s\n' "$ns" "$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}')"
done

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
  echo "hosts.sh FAILED: $*"
  show_logs
  exit 1
}

start_node() { # name namespace args... (a JVM in that namespace, output to its log)
  local name=$1 ns=$2 log=$LOG_DIR/$1.log
  shift 2
  # ip netns exec execs the command: $! is the JVM itself.
  ip netns exec "$ns" java "${JAVA_OPTS[@]}" -jar "$JAR" "$@" </dev/null >"$log" 2>&1 &
  NAMES+=("$name")
  NODE_PIDS+=("$!")
  LOGS+=("$log")
  printf '  %-9s in %-12s pid %-7s log %s\n' "$name" "$ns" "$!" "$log"
}

# --- The cluster ----------------------------------------------------------------------------

JOIN=(--seed "$PROXY_IP:$PROXY_CLUSTER_PORT") # how every node joins
if ((BOOTSTRAP)); then
  DISCOVERY=$LOG_DIR/bootstrap.conf
  cat >"$DISCOVERY" <<EOF
# Written by scripts/hosts.sh: config discovery of the three nodes' management endpoints, for
# Cluster Bootstrap (service name: the actor system's, akka-reverse-proxy).
akka.discovery.method = config
akka.discovery.config.services.akka-reverse-proxy.endpoints = [
  { host = "$PROXY_IP", port = $MANAGEMENT_PORT }
  { host = "$WORKER_A_IP", port = $MANAGEMENT_PORT }
  { host = "$WORKER_B_IP", port = $MANAGEMENT_PORT }
]
EOF
  JOIN=(--bootstrap --config "$DISCOVERY")
  echo "Cluster Bootstrap, no seed nodes; discovery ($DISCOVERY):"
  sed -n '/^akka/,$p' "$DISCOVERY" | sed 's/^/  /'
else
  echo "Static seeds: every node joins the proxy, $PROXY_IP:$PROXY_CLUSTER_PORT"
fi

# Every node is reached at its own IP: cluster, management and (the proxy) clients.
echo "Starting JVMs (${JAVA_OPTS[*]}):"
start_node proxy rp-proxy proxy --host "$PROXY_IP" --port "$CLIENT_PORT" \
  --cluster-host "$PROXY_IP" --cluster-port "$PROXY_CLUSTER_PORT" \
  --management-host "$PROXY_IP" --management-port "$MANAGEMENT_PORT" "${JOIN[@]}"
start_node worker-a rp-worker-a worker --worker 100:111 --worker 200:222 \
  --cluster-host "$WORKER_A_IP" --cluster-port "$WORKER_CLUSTER_PORT" \
  --management-host "$WORKER_A_IP" --management-port "$MANAGEMENT_PORT" "${JOIN[@]}"
start_node worker-b rp-worker-b worker --worker 300:111 --worker 400:222 \
  --cluster-host "$WORKER_B_IP" --cluster-port "$WORKER_CLUSTER_PORT" \
  --management-host "$WORKER_B_IP" --management-port "$MANAGEMENT_PORT" "${JOIN[@]}"

# --- The client, from this namespace through the bridge --------------------------------------

# It is the readiness check: it probes with real requests until policies 111 and 222 are each
# served by 2 workers (up to 60 s), then sends the packets and checks every reply (30 s).
CLIENT_LOG=$LOG_DIR/client.log
echo "Client: $PROXY_IP:$CLIENT_PORT from this namespace, packets/ (output in $CLIENT_LOG)"
java "${JAVA_OPTS[@]}" -jar "$JAR" client --host "$PROXY_IP" --port "$CLIENT_PORT" \
  --expect-workers 111=2,222=2 --wait 60s packets/ </dev/null >"$CLIENT_LOG" 2>&1 &
CLIENT_PID=$!
deadline=$((SECONDS + 120)) # a backstop: the client ends by itself within 60 s + 30 s
while kill -0 "$CLIENT_PID" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the client did not finish within 120 s"
  for i in "${!NODE_PIDS[@]}"; do
    if ! kill -0 "${NODE_PIDS[i]}" 2>/dev/null; then
      node_status=0
      wait "${NODE_PIDS[i]}" || node_status=$?
      fail "the ${NAMES[i]} JVM exited early with status $node_status (see ${LOGS[i]})"
    fi
  done
  sleep 0.5 & # in the background, so INT/TERM traps run at once
  wait $! || true
done
client_status=0
wait "$CLIENT_PID" || client_status=$?
CLIENT_PID=
echo
cat "$CLIENT_LOG"
echo
((client_status == 0)) || fail "the client exited with status $client_status (its report is above)"

# --- Status, from this namespace ---------------------------------------------------------------

echo "\$ java -jar $JAR status --management $PROXY_IP:$MANAGEMENT_PORT"
java "${JAVA_OPTS[@]}" -jar "$JAR" status --management "$PROXY_IP:$MANAGEMENT_PORT" ||
  fail "status could not read the proxy's management endpoint"
STATUS_JSON=$LOG_DIR/status.json
java "${JAVA_OPTS[@]}" -jar "$JAR" status --management "$PROXY_IP:$MANAGEMENT_PORT" --json >"$STATUS_JSON" ||
  fail "status --json could not read the proxy's management endpoint"
expected="$PROXY_IP:$PROXY_CLUSTER_PORT=proxy $WORKER_A_IP:$WORKER_CLUSTER_PORT=worker $WORKER_B_IP:$WORKER_CLUSTER_PORT=worker"
members=$(python3 - "$STATUS_JSON" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
unreachable = {entry["node"] for entry in status["members"].get("unreachable", [])}
up = sorted(
    member["node"].split("@", 1)[1] + "=" + ",".join(r for r in member["roles"] if not r.startswith("dc-"))
    for member in status["members"]["members"]
    if member["status"] == "Up" and member["node"] not in unreachable)
print(" ".join(up))
PY
) || fail "could not read $STATUS_JSON"
[[ $members == "$expected" ]] || fail "expected the members Up and reachable to be '$expected', got '$members'"

# --- Summary --------------------------------------------------------------------------------

echo
echo "==== hosts.sh summary ($MODE) ===="
echo "hosts    rp-proxy $PROXY_IP, rp-worker-a $WORKER_A_IP, rp-worker-b $WORKER_B_IP (bridge $BRIDGE; client and status at $HOST_IP)"
if ((BOOTSTRAP)); then
  echo "joined   by Cluster Bootstrap, config discovery of ${PROXY_IP}, ${WORKER_A_IP}, ${WORKER_B_IP}:$MANAGEMENT_PORT; no seed nodes"
  for i in "${!NAMES[@]}"; do # which node formed the cluster, as the bootstrap logged it
    line=$(grep -m 1 -o -E 'Initiating new cluster, self-joining \[[^]]*\]|Joining \[[^]]*\] to existing cluster \[[^]]*\]' "${LOGS[i]}" || true)
    [[ -z $line ]] || printf '         %-9s %s\n' "${NAMES[i]}" "$line"
  done
else
  echo "joined   by static seeds: $PROXY_IP:$PROXY_CLUSTER_PORT"
fi
echo "members  3 Up and reachable: ${members// /, }"
echo "client   $(grep -E '^[0-9]+ packets:' "$CLIENT_LOG")"
grep -E '^policy ' "$CLIENT_LOG" | sed 's/^/         /'
echo "         $(grep -E '^RESULT:' "$CLIENT_LOG")"
