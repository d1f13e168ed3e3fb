#!/usr/bin/env bash
# One arm of an interleaved A/B pair: starts a proxy and a worker node (or, with --local, a proxy
# with in-JVM workers) from target/akka-reverse-proxy.jar with the given JVM options on both, runs
# the C load generator (bench/c/build.sh) at each shape after a 5 s warmup at 16x8, and prints one
# line per shape: req/s, p50, verified replies, and each JVM's CPU seconds over the shape's 10 s
# (2 s warmup + 8 s measured). The pairs of docs/BENCHMARKS.md, "One thread pool", were run with
# its first form (the same JVM flags, ports and load generator calls):
#
#   bench/ab-dispatch.sh base "1x1 64x1 16x8"
#   bench/ab-dispatch.sh pool "1x1 64x1 16x8" -Dakka.io.tcp.worker-dispatcher=akka.actor.default-dispatcher \
#     -Dakka.remote.artery.advanced.use-dispatcher=akka.actor.default-dispatcher
#   bench/ab-dispatch.sh [--local] LABEL "CxP ..." [JVM option...]
#
# Exit status 1 when a shape did not pass: a wrong reply, an error or timeout, or a connection left
# without a reply within the generator's 10 s (CI runs `--local ci 1000x1` so).
#
# Ports: client 3100, cluster 3551, management 3558 (AB_PORT moves them together). Only
# loopback; both JVMs are stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

LOCAL=0
if [[ ${1:-} == --local ]]; then LOCAL=1; shift; fi
(($# >= 2)) || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
LABEL=$1 SHAPES=$2
shift 2
JAR=target/akka-reverse-proxy.jar LOADGEN=target/bench-c/loadgen
[[ -f $JAR ]] || die "$JAR not found: mvn -B -Dmaven.test.skip=true package"
[[ -x $LOADGEN ]] || die "$LOADGEN not found: bench/c/build.sh"
PORT=${AB_PORT:-3100} CLUSTER=$((${AB_PORT:-3100} + 451)) MGMT=$((${AB_PORT:-3100} + 458))
for port in "$PORT" "$CLUSTER" "$MGMT"; do lib_port_in_use "$port" && die "port $port is in use (AB_PORT)"; done
lib_stop_on_exit 10
LOGS=target/ab-dispatch
mkdir -p "$LOGS"

NODE=(proxy --port "$PORT" --cluster-port "$CLUSTER" --management-port "$MGMT" --seed "127.0.0.1:$CLUSTER")
((LOCAL)) && NODE+=(--local-worker "100:111,300:111")
lib_start "$LOGS/$LABEL-proxy.log" java -Xms512m -Xmx512m "$@" -jar "$JAR" "${NODE[@]}"
PROXY=$LIB_PID WORKER=$LIB_PID
if ((!LOCAL)); then
  lib_start "$LOGS/$LABEL-worker.log" java -Xms256m -Xmx256m "$@" -jar "$JAR" worker --worker 100:111,300:111 --seed "127.0.0.1:$CLUSTER"
  WORKER=$LIB_PID
fi
WORKER_LOG=$LOGS/$LABEL-worker.log
((LOCAL)) && WORKER_LOG=-
lib_wait_ready_and_round_robin "$JAR" "$PORT" "$MGMT" "$WORKER_LOG" "$LOGS/$LABEL"
"$LOADGEN" --port "$PORT" -c 16 -p 8 -d 5s --warmup 1s --json >"$LOGS/$LABEL-warmup.json" ||
  die "the warmup run failed (see $LOGS/$LABEL-warmup.json and the logs beside it)"

FAILED=()
cpu_ticks() { local f; read -r -a f <"/proc/$1/stat"; echo $((f[13] + f[14])); }
for shape in $SHAPES; do
  [[ $shape =~ ^([0-9]+)x([0-9]+)$ ]] || die "shape '$shape' is not CxP"
  p0=$(cpu_ticks "$PROXY") w0=$(cpu_ticks "$WORKER")
  json=$("$LOADGEN" --port "$PORT" -c "${BASH_REMATCH[1]}" -p "${BASH_REMATCH[2]}" -d 8s --warmup 2s --json) || true
  p1=$(cpu_ticks "$PROXY") w1=$(cpu_ticks "$WORKER")
  printf '%s\n' "$json" >"$LOGS/$LABEL-$shape.json"
  if python3 - "$LABEL" "$shape" "$json" $((p1 - p0)) $((w1 - w0)) "$LOCAL" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
label, shape, out, proxy, worker, local, load = sys.argv[1:]
d = json.loads(out)
tick = 100  # USER_HZ
workers = "in the proxy" if local == "1" else f"{int(worker) / tick:.2f} s"
print(f"{label:10s} {shape:5s} {d['req_per_s']:>10,.0f} req/s  p50 {d['latency_us']['p50']} us  "
      f"verified {d['ok']}/{d['requests']} passed={d['passed']} timeouts={d['timeouts']} "
      f"lost={d['lost']} connection_errors={d['connection_errors']}  "
      f"CPU proxy {int(proxy) / tick:.2f} s, worker {workers}  load {load}")
for problem in d.get("problems", [])[:3]:
    print(f"  {problem}")
sys.exit(0 if d["passed"] else 1)
PY
  then :; else FAILED+=("$shape"); fi
done
# Exit 1 when a shape did not pass (a wrong reply, an error, a timeout, a connection left without
# a reply): CI runs 1000x1 this way, the check that accepting keeps up under load.
((${#FAILED[@]} == 0)) || die "did not pass: ${FAILED[*]} (JSON in $LOGS/)"
