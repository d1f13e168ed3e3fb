#!/usr/bin/env bash
# System calls, context switches and CPU per request of each JVM, for the profile in
# docs/BENCHMARKS.md ("Where the time goes now: both JVMs, per request"). Starts a proxy and a
# worker node (or, with --local, a proxy with in-JVM workers) from target/akka-reverse-proxy.jar as
# bench/ab-dispatch.sh does (with --legacy, a proxy and two C backends that register as server.py
# registers, as bench/interleave.sh's legacy target), warms up at 16x8 and at the shape, then
# counts with `perf stat` on each JVM for 5 s while the C load generator (bench/c/build.sh) runs
# the shape, and divides by the requests verified in those 5 s.
#
#   bench/per-request.sh [--local|--legacy] CxP        e.g. bench/per-request.sh 1x1
#
# Needs `perf` (Debian: linux-perf) and root or perf_event_paranoid <= 1. Ports: client 3100,
# cluster 3551, management 3558 (AB_PORT moves them together). Only loopback; both JVMs are
# stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

LOCAL=0 LEGACY=0
if [[ ${1:-} == --local ]]; then LOCAL=1; shift; fi
if [[ ${1:-} == --legacy ]]; then LOCAL=1 LEGACY=1; shift; fi
(($# == 1)) && [[ $1 =~ ^([0-9]+)x([0-9]+)$ ]] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
CONNECTIONS=${BASH_REMATCH[1]} PIPELINE=${BASH_REMATCH[2]}
JAR=target/akka-reverse-proxy.jar LOADGEN=target/bench-c/loadgen BACKEND=target/bench-c/backend
[[ -f $JAR ]] || die "$JAR not found: mvn -B -Dmaven.test.skip=true package"
[[ -x $LOADGEN ]] || die "$LOADGEN not found: bench/c/build.sh"
command -v perf >/dev/null || die "perf not found (Debian: apt-get install linux-perf)"
PORT=${AB_PORT:-3100} CLUSTER=$((${AB_PORT:-3100} + 451)) MGMT=$((${AB_PORT:-3100} + 458))
for port in "$PORT" "$CLUSTER" "$MGMT" $((PORT + 11)) $((PORT + 13)); do lib_port_in_use "$port" && die "port $port is in use (AB_PORT)"; done
lib_stop_on_exit 10
LOGS=target/per-request
mkdir -p "$LOGS"

NODE=(proxy --port "$PORT" --cluster-port "$CLUSTER" --management-port "$MGMT" --seed "127.0.0.1:$CLUSTER")
((LOCAL && !LEGACY)) && NODE+=(--local-worker "100:111,300:111")
lib_start "$LOGS/proxy.log" java -Xms512m -Xmx512m -jar "$JAR" "${NODE[@]}"
PIDS=("$LIB_PID") NAMES=(proxy)
if ((LEGACY)); then
  # A C backend registers once, when it starts: with the proxy listening.
  for ((i = 0; i < 120; i++)); do
    lib_port_in_use "$PORT" && break
    sleep 0.5
  done
  for id in 100 300; do
    lib_start "$LOGS/backend-$id.log" "$BACKEND" -id "$id" -listen $((PORT + id / 100 + 10)) -pp 111 -revproc "$PORT"
  done
fi
if ((!LOCAL)); then
  lib_start "$LOGS/worker.log" java -Xms256m -Xmx256m -jar "$JAR" worker --worker 100:111,300:111 --seed "127.0.0.1:$CLUSTER"
  PIDS+=("$LIB_PID") NAMES+=(worker)
fi
WORKER_LOG=$LOGS/worker.log
((LOCAL)) && WORKER_LOG=-
lib_wait_ready_and_round_robin "$JAR" "$PORT" "$MGMT" "$WORKER_LOG" "$LOGS/nodes"
"$LOADGEN" --port "$PORT" -c 16 -p 8 -d 8s --warmup 1s >/dev/null || die "the warmup run failed"
"$LOADGEN" --port "$PORT" -c "$CONNECTIONS" -p "$PIPELINE" -d 4s --warmup 1s >/dev/null || die "the warmup run failed"

"$LOADGEN" --port "$PORT" -c "$CONNECTIONS" -p "$PIPELINE" -d 7s --warmup 0s --json >"$LOGS/load.json" &
LOAD=$!
sleep 1
EVENTS=syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,context-switches,task-clock
STATS=()
for k in "${!PIDS[@]}"; do
  perf stat -x, -e "$EVENTS" -p "${PIDS[$k]}" -- sleep 5 2>"$LOGS/${NAMES[$k]}.stat" &
  STATS+=($!)
done
wait "${STATS[@]}"
wait "$LOAD" || die "the load run failed (see $LOGS/load.json)"
python3 - "$LOGS" "$LOCAL" "${NAMES[@]}" <<'PY'
import json, sys
logs, local, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
d = json.load(open(f"{logs}/load.json"))
requests = d["req_per_s"] * 5  # the 5 s counted, at the run's rate
print(f"{'in-JVM or legacy' if local else 'remote'}: {d['req_per_s']:,.0f} req/s, p50 {d['latency_us']['p50']} us, "
      f"verified {d['ok']}/{d['requests']}, passed={d['passed']}")
for name in names:
    counts = {}
    for line in open(f"{logs}/{name}.stat"):
        f = line.strip().split(",")
        if len(f) > 2 and f[0][:1].isdigit():
            counts[f[2].replace("syscalls:sys_enter_", "")] = float(f[0])
    cpu_us = counts.pop("task-clock") * 1e3 / requests  # task-clock is in ms
    print(f"  {name:6s} per request: " + ", ".join(f"{k} {v / requests:.2f}" for k, v in counts.items())
          + f", CPU {cpu_us:.1f} us")
PY
