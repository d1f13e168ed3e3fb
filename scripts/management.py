"""Reads a node's management endpoint for the scripts (chaos.sh, registration-flood.sh).

  management.py node URL               the node's own cluster address (/cluster/members selfNode)
  management.py sum URL SERIES...      per SERIES, the sum of its samples in /metrics, one line,
                                       space-separated; SERIES is a metric name, optionally with
                                       labels that must match: revproxy_retries_total or
                                       revproxy_registrations_total{result="accepted"}
  management.py poll URL NODE SERIES...
                                       every 200 ms a line: the time (seconds since the epoch),
                                       how many routees of NODE are serving in any policy
                                       (/routing), and the sums as `sum` prints them; a poll the
                                       node does not answer within 2 s is left out

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


def serving(base, node):
    policies = json.loads(get(base, "/routing"))["policies"]
    return sum(1 for policy in policies for routee in policy["routees"]
               if routee["node"] == node and routee["state"] == "serving")


def main(args):
    if len(args) >= 2 and args[0] == "node":
        print(json.loads(get(args[1], "/cluster/members"))["selfNode"])
    elif len(args) >= 3 and args[0] == "sum":
        print(sums(args[1], [series(spec) for spec in args[2:]]))
    elif len(args) >= 4 and args[0] == "poll":
        base, node, specs = args[1], args[2], [series(spec) for spec in args[3:]]
        while True:
            start = time.time()
            try:
                print("%.3f %d %s" % (start, serving(base, node), sums(base, specs)), flush=True)
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(max(0.0, start + 0.2 - time.time()))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as e:
        sys.exit(f"management.py: {e}")
