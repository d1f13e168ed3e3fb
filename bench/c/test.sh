#!/usr/bin/env bash
# Tests of the C load tools (built by bench/c/build.sh), a few seconds in all, loopback only:
#   1. wire_test: SHA-1 vectors, framing (two replies in one read, any split), reply checks, the
#      backend's answers;
#   2. the backend answers two requests that arrive in one write, in order;
#   3. loadgen verifies two replies that arrive in one write, and fails when one hash is wrong;
#   4. loadgen against the backend: 4 connections x 8 in flight, 4,000 requests with escaped and
#      non-ASCII payloads, every reply verified.
# Prints "N passed, N failed"; exit status 1 if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

BIN=target/bench-c
LOG_DIR=target/bench-c/test-logs
for tool in loadgen backend wire_test; do
  [[ -x $BIN/$tool ]] || die "$BIN/$tool is missing: run bench/c/build.sh first"
done
command -v jq >/dev/null || die "jq is missing (apt-get install jq): it reads loadgen's --json output"
mkdir -p "$LOG_DIR"
lib_stop_on_exit 5
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok    $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $*"; }

if timeout 60 "$BIN/wire_test" >"$LOG_DIR/wire_test.log" 2>&1; then
  pass "wire_test: $(tail -n 1 "$LOG_DIR/wire_test.log")"
else
  fail "wire_test (see $LOG_DIR/wire_test.log):"
  cat "$LOG_DIR/wire_test.log"
fi

PORTS=$(lib_free_ports 29400 3)
read -r BACKEND_PORT FAKE_GOOD_PORT FAKE_BAD_PORT <<<"$PORTS"

lib_start "$LOG_DIR/backend.log" "$BIN/backend" --id 100 --listen "$BACKEND_PORT" --no-register
BACKEND_PID=$LIB_PID
for ((i = 0; i < 50; i++)); do
  lib_port_in_use "$BACKEND_PORT" && break
  sleep 0.1
done

if timeout 10 "$BIN/wire_test" --two-requests "$BACKEND_PORT" >"$LOG_DIR/two-requests.log" 2>&1; then
  pass "backend: $(head -n 1 "$LOG_DIR/two-requests.log")"
else
  fail "backend: two requests in one write (see $LOG_DIR/two-requests.log)"
  cat "$LOG_DIR/two-requests.log"
fi

fake_run() { # port good|bad -> runs loadgen -c 1 -p 2 -n 2 against a fake server; its JSON on stdout
  local port=$1 mode=$2
  lib_start "$LOG_DIR/fake-$mode.log" timeout 20 "$BIN/wire_test" --fake-server "$port" "$mode"
  local pid=$LIB_PID i rc=0
  for ((i = 0; i < 50; i++)); do
    lib_port_in_use "$port" && break
    sleep 0.1
  done
  timeout 20 "$BIN/loadgen" --port "$port" -c 1 -p 2 -n 2 --timeout 5s --json >"$LOG_DIR/loadgen-fake-$mode.json" || rc=$?
  lib_stop 5 "$pid"
  return "$rc"
}
json() { jq -r "$1" "$2" 2>/dev/null || echo "?"; }

if fake_run "$FAKE_GOOD_PORT" good; then
  f=$LOG_DIR/loadgen-fake-good.json
  if [[ $(json .ok "$f") == 2 && $(json .passed "$f") == true ]]; then
    pass "loadgen: two replies in one write both verified"
  else
    fail "loadgen: two replies in one write: $(cat "$f")"
  fi
else
  fail "loadgen against the fake server (good): exit $?; $(cat "$LOG_DIR/loadgen-fake-good.json")"
fi

rc=0
fake_run "$FAKE_BAD_PORT" bad || rc=$?
f=$LOG_DIR/loadgen-fake-bad.json
if [[ $rc == 1 && $(json .ok "$f") == 1 && $(json .wrong "$f") == 1 && $(json .passed "$f") == false ]]; then
  pass "loadgen: a wrong hash is caught (exit 1, 1 ok, 1 wrong)"
else
  fail "loadgen: a wrong hash not caught: exit $rc; $(cat "$f")"
fi

rc=0
timeout 60 "$BIN/loadgen" --port "$BACKEND_PORT" -c 4 -p 8 -n 4000 --unicode --payload-bytes 48 --timeout 5s \
  --json >"$LOG_DIR/loadgen-backend.json" || rc=$?
f=$LOG_DIR/loadgen-backend.json
if [[ $rc == 0 && $(json .ok "$f") == 4000 && $(json .passed "$f") == true ]]; then
  pass "loadgen -> backend: 4000 of 4000 verified (4 x 8, unicode payloads), $(json .req_per_s "$f") req/s"
else
  fail "loadgen -> backend: exit $rc; $(cat "$f")"
fi

rc=0
timeout 30 "$BIN/loadgen" --port "$FAKE_BAD_PORT" -c 1 -n 1 --timeout 1s --json >"$LOG_DIR/loadgen-closed.json" || rc=$?
if [[ $rc == 1 && $(json .passed "$LOG_DIR/loadgen-closed.json") == false ]]; then
  pass "loadgen: a port nobody listens on fails the run (exit 1) and it stops by itself"
else
  fail "loadgen against a closed port: exit $rc; $(cat "$LOG_DIR/loadgen-closed.json")"
fi

lib_stop 5 "$BACKEND_PID"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
