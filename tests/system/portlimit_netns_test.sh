#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Per-port connection limits against one flooding tenant (issue 8): the seed scenario with a
# 4096-entry table, a UDP rule web -> db 9000-9999 added, and every VM port limited to 1000
# open connections and 500 new ones a second (conntrack.port_* defaults). web1 keeps a TCP
# conversation with db1:5432 going while web2 floods db2 with 20,000 SYNs and then 20,000 UDP
# datagrams from random source ports, each a new connection the rules allow. The limits stop
# web2 at its share: the table never fills (no early drop, no refusal), other VMs open new
# connections during the floods, and the conversation loses nothing.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

# The seed groups plus UDP 9000-9999 from the web subnet into the database cluster.
sed '0,/rules = (/s//rules = (\n      { direction = "ingress"; policy = "accept"; priority = 1; protocol = "udp"; port_range = "9000\/9999"; source_cidr = "10.2.0.0\/24"; },/' \
	"$SG_SOURCE_ROOT/config/seed-groups.conf" >"$tmp/groups.conf"
export SG_LAB_GROUPS=$tmp/groups.conf SG_LAB_CAPACITY=4096
export SG_LAB_CONNTRACK="port_max_connections = 1000; port_new_connections_per_second = 500;"
sg_lab_start "$tmp" || { sg_fail "sgfw starts with per-port limits"; sg_finish; exit 1; }
sg_pass "sgfw starts with per-port limits"

sg_in_bg db1 python3 "$here/tcp_chat.py" serve 5432
sg_in_bg db2 python3 "$here/tcp_chat.py" serve 5432
sg_in_bg db1 python3 "$here/echo_server.py" 2379 >/dev/null
sg_lab_listen db1 5432 2379 && sg_lab_listen db2 5432 || sg_fail "the servers listen"

# flood_with KIND PORT: web2 floods db2 while db2 opens new connections to db1 and web1's
# conversation runs; checks both, then web2's limits.
flood_with() {
	local kind=$1 port=$2 chat flood i ok=0 before_limit before_rate
	before_limit=$(sg_lab_stat ports.web2.drop_reasons.ct_port_limit)
	before_rate=$(sg_lab_stat ports.web2.drop_reasons.ct_port_rate)
	sg_in web1 python3 "$here/tcp_chat.py" talk 10.1.0.11 5432 150 0.02 >"$tmp/chat.out" &
	chat=$!
	sg_track_pid "$chat"
	sg_in web2 timeout 60 python3 "$here/flood.py" "$kind" 10.2.0.12 10.1.0.12 "$port" 20000 \
		>"$tmp/flood.out" &
	flood=$!
	sg_track_pid "$flood"
	sleep 0.3
	for i in 1 2 3 4 5; do
		[ "$(sg_lab_tcp db2 10.1.0.11 2379)" = "ECHO:ping" ] && ok=$((ok + 1))
	done
	wait "$flood"
	wait "$chat"
	sg_expect_eq "$kind flood: sent" "sent 20000" "$(cat "$tmp/flood.out")"
	sg_expect_eq "$kind flood: db2 opened new connections to db1 during it" 5 "$ok"
	sg_expect_eq "$kind flood: web1's established conversation lost nothing" "150 ok" \
		"$(cat "$tmp/chat.out")"
	local limit rate conns
	limit=$(($(sg_lab_stat ports.web2.drop_reasons.ct_port_limit) - before_limit))
	rate=$(($(sg_lab_stat ports.web2.drop_reasons.ct_port_rate) - before_rate))
	conns=$(sg_lab_stat ports.web2.connections)
	[ $((limit + rate)) -gt 10000 ] &&
		sg_pass "$kind flood: web2's limits refused most of it ($limit over its maximum, $rate over its rate)" ||
		sg_fail "$kind flood: web2's limits refused $limit over its maximum and $rate over its rate"
	[ "$conns" -le 1000 ] && [ "$conns" -gt 0 ] &&
		sg_pass "$kind flood: web2 holds $conns connections, at most its 1000" ||
		sg_fail "$kind flood: web2 holds '$conns' connections; its maximum is 1000"
}

flood_with syn 5432
flood_with udp 9000

sg_expect_eq "the table never filled: no early drop" 0 "$(sg_lab_stat conntrack.early_drops)"
sg_expect_eq "the table never filled: no refusal" 0 "$(sg_lab_stat conntrack.table_full)"
entries=$(sg_lab_stat conntrack.entries)
[ "$entries" -lt 4096 ] && sg_pass "the table holds $entries of 4096 entries" ||
	sg_fail "the table holds '$entries' of 4096 entries"
for port in web1 db1 db2; do
	sg_expect_eq "no per-port limit touched $port" 0 \
		"$(($(sg_lab_stat ports.$port.drop_reasons.ct_port_limit) + $(sg_lab_stat ports.$port.drop_reasons.ct_port_rate)))"
done
sg_finish
