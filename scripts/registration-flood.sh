#!/usr/bin/env bash
# The registry-flood attack of the security review, against the real jar: a proxy with in-JVM
# workers serves a verified load (bench --rate) while an attacker on this host sends N type "1"
# registrations, each announcing 32 connections to a closed port, first all on one connection,
# then spread over connections of 4. Prints the proxy's RSS before and after, the replies the
# attacker got, and the load's result; exits 0 only if RSS grew by less than 100 MB, every load
# request verified, and the proxy kept at most revproxy.legacy.max-backends servers.
# Loopback only; every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

JAR=target/akka-reverse-proxy.jar
LOG_DIR=target/flood-logs
PORT=${FLOOD_PORT:-2600}
CLUSTER_PORT=${FLOOD_CLUSTER_PORT:-2651}
COUNT=${1:-5000}
[[ $COUNT =~ ^[0-9]+$ ]] || { echo "usage: scripts/registration-flood.sh [COUNT]" >&2; exit 2; }

lib_build_jar "$JAR"
for port in "$PORT" "$CLUSTER_PORT"; do
  lib_port_in_use "$port" && die "port $port on 127.0.0.1 is in use (set FLOOD_PORT / FLOOD_CLUSTER_PORT)"
done
MANAGEMENT_PORT=$(lib_free_ports $((PORT > CLUSTER_PORT ? PORT + 1 : CLUSTER_PORT + 1)) 1)
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR"
lib_stop_on_exit 10

rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

lib_start "$LOG_DIR/proxy.log" java -Xms64m -Xmx256m -jar "$JAR" proxy --port "$PORT" \
  --cluster-port "$CLUSTER_PORT" --management-port "$MANAGEMENT_PORT" --local-worker 100:111,200:222
PROXY=$LIB_PID
java -jar "$JAR" client --port "$PORT" --expect-workers 111=1,222=1 --wait 60s packets/0.json \
  >"$LOG_DIR/ready.log" 2>&1 || die "the proxy did not get ready (see $LOG_DIR/)"
sleep 2
before=$(rss_mb "$PROXY")
echo "proxy pid $PROXY ready; RSS ${before} MB"

java -jar "$JAR" bench --port "$PORT" --rate 200 --connections 8 --duration 25s --warmup 1s \
  --json >"$LOG_DIR/bench.json" 2>"$LOG_DIR/bench.log" &
BENCH=$!
lib_track "$BENCH"

python3 - "$PORT" "$COUNT" <<'PY' | tee "$LOG_DIR/attacker.log"
import json, socket, sys, collections
port, count = int(sys.argv[1]), int(sys.argv[2])
def registration(i):
    return json.dumps({"type": "1", "id": "f%d" % i, "privPolyId": "111",
                       "listenport": str(40000 + i % 20000), "connections": 32})
def send(packets):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall("".join(packets).encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    replies, depth, start, in_string, escaped = [], 0, 0, False, False
    for i, b in enumerate(data):
        c = chr(b)
        if in_string:
            if escaped: escaped = False
            elif c == "\\": escaped = True
            elif c == '"': in_string = False
        elif c == '"': in_string = True
        elif c == "{":
            if depth == 0: start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0: replies.append(json.loads(data[start:i + 1]))
    return replies
codes = collections.Counter()
half = count // 2
for r in send([registration(i) for i in range(half)]):
    codes[r["code"]] += 1
sent_one = half
for first in range(half, count, 4):
    for r in send([registration(i) for i in range(first, min(first + 4, count))]):
        codes[r["code"]] += 1
print("attacker: %d registrations (%d on one connection, %d over connections of 4); replies: %s"
      % (count, sent_one, count - half, dict(codes)))
PY

wait "$BENCH" || true
after=$(rss_mb "$PROXY")
registered=$(python3 scripts/management.py sum "http://127.0.0.1:$MANAGEMENT_PORT" \
  'revproxy_registrations_total{result="accepted"}') || die "the proxy's /metrics did not answer"
python3 - "$LOG_DIR/bench.json" "$before" "$after" "$registered" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
before, after, registered = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ok = bench["ok"] == bench["requests"] and bench["requests"] > 0 and bench["wrong"] == 0
print(f"load meanwhile: {bench['requests']} requests, {bench['ok']} ok, {bench['wrong']} wrong, "
      f"{bench['error_count']} errors, p99 {bench['latency_us']['p99']} us")
print(f"proxy RSS {before} MB before, {after} MB after ({after - before:+d} MB); "
      f"{registered} servers registered")
good = ok and after - before < 100 and registered <= 256
print("FLOOD: OK" if good else "FLOOD: FAILED")
sys.exit(0 if good else 1)
PY
