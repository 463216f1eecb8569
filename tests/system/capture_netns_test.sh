#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfwctl capture on the seed lab: live traffic written as pcapng and read back with tcpdump.
# A capture with --count and a filter stops by itself with exactly that many matching packets;
# two captures stopped by Ctrl-C (SIGINT to sgfwctl) show what web1 sent (before the firewall)
# and what passed the firewall to db1: the allowed connection's packets are in both, the
# denied ones only in the first. Bad requests are refused naming what is wrong.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

missing=
command -v tcpdump >/dev/null || missing="needs tcpdump (Debian package tcpdump)"
sg_netns_test_begin "$missing"

sg_lab_start "$tmp" || { sg_fail "sgfw starts on the seed scenario"; sg_finish; exit 1; }
sg_lab_echo
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }
# read_pcap FILE [FILTER]: one line per packet, as tcpdump prints them.
read_pcap() { tcpdump -nn -r "$@" 2>/dev/null; }

# sgfwctl capture in the background; its pid in $cap_pid, its messages in $tmp/NAME.err.
start_capture() {
	local name=$1 i
	shift
	# Not through ctl(): $! must be sgfwctl itself, for the Ctrl-C (SIGINT) below.
	"$SGFWCTL" -s "$SG_LAB_SOCKET" capture "$@" -w "$tmp/$name.pcapng" 2>"$tmp/$name.err" &
	cap_pid=$!
	sg_track_pid "$cap_pid"
	for i in $(seq 100); do
		grep -q "^capturing" "$tmp/$name.err" && return 0
		sleep 0.1
	done
	return 1
}

# 1. A count and a filter: the capture of what web1 sends ends by itself after exactly 6
# packets to port 5432.
start_capture count web1 --count 6 --filter "tcp dst port 5432" || sg_fail "the capture starts"
for i in 1 2 3; do
	sg_lab_allowed "web1 -> db1 tcp 5432 (round $i) while captured" web1 10.1.0.11 5432
done
timeout 20 tail --pid="$cap_pid" -f /dev/null
wait "$cap_pid"
sg_expect_eq "sgfwctl capture --count exits 0 by itself" 0 "$?"
sg_expect_contains "it says how many packets it wrote" "6 packets written from web1 (the count was reached)" \
	"$(cat "$tmp/count.err")"
sg_expect_eq "tcpdump reads exactly 6 packets" 6 "$(read_pcap "$tmp/count.pcapng" | wc -l)"
sg_expect_eq "all of them match the filter" 6 \
	"$(read_pcap "$tmp/count.pcapng" "tcp dst port 5432 and src host 10.2.0.11 and dst host 10.1.0.11" | wc -l)"
grep -q web1 "$tmp/count.pcapng" && sg_pass "the file names the port (pcapng if_name)" ||
	sg_fail "the file names the port (pcapng if_name)"

# 2. What web1 sends, and what passed the firewall to db1, until Ctrl-C.
start_capture sent web1 --filter "tcp" || sg_fail "the capture of web1 starts"
sent_pid=$cap_pid
start_capture passed db1 --passed --filter "tcp" || sg_fail "the capture of db1 --passed starts"
passed_pid=$cap_pid
out=$(ctl capture db1 --passed -w "$tmp/again.pcapng" 2>&1)
sg_expect_eq "a second capture of the same port and side exits 1" 1 "$?"
sg_expect_contains "... saying so" 'port "db1" is already being captured (--passed)' "$out"
sg_lab_allowed "web1 -> db1 tcp 5432 while captured" web1 10.1.0.11 5432
sg_lab_denied "web1 -> db1 tcp 22 while captured" web1 10.1.0.11 22
sleep 1
kill -INT "$sent_pid" "$passed_pid"
wait "$sent_pid"
sg_expect_eq "sgfwctl capture exits 0 on Ctrl-C" 0 "$?"
wait "$passed_pid"
sg_expect_contains "... and says what it wrote" "bytes written to $tmp/passed.pcapng" \
	"$(cat "$tmp/passed.err")"
to_5432=$(read_pcap "$tmp/sent.pcapng" "dst port 5432" | wc -l)
to_22=$(read_pcap "$tmp/sent.pcapng" "dst port 22" | wc -l)
[ "$to_5432" -ge 4 ] && sg_pass "web1's capture holds its connection to 5432 ($to_5432 packets)" ||
	sg_fail "web1's capture holds its connection to 5432: $to_5432 packets"
[ "$to_22" -ge 1 ] && sg_pass "web1's capture holds its denied attempts at 22 ($to_22 packets)" ||
	sg_fail "web1's capture holds its denied attempts at 22: $to_22 packets"
sg_expect_eq "every packet web1 sent to 5432 passed the firewall to db1" "$to_5432" \
	"$(read_pcap "$tmp/passed.pcapng" "src host 10.2.0.11 and dst port 5432" | wc -l)"
sg_expect_eq "none to 22 did" 0 "$(read_pcap "$tmp/passed.pcapng" "dst port 22" | wc -l)"
sg_expect_eq "db1's capture saw only what went to db1" 0 \
	"$(read_pcap "$tmp/passed.pcapng" "not dst host 10.1.0.11" | wc -l)"

# 3. Refusals.
out=$(ctl capture nosuch -w "$tmp/x.pcapng" 2>&1)
sg_expect_eq "an unknown port exits 1" 1 "$?"
sg_expect_contains "... naming it" 'no port named "nosuch"' "$out"
out=$(ctl capture db1 --filter "tcp port banana" -w "$tmp/x.pcapng" 2>&1)
sg_expect_eq "a bad filter exits 1" 1 "$?"
sg_expect_contains "... naming it" 'filter "tcp port banana"' "$out"
out=$(ctl capture db1 2>&1)
sg_expect_eq "no -w is a usage error (exit 2)" 2 "$?"
sg_expect_eq "nothing is left attached: a new capture of db1 works" 0 \
	"$(ctl capture db1 --count 1 --filter "tcp" -w "$tmp/last.pcapng" >/dev/null 2>&1 &
	  p=$!; sleep 1; sg_lab_allowed x web1 10.1.0.11 5432 >/dev/null; wait $p; echo $?)"

sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_finish
