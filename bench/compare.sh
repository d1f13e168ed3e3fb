#!/usr/bin/env bash
# Benchmarks the proxy side by side with HAProxy, on this machine, in one run, with a load
# generator that verifies every reply: the jar's `bench` role (--generator java, the default) or
# the independent C one, bench/c/loadgen.c (--generator c):
#
#   a   proxy, HashWorkers in the proxy's JVM        proxy --local-worker 100:111,300:111
#   b   proxy, HashWorkers in a second JVM           proxy + worker --worker 100:111,300:111
#   c   proxy, two legacy `server` backends          proxy + server -id 100 / -id 300 (policy 111)
#   d1  HAProxy TCP round robin, nbthread 1          -> the same two `server` backends
#   d2  HAProxy TCP round robin, nbthread 2          -> the same two `server` backends
#   e   no proxy: bench straight to one `server`     the ceiling of this machine
#
# The two legacy backends are the jar's `server` role (--backends java, the default: it announces
# 32 connections) or bench/c/backend.c (--backends c: it registers exactly as server.py does,
# without a connections count, and skips registering behind HAProxy).
# For each row it records req/s and latency (from the generator), the CPU time the proxy tier
# used per 100k requests (utime+stime deltas from /proc/PID/stat: the proxy JVM, plus the worker
# JVM for b, haproxy for d), its peak RSS, the backends' and the generator's CPU, and the CPU that
# other processes on the machine used meanwhile (a busy machine makes every number worse).
# The results go into docs/BENCHMARKS.md under a dated heading, with the machine and the command.
#
# Usage: bench/compare.sh [--quick] [--duration S] [--warmup S] [--targets a,b,c,d1,d2,e]
#                         [--generator java|c] [--backends java|c]
#                         [--profile] [--no-docs] [--base-port N] [--wait-quiet S]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
LIB_DIE_STATUS=2

JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/bench-logs
DOC=docs/BENCHMARKS.md
MARKER='<!-- compare.sh inserts new results below this line, newest first -->'
QUICK=0
DURATION=10
WARMUP=3
TARGETS=a,b,c,d1,d2,e
PROFILE=0
PROFILE_SECONDS=20
WRITE_DOCS=1
BASE_PORT=24100
WAIT_QUIET=0
GENERATOR=java
BACKENDS=java
C_BIN=target/bench-c
COMMAND_LINE="bench/compare.sh $*"

# Fixed heaps, so that runs compare; the generator keeps its GC to one thread.
PROXY_JAVA_OPTS=(-Xms512m -Xmx512m)
WORKER_JAVA_OPTS=(-Xms256m -Xmx256m)
SERVER_JAVA_OPTS=(-Xms256m -Xmx256m)
BENCH_JAVA_OPTS=(-Xms256m -Xmx256m -XX:+UseSerialGC)

usage() {
  cat <<EOF
Usage: bench/compare.sh [options]

Runs a verifying load generator against each target in turn on 127.0.0.1 and prints one table;
the full run also writes it, with the machine details, into $DOC.

  --quick           CI mode, under a minute: targets a and c at 16 connections x 4 in flight,
                    3 s each, then a once more with the C loadgen, after the C tools' tests
                    (bench/c/test.sh); fails unless every reply verified; writes nothing to $DOC
  --duration S      seconds measured per row (default $DURATION)
  --warmup S        seconds of load before each row's measurement (default $WARMUP)
  --targets LIST    subset of a,b,c,d1,d2,e (default: all)
  --generator G     java: the jar's bench role (default); c: bench/c/loadgen for the closed-loop
                    rows (open-loop and idle-connection rows still use bench, which has --rate
                    and --idle-connections); the table says which generator ran each row
  --backends B      java: two \`server\` JVMs (default, they announce 32 connections); c: two
                    bench/c/backend processes, registered as server.py registers (no connections
                    count: the proxy learns the pool size), unregistered behind HAProxy
  --profile         also record 20 s of JFR on the proxy of a and c (64x1) and summarize it
  --no-docs         print the table only
  --base-port N     first port to try; ports in use are skipped (default $BASE_PORT)
  --wait-quiet S    before each row, wait up to S seconds until other processes use less than
                    15% of the machine (on a shared machine); default 0 = do not wait
  -h, --help        this help

Targets: a = proxy with in-JVM HashWorkers, b = proxy + worker JVM, c = proxy + two legacy
server backends, d1/d2 = HAProxy (nbthread 1/2, TCP round robin) to the same two servers,
e = bench straight to one server. HAProxy is installed with apt-get if missing (as root); the C
tools are built with gcc into $C_BIN/ (libssl-dev installed with apt-get if missing).
Logs and raw JSON: $LOG_DIR/
EOF
}

seconds_value() { # option value -> whole seconds, or die
  [[ $2 =~ ^[0-9]+$ ]] && ((10#$2 >= 1 && 10#$2 <= 3600)) || die "$1 needs whole seconds (1-3600), got '$2'"
  echo $((10#$2))
}

while (($# > 0)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --duration) (($# >= 2)) || die "--duration needs a value"; DURATION=$(seconds_value --duration "$2"); shift 2 ;;
    --warmup) (($# >= 2)) || die "--warmup needs a value"; [[ $2 =~ ^[0-9]+$ ]] || die "--warmup needs whole seconds"; WARMUP=$((10#$2)); shift 2 ;;
    --targets) (($# >= 2)) || die "--targets needs a value"; TARGETS=$2; shift 2 ;;
    --generator) (($# >= 2)) || die "--generator needs a value"; [[ $2 =~ ^(java|c)$ ]] || die "--generator is java or c, got '$2'"; GENERATOR=$2; shift 2 ;;
    --backends) (($# >= 2)) || die "--backends needs a value"; [[ $2 =~ ^(java|c)$ ]] || die "--backends is java or c, got '$2'"; BACKENDS=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --no-docs) WRITE_DOCS=0; shift ;;
    --wait-quiet) (($# >= 2)) || die "--wait-quiet needs a value"; [[ $2 =~ ^[0-9]+$ ]] || die "--wait-quiet needs whole seconds"; WAIT_QUIET=$((10#$2)); shift 2 ;;
    --base-port) (($# >= 2)) || die "--base-port needs a value"; [[ $2 =~ ^[0-9]+$ ]] && ((10#$2 >= 1024 && 10#$2 <= 60000)) || die "--base-port must be 1024-60000"; BASE_PORT=$((10#$2)); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if ((QUICK)); then
  TARGETS=a,c
  DURATION=3
  WARMUP=1
  WRITE_DOCS=0
  PROFILE=0
fi
for target in ${TARGETS//,/ }; do
  [[ $target =~ ^(a|b|c|d1|d2|e)$ ]] || die "unknown target '$target' in --targets (use a,b,c,d1,d2,e)"
done
wanted() { [[ ,$TARGETS, == *,$1,* ]]; }

# Load shapes, connections x requests in flight per connection (closed loop): the issue's columns
# 1x1, 16x1, 64x1 and 16x8 for every proxy target and d1, plus 1000x1 and 64x16 where they were.
SHAPES=("1 1" "16 1" "64 1" "1000 1" "16 8" "64 16") # a, c, d1
B_SHAPES=("1 1" "16 1" "64 1" "16 8" "64 16")        # b

# --- Prerequisites and build ------------------------------------------------------------------

command -v java >/dev/null || die "java not found: install a Java 17 JDK"
apt_install() { # package -> installs it with apt-get (root only)
  ((EUID == 0)) || die "$1 is missing; install it (apt-get install $1) or run as root"
  echo "Installing $1 (apt-get) ..."
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null ||
    die "apt-get install $1 failed"
}
command -v jq >/dev/null || apt_install jq
if wanted d1 || wanted d2; then
  command -v haproxy >/dev/null || apt_install haproxy
fi
if ((PROFILE)); then
  command -v jcmd >/dev/null && command -v jfr >/dev/null || die "--profile needs the JDK's jcmd and jfr tools"
fi

lib_build_jar "$JAR"
NEEDS_C=0
if [[ $GENERATOR == c || $BACKENDS == c ]] || ((QUICK)); then
  NEEDS_C=1
  bench/c/build.sh || die "could not build the C load tools (bench/c/build.sh)"
fi

# Every process runs a copy of the jar (and of the C tools): a rebuild during the run must not
# pull classes or binaries from under it.
mkdir -p "$LOG_DIR"
cp "$JAR" "$LOG_DIR/akka-reverse-proxy.jar"
JAR=$LOG_DIR/akka-reverse-proxy.jar
if ((NEEDS_C)); then
  mkdir -p "$LOG_DIR/bench-c"
  cp "$C_BIN/loadgen" "$C_BIN/backend" "$LOG_DIR/bench-c/"
  LOADGEN=$LOG_DIR/bench-c/loadgen
  C_BACKEND=$LOG_DIR/bench-c/backend
fi
if ((QUICK)); then
  echo "C tools' tests (bench/c/test.sh):"
  if ! bench/c/test.sh | sed 's/^/  /'; then
    die "the C tools' tests failed (bench/c/test.sh; logs in $C_BIN/test-logs/)"
  fi
fi

# 1000 load connections, 10,000 idle ones: the generator and the proxy each need the descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 12000)); then
  echo "compare.sh: warning: ulimit -n is $(ulimit -n); the 10,000 idle connection row needs more" >&2
fi

rm -f "$LOG_DIR"/row-*.json "$LOG_DIR"/row-*.err "$LOG_DIR"/rss-* "$LOG_DIR"/results.tsv "$LOG_DIR"/commands.txt \
  "$LOG_DIR"/profiles.txt "$LOG_DIR"/idle-baseline.txt "$LOG_DIR"/jfr-*.md
RESULTS=$LOG_DIR/results.tsv
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# --- Ports ------------------------------------------------------------------------------------

PORTS=$(lib_free_ports "$BASE_PORT" 6)
read -r PROXY_PORT CLUSTER_PORT SERVER1_PORT SERVER2_PORT HAPROXY_PORT MANAGEMENT_PORT <<<"$PORTS"

# --- Processes and cleanup --------------------------------------------------------------------

# Every process started is stopped on exit: TERM, up to 15 s, then KILL.
lib_stop_on_exit 15

start_bg() { # name command... -> runs it in the background, logging to LOG_DIR/name.log; LAST_PID
  local name=$1
  shift
  lib_start "$LOG_DIR/$name.log" "$@"
  LAST_PID=$LIB_PID
  echo "  started $name (pid $LAST_PID): $*" >>"$LOG_DIR/commands.txt"
}

bench() { # bench options... (the jar's bench role with the generator's JVM flags)
  java "${BENCH_JAVA_OPTS[@]}" -jar "$JAR" bench "$@"
}

probe() { # port -> status 0 if 200 requests all verified, with the run's generator; JSON in probe.json
  if [[ $GENERATOR == c ]]; then
    "$LOADGEN" --port "$1" -n 200 -c 2 -p 2 --timeout 2s --policy 111 --json >"$LOG_DIR/probe.json" 2>&1
  else
    bench --port "$1" --requests 200 -c 2 -p 2 --warmup 0s --timeout 2s --policies 111 --json >"$LOG_DIR/probe.json" 2>&1
  fi
}

wait_verified() { # port name pid -> until a short run verifies every reply (90 s at most)
  local port=$1 name=$2 pid=$3 i
  for ((i = 0; i < 90; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited early; see $LOG_DIR/$name.log"
    if probe "$port"; then
      return 0
    fi
    sleep 1
  done
  die "$name on port $port did not answer correctly within 90 s; see $LOG_DIR/$name.log and $LOG_DIR/probe.json"
}

PROBE_DIR=$LOG_DIR/probe-packets
mkdir -p "$PROBE_DIR"
for i in 1 2 3 4 5 6; do
  printf '{"type": "0", "srcid": "probe-%d", "privPoliId": "111", "payload": "probe %d"}' "$i" "$i" >"$PROBE_DIR/$i.json"
done
wait_two_workers() { # port -> until policy 111 is served by two distinct workers (round robin)
  java -jar "$JAR" client --port "$1" --expect-workers 111=2 --wait 60s "$PROBE_DIR" >"$LOG_DIR/probe-workers.log" 2>&1 ||
    die "policy 111 was not served by two workers within 60 s; see $LOG_DIR/probe-workers.log"
}

# --- Measuring --------------------------------------------------------------------------------

ticks() { # pid... -> utime+stime of those processes, in clock ticks
  local total=0 pid line fields
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    read -r line <"/proc/$pid/stat" || continue
    read -r -a fields <<<"${line##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

user_system_ticks() { # pid -> "utime stime"
  local line fields
  read -r line <"/proc/$1/stat"
  read -r -a fields <<<"${line##*) }"
  echo "${fields[11]} ${fields[12]}"
}

children_ticks() { # -> CPU of this script's finished children (the generator runs), in ticks
  local line fields
  read -r line <"/proc/$$/stat"
  read -r -a fields <<<"${line##*) }"
  echo $((fields[13] + fields[14]))
}

machine_busy_ticks() { # -> busy ticks of all CPUs (user nice system irq softirq steal)
  local cpu user nice system idle iowait irq softirq steal rest
  read -r cpu user nice system idle iowait irq softirq steal rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

rss_kb() { # pid... -> summed VmRSS in kB
  local total=0 pid key value unit
  for pid in "$@"; do
    [[ -r /proc/$pid/status ]] || continue
    while read -r key value unit; do
      if [[ $key == VmRSS: ]]; then
        total=$((total + value))
        break
      fi
    done <"/proc/$pid/status"
  done
  echo "$total"
}

SAMPLER_PID=
start_rss_sampler() { # file pid... -> writes the peak summed RSS (kB) into file, every 0.5 s
  local file=$1
  shift
  echo 0 >"$file"
  (
    trap 'exit 0' TERM
    peak=0
    while :; do
      now=$(rss_kb "$@")
      if ((now > peak)); then
        peak=$now
        echo "$peak" >"$file"
      fi
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
  lib_track "$SAMPLER_PID"
}
stop_rss_sampler() {
  [[ -n $SAMPLER_PID ]] && lib_stop 15 "$SAMPLER_PID"
  SAMPLER_PID=
}

calc() { awk "BEGIN { printf $1 }"; }

wait_quiet() { # -> waits (at most WAIT_QUIET s) until other processes use < 15% of all CPUs
  local deadline=$((SECONDS + WAIT_QUIET)) busy0 ours0 busy ours other
  while ((SECONDS < deadline)); do
    busy0=$(machine_busy_ticks)
    ours0=$(ticks ${LIB_PIDS[@]+"${LIB_PIDS[@]}"})
    sleep 1
    busy=$(($(machine_busy_ticks) - busy0))
    ours=$(($(ticks ${LIB_PIDS[@]+"${LIB_PIDS[@]}"}) - ours0))
    other=$((100 * (busy - ours) / CLK_TCK / NCPU))
    ((other < 15)) && return 0
    echo "    waiting for a quieter machine: other processes use ${other}% of the CPUs" >&2
    sleep 4
  done
}

TIER_PIDS=()    # the proxy tier of the current target: its CPU and RSS are the ones reported
BACKEND_PIDS=() # the backends behind it
ROW=0
FAILED_ROWS=0

# The generator of the next rows: GENERATOR, or ROW_GENERATOR when set (the --quick C check).
# The C loadgen is closed-loop only: open-loop (--rate) and idle-connection rows use bench.
row_generator() { # rate extra-options... -> java or c
  local wanted=${ROW_GENERATOR:-$GENERATOR}
  [[ $wanted == c && $1 == 0 && $# == 1 ]] && echo c || echo java
}

run_row() { # key label port connections pipeline rate [bench options...] -> one line of results
  local key=$1 label=$2 port=$3 conns=$4 pipe=$5 rate=$6
  shift 6
  ROW=$((ROW + 1))
  local json=$LOG_DIR/row-$ROW.json rss_file=$LOG_DIR/rss-$ROW generator cmd
  generator=$(row_generator "$rate" "$@")
  if [[ $generator == c ]]; then
    cmd=("$LOADGEN" --port "$port" -c "$conns" -p "$pipe" --duration "${DURATION}s" --warmup "${WARMUP}s" --policy 111 --json)
  else
    cmd=(bench --port "$port" -c "$conns" -p "$pipe" --duration "${DURATION}s" --warmup "${WARMUP}s" --policies 111 --json)
    [[ $rate != 0 ]] && cmd+=(--rate "$rate")
    cmd+=("$@")
  fi
  ((WAIT_QUIET > 0)) && wait_quiet
  if [[ $generator == c ]]; then
    echo "row $ROW ($label): ${cmd[*]}" >>"$LOG_DIR/commands.txt"
  else
    echo "row $ROW ($label): java ${BENCH_JAVA_OPTS[*]} -jar $JAR ${cmd[*]}" >>"$LOG_DIR/commands.txt"
  fi

  local tier0 back0 gen0 busy0 start end rc=0
  tier0=$(ticks ${TIER_PIDS[@]+"${TIER_PIDS[@]}"})
  back0=$(ticks ${BACKEND_PIDS[@]+"${BACKEND_PIDS[@]}"})
  gen0=$(children_ticks)
  busy0=$(machine_busy_ticks)
  start=$(date +%s%N)
  if ((${#TIER_PIDS[@]} > 0)); then start_rss_sampler "$rss_file" "${TIER_PIDS[@]}"; else echo 0 >"$rss_file"; fi
  "${cmd[@]}" >"$json" 2>"$LOG_DIR/row-$ROW.err" || rc=$?
  stop_rss_sampler
  end=$(date +%s%N)
  local tier back gen busy
  tier=$(($(ticks ${TIER_PIDS[@]+"${TIER_PIDS[@]}"}) - tier0))
  back=$(($(ticks ${BACKEND_PIDS[@]+"${BACKEND_PIDS[@]}"}) - back0))
  gen=$(($(children_ticks) - gen0))
  busy=$(($(machine_busy_ticks) - busy0))

  local reqps=0 p50=0 p99=0 ok=0 requests=0 total=0 passed=false loop_cpu=0
  if jq -e . "$json" >/dev/null 2>&1; then
    loop_cpu=$(jq -r '.generator_cpu_s' "$json")
    reqps=$(jq -r '.req_per_s' "$json")
    p50=$(jq -r '.latency_us.p50' "$json")
    p99=$(jq -r '.latency_us.p99' "$json")
    ok=$(jq -r '.ok' "$json")
    requests=$(jq -r '.requests' "$json")
    total=$(jq -r '.total_requests' "$json")
    passed=$(jq -r '.passed' "$json")
  fi
  ((total > 0)) || total=1
  local tier_cpu back_cpu both_cpu gen_cpu rss other
  tier_cpu=$(calc "\"%.2f\", $tier / $CLK_TCK / $total * 100000")
  back_cpu=$(calc "\"%.2f\", $back / $CLK_TCK / $total * 100000")
  # What serving cost in all, whatever the split: the proxy tier plus the backends behind it.
  both_cpu=$(calc "\"%.2f\", ($tier + $back) / $CLK_TCK / $total * 100000")
  # The generator's own cost: its load thread while measuring (JVM start-up left out).
  gen_cpu=$(calc "\"%.2f\", $loop_cpu / ($requests > 0 ? $requests : 1) * 100000")
  rss=$(calc "\"%.0f\", $(cat "$rss_file") / 1024")
  # CPU the rest of the machine used meanwhile, in % of all CPUs.
  # (The kernel's per-process and per-CPU accounting differ slightly: clamped at 0.)
  other=$(awk -v x="$(calc "\"%.3f\", 100 * ($busy - $tier - $back - $gen) / $CLK_TCK / (($end - $start) / 1e9) / $NCPU")" \
    'BEGIN { printf "%.0f", x < 0.5 ? 0 : x }')
  ((${#TIER_PIDS[@]} > 0)) || { tier_cpu=-; rss=-; }
  ((${#BACKEND_PIDS[@]} > 0)) || back_cpu=-
  ((${#TIER_PIDS[@]} > 0)) || both_cpu=-
  [[ $passed == true && $rc == 0 ]] || FAILED_ROWS=$((FAILED_ROWS + 1))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$key" "$label" "$conns" "$pipe" "$rate" "$reqps" "$p50" "$p99" "$ok" "$requests" "$passed" \
    "$tier_cpu" "$rss" "$back_cpu" "$gen_cpu" "$other" "$both_cpu" "$generator" >>"$RESULTS"
  printf '  %-22s %5s x %-3s %8s req/s  p50 %6s us  p99 %7s us  %s/%s verified  proxy CPU %s (+backends %s) s/100k  RSS %s MB  %s generator  other load %s%%\n' \
    "$label" "$conns" "$pipe" "$(calc "\"%.0f\", $reqps")" "$p50" "$p99" "$ok" "$requests" "$tier_cpu" "$both_cpu" "$rss" "$generator" "$other"
  if [[ $passed != true ]]; then
    echo "    NOT VERIFIED (exit $rc): see $json and $LOG_DIR/row-$ROW.err" >&2
  fi
}

best_rate() { # key -> highest req/s of that target's closed-loop rows
  awk -F'\t' -v key="$1" '$1 == key && $5 == 0 && $6 > best { best = $6 } END { printf "%.0f", best + 0 }' "$RESULTS"
}

half_rate_row() { # key label port -> an open-loop row at half the target's best throughput
  local rate
  rate=$(calc "\"%.0f\", $(best_rate "$1") / 2")
  if ((rate > 0)); then
    run_row "$1@50%" "$2 at 50% of max" "$3" 64 16 "$rate"
  fi
}

PROFILES=()
profile_row() { # key label port pid -> a 64x1 row with JFR recording the proxy
  local key=$1 label=$2 port=$3 pid=$4 jfr=$LOG_DIR/proxy-$1.jfr us0 us1
  rm -f "$jfr"
  jcmd "$pid" JFR.start name=compare delay="${WARMUP}s" duration="${PROFILE_SECONDS}s" \
    filename="$PWD/$jfr" settings=profile >>"$LOG_DIR/commands.txt" 2>&1
  us0=$(user_system_ticks "$pid")
  local saved=$DURATION
  DURATION=$PROFILE_SECONDS
  run_row "$key-jfr" "$label, JFR on" "$port" 64 1 0
  DURATION=$saved
  us1=$(user_system_ticks "$pid")
  local i=0
  while [[ ! -s $jfr ]] && ((i++ < 30)); do sleep 1; done
  if [[ -s $jfr ]]; then
    bench/jfr-hot.sh "$jfr" 30 >"$LOG_DIR/jfr-$key.md"
    local u0 s0 u1 s1
    read -r u0 s0 <<<"$us0"
    read -r u1 s1 <<<"$us1"
    echo "$key|$label|$((u1 - u0))|$((s1 - s0))" >>"$LOG_DIR/profiles.txt"
    PROFILES+=("$key")
  else
    echo "compare.sh: no JFR recording appeared at $jfr" >&2
  fi
}

# --- Targets ----------------------------------------------------------------------------------

start_proxy() { # name [proxy options...] -> PROXY_PID, listening and Up
  local name=$1
  shift
  start_bg "$name" java "${PROXY_JAVA_OPTS[@]}" -jar "$JAR" proxy --port "$PROXY_PORT" --cluster-port "$CLUSTER_PORT" \
    --management-port "$MANAGEMENT_PORT" "$@"
  PROXY_PID=$LAST_PID
}

SERVER_PIDS=()
SERVERS_NAME="legacy servers"
[[ $BACKENDS == c ]] && SERVERS_NAME="C backends"
start_servers() { # two legacy backends registered with the proxy on PROXY_PORT (must be running)
  local id port
  for id in 100 300; do
    port=$SERVER1_PORT
    [[ $id == 300 ]] && port=$SERVER2_PORT
    if [[ $BACKENDS == c ]]; then
      start_bg "backend-$id" "$C_BACKEND" -id "$id" -pp 111 -listen "$port" -revproc "$PROXY_PORT"
    else
      start_bg "server-$id" java "${SERVER_JAVA_OPTS[@]}" -jar "$JAR" server -id "$id" -pp 111 -listen "$port" -revproc "$PROXY_PORT"
    fi
    SERVER_PIDS+=("$LAST_PID")
  done
}

start_unregistered_c_backends() { # two C backends that register nowhere (HAProxy just connects)
  local id port i
  if ((${#SERVER_PIDS[@]} > 0)); then lib_stop 15 "${SERVER_PIDS[@]}"; fi
  SERVER_PIDS=()
  for id in 100 300; do
    port=$SERVER1_PORT
    [[ $id == 300 ]] && port=$SERVER2_PORT
    start_bg "backend-$id-plain" "$C_BACKEND" -id "$id" -listen "$port" --no-register
    SERVER_PIDS+=("$LAST_PID")
    for ((i = 0; i < 50; i++)); do
      lib_port_in_use "$port" && break
      sleep 0.1
    done
    wait_verified "$port" "backend-$id-plain" "$LAST_PID"
  done
}

echo "Ports: proxy $PROXY_PORT, cluster $CLUSTER_PORT, management $MANAGEMENT_PORT, servers $SERVER1_PORT $SERVER2_PORT, haproxy $HAPROXY_PORT"
echo "Rows: ${DURATION}s measured after ${WARMUP}s warmup each; logs in $LOG_DIR/"
STARTED_AT=$(date +%s)

if wanted a; then
  echo "a: proxy with HashWorkers in its JVM"
  start_proxy proxy-a --local-worker 100:111,300:111
  wait_verified "$PROXY_PORT" proxy-a "$PROXY_PID"
  wait_two_workers "$PROXY_PORT"
  TIER_PIDS=("$PROXY_PID")
  BACKEND_PIDS=()
  if ((QUICK)); then
    run_row a "a: proxy, in-JVM workers" "$PROXY_PORT" 16 4 0
    # The independent C generator must verify every reply of the proxy too: 2 s, no warmup (the
    # proxy is warm from the row before), to stay within the minute.
    saved_timing="$DURATION $WARMUP"
    DURATION=2 WARMUP=0
    ROW_GENERATOR=c run_row a "a: proxy, in-JVM workers" "$PROXY_PORT" 16 4 0
    read -r DURATION WARMUP <<<"$saved_timing"
  else
    for shape in "${SHAPES[@]}"; do
      read -r c p <<<"$shape"
      run_row a "a: proxy, in-JVM workers" "$PROXY_PORT" "$c" "$p" 0
    done
    half_rate_row a "a: proxy, in-JVM workers" "$PROXY_PORT"
    ((PROFILE)) && profile_row a "a: proxy, in-JVM workers" "$PROXY_PORT" "$PROXY_PID"
  fi
  lib_stop 15 "$PROXY_PID"

  if ((!QUICK)); then
    # 10,000 idle connections (and 16 busy ones) on a fresh proxy: its memory per connection.
    for heap in 512m 256m; do
      saved_opts=("${PROXY_JAVA_OPTS[@]}")
      PROXY_JAVA_OPTS=(-Xms"$heap" -Xmx"$heap")
      start_proxy "proxy-a-idle-$heap" --local-worker 100:111,300:111
      wait_verified "$PROXY_PORT" "proxy-a-idle-$heap" "$PROXY_PID"
      TIER_PIDS=("$PROXY_PID")
      echo "a-idle-$heap|$(rss_kb "$PROXY_PID")" >>"$LOG_DIR/idle-baseline.txt"
      run_row "a-idle" "a: 10k idle, heap $heap" "$PROXY_PORT" 16 1 0 --idle-connections 10000
      lib_stop 15 "$PROXY_PID"
      PROXY_JAVA_OPTS=("${saved_opts[@]}")
    done
  fi
fi

if wanted b; then
  echo "b: proxy + HashWorkers in a worker JVM"
  start_proxy proxy-b
  start_bg worker-node java "${WORKER_JAVA_OPTS[@]}" -jar "$JAR" worker --worker 100:111,300:111 \
    --seed "127.0.0.1:$CLUSTER_PORT" --cluster-port 0
  WORKER_PID=$LAST_PID
  wait_verified "$PROXY_PORT" proxy-b "$PROXY_PID"
  wait_two_workers "$PROXY_PORT"
  TIER_PIDS=("$PROXY_PID" "$WORKER_PID")
  BACKEND_PIDS=()
  for shape in "${B_SHAPES[@]}"; do
    read -r c p <<<"$shape"
    run_row b "b: proxy + worker JVM" "$PROXY_PORT" "$c" "$p" 0
  done
  lib_stop 15 "$PROXY_PID" "$WORKER_PID"
fi

start_legacy_proxy() { # name [java options...] -> PROXY_PID, listening, with two servers registered
  local name=$1 i
  shift
  local saved_opts=("${PROXY_JAVA_OPTS[@]}")
  PROXY_JAVA_OPTS+=("$@")
  start_proxy "$name"
  PROXY_JAVA_OPTS=("${saved_opts[@]}")
  for ((i = 0; i < 60; i++)); do # listening (without workers it answers no_worker_for_policy)
    lib_port_in_use "$PROXY_PORT" && break
    kill -0 "$PROXY_PID" 2>/dev/null || die "$name exited early; see $LOG_DIR/$name.log"
    sleep 0.5
  done
  # A server registers once, with the proxy running when it starts: new proxy, new servers.
  if ((${#SERVER_PIDS[@]} > 0)); then lib_stop 15 "${SERVER_PIDS[@]}"; fi
  SERVER_PIDS=()
  start_servers
  wait_verified "$PROXY_PORT" "$name" "$PROXY_PID"
  wait_two_workers "$PROXY_PORT"
}

if wanted c; then
  echo "c: proxy + two legacy server backends"
  start_legacy_proxy proxy-c
  TIER_PIDS=("$PROXY_PID")
  BACKEND_PIDS=("${SERVER_PIDS[@]}")
  if ((QUICK)); then
    run_row c "c: proxy, 2 $SERVERS_NAME" "$PROXY_PORT" 16 4 0
  else
    for shape in "${SHAPES[@]}"; do
      read -r c p <<<"$shape"
      run_row c "c: proxy, 2 $SERVERS_NAME" "$PROXY_PORT" "$c" "$p" 0
    done
    half_rate_row c "c: proxy, 2 $SERVERS_NAME" "$PROXY_PORT"
    ((PROFILE)) && profile_row c "c: proxy, 2 $SERVERS_NAME" "$PROXY_PORT" "$PROXY_PID"
  fi
  lib_stop 15 "$PROXY_PID"
  if ((!QUICK)); then
    # Not the default configuration, so not held against the goals: how much of c's gap is the
    # one-request-in-flight-per-backend-connection setting rather than the code.
    echo "c16: the same with revproxy.legacy.connections-per-backend = 16 (informational)"
    start_legacy_proxy proxy-c16 -Drevproxy.legacy.connections-per-backend=16
    TIER_PIDS=("$PROXY_PID")
    BACKEND_PIDS=("${SERVER_PIDS[@]}")
    for shape in "64 1" "16 8" "64 16"; do
      read -r c p <<<"$shape"
      run_row c16 "c16: as c, 16 conns/backend" "$PROXY_PORT" "$c" "$p" 0
    done
    lib_stop 15 "$PROXY_PID"
  fi
fi
if (wanted d1 || wanted d2 || wanted e) && [[ $BACKENDS == c ]]; then
  # C backends behind HAProxy (and for e) do not register: nothing connects to them but the load.
  start_unregistered_c_backends
elif (wanted d1 || wanted d2 || wanted e) && ((${#SERVER_PIDS[@]} == 0)); then
  # HAProxy and the direct runs only need the servers; Java servers register with a proxy once.
  start_legacy_proxy proxy-registration
  lib_stop 15 "$PROXY_PID"
fi

run_haproxy() { # key threads
  local key=$1 threads=$2 dir=$LOG_DIR/haproxy-$1
  mkdir -p "$dir"
  lib_haproxy_config "$dir/haproxy.cfg" "$threads" "$HAPROXY_PORT" "$SERVER1_PORT" "$SERVER2_PORT"
  echo "$key: HAProxy nbthread $threads -> the two $SERVERS_NAME"
  start_bg "haproxy-$key" haproxy -db -f "$dir/haproxy.cfg"
  local pid=$LAST_PID
  wait_verified "$HAPROXY_PORT" "haproxy-$key" "$pid"
  TIER_PIDS=("$pid")
  BACKEND_PIDS=("${SERVER_PIDS[@]}")
  local shapes=("64 1" "16 8" "64 16")
  [[ $key == d1 ]] && shapes=("${SHAPES[@]}")
  for shape in "${shapes[@]}"; do
    read -r c p <<<"$shape"
    run_row "$key" "$key: HAProxy nbthread $threads" "$HAPROXY_PORT" "$c" "$p" 0
  done
  [[ $key == d1 ]] && half_rate_row d1 "d1: HAProxy nbthread 1" "$HAPROXY_PORT"
  lib_stop 15 "$pid"
}
wanted d1 && run_haproxy d1 1
wanted d2 && run_haproxy d2 2

if wanted e; then
  echo "e: bench straight to one legacy server (no proxy)"
  TIER_PIDS=()
  BACKEND_PIDS=("${SERVER_PIDS[0]}")
  for shape in "64 1" "16 8" "64 16"; do
    read -r c p <<<"$shape"
    run_row e "e: one server, no proxy" "$SERVER1_PORT" "$c" "$p" 0
  done
fi
if ((${#SERVER_PIDS[@]} > 0)); then lib_stop 15 "${SERVER_PIDS[@]}"; fi
ELAPSED=$(($(date +%s) - STARTED_AT))

# --- Report -----------------------------------------------------------------------------------

markdown_table() {
  echo "| target | conns | in flight | rate | req/s | p50 | p99 | verified | proxy CPU s/100k | proxy RSS MB | backend CPU s/100k | proxy + backends CPU s/100k | generator | generator CPU s/100k | other load |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|"
  awk -F'\t' '
    function ms(us) { return us >= 1000 ? sprintf("%.2f ms", us / 1000) : sprintf("%d us", us) }
    {
      rate = $5 == 0 ? "closed" : sprintf("%d/s", $5)
      verified = ($11 == "true" ? "yes" : "**NO**") sprintf(" (%d/%d)", $9, $10)
      printf "| %s | %d | %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%% |\n",
        $2, $3, $4, rate, $6, ms($7), ms($8), verified, $12, $13, $14, $17, $18, $15, $16
    }' "$RESULTS"
}

targets_table() {
  awk -F'\t' '
    function get(key, conns, pipe) { for (i = 1; i <= n; i++) if (k[i] == key && c[i] == conns && p[i] == pipe && r[i] == 0) return q[i]; return 0 }
    function cpu(key, conns, pipe) { for (i = 1; i <= n; i++) if (k[i] == key && c[i] == conns && p[i] == pipe && r[i] == 0 && both[i] != "-") return both[i]; return 0 }
    function best(key, pipelined,   i, b) { b = 0; for (i = 1; i <= n; i++) if (k[i] == key && r[i] == 0 && ((pipelined && p[i] > 1) || (!pipelined && p[i] == 1)) && q[i] > b) b = q[i]; return b }
    function verdict(ok) { return ok ? "met" : "**not met**" }
    { n++; k[n] = $1; c[n] = $3; p[n] = $4; r[n] = $5; q[n] = $6; p99[n] = $8; rss[n] = $13; lab[n] = $2; both[n] = $17 }
    END {
      print "| goal | measured | |"
      print "|---|---|---|"
      cc = get("c", 64, 1); d1 = get("d1", 64, 1)
      if (cc > 0 && d1 > 0) printf "| c (legacy mode) >= 0.8x HAProxy nbthread 1 req/s at 64 connections | %.0f vs %.0f req/s = %.2fx | %s |\n", cc, d1, cc / d1, verdict(cc / d1 >= 0.8)
      # CPU per request of everything that serves (proxy tier + backends) against HAProxy + its backends.
      hd = cpu("d1", 64, 1)
      split("a b c", serving, " ")
      for (t = 1; t <= 3; t++) {
        mine = cpu(serving[t], 64, 1)
        if (mine > 0 && hd > 0) printf "| %s: CPU (proxy tier + backends) <= 1.5x HAProxy nbthread 1 + backends, per request at 64x1 | %.2f vs %.2f s/100k = %.2fx | %s |\n", serving[t], mine, hd, mine / hd, verdict(mine / hd <= 1.5)
      }
      ap = best("a", 1); an = best("a", 0)
      if (ap > 0) printf "| a >= 100k verified req/s with pipelining | %.0f req/s (best pipelined row) | %s |\n", ap, verdict(ap >= 100000)
      if (an > 0) printf "| a >= 50k verified req/s without pipelining | %.0f req/s (best 1-in-flight row) | %s |\n", an, verdict(an >= 50000)
      bb = best("b", 1); if (best("b", 0) > bb) bb = best("b", 0)
      if (bb > 0) printf "| b >= 50k req/s | %.0f req/s (best row) | %s |\n", bb, verdict(bb >= 50000)
      for (i = 1; i <= n; i++) if (k[i] ~ /@50%$/) printf "| p99 <= 2 ms at half of max throughput (%s) | p99 %.2f ms at %d req/s | %s |\n", lab[i], p99[i] / 1000, r[i], verdict(p99[i] <= 2000)
      for (i = 1; i <= n; i++) if (k[i] == "a-idle") printf "| 10k idle connections in <= 512 MB RSS (%s) | peak RSS %s MB | %s |\n", lab[i], rss[i], verdict(rss[i] <= 512)
    }' "$RESULTS"
}

echo
echo "Results (${DURATION}s per row after ${WARMUP}s warmup; ${ELAPSED}s in all):"
markdown_table
if ((!QUICK)); then
  echo
  targets_table
fi

if ((WRITE_DOCS)); then
  mkdir -p "$(dirname "$DOC")"
  if [[ ! -f $DOC ]]; then
    printf '# Benchmarks\n\nRun `bench/compare.sh` (see its `--help`).\n\n%s\n' "$MARKER" >"$DOC"
  elif ! grep -qF "$MARKER" "$DOC"; then
    printf '\n%s\n' "$MARKER" >>"$DOC"
  fi
  section=$LOG_DIR/section.md
  {
    echo
    echo "## Results $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Command: \`$COMMAND_LINE\` (${ELAPSED} s in all; ${DURATION} s measured per row after ${WARMUP} s of warmup)."
    echo
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, Linux $(uname -r)."
    echo "Java: $(java -version 2>&1 | head -n 2 | tr '\n' ' ' | sed 's/ *$//')."
    command -v haproxy >/dev/null && echo "HAProxy: $(haproxy -v 2>&1 | head -n 1)."
    echo "Code: commit $(git rev-parse --short HEAD 2>/dev/null || echo "unknown (no git checkout)") (plus whatever the work tree had uncommitted)."
    echo
    echo "JVM flags: proxy \`${PROXY_JAVA_OPTS[*]}\` (idle rows: the heap given), worker \`${WORKER_JAVA_OPTS[*]}\`, server \`${SERVER_JAVA_OPTS[*]}\`, bench \`${BENCH_JAVA_OPTS[*]}\`; otherwise JVM defaults (G1). Every bench run: \`--policies 111\`, 16-byte payloads, 1 selector thread."
    echo
    if [[ $GENERATOR == c ]]; then
      echo "Generator: \`--generator c\`, bench/c/loadgen (C, epoll, one thread, a SHA-1 computed for every request's own payload) for the closed-loop rows; the open-loop and idle rows with \`bench\`."
    else
      echo "Generator: \`bench\` (the jar's, Java NIO, one thread) for every row."
    fi
    if [[ $BACKENDS == c ]]; then
      echo "Backends: \`--backends c\`, two bench/c/backend processes (C, epoll, one thread each), registered with the proxy as server.py registers (no \`connections\` count) for c, unregistered behind HAProxy and for e."
    else
      echo "Backends: two \`server\` JVMs (registration with \`\"connections\": 32\`)."
    fi
    ((NEEDS_C)) && echo "C tools: $(gcc --version | head -n 1), \`-O2\`, $(openssl version 2>/dev/null || echo "OpenSSL libcrypto")."
    echo
    markdown_table
    echo
    if [[ -f $LOG_DIR/idle-baseline.txt ]]; then
      echo "Idle rows: proxy RSS before the 10,000 idle connections: $(awk -F'|' '{ printf "%s%s %.0f MB", sep, $1, $2 / 1024; sep = ", " }' "$LOG_DIR/idle-baseline.txt")."
      echo
    fi
    echo "Against the goals:"
    echo
    targets_table
    for key in ${PROFILES[@]+"${PROFILES[@]}"}; do
      IFS='|' read -r _ label utime stime < <(grep "^$key|" "$LOG_DIR/profiles.txt")
      echo
      echo "### JFR profile: $label, 64 connections x 1, ${PROFILE_SECONDS} s"
      echo
      echo "Proxy CPU during the row: $(calc "\"%.1f\", $utime / $CLK_TCK") s user, $(calc "\"%.1f\", $stime / $CLK_TCK") s system (kernel)."
      echo
      cat "$LOG_DIR/jfr-$key.md"
    done
  } >"$section"
  # Insert after the marker, keeping everything written by hand above it.
  awk -v marker="$MARKER" -v section="$section" '
    { print }
    $0 == marker && !done { while ((getline line < section) > 0) print line; done = 1 }' "$DOC" >"$DOC.tmp"
  mv "$DOC.tmp" "$DOC"
  echo
  echo "Written to $DOC"
fi

if ((FAILED_ROWS > 0)); then
  echo "compare.sh: $FAILED_ROWS row(s) did not verify every reply" >&2
  exit 1
fi
echo "Every reply verified."
