#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One command for the comparison of docs/BENCHMARKS.md: on the same two net_pcap ports replaying
# the same generated traffic (infinite_rx; no tx file, so sent packets are dropped), one after
# another on one forwarding core: dpdk-testpmd io, sgfw io, sgfw sg, sgfw fw, OVS-DPDK with plain
# output flows and OVS-DPDK with a conntrack security group. Prints the rates and their ratios
# and writes every result as JSON. Installs what it needs from Debian, removes all it starts.
#
#   bench/compare.sh [--flows N] [--rules N] [--size B] [--duration S] [--warmup S]
#                    [--out DIR] [--build DIR] [--only LIST] [--rounds N]
#                    [--ovs-mempool auto|shared|per-port] [--ovs-mtu MTU]
#
# Each round runs every contender once; the best rate of each over the rounds is kept, so that
# a round slowed by other processes on the machine does not decide a ratio.
# LIST is a comma-separated subset of: testpmd,io,sg,fw,ovs,ovs-ct.
# --ovs-mempool: OVS's shared pool (at most 262,144 mbufs for both ports) cannot hold the two
# pcaps that infinite_rx loads beyond about 100,000 flows; per-port gives each port its own pool,
# sized by asking for n_rxq queues of 1,024 descriptors (OVS sizes the pool from the requested
# count; the pcap port still runs one queue). auto (the default) is per-port only when the
# shared pool is too small. --ovs-mtu sets mtu_request on OVS's ports, which sizes its mbufs
# (the pcap driver has no MTU of its own); unset, OVS's default (1500).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLOWS=1000 RULES=1000 SIZE=64 DURATION=10 WARMUP=3 OUT="" BUILD="${SG_BUILD:-$ROOT/build}"
ONLY="testpmd,io,sg,fw,ovs,ovs-ct" ROUNDS=2 OVS_MEMPOOL=auto OVS_MTU=""
while [ $# -gt 0 ]; do
	case $1 in
	--flows) FLOWS=$2; shift 2 ;;
	--rules) RULES=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--ovs-mempool) OVS_MEMPOOL=$2; shift 2 ;;
	--ovs-mtu) OVS_MTU=$2; shift 2 ;;
	-h|--help) sed -n '2,21p' "$0"; exit 0 ;;
	*) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case $OVS_MEMPOOL in
auto | shared | per-port) ;;
*)
	echo "compare.sh: --ovs-mempool must be auto, shared or per-port, not $OVS_MEMPOOL" >&2
	exit 2
	;;
esac
case $OVS_MTU in
*[!0-9]*) echo "compare.sh: --ovs-mtu takes a number, not $OVS_MTU" >&2; exit 2 ;;
esac
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# ---- what it needs ----
need=()
command -v dpdk-testpmd >/dev/null || need+=(dpdk)
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || need+=(openvswitch-switch-dpdk)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
	echo "compare: installing ${need[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi
if [ ! -x "$BUILD/app/sgfw-bench/sgfw-bench" ]; then
	SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
fi
BENCH=$BUILD/app/sgfw-bench/sgfw-bench

# ---- run-time names and cleanup ----
. "$ROOT/bench/session.sh"

# Memory for the pcaps loaded in full by infinite_rx, with small mbufs (frames up to 256 B).
MBUFS=$(( FLOWS * 2 + 65536 ))
MEM=$(( 1024 + FLOWS * 2 * 3 / 1024 ))
# OVS's mempools (lib/netdev-dpdk.c, dpdk_calculate_mbufs in 3.1): shared, one pool of 262,144
# mbufs per MTU for all ports; per port (other_config:per-port-memory), n_rxq x n_rxq_desc +
# n_txq x n_txq_desc + n_rxq x 32 + 16,384 mbufs, from the requested n_rxq before it is cut to
# the device's queue count (one for a pcap port with one rx_pcap), and n_rxq_desc is at most
# 4,096. So the n_rxq that makes a port's pool hold its pcap and 64Ki more for the queues.
OVS_RXQ_DESC=1024
if [ "$OVS_MEMPOOL" = auto ]; then
	OVS_MEMPOOL=shared
	[ $(( FLOWS * 2 + 65536 )) -gt 262144 ] && OVS_MEMPOOL=per-port
fi
OVS_NRXQ=1 OVS_MEM=$MEM
if [ "$OVS_MEMPOOL" = per-port ]; then
	OVS_NRXQ=$(( (FLOWS + 65536 + OVS_RXQ_DESC - 1) / OVS_RXQ_DESC ))
	# Two pools of OVS's mbufs for a 1500-byte MTU (about 3 KiB; an object does not cross a
	# 4 KiB page, so 4 KiB each without hugepages), 40,000 more each for the transmit queues
	# and the rest of the formula.
	OVS_MEM=$(( 1024 + 2 * (OVS_NRXQ * OVS_RXQ_DESC + 40000) * 4 / 1024 ))
fi
# A busy poller per run: the forwarding core is CPU 1, the main/control thread CPU 0.
FWD_CPU=1

echo "compare: $FLOWS flows, $RULES rules per port, $SIZE-byte frames, ${DURATION}s each after ${WARMUP}s"
"$BENCH" --mode write --out "$tmp/traffic" --flows "$FLOWS" --rules "$RULES" --size "$SIZE" >/dev/null
UP=$tmp/traffic/up0.pcap VM=$tmp/traffic/vm0.pcap

declare -A MPPS
record() {
	printf '  %-8s %8.2f Mpps\n' "$1" "$2"
	if [ -z "${MPPS[$1]:-}" ] || python3 -c "import sys; sys.exit(0 if $2 > ${MPPS[$1]} else 1)"; then
		MPPS[$1]=$2
	fi
}

# testpmd's rate after the warm-up: each periodic block gives the ports' cumulative RX-packets
# and the rate testpmd measured since the previous block (Rx-pps), hence that interval's length
# (blocks come further apart than --stats-period on a busy machine).
testpmd_rate() {
	python3 - "$1" "$WARMUP" <<'PY'
import re, sys
blocks = [b for b in open(sys.argv[1]).read().split("Port statistics")[1:] if "Rx-pps" in b]
warm, prev, t, pkts, secs = float(sys.argv[2]), None, 0.0, 0.0, 0.0
for b in blocks:
    rx = [int(x) for x in re.findall(r"RX-packets:\s+(\d+)", b)][:2]
    pps = [int(x) for x in re.findall(r"Rx-pps:\s+(\d+)", b)][:2]
    if len(rx) < 2 or len(pps) < 2:
        continue
    if prev is not None and sum(pps) > 0:
        dt = (sum(rx) - prev) / sum(pps)
        if t >= warm:
            pkts, secs = pkts + sum(rx) - prev, secs + dt
        t += dt
    prev = sum(rx)
print(pkts / secs / 1e6 if secs else 0)
PY
}

run_testpmd() {
	local log=$OUT/testpmd-r$round.log
	rm -f "$tmp/testpmd.in"
	mkfifo "$tmp/testpmd.in"
	dpdk-testpmd --no-huge -m "$MEM" --no-pci --no-telemetry -l "0,$FWD_CPU" --file-prefix "$tag-tp" \
		--vdev "net_pcap0,rx_pcap=$UP,infinite_rx=1" --vdev "net_pcap1,rx_pcap=$VM,infinite_rx=1" -- \
		--forward-mode=io --nb-cores=1 --burst=32 --rxd=1024 --txd=1024 \
		--total-num-mbufs="$MBUFS" --mbuf-size=512 --stats-period=1 \
		<"$tmp/testpmd.in" >"$log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	exec {tp_fd}>"$tmp/testpmd.in"
	# Start-up (pool, pcap loading) takes a second or two before the first sample, and tens
	# of seconds for a million flows' pcaps: up to two minutes.
	for _ in $(seq 1200); do grep -q "Port statistics" "$log" 2>/dev/null && break; sleep 0.1; done
	sleep "$(python3 -c "print($WARMUP + $DURATION + 1.5)")"
	kill -INT "$pid" 2>/dev/null || true
	exec {tp_fd}>&-
	timeout 20 tail --pid="$pid" -f /dev/null || true
	record testpmd "$(testpmd_rate "$log")"
}

run_sgfw() {
	local engine=$1
	"$BENCH" --mode ports --pcap-dir "$tmp/traffic" --engine "$engine" --flows "$FLOWS" \
		--rules "$RULES" --size "$SIZE" --duration "$DURATION" --warmup "$WARMUP" --no-progress \
		--label "compare $engine" --json "$OUT/sgfw-$engine-r$round.json" -- \
		--file-prefix="$tag-$engine" -l "0,$FWD_CPU" >"$tmp/sgfw-$engine.log" 2>&1 ||
		{ cat "$tmp/sgfw-$engine.log" >&2; return 1; }
	record "$engine" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"]["ports"]["mpps"])' "$OUT/sgfw-$engine-r$round.json")"
	python3 - "$OUT/sgfw-$engine-r$round.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["results"]["ports"]
ct = d.get("conntrack")
print("           %sin the window %d received, %d sent, %d dropped%s" % (
    "%s connections; " % ct["connections_held"] if ct else "", p["packets"], p["forwarded"],
    p["dropped"], " (" + d["drops"] + ")" if d.get("drops") else ""))
PY
}

# ---- Open vSwitch with DPDK (bench/ovs.sh) on the same pcaps ----
. "$ROOT/bench/ovs.sh"

# The PMD's own count of received packets over the measured window. Kept beside it: the
# ports' counters at both ends of the window (what was sent on, what was dropped), the flows'
# counters at both ends (how many packets went through the new-connection rules in the window),
# the connection count and the receive queues (one per port, whatever n_rxq asked for).
ovs_measure() {
	local name=$1 n base=$OUT/ovs-$1-r$round
	sleep "$WARMUP"
	ovs_counters >"$base-start.txt"
	"${APPCTL[@]}" dpif-netdev/pmd-stats-clear >/dev/null
	sleep "$DURATION"
	"${APPCTL[@]}" dpif-netdev/pmd-stats-show >"$base-pmd.txt" 2>&1 || true
	ovs_counters >"$base-end.txt"
	"${APPCTL[@]}" dpctl/dump-conntrack -m 2>/dev/null | head -5 >"$base-ct.txt" || true
	"${APPCTL[@]}" dpctl/ct-stats-show >>"$base-ct.txt" 2>/dev/null || true
	"${OFCTL[@]}" dump-flows "$BR" >"$base-flows.txt" 2>&1 || true
	"${APPCTL[@]}" dpif-netdev/pmd-rxq-show >"$base-rxq.txt" 2>&1 || true
	n=$(awk '/^pmd thread/ {p=1} p && /packets received:/ {print $3; exit}' "$base-pmd.txt")
	record "$name" "$(python3 -c "print(${n:-0} / $DURATION / 1e6)")"
	ovs_check "$base-start.txt" "$base-end.txt"
}

# What the window did, from the counters at its ends: packets received and sent by p0 and p1,
# those that went through a rule committing a new connection, and the connections tracked.
ovs_check() {
	python3 - "$1" "$2" <<'PY'
import re, sys
def read(path):
    c, port = {"rx": 0, "tx": 0, "new": 0, "conns": "?"}, None
    for line in open(path):
        m = re.match(r"\s+port \d+: (\S+)", line)
        if m:
            port = m.group(1)
        m = re.match(r"\s+([RT]X) packets:(\d+)", line)
        if m and port in ("p0", "p1"):
            c[m.group(1).lower()] += int(m.group(2))
        if "ct(commit" in line:
            c["new"] += int(re.search(r"n_packets=(\d+)", line).group(1))
        if line.startswith("connections "):
            c["conns"] = line.split()[1]
    return c
a, b = read(sys.argv[1]), read(sys.argv[2])
print("           %s connections; in the window %d received, %d sent, %d new" % (
    b["conns"], b["rx"] - a["rx"], b["tx"] - a["tx"], b["new"] - a["new"]))
PY
}

ovs_counters() {
	"${APPCTL[@]}" dpctl/show -s 2>&1
	echo "connections $("${APPCTL[@]}" dpctl/ct-get-nconns 2>&1)"
	"${OFCTL[@]}" dump-flows "$BR" 2>&1
}

run_ovs() {
	ovs_start "net_pcap_ovs0,rx_pcap=$UP,infinite_rx=1" "net_pcap_ovs1,rx_pcap=$VM,infinite_rx=1"
	if wants ovs; then
		ovs_flows_plain
		ovs_measure ovs
		"${OFCTL[@]}" del-flows "$BR"
	fi
	if wants ovs-ct; then
		ovs_flows_ct
		ovs_measure ovs-ct
	fi
	ovs_stop
}

for round in $(seq "$ROUNDS"); do
	echo "round $round of $ROUNDS"
	wants testpmd && run_testpmd
	for e in io sg fw; do wants "$e" && run_sgfw "$e"; done
	if wants ovs || wants ovs-ct; then run_ovs; fi
done

# ---- ratios ----
MACHINE=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
{
	printf '{\n  "flows": %s, "rules_per_port": %s, "size": %s, "duration": %s,\n' \
		"$FLOWS" "$RULES" "$SIZE" "$DURATION"
	printf '  "machine": "%s", "cpus": %s, "rounds": %s, "load_average": "%s",\n  "mpps": {' \
		"$MACHINE" "$(nproc)" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
	sep=
	for k in testpmd io sg fw ovs ovs-ct; do
		[ -n "${MPPS[$k]:-}" ] && printf '%s "%s": %s' "$sep" "$k" "${MPPS[$k]}" && sep=,
	done
	printf ' }\n}\n'
} >"$OUT/compare.json"
python3 - "$OUT/compare.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["mpps"]
print("\n%-10s %9s %12s %12s" % ("", "Mpps", "vs testpmd", "vs OVS+ct"))
for k in ["testpmd", "io", "sg", "fw", "ovs", "ovs-ct"]:
    if k not in m:
        continue
    a = "%11.2fx" % (m[k] / m["testpmd"]) if m.get("testpmd") else "%12s" % "-"
    b = "%11.2fx" % (m[k] / m["ovs-ct"]) if m.get("ovs-ct") else "%12s" % "-"
    name = {"io": "sgfw io", "sg": "sgfw sg", "fw": "sgfw fw", "ovs": "OVS plain", "ovs-ct": "OVS+ct"}.get(k, k)
    print("%-10s %9.2f %s %s" % (name, m[k], a, b))
PY
echo "results in $OUT"
