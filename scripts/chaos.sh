#!/usr/bin/env bash
# Fault injection on the real multi-JVM topology, under a steady verified load:
#
#   proxy (seed, 127.0.0.1:PORT) + worker nodes A, B, C; policies 111 and 222 span all three
#   bench --rate R          every reply's SHA-1 checked, latency from the scheduled send time
#   at T1: kill -9 node B   a crash: no goodbye to the cluster
#   at T2: start node B     it rejoins and its workers register again
#   at T3: SIGTERM node C   a graceful leave: deregister, serve the grace period, leave
#
# Prints sent / ok / wrong / lost, latency, and the proxy's retries and ejections, and exits 0
# only if every request got a correct reply. The proxy's figures come from its management
# endpoint: retries and ejections from /metrics, and when the crashed node left the rotation from
# /routing, polled every 200 ms. Only loopback; every process it starts is stopped by PID on exit,
# also on Ctrl-C. `--short` is the CI form (about 40 s in all).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/chaos-logs
PORT=${CHAOS_PORT:-2400}
CLUSTER_PORT=${CHAOS_CLUSTER_PORT:-2751}
RATE=400
# Seconds after the load starts; the first WARMUP seconds (cold JVMs) are left out of the numbers.
WARMUP=3
DURATION=40 T_KILL=10 T_RESTART=18 T_TERM=26
if [[ ${1:-} == --short ]]; then
  DURATION=20 T_KILL=7 T_RESTART=12 T_TERM=16
elif [[ -n ${1:-} ]]; then
  echo "usage: scripts/chaos.sh [--short]" >&2
  exit 2
fi
JAVA=(java -Xms64m -Xmx256m -XX:+UseSerialGC)

lib_build_jar "$JAR"
for port in "$PORT" "$CLUSTER_PORT"; do
  lib_port_in_use "$port" && die "port $port on 127.0.0.1 is in use (set CHAOS_PORT / CHAOS_CLUSTER_PORT)"
done
# Management endpoints of the proxy and of node B (to learn its address), above both ports.
PORTS=$(lib_free_ports $((PORT > CLUSTER_PORT ? PORT + 1 : CLUSTER_PORT + 1)) 2)
read -r MANAGEMENT_PORT NODE_B_MANAGEMENT_PORT <<<"$PORTS"
PROXY_MANAGEMENT=http://127.0.0.1:$MANAGEMENT_PORT
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"
lib_stop_on_exit 10

management() { python3 scripts/management.py "$@"; }
COUNTERS=(revproxy_retries_total revproxy_ejections_total) # summed over policies

SEED=(--seed "127.0.0.1:$CLUSTER_PORT")
start_node() { # log workers [options...] -> LIB_PID
  local log=$1 workers=$2
  shift 2
  lib_start "$log" "${JAVA[@]}" -jar "$JAR" worker --worker "$workers" "${SEED[@]}" "$@"
}

echo "Starting the proxy and worker nodes A, B, C (logs in $LOG_DIR/)"
lib_start "$LOG_DIR/proxy.log" "${JAVA[@]}" -jar "$JAR" proxy --port "$PORT" \
  --cluster-port "$CLUSTER_PORT" "${SEED[@]}" --management-port "$MANAGEMENT_PORT"
start_node "$LOG_DIR/node-A.log" 100:111,200:222
start_node "$LOG_DIR/node-B.log" 300:111,400:222 --management-port "$NODE_B_MANAGEMENT_PORT"
PID_B=$LIB_PID
start_node "$LOG_DIR/node-C.log" 500:111,600:222
PID_C=$LIB_PID
java -jar "$JAR" client --port "$PORT" --expect-workers 111=3,222=3 --wait 90s packets/ \
  >"$LOG_DIR/ready.log" 2>&1 || { tail -5 "$LOG_DIR/ready.log"; die "the cluster did not get ready"; }
NODE_B=$(management node "http://127.0.0.1:$NODE_B_MANAGEMENT_PORT") || die "node B's management endpoint did not answer"
echo "Ready: 3 worker nodes serve each policy (node B is $NODE_B)"

TOTALS_BEFORE=$(management sum "$PROXY_MANAGEMENT" "${COUNTERS[@]}") || die "the proxy's /metrics did not answer"
# Every 200 ms: time, routees of node B serving, retries, ejections.
lib_start "$LOG_DIR/routing.txt" python3 scripts/management.py poll "$PROXY_MANAGEMENT" "$NODE_B" "${COUNTERS[@]}"
POLLER=$LIB_PID
echo "Load: $RATE requests/s, ${WARMUP}s warmup then ${DURATION}s measured; kill -9 of node B at ${T_KILL}s, restart at ${T_RESTART}s, SIGTERM of node C at ${T_TERM}s"
java -jar "$JAR" bench --port "$PORT" --rate "$RATE" --duration "${DURATION}s" --warmup "${WARMUP}s" \
  --connections 32 --pipeline 4 --timeout 10s --json >"$LOG_DIR/bench.json" 2>"$LOG_DIR/bench.log" &
BENCH=$!
lib_track "$BENCH"
START=$(date +%s.%N)
at() { # wait until second $1 of the load
  local wait
  wait=$(python3 -c "import time; print(max(0.0, $START + $1 - time.time()))")
  sleep "$wait"
}
at "$T_KILL"
lib_ours "$PID_B" || die "node B exited before the kill (see $LOG_DIR/node-B.log)"
kill -KILL "$PID_B"; KILL_AT=$(date +%s.%N); echo "  ${T_KILL}s: kill -9 node B ($(date -d "@$KILL_AT" +%T.%3N))"
at "$T_RESTART"; start_node "$LOG_DIR/node-B-restarted.log" 300:111,400:222; echo "  ${T_RESTART}s: node B started again"
at "$T_TERM"
lib_ours "$PID_C" || die "node C exited before the SIGTERM (see $LOG_DIR/node-C.log)"
kill -TERM "$PID_C"; echo "  ${T_TERM}s: SIGTERM to node C"
wait "$BENCH" || true
TOTALS_AFTER=$(management sum "$PROXY_MANAGEMENT" "${COUNTERS[@]}") || die "the proxy's /metrics did not answer"
lib_stop 10 "$POLLER"

python3 - "$LOG_DIR/bench.json" "$LOG_DIR/routing.txt" "$KILL_AT" "$TOTALS_BEFORE" "$TOTALS_AFTER" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
kill_at = float(sys.argv[3])
before, after = [list(map(int, s.split())) for s in sys.argv[4:6]]
retries, ejections = after[0] - before[0], after[1] - before[1]
# Samples of /routing and /metrics: time, routees of node B serving, retries, ejections.
samples = [tuple(float(x) for x in line.split()) for line in open(sys.argv[2]) if len(line.split()) == 4]
last_retry = None
for previous, sample in zip(samples, samples[1:]):
    if sample[0] >= kill_at and sample[2] > previous[2]:
        last_retry = sample[0]
seen_serving = any(t < kill_at and serving > 0 for t, serving, _, _ in samples)
out_of_rotation = next((t for t, serving, _, _ in samples if t >= kill_at and serving == 0), None)
lat = bench["latency_us"] if "latency_us" in bench else bench.get("latency", {})
sent, ok = bench["requests"], bench["ok"]
lost = bench.get("lost", 0) + bench.get("timeouts", 0)
print()
print(f"sent {sent}   ok {ok}   wrong {bench['wrong']}   errors {bench['error_count']}   lost {lost}   connection errors {bench['connection_errors']}")
print(f"latency p50 {lat.get('p50')} us   p99 {lat.get('p99')} us   max {lat.get('max')} us")
shift = f"{last_retry - kill_at:.1f} s" if last_retry is not None else "no retries after the kill"
print(f"proxy: {retries} retries, {ejections} ejections; last retry after the kill at +{shift}")
if not seen_serving:
    print("crashed node out of rotation: not measured (/routing never showed it serving before the kill)")
elif out_of_rotation is not None:
    print(f"crashed node out of rotation (unreachable or ejected) {out_of_rotation - kill_at:.1f} s after the kill")
good = sent > 0 and ok == sent and bench["wrong"] == 0 and bench["error_count"] == 0 and lost == 0 and bench["connection_errors"] == 0
print("CHAOS: OK (nothing lost, nothing wrong)" if good else "CHAOS: FAILED")
sys.exit(0 if good else 1)
PY
