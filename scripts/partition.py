#!/usr/bin/env python3
"""The helpers of scripts/partition.sh, and probe and wait-whole of scripts/chaos.sh
(not meant to be run by hand):

  probe         a fresh TCP connection every --interval per (proxy, policy), one request each,
                every reply checked (type "2", destid, SHA-1); one JSON line per request
  wait-whole    poll the proxies' management endpoints until the cluster is whole again
  metrics       retries and ejections counted by each proxy (/metrics)
  wait-connections  poll the proxies' /metrics until each has N client connections open (the
                benches are connected, so their clocks start now)
  analyze       one fault: the benches' JSON, the probe's lines, the events, the node logs ->
                the table, the recovery times and the verdict

Standard library only. All times are Unix epoch seconds (time.time(), date +%s.%N).
"""
import argparse
import asyncio
import datetime
import glob
import hashlib
import json
import os
import re
import signal
import sys
import time
import urllib.request

# --- probe --------------------------------------------------------------------------------------


def classify(reply, srcid, payload):
    """ok / error:<code> / wrong, and the worker that answered (srcid of a type "2" reply)."""
    if not isinstance(reply, dict):
        return "wrong", None
    kind = str(reply.get("type"))
    if kind == "3":
        return "error:" + str(reply.get("code")), None
    expected = hashlib.sha1(payload.encode("utf-8")).hexdigest()
    if kind == "2" and str(reply.get("destid")) == srcid and reply.get("payload") == expected:
        return "ok", str(reply.get("srcid"))
    return "wrong", None


async def probe_once(out, name, host, port, policy, seq, reply_timeout):
    srcid = f"probe-{name}-{policy}-{seq}"
    payload = f"partition probe {name} {policy} {seq}"
    t0 = time.time()
    outcome, worker, writer = None, None, None
    try:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except asyncio.TimeoutError:
            outcome = "connect_timeout"
            return
        request = {"type": "0", "srcid": srcid, "privPoliId": policy, "payload": payload}
        writer.write(json.dumps(request).encode("utf-8"))
        await writer.drain()
        decoder = json.JSONDecoder()
        buffer = b""
        while outcome is None:
            remaining = t0 + reply_timeout - time.time()
            if remaining <= 0:
                outcome = "no_reply"
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), remaining)
            except asyncio.TimeoutError:
                outcome = "no_reply"
                break
            if not chunk:
                outcome = "closed"
                break
            buffer += chunk
            try:
                reply, _ = decoder.raw_decode(buffer.decode("utf-8").lstrip())
            except ValueError:  # not complete yet (or not UTF-8 yet)
                if len(buffer) > 65536:
                    outcome = "wrong"
                continue
            outcome, worker = classify(reply, srcid, payload)
    except ConnectionRefusedError:
        outcome = "refused"
    except OSError as e:
        outcome = "oserror:" + (os.strerror(e.errno) if e.errno else type(e).__name__)
    finally:
        if writer is not None:
            writer.close()
        record = {"t0": round(t0, 3), "t1": round(time.time(), 3), "path": f"{name}/{policy}",
                  "outcome": outcome}
        if worker is not None:
            record["worker"] = worker
        out.write(json.dumps(record) + "\n")


async def probe_main(args):
    targets = []
    for spec in args.target:  # name=host:port
        name, address = spec.split("=", 1)
        host, port = address.rsplit(":", 1)
        targets.append((name, host, int(port)))
    policies = args.policies.split(",")
    out = open(args.out, "a", buffering=1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pending = {}
    deadline = time.time() + args.max_seconds
    seq = 0
    tasks = set()
    next_tick = time.time()
    while not stop.is_set() and time.time() < deadline and not os.path.exists(args.stop_file):
        for name, host, port in targets:
            for policy in policies:
                key = (name, policy)
                if pending.get(key, 0) >= args.max_outstanding:
                    continue
                seq += 1
                pending[key] = pending.get(key, 0) + 1

                async def run(key=key, name=name, host=host, port=port, policy=policy, seq=seq):
                    try:
                        await probe_once(out, name, host, port, policy, seq, args.reply_timeout)
                    finally:
                        pending[key] -= 1

                task = asyncio.ensure_future(run())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        next_tick += args.interval
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, next_tick - time.time()))
        except asyncio.TimeoutError:
            pass
    if tasks:
        await asyncio.wait(tasks, timeout=args.reply_timeout + 2)
    out.close()


def cmd_probe(args):
    asyncio.run(probe_main(args))


# --- management endpoints ----------------------------------------------------------------------


def get(url, timeout=1.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode("utf-8")


def whole_reason(managements, members, routing, in_rotation=None):
    """None if every proxy sees `members` members Up and reachable, serves `routing` (worker ids
    by policy) and has `in_rotation` routees per policy not ejected (serving, or probing: with
    no traffic a probing routee stays so until its next request)."""
    for address in managements:
        try:
            status, _ = get(f"http://{address}/ready")
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            return f"{address}: /ready: {e}"
        if status != 200:
            return f"{address}: /ready {status}"
        _, text = get(f"http://{address}/cluster/members")
        state = json.loads(text)
        up = [m for m in state.get("members", []) if m.get("status") == "Up"]
        if len(up) != members or len(state.get("members", [])) != members:
            return f"{address}: {len(up)} of {len(state.get('members', []))} members Up, want {members}"
        if state.get("unreachable"):
            return f"{address}: unreachable {[u.get('node') for u in state['unreachable']]}"
        _, text = get(f"http://{address}/routing")
        served = {}
        counts = {}
        for policy in json.loads(text).get("policies", []):
            routees = policy.get("routees", [])
            served[policy["policy"]] = sorted(
                str(r["id"]) for r in routees if r.get("state") == "serving")
            counts[policy["policy"]] = sum(1 for r in routees if r.get("state") != "ejected")
        for policy, count in (in_rotation or {}).items():
            if counts.get(policy, 0) != count:
                return f"{address}: policy {policy} has {counts.get(policy, 0)} routees in rotation, want {count}"
        for policy, workers in routing.items():
            if served.get(policy, []) != sorted(workers):
                return f"{address}: policy {policy} served by {served.get(policy, [])}, want {sorted(workers)}"
    return None


def cmd_wait_whole(args):
    routing = {}
    for spec in args.routing:  # policy=id,id
        policy, ids = spec.split("=", 1)
        routing[policy] = ids.split(",")
    in_rotation = {}
    for spec in args.in_rotation:  # policy=count
        policy, count = spec.split("=", 1)
        in_rotation[policy] = int(count)
    start = time.time()
    reason = "not checked"
    while time.time() - start < args.timeout:
        try:
            reason = whole_reason(args.management, args.members, routing, in_rotation)
        except Exception as e:  # noqa: BLE001
            reason = str(e)
        if reason is None:
            print(f"{time.time() - start:.1f}")
            return 0
        time.sleep(0.5)
    print(f"not whole after {args.timeout:.0f} s: {reason}", file=sys.stderr)
    return 1


def cmd_metrics(args):
    """{proxy: {"retries": n, "ejections": n}} from each proxy's /metrics (null if unreachable)."""
    result = {}
    for spec in args.management:  # name=host:port
        name, address = spec.split("=", 1)
        try:
            _, text = get(f"http://{address}/metrics", timeout=2.0)
        except Exception:  # noqa: BLE001
            result[name] = None
            continue
        counts = {"retries": 0.0, "ejections": 0.0}
        for line in text.splitlines():
            m = re.match(r"^revproxy_(retries|ejections)_total(\{[^}]*\})? ([0-9.eE+-]+)$", line)
            if m:
                counts[m.group(1)] += float(m.group(3))
        result[name] = {k: int(v) for k, v in counts.items()}
    print(json.dumps(result))
    return 0


def cmd_wait_connections(args):
    start = time.time()
    counts = {}
    while time.time() - start < args.timeout:
        counts = {}
        for address in args.management:
            try:
                _, text = get(f"http://{address}/metrics", timeout=1.0)
            except Exception:  # noqa: BLE001
                counts[address] = None
                continue
            m = re.search(r"^revproxy_client_connections(?:\{[^}]*\})? ([0-9.eE+-]+)$", text, re.M)
            counts[address] = int(float(m.group(1))) if m else None
        if all(c is not None and c >= args.min for c in counts.values()):
            print(f"{time.time() - start:.1f}")
            return 0
        time.sleep(0.1)
    print(f"client connections after {args.timeout:.0f} s: {counts}, want {args.min} each", file=sys.stderr)
    return 1


# --- analysis ----------------------------------------------------------------------------------

def load_events(path):
    events = []
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2:
            events.append((float(parts[0]), parts[1:]))
    return events


def log_time(text, day):
    """The time of a node's log line as epoch seconds: an ISO-8601 timestamp with its offset, or
    HH:MM:SS.mmm (local time) on the day of `day`."""
    m = re.match(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)[.,](\d{3})(Z|[+-]\d\d:?\d\d)?", text)
    if m:
        zone = m.group(4) or ""
        zone = "+00:00" if zone == "Z" else zone
        try:
            return datetime.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{m.group(3)}{zone}").timestamp()
        except ValueError:
            return None
    m = re.match(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) ", text)
    if not m:
        return None
    base = datetime.datetime.fromtimestamp(day).replace(hour=0, minute=0, second=0, microsecond=0)
    t = base + datetime.timedelta(hours=int(m.group(1)), minutes=int(m.group(2)),
                                  seconds=int(m.group(3)), milliseconds=int(m.group(4)))
    return t.timestamp()


LOG_MARKS = [
    ("unreachable", re.compile(r"Marking node\(?s?\)? as UNREACHABLE")),
    ("reachable again", re.compile(r"Marking node\(?s?\)? as REACHABLE")),
    ("SBR decision", re.compile(r"SBR took decision (\S+)")),
    ("downed, shutting down", re.compile(r"(marked as DOWN|Shutting down myself)")),
    ("restarting node", re.compile(r"starting it again to rejoin")),
    ("no seed reachable", re.compile(r"No seed node reachable")),
    ("InitJoinAck (a seed answers)", re.compile(r"Received InitJoinAck")),
    ("joined (Welcome)", re.compile(r"Welcome from")),
    ("joins itself: a new cluster", re.compile(r"is JOINING itself")),
    ("leader moves a node to Up", re.compile(r"Leader is moving node \[[^\]]*\] to \[Up\]")),
    ("policy 333 unlisted", re.compile(r"Policy 333 is served by 0 ")),
    ("policy 333 listed again", re.compile(r"Policy 333 is served by [1-9]")),
    ("workers started", re.compile(r"starting workers")),
]


def node_timeline(logs, start, end):
    """The first line of each kind in each node's log between start and end."""
    lines = []
    for path in sorted(logs):
        node = os.path.basename(path).rsplit(".", 1)[0]
        seen = set()
        try:
            content = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        for text in content:
            t = log_time(text, start)
            if t is None or t < start - 0.5 or t > end:
                continue
            for label, pattern in LOG_MARKS:
                m = pattern.search(text)
                if m and label not in seen:
                    seen.add(label)
                    detail = f" {m.group(1)}" if label == "SBR decision" else ""
                    lines.append((t, node, label + detail))
    return sorted(lines)


def fmt_s(value):
    return "-" if value is None else f"{value:.1f} s"


def fmt_us(value):
    if value is None:
        return "-"
    if value < 1000:
        return f"{value} us"
    if value < 1_000_000:
        return f"{value / 1000:.1f} ms"
    return f"{value / 1e6:.2f} s"


def cmd_analyze(args):
    events = load_events(args.events)
    fault = args.fault
    # This fault's events: cuts and heals between its "fault-start" and "fault-end".
    start = end = None
    cuts, heals = [], []
    for t, words in events:
        if words[0] == "fault-start" and words[1] == fault:
            start, cuts, heals = t, [], []
        elif start is not None and end is None:
            if words[0] == "cut":
                cuts.append(t)
            elif words[0] == "heal":
                heals.append(t)
            elif words[0] == "fault-end" and words[1] == fault:
                end = t
    if start is None or end is None or not cuts or not heals:
        print(f"analyze: no complete record of fault {fault} in {args.events}", file=sys.stderr)
        return 1
    first_cut, last_heal = cuts[0], heals[-1]
    restarts = [(t, w) for t, w in events if start <= t <= end and w[0] in ("started", "exited")]

    # Benches, by group. A group is label:may_fail:file,file...
    failures = []
    rows = []
    for spec in args.group:
        label, may_fail, files = spec.split(":", 2)
        may_fail = may_fail == "may-fail"
        total = {"requests": 0, "ok": 0, "wrong": 0, "error_count": 0, "timeouts": 0, "lost": 0,
                 "connection_errors": 0, "malformed": 0, "warmup_failed": 0}
        errors = {}
        p99 = mx = 0
        stalled = False
        for path in files.split(","):
            try:
                bench = json.load(open(path))
            except (OSError, ValueError) as e:
                failures.append(f"{label}: bench output {path} unreadable ({e})")
                continue
            for key in total:
                total[key] += bench["warmup"]["failed"] if key == "warmup_failed" else bench[key]
            for code, n in bench["errors"].items():
                errors[code] = errors.get(code, 0) + n
            p99 = max(p99, bench["latency_us"]["p99"])
            mx = max(mx, bench["latency_us"]["max"])
            stalled |= bench["stalled"]
        bad = total["requests"] - total["ok"]
        if total["wrong"] or total["malformed"]:
            failures.append(f"{label}: {total['wrong']} wrong replies, {total['malformed']} malformed")
        if total["warmup_failed"]:
            failures.append(f"{label}: {total['warmup_failed']} requests failed in the warmup, before the cut")
        if not may_fail and (bad or total["connection_errors"] or stalled):
            failures.append(
                f"{label}: {bad} of {total['requests']} requests not answered correctly "
                f"(errors {errors or 0}, timeouts {total['timeouts']}, lost {total['lost']}), "
                f"{total['connection_errors']} connection errors{', stalled' if stalled else ''}; "
                "no worker of these policies was on the minority side")
        rows.append((label, may_fail, total, errors, p99, mx, stalled))

    # The probe: per path, failures, and recovery after the (last) heal.
    probes = []
    for line in open(args.probe):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if start <= record["t0"] <= end:
            probes.append(record)
    may_fail_paths = set(args.may_fail_path)
    by_path = {}
    for record in probes:
        by_path.setdefault(record["path"], []).append(record)
    probe_total = len(probes)
    probe_ok = sum(1 for r in probes if r["outcome"] == "ok")
    probe_wrong = sum(1 for r in probes if r["outcome"] == "wrong")
    if probe_wrong:
        failures.append(f"probe: {probe_wrong} wrong replies")
    if probe_total == 0:
        failures.append("probe: no probe ran during the fault")

    def matches(path, patterns):
        return any(re.fullmatch(p.replace("*", "[^/]+"), path) for p in patterns)

    recovery = {}
    failed_paths = {}
    for path, records in sorted(by_path.items()):
        bad = [r for r in records if r["outcome"] != "ok"]
        if bad:
            failed_paths[path] = {}
            for r in bad:
                failed_paths[path][r["outcome"]] = failed_paths[path].get(r["outcome"], 0) + 1
        if not matches(path, may_fail_paths):
            if bad:
                failures.append(f"probe {path}: {len(bad)} failed ({failed_paths[path]}), "
                                "but no worker of its policy was on the minority side")
            continue
        ok_after = [r["t1"] for r in records if r["outcome"] == "ok" and r["t1"] >= last_heal]
        recovery[path] = (min(ok_after) - last_heal) if ok_after else None
        late = [r for r in bad if r["t0"] >= last_heal + args.recovery_limit]
        if late:
            failures.append(f"probe {path}: {len(late)} requests sent more than "
                            f"{args.recovery_limit:.0f} s after the heal failed "
                            f"(first at heal +{late[0]['t0'] - last_heal:.1f} s: {late[0]['outcome']})")
    for path, value in sorted(recovery.items()):
        if value is None:
            failures.append(f"probe {path}: no correct reply after the heal")
        elif value > args.recovery_limit:
            failures.append(f"probe {path}: served again {value:.1f} s after the heal, "
                            f"more than {args.recovery_limit:.0f} s")

    # The minority host's workers answering again (capacity back), per proxy.
    back = {}
    returning = set(args.returning_worker)
    for path, records in by_path.items():
        proxy = path.split("/")[0]
        back.setdefault(proxy, [])
        back[proxy] += [r["t1"] - last_heal for r in records
                        if r["outcome"] == "ok" and r.get("worker") in returning and r["t1"] >= last_heal]
    back = {proxy: (min(times) if times else None) for proxy, times in back.items()}

    # Per heal (the flapping link): how soon the affected paths answered again.
    per_heal = []
    for i, heal in enumerate(heals):
        next_cut = cuts[i + 1] if i + 1 < len(cuts) else end
        worst = 0.0
        for path in recovery:
            oks = [r["t1"] for r in by_path[path] if r["outcome"] == "ok" and heal <= r["t1"] < next_cut]
            fails_in_cut = [r for r in by_path[path] if r["outcome"] != "ok" and cuts[i] <= r["t0"] < heal]
            if not fails_in_cut and any(r["outcome"] == "ok" and cuts[i] <= r["t1"] < heal for r in by_path[path]):
                continue  # served throughout this cut
            worst = max(worst, (min(oks) - heal) if oks else float("inf"))
        per_heal.append(worst)

    retries = ejections = None
    if args.metrics_before and args.metrics_after:
        before = json.loads(open(args.metrics_before).read() or "{}")
        after = json.loads(open(args.metrics_after).read() or "{}")
        retries, ejections = {}, {}
        for proxy in sorted(after):
            b, a = before.get(proxy), after.get(proxy)
            if a is None or b is None or a["retries"] < b["retries"]:
                retries[proxy] = ejections[proxy] = None  # down, or restarted (counters reset)
            else:
                retries[proxy] = a["retries"] - b["retries"]
                ejections[proxy] = a["ejections"] - b["ejections"]

    timeline = node_timeline(glob.glob(os.path.join(args.logs, "*.log")), first_cut, end)

    # --- report
    out = []
    duration = last_heal - first_cut
    out.append(f"### {args.title}")
    out.append("")
    out.append(f"cut at {time.strftime('%H:%M:%S UTC', time.gmtime(first_cut))}, "
               f"last heal {duration:.1f} s later" + "".join("; " + note for note in args.note))
    out.append("")
    out.append("| clients | sent | correct | wrong | errors by code | timeouts | lost | conn. errors | p99 | max | recovery after heal |")
    out.append("|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|")
    for label, may_fail, total, errors, p99, mx, stalled in rows:
        codes = ", ".join(f"{c} {n}" for c, n in sorted(errors.items())) or "0"
        paths = [p for p in recovery if matches(p, [g for g in args.group_paths.get(label, [])])] \
            if hasattr(args, "group_paths") else []
        rec = [recovery[p] for p in paths]
        rec_text = ("-" if not rec else
                    "never" if any(r is None for r in rec) else f"{max(rec):.1f} s")
        out.append(f"| {label}{'' if may_fail else ' (must not fail)'} | {total['requests']:,} | "
                   f"{total['ok']:,} | {total['wrong']} | {codes} | {total['timeouts']} | {total['lost']} | "
                   f"{total['connection_errors']} | {fmt_us(p99)} | {fmt_us(mx)} | {rec_text} |")
    out.append("")
    out.append(f"probe: {probe_total:,} requests on fresh connections, {probe_ok:,} correct, "
               f"{probe_wrong} wrong; failed by path: "
               + (", ".join(f"{p} {d}" for p, d in sorted(failed_paths.items())) or "none"))
    out.append("recovery after the heal (first correct reply, probe): "
               + ", ".join(f"{p} {fmt_s(v)}" for p, v in sorted(recovery.items())))
    if len(heals) > 1:
        out.append("per heal, slowest affected path served again after: "
                   + ", ".join("no failure" if w == 0 else "not within the up time" if w == float("inf")
                               else f"{w:.1f} s" for w in per_heal))
    if back:
        out.append(f"minority host's workers ({', '.join(sorted(returning))}) answering again after the heal: "
                   + ", ".join(f"via {p} {fmt_s(v)}" for p, v in sorted(back.items())))
    if retries is not None:
        out.append("proxy retries / ejections during the fault: "
                   + ", ".join(f"{p} {retries[p] if retries[p] is not None else 'n/a (restarted)'}"
                               f" / {ejections[p] if ejections[p] is not None else 'n/a'}" for p in sorted(retries)))
    for t, w in restarts:
        out.append(f"  {t - first_cut:+7.1f} s  {' '.join(w)}")
    for t, node, label in timeline:
        out.append(f"  {t - first_cut:+7.1f} s  {node}: {label}")
    out.append("  (times relative to the first cut; the last heal at "
               f"{last_heal - first_cut:+.1f} s)")
    out.append("")
    verdict = "OK" if not failures else "FAILED"
    out.append(f"FAULT {fault}: {verdict}")
    for failure in failures:
        out.append(f"  - {failure}")
    text = "\n".join(out)
    print(text)
    with open(args.result, "w") as f:
        json.dump({"fault": fault, "ok": not failures, "failures": failures,
                   "recovery": recovery, "per_heal": [None if w == float("inf") else w for w in per_heal],
                   "workers_back": back, "report": text}, f, indent=1)
    return 0 if not failures else 1


def main():
    parser = argparse.ArgumentParser(prog="partition.py")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("probe")
    p.add_argument("--target", action="append", required=True, help="name=host:port")
    p.add_argument("--policies", required=True)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--reply-timeout", type=float, default=8.0)
    p.add_argument("--max-outstanding", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=1800)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--out", required=True)

    w = sub.add_parser("wait-whole")
    w.add_argument("--management", action="append", required=True, help="host:port")
    w.add_argument("--members", type=int, required=True)
    w.add_argument("--routing", action="append", default=[], help="policy=id,id")
    w.add_argument("--in-rotation", action="append", default=[], help="policy=count")
    w.add_argument("--timeout", type=float, default=90)

    m = sub.add_parser("metrics")
    m.add_argument("--management", action="append", required=True, help="name=host:port")

    c = sub.add_parser("wait-connections")
    c.add_argument("--management", action="append", required=True, help="host:port")
    c.add_argument("--min", type=int, required=True)
    c.add_argument("--timeout", type=float, default=60)

    a = sub.add_parser("analyze")
    a.add_argument("--fault", required=True)
    a.add_argument("--title", required=True)
    a.add_argument("--note", action="append", default=[])
    a.add_argument("--events", required=True)
    a.add_argument("--probe", required=True)
    a.add_argument("--logs", required=True)
    a.add_argument("--group", action="append", default=[], help="label:must-not-fail|may-fail:file,file")
    a.add_argument("--group-path", action="append", default=[], help="label=pathpattern,...")
    a.add_argument("--may-fail-path", action="append", default=[])
    a.add_argument("--returning-worker", action="append", default=[])
    a.add_argument("--recovery-limit", type=float, default=5.0)
    a.add_argument("--metrics-before")
    a.add_argument("--metrics-after")
    a.add_argument("--result", required=True)

    args = parser.parse_args()
    if args.command == "probe":
        return cmd_probe(args)
    if args.command == "wait-whole":
        return cmd_wait_whole(args)
    if args.command == "metrics":
        return cmd_metrics(args)
    if args.command == "wait-connections":
        return cmd_wait_connections(args)
    args.group_paths = {}
    for spec in args.group_path:
        label, patterns = spec.split("=", 1)
        args.group_paths[label] = patterns.split(",")
    return cmd_analyze(args)


if __name__ == "__main__":
    sys.exit(main() or 0)
