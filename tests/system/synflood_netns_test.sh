#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SYN flood (D13, edge case 59) end to end: the seed scenario with a 2048-entry connection
# table. web1 keeps an established TCP conversation with db1:5432 going (a message every
# 20 ms, each echoed) while web2 sends 30,000 SYNs from random source ports to db2:5432,
# which is allowed, so each would be a new connection. The table fills; new connections evict
# unassured ones (early drop) or are refused; the established conversation is never evicted
# and loses nothing.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

export SG_LAB_CAPACITY=2048
sg_lab_start "$tmp" || { sg_fail "sgfw starts with a 2048-entry table"; sg_finish; exit 1; }
sg_pass "sgfw starts with a 2048-entry table"
sg_in_bg db1 python3 "$here/tcp_chat.py" serve 5432
sg_in_bg db2 python3 "$here/tcp_chat.py" serve 5432
sg_lab_listen db1 5432 && sg_lab_listen db2 5432 || sg_fail "the servers listen"

# The conversation runs about 6 s (300 messages); the flood starts once it is established.
sg_in web1 python3 "$here/tcp_chat.py" talk 10.1.0.11 5432 300 0.02 >"$tmp/chat.out" &
chat=$!
sg_track_pid "$chat"
sleep 1
flood=$(sg_in web2 timeout 60 python3 "$here/flood.py" syn 10.2.0.12 10.1.0.12 5432 30000)
wait "$chat"
sg_expect_eq "the flood was sent" "sent 30000" "$flood"
sg_expect_eq "the established conversation lost nothing during the flood" "300 ok" \
	"$(cat "$tmp/chat.out")"

stats=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats)
capacity=$(echo "$stats" | sg_json conntrack.capacity)
early=$(echo "$stats" | sg_json conntrack.early_drops)
full=$(echo "$stats" | sg_json conntrack.table_full)
inserts=$(echo "$stats" | sg_json conntrack.inserts)
sg_expect_eq "the table holds 2048 connections" 2048 "$capacity"
[ "$inserts" -gt "$capacity" ] 2>/dev/null && sg_pass "more connections were made than fit ($inserts)" ||
	sg_fail "more connections were made than fit: $inserts"
[ $((early + full)) -gt 0 ] 2>/dev/null &&
	sg_pass "the full table evicted ($early early drops) or refused ($full) new connections" ||
	sg_fail "early drops or table-full refusals: got '$early' and '$full'"
for port in web1 db1; do
	sg_expect_eq "no packet of the conversation was dropped on $port" 0 \
		"$(echo "$stats" | sg_json "ports.$port.drops")"
done
# And a new connection still gets through once the flood is over.
sg_in_bg db1 python3 "$here/echo_server.py" 2379 >/dev/null
sg_lab_listen db1 2379 || sg_fail "the echo service listens"
sg_expect_eq "db2 -> db1 tcp 2379 connects after the flood" "ECHO:ping" "$(sg_lab_tcp db2 10.1.0.11 2379)"
sg_finish
