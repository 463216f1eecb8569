#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One port cannot keep the others out of a full connection table: the seed scenario with the
# smallest table (1,024 entries), no per-port limits and the default share reserve (12 %: the
# last 122 entries are for ports under their share). web2 opens 1,100 TCP connections to
# db2:5432 and holds them, every one answered and established, which early drop never evicts
# (D13): at 902 web2 is over its share and the rest are refused. db2 then opens new
# connections to db1 (echo, 2379) and receives every echo. Without the reserve web2 took the
# whole table and db2 got nothing.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin
export SG_LAB_CAPACITY=1024
sg_lab_start "$tmp" || { sg_fail "sgfw starts with a 1024-entry table"; sg_finish; exit 1; }
sg_pass "sgfw starts with a 1024-entry table"

sg_in_bg db2 python3 "$here/hold.py" listen 5432 90
sg_in_bg db1 python3 "$here/echo_server.py" 2379 >/dev/null
sg_lab_listen db2 5432 && sg_lab_listen db1 2379 || sg_fail "the servers listen"

sg_in web2 timeout 80 python3 "$here/hold.py" connect 10.1.0.12 5432 1100 60 >"$tmp/hold.out" &
hold=$!
sg_track_pid "$hold"
for _ in $(seq 150); do
	grep -q connected "$tmp/hold.out" 2>/dev/null && break
	sleep 0.5
done
sg_expect_eq "web2 filled the table up to the reserve: 902 of 1100 connections opened" \
	"connected 902" "$(cat "$tmp/hold.out")"
refused=$(sg_lab_stat ports.web2.drop_reasons.ct_port_share)
[ "$refused" -ge 198 ] && sg_pass "web2's SYNs beyond its share were refused ($refused, ct_port_share)" ||
	sg_fail "web2's refusals over its share: '$refused', expected at least 198"
sg_expect_eq "the tracker counted them" "$refused" "$(sg_lab_stat conntrack.share_refused)"
sg_expect_eq "early drop evicted none of web2's answered connections" 0 \
	"$(sg_lab_stat conntrack.early_drops)"

ok=0
for i in 1 2 3 4 5; do
	[ "$(sg_lab_tcp db2 10.1.0.11 2379)" = "ECHO:ping" ] && ok=$((ok + 1))
done
sg_expect_eq "db2 opened new connections to db1 and got every echo" 5 "$ok"
sg_expect_eq "db2 was refused nothing" 0 \
	"$(($(sg_lab_stat ports.db2.drop_reasons.ct_table_full) + $(sg_lab_stat ports.db2.drop_reasons.ct_port_share)))"
sg_expect_eq "nothing found the table full" 0 "$(sg_lab_stat conntrack.table_full)"
sg_expect_eq "web2 still holds its 902 connections" 902 "$(sg_lab_stat ports.web2.connections)"
sg_stop_pid "$hold"
sg_finish
