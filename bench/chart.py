#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Draw docs/BENCHMARKS.md's chart and print its results table from the JSON that
bench/matrix.sh (sgfw-bench runs) and bench/compare.sh (compare.json) wrote; and, where
RESULTS_DIR has them, the chart of testpmd, sgfw and OVS behind one generator on memif ports
(bench/rate.sh: rate-memif/, cps-memif/) as chart-memif.png.

    python3 bench/chart.py RESULTS_DIR [--png FILE] [--compare DIR]

Needs python3-matplotlib (Debian) for the PNG; the table is printed without it.
"""
import argparse
import glob
import json
import os
import statistics
import sys


def load(results):
    runs = {}
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        with open(path) as f:
            d = json.load(f)
        if d.get("tool") == "sgfw-bench":
            runs[os.path.basename(path)[:-5]] = d
    order = {"fw": 0, "sg": 1, "io": 2}
    return dict(sorted(runs.items(), key=lambda kv: (
        order.get(kv[1]["engine"], 3), kv[1]["flows"], kv[1]["rules_per_port"],
        kv[1]["workers"], kv[1]["vms"], kv[0])))


def engine_rate(d, phase="established"):
    """Mpps per core from the median burst (robust to preemption), else the mean."""
    r = d["results"].get(phase)
    if r is None:
        return None, None
    hz = d["machine"]["tsc_hz"]
    cpp = r.get("cycles_per_packet_median_burst") or r["cycles_per_packet"]
    return hz / cpp / 1e6, cpp


def fmt(v, f="%.2f"):
    return f % v if v is not None else "-"


def table(runs, compare):
    """The results table of docs/BENCHMARKS.md, then the stage breakdown."""
    hz = next(iter(runs.values()))["machine"]["tsc_hz"]
    print("| ports | frame | flows | rules/port | what | Mpps/core | cycles/packet | vs testpmd io "
          "| vs OVS+ct | conn/s/core | connections held | B/conn IPv4 | p99 burst us "
          "| rule update p99 | loss in update |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    if compare:
        m = compare["mpps"]
        names = {"testpmd": "dpdk-testpmd io", "io": "sgfw io", "sg": "sgfw sg", "fw": "sgfw fw",
                 "ovs": "OVS-DPDK plain", "ovs-ct": "OVS-DPDK + ct()"}
        for k in ["testpmd", "io", "sg", "fw", "ovs", "ovs-ct"]:
            if k not in m:
                continue
            print("| 2 x net_pcap | %s B | %s | %s | %s | %.2f | %.0f | %s | %s | - | %s | %s | - "
                  "| see control plane | see control plane |" % (
                      compare["size"], f'{compare["flows"]:,}', compare["rules_per_port"], names[k],
                      m[k], hz / (m[k] * 1e6),
                      "%.2fx" % (m[k] / m["testpmd"]) if m.get("testpmd") else "-",
                      "%.2fx" % (m[k] / m["ovs-ct"]) if m.get("ovs-ct") else "-",
                      f'{compare["flows"]:,}' if k in ("fw", "ovs-ct") else "-",
                      "119.1" if k == "fw" else "-"))
    for name, d in runs.items():
        mpps, cpp = engine_rate(d)
        if mpps is None:
            continue
        r = d["results"]["established"]
        cps = d["results"].get("cps", {})
        ct = d.get("conntrack", {})
        cps_v = cps.get("connections_per_second_per_core_median_burst")
        what = "sgfw %s" % d["engine"]
        extra = []
        if d["workers"] > 1:
            extra.append("%d workers" % d["workers"])
        if d["vms"] > 1:
            extra.append("%d VMs" % d["vms"])
        if d["new_share"]:
            extra.append("%.0f%% new" % (100 * d["new_share"]))
        if d["deny_share"]:
            extra.append("%.0f%% denied" % (100 * d["deny_share"]))
        if d["ipv6_share"] == 1:
            extra.append("IPv6")
        elif d["ipv6_share"]:
            extra.append("%.0f%% IPv6" % (100 * d["ipv6_share"]))
        if d["proto"] != "tcp":
            extra.append(d["proto"])
        if extra:
            what += " (" + ", ".join(extra) + ")"
        print("| in-process | %s B | %s | %s | %s | %.2f | %.0f | - | - | %s | %s | %s | %s "
              "| see control plane | see control plane |" % (
                  d["size"], f'{d["flows"]:,}', d["rules_per_port"], what, mpps, cpp,
                  "%.0f" % cps_v if cps_v else "-",
                  f'{ct["connections_held"]:,}' if "connections_held" in ct else "-",
                  "%.1f" % ct["bytes_per_conn_ipv4"] if "bytes_per_conn_ipv4" in ct else "-",
                  "%.1f" % r["burst_latency_us"]["p99"] if "burst_latency_us" in r else "-"))
    print()
    print("| in-process run | cycles/packet (median burst) | parse | conntrack | classify | forward "
          "| mean cycles/packet | CPU share | rules compiled in | rule memory |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, d in runs.items():
        mpps, cpp = engine_rate(d)
        if mpps is None:
            continue
        r = d["results"]["established"]
        # Stage counters are means, inflated like the mean total when other processes take
        # the core: scale them to the median burst's total.
        scale = cpp / r["cycles_per_packet"] if r["cycles_per_packet"] else 1
        st = {k: v * scale for k, v in r.get("stage_cycles_per_packet", {}).items()}
        print("| %s | %.0f | %s | %s | %s | %s | %.0f | %.0f %% | %s | %s |" % (
            name, cpp, *(fmt(st.get(k), "%.0f") for k in ("parse", "conntrack", "classify", "forward")),
            r["cycles_per_packet"], 100 * r.get("cpu_share", 1),
            "%.3f s" % d["rules"]["compile_seconds"] if d["rules"]["compile_seconds"] else "-",
            "%.1f MiB (%s rules)" % (d["rules"]["memory_bytes"] / 2**20, f'{d["rules"]["in_policy"]:,}')
            if d["rules"]["memory_bytes"] else "-"))


def chart(runs, compare, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if compare else 1, figsize=(13 if compare else 7, 4.8))
    ax = axes[0] if compare else axes
    by_flows = {}
    for name, d in runs.items():
        if d["engine"] != "fw" or d["workers"] != 1 or d["vms"] != 1 or d["new_share"] or \
                d["deny_share"] or d["ipv6_share"] or d["proto"] != "tcp":
            continue
        mpps, _ = engine_rate(d)
        if mpps is not None:
            by_flows.setdefault(d["flows"], []).append((d["rules_per_port"], mpps))
    for flows in sorted(by_flows):
        pts = sorted(by_flows[flows])
        ax.plot(["2\n(service\nrules only)" if p[0] == 2 else str(p[0]) for p in pts],
                [p[1] for p in pts], marker="o",
                label=f"{flows:,} flows")
    ax.set_title("sgfw fw engine, in-process, established TCP, 64 B")
    ax.set_xlabel("rules per port")
    ax.set_ylabel("Mpps per core (median burst)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    if compare:
        ax = axes[1]
        names = {"testpmd": "testpmd\nio", "io": "sgfw\nio", "sg": "sgfw\nsg", "fw": "sgfw\nfw",
                 "ovs": "OVS\nplain", "ovs-ct": "OVS\n+ct"}
        keys = [k for k in ["testpmd", "io", "sg", "fw", "ovs", "ovs-ct"] if k in compare["mpps"]]
        vals = [compare["mpps"][k] for k in keys]
        bars = ax.bar([names[k] for k in keys], vals,
                      color=["#888", "#4a90d9", "#4a90d9", "#1f5fa8", "#d98c4a", "#a8581f"][:len(keys)])
        base = compare["mpps"].get("testpmd")
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, v, "%.1f%s" % (v, " (%.0f%%)" % (100 * v / base) if base else ""),
                    ha="center", va="bottom", fontsize=8)
        ax.set_title("two net_pcap ports, %s flows, %s rules/port, one core" % (
            f'{compare["flows"]:,}', compare["rules_per_port"]))
        ax.set_ylabel("Mpps (best of %s rounds)" % compare.get("rounds", 1))
        ax.grid(axis="y", alpha=0.3)
    fig.text(0.01, 0.01, runs[next(iter(runs))]["machine"]["cpu"] + ", " +
             runs[next(iter(runs))]["machine"]["dpdk"], fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print("\nchart: %s" % png, file=sys.stderr)


MEMIF_ENGINES = [("testpmd", "testpmd io", "#888"), ("sgfw", "sgfw fw", "#1f5fa8"),
                 ("ovs-ct", "OVS + ct", "#a8581f")]
MEMIF_SIZES = [("60", "64 B"), ("508", "512 B"), ("1514", "1518 B"), ("imix", "IMIX")]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def memif_runs(rate_dir, engine, size):
    """The rate runs of one contender and frame size (rate-ENGINE-SIZE-rN.json)."""
    runs = []
    for path in sorted(glob.glob(os.path.join(rate_dir, "rate-%s-%s-r*.json" % (engine, size)))):
        with open(path) as f:
            runs.append(json.load(f)["rate"])
    return runs


def chart_memif(rate_dir, cps_dir, png):
    """Forwarded overloaded and latency at half the zero-loss rate by frame size, and
    connection set-up end to end, for the three contenders of bench/rate.sh on memif ports."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    width = 0.27
    for i, (eng, label, color) in enumerate(MEMIF_ENGINES):
        over, lat = [], []
        for size, _ in MEMIF_SIZES:
            runs = memif_runs(rate_dir, eng, size)
            over.append(median([r["search"][0]["received"] / r["search"][0]["seconds"] / 1e6
                                for r in runs]) or 0)
            lat.append(median([t["latency_us"]["p50"] for r in runs for t in r["latency"]
                               if abs(t["load"] - 0.5) < 1e-9]) or 0)
        xs = [k + (i - 1) * width for k in range(len(MEMIF_SIZES))]
        bars = axes[0].bar(xs, over, width, label=label, color=color)
        for b, v in zip(bars, over):
            axes[0].text(b.get_x() + b.get_width() / 2, v, "%.1f" % v, ha="center", va="bottom",
                         fontsize=7)
        axes[1].bar(xs, lat, width, label=label, color=color)
    for ax in axes[:2]:
        ax.set_xticks(range(len(MEMIF_SIZES)))
        ax.set_xticklabels([name for _, name in MEMIF_SIZES])
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("forwarded overloaded, 1,000 flows, 1,000 rules/port, 10 % denied")
    axes[0].set_ylabel("Mpps (median of rounds)")
    axes[1].set_title("latency p50 at 50 % of the zero-loss rate")
    axes[1].set_ylabel("us, generator to generator")
    names, vals, colors = [], [], []
    for eng, label, color in MEMIF_ENGINES:
        rates = []
        for path in glob.glob(os.path.join(cps_dir, "cps-%s-r*.json" % eng)):
            with open(path) as f:
                rates.append(json.load(f)["cps"]["per_second"] / 1e3)
        if rates:
            names.append(label)
            vals.append(median(rates))
            colors.append(color)
    bars = axes[2].bar(names, vals, color=colors)
    for b, v in zip(bars, vals):
        axes[2].text(b.get_x() + b.get_width() / 2, v, "%.0fK" % v, ha="center", va="bottom",
                     fontsize=8)
    axes[2].set_title("TCP lifecycles end to end (each step answers the last)")
    axes[2].set_ylabel("thousand connections/s (median of rounds)")
    axes[2].grid(axis="y", alpha=0.3)
    fig.text(0.01, 0.01, "one generator on CPU 0 (sgfw-bench --mode rate --external), the "
             "switch's forwarding core on CPU 1, two memif ports; bench/rate.sh",
             fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print("chart: %s" % png, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--png", default=None)
    ap.add_argument("--compare", default=None, help="directory of compare.json (default: RESULTS/compare)")
    a = ap.parse_args()
    runs = load(a.results)
    if not runs:
        sys.exit("chart.py: no sgfw-bench JSON in %s" % a.results)
    cdir = a.compare or os.path.join(a.results, "compare")
    compare = None
    if os.path.exists(os.path.join(cdir, "compare.json")):
        with open(os.path.join(cdir, "compare.json")) as f:
            compare = json.load(f)
    table(runs, compare)
    try:
        chart(runs, compare, a.png or os.path.join(a.results, "chart.png"))
        rate_dir = os.path.join(a.results, "rate-memif")
        if glob.glob(os.path.join(rate_dir, "rate-*.json")):
            chart_memif(rate_dir, os.path.join(a.results, "cps-memif"),
                        os.path.join(a.results, "chart-memif.png"))
    except ImportError:
        print("chart.py: python3-matplotlib is not installed: table only", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
