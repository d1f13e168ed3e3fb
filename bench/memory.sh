#!/usr/bin/env bash
# RSS and bytes allocated per request of the proxy started as the README says (no JVM flags), for
# docs/BENCHMARKS.md. Starts a proxy and a worker node (or, with --local, a proxy with in-JVM
# workers) from target/akka-reverse-proxy.jar, runs the C load generator (bench/c/build.sh) for
# 10 s each at 1x1, 64x1 and 16x8 and prints each JVM's RSS and peak RSS (/proc VmRSS, VmHWM)
# after each; then records JFR (settings=profile) on each JVM around exactly 200,000 requests at
# 16x8 and prints the bytes allocated per request (jdk.ThreadAllocationStatistics, summed over
# the threads, last value minus first). The report is also written to
# target/memory/{remote,local}/report.txt, beside the nodes' logs and recordings.
#
#   bench/memory.sh [--local]
#
# Needs the JDK's jcmd and jfr. Ports: client 3100, cluster 3551, management 3558 (AB_PORT moves
# them together). Only loopback; the JVMs are stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

LOCAL=0
if [[ ${1:-} == --local ]]; then LOCAL=1; shift; fi
(($# == 0)) || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
JAR=target/akka-reverse-proxy.jar LOADGEN=target/bench-c/loadgen REQUESTS=200000
[[ -f $JAR ]] || die "$JAR not found: mvn -B -Dmaven.test.skip=true package"
[[ -x $LOADGEN ]] || die "$LOADGEN not found: bench/c/build.sh"
{ command -v jcmd && command -v jfr; } >/dev/null || die "jcmd and jfr (the JDK's) not found"
PORT=${AB_PORT:-3100} CLUSTER=$((${AB_PORT:-3100} + 451)) MGMT=$((${AB_PORT:-3100} + 458))
for port in "$PORT" "$CLUSTER" "$MGMT"; do lib_port_in_use "$port" && die "port $port is in use (AB_PORT)"; done
lib_stop_on_exit 10
LOGS=target/memory/$( ((LOCAL)) && echo local || echo remote)
rm -rf "$LOGS"
mkdir -p "$LOGS"
exec > >(tee "$LOGS/report.txt") # what it prints is kept with the run's logs

NODE=(proxy --port "$PORT" --cluster-port "$CLUSTER" --management-port "$MGMT" --seed "127.0.0.1:$CLUSTER")
((LOCAL)) && NODE+=(--local-worker "100:111,300:111")
lib_start "$LOGS/proxy.log" java -jar "$JAR" "${NODE[@]}"
PIDS=("$LIB_PID") NAMES=(proxy)
if ((!LOCAL)); then
  lib_start "$LOGS/worker.log" java -jar "$JAR" worker --worker 100:111,300:111 --seed "127.0.0.1:$CLUSTER"
  PIDS+=("$LIB_PID") NAMES+=(worker)
fi
WORKER_LOG=$LOGS/worker.log
((LOCAL)) && WORKER_LOG=-
lib_wait_ready_and_round_robin "$JAR" "$PORT" "$MGMT" "$WORKER_LOG" "$LOGS/nodes"

rss() { # -> "proxy 246 MB (peak 246 MB), worker ..."
  local k out=""
  for k in "${!PIDS[@]}"; do
    out+="${out:+, }${NAMES[$k]} $(awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} END {printf "%d MB (peak %d MB)", r / 1024, h / 1024}' "/proc/${PIDS[$k]}/status")"
  done
  echo "$out"
}
echo "$( ((LOCAL)) && echo in-JVM || echo remote) workers, no JVM flags"
echo "  started: $(rss)"
for shape in 1x1 64x1 16x8; do
  "$LOADGEN" --port "$PORT" -c "${shape%x*}" -p "${shape#*x}" -d 10s --warmup 0s --json >"$LOGS/$shape.json" ||
    die "the $shape run failed (see $LOGS/$shape.json)"
  echo "  after $shape ($(python3 -c 'import json, sys; print("{:,.0f} req/s".format(json.load(open(sys.argv[1]))["req_per_s"]))' "$LOGS/$shape.json")): $(rss)"
done

for k in "${!PIDS[@]}"; do
  jcmd "${PIDS[$k]}" JFR.start name=memory settings=profile >"$LOGS/${NAMES[$k]}-jcmd.log" 2>&1 ||
    die "jcmd JFR.start failed on the ${NAMES[$k]} (PID ${PIDS[$k]}; see $LOGS/${NAMES[$k]}-jcmd.log)"
done
"$LOADGEN" --port "$PORT" -c 16 -p 8 -n "$REQUESTS" --json >"$LOGS/jfr-load.json" ||
  die "the recorded run failed (see $LOGS/jfr-load.json)"
for k in "${!PIDS[@]}"; do
  jcmd "${PIDS[$k]}" JFR.stop name=memory filename="$PWD/$LOGS/${NAMES[$k]}.jfr" >>"$LOGS/${NAMES[$k]}-jcmd.log" 2>&1 ||
    die "jcmd JFR.stop failed on the ${NAMES[$k]} (PID ${PIDS[$k]}; see $LOGS/${NAMES[$k]}-jcmd.log)"
done
echo "  after $REQUESTS requests at 16x8, recorded: $(rss)"
for name in "${NAMES[@]}"; do
  jfr print --json --events jdk.ThreadAllocationStatistics "$LOGS/$name.jfr" >"$LOGS/$name-allocation.json" ||
    die "jfr print failed on $LOGS/$name.jfr"
  python3 - "$LOGS/$name-allocation.json" "$REQUESTS" "$name" <<'PY'
import json, sys
path, requests, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first, last = {}, {}
for event in json.load(open(path))["recording"]["events"]:
    values = event["values"]
    thread = values["thread"]["javaThreadId"] if values["thread"] else None
    first.setdefault(thread, values["allocated"])
    last[thread] = values["allocated"]
total = sum(last[t] - first[t] for t in last)
print(f"  {name}: {total / requests:,.0f} bytes allocated per request")
PY
done
