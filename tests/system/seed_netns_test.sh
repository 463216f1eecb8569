#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end with real clients: the seed scenario in network namespaces through one sgfw on
# af_packet ports. Every check uses real TCP connections (nc to an echo service) or ping.
# SG_LAB_WORKERS=2 (the seed_netns_2w test) runs the same with two workers floating over the
# CPUs; the port order of seed_lab.sh puts the two directions of each web -> db connection on
# different workers.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

sg_lab_start "$tmp" || { sg_fail "sgfw starts on the seed scenario"; sg_finish; exit 1; }
sg_pass "sgfw starts on the seed scenario"
workers=${SG_LAB_WORKERS:-1}
sg_expect_contains "sgfw runs $workers worker(s)" "with $workers worker" "$(cat "$tmp/sgfw.log")"

sg_lab_echo


sg_lab_allowed "web1 -> db1 tcp 5432 connects and moves data both ways" web1 10.1.0.11 5432
sg_lab_allowed "web2 -> db2 tcp 5432 connects" web2 10.1.0.12 5432
sg_lab_allowed "web1 -> db1 tcp 5432 over IPv6" web1 fd00:1::11 5432
sg_lab_denied "web1 -> db1 tcp 22 is denied" web1 10.1.0.11 22
sg_lab_allowed "db1 -> db2 tcp 2379 connects (cluster synchronisation)" db1 10.1.0.12 2379
sg_lab_allowed "db2 -> db1 tcp 2379 over IPv6" db2 fd00:1::11 2379
sg_lab_denied "db1 -> db2 tcp 5432 is denied (internal isolation)" db1 10.1.0.12 5432
sg_lab_denied "web1 -> web2 tcp 80 is denied (internal isolation)" web1 10.2.0.12 80
sg_lab_denied "db1 -> web1 tcp 80 is denied by web's default ingress" db1 10.2.0.11 80
if sg_in web1 ping -c 1 -W 2 10.1.0.11 >/dev/null 2>&1; then
	sg_fail "ping web1 -> db1 is denied (no ICMP rule)"
else
	sg_pass "ping web1 -> db1 is denied (no ICMP rule)"
fi

stats=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats)
hits=$(echo "$stats" | sg_json "rule_hits.sg-db rule 1")
sg_expect_eq "sg-db rule 1 decided the two IPv4 web->db connections" 2 "$hits"
drops=$(echo "$stats" | sg_json "ports.db1.drop_reasons.acl_ingress")
[ "$drops" -ge 1 ] 2>/dev/null && sg_pass "db1 counts ingress denials ($drops)" ||
	sg_fail "db1 counts ingress denials: got '$drops'"
out=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json explain web1 to db1 tcp 5432)
sg_expect_eq "sgfwctl explain works online" accept "$(echo "$out" | sg_json verdict)"

sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_expect_contains "sgfw wrote its counters at exit" '"rule_hits"' "$(cat "$tmp/stats.json" 2>/dev/null)"
sg_finish
