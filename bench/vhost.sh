#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The vhost-user variant of docs/BENCHMARKS.md: sgfw-bench (sgfw's datapath) is the vhost-user
# backend of a dpdk-testpmd "VM" on a virtio-user port that sends UDP with txonly through the
# uplink to a VM port whose sink is a net_pcap port without a tx file (its rx file holds no
# packet: net_null would be polled too, and it makes all-zero packets out of nothing). One busy core each: testpmd's forwarding core on
# CPU 0, sgfw's worker on CPU 1 (sgfw-bench's main thread sleeps on CPU 0). Without hugepages
# virtio-user shares its memory with the backend only with --legacy-mem.
#
#   bench/vhost.sh [--engines "io sg fw"] [--rules N] [--duration S] [--warmup S]
#                  [--out DIR] [--build DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ENGINES="io sg fw" RULES=1000 DURATION=10 WARMUP=3 OUT="" BUILD="${SG_BUILD:-$ROOT/build}"
while [ $# -gt 0 ]; do
	case $1 in
	--engines) ENGINES=$2; shift 2 ;;
	--rules) RULES=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "vhost.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if ! command -v dpdk-testpmd >/dev/null; then
	sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q dpdk
fi
[ -x "$BUILD/app/sgfw-bench/sgfw-bench" ] || SG_BUILD=$BUILD "$ROOT/scripts/setup.sh"
BENCH=$BUILD/app/sgfw-bench/sgfw-bench

. "$ROOT/bench/session.sh"

# The generated policy, with the uplink on vhost-user and the VM port a pcap sink.
"$BENCH" --mode write --out "$tmp/gen" --flows 1 --rules "$RULES" >/dev/null
python3 - "$tmp/gen/sgfw.conf" "$tmp/sgfw.conf" "$tmp/up0.sock" "$tmp/empty.pcap" <<'PY'
import re, struct, sys
open(sys.argv[4], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
text = open(sys.argv[1]).read()
text = re.sub(r'type = "pcap"; rx_pcap = "[^"]*/up0.pcap"; infinite_rx = true;',
              'type = "vhost-user"; path = "%s";' % sys.argv[3], text)
text = re.sub(r'type = "pcap"; rx_pcap = "[^"]*/vm0.pcap"; infinite_rx = true;',
              'type = "pcap"; rx_pcap = "%s";' % sys.argv[4], text)
open(sys.argv[2], "w").write(text)
PY

VM_MAC=$(grep -o 'name = "vm0"; mac = "[^"]*"' "$tmp/sgfw.conf" | cut -d'"' -f4)
UP_MAC=$(grep -o 'peer_mac = "[^"]*"' "$tmp/sgfw.conf" | cut -d'"' -f2)
echo "vhost: testpmd txonly (UDP, 64 bytes) -> sgfw up0 (vhost-user) -> vm0 (pcap sink)"
printf '%-8s %10s %10s %10s\n' engine "gen Mpps" "sgfw Mpps" "fwd Mpps"
for engine in $ENGINES; do
	rm -f "$tmp/up0.sock"
	"$BENCH" --mode ports --config "$tmp/sgfw.conf" --engine "$engine" --rules "$RULES" \
		--duration "$DURATION" --warmup "$WARMUP" --no-progress --label "vhost $engine" \
		--json "$OUT/vhost-$engine.json" -- --file-prefix="$tag-sg-$engine" -l 0,1 \
		>"$tmp/sgfw-$engine.log" 2>&1 &
	bench_pid=$!
	pids+=("$bench_pid")
	for _ in $(seq 100); do [ -S "$tmp/up0.sock" ] && break; sleep 0.1; done
	mkfifo "$tmp/vm-$engine.in"
	dpdk-testpmd --no-huge --legacy-mem -m 1024 --no-pci --no-telemetry --lcores "0@0,1@0" \
		--file-prefix "$tag-vm-$engine" \
		--vdev "net_virtio_user0,path=$tmp/up0.sock,mac=$UP_MAC,queues=1" -- \
		--forward-mode=txonly --txonly-multi-flow --nb-cores=1 --txd=1024 --rxd=1024 \
		--eth-peer="0,$VM_MAC" --tx-ip=198.18.0.1,10.0.1.10 --tx-udp=1024,53 --txpkts=64 \
		--total-num-mbufs=16384 <"$tmp/vm-$engine.in" >"$tmp/vm-$engine.log" 2>&1 &
	vm_pid=$!
	pids+=("$vm_pid")
	exec {vm_fd}>"$tmp/vm-$engine.in"
	wait "$bench_pid" || { cat "$tmp/sgfw-$engine.log" >&2; exit 1; }
	exec {vm_fd}>&-
	timeout 20 tail --pid="$vm_pid" -f /dev/null || true
	python3 - "$OUT/vhost-$engine.json" "$tmp/vm-$engine.log" "$engine" "$WARMUP" "$DURATION" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))["results"]["ports"]
log = open(sys.argv[2]).read()
tx = re.findall(r"TX-packets:\s+(\d+)", log)
# testpmd ran about warm-up + duration (+ start-up); its overall rate is a lower bound.
gen = int(tx[0]) / (float(sys.argv[4]) + float(sys.argv[5])) / 1e6 if tx else 0
print("%-8s %10.2f %10.2f %10.2f" % (sys.argv[3], gen, r["mpps"], r["forwarded"] / r["seconds"] / 1e6))
PY
done
echo "results in $OUT"
