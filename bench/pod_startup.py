#!/usr/bin/env python3
"""Pod start-up latency through the API, as a user sees it (bench/run_pod_startup.sh).

For each round: create N pods at once (busybox, sleep), and time from each create request to
the first watch event that shows the pod Running (status.phase, as `kubectl get pods -w`
shows it). Prints one JSON object: per burst size, the latencies' p50/p99/max and the time
until the last pod of the burst was Running.
Usage: pod_startup.py KUBECONFIG IMAGE SINGLE_ROUNDS BURST_SIZES(comma) [NAMESPACE]
With POD_STARTUP_TIMELINE=FILE in the environment, each burst's pods' wall-clock create and
Running times (UTC, to merge with the kubelet's log: bench/pod_timeline.py) are added to FILE.
With POD_STARTUP_BURST_DONE=COMMAND, COMMAND runs (sh -c) after each burst's last Running pod and
before its pods are deleted: the bench stops its CPU profile there, so the teardown is not in it.
"""
import json
import os
import subprocess
import sys
import threading
import time

from kubernetes import client, config, watch


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def burst(api, ns, image, n, tag):
    names = ["%s-%d" % (tag, i) for i in range(n)]
    created, running, wall = {}, {}, {}
    done = threading.Event()
    rv = api.list_namespaced_pod(ns, limit=1).metadata.resource_version

    def watcher():
        w = watch.Watch()
        for ev in w.stream(api.list_namespaced_pod, ns, resource_version=rv, timeout_seconds=300,
                           label_selector="bench=%s" % tag):
            pod = ev["object"]
            name = pod.metadata.name
            if pod.status and pod.status.phase == "Running" and name not in running:
                running[name] = time.monotonic()
                wall[name] = (wall[name][0], time.time())
                if len(running) == n:
                    w.stop()
        done.set()

    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    time.sleep(0.2)  # the watch is open before the first create
    start = time.monotonic()
    for name in names:
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"bench": tag}},
                "spec": {"containers": [{"name": "c", "image": image, "command": ["sleep", "100000"],
                                         "imagePullPolicy": "Never"}],
                         "terminationGracePeriodSeconds": 0}}
        created[name] = time.monotonic()
        wall[name] = (time.time(), None)
        api.create_namespaced_pod(ns, body)
    done.wait(300)
    if os.environ.get("POD_STARTUP_TIMELINE") and n > 1:
        with open(os.environ["POD_STARTUP_TIMELINE"], "a") as f:
            for nm in names:
                f.write(json.dumps({"burst": tag, "pod": nm, "created": wall[nm][0], "running": wall[nm][1]}) + "\n")
    lat = [running[nm] - created[nm] for nm in names if nm in running]
    return {"n": n, "running": len(lat), "latencies": lat,
            "all_running_s": (max(running.values()) - start) if len(running) == n else None}


def cleanup(api, ns, tag):
    api.delete_collection_namespaced_pod(ns, label_selector="bench=%s" % tag, grace_period_seconds=0)
    deadline = time.time() + 120
    while time.time() < deadline and api.list_namespaced_pod(ns, label_selector="bench=%s" % tag).items:
        time.sleep(0.5)


def main():
    kubeconfig, image, rounds, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ns = sys.argv[5] if len(sys.argv) > 5 else "default"
    config.load_kube_config(kubeconfig)
    api = client.CoreV1Api()
    out = {}
    singles = []
    for r in range(rounds):
        res = burst(api, ns, image, 1, "single%d" % r)
        singles += res["latencies"]
        cleanup(api, ns, "single%d" % r)
    if singles:
        out["single"] = {"n": len(singles), "p50": pct(singles, 50), "p99": pct(singles, 99), "max": max(singles)}
    for size in [int(s) for s in sizes.split(",") if s]:
        res = burst(api, ns, image, size, "burst%d" % size)
        lat = res["latencies"]
        out["burst%d" % size] = {"n": size, "running": res["running"], "p50": pct(lat, 50), "p99": pct(lat, 99),
                                 "all_running_s": res["all_running_s"]}
        if os.environ.get("POD_STARTUP_BURST_DONE"):
            subprocess.run(["sh", "-c", os.environ["POD_STARTUP_BURST_DONE"]], check=False)
        cleanup(api, ns, "burst%d" % size)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
