#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Flow logs end to end: the seed scenario in network namespaces with a database rule planted far
# too wide (10.0.0.0/8 for the web cluster's two addresses) and one nobody uses (ssh from an old
# jump host). Real TCP traffic goes through sgfw, which writes flow logs every 2 s; the test
# reads what it wrote, runs sgfwctl audit on it (offline and online), checks the audit finds
# both planted rules, applies the tightened config to the running sgfw and checks the same
# real traffic still passes (and what was refused still is).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
. "$here/flowlog_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

SG_LAB_GROUPS=$here/flowlog_planted_groups.conf
SG_LAB_EXTRA="flow_logs = { enabled = true; directory = \"$tmp/flows\"; window = 2; };"
sg_lab_start "$tmp" || { sg_fail "sgfw starts with flow logs on"; sg_finish; exit 1; }
sg_pass "sgfw starts with flow logs on"

sg_lab_echo


# The real traffic of the scenario, run before and after the tightened config is applied.
traffic() {
	local when=$1
	sg_lab_allowed "$when: web1 -> db1 tcp 5432" web1 10.1.0.11 5432
	sg_lab_allowed "$when: web2 -> db1 tcp 5432" web2 10.1.0.11 5432
	sg_lab_allowed "$when: web2 -> db2 tcp 5432" web2 10.1.0.12 5432
	sg_lab_allowed "$when: web1 -> db1 tcp 5432 over IPv6" web1 fd00:1::11 5432
	sg_lab_allowed "$when: db1 -> db2 tcp 2379" db1 10.1.0.12 2379
	sg_lab_allowed "$when: db2 -> db1 tcp 2379" db2 10.1.0.11 2379
	sg_lab_denied "$when: web1 -> db1 tcp 22 is refused" web1 10.1.0.11 22
	sg_lab_denied "$when: web1 -> web2 tcp 80 is refused" web1 10.2.0.12 80
}

traffic before
sg_fl_wait_window || sg_fail "a flow-log window closes within 20 s"

# Lines of the logs: "port direction action src dst dport rule flags packets".
lines() {
	cat "$tmp"/flows/sgfw-flows-*.log | awk '$13 == "OK" {
		print $2, $8, $14, $3, $5, $6, $16, $15, $9 }'
}
has_line() {
	local name=$1 pattern=$2
	if lines | grep -Eq "$pattern"; then sg_pass "$name"; else sg_fail "$name: no line like /$pattern/ in: $(lines)"; fi
}
sg_expect_eq "text files start with the header" \
	"version port srcaddr srcport dstaddr dstport protocol direction packets bytes start end log-status action tcp-flags rule" \
	"$(head -n 1 "$(ls "$tmp"/flows/sgfw-flows-*.log | head -n 1)")"
has_line "db1 logs web1's accepted connection by sg-db rule 1, with the SYN" \
	'^db1 ingress ACCEPT 10\.2\.0\.11 10\.1\.0\.11 5432 sg-db/1 ([2367]|1[89]|2[23]) [0-9]+$'
has_line "db1 logs its replies to web1 under the same rule, with the SYN-ACK" \
	'^db1 egress ACCEPT 10\.1\.0\.11 10\.2\.0\.11 [0-9]+ sg-db/1 (18|19|22|23) [0-9]+$'
has_line "web1 logs its side by its default egress accept" \
	'^web1 egress ACCEPT 10\.2\.0\.11 10\.1\.0\.11 5432 default-basic-egress'
has_line "the IPv6 connection is logged with the IPv6 rule" \
	'^db1 ingress ACCEPT fd00:2::11 fd00:1::11 5432 sg-db/4 '
has_line "db2 logs cluster synchronisation from db1" \
	'^db2 ingress ACCEPT 10\.1\.0\.11 10\.1\.0\.12 2379 sg-db/2 '
has_line "db1 logs the refused ssh attempt as REJECT by its default" \
	'^db1 ingress REJECT 10\.2\.0\.11 10\.1\.0\.11 22 default-basic-ingress '
has_line "web1 logs its side of the refused attempt as accepted by its egress" \
	'^web1 egress ACCEPT 10\.2\.0\.11 10\.1\.0\.11 22 default-basic-egress '
has_line "web2 logs the refused attempt from web1 (isolation)" \
	'^web2 ingress REJECT 10\.2\.0\.11 10\.2\.0\.12 80 default-basic-ingress '
status=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json flowlogs)
sg_expect_eq "no event was lost on the way" 0 "$(echo "$status" | sg_json ring_lost)"
sg_expect_eq "no closed connection was lost" 0 "$(echo "$status" | sg_json closed_lost)"
sg_expect_eq "stats carry the flow-log counters" "$tmp/flows" \
	"$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats | sg_json flow_logs.directory)"

# The audit, offline, on what sgfw wrote.
audit=$("$SGFWCTL" -c "$tmp/sgfw.conf" --json audit --flow-logs "$tmp/flows")
echo "$audit" >"$tmp/audit.json"
sg_expect_eq "the audit finds the wide rule and the unused one, and a verified proposal" \
	"wide=1 suggested=10.2.0.11/32,10.2.0.12/32 wide_in_proposal=True unused=1 unused_in_proposal=True verified=True" \
	"$(sg_fl_check_audit "$tmp/audit.json")"
sg_expect_contains "the audit for people names the planted rules" \
	"sg-db rule 1 is much wider than the traffic it admitted" \
	"$("$SGFWCTL" -c "$tmp/sgfw.conf" audit --flow-logs "$tmp/flows")"

# Online: the running config, its own flow-log directory.
"$SGFWCTL" -s "$SG_LAB_SOCKET" --json audit >"$tmp/audit-online.json"
sg_expect_eq "sgfwctl audit works online on the switch's own logs" \
	"wide=1 suggested=10.2.0.11/32,10.2.0.12/32 wide_in_proposal=True unused=1 unused_in_proposal=True verified=True" \
	"$(sg_fl_check_audit "$tmp/audit-online.json")"

# The tightened config: written out, checked, and applied to the running switch.
if "$SGFWCTL" -c "$tmp/sgfw.conf" audit --flow-logs "$tmp/flows" --output "$tmp/tight" >/dev/null; then
	sg_pass "audit --output writes the tightened config"
else
	sg_fail "audit --output writes the tightened config"
fi
if "$SGFWCTL" -c "$tmp/tight/sgfw.conf" check >/dev/null; then
	sg_pass "sgfwctl check accepts the tightened config"
else
	sg_fail "sgfwctl check accepts the tightened config: $("$SGFWCTL" -c "$tmp/tight/sgfw.conf" check 2>&1)"
fi
(cd "$tmp" && python3 -c '
import json, sys
a = json.load(open("audit.json"))
sys.stdout.write("".join(f["diff"] for f in a["proposal"]["files"]))' >proposal.diff &&
	patch -s -p1 --dry-run <proposal.diff) && sg_pass "the proposed diff applies to the config files" ||
	sg_fail "the proposed diff applies to the config files"
cp "$tmp/tight/seed-groups.conf" "$tmp/seed-groups.conf"
sg_expect_contains "the running sgfw takes the tightened config" "reloaded" \
	"$("$SGFWCTL" -s "$SG_LAB_SOCKET" reload 2>&1)"
sg_expect_eq "the unused rule is gone" drop "$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json explain \
	db1 ingress tcp 192.168.77.5:40000 10.1.0.11:22 | sg_json verdict)"
sg_expect_eq "the wide rule no longer admits the rest of 10.0.0.0/8" drop \
	"$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json explain db1 ingress tcp 10.3.0.5:40000 10.1.0.11:5432 |
		sg_json verdict)"
traffic after
sg_fl_wait_window || sg_fail "a flow-log window closes after the reload"
# After the reload the web cluster's addresses have rules of their own (sg-db/1 and /2).
has_line "flows after the reload name the narrower rules" \
	'^db1 ingress ACCEPT 10\.2\.0\.12 10\.1\.0\.11 5432 sg-db/2 '

sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
# Windows are 2 s; the one open at exit is written up to then: 1 s long.
sg_expect_eq "the window open at exit was written" 1 \
	"$(tail -n 1 "$(ls "$tmp"/flows/sgfw-flows-*.log | tail -n 1)" | awk '{print $12 - $11}')"
sg_finish
