#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dpdk-dumpcap on a running sgfw: sgfw initialises rte_pdump, so DPDK's own capture tool, a
# secondary process on sgfw's file prefix, lists the ethdev ports by the name of the port they
# serve and captures one (a pcap port replaying a file in a loop). Secondary processes attach
# to hugepage memory only, so the test reserves 256 hugepages for itself and gives them back;
# where the kernel has none to give, it cannot run and says so.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"
missing=
[ "$(id -u)" -eq 0 ] || missing="needs root"
command -v dpdk-dumpcap >/dev/null || missing="needs dpdk-dumpcap (Debian package dpdk)"
command -v tcpdump >/dev/null || missing="needs tcpdump"
if [ -n "$missing" ]; then
	echo "SKIP: $missing"
	exit 77
fi

# Hugepages of its own: 256 more 2 MB pages for as long as the test runs, and a hugetlbfs of
# its own, both given back at exit (the machine may have none configured).
pages_before=$(cat /proc/sys/vm/nr_hugepages)
hugedir=$(mktemp -d)
give_back_pages() {
	umount "$hugedir" 2>/dev/null
	rmdir "$hugedir" 2>/dev/null
	echo "$pages_before" >/proc/sys/vm/nr_hugepages
}
echo $((pages_before + 256)) >/proc/sys/vm/nr_hugepages 2>/dev/null
free_pages=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "${free_pages:-0}" -lt 256 ] || ! mount -t hugetlbfs -o pagesize=2M nodev "$hugedir"; then
	give_back_pages
	echo "SKIP: the kernel gives no 256 free 2 MB hugepages (it has ${free_pages:-0}): dpdk-dumpcap is a DPDK secondary process, which cannot attach to a --no-huge primary"
	exit 77
fi

tmp=$(mktemp -d)
id=$(( ($$ + RANDOM) % 100000 ))
prefix=sgfw-dumpcap$id
sgfw_pid=
cleanup() {
	if [ -n "$sgfw_pid" ]; then
		kill -TERM "$sgfw_pid" 2>/dev/null
		timeout 10 tail --pid="$sgfw_pid" -f /dev/null
		kill -KILL "$sgfw_pid" 2>/dev/null
	fi
	rm -rf "$tmp" "/var/run/dpdk/$prefix" "$hugedir/$prefix"* 2>/dev/null
	give_back_pages
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Traffic: the pcap replay test's frames, from a VM port that replays them in a loop.
python3 "$here/pcap_replay.py" build "$tmp" >/dev/null 2>&1
input=$tmp/cli.in.pcap
if [ ! -s "$input" ]; then
	sg_fail "pcap_replay.py writes an input file"
	sg_finish
	exit 1
fi
cat >"$tmp/sgfw.conf" <<CONF
security_groups = ( { id = "sg-a"; } );
ports = ( { name = "feed"; type = "pcap"; rx_pcap = "$input"; infinite_rx = true;
    mac = "52:54:00:00:00:01"; security_groups = ["sg-a"]; } );
dataplane = { mbufs = 4095; file_prefix = "$prefix";
  eal_args = ["--huge-dir", "$hugedir", "-m", "256"]; };
conntrack = { capacity = 1024; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
"$SGFW" -c "$tmp/sgfw.conf" >"$tmp/sgfw.log" 2>&1 &
sgfw_pid=$!
for i in $(seq 300); do
	"$SGFWCTL" -s "$tmp/sgfw.sock" status >/dev/null 2>&1 && break
	sleep 0.1
done
out=$(timeout 60 dpdk-dumpcap --file-prefix "$prefix" -D 2>&1)
sg_expect_contains "dpdk-dumpcap -D lists the port by its name" "_feed" "$out"
name=$(echo "$out" | grep -o 'net_pcap_sg[0-9]*_feed' | head -1)
timeout 60 dpdk-dumpcap --file-prefix "$prefix" -i "$name" -c 10 -w "$tmp/feed.pcapng" >/dev/null 2>&1
# dumpcap checks its count after each burst it dequeues (up to 32 packets).
captured=$(tcpdump -nn -r "$tmp/feed.pcapng" 2>/dev/null | wc -l)
[ "$captured" -ge 10 ] && [ "$captured" -le 41 ] &&
	sg_pass "dpdk-dumpcap captures the port's packets ($captured for -c 10)" ||
	sg_fail "dpdk-dumpcap captures the port's packets: $captured for -c 10"
kill -TERM "$sgfw_pid"
wait "$sgfw_pid"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sgfw_pid=
sg_finish
