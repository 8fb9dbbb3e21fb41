#!/usr/bin/python3
"""Turns bench/run's raw figures into one markdown report: the measurements per server and
worker count (medians over the runs), gslbd's ratio to each peer, and the targets against
gdnsd. Reads:

  results.tsv  server, workers, run, mode (sat|rate), sent, completed, lost, q/s,
               server CPU ticks during the run, NXDOMAIN answers
  rss.tsv      server, workers, "rss", VmRSS and RssAnon in KiB after the runs
"""

import argparse
import os
import statistics
from collections import defaultdict

PEERS = ["gdnsd", "nsd", "knot"]
GSLBD = ["gslbd-rr", "gslbd-distance", "gslbd-flap"]
TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def load(results_path, rss_path):
    runs = defaultdict(lambda: defaultdict(list))  # (server, workers) -> key -> [values]
    with open(results_path) as f:
        for line in f:
            server, workers, _run, mode, sent, completed, lost, qps, ticks, _nx = (
                line.rstrip("\n").split("\t"))
            key = (server, int(workers))
            completed = int(completed)
            runs[key][mode + "_qps"].append(float(qps))
            runs[key][mode + "_lost"].append(int(lost))
            runs[key][mode + "_sent"].append(int(sent))
            runs[key][mode + "_cpu"].append(int(ticks) * TICK_US / completed)
    rss = {}
    with open(rss_path) as f:
        for line in f:
            server, workers, _tag, kb, anon = line.rstrip("\n").split("\t")
            rss[(server, int(workers))] = (int(kb) / 1024.0, int(anon) / 1024.0)
    table = {}
    for key, values in runs.items():
        row = {name: statistics.median(v) for name, v in values.items()}
        row["sat_lost_max"] = max(values["sat_lost"])
        row["rate_lost_max"] = max(values["rate_lost"])
        row["rss"], row["anon"] = rss.get(key, (float("nan"), float("nan")))
        table[key] = row
    return table


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--rss", required=True)
    p.add_argument("--machine", required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--rate", type=int, required=True)
    p.add_argument("--sat-args", required=True)
    a = p.parse_args()
    t = load(a.results, a.rss)
    workers = sorted({w for (_, w) in t})
    order = [s for s in GSLBD + PEERS if any((s, w) in t for w in workers)]

    print(f"Machine: {a.machine}")
    print(f"Medians of {a.runs} runs of {a.duration} s each. (a) saturation: dnsperf {a.sat_args}"
          f"; (b) fixed rate: dnsperf -Q {a.rate}; CPU = server utime+stime during (b) "
          f"per answered query; RSS = VmRSS after the runs, summed over processes, and its "
          f"anonymous part (RssAnon: heap, stacks; the rest is mapped files, mostly libraries).")
    print()
    print("| server | workers | (a) q/s | (a) lost (max) | (b) lost (max) | (b) CPU µs/query "
          "| (a) CPU µs/query | RSS MiB | of which anonymous |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workers:
        for s in order:
            r = t.get((s, w))
            if r is None:
                continue
            print(f"| {s} | {w} | {r['sat_qps']:,.0f} | {r['sat_lost_max']} | "
                  f"{r['rate_lost_max']} | {r['rate_cpu']:.2f} | {r['sat_cpu']:.2f} | "
                  f"{r['rss']:.1f} | {r['anon']:.1f} |")
    print()
    print("gslbd ÷ peer (q/s: higher is better for gslbd; CPU and RSS: lower is better):")
    print()
    peers = [s for s in PEERS if s in order]
    header = "| gslbd config | workers | " + " | ".join(
        f"q/s ÷ {s} | CPU ÷ {s} | RSS ÷ {s}" for s in peers) + " |"
    print(header)
    print("| --- | ---: |" + " ---: | ---: | ---: |" * len(peers))
    for w in workers:
        for s in GSLBD:
            g = t.get((s, w))
            if g is None:
                continue
            cells = []
            for peer in peers:
                pr = t.get((peer, w))
                if pr is None:
                    cells += ["n/a"] * 3
                    continue
                cells += [ratio(g["sat_qps"], pr["sat_qps"]),
                          ratio(g["rate_cpu"], pr["rate_cpu"]), ratio(g["rss"], pr["rss"])]
            print(f"| {s} | {w} | " + " | ".join(cells) + " |")

    if "gdnsd" not in peers:
        return
    print()
    print("Targets against gdnsd (CPU/query ≤ 1.0×, q/s ≥ 0.95×, no loss where gdnsd has none, "
          "RSS ≤ 2×):")
    print()
    print("| gslbd config | workers | CPU/query | q/s | loss | RSS |")
    print("| --- | ---: | --- | --- | --- | --- |")
    for w in workers:
        gd = t.get(("gdnsd", w))
        for s in GSLBD:
            g = t.get((s, w))
            if g is None or gd is None:
                continue
            cpu = g["rate_cpu"] / gd["rate_cpu"]
            qps = g["sat_qps"] / gd["sat_qps"]
            rss = g["rss"] / gd["rss"]
            gd_lost = gd["sat_lost_max"] + gd["rate_lost_max"]
            g_lost = g["sat_lost_max"] + g["rate_lost_max"]
            loss_ok = gd_lost > 0 or g_lost == 0
            print(f"| {s} | {w} | {cpu:.2f}× {'met' if cpu <= 1.0 else 'missed'} | "
                  f"{qps:.2f}× {'met' if qps >= 0.95 else 'missed'} | "
                  f"{g_lost} vs {gd_lost} {'met' if loss_ok else 'missed'} | "
                  f"{rss:.2f}× {'met' if rss <= 2.0 else 'missed'} |")


if __name__ == "__main__":
    main()
