#!/usr/bin/env bash
# Network partitions between real hosts, under verified load. Five hosts, as far as the network
# goes: Linux network namespaces with their own IPs on a bridge (the approach of hosts.sh), the
# clients in this (the root) namespace:
#
#   rpp-p1  10.78.0.11  proxy P1   clients 2100, cluster 2551, management 8558  (the first seed)
#   rpp-p2  10.78.0.12  proxy P2   "
#   rpp-p3  10.78.0.13  proxy P3   "
#   rpp-w1  10.78.0.21  worker W1: 100 (policy 111), 200 (222);            cluster 2552, mgmt 8558
#   rpp-w2  10.78.0.22  worker W2: 300 (111), 400 (222), 500 (333, its only worker); "
#   here    10.78.0.1   bridge rppbr0 (and rppbr1, below): the benches, the probe, the checks
#
# Every node lists the three proxies as seeds (--seed P1:2551 --seed P2:2551 --seed P3:2551).
# Policies 111 and 222 have a worker on each worker host; 333 lives on W2 only, so that a fault
# can put every worker of a policy on the minority side.
#
# The faults, each under its own load, one after the other (the cluster must be whole again, five
# members Up and every worker serving on every proxy, before the next one starts):
#
#   worker  W2 away from all the others for 30 s (20 s with --short), then healed:
#           `ip link set v-rpp-w2 down` on the bridge side of its veth, then `up`.
#   split   the proxy tier split 2|1: {P1, P2, W1} | {P3, W2} for 30 s (20 s), then healed.
#           P3 and W2's bridge ports move to a second bridge, rppbr1, that shares nothing with
#           rppbr0 but this namespace: rppbr1 has the same MAC and address (10.78.0.1/32) as
#           rppbr0, and /32 routes send this namespace's packets for P3 and W2 through it, so
#           the clients reach both sides while the sides cannot reach each other (nothing
#           answers ARP for the other side, and frames for its MACs are delivered to no one, so
#           this namespace routes nothing between them, IP forwarding or not). Frames between
#           the sides are dropped without a word, as by a switch that lost a link: nobody gets
#           a reset or an ICMP error. (tc netem, tc drop actions and iptables/nftables are not
#           available on every machine, not on this one; `ip link` is.)
#   flap    W2's link flaps: 5 (3) cycles of 2 s down, 3 s up (`ip link set ... down/up`).
#   split-seed  (only with --only) the same split with the first seed on the minority side:
#           {P2, P3, W1} | {P1, W2} for 60 s. P1, downed and started again while the cut lasts,
#           reaches no other seed and, as Akka's first seed does, starts a cluster of its own,
#           which W2 joins: after the heal there are two clusters (docs/RELIABILITY.md).
#
# What the product should do (docs/RELIABILITY.md): the failure detector marks the other side
# unreachable after about 3 s; the Split Brain Resolver (keep-majority, stable-after 7 s) downs the
# minority side about 10 s after the cut. A downed worker node starts its ActorSystem again in the
# same JVM and joins the seeds by itself; a downed proxy exits 1, and this script starts it again
# as its systemd unit (deploy/revproxy-proxy.service: Restart=on-failure, RestartSec=5s) would:
# 5 s after it exits, cut healed or not (P3 is not the first seed, so while the cut lasts it
# keeps trying to join P1 and P2 and does not start a cluster of its own).
#
# Load: per proxy, one `bench` for policies 111,222 (70 req/s, 8 connections) and one for 333
# (30 req/s, 4 connections), open loop, 4 in flight at most per connection, every reply's SHA-1
# checked: 300 req/s in all. Besides, a probe (scripts/partition.py) sends one request on a fresh
# connection every 200 ms to each proxy for each policy, and records when each was answered and
# by which worker: recovery = time from the heal to the first correct reply through an affected
# path (a policy whose workers were all on the minority side; any policy through the minority
# proxy).
#
# Criteria, per fault: 0 wrong replies anywhere; no error, timeout, lost request or connection
# error for the clients of a majority proxy asking for a policy with a worker on the majority
# side (111, 222); errors only for 333 (every worker on the minority side) and for the clients
# of the minority proxy P3 (its proxy is downed; a client with a list of proxies, `client
# --proxy`, would fail over to the others); every affected path served again within 5 s of the
# (last) heal, and no failed request sent later than that. Exit 0 only if every fault met them.
#
# Needs root. Everything it creates (namespaces, veths, bridges, JVMs, the probe) is removed on
# exit, also on failure or Ctrl-C.
# shellcheck disable=SC2317  # the cleanup functions run from traps, which shellcheck cannot see
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh # for lib_cds_options; the functions below are this script's own

JAR=target/akka-reverse-proxy.jar
HELPER=scripts/partition.py
SUBNET=${PARTITION_SUBNET:-10.78.0} # the first three octets of a /24, not hosts.sh's 10.77.0
BRIDGE=rppbr0
CUT_BRIDGE=rppbr1
HOST_IP=$SUBNET.1
NODES=(p1 p2 p3 w1 w2)
declare -A IP=([p1]=$SUBNET.11 [p2]=$SUBNET.12 [p3]=$SUBNET.13 [w1]=$SUBNET.21 [w2]=$SUBNET.22)
PROXIES=(p1 p2 p3)
CLIENT_PORT=2100
PROXY_CLUSTER_PORT=2551
WORKER_CLUSTER_PORT=2552
MANAGEMENT_PORT=8558
RESTART_SEC=5    # deploy/revproxy-proxy.service: RestartSec=5s
MAX_RESTARTS=5   # per node and run: a backstop, not a policy
RECOVERY_LIMIT=5 # seconds from the heal to service again
# shellcheck disable=SC2206  # PARTITION_JAVA_OPTS is a space-separated list on purpose
JAVA_OPTS=(${PARTITION_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC})
BENCH_JAVA_OPTS=(-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1) # C1 is plenty for 100 req/s
# Load per proxy: policies 111,222 and policy 333, requests/s and connections.
MAIN_RATE=70 MAIN_CONNECTIONS=8
SOLO_RATE=30 SOLO_CONNECTIONS=4
WARMUP=3   # bench warmup, seconds (left out of the numbers, its replies still checked)
BASELINE=5 # seconds measured before the cut (after the warmup)
CUT=30     # worker and split: how long the cut lasts
# split-seed: long enough for P1 to be downed (~10 s), to exit, to be started again (RestartSec)
# and to give up waiting for the other seeds (akka.cluster.seed-node-timeout, 5 s) before the heal
SEED_CUT=60
POST=12    # measured after the (last) heal
FLAP_CYCLES=5 FLAP_DOWN=2 FLAP_UP=3
SHORT=0
ONLY=()
ALL_FAULTS=(worker split flap)

usage() {
  cat <<EOF
Usage: scripts/partition.sh [--short] [--only worker|split|flap|split-seed]...

Runs three proxies and two worker hosts in five network namespaces (rpp-p1..3 ${IP[p1]}..13,
rpp-w1 ${IP[w1]}, rpp-w2 ${IP[w2]}, bridge $BRIDGE with $HOST_IP here) and cuts links under a
verified load of 300 req/s from this namespace:

  worker  W2 (all of policy 333, half of 111 and 222) cut off from everyone for ${CUT} s, then healed
  split   the proxies split 2|1: {P1, P2, W1} | {P3, W2} for ${CUT} s, then healed
  flap    W2's link: ${FLAP_CYCLES} cycles of ${FLAP_DOWN} s down, ${FLAP_UP} s up
  split-seed  only when asked for: {P2, P3, W1} | {P1, W2}, the first seed on the minority side

Prints a table per fault (sent, correct, wrong, errors by code, timeouts, lost, p99, max, recovery
after the heal) and the timeline of what the nodes logged.

  --short       the CI form: cuts of 20 s, 3 flaps, shorter tails (under 3 minutes in all)
  --only FAULT  run only this fault (repeatable); default: all three, in the order above
  -h, --help    show this help

Exit status: 0 every fault met the criteria (0 wrong; errors only for policy 333 and for the
minority proxy's clients; served again within ${RECOVERY_LIMIT} s of the heal) and everything was removed
again; 1 a criterion failed or the run did; 2 bad usage; 3 cannot run here (not root, no ip
command, or network namespaces, veths or bridges refused), said in one line.
Logs: target/partition-logs/. Environment: PARTITION_SUBNET (default 10.78.0, a free /24),
PARTITION_JAVA_OPTS (default: ${JAVA_OPTS[*]}).
EOF
}

# --- Small helpers (to be replaced by scripts/lib.sh) -----------------------------------------

die() {
  echo "partition.sh: $*" >&2
  exit 1
}

cannot_run_here() {
  echo "partition.sh: cannot run here: $*" >&2
  exit 3
}

now() { date +%s.%N; }

pause() { # seconds: sleep in the background, so that INT/TERM traps run at once
  sleep "$1" &
  wait $! || true
}

sleep_until() { # epoch seconds
  local wait
  wait=$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; if (d < 0) d = 0; printf "%.3f", d }')
  pause "$wait"
}

jar_is_stale() {
  [[ ! -f $JAR || -n $(find src/main pom.xml application.conf -newer "$JAR" -print -quit 2>/dev/null) ]]
}

# grep reads all of its input (no -q): an early exit would fail the pipe under pipefail.
netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -x -- "$1" >/dev/null; }

# --- Options and prerequisites ------------------------------------------------------------------

while (($# > 0)); do
  case $1 in
    --short) SHORT=1; shift ;;
    --only)
      [[ ${2:-} =~ ^(worker|split|flap|split-seed)$ ]] || { usage >&2; echo >&2; echo "partition.sh: --only takes worker, split, flap or split-seed" >&2; exit 2; }
      ONLY+=("$2"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; echo >&2; echo "partition.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ $SUBNET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "partition.sh: PARTITION_SUBNET must be three octets like 10.78.0, got '$SUBNET'" >&2; exit 2; }
if ((SHORT)); then
  # Still longer than the ~10 s after which the resolver downs the minority, and than that plus
  # RestartSec: the downed proxy is started again while the cut lasts, as in the full run.
  CUT=20 POST=6 BASELINE=3 FLAP_CYCLES=3
fi
FAULTS=("${ALL_FAULTS[@]}")
((${#ONLY[@]} == 0)) || FAULTS=("${ONLY[@]}")
LOG_DIR=target/partition-logs
RUN_DIR=$LOG_DIR/run
EVENTS=$LOG_DIR/events.txt
PROBE_LOG=$LOG_DIR/probe.jsonl

command -v ip >/dev/null || cannot_run_here "the ip command (iproute2) is missing"
((EUID == 0)) || cannot_run_here "network namespaces need root (running as uid $EUID)"
command -v java >/dev/null || die "java not found: install a Java 17 JDK"
command -v python3 >/dev/null || die "python3 not found (the probe and the analysis are Python)"
[[ -f $HELPER ]] || die "$HELPER is missing"

if jar_is_stale; then
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8+ to build $JAR"
  echo "Building $JAR (mvn -B -q -Dmaven.test.skip=true package) ..."
  mvn -B -q -Dmaven.test.skip=true package || die "the build failed"
fi
# The nodes start from the jar's class-data archive (a restarted node serves sooner, see
# docs/RELIABILITY.md, "Start time"); REVPROXY_CDS=off starts them without it.
lib_cds_options "$JAR"
JAVA_OPTS+=(${LIB_CDS[@]+"${LIB_CDS[@]}"})
BENCH_JAVA_OPTS+=(${LIB_CDS[@]+"${LIB_CDS[@]}"})

for node in "${NODES[@]}"; do
  if netns_exists "rpp-$node"; then
    die "network namespace rpp-$node already exists (another partition.sh running, or left over: ip netns del rpp-$node)"
  fi
done
for bridge in "$BRIDGE" "$CUT_BRIDGE"; do
  if ip link show "$bridge" >/dev/null 2>&1; then
    die "interface $bridge already exists (another partition.sh running, or left over: ip link del $bridge)"
  fi
done
# shellcheck disable=SC2143  # grep -q would end the pipe early (see netns_exists)
if [[ -n $(ip -4 -o addr show to "$SUBNET.0/24") || -n $(ip -4 route show root "$SUBNET.0/24") ||
  -n $(ip -4 route show match "$SUBNET.0/24" | grep -v '^default') ]]; then
  die "subnet $SUBNET.0/24 is already used on this host (ip addr / ip route): choose another with PARTITION_SUBNET=a.b.c"
fi

# --- Processes, network and cleanup ---------------------------------------------------------------

SUPERVISOR_PIDS=() # one per node: the loop that runs (and restarts) its JVM
BENCH_PIDS=()
PROBE_PID=
CREATED_NAMESPACES=()
CREATED_BRIDGES=()
CUT_ROUTES=()      # /32 routes through the cut bridge while a split lasts
STARTED=0
RESULT=1

node_pid() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

stop_processes() {
  local pid node i any
  [[ -d $RUN_DIR ]] && touch "$RUN_DIR/stop" # the supervisors start nothing more
  for pid in ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"} $PROBE_PID; do
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  ((${#SUPERVISOR_PIDS[@]} > 0)) && echo "Stopping the nodes (SIGTERM) ..."
  for ((i = 0; i < 75; i++)); do # up to 15 s for graceful shutdowns
    any=0
    for node in "${NODES[@]}"; do
      pid=$(node_pid "$node")
      if alive "$pid"; then
        any=1
        if ((i % 10 == 0)); then kill -TERM "$pid" 2>/dev/null || true; fi # again: it may be a restarted one
      fi
    done
    for pid in ${SUPERVISOR_PIDS[@]+"${SUPERVISOR_PIDS[@]}"} ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"} $PROBE_PID; do
      alive "$pid" && any=1
    done
    ((any)) || break
    sleep 0.2
  done
  for node in "${NODES[@]}"; do
    pid=$(node_pid "$node")
    if alive "$pid"; then
      echo "Node $node (pid $pid) did not stop within 15 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in ${SUPERVISOR_PIDS[@]+"${SUPERVISOR_PIDS[@]}"} ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"} $PROBE_PID; do
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
}

# Deleting a namespace deletes the veth inside it, and with it its peer on the bridge (the kernel
# does it a moment later: the checks below wait for it).
remove_network() { # status 0 if nothing of ours is left
  local ns bridge route left=() i
  for route in ${CUT_ROUTES[@]+"${CUT_ROUTES[@]}"}; do ip route del "$route" 2>/dev/null || true; done
  for ns in ${CREATED_NAMESPACES[@]+"${CREATED_NAMESPACES[@]}"}; do ip netns del "$ns" 2>/dev/null || true; done
  for bridge in ${CREATED_BRIDGES[@]+"${CREATED_BRIDGES[@]}"}; do ip link del "$bridge" 2>/dev/null || true; done
  for ((i = 0; i < 20; i++)); do
    left=()
    for ns in ${CREATED_NAMESPACES[@]+"${CREATED_NAMESPACES[@]}"}; do
      netns_exists "$ns" && left+=("namespace $ns")
      ip link show "v-$ns" >/dev/null 2>&1 && left+=("veth v-$ns")
    done
    for bridge in ${CREATED_BRIDGES[@]+"${CREATED_BRIDGES[@]}"}; do
      ip link show "$bridge" >/dev/null 2>&1 && left+=("bridge $bridge")
    done
    ((${#left[@]} == 0)) && break
    sleep 0.25
  done
  if ((${#left[@]} > 0)); then
    echo "Cleanup FAILED: still there: ${left[*]}"
    return 1
  fi
  if ((${#CREATED_NAMESPACES[@]} > 0)); then
    echo "Removed namespaces ${CREATED_NAMESPACES[*]} and bridges ${CREATED_BRIDGES[*]}"
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
      echo "PARTITION: OK in ${SECONDS}s"
    else
      echo "PARTITION: FAILED (exit status $status) after ${SECONDS}s; logs in $LOG_DIR/"
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

T0=
event() { # words...: to the events file, with the time, and to the console
  local t
  t=$(now)
  echo "$t $*" >>"$EVENTS"
  printf '  %7.1fs  %s\n' "$(awk -v t="$t" -v z="${T0:-$t}" 'BEGIN { print t - z }')" "$*"
}

STARTED=1
rm -rf "$LOG_DIR"
mkdir -p "$RUN_DIR"
: >"$EVENTS"
T0=$(now)

# Both bridges get the same MAC (locally administered, from the subnet), so that this
# namespace is the same host on either: a node moved to the cut bridge still reaches
# 10.78.0.1 at the MAC it has in its ARP cache.
IFS=. read -r _ octet2 octet3 <<<"$SUBNET"
BRIDGE_MAC=$(printf '02:72:70:%02x:%02x:01' "$octet2" "$octet3")
setup ip link add "$BRIDGE" type bridge
CREATED_BRIDGES+=("$BRIDGE")
setup ip link set "$BRIDGE" address "$BRIDGE_MAC"
setup ip addr add "$HOST_IP/24" dev "$BRIDGE"
setup ip link set "$BRIDGE" up
setup ip link add "$CUT_BRIDGE" type bridge
CREATED_BRIDGES+=("$CUT_BRIDGE")
setup ip link set "$CUT_BRIDGE" address "$BRIDGE_MAC"
setup ip addr add "$HOST_IP/32" dev "$CUT_BRIDGE"
setup ip link set "$CUT_BRIDGE" up
for node in "${NODES[@]}"; do
  ns=rpp-$node
  setup ip netns add "$ns"
  CREATED_NAMESPACES+=("$ns")
  setup ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  setup ip link set "v-$ns" master "$BRIDGE" up
  setup ip -n "$ns" addr add "${IP[$node]}/24" dev eth0
  setup ip -n "$ns" link set eth0 up
  setup ip -n "$ns" link set lo up
done
echo "Network: bridge $BRIDGE ($HOST_IP/24 here; $CUT_BRIDGE for the split), namespaces:"
for node in "${NODES[@]}"; do
  printf '  rpp-%-3s %s\n' "$node" "$(ip -n "rpp-$node" -4 -o addr show dev eth0 | awk '{print $4}')"
done

show_logs() {
  local node
  for node in "${NODES[@]}"; do
    echo
    echo "----- last 15 lines of $LOG_DIR/$node.log -----"
    tail -n 15 "$LOG_DIR/$node.log" 2>/dev/null || true
  done
}

fail() {
  echo
  echo "partition.sh FAILED: $*"
  show_logs
  exit 1
}

# A node runs as its systemd unit would: started again RESTART_SEC after it exits with a status
# other than 0 or 143 (Restart=on-failure, SuccessExitStatus=143), at most MAX_RESTARTS times.
supervise() { # node args...
  local node=$1 ns=rpp-$1 log=$LOG_DIR/$1.log pid status restarts=0
  shift
  trap - INT TERM EXIT
  while [[ ! -e $RUN_DIR/stop ]]; do
    # ip netns exec execs the command: $! is the JVM itself.
    ip netns exec "$ns" java "${JAVA_OPTS[@]}" -jar "$JAR" "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$RUN_DIR/$node.pid"
    event "started $node pid $pid"
    status=0
    wait "$pid" || status=$?
    [[ -e $RUN_DIR/stop ]] && break
    event "exited $node status $status"
    ((status == 0 || status == 143)) && break
    if ((restarts >= MAX_RESTARTS)); then
      event "gave-up $node after $restarts restarts"
      break
    fi
    restarts=$((restarts + 1))
    sleep "$RESTART_SEC"
  done
}

SEEDS=()
for node in "${PROXIES[@]}"; do SEEDS+=(--seed "${IP[$node]}:$PROXY_CLUSTER_PORT"); done
start_node() { # node role args...
  local node=$1 role=$2
  shift 2
  local common=(--cluster-host "${IP[$node]}" --management-host "${IP[$node]}"
    --management-port "$MANAGEMENT_PORT" "${SEEDS[@]}")
  if [[ $role == proxy ]]; then
    supervise "$node" proxy --host "${IP[$node]}" --port "$CLIENT_PORT" \
      --cluster-port "$PROXY_CLUSTER_PORT" "${common[@]}" "$@" &
  else
    supervise "$node" worker --cluster-port "$WORKER_CLUSTER_PORT" "${common[@]}" "$@" &
  fi
  SUPERVISOR_PIDS+=("$!")
}

echo "Starting JVMs (${JAVA_OPTS[*]}), every node with seeds ${SEEDS[*]}; logs in $LOG_DIR/:"
start_node p1 proxy
start_node p2 proxy
start_node p3 proxy
start_node w1 worker --worker 100:111 --worker 200:222
start_node w2 worker --worker 300:111 --worker 400:222 --worker 500:333

MANAGEMENTS=()
NAMED_MANAGEMENTS=()
PROBE_TARGETS=()
for node in "${PROXIES[@]}"; do
  MANAGEMENTS+=(--management "${IP[$node]}:$MANAGEMENT_PORT")
  NAMED_MANAGEMENTS+=(--management "$node=${IP[$node]}:$MANAGEMENT_PORT")
  PROBE_TARGETS+=(--target "$node=${IP[$node]}:$CLIENT_PORT")
done
ROUTING=(--routing "111=100,300" --routing "222=200,400" --routing "333=500")

wait_whole() { # timeout: every proxy sees 5 members Up and reachable and serves every worker
  python3 "$HELPER" wait-whole "${MANAGEMENTS[@]}" --members ${#NODES[@]} "${ROUTING[@]}" --timeout "$1"
}

# The probe also makes every proxy route each policy: a proxy lists a policy once asked for it.
python3 "$HELPER" probe "${PROBE_TARGETS[@]}" --policies 111,222,333 --interval 0.2 \
  --stop-file "$RUN_DIR/stop" --out "$PROBE_LOG" --max-seconds 1800 </dev/null >"$LOG_DIR/probe.log" 2>&1 &
PROBE_PID=$!
echo "Probe: a request on a fresh connection every 200 ms to each proxy for each policy ($PROBE_LOG)"

echo "Waiting for the cluster: 5 members Up, every proxy serving workers 100, 300 (111), 200, 400 (222), 500 (333) ..."
took=$(wait_whole 120) || fail "the cluster did not form within 120 s"
echo "Cluster whole ($(awk -v t="$(now)" -v z="$T0" 'BEGIN { printf "%.0f", t - z }') s after the start)"

# --- Cutting and healing ------------------------------------------------------------------------

cut_host() { # node: its link down, so it reaches no one
  ip link set "v-rpp-$1" down
}

heal_host() {
  ip link set "v-rpp-$1" up
}

split_hosts() { # node...: these move to the cut bridge; this namespace still reaches them
  local node route
  for node in "$@"; do
    ip link set "v-rpp-$node" master "$CUT_BRIDGE"
    route="${IP[$node]}/32 dev $CUT_BRIDGE src $HOST_IP"
    # shellcheck disable=SC2086  # the route is words on purpose
    ip route add $route
    CUT_ROUTES+=("$route")
  done
}

heal_split() {
  local node route
  for route in ${CUT_ROUTES[@]+"${CUT_ROUTES[@]}"}; do
    # shellcheck disable=SC2086
    ip route del $route
  done
  CUT_ROUTES=()
  for node in "$@"; do ip link set "v-rpp-$node" master "$BRIDGE"; done
}

# --- One fault under load -------------------------------------------------------------------------

FAULT_DIR=
start_benches() { # seconds to measure
  local node
  BENCH_PIDS=()
  for node in "${PROXIES[@]}"; do
    java "${BENCH_JAVA_OPTS[@]}" -jar "$JAR" bench --host "${IP[$node]}" --port "$CLIENT_PORT" \
      --policies 111,222 --rate "$MAIN_RATE" --connections "$MAIN_CONNECTIONS" --pipeline 4 \
      --warmup "${WARMUP}s" --duration "$1s" --timeout 20s --json \
      </dev/null >"$FAULT_DIR/$node-main.json" 2>"$FAULT_DIR/$node-main.log" &
    BENCH_PIDS+=("$!")
    java "${BENCH_JAVA_OPTS[@]}" -jar "$JAR" bench --host "${IP[$node]}" --port "$CLIENT_PORT" \
      --policies 333 --rate "$SOLO_RATE" --connections "$SOLO_CONNECTIONS" --pipeline 4 \
      --warmup "${WARMUP}s" --duration "$1s" --timeout 20s --json \
      </dev/null >"$FAULT_DIR/$node-solo.json" 2>"$FAULT_DIR/$node-solo.log" &
    BENCH_PIDS+=("$!")
  done
}

wait_benches() { # backstop seconds
  local deadline=$((SECONDS + $1)) pid
  for pid in "${BENCH_PIDS[@]}"; do
    while alive "$pid"; do
      ((SECONDS < deadline)) || fail "a bench did not finish in time (pid $pid)"
      pause 0.5
    done
    wait "$pid" 2>/dev/null || true # its exit status is 1 whenever anything failed: analysed below
  done
  BENCH_PIDS=()
}

RESULTS=()
run_fault() { # name
  local name=$1 fault_time measure connected cut_at i title note=() groups=() may_fail=() returning=()
  FAULT_DIR=$LOG_DIR/$name
  mkdir -p "$FAULT_DIR"
  case $name in
    worker) fault_time=$CUT
      title="W2 cut off from everyone for ${CUT} s"
      note=("W2 holds workers 300 (111), 400 (222) and 500, the only one of 333") ;;
    split) fault_time=$CUT
      title="Proxies split 2|1 for ${CUT} s: {P1, P2, W1} | {P3, W2}"
      note=("P3 and W2 are the minority; 333's only worker is there") ;;
    split-seed) fault_time=$SEED_CUT
      title="Proxies split 2|1 for ${SEED_CUT} s, the first seed in the minority: {P2, P3, W1} | {P1, W2}"
      note=("P1 (the first seed) and W2 are the minority; 333's only worker is there") ;;
    flap) fault_time=$((FLAP_CYCLES * (FLAP_DOWN + FLAP_UP) - FLAP_UP))
      title="W2's link flapping: ${FLAP_CYCLES} x (${FLAP_DOWN} s down, ${FLAP_UP} s up)"
      note=("W2 holds 300 (111), 400 (222) and 500 (333)") ;;
  esac
  echo
  echo "=== Fault '$name': $title ==="
  python3 "$HELPER" metrics "${NAMED_MANAGEMENTS[@]}" >"$FAULT_DIR/metrics-before.json" || true
  measure=$((BASELINE + fault_time + POST))
  event "fault-start $name"
  start_benches "$measure"
  # A bench's clock starts once all its connections are open: then WARMUP, then BASELINE
  # seconds measured before the cut. (JVMs start slowly on a loaded machine: never guess.)
  connected=$(python3 "$HELPER" wait-connections "${MANAGEMENTS[@]}" \
    --min $((MAIN_CONNECTIONS + SOLO_CONNECTIONS)) --timeout 60) ||
    fail "the benches did not connect within 60 s"
  event "benches-connected after ${connected}s"
  echo "  load: 3 proxies x (111,222 at $MAIN_RATE req/s + 333 at $SOLO_RATE req/s), ${WARMUP}s warmup, ${measure}s measured"
  cut_at=$(awk -v s="$(now)" -v p="$((WARMUP + BASELINE))" 'BEGIN { printf "%.3f", s + p }')
  sleep_until "$cut_at"
  case $name in
    worker)
      cut_host w2; event "cut w2 link down"
      pause "$CUT"
      heal_host w2; event "heal w2 link up" ;;
    split)
      split_hosts p3 w2; event "cut split p1,p2,w1 | p3,w2"
      pause "$CUT"
      heal_split p3 w2; event "heal split" ;;
    split-seed)
      split_hosts p1 w2; event "cut split p2,p3,w1 | p1,w2"
      pause "$SEED_CUT"
      heal_split p1 w2; event "heal split" ;;
    flap)
      for ((i = 1; i <= FLAP_CYCLES; i++)); do
        cut_host w2; event "cut w2 link down ($i of $FLAP_CYCLES)"
        pause "$FLAP_DOWN"
        heal_host w2; event "heal w2 link up ($i of $FLAP_CYCLES)"
        ((i < FLAP_CYCLES)) && pause "$FLAP_UP"
      done ;;
  esac
  wait_benches $((POST + 60))
  event "fault-end $name"
  python3 "$HELPER" metrics "${NAMED_MANAGEMENTS[@]}" >"$FAULT_DIR/metrics-after.json" || true
  local f="$FAULT_DIR"
  if [[ $name == split* ]]; then
    local minority=p3 majority=(p1 p2)
    if [[ $name == split-seed ]]; then
      minority=p1
      majority=(p2 p3)
    fi
    local m1=${majority[0]} m2=${majority[1]} M1=${majority[0]^^} M2=${majority[1]^^}
    groups=(--group "111,222 via $M1, $M2 (majority):must-not-fail:$f/$m1-main.json,$f/$m2-main.json"
      --group "333 via $M1, $M2 (majority):may-fail:$f/$m1-solo.json,$f/$m2-solo.json"
      --group "all via ${minority^^} (minority):may-fail:$f/$minority-main.json,$f/$minority-solo.json"
      --group-path "333 via $M1, $M2 (majority)=$m1/333,$m2/333"
      --group-path "all via ${minority^^} (minority)=$minority/*")
    may_fail=(--may-fail-path '*/333' --may-fail-path "$minority/*")
  else
    groups=(--group "111,222 via P1-P3:must-not-fail:$f/p1-main.json,$f/p2-main.json,$f/p3-main.json"
      --group "333 via P1-P3:may-fail:$f/p1-solo.json,$f/p2-solo.json,$f/p3-solo.json"
      --group-path "333 via P1-P3=*/333")
    may_fail=(--may-fail-path '*/333')
  fi
  returning=(--returning-worker 300 --returning-worker 400 --returning-worker 500)
  local notes=()
  for n in "${note[@]}"; do notes+=(--note "$n"); done
  if python3 "$HELPER" analyze --fault "$name" --title "$title" "${notes[@]}" --events "$EVENTS" \
    --probe "$PROBE_LOG" --logs "$LOG_DIR" "${groups[@]}" "${may_fail[@]}" "${returning[@]}" \
    --recovery-limit "$RECOVERY_LIMIT" --metrics-before "$FAULT_DIR/metrics-before.json" \
    --metrics-after "$FAULT_DIR/metrics-after.json" --result "$FAULT_DIR/result.json" \
    | tee "$FAULT_DIR/report.md"; then
    RESULTS+=("$name OK")
  else
    RESULTS+=("$name FAILED")
  fi
  echo "Waiting for the cluster to be whole again ..."
  if took=$(wait_whole 90); then
    event "whole-again $name after ${took}s"
  else
    RESULTS+=("$name: cluster not whole again within 90 s")
    fail "the cluster was not whole again within 90 s after fault $name"
  fi
}

echo "Faults: ${FAULTS[*]}$( ((SHORT)) && echo " (short)")"
for fault in "${FAULTS[@]}"; do
  run_fault "$fault"
done

echo
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "==== partition.sh summary ($(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores${CPU:+ ($CPU)}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; load average $(cut -d' ' -f1-3 /proc/loadavg)) ===="
RESULT=0
for line in "${RESULTS[@]}"; do
  echo "  $line"
  [[ $line == *" OK" ]] || RESULT=1
done
exit "$RESULT"
