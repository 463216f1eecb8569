#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Idle workers sleep (dataplane.sleep_max_us): the seed scenario with sleep_max_us = 1000.
# With no traffic the worker thread uses a small share of a core and counts its sleeps; traffic
# still flows and the groups still decide (an allowed and a denied connection, an established
# one across sleeps); a reload with sleep_max_us = 0 stops the sleeps (the setting is live),
# and one changing dataplane.burst says it waits for a restart.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin
export SG_LAB_DATAPLANE="sleep_max_us = 1000;"
sg_lab_start "$tmp" || { sg_fail "sgfw starts with sleep_max_us = 1000"; sg_finish; exit 1; }
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }

# The worker thread: EAL names it rte-worker-N (lcore-worker-N in other DPDK versions).
worker_tid=
for task in /proc/"$SG_LAB_PID"/task/*; do
	case $(cat "$task/comm" 2>/dev/null) in rte-worker-* | lcore-worker-*) worker_tid=${task##*/} ;; esac
done
[ -n "$worker_tid" ] && sg_pass "the worker thread is found ($worker_tid)" ||
	sg_fail "no rte-worker thread in sgfw ($SG_LAB_PID)"
# cpu_ticks: user + system clock ticks of the worker thread so far.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$SG_LAB_PID/task/$worker_tid/stat"; }

sleep 1
t0=$(cpu_ticks) s0=$(sg_lab_stat workers.0.sleeps)
sleep 3
t1=$(cpu_ticks) s1=$(sg_lab_stat workers.0.sleeps)
hz=$(getconf CLK_TCK)
echo "idle worker: $((t1 - t0)) ticks of CPU in 3 s ($hz a second), $((s1 - s0)) sleeps"
[ $((t1 - t0)) -lt $((3 * hz * 25 / 100)) ] &&
	sg_pass "an idle worker uses under a quarter of a core ($((t1 - t0)) ticks in 3 s)" ||
	sg_fail "an idle worker used $((t1 - t0)) ticks of CPU in 3 s (at most $((3 * hz * 25 / 100)))"
# 3 s of sleeps of at most 1 ms: at least 3,000 of them, fewer than a spin's polls.
[ $((s1 - s0)) -ge 2000 ] && sg_pass "it slept ($((s1 - s0)) sleeps in 3 s)" ||
	sg_fail "it slept $((s1 - s0)) times in 3 s, expected at least 2000"

text_sleeps=$(ctl stats | awk '$1 == "WORKER" { h = 1; next } h && $1 == "0" { print $9; exit }')
[ "${text_sleeps:-0}" -ge "$s1" ] && sg_pass "sgfwctl stats shows the sleeps ($text_sleeps)" ||
	sg_fail "sgfwctl stats' SLEEPS column: '$text_sleeps', expected at least $s1"

# The groups still decide: web1 -> db1:5432 allowed, web1 -> db1:22 denied, and a connection
# kept open across idle gaps longer than the longest sleep (a line every 20 ms to db2:5432)
# answers every round trip.
sg_in_bg db1 python3 "$here/echo_server.py" 5432 22 >/dev/null
sg_lab_listen db1 5432 22 || sg_fail "the echo service listens in db1"
sg_lab_allowed "web1 -> db1:5432 is allowed while the worker sleeps" web1 10.1.0.11 5432
sg_lab_denied "web1 -> db1:22 is denied while the worker sleeps" web1 10.1.0.11 22
sg_expect_eq "the denied SYNs were dropped by db1's ingress rules (counted on web1)" 1 \
	"$([ "$(sg_lab_stat ports.web1.drop_reasons.acl_ingress)" -ge 1 ] && echo 1)"
sg_in_bg db2 python3 "$here/echo_server.py" line:5432 >/dev/null
sg_lab_listen db2 5432 || sg_fail "the line echo service listens in db2"
sg_in web1 timeout 30 python3 "$here/tcp_steady.py" 10.1.0.12 5432 "$tmp/stop" 20 \
	>"$tmp/steady.log" 2>&1 &
steady=$!
sg_track_pid "$steady"
for _ in $(seq 100); do grep -q CONNECTED "$tmp/steady.log" && break; sleep 0.1; done
sleep 2
touch "$tmp/stop"
wait "$steady"
sg_expect_eq "a connection with 20 ms gaps answered every round trip" 0 "$?"
cat "$tmp/steady.log"

# Live: the same file with sleep_max_us = 0, reloaded, stops the sleeps.
sed -i 's/sleep_max_us = 1000;/sleep_max_us = 0;/' "$tmp/sgfw.conf"
sg_expect_eq "the reload is applied" "reloaded $tmp/sgfw.conf" "$(ctl reload)"
sleep 0.5
s2=$(sg_lab_stat workers.0.sleeps)
sleep 1
sg_expect_eq "after the reload the worker no longer sleeps" "$s2" "$(sg_lab_stat workers.0.sleeps)"

# A setting a reload cannot apply is said, not silently left out: the rest is applied, the
# status names it until a reload brings the started value back.
cp "$tmp/sgfw.conf" "$tmp/live.conf"
sed -i 's/sleep_max_us = 0;/sleep_max_us = 0; burst = 16;/' "$tmp/sgfw.conf"
sg_expect_eq "a reload changing dataplane.burst says it waits for a restart" \
	"reloaded $tmp/sgfw.conf
not in force until sgfw restarts: dataplane.burst" "$(ctl reload)"
sg_expect_eq "... and status says so" "dataplane.burst" \
	"$(ctl --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["restart_pending"])')"
cp "$tmp/live.conf" "$tmp/sgfw.conf"
sg_expect_eq "the started value back: nothing waits" "reloaded $tmp/sgfw.conf" "$(ctl reload)"
sg_expect_eq "... in status either" "" \
	"$(ctl --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["restart_pending"])')"
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_finish
