# shellcheck shell=bash
# Helpers shared by run-demo.sh, bench/compare.sh and scripts/*.sh. Source it; sourcing only
# defines functions (nothing runs, no variable is set). The scripts run from the repository root.
#
#   die MESSAGE...              "<script>: MESSAGE" on stderr, exit $LIB_DIE_STATUS (default 1)
#   lib_jar_is_stale JAR        status 0 if JAR is missing or older than anything it is made of
#   lib_build_jar JAR           builds JAR with Maven if it is stale
#   lib_cds_options JAR         sets LIB_CDS to the JVM options that use JAR's class-data archive
#                               (scripts/cds.sh), making it first if it is missing or stale;
#                               none with REVPROXY_CDS=off (to compare start times without it)
#   lib_port_in_use PORT        status 0 if something listens on PORT, on any address
#   lib_free_ports FROM COUNT   prints COUNT ports from FROM on that nothing listens on; use it
#                               as PORTS=$(lib_free_ports ...), so that a failure stops the script
#   lib_wait_ready_and_round_robin JAR PORT MGMT WORKER_LOG|- PREFIX
#                               until the nodes are ready and the proxy on PORT serves policy 111
#                               round robin over two workers (bench/ab-dispatch.sh, per-request.sh)
#   lib_haproxy_config FILE THREADS PORT BACKEND1 BACKEND2
#                               writes the TCP round-robin HAProxy of the benchmarks (nbthread
#                               THREADS on 127.0.0.1:PORT to two backends on 127.0.0.1) to FILE
#   lib_start LOG COMMAND...    runs COMMAND in the background, output to LOG; its PID in LIB_PID
#   lib_track PID...            records processes started otherwise, so that they are stopped too
#   lib_ours PID                status 0 if PID is a live child of this script
#   lib_running PID...          prints those of the PIDs that are live children of this script
#   lib_stop SECONDS PID...     TERM, up to SECONDS to exit, then KILL; only this script's children
#   lib_stop_on_exit SECONDS    on exit, Ctrl-C (status 130) or SIGTERM (143), stops every process
#                               recorded by lib_start and lib_track
#
# Processes are signalled only while /proc says they are children of this script: a PID that
# has exited may be recycled by an unrelated process, which must never get our signal.

die() {
  echo "${0##*/}: $*" >&2
  exit "${LIB_DIE_STATUS:-1}"
}

lib_jar_is_stale() { # jar -> status 0 if it must be built
  [[ ! -f $1 ]] && return 0
  # Anything the jar is made of newer than the jar: main sources and resources, the build file,
  # the configuration and the sample packets (both ship in the jar). Tests are not in the jar.
  [[ -n $(find src/main pom.xml application.conf packets -newer "$1" -print -quit 2>/dev/null) ]]
}

lib_build_jar() { # jar -> builds it with Maven if it is missing or out of date, or dies
  lib_jar_is_stale "$1" || return 0
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8+ (e.g. apt-get install maven) to build $1"
  echo "Building $1 (mvn -B -q -Dmaven.test.skip=true package) ..."
  mvn -B -q -Dmaven.test.skip=true package || die "the build failed or was interrupted (see the Maven output above)"
  [[ -f $1 ]] || die "the build did not produce $1"
}

# shellcheck disable=SC2034 # LIB_CDS is for the scripts that source this
lib_cds_options() { # jar -> LIB_CDS: (-XX:SharedArchiveFile=archive -Xlog...), or () if none
  local archive=${1%.jar}.jsa
  LIB_CDS=()
  [[ ${REVPROXY_CDS:-on} == off ]] && return 0
  if [[ ! -f $archive || $1 -nt $archive ]]; then
    local status=0
    scripts/cds.sh "$1" || status=$?
    ((status < 128)) || exit "$status" # interrupted (Ctrl-C): stop, as the caller would
    if ((status != 0)) || [[ ! -f $archive ]]; then
      echo "${0##*/}: going on without a class-data archive: the nodes start slower" >&2
      return 0
    fi
  fi
  # The JVM's warnings (one, if the archive cannot be used) on stderr: never in a JSON on stdout.
  LIB_CDS=("-XX:SharedArchiveFile=$archive" -Xlog:disable -Xlog:all=warning:stderr)
}

lib_port_in_use() { # port -> status 0 if something listens on it (any address: 0.0.0.0, 127.x, ::)
  if command -v ss >/dev/null; then
    [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

lib_free_ports() { # from count -> prints count free ports from `from` on, space-separated
  local port=$1 free=()
  while ((${#free[@]} < $2)); do
    ((port <= 65535)) || die "fewer than $2 free ports from $1 on"
    lib_port_in_use "$port" || free+=("$port")
    port=$((port + 1))
  done
  echo "${free[*]}"
}

lib_wait_ready_and_round_robin() { # jar port mgmt-port worker-log|- log-prefix -> until the nodes
  # are ready (/ready; the worker node's log says so, unless "-") and then until the proxy serves
  # policy 111 round robin over two workers (the receptionist's listing reaches the proxy a moment
  # after the worker node is ready), 60 s at most each; dies otherwise. Writes the probe packets
  # and the client's log beside log-prefix.
  local jar=$1 port=$2 mgmt=$3 worker_log=$4 prefix=$5 i
  for ((i = 0; i < 120; i++)); do
    if curl -sf "127.0.0.1:$mgmt/ready" >/dev/null &&
      { [[ $worker_log == - ]] || grep -q "this node is ready" "$worker_log"; }; then
      break
    fi
    sleep 0.5
  done
  ((i < 120)) || die "the nodes were not ready within 60 s (see $(dirname "$prefix")/)"
  mkdir -p "$prefix-probes"
  for i in 1 2 3 4; do
    printf '{"type": "0", "srcid": "probe-%d", "privPoliId": "111", "payload": "probe %d"}' "$i" "$i" >"$prefix-probes/$i.json"
  done
  java -jar "$jar" client --port "$port" --expect-workers 111=2 --wait 60s "$prefix-probes" >"$prefix-probe.log" 2>&1 ||
    die "policy 111 was not served by two workers within 60 s (see $prefix-probe.log)"
}

lib_haproxy_config() { # file threads port backend1-port backend2-port
  local file=$1 threads=$2 port=$3 backend1=$4 backend2=$5
  cat >"$file" <<EOF
global
    nbthread $threads
    # Enough for 1000 client connections plus one backend connection each.
    maxconn 5000

defaults
    mode tcp
    maxconn 5000
    timeout connect 2s
    timeout client 60s
    timeout server 60s

frontend bench
    bind 127.0.0.1:$port
    default_backend servers

backend servers
    balance roundrobin
    server s100 127.0.0.1:$backend1
    server s300 127.0.0.1:$backend2
EOF
}

lib_start() { # log command... -> runs it in the background, stdout and stderr to log; LIB_PID
  local log=$1
  shift
  "$@" </dev/null >"$log" 2>&1 &
  LIB_PID=$!
  LIB_PIDS+=("$LIB_PID")
}

lib_track() { # pid... -> stopped on exit like those of lib_start
  LIB_PIDS+=("$@")
}

lib_ours() { # pid -> status 0 if it is a live (not zombie) child of this script
  local line fields
  [[ -r /proc/$1/stat ]] && read -r line <"/proc/$1/stat" 2>/dev/null || return 1
  # Fields after "(command)": state, parent PID, ...
  read -r -a fields <<<"${line##*) }"
  [[ ${fields[1]} == "$$" && ${fields[0]} != Z ]]
}

lib_running() { # pid... -> prints the live children of this script among them, space-separated
  local pid alive=()
  for pid in "$@"; do
    lib_ours "$pid" && alive+=("$pid")
  done
  echo "${alive[*]}"
}

lib_stop() { # seconds pid... -> TERM, up to `seconds` to exit, then KILL; reaps them
  local wait_s=$1 pid alive=() still i
  shift
  for pid in "$@"; do
    lib_ours "$pid" && alive+=("$pid")
  done
  ((${#alive[@]} > 0)) || return 0
  kill -TERM "${alive[@]}" 2>/dev/null || true
  for ((i = 0; i < wait_s * 5; i++)); do
    still=()
    for pid in "${alive[@]}"; do
      lib_ours "$pid" && still+=("$pid")
    done
    ((${#still[@]} == 0)) && break
    sleep 0.2
  done
  for pid in "${alive[@]}"; do
    if lib_ours "$pid"; then
      echo "${0##*/}: process $pid did not stop within $wait_s s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait "${alive[@]}" 2>/dev/null || true
}

lib_stop_on_exit() { # seconds -> traps that stop every recorded process when the script ends
  # shellcheck disable=SC2064 # the wait is fixed now
  trap "lib_exit $1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

lib_exit() { # seconds (the EXIT trap of lib_stop_on_exit) -> keeps the script's exit status
  local status=$?
  trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
  lib_stop "$1" ${LIB_PIDS[@]+"${LIB_PIDS[@]}"}
  exit "$status"
}
