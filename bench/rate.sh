#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Zero-loss throughput and latency (sgfw-bench --mode rate) of the io and fw engines at RFC 2544
# frame sizes 64, 512 and 1518 bytes (60, 508 and 1514 in memory: ring ports carry no FCS) and
# IMIX (7:4:1 of 64/570/1518), one sgfw-bench run each, engines interleaved within each size
# and rounds repeated so that noise on a shared machine falls on both alike; the JSON of every
# run is kept in OUT, and the table of medians over the rounds (with the fw/io ratio) is
# printed and written to OUT/rate.md.
#
#   bench/rate.sh [--out DIR] [--build DIR] [--trial S] [--resolution F] [--rounds N]
#                 [--sizes "60 508 1514 imix"] [--engines "io fw"] [--flows N] [--rules N]
#                 [--loss-tolerance F] [--lock FILE] [--quick]
#
# Defaults: 10 s trials, resolution 0.01, 1 round, 1000 flows, 1000 rules per port: about
# 2 minutes per run, 16 minutes in all. --quick: 0.5 s trials, resolution 0.05 (about a
# minute in all). --loss-tolerance F: a trial passes losing at most F of its packets (default
# 0, RFC 2544). --lock FILE: each run holds flock FILE, only while it runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/results/rate BUILD="${SG_BUILD:-$ROOT/build}" TRIAL=10 RESOLUTION=0.01 ROUNDS=1
SIZES="60 508 1514 imix" ENGINES="io fw" FLOWS=1000 RULES=1000 LOCK= TOLERANCE=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--trial) TRIAL=$2; shift 2 ;;
	--resolution) RESOLUTION=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--engines) ENGINES=$2; shift 2 ;;
	--flows) FLOWS=$2; shift 2 ;;
	--rules) RULES=$2; shift 2 ;;
	--lock) LOCK=$2; shift 2 ;;
	--loss-tolerance) TOLERANCE=$2; shift 2 ;;
	--quick) TRIAL=0.5 RESOLUTION=0.05; shift ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "rate.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$BUILD/app/sgfw-bench/sgfw-bench" ] || SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
BENCH=$BUILD/app/sgfw-bench/sgfw-bench
mkdir -p "$OUT"

run() {
	local name=$1
	shift
	local cmd=("$BENCH" --mode rate --no-progress --trial "$TRIAL" --resolution "$RESOLUTION"
		--loss-tolerance "$TOLERANCE" --flows "$FLOWS" --rules "$RULES" --json "$OUT/$name.json" --label "$name" "$@"
		-- --file-prefix="bch$$-$name")
	printf '%-24s ' "$name"
	if [ -n "$LOCK" ]; then
		flock "$LOCK" "${cmd[@]}" >"$OUT/$name.txt" 2>&1
	else
		"${cmd[@]}" >"$OUT/$name.txt" 2>&1
	fi || { echo failed; cat "$OUT/$name.txt" >&2; return 1; }
	grep '^zero-loss rate' "$OUT/$name.txt" | cut -c1-60
}

for round in $(seq 1 "$ROUNDS"); do
	for size in $SIZES; do
		for engine in $ENGINES; do
			run "rate-$engine-$size-r$round" --engine "$engine" --size "$size"
		done
	done
done

python3 - "$OUT" "$ROUNDS" "$SIZES" "$ENGINES" <<'PY' | tee "$OUT/rate.md"
import json, statistics, sys

out, rounds, sizes, engines = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
label = {"60": "64 B", "508": "512 B", "1514": "1518 B", "imix": "IMIX"}
# Bytes per frame with the FCS: what Gbit/s counts (without preamble and gap).
wire = {"imix": (7 * 64 + 4 * 570 + 1518) / 12}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, f="%.3f"):
    return "-" if x is None else f % x


rows = {}
for size in sizes:
    for engine in engines:
        runs = []
        for r in range(1, rounds + 1):
            try:
                runs.append(json.load(open("%s/rate-%s-%s-r%d.json" % (out, engine, size, r))))
            except FileNotFoundError:
                pass
        if not runs:
            continue
        lat = {}
        for load in (0.1, 0.5, 0.9):
            for q in ("p50", "p99", "p999"):
                lat[(load, q)] = med([next((t["latency_us"][q] for t in d["rate"]["latency"]
                                            if abs(t["load"] - load) < 1e-9), None) for d in runs])
        rows[(size, engine)] = {
            "zl": med([d["rate"]["zero_loss_mpps"] for d in runs]),
            "zl_best": max(d["rate"]["zero_loss_mpps"] for d in runs),
            "top": med([d["rate"]["generator_top_mpps"] for d in runs]),
            # What the worker forwarded while the unpaced trial overloaded it.
            "over": med([d["rate"]["search"][0]["received"] / d["rate"]["search"][0]["seconds"]
                         / 1e6 for d in runs]),
            "over_best": max(d["rate"]["search"][0]["received"] / d["rate"]["search"][0]["seconds"]
                             / 1e6 for d in runs),
            "bound": sum(d["rate"]["generator_bound"] for d in runs),
            "load": med([d["machine"]["load_average_before"] for d in runs]),
            "n": len(runs), "lat": lat,
        }

print("| frame | engine | zero-loss Mpps | best | Gbit/s | fw/io | forwarded overloaded Mpps | best"
      " | fw/io | generator top Mpps | runs | p50/p99/p99.9 us at 10 % | at 50 % | at 90 %"
      " | load avg |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for size in sizes:
    for engine in engines:
        row = rows.get((size, engine))
        if row is None:
            continue
        io = rows.get((size, "io"))
        ratio = (row["zl"] / io["zl"]) if io and io["zl"] and row["zl"] is not None else None
        over_ratio = row["over"] / io["over"] if io and io["over"] else None
        bytes_ = wire.get(size, int(size) + 4 if size.isdigit() else 0)
        gbit = row["zl"] * bytes_ * 8 / 1000 if row["zl"] is not None else None
        lat = ["/".join(fmt(row["lat"][(load, q)], "%.1f") for q in ("p50", "p99", "p999"))
               for load in (0.1, 0.5, 0.9)]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d%s | %s | %s | %s | %s |" % (
            label.get(size, size), engine, fmt(row["zl"]), fmt(row["zl_best"]), fmt(gbit, "%.2f"),
            fmt(ratio, "%.2fx") if engine != "io" else "1.00x", fmt(row["over"]),
            fmt(row["over_best"]),
            fmt(over_ratio, "%.2fx") if engine != "io" else "1.00x", fmt(row["top"]), row["n"],
            " (%d generator-bound)" % row["bound"] if row["bound"] else "", *lat,
            fmt(row["load"], "%.1f")))
print()
tol = json.load(open("%s/rate-%s-%s-r1.json" % (out, engines[0], sizes[0])))["rate"]
print("Medians (and the best) over the rounds of %g s trials. zero-loss: the highest offered rate a trial"
      " passed without losing a packet%s;" % (tol["trial_seconds"], " (or no more than %g of them)"
      % tol.get("loss_tolerance", 0) if tol.get("loss_tolerance") else ""), end="")
print(" forwarded overloaded: what the worker sent per second in the unpaced first trial;"
      " generator-bound: the unpaced trial lost nothing, so the generator, not"
      " the worker, set the rate. Latency: enqueue to dequeue through the ring ports.")
PY
