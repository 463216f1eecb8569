#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The in-process measurements of docs/BENCHMARKS.md, one sgfw-bench run each, every result kept
# as JSON in OUT (default bench/results/): the fw engine over flows x rules per port, the sg and
# io engines, new connections, denied traffic, IPv6 and mixed protocols, two workers, and the
# ten-million-connection table. Then bench/chart.py draws the chart and the results table.
#
#   bench/matrix.sh [--out DIR] [--build DIR] [--duration S] [--quick]
#
# --quick: 1K and 100K flows only, no 10M run (about a minute).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/results BUILD="${SG_BUILD:-$ROOT/build}" DURATION=3 QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	-h|--help) sed -n '2,9p' "$0"; exit 0 ;;
	*) echo "matrix.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -x "$BUILD/app/sgfw-bench/sgfw-bench" ] || SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
BENCH=$BUILD/app/sgfw-bench/sgfw-bench
mkdir -p "$OUT"

run() {
	local name=$1
	shift
	printf '%-28s ' "$name"
	"$BENCH" --no-progress --duration "$DURATION" --json "$OUT/$name.json" --label "$name" "$@" \
		-- --file-prefix="bch$$-$name" >"$OUT/$name.txt" 2>&1 || { echo failed; cat "$OUT/$name.txt" >&2; return 1; }
	python3 - "$OUT/$name.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"].get("established") or d["results"].get("ports")
c = d["results"].get("cps")
print("%7.2f Mpps/core %7.1f cycles/packet%s" % (r["mpps_per_core"], r["cycles_per_packet"],
      "  %9.0f conn/s/core" % c["connections_per_second_per_core"] if c else ""))
PY
}

flows_list="1000 100000 1000000"
[ "$QUICK" = 1 ] && flows_list="1000 100000"
for flows in $flows_list; do
	for rules in 0 10 100 1000; do
		extra=()
		[ "$rules" = 1000 ] && extra=(--cps)
		run "fw-f$flows-r$rules" --engine fw --flows "$flows" --rules "$rules" "${extra[@]}"
	done
done
run "sg-f1000-r1000" --engine sg --flows 1000 --rules 1000
run "io-f1000-r1000" --engine io --flows 1000 --rules 1000
run "fw-f1000-r1000-w2" --engine fw --flows 1000 --rules 1000 --workers 2 --cps
run "fw-f1000-r1000-new10" --engine fw --flows 1000 --rules 1000 --new 0.1
run "fw-f1000-r1000-deny10" --engine fw --flows 1000 --rules 1000 --deny 0.1
run "fw-f1000-r1000-ipv6" --engine fw --flows 1000 --rules 1000 --ipv6 1
run "fw-f1000-r1000-mix" --engine fw --flows 1000 --rules 1000 --proto mix --ipv6 0.2
run "fw-f1000-r1000-vms10" --engine fw --flows 1000 --rules 1000 --vms 10
run "sg-f1000-r1000-vms10" --engine sg --flows 1000 --rules 1000 --vms 10
if [ "$QUICK" = 0 ]; then
	run "fw-f10000000-r1000" --engine fw --flows 10000000 --rules 1000 --capacity 10500000
fi
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3  # Debian's, with python3-matplotlib
"$PY" "$ROOT/bench/chart.py" "$OUT" || echo "matrix: no chart (python3-matplotlib missing?)"
