#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Faults: sgfw itself restarts while the VMs stay up (the seed scenario in namespaces, af_packet
# ports, control.persist = true). Long-lived TCP connections from web1 to db1 (IPv4 and IPv6,
# port 5432, which the policy allows) survive a clean stop and start and then a crash (SIGKILL)
# and start, thanks to mid-stream pickup (D10): the new switch classifies the first packet it
# sees as a new connection in its direction and checks the first reply too, counting the rule
# once. A connection the policy no longer allows (its rule removed online, D9) does not come
# back. Every change made online before the restart is in force after it.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

# A killed sgfw cannot remove its EAL runtime directory.
sg_test_cleanup() {
	[ -n "${crashed_pid:-}" ] && rm -rf "/var/run/dpdk/sgfw-$crashed_pid"
	return 0
}
sg_netns_test_begin

SG_LAB_CONTROL="persist = true;"
sg_lab_start "$tmp" || { sg_fail "sgfw starts"; sg_finish; exit 1; }
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }
sg_in_bg db1 python3 "$here/echo_server.py" line:5432 line:9000 2222 >/dev/null
sg_in_bg web1 python3 "$here/echo_server.py" 80 >/dev/null
sg_lab_listen db1 5432 9000 2222 || sg_fail "echo services listen in db1"
sg_lab_listen web1 80 || sg_fail "echo service listens in web1"
# The running policy, every port's combined rules.
policy() {
	local port
	for port in db1 db2 web1 web2; do
		"$SGFWCTL" "$@" effective "$port"
	done
}

# Changes made online, each saved to the file at once (control.persist).
sg_lab_denied "before the change: web1 -> db1 tcp 2222 is denied" web1 10.1.0.11 2222
sg_lab_denied "before the change: web2 -> web1 tcp 80 is denied (sg-web isolates)" web2 10.2.0.11 80
sg_expect_eq "rule add (saved)" "added sg-db rule 5" \
	"$(ctl rule add sg-db direction=ingress protocol=tcp port_range=2222/2222 source_cidr=10.2.0.0/24)"
ctl group set sg-web inner_access_policy=accept >/dev/null
sg_expect_eq "a temporary rule for port 9000" "added sg-db rule 6" \
	"$(ctl rule add sg-db direction=ingress protocol=tcp port_range=9000/9000 source_cidr=10.2.0.0/24)"
sg_lab_allowed "after the change: web1 -> db1 tcp 2222 connects" web1 10.1.0.11 2222
sg_lab_allowed "after the change: web2 -> web1 tcp 80 connects" web2 10.2.0.11 80

# Long-lived connections: web1 -> db1:5432 over IPv4 and IPv6 (allowed by the seed's rules)
# and web1 -> db1:9000 (allowed by rule 6 for now). A round trip may take up to 30 s: the
# restarts cost TCP a few retransmissions with back-off; it must never break.
sg_in_bg web1 python3 "$here/tcp_steady.py" 10.1.0.11 5432 "$tmp/stop" 250 30 >"$tmp/s4.log" 2>&1
s4_pid=${SG_PID_LIST[-1]}
sg_in_bg web1 python3 "$here/tcp_steady.py" fd00:1::11 5432 "$tmp/stop" 250 30 >"$tmp/s6.log" 2>&1
s6_pid=${SG_PID_LIST[-1]}
sg_in_bg web1 python3 "$here/probe.py" stream 10.1.0.11 9000 250 >"$tmp/s9.log" 2>&1
for i in $(seq 150); do
	grep -q CONNECTED "$tmp/s4.log" && grep -q CONNECTED "$tmp/s6.log" &&
		[ "$(grep -c ' ok$' "$tmp/s9.log")" -ge 5 ] && break
	sleep 0.1
done
s4_port=$(awk '/CONNECTED/ { print $2 }' "$tmp/s4.log")
s6_port=$(awk '/CONNECTED/ { print $2 }' "$tmp/s6.log")
[ -n "$s4_port" ] && [ -n "$s6_port" ] && sg_pass "the IPv4 and IPv6 connections to 5432 are up" ||
	sg_fail "the IPv4 and IPv6 connections to 5432 are up"
s9_ok=$(grep -c ' ok$' "$tmp/s9.log")
[ "$s9_ok" -ge 5 ] && sg_pass "the connection to 9000 flows ($s9_ok echoes)" ||
	sg_fail "the connection to 9000 flows ($s9_ok echoes)"

# Remove rule 6 online (saved): the connection to 9000 stops passing at once (D9).
sg_expect_eq "rule remove (saved)" "removed sg-db rule 6" "$(ctl rule remove sg-db 6)"
sleep 2
blocked_at=$(date +%s.%N)
sleep 2
sg_expect_eq "the connection to 9000 no longer passes (D9)" 0 \
	"$(awk -v t="$blocked_at" '$1 > t && $3 == "ok"' "$tmp/s9.log" | wc -l)"

before=$(policy -s "$SG_LAB_SOCKET")
sg_expect_eq "the file holds every change (read offline)" "$before" "$(policy -c "$tmp/sgfw.conf")"

# conn SPORT: sgfwctl ct's line for the connection from web1's port SPORT.
conn() { ctl ct | grep -F ":$1 -> "; }
# wait_conn SPORT: up to 60 s for the new switch to have seen 10 replies on it.
wait_conn() {
	local i line
	for i in $(seq 300); do
		line=$(conn "$1")
		[[ "$line" =~ pkts\ [0-9]+/([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 10 ] && return 0
		sleep 0.2
	done
	return 1
}
# web1_refused: packets from web1 that db1's ingress rules refused.
web1_refused() { ctl stats web1 | awk '$1 == "drop" && $2 == "acl_ingress" { n = $3 } END { print n + 0 }'; }
# web1_sent: packets the running switch delivered to web1.
web1_sent() { ctl stats web1 | awk '$1 == "web1" { print $3 }'; }
# hits RULE: the rule's hits in the running switch (0 when it has none).
hits() { ctl stats | awk -v r="$1" 'index($0, "  " r " ") == 1 { n = $NF } END { print n + 0 }'; }

# after_restart LABEL WAIT: the checks once sgfw is back. WAIT=yes waits (up to 60 s) for a
# retransmission of the blocked connection to reach the new switch; TCP backs off, so after
# the second restart it may come later than that.
after_restart() {
	local label=$1 wait=$2 line
	sg_expect_eq "$label: every change made online is in force" "$before" "$(policy -s "$SG_LAB_SOCKET")"
	wait_conn "$s4_port"
	wait_conn "$s6_port"
	# The tracker counts a reply before the rules see it: what reached web1 is the proof.
	for i in $(seq 300); do
		[ "$(web1_sent)" -ge 20 ] && break
		sleep 0.2
	done
	[ "$(web1_sent)" -ge 20 ] && sg_pass "$label: db1's answers reach web1 again ($(web1_sent))" ||
		sg_fail "$label: db1's answers reach web1 again ($(web1_sent))"
	line=$(conn "$s4_port")
	echo "$label: $line"
	sg_expect_contains "$label: the IPv4 connection is picked up and answered" \
		"10.2.0.11:$s4_port -> 10.1.0.11:5432 ESTABLISHED assured" "$line"
	sg_expect_contains "$label: ... from web1 to db1, its direction" "web1->db1" "$line"
	line=$(conn "$s6_port")
	echo "$label: $line"
	sg_expect_contains "$label: the IPv6 connection is picked up and answered" \
		"fd00:2::11:$s6_port -> fd00:1::11:5432 ESTABLISHED assured" "$line"
	# One hit per connection: the pickup counted, its confirmation not.
	sg_expect_eq "$label: sg-db rule 1 (IPv4 5432) admitted one connection" 1 "$(hits "sg-db rule 1")"
	sg_expect_eq "$label: sg-db rule 3 (IPv6 5432) admitted one connection" 1 "$(hits "sg-db rule 3")"
	# The blocked connection's retransmissions reach the new switch: refused, as new ones.
	if [ "$wait" = yes ]; then
		for i in $(seq 300); do
			[ "$(web1_refused)" -ge 1 ] && break
			sleep 0.2
		done
		[ "$(web1_refused)" -ge 1 ] &&
			sg_pass "$label: its retransmissions are refused by db1's ingress rules" ||
			sg_fail "$label: its retransmissions are refused by db1's ingress rules"
	fi
	sg_expect_eq "$label: the connection to 9000 is not picked up" "" "$(ctl ct | grep -F ':9000 ')"
	sg_expect_eq "$label: no echo comes back on it" 0 \
		"$(awk -v t="$blocked_at" '$1 > t && $3 == "ok"' "$tmp/s9.log" | wc -l)"
	sg_lab_allowed "$label: web1 -> db1 tcp 2222 connects" web1 10.1.0.11 2222
	sg_lab_allowed "$label: web2 -> web1 tcp 80 connects" web2 10.2.0.11 80
	sg_lab_denied "$label: a new connection to 9000 is denied" web1 10.1.0.11 9000
}

# A clean stop and start.
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw stops cleanly" 0 "$?"
sleep 1
sg_lab_run "$tmp" || { sg_fail "sgfw starts again"; sg_finish; exit 1; }
after_restart "restart" yes

# A crash: no clean stop, nothing saved at exit (the changes were saved when made).
crashed_pid=$SG_LAB_PID
kill -KILL "$SG_LAB_PID"
wait "$SG_LAB_PID" 2>/dev/null
rm -rf "/var/run/dpdk/sgfw-$crashed_pid"
sleep 1
sg_lab_run "$tmp" || { sg_fail "sgfw starts again after a crash"; sg_finish; exit 1; }
after_restart "after a crash" no

touch "$tmp/stop"
wait "$s4_pid"
sg_expect_eq "the IPv4 connection answered every round trip across both restarts" 0 "$?"
wait "$s6_pid"
sg_expect_eq "the IPv6 connection answered every round trip across both restarts" 0 "$?"
echo "IPv4: $(grep ROUNDS "$tmp/s4.log"); IPv6: $(grep ROUNDS "$tmp/s6.log")"
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_finish
