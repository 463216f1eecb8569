#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One port cannot keep the others out of a full connection table: the seed scenario with the
# smallest table (1,024 entries), no per-port limits and the default share reserve (12 %: the
# last 122 entries are for ports under their share). web2 opens 902 TCP connections to
# db2:5432 and holds them, every one answered, established and assured, which early drop never
# evicts (D13); then 198 more, which find web2 over its share with nothing to evict: every one
# is refused. db2 then opens new connections to db1 (echo, 2379) and receives every echo.
# Without the reserve web2 took the whole table and db2 got nothing.
# Why two phases: a port over its share may still early-drop its own half-open entries (so a
# SYN flood recycles them), and web2's handshakes still in flight when the table reached 902
# are such entries. Sent as one burst of 1,100, a loaded machine let later SYNs evict some of
# them, and those whose SYN-ACK had already passed left hold.py a socket it counted as
# connected but whose ACK sgfw refused: "connected 905" while sgfw held exactly 902. So the
# second phase starts only once all 902 are assured, and every count below is exact.
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

# sg_connect OUT COUNT: web2 opens COUNT connections to db2:5432 and holds them (hold.py,
# stopped at cleanup); returns once hold.py wrote "connected N" to OUT.
sg_connect() {
	local _
	sg_in web2 timeout 80 python3 "$here/hold.py" connect 10.1.0.12 5432 "$2" 60 >"$1" &
	sg_track_pid $!
	for _ in $(seq 150); do
		grep -q connected "$1" 2>/dev/null && break
		sleep 0.5
	done
}
# The tracker's ESTABLISHED count, web2's assured entries and db2's accepted connections.
ct_established() { "$SGFWCTL" -s "$SG_LAB_SOCKET" ct count | awk '$1 == "ESTABLISHED" {print $2}'; }
web2_assured() { "$SGFWCTL" -s "$SG_LAB_SOCKET" ct port=web2 limit=2000 | grep -c ' assured'; }
db2_accepted() { sg_in db2 ss -Htn state established '( sport = :5432 )' | wc -l; }

sg_connect "$tmp/hold1.out" 902
sg_expect_eq "web2 opened 902 connections, up to the reserve" "connected 902" \
	"$(cat "$tmp/hold1.out")"
# The last ACKs reach sgfw after hold.py saw its SYN-ACKs: wait until every entry is assured.
for _ in $(seq 100); do
	[ "$(web2_assured)" = 902 ] && break
	sleep 0.1
done
sg_expect_eq "sgfw tracks all 902, established and assured" "902 902" \
	"$(ct_established) $(web2_assured)"
sg_expect_eq "db2 accepted all 902" 902 "$(db2_accepted)"

sg_connect "$tmp/hold2.out" 198
sg_expect_eq "web2 over its share: none of 198 more connections opened" "connected 0" \
	"$(cat "$tmp/hold2.out")"
refused=$(sg_lab_stat ports.web2.drop_reasons.ct_port_share)
[ "$refused" -ge 198 ] && sg_pass "web2's SYNs beyond its share were refused ($refused, ct_port_share)" ||
	sg_fail "web2's refusals over its share: '$refused', expected at least 198"
sg_expect_eq "the tracker counted them" "$refused" "$(sg_lab_stat conntrack.share_refused)"
sg_expect_eq "early drop evicted none of web2's assured connections" 0 \
	"$(sg_lab_stat conntrack.early_drops)"
sg_expect_eq "db2 still has exactly 902 of web2's connections" 902 "$(db2_accepted)"

ok=0
for i in 1 2 3 4 5; do
	[ "$(sg_lab_tcp db2 10.1.0.11 2379)" = "ECHO:ping" ] && ok=$((ok + 1))
done
sg_expect_eq "db2 opened new connections to db1 and got every echo" 5 "$ok"
sg_expect_eq "db2 was refused nothing" 0 \
	"$(($(sg_lab_stat ports.db2.drop_reasons.ct_table_full) + $(sg_lab_stat ports.db2.drop_reasons.ct_port_share)))"
sg_expect_eq "nothing found the table full" 0 "$(sg_lab_stat conntrack.table_full)"
sg_expect_eq "web2 still holds its 902 connections" 902 "$(sg_lab_stat ports.web2.connections)"
sg_finish
