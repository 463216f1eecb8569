# SPDX-License-Identifier: BSD-3-Clause
# sgfw on pcap ports, for the replay tests (sourced after lib.sh; no namespaces, no root).
#
# sg_pcap_begin: make $tmp and an EAL file prefix of its own; sgfw and both go at exit.
# sg_pcap_run WANT [SETTLE]: run sgfw on $tmp/sgfw.conf until its ports have received WANT
#   packets in all (what their files hold; bounded at 30 s), wait SETTLE seconds more (for
#   timers), stop it and check it exits 0; its counters are then in $tmp/stats.json.

sg_pcap_begin() {
	tmp=$(mktemp -d)
	SG_PCAP_PID=
	SG_PCAP_PREFIX=sgfw-pcap-$$
	trap sg_pcap_end EXIT
	trap 'exit 130' INT TERM HUP
}

sg_pcap_end() {
	[ -n "$SG_PCAP_PID" ] && kill -KILL "$SG_PCAP_PID" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$SG_PCAP_PREFIX" \
		"${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$SG_PCAP_PREFIX"
}

sg_pcap_run() {
	local want=$1 settle=${2:-0} got=0 status
	"$SGFW" -c "$tmp/sgfw.conf" --stats-file "$tmp/stats.json" -- \
		--file-prefix="$SG_PCAP_PREFIX" >"$tmp/sgfw.log" 2>&1 &
	SG_PCAP_PID=$!
	for _ in $(seq 300); do
		kill -0 "$SG_PCAP_PID" 2>/dev/null || break
		got=$("$SGFWCTL" -s "$tmp/sgfw.sock" --json stats 2>/dev/null | python3 -c '
import json, sys
print(sum(p["rx_packets"] for p in json.load(sys.stdin)["ports"].values()))' 2>/dev/null) ||
			got=0
		[ "$got" = "$want" ] && break
		sleep 0.1
	done
	sg_expect_eq "sgfw read every packet of the files" "$want" "$got"
	sleep "$settle"
	kill -TERM "$SG_PCAP_PID"
	wait "$SG_PCAP_PID"
	status=$?
	SG_PCAP_PID=
	sg_expect_eq "sgfw exits 0" 0 "$status"
	if [ ! -f "$tmp/stats.json" ]; then
		cat "$tmp/sgfw.log" >&2
		sg_fail "sgfw wrote its counters"
		return 1
	fi
}
