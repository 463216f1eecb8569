#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# How long a policy change takes to reach the workers: the time from a client sending a change
# to sgfw answering, which it does after the new generation is swapped in and every worker has
# passed a quiescent point, so every packet from then on gets the new policy's verdicts. The
# client is one Python process speaking sgfwctl's protocol (bench/ctl_timed.py): starting an
# sgfwctl process per change costs about 20 ms on this machine and would be measured instead.
# Changed lists are matched linearly until the background builder has their rte_acl contexts;
# "compiled" rows time a change until `status` reports no list left to build.
# Two host shapes: 10 ports of 1,000 rules and 100 ports of 100 rules (10,000 rules each).
# Prints a table and writes JSON (default bench/control_latency.json).
# usage: bench/control_latency.sh [--runs N (one-rule changes, default 300)] [--out FILE] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=300
out=$root/bench/control_latency.json
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n 2,11p "$0"; exit 0 ;;
	*) break ;;
	esac
done
build=${1:-$root/build}
sgfw=$build/app/sgfw/sgfw
ctl=$build/app/sgfwctl/sgfwctl
tmp=$(mktemp -d)
pid=
stop_sgfw() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
cleanup() { stop_sgfw; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# microseconds of one command's round trip, timed inside one client process (bench/ctl_timed.py)
timed() {
	echo "$*" | python3 "$root/bench/ctl_timed.py" "$tmp/sgfw.sock" | cut -d' ' -f1
}

# microseconds from sending a change until no changed list is left to build
timed_compiled() {
	timed @compiled "$@"
}

stats() { # name, then microseconds per line on stdin
	python3 -c '
import sys
name = sys.argv[1]; v = sorted(int(x) / 1000.0 for x in sys.stdin)
p = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%s %d %.1f %.1f %.1f" % (name, len(v), p(0.5), p(0.99), max(v)))' "$1"
}

# The config with one group's rules taken from another config (shifted ports): a reload that
# changes exactly that group, so only its port's lists are rebuilt.
one_group_changed() { # base shifted group rules
	python3 - "$@" <<'PY'
import sys
base = open(sys.argv[1]).read().split("\n")
shifted = open(sys.argv[2]).read().split("\n")
n = int(sys.argv[4])
start = [i for i, l in enumerate(base) if 'id = "%s";' % sys.argv[3] in l][0]
print("\n".join(base[:start] + shifted[start:start + n + 1] + base[start + n + 1:]))
PY
}

# The i-th change of a series on group g7: odd ones add a rule (TCP port BASE+i from CIDR), so
# its port has RULES rules; even ones remove that rule again.
nth_change() { # i base cidr rules
	if [ $(($1 % 2)) = 1 ]; then
		echo rule add g7 direction=ingress protocol=tcp port_range=$(($2 + $1))/$(($2 + $1)) source_cidr=$3
	else
		echo rule remove g7 "$4"
	fi
}

run_shape() { # ports, rules per port
	local ports=$1 rules=$2 shape="${1}x${2}" i
	# One rule short of the size, so adding one makes a port of exactly $rules rules.
	python3 "$root/bench/gen_policy.py" "$ports" $((rules - 1)) "$tmp/sgfw.sock" >"$tmp/sgfw.conf"
	"$sgfw" -c "$tmp/sgfw.conf" >"$tmp/sgfw-$shape.log" 2>&1 &
	pid=$!
	for i in $(seq 600); do "$ctl" -s "$tmp/sgfw.sock" status >/dev/null 2>&1 && break; sleep 0.1; done

	# The first changes after start also start the builder thread and touch fresh memory:
	# timed on their own, then the steady state.
	for i in 1 2 3 4; do timed $(nth_change "$i" 39000 10.249.0.0/16 "$rules"); done |
		stats "$shape first-4-changes-after-start"
	for i in $(seq "$runs"); do timed $(nth_change "$i" 40000 10.250.0.0/16 "$rules"); done |
		stats "$shape one-rule-change-on-a-$rules-rule-port"
	for i in $(seq 10); do timed_compiled $(nth_change "$i" 41000 10.251.0.0/16 "$rules"); done |
		stats "$shape one-rule-change-until-compiled"
	for i in $(seq 30); do timed status; done | stats "$shape no-change-round-trip"
	cp "$tmp/sgfw.conf" "$tmp/base.conf"
	for i in $(seq 10); do
		python3 "$root/bench/gen_policy.py" "$ports" $((rules - 1)) "$tmp/sgfw.sock" $((i * 3)) >"$tmp/shifted.conf"
		one_group_changed "$tmp/base.conf" "$tmp/shifted.conf" g5 $((rules - 1)) >"$tmp/sgfw.conf"
		timed reload
		cp "$tmp/base.conf" "$tmp/sgfw.conf"
		timed reload
	done | stats "$shape reload-changing-one-group"
	for i in $(seq 6); do
		python3 "$root/bench/gen_policy.py" "$ports" $((rules - 1)) "$tmp/sgfw.sock" $((i * 7)) >"$tmp/sgfw.conf"
		timed reload
	done | stats "$shape reload-of-every-rule"
	for i in $(seq 6); do
		python3 "$root/bench/gen_policy.py" "$ports" $((rules - 1)) "$tmp/sgfw.sock" $((i * 11)) >"$tmp/sgfw.conf"
		timed_compiled reload
	done | stats "$shape reload-of-every-rule-until-compiled"
	stop_sgfw
}

{
	run_shape 10 1000
	run_shape 100 100
} >"$tmp/results.txt"

printf '%-8s %-42s %5s %9s %9s %9s\n' "shape" "change" "runs" "p50 ms" "p99 ms" "max ms"
while read -r shape name n p50 p99 max; do
	printf '%-8s %-42s %5s %9s %9s %9s\n' "$shape" "$name" "$n" "$p50" "$p99" "$max"
done <"$tmp/results.txt"
python3 - "$tmp/results.txt" >"$out" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
print(json.dumps([{"ports_x_rules": r[0], "change": r[1], "runs": int(r[2]), "p50_ms": float(r[3]),
                   "p99_ms": float(r[4]), "max_ms": float(r[5])} for r in rows], indent=2))
PY
