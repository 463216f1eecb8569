#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Zero-loss throughput and latency (sgfw-bench --mode rate) at RFC 2544 frame sizes 64, 512 and
# 1518 bytes (60, 508 and 1514 in memory: the ports carry no FCS) and IMIX (7:4:1 of
# 64/570/1518), one sgfw-bench run each, contenders interleaved within each size and rounds
# repeated so that noise on a shared machine falls on all alike; the JSON of every run is kept
# in OUT, and the table of medians over the rounds is printed and written to OUT/rate.md.
#
#   bench/rate.sh [--out DIR] [--build DIR] [--trial S] [--resolution F] [--rounds N]
#                 [--sizes "60 508 1514 imix"] [--engines "io fw"] [--flows N] [--rules N]
#                 [--deny F] [--loss-tolerance F] [--lock FILE] [--quick] [--cps S]
#                 [--capacity N]
#
# Contenders (--engines): io and fw are sgfw's engines in process on ring ports, the generator
# on CPU 0 and the worker on CPU 1; testpmd (dpdk-testpmd io), sgfw (the sgfw daemon, fw
# engine, the generated config) and ovs-ct (OVS-DPDK with a conntrack security group, as in
# compare.sh) are other processes forwarding on CPU 1 between the generator's memif ports
# (--external), so that all three face the same generator. Ratios: against io for the ring
# rows, against testpmd for the memif rows, and the memif rows against ovs-ct.
# Defaults: 10 s trials, resolution 0.01, 1 round, 1000 flows, 1000 rules per port, no denied
# flows: about 2 minutes per run. --quick: 0.5 s trials, resolution 0.05. --loss-tolerance F:
# a trial passes losing at most F of its packets (default 0, RFC 2544). --lock FILE: each run
# holds flock FILE, only while it runs. --cps S: instead of the search, whole TCP connection
# lifecycles end to end for S seconds through each memif contender (sgfw-bench --cps), and a
# table of connections per second; the closed connections stay in the tables (TIME_WAIT), so
# sgfw's is sized as sgfw-bench sizes it for --cps (the flows twice, plus 5 Mi: about 5
# seconds at 1M a second; --capacity N to change it) and OVS's limit raised to 16 million
# (OVS allocates per connection). Installs OVS from Debian if ovs-ct is asked for and it is
# missing; removes all it starts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/results/rate BUILD="${SG_BUILD:-$ROOT/build}" TRIAL=10 RESOLUTION=0.01 ROUNDS=1
SIZES="60 508 1514 imix" ENGINES="io fw" FLOWS=1000 RULES=1000 LOCK= TOLERANCE=0 DENY=0 CPS=
CAPACITY=
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
	--deny) DENY=$2; shift 2 ;;
	--cps) CPS=$2; shift 2 ;;
	--capacity) CAPACITY=$2; shift 2 ;;
	--quick) TRIAL=0.5 RESOLUTION=0.05; shift ;;
	-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "rate.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
for e in $ENGINES; do
	case $e in
	io | fw) [ -z "$CPS" ] || { echo "rate.sh: --cps is for testpmd, sgfw and ovs-ct" >&2; exit 2; } ;;
	testpmd | sgfw | ovs-ct) ;;
	*) echo "rate.sh: --engines takes io, fw, testpmd, sgfw and ovs-ct, not $e" >&2; exit 2 ;;
	esac
done
# OVS's conntrack limit: 16 million, for what TIME_WAIT holds. sgfw's table: --capacity, or
# sgfw-bench's default for the run (with --cps, room for 4 Mi connections more).
OVS_MAXCONNS=16000000
[ -x "$BUILD/app/sgfw-bench/sgfw-bench" ] || SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
BENCH=$BUILD/app/sgfw-bench/sgfw-bench SGFW=$BUILD/app/sgfw/sgfw
case " $ENGINES " in
*" ovs-ct "*)
	if [ ! -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ]; then
		sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
		$sudo apt-get update -q
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q openvswitch-switch-dpdk
	fi
	;;
esac
mkdir -p "$OUT"
. "$ROOT/bench/session.sh"
. "$ROOT/bench/ovs.sh"
# The device under test's forwarding core; the generator (and every main thread) on CPU 0.
FWD_CPU=1 OVS_MEM=1024 OVS_MEMPOOL=shared OVS_NRXQ=1 OVS_RXQ_DESC=1024 OVS_MTU=

# The lock's descriptor is closed in every process a run starts ({lock_fd}>&-): one that
# outlived the run (ovsdb-server) would hold the lock for good. Without --lock, /dev/null.
exec {lock_fd}>/dev/null
lock() { if [ -n "$LOCK" ]; then exec {lock_fd}>"$LOCK"; flock "$lock_fd"; fi; }
unlock() { exec {lock_fd}>&-; }

# wait_for FILE TEXT PID: until FILE holds TEXT, for up to 120 s, or PID has ended.
wait_for() {
	local _
	for _ in $(seq 1200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	echo "rate.sh: no \"$2\" in $1" >&2
	return 1
}

# The device under test for contender $1 on the generator's memif sockets in $2, started in
# the background; returns once it forwards. Sets dut_pid (OVS: OVS_PID, bench/ovs.sh).
start_dut() {
	local name=$1 dir=$2 log=$OUT/$3-dut.log
	local up="role=client,id=0,socket=$dir/up0.sock,socket-abstract=no"
	local vm="role=client,id=0,socket=$dir/vm0.sock,socket-abstract=no"
	case $name in
	testpmd)
		dpdk-testpmd --no-huge -m 1024 --no-pci --no-telemetry -l "0,$FWD_CPU" --main-lcore 0 \
			--file-prefix "$tag-tp" --vdev "net_memif_tp0,$up" --vdev "net_memif_tp1,$vm" -- \
			--forward-mode=io --nb-cores=1 --burst=32 --rxd=1024 --txd=1024 \
			--total-num-mbufs=32768 --stats-period=1 </dev/null >"$log" 2>&1 &
		dut_pid=$!
		pids+=("$dut_pid")
		wait_for "$log" "Port statistics" "$dut_pid"
		;;
	sgfw)
		"$SGFW" -c "$tmp/world/sgfw-memif.conf" -- -l "0,$FWD_CPU" --file-prefix "$tag-sg" \
			--vdev "net_memif_up0,$up" --vdev "net_memif_vm0,$vm" >"$log" 2>&1 &
		dut_pid=$!
		pids+=("$dut_pid")
		wait_for "$log" "running fw engine" "$dut_pid"
		;;
	ovs-ct)
		# Called in an && list, where set -e does not act: each step checked.
		ovs_start "net_memif_ovs0,$up" "net_memif_ovs1,$vm" >"$log" 2>&1 || return 1
		"${APPCTL[@]}" dpctl/ct-set-maxconns "$OVS_MAXCONNS" >>"$log" 2>&1 || return 1
		ovs_flows_ct >>"$log" 2>&1 || return 1
		;;
	esac
}

# Stop what start_dut started, if it did; the PIDs leave 'pids' (never signalled again).
stop_dut() {
	if [ "$1" = ovs-ct ]; then
		if [ -n "${OVS_PID:-}" ]; then
			"${APPCTL[@]}" dpctl/ct-stats-show >"$OUT/$2-ovs-ct.txt" 2>&1 || true
			ovs_stop
			forget "$OVS_PID" "$OVSDB_PID"
			OVS_PID= OVSDB_PID=
		fi
	elif [ -n "$dut_pid" ]; then
		kill -INT "$dut_pid" 2>/dev/null || true
		timeout 20 tail --pid="$dut_pid" -f /dev/null || kill -KILL "$dut_pid" 2>/dev/null || true
		forget "$dut_pid"
	fi
	dut_pid=
}

# forget PID...: drop ended processes from the cleanup's list.
forget() {
	local keep=() p q
	for p in "${pids[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	pids=("${keep[@]}")
}

run() {
	local name=$1 engine=$2
	shift 2
	local cmd=("$BENCH" --mode rate --no-progress --trial "$TRIAL" --resolution "$RESOLUTION"
		--loss-tolerance "$TOLERANCE" --flows "$FLOWS" --rules "$RULES" --deny "$DENY"
		--json "$OUT/$name.json" --label "$name" "$@")
	printf '%-28s ' "$name"
	lock
	case $engine in
	io | fw)
		"${cmd[@]}" --engine "$engine" -- --file-prefix="$tag-$name" >"$OUT/$name.txt" 2>&1 {lock_fd}>&- ||
			{ unlock; echo failed; cat "$OUT/$name.txt" >&2; return 1; }
		;;
	*)
		# The generator first (it makes the sockets), then the device under test, then
		# DIR/ready: the generator sends once that exists.
		local dir=$tmp/mx-$name expect=fw queues=1 gen
		dut_pid=
		[ "$engine" = testpmd ] && expect=io
		# OVS transmits on two queues: its PMD's and the main thread's.
		[ "$engine" = ovs-ct ] && queues=2
		mkdir -p "$dir"
		"${cmd[@]}" --engine "$expect" --external "$dir" --external-queues "$queues" -- \
			--file-prefix="$tag-$name" -l 0 \
			>"$OUT/$name.txt" 2>&1 {lock_fd}>&- &
		gen=$!
		pids+=("$gen")
		wait_for "$OUT/$name.txt" "waiting for the device under test" "$gen" &&
			start_dut "$engine" "$dir" "$name" {lock_fd}>&- && touch "$dir/ready" ||
			{ kill -TERM "$gen" 2>/dev/null || true; }
		local rc=0
		wait "$gen" || rc=$?
		forget "$gen"
		stop_dut "$engine" "$name"
		if [ "$rc" -ne 0 ]; then
			unlock
			echo failed
			cat "$OUT/$name.txt" >&2
			tail -20 "$OUT/$name-dut.log" >&2 || true
			return 1
		fi
		;;
	esac
	unlock
	grep -E '^(zero-loss rate|connections end to end)' "$OUT/$name.txt" | cut -c1-72 ||
		grep '^fixed' "$OUT/$name.txt" || true
}

case " $ENGINES " in
*" sgfw "*)
	capacity=()
	[ -n "$CAPACITY" ] && capacity=(--capacity "$CAPACITY")
	[ -n "$CPS" ] && capacity+=(--cps)
	"$BENCH" --mode write --out "$tmp/world" --flows "$FLOWS" --rules "$RULES" --deny "$DENY" \
		"${capacity[@]}" >/dev/null
	;;
esac
if [ -n "$CPS" ]; then
	for round in $(seq 1 "$ROUNDS"); do
		for engine in $ENGINES; do
			run "cps-$engine-r$round" "$engine" --cps --duration "$CPS"
		done
	done
	python3 - "$OUT" "$ROUNDS" "$ENGINES" <<'PY' | tee "$OUT/cps.md"
import json, statistics, sys

out, rounds, engines = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
rows = {}
for e in engines:
    runs = []
    for r in range(1, rounds + 1):
        try:
            runs.append(json.load(open("%s/cps-%s-r%d.json" % (out, e, r)))["cps"])
        except FileNotFoundError:
            pass
    if runs:
        rows[e] = runs
med = {e: statistics.median(c["per_second"] for c in rows[e]) for e in rows}
print("| engine | connections/s (median) | best | vs testpmd | vs ovs-ct | failed (median) | stray (median) | runs |")
print("|---|---|---|---|---|---|---|---|")
for e in engines:
    if e not in rows:
        continue
    def ratio(b):
        return "%.2fx" % (med[e] / med[b]) if med.get(b) else "-"
    print("| %s | %.0f | %.0f | %s | %s | %d | %d | %d |" % (
        e, med[e], max(c["per_second"] for c in rows[e]), ratio("testpmd"), ratio("ovs-ct"),
        statistics.median(c["failed"] for c in rows[e]),
        statistics.median(c["stray"] for c in rows[e]), len(rows[e])))
print()
print("Whole TCP lifecycles (SYN, SYN-ACK, ACK, FIN, FIN-ACK, ACK) completed per second through the"
      " device under test, each step sent when the previous one came back, 480 connections"
      " under way at once; failed: a packet unanswered for 100 ms.")
PY
	exit 0
fi
for round in $(seq 1 "$ROUNDS"); do
	for size in $SIZES; do
		for engine in $ENGINES; do
			run "rate-$engine-$size-r$round" "$engine" --size "$size"
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

# The baseline of a row: sgfw's io engine on the same ring ports, or testpmd io on the same
# memif ports.
base_of = {"io": "io", "fw": "io", "testpmd": "testpmd", "sgfw": "testpmd", "ovs-ct": "testpmd"}
print("| frame | engine | zero-loss Mpps | best | Gbit/s | vs base | forwarded overloaded Mpps | best"
      " | vs base | vs ovs-ct | generator top Mpps | runs | p50/p99/p99.9 us at 10 % | at 50 %"
      " | at 90 % | load avg |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for size in sizes:
    for engine in engines:
        row = rows.get((size, engine))
        if row is None:
            continue
        io = rows.get((size, base_of[engine]))
        ovs = rows.get((size, "ovs-ct")) if base_of[engine] == "testpmd" else None
        ratio = (row["zl"] / io["zl"]) if io and io["zl"] and row["zl"] is not None else None
        over_ratio = row["over"] / io["over"] if io and io["over"] else None
        over_ovs = row["over"] / ovs["over"] if ovs and ovs["over"] else None
        bytes_ = wire.get(size, int(size) + 4 if size.isdigit() else 0)
        gbit = row["zl"] * bytes_ * 8 / 1000 if row["zl"] is not None else None
        lat = ["/".join(fmt(row["lat"][(load, q)], "%.1f") for q in ("p50", "p99", "p999"))
               for load in (0.1, 0.5, 0.9)]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d%s | %s | %s | %s | %s |" % (
            label.get(size, size), engine, fmt(row["zl"]), fmt(row["zl_best"]), fmt(gbit, "%.2f"),
            fmt(ratio, "%.2fx"), fmt(row["over"]), fmt(row["over_best"]),
            fmt(over_ratio, "%.2fx"), fmt(over_ovs, "%.2fx"), fmt(row["top"]), row["n"],
            " (%d generator-bound)" % row["bound"] if row["bound"] else "", *lat,
            fmt(row["load"], "%.1f")))
print()
tol = json.load(open("%s/rate-%s-%s-r1.json" % (out, engines[0], sizes[0])))["rate"]
print("Medians (and the best) over the rounds of %g s trials. zero-loss: the highest offered rate a trial"
      " passed without losing a packet%s;" % (tol["trial_seconds"], " (or no more than %g of them)"
      % tol.get("loss_tolerance", 0) if tol.get("loss_tolerance") else ""), end="")
print(" forwarded overloaded: what the device under test sent per second in the unpaced first"
      " trial; generator-bound: the unpaced trial lost nothing, so the generator, not"
      " the device under test, set the rate; vs base: against io (ring ports, in process) or"
      " testpmd (memif ports, another process); vs ovs-ct: forwarded overloaded against OVS with"
      " conntrack. Latency: from the generator's send to its receive, through the device.")
PY
