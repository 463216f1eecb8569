#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark harness runs end to end on tiny settings: the in-process generator with each
# engine, the pcap writer, the ports mode replaying those pcaps, and bench/compare.sh on its
# sgfw and testpmd legs. Asserts what the runs must produce (exact connection counts, drop
# reasons, well-formed JSON with every field), never how fast they went.
set -u
here=$(dirname "$0")
. "$SG_SOURCE_ROOT/tests/system/lib.sh"
: "${SGFW_BENCH:?path to sgfw-bench}"

tmp=$(mktemp -d "/tmp/bch$$.XXXX")
# sgfw-bench removes its own EAL runtime directory (bch-PID) when it exits.
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

json() { sg_json "$2" <"$1"; }

# Generator mode, fw engine: 64 TCP flows open, carry data, and 1 000-odd lifecycles run.
"$SGFW_BENCH" --mode gen --engine fw --flows 64 --rules 10 --duration 0.3 --cps --no-progress \
	--json "$tmp/gen-fw.json" >"$tmp/gen-fw.out" 2>&1
sg_expect_eq "generator fw run exits 0" 0 "$?"
sg_expect_contains "the table names the established phase" "established" "$(cat "$tmp/gen-fw.out")"
sg_expect_eq "every flow is held by the tracker" 64 "$(json "$tmp/gen-fw.json" conntrack.connections_held)"
sg_expect_eq "nothing is dropped without denied flows" "" "$(json "$tmp/gen-fw.json" drops)"
sg_expect_eq "setup opened every flow" 64 "$(json "$tmp/gen-fw.json" results.setup.connections)"
[ "$(json "$tmp/gen-fw.json" results.established.packets)" -gt 0 ] &&
	sg_pass "established phase carried packets" || sg_fail "established phase carried packets"
[ "$(json "$tmp/gen-fw.json" results.cps.connections)" -gt 0 ] &&
	sg_pass "cps phase ran connection lifecycles" || sg_fail "cps phase ran connection lifecycles"
for stage in rx parse conntrack classify forward; do
	json "$tmp/gen-fw.json" "results.established.stage_cycles_per_packet.$stage" >/dev/null 2>&1 &&
		sg_pass "stage $stage reported" || sg_fail "stage $stage reported"
done
sg_expect_eq "rules per port as asked" 10 "$(json "$tmp/gen-fw.json" rules_per_port)"
sg_expect_eq "the machine's DPDK is named" "DPDK" "$(json "$tmp/gen-fw.json" machine.dpdk | cut -d' ' -f1)"

# Denied flows: only the classifier's ingress drop, and only their packets.
"$SGFW_BENCH" --mode gen --engine fw --flows 200 --rules 10 --deny 0.5 --proto mix --ipv6 0.3 \
	--duration 0.2 --no-progress --json "$tmp/gen-deny.json" >/dev/null 2>&1
sg_expect_eq "generator run with denied flows exits 0" 0 "$?"
sg_expect_eq "denied flows are dropped by the ingress rules, nothing else is" acl_ingress \
	"$(json "$tmp/gen-deny.json" drops | sed 's/ [0-9]*$//')"
held=$(json "$tmp/gen-deny.json" conntrack.connections_held)
[ "$held" -gt 0 ] && [ "$held" -lt 200 ] && sg_pass "only accepted flows are held ($held)" ||
	sg_fail "only accepted flows are held ($held)"

for engine in sg io; do
	"$SGFW_BENCH" --mode gen --engine "$engine" --flows 64 --rules 0 --duration 0.2 --no-progress \
		--json "$tmp/gen-$engine.json" >/dev/null 2>&1
	sg_expect_eq "generator $engine run exits 0" 0 "$?"
	sg_expect_eq "generator $engine drops nothing" "" "$(json "$tmp/gen-$engine.json" drops)"
done

# Write mode, then ports mode on those pcaps (replayed in a loop, net_pcap sinks).
"$SGFW_BENCH" --mode write --out "$tmp/traffic" --flows 100 --rules 100 >/dev/null
sg_expect_eq "write mode exits 0" 0 "$?"
for f in up0.pcap vm0.pcap sgfw.conf; do
	[ -s "$tmp/traffic/$f" ] && sg_pass "wrote $f" || sg_fail "wrote $f"
done
# 24-byte header, then 100 records of 16 + 64 bytes.
sg_expect_eq "one 64-byte frame per flow in up0.pcap" $((24 + 100 * 80)) "$(stat -c %s "$tmp/traffic/up0.pcap")"
for engine in fw sg io; do
	"$SGFW_BENCH" --mode ports --pcap-dir "$tmp/traffic" --engine "$engine" --rules 100 \
		--duration 0.3 --warmup 0.2 --no-progress --json "$tmp/ports-$engine.json" \
		>"$tmp/ports-$engine.out" 2>&1
	sg_expect_eq "ports $engine run exits 0" 0 "$?"
	[ "$(json "$tmp/ports-$engine.json" results.ports.packets)" -gt 0 ] &&
		sg_pass "ports $engine received packets" || sg_fail "ports $engine received packets"
	sg_expect_eq "ports $engine drops nothing" "" "$(json "$tmp/ports-$engine.json" drops)"
done
json "$tmp/ports-fw.json" results.ports.stage_cycles_per_packet >/dev/null 2>&1 &&
	sg_fail "stage counters stay off unless asked" || sg_pass "stage counters stay off unless asked"
"$SGFW_BENCH" --mode ports --pcap-dir "$tmp/traffic" --engine fw --rules 100 --stage-cycles \
	--duration 0.3 --warmup 0.2 --no-progress --json "$tmp/ports-fw-st.json" >/dev/null 2>&1
sg_expect_eq "ports fw run with stage counters exits 0" 0 "$?"
for stage in rx parse conntrack forward; do
	v=$(json "$tmp/ports-fw-st.json" "results.ports.stage_cycles_per_packet.$stage" 2>/dev/null)
	python3 -c "import sys; sys.exit(0 if float('${v:-0}') > 0 else 1)" &&
		sg_pass "ports mode counts $stage cycles" || sg_fail "ports mode counts $stage cycles: '$v'"
done
sg_expect_eq "replayed flows are picked up mid-stream and held" 100 \
	"$(json "$tmp/ports-fw.json" conntrack.connections_held)"

# The comparison script's own legs that need no extra packages. testpmd reports its rate once
# a second at best (later on a busy machine): 3 s gives it intervals after the warm-up.
if command -v dpdk-testpmd >/dev/null; then
	"$SG_SOURCE_ROOT/bench/compare.sh" --build "$SG_BUILD_ROOT" --flows 100 --rules 10 \
		--duration 3 --warmup 0.5 --rounds 1 --only testpmd,io,fw --out "$tmp/compare" >"$tmp/compare.out" 2>&1
	sg_expect_eq "compare.sh exits 0" 0 "$?"
	for k in testpmd io fw; do
		v=$(json "$tmp/compare/compare.json" "mpps.$k" 2>/dev/null)
		python3 -c "import sys; sys.exit(0 if float('${v:-0}') > 0 else 1)" &&
			sg_pass "compare measured $k" || sg_fail "compare measured $k: '$v'"
	done
	sg_expect_contains "compare prints the ratios" "vs testpmd" "$(cat "$tmp/compare.out")"
else
	echo "note: no dpdk-testpmd, compare.sh not run"
fi
sg_finish
