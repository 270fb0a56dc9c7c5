#!/usr/bin/env python3
"""Per-pod timeline of a burst (bench/run_pod_startup.sh --timeline): where each pod's start-up
time goes, from pod_startup.py's create and Running times (POD_STARTUP_TIMELINE) and the
kubelet's log at -v 2 (its klog-style UTC timestamps). For each pod, seconds from its create
request to: the pod workers' first sync of it, the sandbox asked for, the sandbox ready, the
container started, the status Running written, Running seen through the watch. Then the
medians and maxima of each step, and how many syncs ran at once over time.
Usage: pod_timeline.py TIMELINE_JSONL AGENT_LOG [BURST_TAG]
"""
import datetime
import json
import re
import statistics
import sys

STEPS = [("first sync", "sync"), ("starting its sandbox", "sandbox?"), ("ready in", "sandbox"),
         ("started", "started"), ("status Running", "written")]
LINE = re.compile(r"^I(\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+) \S+\] pod (\S+): (.*)$")


def main():
    timeline, log = sys.argv[1], sys.argv[2]
    tag = sys.argv[3] if len(sys.argv) > 3 else None
    pods = {}
    for line in open(timeline):
        r = json.loads(line)
        if tag is None or r["burst"] == tag:
            pods["default/" + r["pod"]] = {"created": r["created"], "seen": r["running"]}
    year = datetime.datetime.fromtimestamp(min(p["created"] for p in pods.values()), datetime.timezone.utc).year
    for line in open(log, errors="replace"):
        m = LINE.match(line)
        if not m or m.group(6) not in pods:
            continue
        mo, d, h, mi, sec = m.group(1, 2, 3, 4, 5)
        t = datetime.datetime(year, int(mo), int(d), int(h), int(mi), tzinfo=datetime.timezone.utc).timestamp() + float(sec)
        p = pods[m.group(6)]
        if t < p["created"] - 1:
            continue  # an earlier burst's pod of the same name (the agent's log is appended to)
        for needle, step in STEPS:
            if needle in m.group(7) and step not in p:
                p[step] = t
    t0 = min(p["created"] for p in pods.values())
    cols = [s for _, s in STEPS] + ["seen"]
    print("%-16s %7s " % ("pod", "create") + " ".join("%8s" % c for c in cols) + "   (s after the burst's first create)")
    rows = sorted(pods.items(), key=lambda kv: kv[1]["created"])
    for name, p in rows:
        print("%-16s %7.3f " % (name.split("/")[-1], p["created"] - t0) +
              " ".join("%8s" % ("-" if p.get(c) is None else "%.3f" % (p[c] - t0)) for c in cols))
    # Each step's own duration: from the step before it.
    print("step durations (s): median / max")
    prev = "created"
    for c in cols:
        ds = [p[c] - p[prev] for p in pods.values() if p.get(c) is not None and p.get(prev) is not None]
        if ds:
            print("  %-9s <- %-9s %.3f / %.3f" % (c, prev, statistics.median(ds), max(ds)))
        prev = c
    # Concurrency: how many pods were between their first sync and their status write.
    events = sorted([(p["sync"], 1) for p in pods.values() if "sync" in p] +
                    [(p["written"], -1) for p in pods.values() if "written" in p])
    cur = peak = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    print("pods in a sync at once: peak %d" % peak)


if __name__ == "__main__":
    main()
