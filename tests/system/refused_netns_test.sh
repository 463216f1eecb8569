#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Faults: a reload or an online change that is refused leaves the running switch exactly as
# it was (the seed scenario in namespaces, af_packet ports, control.persist = true). Two
# established connections (web1 -> db1:5432, IPv4 and IPv6) keep flowing across every refusal
# without missing a round trip; the connection table (sgfwctl ct count and the connections
# themselves), the policy of every port, the rule hits, the config file and the process are
# unchanged. Refusals at every stage: validation (a bad field, a group still in use), opening
# a device (a missing interface, online and in a reloaded file), a running port's device
# changed by a reload, a bad value in the file and in a file it includes, a file that does not
# parse (SIGHUP); each message names the field, or the file and line.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

SG_LAB_CONTROL="persist = true;"
sg_lab_start "$tmp" || { sg_fail "sgfw starts"; sg_finish; exit 1; }
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }
sg_in_bg db1 python3 "$here/echo_server.py" line:5432 >/dev/null
sg_lab_listen db1 5432 || sg_fail "the echo service listens in db1"

# Two long-lived connections; nothing else opens one until the end, so the table only
# changes if a refusal changes it.
sg_in_bg web1 python3 "$here/tcp_steady.py" 10.1.0.11 5432 "$tmp/stop" 200 10 >"$tmp/s4.log" 2>&1
s4_pid=${SG_PID_LIST[-1]}
sg_in_bg web1 python3 "$here/tcp_steady.py" fd00:1::11 5432 "$tmp/stop" 200 10 >"$tmp/s6.log" 2>&1
s6_pid=${SG_PID_LIST[-1]}
for i in $(seq 150); do
	grep -q CONNECTED "$tmp/s4.log" && grep -q CONNECTED "$tmp/s6.log" && break
	sleep 0.1
done
sg_expect_eq "both connections are up" "CONNECTED CONNECTED" \
	"$(awk '{ print $1 }' "$tmp/s4.log") $(awk '{ print $1 }' "$tmp/s6.log")"
sleep 1

# The state a refusal must not touch. Connections without their counters and timers.
conns() { ctl ct | sed -E 's/ +[0-9]+s / /; s/ pkts [0-9]+\/[0-9]+$//' | sort; }
policy() {
	local port
	for port in db1 db2 web1 web2; do
		ctl effective "$port"
	done
	ctl groups
	ctl ports | awk 'NR > 1 { $2 = $3 = $4 = ""; print }'
}
hit_lines() { ctl stats | sed -n '/^RULE HITS/,$p'; }
web1_rx() { ctl stats web1 | awk '$1 == "web1" { print $2 }'; }
count_before=$(ctl ct count)
conns_before=$(conns)
policy_before=$(policy)
hits_before=$(hit_lines)
file_before=$(sha256sum <"$tmp/sgfw.conf")
pid_before=$(ctl --json status | sg_json pid)
echo "$count_before"
echo "$conns_before"
sg_expect_eq "the table holds the two connections, established" 2 \
	"$(echo "$count_before" | awk 'tolower($1) == "established" { print $2 }')"

# Each refusal, then: the connections still move packets through sgfw.
flowing() {
	local label=$1 from i
	from=$(web1_rx)
	for i in $(seq 100); do
		[ "$(web1_rx)" -ge $((from + 10)) ] && break
		sleep 0.1
	done
	[ "$(web1_rx)" -ge $((from + 10)) ] && sg_pass "$label: the connections keep flowing" ||
		sg_fail "$label: the connections keep flowing ($from -> $(web1_rx) packets from web1)"
}
# refused LABEL EXPECTED-MESSAGE COMMAND...: exits 1 naming the problem.
refused() {
	local label=$1 message=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	echo "$label: $out"
	sg_expect_eq "$label: refused (exit 1)" 1 "$rc"
	sg_expect_contains "$label: says why" "$message" "$out"
	sg_expect_eq "$label: reports no change made" "" "$(echo "$out" | grep -E '^(added|removed|created|deleted|changed|replaced)')"
	flowing "$label"
}

# Online changes refused by validation.
refused "rule add with priority 0" "priority 0 is out of range 1..100" \
	ctl rule add sg-db direction=ingress priority=0 protocol=tcp port_range=1/2 source_cidr=10.0.0.0/8
refused "group delete of a group ports list" "sg-web" ctl group delete sg-web
refused "rule remove of a rule that does not exist" "sg-db" ctl rule remove sg-db 99
# Refused when the device is opened, after validation passed.
refused "port add on a missing interface" "does not exist" \
	ctl port add name=db3 type=af_packet iface=flt-nosuch0 mac=52:54:00:01:00:0d ips=10.1.0.13 \
	tags=cluster:PostgreSQL

# Reloads refused: the files are changed under the running switch, then restored.
cp "$tmp/sgfw.conf" "$tmp/good.conf"
cp "$tmp/seed-groups.conf" "$tmp/good-groups.conf"
groups_before=$(sha256sum <"$tmp/seed-groups.conf")
line=$(grep -n 'mac = "52:54:00:01:00:0c"' "$tmp/good.conf" | cut -d: -f1)
sed 's/mac = "52:54:00:01:00:0c"/mac = "52:54:00:01:00:zz"/' "$tmp/good.conf" >"$tmp/sgfw.conf"
refused "reload of a file with a bad value" \
	"reload refused, the running config is unchanged: $tmp/sgfw.conf:$line: port \"db2\": mac \"52:54:00:01:00:zz\"" \
	ctl reload
cp "$tmp/good.conf" "$tmp/sgfw.conf"
line=$(grep -n 'port_range = "5432/5432"' "$tmp/good-groups.conf" | head -1 | cut -d: -f1)
sed "${line}s|port_range = \"5432/5432\"|port_range = \"5432/99999\"|" "$tmp/good-groups.conf" \
	>"$tmp/seed-groups.conf"
refused "reload of an included file with a bad value" \
	"reload refused, the running config is unchanged: $tmp/seed-groups.conf:$line:" ctl reload
cp "$tmp/good-groups.conf" "$tmp/seed-groups.conf"
# A file that does not parse, by SIGHUP: the refusal goes to sgfw's log.
# A missing comma: libconfig stops at line 4.
printf '%s\n' '# A file edited badly.' 'security_groups = ( { id = "sg-x"; } );' \
	'subnets = ( { cidr = "10.1.0.0/24"; }' '  { cidr = "10.2.0.0/24"; } );' >"$tmp/sgfw.conf"
kill -HUP "$SG_LAB_PID"
for i in $(seq 50); do
	grep -q "change by SIGHUP: reload: refused" "$tmp/sgfw.log" && break
	sleep 0.1
done
sg_expect_contains "SIGHUP with a file that does not parse: refused, in one log line" \
	"sgfw.ctl: change by SIGHUP: reload: refused: reload refused, the running config is unchanged: $tmp/sgfw.conf:4: syntax error" \
	"$(cat "$tmp/sgfw.log")"
sg_expect_contains "... naming the file and line" "unchanged: $tmp/sgfw.conf:4: syntax error" \
	"$(cat "$tmp/sgfw.log")"
flowing "SIGHUP refused"
# A file that loads, with a new port whose interface is missing: refused when opening it.
sed 's|^ports = (|ports = (\n  { name = "db3"; type = "af_packet"; iface = "flt-nosuch0"; mac = "52:54:00:01:00:0d";\n    ips = ["10.1.0.13"]; tags = ["cluster:PostgreSQL"]; },|' \
	"$tmp/good.conf" >"$tmp/sgfw.conf"
"$SGFWCTL" -c "$tmp/sgfw.conf" check >/dev/null
sg_expect_eq "the file with the new port is valid" 0 "$?"
refused "reload adding a port on a missing interface" \
	"reload refused, the running config is unchanged: $tmp/sgfw.conf:" ctl reload
sg_expect_contains "... names the port and the interface" "interface \"flt-nosuch0\" does not exist" \
	"$(ctl reload 2>&1)"
# A file that moves a running port to another interface: refused (remove and add it instead).
sed "s|iface = \"$(sg_vm_if db2)\"|iface = \"$(sg_vm_if web2)\"|" "$tmp/good.conf" >"$tmp/sgfw.conf"
refused "reload changing a running port's interface" "port \"db2\": its device settings changed" \
	ctl reload
cp "$tmp/good.conf" "$tmp/sgfw.conf"

# Nothing changed.
sg_expect_eq "ct count is unchanged" "$count_before" "$(ctl ct count)"
sg_expect_eq "the same connections, in the same states" "$conns_before" "$(conns)"
sg_expect_eq "the policy of every port, the groups and the ports are unchanged" "$policy_before" \
	"$(policy)"
sg_expect_eq "the rule hits are unchanged (no connection was re-checked)" "$hits_before" \
	"$(hit_lines)"
sg_expect_eq "no refused change was saved to the file" "$file_before" "$(sha256sum <"$tmp/sgfw.conf")"
sg_expect_eq "... nor to the groups file" "$groups_before" "$(sha256sum <"$tmp/seed-groups.conf")"
sg_expect_eq "the same sgfw process" "$pid_before" "$(ctl --json status | sg_json pid)"
ctl --json stats | python3 -c 'import json, sys
for name, port in json.load(sys.stdin)["ports"].items():
    if port.get("drop_reasons"): print("drops of", name, port["drop_reasons"])' >&2
sg_expect_eq "no packet was dropped on any port" \
	"db1 0 web1 0 db2 0 web2 0" "$(ctl stats | awk 'NR > 1 && /^[a-z]/ && !/^RULE/ { printf "%s%s %s", sep, $1, $6; sep = " " }')"

# And a valid reload after all that still works (the good file is the running config).
sg_expect_eq "a valid reload is applied" "reloaded $tmp/sgfw.conf" "$(ctl reload)"
touch "$tmp/stop"
wait "$s4_pid"
sg_expect_eq "the IPv4 connection answered every round trip" 0 "$?"
wait "$s6_pid"
sg_expect_eq "the IPv6 connection answered every round trip" 0 "$?"
echo "IPv4: $(grep ROUNDS "$tmp/s4.log"); IPv6: $(grep ROUNDS "$tmp/s6.log")"
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_finish
