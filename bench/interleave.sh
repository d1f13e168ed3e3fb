#!/usr/bin/env bash
# The targets of issue 13 measured side by side, in turns, so that a ratio to HAProxy compares runs
# 10-30 s apart instead of the minutes between bench/compare.sh's sections (this machine's speed
# drifts by more than the gaps within an hour: docs/BENCHMARKS.md). Starts every target at
# once, each on ports of its own, and leaves them up:
#
#   haproxy  HAProxy nbthread 1 -> two C backends (bench/c/backend.c, unregistered)
#   remote   proxy + a worker node (--worker 100:111,300:111)
#   local    proxy with in-JVM workers (--local-worker 100:111,300:111)
#   legacy   proxy + two C backends registered as server.py registers (no connections count)
#
# warms each up (16x8, then every shape, not counted), waits up to 60 s until the idle targets
# together use under 5% of a core (the JIT compilers done; it says so if they never get there),
# then, ROUNDS times, for each shape, runs the C load generator (bench/c/build.sh) against each
# target in turn (2 s warmup + 8 s measured; the order rotates every round) and prints a line per
# run; at the end, per shape and target, the spread of req/s and of the ratios to HAProxy's run of
# the same round and shape: req/s, p50, and CPU per request (the target's processes: proxy tier
# plus backends, over the 10 s, divided by the requests of the 10 s). Runs that did not verify
# every reply are left out of the summary. The other targets sit idle beside each run. JVM flags
# as bench/compare.sh: proxy -Xms512m -Xmx512m, worker -Xms256m -Xmx256m.
#
#   bench/interleave.sh [ROUNDS [SHAPES [TARGETS]]]    e.g. bench/interleave.sh 3 "1x1 64x1 16x8"
#
# Defaults: one round per target (4), "1x1 64x1 16x8", "haproxy remote local legacy". Needs
# haproxy (apt-get install haproxy; bench/compare.sh installs it). Ports 3200-3234
# (INTERLEAVE_PORT moves them); only loopback; everything it started is stopped (by PID) on exit.
# Logs: target/interleave/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
[[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
(($# <= 3)) || { usage; exit 2; }
SHAPES=${2:-"1x1 64x1 16x8"} TARGETS=${3:-"haproxy remote local legacy"}
read -r -a ORDER <<<"$TARGETS"
ROUNDS=${1:-${#ORDER[@]}}
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || die "ROUNDS must be 1-99, got '$ROUNDS'"
for shape in $SHAPES; do [[ $shape =~ ^[0-9]+x[0-9]+$ ]] || die "shape '$shape' is not CxP"; done
for target in $TARGETS; do
  [[ $target =~ ^(haproxy|remote|local|legacy)$ ]] || die "unknown target '$target' (haproxy remote local legacy)"
done
[[ " $TARGETS " == *" haproxy "* ]] || die "the targets must include haproxy: every ratio is to it"
JAR=target/akka-reverse-proxy.jar LOADGEN=target/bench-c/loadgen BACKEND=target/bench-c/backend
[[ -f $JAR ]] || die "$JAR not found: mvn -B -Dmaven.test.skip=true package"
[[ -x $LOADGEN && -x $BACKEND ]] || die "$LOADGEN or $BACKEND not found: bench/c/build.sh"
command -v haproxy >/dev/null || die "haproxy not found: apt-get install haproxy"
BASE=${INTERLEAVE_PORT:-3200}
for ((port = BASE; port <= BASE + 34; port++)); do
  lib_port_in_use "$port" && die "port $port is in use (INTERLEAVE_PORT moves the range)"
done
lib_stop_on_exit 10
LOGS=target/interleave
rm -rf "$LOGS"
mkdir -p "$LOGS"

declare -A PORT PIDS
wanted() { [[ " $TARGETS " == *" $1 "* ]]; }

start_proxy() { # target offset [proxy options...] -> PORT[target], its PID first in PIDS[target]
  local target=$1 offset=$2
  shift 2
  local port=$((BASE + offset))
  lib_start "$LOGS/$target-proxy.log" java -Xms512m -Xmx512m -jar "$JAR" proxy --port "$port" \
    --cluster-port $((port + 1)) --management-port $((port + 2)) --seed "127.0.0.1:$((port + 1))" "$@"
  PORT[$target]=$port PIDS[$target]=$LIB_PID
}

start_backends() { # target first-port [backend options...] -> two C backends, their PIDs in PIDS[target]
  local target=$1 first=$2 id port i
  shift 2
  for id in 100 300; do
    port=$first
    [[ $id == 300 ]] && port=$((first + 1))
    lib_start "$LOGS/$target-backend-$id.log" "$BACKEND" -id "$id" -listen "$port" "$@"
    PIDS[$target]+=" $LIB_PID"
    for ((i = 0; i < 50; i++)); do
      lib_port_in_use "$port" && break
      sleep 0.1
    done
    ((i < 50)) || die "backend $id of $target did not listen on port $port within 5 s (see $LOGS/$target-backend-$id.log)"
  done
}

if wanted haproxy; then
  PORT[haproxy]=$BASE PIDS[haproxy]=""
  start_backends haproxy $((BASE + 1)) --no-register
  lib_haproxy_config "$LOGS/haproxy.cfg" 1 "$BASE" $((BASE + 1)) $((BASE + 2))
  lib_start "$LOGS/haproxy.log" haproxy -db -f "$LOGS/haproxy.cfg"
  PIDS[haproxy]="$LIB_PID ${PIDS[haproxy]}"
  for ((i = 0; i < 50; i++)); do
    lib_port_in_use "$BASE" && break
    sleep 0.1
  done
  ((i < 50)) || die "HAProxy did not listen on port $BASE within 5 s (see $LOGS/haproxy.log)"
fi
if wanted remote; then
  start_proxy remote 10
  lib_start "$LOGS/remote-worker.log" java -Xms256m -Xmx256m -jar "$JAR" worker --worker 100:111,300:111 \
    --seed "127.0.0.1:$((BASE + 11))"
  PIDS[remote]+=" $LIB_PID"
fi
wanted local && start_proxy local 20 --local-worker 100:111,300:111
if wanted legacy; then
  start_proxy legacy 30
  for ((i = 0; i < 120; i++)); do
    lib_port_in_use $((BASE + 30)) && break
    sleep 0.5
  done
  ((i < 120)) || die "the legacy proxy did not listen on port $((BASE + 30)) within 60 s (see $LOGS/legacy-proxy.log)"
  # A C backend registers once, when it starts: with the proxy listening.
  start_backends legacy $((BASE + 33)) -pp 111 -revproc $((BASE + 30))
fi

wanted remote && lib_wait_ready_and_round_robin "$JAR" "${PORT[remote]}" $((BASE + 12)) "$LOGS/remote-worker.log" "$LOGS/remote"
wanted local && lib_wait_ready_and_round_robin "$JAR" "${PORT[local]}" $((BASE + 22)) - "$LOGS/local"
wanted legacy && lib_wait_ready_and_round_robin "$JAR" "${PORT[legacy]}" $((BASE + 32)) - "$LOGS/legacy"
cpu_ticks() { # pid... -> utime + stime of them all, in clock ticks; "" if one has exited
  local pid f sum=0
  for pid in "$@"; do
    f=()
    read -r -a f <"/proc/$pid/stat" 2>/dev/null || { echo ""; return; }
    sum=$((sum + f[13] + f[14]))
  done
  echo "$sum"
}
ticks_of() { # pid... -> as cpu_ticks, or dies naming the process that exited
  local ticks
  ticks=$(cpu_ticks "$@")
  [[ -n $ticks ]] || die "a process of the targets exited (PIDs $*; see $LOGS/)"
  echo "$ticks"
}

# The JIT's warmup (and HAProxy's connections to its backends): 16x8 and then every shape, not
# counted. Then until the JIT compilers have finished with what that taught them: a JVM that still
# compiles in the background takes CPU from whichever target runs next.
for target in $TARGETS; do
  "$LOADGEN" --port "${PORT[$target]}" -c 16 -p 8 -d 5s --warmup 1s --json >"$LOGS/$target-warmup.json" ||
    die "the warmup run of $target failed (see $LOGS/$target-warmup.json and the logs beside it)"
  for shape in $SHAPES; do
    "$LOADGEN" --port "${PORT[$target]}" -c "${shape%x*}" -p "${shape#*x}" -d 2s --warmup 0s >/dev/null ||
      die "the warmup run of $target at $shape failed"
  done
done
read -r -a ALL <<<"${PIDS[*]}"
HZ=$(getconf CLK_TCK)
for ((i = 0; i < 30; i++)); do # at most 60 s: until all targets together take under 5% of a core
  before=$(ticks_of "${ALL[@]}")
  sleep 2
  idle=$(($(ticks_of "${ALL[@]}") - before))
  ((idle * 100 < HZ * 2 * 5)) && break
done
if ((i < 30)); then
  echo "warmed up; the idle targets took $idle ticks (1/$HZ s) in the last 2 s"
else
  echo "${0##*/}: the idle targets still took $idle ticks (1/$HZ s) per 2 s after 60 s; going on" >&2
fi

RESULTS=$LOGS/results.tsv
: >"$RESULTS"
FAILED=0
for ((round = 1; round <= ROUNDS; round++)); do
  for shape in $SHAPES; do
    for ((k = 0; k < ${#ORDER[@]}; k++)); do
      target=${ORDER[$(((k + round - 1) % ${#ORDER[@]}))]}
      read -r -a pids <<<"${PIDS[$target]}"
      before=$(ticks_of "${pids[@]}")
      json=$LOGS/$target-$shape-$round.json
      "$LOADGEN" --port "${PORT[$target]}" -c "${shape%x*}" -p "${shape#*x}" -d 8s --warmup 2s --json >"$json" || FAILED=1
      after=$(ticks_of "${pids[@]}")
      python3 - "$json" "$round" "$shape" "$target" $((after - before)) "$HZ" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS" <<'PY'
import json, sys
path, rnd, shape, target, ticks, hz, load = sys.argv[1:]
try:
    d = json.load(open(path))
    # CPU over the 10 s (warmup + measured) over the requests of the 10 s, in s per 100k requests.
    total = d["total_requests"]
    cpu = int(ticks) / int(hz) / total * 1e5 if total else float("nan")
    fields = [round(d["req_per_s"]), d["latency_us"]["p50"], f"{cpu:.2f}", d["passed"], d["ok"], d["requests"]]
except (OSError, ValueError, KeyError, TypeError):  # no JSON: the generator failed before it wrote one
    fields = [0, 0, "nan", False, 0, 0]
print("\t".join(map(str, [rnd, shape, target, *fields, load])))
PY
      tail -n 1 "$RESULTS" | awk -F'\t' '{printf "round %s  %-5s %-8s %9s req/s  p50 %6s us  CPU %6s s/100k  passed=%s (%s/%s)  load %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10}'
    done
  done
done

python3 - "$RESULTS" <<'PY'
import collections, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
rows = [r for r in rows if r[6] == "True"]  # only runs that verified every reply
by = {(r[0], r[1], r[2]): r for r in rows}
shapes = list(dict.fromkeys(r[1] for r in rows))
targets = list(dict.fromkeys(r[2] for r in rows))
def spread(values):
    values = sorted(values)
    return f"{values[0]:.2f} / {statistics.median(values):.2f} / {values[-1]:.2f}" if values else "-"
print("\nPer shape and target: req/s min / median / max; ratios to HAProxy's run of the same round,"
      " min / median / max")
print("| shape | target | req/s | req/s ratio | p50 ratio | CPU/request ratio |")
print("|---|---|---|---|---|---|")
for shape in shapes:
    for target in targets:
        mine = [r for r in rows if r[1] == shape and r[2] == target]
        if not mine:
            print(f"| {shape} | {target} | no run verified | - | - | - |")
            continue
        reqs = sorted(int(r[3]) for r in mine)
        ratios = collections.defaultdict(list)
        for r in mine:
            h = by.get((r[0], shape, "haproxy"))
            if h is None or target == "haproxy":
                continue
            ratios["req"].append(int(r[3]) / int(h[3]))
            ratios["p50"].append(int(r[4]) / int(h[4]))
            ratios["cpu"].append(float(r[5]) / float(h[5]))
        print(f"| {shape} | {target} | {reqs[0]:,} / {statistics.median(reqs):,.0f} / {reqs[-1]:,} | "
              f"{spread(ratios['req'])} | {spread(ratios['p50'])} | {spread(ratios['cpu'])} |")
PY
((FAILED == 0)) || die "a run did not verify every reply (see $LOGS/)"
