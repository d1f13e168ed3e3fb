"""Reads a node's management endpoint for the scripts (chaos.sh, registration-flood.sh).

  management.py node URL               the node's own cluster address (/cluster/members selfNode)
  management.py sum URL SERIES...      per SERIES, the sum of its samples in /metrics, one line,
                                       space-separated; SERIES is a metric name, optionally with
                                       labels that must match: revproxy_retries_total or
                                       revproxy_registrations_total{result="accepted"}
  management.py watch URL SECONDS      every 200 ms for at most SECONDS a JSON line of /routing:
                                       {"t": <seconds since the epoch>, "routees": [[policy,
                                       node, path, state, in flight], ...]}; a poll the node
                                       does not answer within 2 s is left out
  management.py ready-at URL SECONDS   polls /ready every 100 ms, prints the time (seconds since
                                       the epoch) of the first 200; exit status 1 if none came
                                       within SECONDS

URL is the endpoint's base, e.g. http://127.0.0.1:8558. Exit status 1 if the endpoint does not
answer (node, sum), 2 for a bad command line.
"""
import json
import re
import sys
import time
import urllib.request

# Prometheus text format: name{label="value",...} value [timestamp]
SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=2) as response:
        return response.read().decode()


def series(spec):
    match = SAMPLE.match(spec + " 0")
    if not match:
        sys.exit(f"management.py: not a metric name with labels: {spec}")
    return match.group(1), dict(LABEL.findall(match.group(2) or ""))


def sums(base, specs):
    totals = [0.0] * len(specs)
    for line in get(base, "/metrics").splitlines():
        match = SAMPLE.match(line)
        if not match:
            continue
        name, labels = match.group(1), dict(LABEL.findall(match.group(2) or ""))
        for i, (wanted, wanted_labels) in enumerate(specs):
            if name == wanted and wanted_labels.items() <= labels.items():
                totals[i] += float(match.group(3))
    return " ".join("%.0f" % total for total in totals)


def routees(base):
    return [[policy["policy"], routee["node"], routee["path"], routee["state"], routee["inFlight"]]
            for policy in json.loads(get(base, "/routing"))["policies"]
            for routee in policy["routees"]]


def ready(base):
    try:
        with urllib.request.urlopen(base + "/ready", timeout=1) as response:
            return response.status == 200
    except (OSError, ValueError):  # refused, 503 (an HTTPError), reset
        return False


def main(args):
    if len(args) >= 2 and args[0] == "node":
        print(json.loads(get(args[1], "/cluster/members"))["selfNode"])
    elif len(args) >= 3 and args[0] == "sum":
        print(sums(args[1], [series(spec) for spec in args[2:]]))
    elif len(args) == 3 and args[0] == "watch":
        base, deadline = args[1], time.time() + float(args[2])
        while time.time() < deadline:
            start = time.time()
            try:
                print(json.dumps({"t": round(start, 3), "routees": routees(base)}), flush=True)
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(max(0.0, start + 0.2 - time.time()))
    elif len(args) == 3 and args[0] == "ready-at":
        base, deadline = args[1], time.time() + float(args[2])
        while time.time() < deadline:
            start = time.time()
            if ready(base):
                print("%.3f" % start)
                return
            time.sleep(max(0.0, start + 0.1 - time.time()))
        sys.exit(1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as e:
        sys.exit(f"management.py: {e}")
