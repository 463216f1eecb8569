#!/usr/bin/env bash
# How long a policy change takes to reach the workers: the time from sgfwctl sending a change
# to sgfw answering, which it does after the new generation (rte_acl contexts included) is
# built, swapped in and every worker has passed a quiescent point, so every packet from then
# on is classified by the new policy. Prints a table and writes JSON (bench/control_latency.json).
# usage: bench/control_latency.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
sgfw=$build/app/sgfw/sgfw
ctl=$build/app/sgfwctl/sgfwctl
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

python3 "$root/bench/gen_policy.py" 100 100 "$tmp/sgfw.sock" >"$tmp/sgfw.conf"
"$sgfw" -c "$tmp/sgfw.conf" >"$tmp/sgfw.log" 2>&1 &
pid=$!
for i in $(seq 600); do "$ctl" -s "$tmp/sgfw.sock" status >/dev/null 2>&1 && break; sleep 0.1; done

# ms of one sgfwctl call
timed() {
	local t0 t1
	t0=$(date +%s%N)
	"$ctl" -s "$tmp/sgfw.sock" "$@" >/dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 ))
}

stats() { # name, then microseconds per line on stdin
	python3 -c '
import sys, statistics
name = sys.argv[1]; v = sorted(int(x) / 1000.0 for x in sys.stdin)
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%s %d %.1f %.1f %.1f" % (name, len(v), p(0.5), p(0.99), max(v)))' "$1"
}

{
	for i in $(seq 30); do
		timed rule add g7 direction=ingress protocol=tcp port_range=$((40000 + i))/$((40000 + i)) source_cidr=10.250.0.0/16
	done | stats "one-rule-add-to-a-100-rule-port"
	for i in $(seq 30); do timed status; done | stats "no-change-round-trip"
	python3 "$root/bench/gen_policy.py" 100 100 "$tmp/sgfw.sock" 0 | sed 's/id = "g3"; inner_access_policy = "drop"/id = "g3"; inner_access_policy = "accept"/' >"$tmp/g3.conf"
	for i in $(seq 10); do
		cp "$tmp/sgfw.conf" "$tmp/a.conf"
		python3 "$root/bench/gen_policy.py" 100 100 "$tmp/sgfw.sock" $((i * 3)) >"$tmp/shifted.conf"
		# Only g5's 100 rules change: its port's contexts are rebuilt, the 99 others reused.
		python3 - "$tmp/sgfw.conf" "$tmp/shifted.conf" >"$tmp/one-group.conf" <<'PY'
import sys
base = open(sys.argv[1]).read().split("\n")
shifted = open(sys.argv[2]).read().split("\n")
start = [i for i, l in enumerate(base) if 'id = "g5";' in l][0]
print("\n".join(base[:start] + shifted[start:start + 101] + base[start + 101:]))
PY
		cp "$tmp/one-group.conf" "$tmp/sgfw.conf"
		timed reload
		cp "$tmp/a.conf" "$tmp/sgfw.conf"
		timed reload
	done | stats "reload-changing-one-100-rule-group"
	for i in $(seq 6); do
		python3 "$root/bench/gen_policy.py" 100 100 "$tmp/sgfw.sock" $((i * 7)) >"$tmp/sgfw.conf"
		timed reload
	done | stats "reload-of-10000-rules-over-100-ports-all-changed"
} >"$tmp/results.txt"

printf '%-50s %5s %9s %9s %9s\n' "change" "runs" "p50 ms" "p99 ms" "max ms"
while read -r name n p50 p99 max; do
	printf '%-50s %5s %9s %9s %9s\n' "$name" "$n" "$p50" "$p99" "$max"
done <"$tmp/results.txt"
python3 - "$tmp/results.txt" >"$root/bench/control_latency.json" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
print(json.dumps([{"change": r[0], "runs": int(r[1]), "p50_ms": float(r[2]), "p99_ms": float(r[3]),
                   "max_ms": float(r[4])} for r in rows], indent=2))
PY
