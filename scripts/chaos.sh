#!/usr/bin/env bash
# Fault scenarios on the real multi-JVM topology, with two proxies, each under a steady verified
# load: `bench --proxy P1 --proxy P2 --rate 400` (every reply's SHA-1 checked, latency from the
# scheduled send time, connections spread over both proxies and failing over between them).
#
#   P1  proxy, clients 127.0.0.1:PORT,   cluster port CLUSTER_PORT     both are seeds of every
#   P2  proxy, clients 127.0.0.1:PORT+1, cluster port CLUSTER_PORT+1   node, P1 first
#   A   worker node: 100 (policy 111), 200 (222)
#   B   worker node: 300 (111), 400 (222), 700 (333)
#   C   worker node: 500 (111), 600 (222), 800 (333)
#
# One cluster start, then one bench per fault, each fault alone:
#   a. worker rolling restart (issue 12): kill -9 of B; B started again 6 s later; SIGTERM to A
#      8 s after that. Must: every request answered correctly (0 wrong, 0 errors, 0 lost).
#   b. proxy kill -9: kill -9 of P1, started again 1 s later (CHAOS_P1_DOWN seconds) on the same
#      ports, while a second bench loads P2 alone (--port, no failover). Must: every request of
#      both benches answered correctly (the bench over both fails over and resends), and P1
#      serves again. Target: P1 ready (/ready) and serving each policy to a client sent to it
#      alone within 5 s of its start.
#   c. silent legacy backend: a listener (scripts/silent_backend.py) registers with P2 for policy
#      333 (then served by B, C and it: 3 routees), reads and never answers, for 20 s of load
#      (10 s with --short).
#      Must: 0 wrong, and at most 4 requests reach it. Targets: p99 < 100 ms, nothing failed.
#
# Prints one table row per fault (sent, correct, wrong, errors by code, lost, p99, max, recovery,
# notes) and exits 0 only if every fault met what it must; targets missed are printed, not
# failed (the p99 and JVM start times of a loaded 2-core machine are noise). Recovery times come
# from the proxies' /routing, polled every 200 ms (management.py watch), P1's /ready, and a probe
# on fresh connections to P1 alone (partition.py probe). Only loopback; every process it starts is
# stopped by PID on exit, also on Ctrl-C. `--short` is the CI form (about 1.5 minutes in all).
# Logs, each bench's JSON and each fault's row are in target/chaos-logs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/chaos-logs
PORT=${CHAOS_PORT:-2400}
CLUSTER_PORT=${CHAOS_CLUSTER_PORT:-2751}
RATE=400
# Per fault: warmup (cold connections, left out of the numbers), then the timeline in seconds
# from the start of the load, and the end of the load.
if [[ ${1:-} == --short ]]; then
  FORM=short
  WARMUP=2
  A_KILL=3 A_END=22        # restart at A_KILL + 6, SIGTERM at A_KILL + 14
  B_KILL=3 B_END=12        # restart at B_KILL + CHAOS_P1_DOWN (1)
  C_SILENT=10              # seconds of load with the silent backend registered
elif [[ -z ${1:-} ]]; then
  FORM=full
  WARMUP=3
  A_KILL=8 A_END=40
  B_KILL=8 B_END=25
  C_SILENT=20
else
  echo "usage: scripts/chaos.sh [--short]" >&2
  exit 2
fi
# Seconds P1 stays down in fault b (1 by default; 5 is systemd's RestartSec of deploy/), the load
# then lasting long enough for P1 to serve again.
P1_DOWN=${CHAOS_P1_DOWN:-1}
[[ $P1_DOWN =~ ^[0-9]+$ ]] || { echo "CHAOS_P1_DOWN must be whole seconds, not '$P1_DOWN'" >&2; exit 2; }
((B_END >= B_KILL + P1_DOWN + 9)) || B_END=$((B_KILL + P1_DOWN + 9))
# shellcheck disable=SC2206 # CHAOS_JAVA_OPTS is a space-separated list on purpose
JAVA=(java ${CHAOS_JAVA_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC})
# The load generator starts 4 times and its own speed does not matter at these rates: C1 only,
# so that its start takes less of the CPU the nodes share.
BENCH_JAVA=("${JAVA[@]}" -XX:TieredStopAtLevel=1)
POLICIES=111,222,333

lib_build_jar "$JAR"
# The nodes and benches start from the jar's class-data archive: 25-40% less start time and CPU
# (docs/RELIABILITY.md, "Start time"); REVPROXY_CDS=off starts them without it.
lib_cds_options "$JAR"
JAVA+=(${LIB_CDS[@]+"${LIB_CDS[@]}"})
BENCH_JAVA+=(${LIB_CDS[@]+"${LIB_CDS[@]}"})
P1_PORT=$PORT P2_PORT=$((PORT + 1))
P1_CLUSTER=$CLUSTER_PORT P2_CLUSTER=$((CLUSTER_PORT + 1))
for port in "$P1_PORT" "$P2_PORT" "$P1_CLUSTER" "$P2_CLUSTER"; do
  lib_port_in_use "$port" && die "port $port on 127.0.0.1 is in use (set CHAOS_PORT / CHAOS_CLUSTER_PORT: the proxies use each and the one above)"
done
((P2_PORT != P1_CLUSTER && P1_PORT != P2_CLUSTER)) || die "CHAOS_PORT and CHAOS_CLUSTER_PORT must be at least 2 apart"
# Management endpoints of P1, P2, A and B (B' takes B's), and the silent backend's port.
PORTS=$(lib_free_ports $((PORT > CLUSTER_PORT ? PORT + 2 : CLUSTER_PORT + 2)) 5)
read -r P1_MGMT_PORT P2_MGMT_PORT A_MGMT_PORT B_MGMT_PORT SILENT_PORT <<<"$PORTS"
P1_MGMT=127.0.0.1:$P1_MGMT_PORT P2_MGMT=127.0.0.1:$P2_MGMT_PORT
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"
lib_stop_on_exit 10

management() { python3 scripts/management.py "$@"; }
helpers() { python3 scripts/partition.py "$@"; } # probe, wait-whole
COUNTERS=(revproxy_retries_total revproxy_ejections_total) # summed over policies

SEEDS=(--seed "127.0.0.1:$P1_CLUSTER" --seed "127.0.0.1:$P2_CLUSTER")
start_proxy() { # log client-port cluster-port management-port -> LIB_PID
  lib_start "$1" "${JAVA[@]}" -jar "$JAR" proxy --port "$2" --cluster-port "$3" "${SEEDS[@]}" \
    --management-port "$4"
}
start_node() { # log workers [options...] -> LIB_PID
  local log=$1 workers=$2
  shift 2
  lib_start "$log" "${JAVA[@]}" -jar "$JAR" worker --worker "$workers" "${SEEDS[@]}" "$@"
}
now() { date +%s.%N; }
node_at() { # management-port -> that node's cluster address, waiting up to 30 s for it to answer
  local i
  for ((i = 0; i < 60; i++)); do
    management node "http://127.0.0.1:$1" 2>/dev/null && return
    sleep 0.5
  done
  return 1
}
event() { echo "$1 $(now)" >>"$DIR/events"; } # name -> "name time" in the fault's events
at() {                                          # wait until second $1 of the load
  local wait
  wait=$(python3 -c "import time; print(max(0.0, $START + $1 - time.time()))")
  sleep "$wait"
}
sums() { # -> "retries ejections" summed over both proxies ("0 0" for one not answering)
  local p1 p2
  p1=$(management sum "http://$P1_MGMT" "${COUNTERS[@]}" 2>/dev/null || echo "0 0")
  p2=$(management sum "http://$P2_MGMT" "${COUNTERS[@]}" 2>/dev/null || echo "0 0")
  python3 -c "import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(*(int(x) + int(y) for x, y in zip(a, b)))" "$p1" "$p2"
}
bench() { # json duration rate connections target-options... -> BENCH_PID, BENCH_JSON
  local json=$1 duration=$2 rate=$3 connections=$4
  shift 4
  lib_start "${json%.json}.log" "${BENCH_JAVA[@]}" -jar "$JAR" bench --json --rate "$rate" --connections "$connections" \
    --pipeline 4 --policies "$POLICIES" --warmup "${WARMUP}s" --duration "${duration}s" --timeout 10s \
    --progress "$@"
  BENCH_PID=$LIB_PID
  BENCH_JSON=$json
}
await_bench() { # pid json -> waits for the bench, keeps its JSON (stdout of its log)
  wait "$1" || true
  grep '^{' "${2%.json}.log" >"$2" || die "the bench wrote no JSON (see ${2%.json}.log)"
}
clock_started() { # bench-json -> START: when that bench's clock started (all connected), from
  local log=${1%.json}.log line i # its first progress line, which says how long ago that was
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m1 -E '^ *[0-9]+[.][0-9]s  ' "$log" 2>/dev/null || true)
    if [[ -n $line ]]; then
      START=$(python3 -c "import sys, time; print(time.time() - float(sys.argv[1].split('s')[0]))" "$line")
      return
    fi
    sleep 0.1
  done
  die "the bench's clock did not start within 30 s (see $log)"
}
whole() { # members policy=count... -> waits until both proxies see that many members, all Up
  local members=$1 spec serving=() # and reachable, and that many routees in rotation per policy
  shift
  for spec in "$@"; do serving+=(--in-rotation "$spec"); done
  helpers wait-whole --management "$P1_MGMT" --management "$P2_MGMT" --members "$members" \
    "${serving[@]}" --timeout 120 >/dev/null || die "the cluster did not settle (see above)"
}

echo "Starting proxies P1 and P2 and worker nodes A, B, C (logs in $LOG_DIR/)"
start_proxy "$LOG_DIR/p1.log" "$P1_PORT" "$P1_CLUSTER" "$P1_MGMT_PORT"
PID_P1=$LIB_PID
start_proxy "$LOG_DIR/p2.log" "$P2_PORT" "$P2_CLUSTER" "$P2_MGMT_PORT"
start_node "$LOG_DIR/node-A.log" 100:111,200:222 --management-port "$A_MGMT_PORT"
PID_A=$LIB_PID
start_node "$LOG_DIR/node-B.log" 300:111,400:222,700:333 --management-port "$B_MGMT_PORT"
PID_B=$LIB_PID
start_node "$LOG_DIR/node-C.log" 500:111,600:222,800:333
# Requests through each proxy (a policy is in /routing once it has had one) until both serve
# every worker: the probe, a fresh connection per request, every reply checked.
lib_start "$LOG_DIR/ready-probe.log" python3 scripts/partition.py probe --target "p1=127.0.0.1:$P1_PORT" \
  --target "p2=127.0.0.1:$P2_PORT" --policies "$POLICIES" --interval 0.2 --reply-timeout 3 \
  --max-seconds 150 --stop-file "$LOG_DIR/ready-stop" --out "$LOG_DIR/ready-probe.jsonl"
READY_PROBE=$LIB_PID
whole 5 111=3 222=3 333=2
touch "$LOG_DIR/ready-stop"
wait "$READY_PROBE" || true
NODE_A=$(node_at "$A_MGMT_PORT") || die "node A's management endpoint did not answer"
NODE_B=$(node_at "$B_MGMT_PORT") || die "node B's management endpoint did not answer"
echo "[${SECONDS}s] Ready: 5 members, both proxies serve every worker (A is $NODE_A, B is $NODE_B)"
lib_start "$LOG_DIR/watch-p1.jsonl" python3 scripts/management.py watch "http://$P1_MGMT" 900
lib_start "$LOG_DIR/watch-p2.jsonl" python3 scripts/management.py watch "http://$P2_MGMT" 900
WATCH=(--watch "p1=$LOG_DIR/watch-p1.jsonl" --watch "p2=$LOG_DIR/watch-p2.jsonl")
BOTH=(--proxy "127.0.0.1:$P1_PORT" --proxy "127.0.0.1:$P2_PORT") # the bench's targets
LOAD="$RATE req/s over P1 and P2, policies $POLICIES, ${WARMUP}s warmup"

# --- a. worker rolling restart ---------------------------------------------------------------
DIR=$LOG_DIR/a && mkdir -p "$DIR"
echo "[${SECONDS}s] a. worker rolling restart: $LOAD; kill -9 of B at ${A_KILL}s, B again at $((A_KILL + 6))s, SIGTERM to A at $((A_KILL + 14))s, load until ${A_END}s"
read -r RETRIES_BEFORE EJECTIONS_BEFORE <<<"$(sums)"
bench "$DIR/bench.json" $((A_END - WARMUP)) "$RATE" 32 "${BOTH[@]}"
clock_started "$BENCH_JSON"
at "$A_KILL"
lib_ours "$PID_B" || die "node B exited before the kill (see $LOG_DIR/node-B.log)"
kill -KILL "$PID_B" && event kill_b
{ wait "$PID_B"; } 2>/dev/null || true # reaped here, without bash's "Killed" line
at $((A_KILL + 6))
start_node "$LOG_DIR/node-B-restarted.log" 300:111,400:222,700:333 --management-port "$B_MGMT_PORT"
event start_b
at $((A_KILL + 14))
lib_ours "$PID_A" || die "node A exited before the SIGTERM (see $LOG_DIR/node-A.log)"
kill -TERM "$PID_A" && event term_a
await_bench "$BENCH_PID" "$BENCH_JSON"
NODE_B2=$(node_at "$B_MGMT_PORT") || die "node B's restart did not come up (see $LOG_DIR/node-B-restarted.log)"
read -r RETRIES_AFTER EJECTIONS_AFTER <<<"$(sums)"
python3 scripts/chaos.py row --fault worker --label "a. worker rolling restart" --bench "$DIR/bench.json" \
  --events "$DIR/events" "${WATCH[@]}" --node-a "$NODE_A" --node-b "$NODE_B" --node-b2 "$NODE_B2" \
  --retries $((RETRIES_AFTER - RETRIES_BEFORE)) --ejections $((EJECTIONS_AFTER - EJECTIONS_BEFORE)) \
  --result "$DIR/row.json"
whole 4 111=2 222=2 333=2

# --- b. proxy kill -9 ------------------------------------------------------------------------
DIR=$LOG_DIR/b && mkdir -p "$DIR"
echo "[${SECONDS}s] b. proxy kill -9: $LOAD, and 100 req/s to P2 alone; kill -9 of P1 at ${B_KILL}s, P1 again at $((B_KILL + P1_DOWN))s, load until ${B_END}s"
# Started together; P2's alone runs 5 s longer in case its JVM starts much sooner.
bench "$DIR/bench-p2-only.json" $((B_END - WARMUP + 5)) 100 8 --port "$P2_PORT"
OTHER_PID=$BENCH_PID OTHER_JSON=$BENCH_JSON
bench "$DIR/bench.json" $((B_END - WARMUP)) "$RATE" 32 "${BOTH[@]}"
clock_started "$OTHER_JSON"
clock_started "$BENCH_JSON"
at "$B_KILL"
lib_ours "$PID_P1" || die "P1 exited before the kill (see $LOG_DIR/p1.log)"
# The probe: a fresh connection to P1 alone every 200 ms per policy, each reply checked.
lib_start "$DIR/probe.log" python3 scripts/partition.py probe --target "p1=127.0.0.1:$P1_PORT" \
  --policies "$POLICIES" --interval 0.2 --reply-timeout 3 --max-seconds 60 --stop-file "$DIR/stop" \
  --out "$DIR/probe.jsonl"
PROBE=$LIB_PID
kill -KILL "$PID_P1" && event kill_p1
{ wait "$PID_P1"; } 2>/dev/null || true
at $((B_KILL + P1_DOWN))
start_proxy "$LOG_DIR/p1-restarted.log" "$P1_PORT" "$P1_CLUSTER" "$P1_MGMT_PORT"
event start_p1
lib_start "$DIR/ready-at" python3 scripts/management.py ready-at "http://$P1_MGMT" 60
READY=$LIB_PID
await_bench "$OTHER_PID" "$OTHER_JSON"
await_bench "$BENCH_PID" "$BENCH_JSON"
if wait "$READY"; then
  echo "ready_p1 $(cat "$DIR/ready-at")" >>"$DIR/events"
fi
# Every policy answered through P1 alone, or the probe's 60 s are up.
python3 - "$DIR/probe.jsonl" "$POLICIES" "$(grep start_p1 "$DIR/events" | cut -d' ' -f2)" <<'PY' || true
import json, sys, time
path, policies, start = sys.argv[1], set(sys.argv[2].split(",")), float(sys.argv[3])
while time.time() < start + 60:
    served = {json.loads(l)["path"].split("/")[1] for l in open(path) if '"ok"' in l and json.loads(l)["t0"] >= start}
    if served >= policies:
        break
    time.sleep(0.2)
PY
touch "$DIR/stop"
wait "$PROBE" || true
python3 scripts/chaos.py row --fault proxy --label "b. proxy kill -9 (bench over P1 and P2)" \
  --bench "$DIR/bench.json" --events "$DIR/events" "${WATCH[@]}" --probe "$DIR/probe.jsonl" \
  --policies "$POLICIES" --other-bench "$DIR/bench-p2-only.json" \
  --other-label "b. proxy kill -9 (P2's clients alone)" --other-result "$DIR/row-p2-only.json" \
  --result "$DIR/row.json"
whole 4 111=2 222=2 333=2

# --- c. silent legacy backend ----------------------------------------------------------------
DIR=$LOG_DIR/c && mkdir -p "$DIR"
echo "[${SECONDS}s] c. silent legacy backend: $LOAD; at $((WARMUP + 1))s a backend that never answers registers with P2 for 333, load until $((WARMUP + 1 + C_SILENT))s"
bench "$DIR/bench.json" $((1 + C_SILENT)) "$RATE" 32 "${BOTH[@]}"
clock_started "$BENCH_JSON"
at $((WARMUP + 1))
touch "$DIR/silent.log"
lib_start "$DIR/silent-backend.log" python3 scripts/silent_backend.py --proxy "127.0.0.1:$P2_PORT" \
  --id 900 --policy 333 --listen "$SILENT_PORT" --out "$DIR/silent.log" --max-seconds 120
SILENT=$LIB_PID
event silent_start
await_bench "$BENCH_PID" "$BENCH_JSON"
lib_ours "$SILENT" || die "the silent backend exited early (see $DIR/silent-backend.log)"
lib_stop 5 "$SILENT"
python3 scripts/chaos.py row --fault silent --label "c. silent legacy backend" --bench "$DIR/bench.json" \
  --events "$DIR/events" "${WATCH[@]}" --silent-log "$DIR/silent.log" --policy 333 --max-silent 4 \
  --result "$DIR/row.json"

echo
echo "Faults under load ($FORM form, ${SECONDS}s in all):"
echo
python3 scripts/chaos.py table "$LOG_DIR/a/row.json" "$LOG_DIR/b/row.json" "$LOG_DIR/b/row-p2-only.json" \
  "$LOG_DIR/c/row.json" | tee "$LOG_DIR/table.md"
