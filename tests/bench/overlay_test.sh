#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfw-bench --overlay on tiny settings: half the flows' clients on a simulated second host,
# their frames wrapped in VXLAN on the uplink both ways. Asserts the exact delivery counts
# (every packet injected is received, the denied flows' are dropped and nothing else, the rest
# sent; as many decapsulated and encapsulated as the generator built for the overlay), that
# the sampled VXLAN frames were checked and none was wrong, and which combinations are refused.
# Never how fast it went.
set -u
. "$SG_SOURCE_ROOT/tests/system/lib.sh"
: "${SGFW_BENCH:?path to sgfw-bench}"

tmp=$(mktemp -d "/tmp/bchov$$.XXXX")
# sgfw-bench removes its own EAL runtime directory (bch-PID) when it exits.
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

json() { sg_json "$2" <"$1"; }

# The counts of one run: NAME JSON REMOTE_FLOWS
expect_accounted() {
	local name=$1 f=$2 remote=$3 injected
	sg_expect_eq "$name: remote flows" "$remote" "$(json "$f" overlay_check.remote_flows)"
	sg_expect_eq "$name: nothing failed" "" "$(json "$f" overlay_check.failure)"
	injected=$(json "$f" overlay_check.injected)
	sg_expect_eq "$name: every packet injected was received" "$injected" "$(json "$f" overlay_check.received)"
	sg_expect_eq "$name: decapsulated all hv2 wrapped" "$(json "$f" overlay_check.expected_decapsulated)" \
		"$(json "$f" overlay_check.decapsulated)"
	sg_expect_eq "$name: encapsulated all for remote ports" "$(json "$f" overlay_check.expected_encapsulated)" \
		"$(json "$f" overlay_check.encapsulated)"
	sg_expect_eq "$name: dropped only the denied flows' packets" "$(json "$f" overlay_check.expected_dropped)" \
		"$(json "$f" overlay_check.dropped)"
	sg_expect_eq "$name: sent the rest" $((injected - $(json "$f" overlay_check.expected_dropped))) \
		"$(json "$f" overlay_check.sent)"
	sg_expect_eq "$name: no VXLAN frame wrong" 0 "$(json "$f" overlay_check.frames_wrong)"
	[ "$(json "$f" overlay_check.frames_checked)" -gt 0 ] && sg_pass "$name: VXLAN frames checked" ||
		sg_fail "$name: VXLAN frames checked"
	[ "$(json "$f" overlay_check.encapsulated)" -gt 0 ] && [ "$(json "$f" overlay_check.decapsulated)" -gt 0 ] &&
		sg_pass "$name: the overlay carried both ways" || sg_fail "$name: the overlay carried both ways"
}

# fw engine, TCP, with connection lifecycles: 32 of 64 flows remote.
"$SGFW_BENCH" --overlay --flows 64 --rules 10 --duration 0.3 --cps --no-progress \
	--json "$tmp/fw.json" >"$tmp/fw.out" 2>&1
sg_expect_eq "overlay fw run exits 0" 0 "$?"
expect_accounted "fw" "$tmp/fw.json" 32
sg_expect_eq "fw: the JSON says overlay" true "$(json "$tmp/fw.json" overlay)"
# Set-up: SYN, SYN-ACK, ACK per flow; the phases' packets are all that was injected.
sg_expect_eq "fw: set-up is three packets a flow" 192 "$(json "$tmp/fw.json" results.setup.packets)"
sg_expect_eq "fw: the phases injected it all" "$(json "$tmp/fw.json" overlay_check.injected)" \
	$(($(json "$tmp/fw.json" results.setup.packets) + $(json "$tmp/fw.json" results.established.packets) +
		$(json "$tmp/fw.json" results.cps.packets)))
sg_expect_eq "fw: every flow is held" 64 "$(json "$tmp/fw.json" conntrack.connections_held)"
sg_expect_eq "fw: no drops" "" "$(json "$tmp/fw.json" drops)"
sg_expect_contains "fw: the table reports the overlay" "with their client on host hv2" "$(cat "$tmp/fw.out")"

# Denied outside clients, UDP, ICMP and IPv6 inside the overlay, three VMs, two workers.
"$SGFW_BENCH" --overlay --flows 300 --rules 20 --vms 3 --workers 2 --deny 0.3 --proto mix \
	--ipv6 0.5 --duration 0.3 --no-progress --json "$tmp/mix.json" >"$tmp/mix.out" 2>&1
sg_expect_eq "overlay mix run exits 0" 0 "$?"
expect_accounted "mix" "$tmp/mix.json" 150
[ "$(json "$tmp/mix.json" overlay_check.dropped)" -gt 0 ] && sg_pass "mix: denied flows were dropped" ||
	sg_fail "mix: denied flows were dropped"
sg_expect_eq "mix: by the ingress rules only" acl_ingress "$(json "$tmp/mix.json" drops | sed 's/ [0-9]*$//')"

# The stateless engine.
"$SGFW_BENCH" --overlay --engine sg --flows 64 --rules 10 --duration 0.2 --no-progress \
	--json "$tmp/sg.json" >/dev/null 2>&1
sg_expect_eq "overlay sg run exits 0" 0 "$?"
expect_accounted "sg" "$tmp/sg.json" 32

# Rate mode on ring ports: one slow trial, nothing lost, the transmit ring's frames checked.
"$SGFW_BENCH" --overlay --mode rate --rate 10k --trial 0.5 --flows 64 --rules 10 --no-progress \
	--json "$tmp/rate.json" >"$tmp/rate.out" 2>&1
sg_expect_eq "overlay rate run exits 0" 0 "$?"
sg_expect_eq "rate: nothing failed" "" "$(json "$tmp/rate.json" overlay_check.failure)"
sg_expect_eq "rate: nothing lost" 0 "$(json "$tmp/rate.json" rate.latency.0.lost)"
sg_expect_eq "rate: no VXLAN frame wrong" 0 "$(json "$tmp/rate.json" overlay_check.frames_wrong)"
[ "$(json "$tmp/rate.json" overlay_check.frames_checked)" -gt 0 ] && sg_pass "rate: VXLAN frames checked" ||
	sg_fail "rate: VXLAN frames checked"

# What it refuses: the io engine (no overlay) and the modes without the generator.
for bad in "--engine io" "--mode ports --pcap-dir $tmp" "--mode write --out $tmp/w" "--collide 7"; do
	# shellcheck disable=SC2086
	"$SGFW_BENCH" --overlay $bad --flows 64 --duration 0.1 --no-progress >/dev/null 2>&1
	sg_expect_eq "--overlay $bad is refused" 2 "$?"
done
sg_finish
