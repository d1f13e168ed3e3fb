"""The analysis of scripts/chaos.sh (not meant to be run by hand):

  row    one fault: the bench's JSON (and a second bench's, for the clients of one proxy alone),
         the events, the proxies' /routing samples (management.py watch), the probe's lines
         (partition.py probe), the silent backend's lines -> one table row as JSON, with the
         fault's hard criteria (must) and its targets
  table  the rows -> a Markdown table, each row's verdict, and the exit status: 0 only if every
         row met what it must

Standard library only. All times are Unix epoch seconds (time.time(), date +%s.%N).
"""
import argparse
import json
import sys


def load_json_lines(path):
    if not path:
        return []
    lines = []
    try:
        for line in open(path):
            line = line.strip()
            if line:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass  # a line cut short when the watcher was stopped
    except FileNotFoundError:
        pass
    return lines


def load_events(path):
    events = {}
    for line in open(path):
        parts = line.split()
        if len(parts) == 2:
            events[parts[0]] = float(parts[1])
    return events


def fmt_us(value):
    if value is None:
        return "-"
    if value < 1000:
        return f"{value} us"
    if value < 1_000_000:
        return f"{value / 1000:.1f} ms"
    return f"{value / 1e6:.2f} s"


def fmt_s(value):
    return "never" if value is None else f"{value:.1f} s"


def first_time(samples, since, predicate):
    """The time of the first sample at or after `since` for which predicate(routees) holds."""
    for sample in samples:
        if sample["t"] >= since and predicate(sample["routees"]):
            return sample["t"]
    return None


def serving(routees, node):
    return any(r[1] == node and r[3] == "serving" for r in routees)


def listed(routees, node):
    return any(r[1] == node for r in routees)


def bench_figures(bench):
    latency = bench.get("latency_us", {})
    return {
        "sent": bench["requests"],
        "correct": bench["ok"],
        "wrong": bench["wrong"],
        "errors": bench["errors"],
        # Never answered: in flight on a broken connection and not answered after the failover,
        # or no reply within the bench's --timeout.
        "lost": bench["lost"] + bench["timeouts"],
        "p99_us": latency.get("p99"),
        "max_us": latency.get("max"),
        "failovers": bench.get("failovers", 0),
        "resent": bench.get("resent", 0),
        "connection_errors": bench["connection_errors"],
        "malformed": bench["malformed"],
    }


def every_request_answered(figures):
    """The criteria of a fault that must cost nothing: every request sent got its correct reply."""
    failed = []
    if figures["sent"] == 0:
        failed.append("no request sent")
    if figures["correct"] != figures["sent"]:
        failed.append(f"{figures['sent'] - figures['correct']} of {figures['sent']} not correct")
    if figures["lost"]:
        failed.append(f"{figures['lost']} lost")
    if sum(figures["errors"].values()):
        failed.append(f"errors {figures['errors']}")
    if figures["malformed"]:
        failed.append(f"{figures['malformed']} malformed replies")
    return failed


def cmd_row(args):
    events = load_events(args.events)
    bench = json.load(open(args.bench))
    figures = bench_figures(bench)
    row = {"fault": args.label, **figures, "recovery": "-", "notes": [], "must": [], "missed": []}
    if figures["wrong"]:
        row["must"].append(f"{figures['wrong']} wrong")
    watches = {name: load_json_lines(path) for name, path in (w.split("=", 1) for w in args.watch)}

    if args.fault == "worker":
        row["must"] += every_request_answered(figures)
        kill, start, term = events["kill_b"], events["start_b"], events["term_a"]
        out = [first_time(samples, kill, lambda r: not serving(r, args.node_b)) for samples in watches.values()]
        back = [first_time(samples, start, lambda r: serving(r, args.node_b2)) for samples in watches.values()]
        gone = [first_time(samples, term, lambda r: not listed(r, args.node_a)) for samples in watches.values()]
        latest = lambda times: None if None in times else max(times)  # noqa: E731 - by every proxy
        out_at, back_at, gone_at = latest(out), latest(back), latest(gone)
        row["recovery"] = (
            f"B out of rotation {fmt_s(out_at and out_at - kill)} after the kill; B' serving"
            f" {fmt_s(back_at and back_at - start)} after its start; A out"
            f" {fmt_s(gone_at and gone_at - term)} after its SIGTERM")
        row["notes"].append(f"proxies: {args.retries} retries, {args.ejections} ejections")
        if back_at is None:
            row["must"].append("the restarted node B' never served")

    elif args.fault == "proxy":
        row["must"] += every_request_answered(figures)
        start = events["start_p1"]
        ready = events.get("ready_p1")
        probes = load_json_lines(args.probe)
        first_ok = {}
        for probe in probes:
            policy = probe["path"].split("/", 1)[1]
            if probe["outcome"] == "ok" and probe["t0"] >= start and policy not in first_ok:
                first_ok[policy] = probe["t1"]
        policies = args.policies.split(",")
        served = max(first_ok.values()) - start if len(first_ok) == len(policies) else None
        row["recovery"] = (
            f"P1 ready {fmt_s(ready and ready - start)} after its start, every policy served"
            f" through it alone {fmt_s(served)} after its start")
        row["notes"].append(
            f"{figures['failovers']} failovers, {figures['resent']} resent,"
            f" {figures['connection_errors']} connection errors")
        if ready is None or served is None:
            row["must"].append("the restarted proxy did not serve again")
        elif max(ready - start, served) > args.recovery_target:
            row["missed"].append(f"served again {max(ready - start, served):.1f} s after its start, target {args.recovery_target:.0f} s")
        if args.other_bench:
            other = bench_figures(json.load(open(args.other_bench)))
            other_row = {"fault": args.other_label, **other, "recovery": "never lost", "notes": [
                f"{other['connection_errors']} connection errors, no failover (--port P2 only)"],
                "must": every_request_answered(other) + (
                    [f"{other['connection_errors']} connection errors"] if other["connection_errors"] else []),
                "missed": []}
            if other["wrong"]:
                other_row["must"].append(f"{other['wrong']} wrong")
            json.dump(other_row, open(args.other_result, "w"))

    elif args.fault == "silent":
        start = events["silent_start"]
        requests = [line.split() for line in open(args.silent_log) if line.strip()]
        got = len(requests)
        first = float(requests[0][0]) if requests else None
        samples = watches.get("p2", [])
        ejected_at = first_time(samples, start, lambda r: any(
            x[0] == args.policy and "legacy-" in x[2] and x[3] == "ejected" for x in r))
        listed_at = first_time(samples, start, lambda r: any(
            x[0] == args.policy and "legacy-" in x[2] for x in r))
        row["recovery"] = (
            f"listed {fmt_s(listed_at and listed_at - start)} after it started; ejected"
            f" {fmt_s(ejected_at and first and ejected_at - first)} after its first request")
        row["notes"].append(f"the silent backend got {got} requests (at most {args.max_silent})")
        if got > args.max_silent:
            row["must"].append(f"the silent backend got {got} requests, more than {args.max_silent}")
        if listed_at is None:
            row["must"].append("the silent backend was never in the rotation")
        if figures["p99_us"] is not None and figures["p99_us"] >= args.p99_target_ms * 1000:
            row["missed"].append(f"p99 {fmt_us(figures['p99_us'])}, target < {args.p99_target_ms} ms")
        if figures["lost"] or sum(figures["errors"].values()):
            row["missed"].append("requests failed (target: none)")

    json.dump(row, open(args.result, "w"))
    return 0


def errors_text(errors):
    return ", ".join(f"{code} {n}" for code, n in sorted(errors.items())) or "0"


def cmd_table(args):
    rows = [json.load(open(path)) for path in args.rows]
    print("| fault | sent | correct | wrong | errors by code | lost | p99 | max | recovery | notes | verdict |")
    print("|---|--:|--:|--:|---|--:|--:|--:|---|---|---|")
    good = True
    for row in rows:
        verdict = "OK" if not row["must"] else "FAILED: " + "; ".join(row["must"])
        if row["missed"]:
            verdict += " (target missed: " + "; ".join(row["missed"]) + ")"
        good &= not row["must"]
        print(f"| {row['fault']} | {row['sent']:,} | {row['correct']:,} | {row['wrong']} |"
              f" {errors_text(row['errors'])} | {row['lost']} | {fmt_us(row['p99_us'])} |"
              f" {fmt_us(row['max_us'])} | {row['recovery']} | {'; '.join(row['notes'])} | {verdict} |")
    print()
    print("CHAOS: OK (every fault met what it must)" if good else "CHAOS: FAILED")
    return 0 if good else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("row")
    r.add_argument("--fault", choices=["worker", "proxy", "silent"], required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--bench", required=True)
    r.add_argument("--events", required=True)
    r.add_argument("--watch", action="append", default=[], help="p1=FILE, p2=FILE")
    r.add_argument("--result", required=True)
    r.add_argument("--node-a")
    r.add_argument("--node-b")
    r.add_argument("--node-b2")
    r.add_argument("--retries", type=int, default=0)
    r.add_argument("--ejections", type=int, default=0)
    r.add_argument("--probe")
    r.add_argument("--policies", default="111,222,333")
    r.add_argument("--recovery-target", type=float, default=5.0)
    r.add_argument("--other-bench")
    r.add_argument("--other-label")
    r.add_argument("--other-result")
    r.add_argument("--silent-log")
    r.add_argument("--policy", default="333")
    r.add_argument("--max-silent", type=int, default=4)
    r.add_argument("--p99-target-ms", type=float, default=100)
    t = sub.add_parser("table")
    t.add_argument("rows", nargs="+")
    args = parser.parse_args()
    return {"row": cmd_row, "table": cmd_table}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
