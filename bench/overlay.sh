#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What the VXLAN overlay costs in packets per second and cycles per packet: sgfw-bench's
# generator (the fw engine, in-process) on the same traffic without and with --overlay (half
# the flows' clients on a simulated second host: their frames decapsulated on the uplink, the
# VMs' answers encapsulated), established data and connection lifecycles (--cps), at each
# frame size (the inner frame's with --overlay). The two run interleaved within each size and
# rounds repeat, so noise on a shared machine falls on both alike; every run's JSON and output
# are kept in OUT, and the table of medians over the rounds, with the overlay/local ratios of
# cycles per packet (the mean, and the median burst's, which preemption does not inflate), is
# printed and written to OUT/overlay.md. A run whose packets do not all
# add up fails (sgfw-bench --overlay checks it), and so does this script.
#
#   bench/overlay.sh [--out DIR] [--build DIR] [--rounds N] [--sizes "64 1514"] [--flows N]
#                    [--rules N] [--duration S]
#
# Defaults: 5 rounds, 64 and 1514 bytes, 1000 flows, 1000 rules per port, 2 s (the cps phase
# half of it): about 5 s a run, 2 minutes in all. Run it under the shared lock:
#   flock /tmp/sgfw-system.lock bench/overlay.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/results/overlay BUILD="${SG_BUILD:-$ROOT/build}" ROUNDS=5 SIZES="64 1514"
FLOWS=1000 RULES=1000 DURATION=2
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--flows) FLOWS=$2; shift 2 ;;
	--rules) RULES=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "overlay.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$BUILD/app/sgfw-bench/sgfw-bench" ] || SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
BENCH=$BUILD/app/sgfw-bench/sgfw-bench
mkdir -p "$OUT"

run() {
	local name=$1
	shift
	printf '%-22s ' "$name"
	"$BENCH" --no-progress --flows "$FLOWS" --rules "$RULES" --duration "$DURATION" --cps \
		--json "$OUT/$name.json" --label "$name" "$@" -- --file-prefix="bch$$-$name" \
		>"$OUT/$name.txt" 2>&1 || { echo failed; cat "$OUT/$name.txt" >&2; return 1; }
	grep -E '^(established|cps) ' "$OUT/$name.txt" | awk '{printf "%s %s Mpps, %s cyc/pkt median  ", $1, $2, $5}'
	echo
}

for round in $(seq 1 "$ROUNDS"); do
	for size in $SIZES; do
		run "local-$size-r$round" --size "$size"
		run "overlay-$size-r$round" --size "$size" --overlay
	done
done

python3 - "$OUT" "$ROUNDS" "$SIZES" <<'PY' | tee "$OUT/overlay.md"
import json, os, statistics, sys

out, rounds, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
med = statistics.median

def runs(kind, size):
    return [json.load(open(os.path.join(out, "%s-%s-r%d.json" % (kind, size, r))))
            for r in range(1, rounds + 1)]

print("| size | traffic | established: Mpps | cycles/packet (mean) | median burst | vs local "
      "| cps: cycles/packet (mean) | median burst | vs local | connections/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size in sizes:
    base = None
    for kind in ("local", "overlay"):
        rs = runs(kind, size)
        est = [r["results"]["established"] for r in rs]
        cps = [r["results"]["cps"] for r in rs]
        row = (med(e["mpps"] for e in est), med(e["cycles_per_packet"] for e in est),
               med(e["cycles_per_packet_median_burst"] for e in est),
               med(c["cycles_per_packet"] for c in cps),
               med(c["cycles_per_packet_median_burst"] for c in cps),
               med(c["connections_per_second_per_core"] for c in cps))
        if base is None:
            base = row
        print("| %s | %s | %.2f | %.0f | %.0f | %.2f / %.2f | %.0f | %.0f | %.2f / %.2f | %.2fM |" % (
            size, kind, row[0], row[1], row[2], row[1] / base[1], row[2] / base[2], row[3],
            row[4], row[3] / base[3], row[4] / base[4], row[5] / 1e6))
loads = [json.load(open(os.path.join(out, f)))["machine"]["load_average_before"]
         for f in sorted(os.listdir(out)) if f.endswith(".json")]
print("\n(medians of %d interleaved rounds; load average %.1f-%.1f before the runs)" % (
    rounds, min(loads), max(loads)))
PY
