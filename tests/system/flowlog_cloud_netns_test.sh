#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Cloud flow-log formats end to end: sgfw writes flow_logs.format = "alibaba", then (restarted)
# "aws-v5", from real TCP traffic of the seed scenario with the planted rules of
# flowlog_lab.sh; the test checks each file's header and the lines of the connections, then
# audits the files offline as a cloud's export: with the port names sgfw writes as ENI ids,
# and with the names replaced by made-up ENI ids mapped back by --eni-map. Both must find the
# planted rules as the audit of sgfw's own format does (flowlog_netns).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
. "$here/flowlog_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin
SG_LAB_GROUPS=$here/flowlog_planted_groups.conf
want_audit="wide=1 suggested=10.2.0.11/32,10.2.0.12/32 wide_in_proposal=True unused=1 unused_in_proposal=True verified=True"

# The fields the checks need, from either format: "port direction action src dst dport".
lines() {
	local format=$1
	if [ "$format" = alibaba ]; then
		cat "$tmp/flows-$format"/sgfw-flows-*.log | awk '$17 == "OK" {
			print $6, ($12 == "in" ? "ingress" : "egress"), $18, $7, $9, $10 }'
	else
		cat "$tmp/flows-$format"/sgfw-flows-*.log | awk '$14 == "OK" {
			print $3, $16, $13, $4, $5, $7 }'
	fi
}
has_line() {
	local format=$1 name=$2 pattern=$3
	if lines "$format" | grep -Eq "$pattern"; then
		sg_pass "$format: $name"
	else
		sg_fail "$format: $name: no line like /$pattern/ in: $(lines "$format")"
	fi
}

first=1
for format in alibaba aws-v5; do
	SG_LAB_EXTRA="flow_logs = { enabled = true; directory = \"$tmp/flows-$format\"; window = 2; format = \"$format\"; };"
	if [ $first = 1 ]; then
		sg_lab_start "$tmp" || { sg_fail "sgfw starts writing $format"; sg_finish; exit 1; }
		sg_lab_echo
		first=0
	else
		sg_lab_config "$tmp"
		sg_lab_run "$tmp" || { sg_fail "sgfw starts writing $format"; sg_finish; exit 1; }
	fi
	sg_pass "sgfw starts writing $format"
	sg_lab_allowed "$format: web1 -> db1 tcp 5432" web1 10.1.0.11 5432
	sg_lab_allowed "$format: web2 -> db1 tcp 5432" web2 10.1.0.11 5432
	sg_lab_allowed "$format: web2 -> db2 tcp 5432" web2 10.1.0.12 5432
	sg_lab_allowed "$format: web1 -> db1 tcp 5432 over IPv6" web1 fd00:1::11 5432
	sg_lab_allowed "$format: db1 -> db2 tcp 2379" db1 10.1.0.12 2379
	sg_lab_denied "$format: web1 -> db1 tcp 22 is refused" web1 10.1.0.11 22
	sg_fl_wait_window || sg_fail "$format: a flow-log window closes within 20 s"

	if [ "$format" = alibaba ]; then
		header="version vswitch-id vm-id vpc-id account-id eni-id srcaddr srcport dstaddr dstport protocol direction packets bytes start end log-status action tcp-flags"
	else
		header="version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags flow-direction pkt-srcaddr pkt-dstaddr"
	fi
	sg_expect_eq "$format: files start with the header" "$header" \
		"$(head -n 1 "$(ls "$tmp/flows-$format"/sgfw-flows-*.log | head -n 1)")"
	has_line "$format" "db1 logs web1's accepted connection" \
		'^db1 ingress ACCEPT 10\.2\.0\.11 10\.1\.0\.11 5432$'
	has_line "$format" "web1 logs its side of it" \
		'^web1 egress ACCEPT 10\.2\.0\.11 10\.1\.0\.11 5432$'
	has_line "$format" "db1 logs the refused ssh attempt" \
		'^db1 ingress REJECT 10\.2\.0\.11 10\.1\.0\.11 22$'

	# The audit of the files as a cloud's export: sgfw's port names are the ENI ids.
	"$SGFWCTL" -c "$tmp/sgfw.conf" --json audit --flow-logs "$tmp/flows-$format" \
		>"$tmp/audit-$format.json"
	sg_expect_eq "$format: the audit finds the planted rules" "$want_audit" \
		"$(sg_fl_check_audit "$tmp/audit-$format.json")"
	sg_expect_eq "$format: the audit read every file as $format" "$(ls "$tmp/flows-$format" | wc -l)" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_files"][sys.argv[2]])' \
			"$tmp/audit-$format.json" "$format")"

	# The same with made-up ENI ids, mapped back to the ports by a file.
	mkdir -p "$tmp/export-$format"
	for f in "$tmp/flows-$format"/sgfw-flows-*.log; do
		sed -E 's/ (web1|web2|db1|db2) / eni-0\1 /' "$f" >"$tmp/export-$format/$(basename "$f")"
	done
	printf 'eni-0web1 web1\neni-0web2 web2\neni-0db1 db1\neni-0db2 db2\n' >"$tmp/eni-map.txt"
	"$SGFWCTL" -c "$tmp/sgfw.conf" --json audit --flow-logs "$tmp/export-$format" \
		--eni-map "$tmp/eni-map.txt" >"$tmp/audit-eni-$format.json"
	sg_expect_eq "$format: the audit with ENI ids mapped by --eni-map finds them too" \
		"$want_audit" "$(sg_fl_check_audit "$tmp/audit-eni-$format.json")"
	sg_expect_contains "$format: without the mapping, the ENI ids are no port" \
		"is of a port of $tmp/sgfw.conf (interfaces eni-0" \
		"$("$SGFWCTL" -c "$tmp/sgfw.conf" audit --flow-logs "$tmp/export-$format" 2>&1)"

	sg_stop_pid "$SG_LAB_PID"
	sg_expect_eq "$format: sgfw exits 0 on SIGTERM" 0 "$?"
done
sg_finish
