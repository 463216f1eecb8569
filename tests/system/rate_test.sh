#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfw-bench --mode rate on tiny settings: a paced generator and sgfw's worker on ring ports,
# then the same generator on memif ports with the sgfw daemon and dpdk-testpmd forwarding.
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

# --external: the generator's memif ports, another process forwarding between them. The sgfw
# daemon on the generated config (fw: the denied flows dropped, exactly) and dpdk-testpmd io
# (everything forwarded), at 10 kpps, counts exact; TCP, UDP and ICMP over IPv4 and IPv6 carry
# the stamp in their payload, and the generator refuses the run if a returned TCP or UDP
# checksum is wrong after stamping.
dut_pid=
stop_dut() {
	[ -n "$dut_pid" ] || return 0
	kill -INT "$dut_pid" 2>/dev/null
	timeout 20 tail --pid="$dut_pid" -f /dev/null 2>/dev/null || kill -KILL "$dut_pid" 2>/dev/null
	dut_pid=
}
cleanup() { stop_dut; rm -rf "$tmp" /var/run/dpdk/"rt$$-"*; }
# wait_text FILE TEXT SECONDS
wait_text() {
	for _ in $(seq $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# external NAME ENGINE DUT ARGS...: a run of the generator with ARGS through DUT (sgfw or
# testpmd); the JSON in $tmp/NAME.json; returns the generator's status.
external() {
	local name=$1 engine=$2 dut=$3 dir=$tmp/mx-$1 gen rc
	local up="role=client,id=0,socket=$dir/up0.sock,socket-abstract=no"
	local vm="role=client,id=0,socket=$dir/vm0.sock,socket-abstract=no"
	shift 3
	mkdir -p "$dir"
	"$SGFW_BENCH" --mode rate --external "$dir" --engine "$engine" --flows 200 --rules 100 \
		--no-progress --json "$tmp/$name.json" "$@" -- -l 0 --file-prefix "rt$$-$name" \
		>"$tmp/$name.out" 2>&1 &
	gen=$!
	if wait_text "$tmp/$name.out" "waiting for the device under test" 20; then
		if [ "$dut" = sgfw ]; then
			"$SGFW" -c "$tmp/world/sgfw-memif.conf" -- -l 0,1 --file-prefix "rt$$-$name-dut" \
				--vdev "net_memif_up0,$up" --vdev "net_memif_vm0,$vm" >"$tmp/$name-dut.log" 2>&1 &
			dut_pid=$!
			wait_text "$tmp/$name-dut.log" "running fw engine" 30
		else
			dpdk-testpmd --no-huge -m 512 --no-pci --no-telemetry -l 0,1 --main-lcore 0 \
				--file-prefix "rt$$-$name-dut" --vdev "net_memif_t0,$up" \
				--vdev "net_memif_t1,$vm" -- --forward-mode=io --stats-period=1 \
				--total-num-mbufs=8192 </dev/null >"$tmp/$name-dut.log" 2>&1 &
			dut_pid=$!
			wait_text "$tmp/$name-dut.log" "Port statistics" 30
		fi && touch "$dir/ready"
	fi
	[ -e "$dir/ready" ] || kill -TERM "$gen" 2>/dev/null
	wait "$gen"
	rc=$?
	stop_dut
	[ "$rc" -eq 0 ] || { tail -5 "$tmp/$name.out" "$tmp/$name-dut.log" >&2; }
	return "$rc"
}
"$SGFW_BENCH" --mode write --out "$tmp/world" --flows 200 --rules 100 --deny 0.2 --proto mix \
	--ipv6 0.3 >/dev/null 2>&1
sg_expect_eq "write mode writes the memif config" 0 "$?"
if [ -z "${SGFW:-}" ]; then
	echo "skip: the sgfw daemon was not built (SGFW unset): no external sgfw run"
else
	fixed=(--rate 10k --trial 0.2 --deny 0.2 --proto mix --ipv6 0.3 --size 128)
	external ext-sgfw fw sgfw "${fixed[@]}"
	sg_expect_eq "external sgfw: the run exits 0" 0 "$?"
	t="rate.latency.0"
	out=$tmp/ext-sgfw.json
	offered=$(json "$out" $t.offered)
	denied=$(json "$out" $t.denied)
	[ "$offered" -gt 100 ] && sg_pass "external sgfw: packets offered ($offered)" ||
		sg_fail "external sgfw: packets offered ($offered)"
	[ "$denied" -gt 0 ] && sg_pass "external sgfw: denied flows offered ($denied)" ||
		sg_fail "external sgfw: denied flows offered ($denied)"
	sg_expect_eq "external sgfw: expected is offered minus denied" "$((offered - denied))" \
		"$(json "$out" $t.expected)"
	sg_expect_eq "external sgfw: every expected packet came back" "$(json "$out" $t.expected)" \
		"$(json "$out" $t.received)"
	sg_expect_eq "external sgfw: no denied packet came back" 0 "$(json "$out" $t.unexpected)"
	sg_expect_eq "external sgfw: every packet carried a stamp" 0 "$(json "$out" $t.unstamped)"
	p50=$(json "$out" $t.latency_us.p50)
	le 0.000001 "$p50" && sg_pass "external sgfw: p50 latency is positive ($p50 us)" ||
		sg_fail "external sgfw: p50 latency is positive ($p50 us)"
	sg_expect_eq "external sgfw: the JSON names the socket directory" "$tmp/mx-ext-sgfw" \
		"$(json "$out" rate.external)"
	# Connection lifecycles end to end, each step answering what came back: every one
	# completes (none failed, no packet unmatched), and what is under way at the end is
	# within the window of 480.
	external ext-cps fw sgfw --cps --duration 0.5
	sg_expect_eq "external cps: the run exits 0" 0 "$?"
	out=$tmp/ext-cps.json
	completed=$(json "$out" cps.completed)
	[ "$completed" -gt 1000 ] && sg_pass "external cps: connections completed ($completed)" ||
		sg_fail "external cps: connections completed ($completed)"
	sg_expect_eq "external cps: none failed" 0 "$(json "$out" cps.failed)"
	sg_expect_eq "external cps: no packet unmatched" 0 "$(json "$out" cps.stray)"
	sg_expect_eq "external cps: none stuck after the window" 0 "$(json "$out" cps.unfinished)"
	sg_expect_eq "external cps: every packet sent came back" "$(json "$out" cps.packets_sent)" \
		"$(json "$out" cps.packets_received)"
	open=$(( $(json "$out" cps.opened) - completed ))
	[ "$open" -ge 0 ] && [ "$open" -le 480 ] &&
		sg_pass "external cps: under way at the end within the window ($open)" ||
		sg_fail "external cps: under way at the end within the window ($open)"
fi
if ! command -v dpdk-testpmd >/dev/null; then
	echo "skip: dpdk-testpmd is not installed: no external testpmd run"
else
	external ext-testpmd io testpmd --rate 10k --trial 0.2 --deny 0.2 --proto mix --ipv6 0.3 \
		--size 128
	sg_expect_eq "external testpmd: the run exits 0" 0 "$?"
	out=$tmp/ext-testpmd.json
	offered=$(json "$out" rate.latency.0.offered)
	sg_expect_eq "external testpmd: io forwards the denied flows too" 0 \
		"$(json "$out" rate.latency.0.denied)"
	sg_expect_eq "external testpmd: everything offered came back" "$offered" \
		"$(json "$out" rate.latency.0.received)"
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
msg=$("$SGFW_BENCH" --mode gen --external "$tmp" 2>&1)
sg_expect_eq "--external outside rate mode is refused" 2 "$?"
sg_expect_contains "the error names --external" "--external" "$msg"
msg=$("$SGFW_BENCH" --mode rate --cps 2>&1)
sg_expect_eq "--cps in rate mode without --external is refused" 2 "$?"
sg_expect_contains "the error names --cps" "--cps" "$msg"
msg=$("$SGFW_BENCH" --mode rate --external "$tmp" --cps --proto udp 2>&1)
sg_expect_eq "--external --cps with UDP is refused" 2 "$?"
sg_expect_contains "the error names --proto" "--proto" "$msg"
msg=$("$SGFW_BENCH" --mode rate --external "$tmp" --external-queues 9 2>&1)
sg_expect_eq "more memif queues than allowed are refused" 2 "$?"
sg_expect_contains "the error names --external-queues" "--external-queues" "$msg"
sg_finish
