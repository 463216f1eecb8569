#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfw-bench --mode rate on tiny settings: a paced generator and sgfw's worker on ring ports.
# At a low fixed rate (10 kpps, rings of 1024 hold 100 ms of it) every packet the policy forwards
# arrives and every packet of a denied flow is dropped by the policy, exactly, for each engine;
# latencies are positive and ordered. A short search runs through and reports. Asserts no rate
# or latency values: the machine is shared.
set -u
. "$SG_SOURCE_ROOT/tests/system/lib.sh"
: "${SGFW_BENCH:?path to sgfw-bench}"

tmp=$(mktemp -d "/tmp/rate$$.XXXX")
# sgfw-bench removes its own EAL runtime directory (bch-PID) when it exits.
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

json() { sg_json "$2" <"$1"; }
# le A B: A <= B for decimal numbers.
le() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$1" "$2"; }

# A fixed rate, no search: one trial, its counts exact.
for engine in fw sg io; do
	out="$tmp/fixed-$engine.json"
	"$SGFW_BENCH" --mode rate --engine "$engine" --rate 10k --trial 0.2 --flows 200 --rules 100 \
		--deny 0.2 --proto mix --ipv6 0.3 --no-progress --json "$out" >"$tmp/fixed-$engine.out" 2>&1
	sg_expect_eq "$engine: a fixed-rate run exits 0" 0 "$?"
	t="rate.latency.0"
	offered=$(json "$out" $t.offered)
	denied=$(json "$out" $t.denied)
	expected=$(json "$out" $t.expected)
	received=$(json "$out" $t.received)
	# About 2 000; fewer when other processes preempt the generator (then it runs the trial
	# again, up to three times, and keeps the last).
	[ "$offered" -gt 100 ] && sg_pass "$engine: packets offered ($offered)" ||
		sg_fail "$engine: packets offered ($offered)"
	sg_expect_eq "$engine: nothing lost at 10 kpps" 0 "$(json "$out" $t.lost)"
	sg_expect_eq "$engine: no ring refused a packet" 0 "$(json "$out" $t.refused)"
	sg_expect_eq "$engine: every expected packet arrived" "$expected" "$received"
	sg_expect_eq "$engine: expected is offered minus denied" "$((offered - denied))" "$expected"
	if [ "$engine" = io ]; then
		sg_expect_eq "io: forwards the denied flows too" 0 "$denied"
		sg_expect_eq "io: no policy drops" 0 "$(json "$out" $t.policy_drops)"
	else
		[ "$denied" -gt 0 ] && sg_pass "$engine: denied flows offered ($denied)" ||
			sg_fail "$engine: denied flows offered ($denied)"
		sg_expect_eq "$engine: the policy dropped exactly the denied packets" "$denied" \
			"$(json "$out" $t.policy_drops)"
	fi
	p50=$(json "$out" $t.latency_us.p50)
	p99=$(json "$out" $t.latency_us.p99)
	p999=$(json "$out" $t.latency_us.p999)
	le 0.000001 "$p50" && sg_pass "$engine: p50 latency is positive ($p50 us)" ||
		sg_fail "$engine: p50 latency is positive ($p50 us)"
	le "$p50" "$p99" && le "$p99" "$p999" && sg_pass "$engine: p50 <= p99 <= p99.9" ||
		sg_fail "$engine: p50 <= p99 <= p99.9 ($p50, $p99, $p999)"
	sg_expect_contains "$engine: the table has the trial" "fixed" "$(cat "$tmp/fixed-$engine.out")"
done

# IMIX frames: the three sizes pass the fw engine whole; the worker's stage cycles reported.
"$SGFW_BENCH" --mode rate --engine fw --rate 10k --trial 0.1 --flows 120 --rules 10 --size imix \
	--stage-cycles --no-progress --json "$tmp/imix.json" >/dev/null 2>&1
sg_expect_eq "imix run exits 0" 0 "$?"
sg_expect_eq "imix: nothing lost" 0 "$(json "$tmp/imix.json" rate.latency.0.lost)"
sg_expect_eq "imix: the report says so" true "$(json "$tmp/imix.json" rate.imix)"
for stage in rx parse conntrack classify forward; do
	json "$tmp/imix.json" "rate.stage_cycles_per_packet.$stage" >/dev/null 2>&1 &&
		sg_pass "imix: the worker's stage $stage reported" ||
		sg_fail "imix: the worker's stage $stage reported"
done

# A short search: the unpaced trial, halvings, then latency at 10/50/90 % of what passed.
"$SGFW_BENCH" --mode rate --engine fw --trial 0.05 --resolution 0.2 --flows 100 --rules 10 \
	--no-progress --json "$tmp/search.json" >"$tmp/search.out" 2>&1
sg_expect_eq "a search exits 0" 0 "$?"
sg_expect_eq "the first trial is unpaced" 0 "$(json "$tmp/search.json" rate.search.0.target_mpps)"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rate"]["search"]))' \
	"$tmp/search.json")
# The top, then halvings from what the worker forwarded overloaded down to a pass (or to 1 kpps
# if none passes: about a dozen), then within 20 % of the upper end: never more than 20.
[ "$n" -ge 1 ] && [ "$n" -le 20 ] && sg_pass "the search took 1..20 trials ($n)" ||
	sg_fail "the search took 1..20 trials ($n)"
zl=$(json "$tmp/search.json" rate.zero_loss_mpps)
top=$(json "$tmp/search.json" rate.generator_top_mpps)
le "$zl" "$top" && sg_pass "zero-loss rate within the generator's top" ||
	sg_fail "zero-loss rate within the generator's top ($zl > $top)"
sg_expect_contains "the summary line is printed" "zero-loss rate:" "$(cat "$tmp/search.out")"
if le "$zl" 0; then
	echo "note: no trial passed on this machine now; no latency trials"
else
	sg_expect_eq "latency at 10, 50 and 90 %" "0.1 0.5 0.9" "$(python3 -c '
import json, sys
print(" ".join(str(t["load"]) for t in json.load(open(sys.argv[1]))["rate"]["latency"]))' \
		"$tmp/search.json")"
fi

# Bad input: named, and nothing runs.
msg=$("$SGFW_BENCH" --mode rate --workers 2 2>&1)
sg_expect_eq "rate mode with two workers is refused" 2 "$?"
sg_expect_contains "the error names the options" "--workers" "$msg"
msg=$("$SGFW_BENCH" --mode gen --size imix 2>&1)
sg_expect_eq "imix outside rate mode is refused" 2 "$?"
sg_expect_contains "the error names --size imix" "--size imix" "$msg"
msg=$("$SGFW_BENCH" --mode rate --trial 0 2>&1)
sg_expect_eq "a zero-second trial is refused" 2 "$?"
sg_expect_contains "the error names --trial" "--trial" "$msg"
sg_finish
