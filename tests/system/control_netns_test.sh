#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control plane against a running sgfw on the seed scenario (namespaces, af_packet, real
# clients): online changes take effect, a change that no longer allows an established
# connection stops it both ways (D9), a burst of changes loses no packet of allowed traffic,
# a broken change or reload changes nothing, ports leave and come back while others carry
# traffic, attach-by-tag, save and restart keep every change, and the counters are readable
# from Prometheus and DPDK telemetry.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin "$(command -v curl >/dev/null || echo "needs curl")"

metrics_port=$((20000 + SG_NS_ID % 20000))
SG_LAB_CONTROL="metrics_port = $metrics_port;"
sg_lab_start "$tmp" || { sg_fail "sgfw starts"; sg_finish; exit 1; }
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }
sg_lab_echo line:9000 udp:7777
for vm in db1 db2 web1 web2; do
	sg_lab_listen "$vm" 9000 || sg_fail "echo service listens in $vm on 9000"
done

# Views of the running switch.
sg_expect_eq "ports shows db1's link up" true "$(ctl --json ports | sg_json 0.link_up)"
sg_expect_eq "status answers" 4 "$(ctl --json status | sg_json ports)"

# A rule added online opens a port; removed, it closes again.
sg_lab_denied "before: web1 -> db1 tcp 22 is denied" web1 10.1.0.11 22
out=$(ctl rule add sg-db direction=ingress protocol=tcp port_range=22/22 source_cidr=10.2.0.0/24)
sg_expect_eq "rule add reports the new rule" "added sg-db rule 5" "$out"
sg_lab_allowed "after rule add: web1 -> db1 tcp 22 connects" web1 10.1.0.11 22
sg_expect_eq "rule remove" "removed sg-db rule 5" "$(ctl rule remove sg-db 5)"
sg_lab_denied "after rule remove: web1 -> db1 tcp 22 is denied again" web1 10.1.0.11 22

# D9: an established connection the new policy refuses stops passing, both ways.
ctl rule add sg-db direction=ingress protocol=tcp port_range=9000/9000 source_cidr=10.2.0.0/24 >/dev/null
sg_in web1 python3 "$here/probe.py" stream 10.1.0.11 9000 30 >"$tmp/stream.log" 2>&1 &
sg_track_pid $!
stream_pid=$!
# Change only once the stream is flowing (a loaded machine starts python slowly).
for i in $(seq 150); do
	[ "$(grep -c ' ok$' "$tmp/stream.log")" -ge 8 ] && break
	sleep 0.1
done
ctl rule remove sg-db 5 >/dev/null
removed_at=$(date +%s.%N)
sleep 3
kill "$stream_pid" 2>/dev/null
wait "$stream_pid" 2>/dev/null
before=$(awk -v t="$removed_at" '$1 < t - 0.2 && $3 == "ok"' "$tmp/stream.log" | wc -l)
after=$(awk -v t="$removed_at" '$1 > t + 0.5 && $3 == "ok"' "$tmp/stream.log" | wc -l)
[ "$before" -ge 5 ] && sg_pass "the stream flowed before the change ($before echoes)" ||
	sg_fail "the stream flowed before the change ($before echoes)"
sg_expect_eq "no echo passes after the rule is removed (D9)" 0 "$after"
blocked=$(ctl --json stats | sg_json "ports.db1.drop_reasons.ct_blocked" 2>/dev/null ||
	ctl --json stats | sg_json "ports.web1.drop_reasons.ct_blocked")
[ "${blocked:-0}" -ge 1 ] && sg_pass "the blocked connection's packets are counted as ct_blocked" ||
	sg_fail "the blocked connection's packets are counted as ct_blocked"

# A burst of changes loses no packet of traffic allowed before and after them.
ctl rule add sg-db direction=ingress protocol=udp port_range=7777/7777 source_cidr=10.2.0.0/24 >/dev/null
sg_in web1 python3 "$here/probe.py" udp 10.1.0.11 7777 1200 4 >"$tmp/udp.log" 2>&1 &
sg_track_pid $!
udp_pid=$!
for i in $(seq 1 10); do
	ctl rule add sg-web direction=ingress protocol=tcp port_range=$((1000 + i))/$((1000 + i)) \
		source_cidr=10.9.0.0/16 >/dev/null
	ctl group create "sg-tmp$i" >/dev/null
	ctl group delete "sg-tmp$i" >/dev/null
	sleep 0.2
done
wait "$udp_pid"
sg_expect_eq "30 changes during 1,200 UDP round trips lose none" "sent 1200 received 1200" \
	"$(cat "$tmp/udp.log")"
sg_expect_eq "the unrelated changes are all there" 10 \
	"$(ctl --json effective web1 ingress | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["ingress"] if r["origin"] == "rule"))')"

# A broken change and a broken reload change nothing.
before=$(ctl effective db1)
out=$(ctl rule add sg-db direction=ingress priority=0 protocol=tcp port_range=1/2 source_cidr=10.0.0.0/8 2>&1)
sg_expect_eq "a change with priority 0 exits 1" 1 "$?"
sg_expect_contains "it names the field and value" "priority 0 is out of range 1..100" "$out"
sg_expect_eq "the running policy is unchanged" "$before" "$(ctl effective db1)"
cp "$tmp/sgfw.conf" "$tmp/sgfw.conf.good"
printf 'ports = ( { name = "x"; mac = "zz"; } );\n' >"$tmp/sgfw.conf"
out=$(ctl reload 2>&1)
sg_expect_eq "reloading a broken file exits 1" 1 "$?"
sg_expect_contains "it says the running config is unchanged" "reload refused, the running config is unchanged" "$out"
sg_expect_eq "the policy is still the running one" "$before" "$(ctl effective db1)"
sg_lab_allowed "traffic still flows after the refused reload" web1 10.1.0.11 5432
cp "$tmp/sgfw.conf.good" "$tmp/sgfw.conf"

# Ports leave and come back (VM shutdown and boot) while the others carry traffic.
web2_if=$(sg_vm_if web2)
sg_expect_eq "port remove" "removed port web2" "$(ctl port remove web2)"
sg_lab_denied "web2's traffic no longer passes" web2 10.1.0.12 5432
sg_lab_allowed "the others are unaffected" web1 10.1.0.11 5432
out=$(ctl port add name=web2 type=af_packet iface="$web2_if" mac=52:54:00:02:00:0c \
	ips=10.2.0.12,fd00:2::12 security_groups=sg-web)
sg_expect_eq "port add" "added port web2" "$out"
# A VM that boots starts with an empty neighbour cache. web2's still holds the entry for its
# gateway that the denied probe left unresolved while the port was gone: a connect made
# between nc giving up (3.00 s) and the kernel's last ARP try (about 3.07 s) queues its SYN on
# that dying entry and fails with "No route to host".
sg_in web2 ip -4 neigh flush all
sg_in web2 ip -6 neigh flush all
sg_lab_allowed "web2 works again" web2 10.1.0.12 5432

# The seed's batch attach: every port carrying the tag joins the group carrying it.
ctl group create sg-ssh >/dev/null
ctl rule add sg-ssh direction=ingress protocol=tcp port_range=22/22 source_cidr=10.2.0.0/24 >/dev/null
out=$(ctl attach-by-tag cluster:PostgreSQL sg-ssh)
sg_expect_eq "attach-by-tag lists the ports it attached" \
	"sg-ssh now carries tag cluster:PostgreSQL; attached: db1 db2" "$out"
sg_lab_allowed "web1 -> db2 tcp 22 through the tag-attached group" web1 10.1.0.12 22

# Counters in the ecosystem's tools.
metrics=$(curl -s "http://127.0.0.1:$metrics_port/metrics")
sg_expect_contains "Prometheus: rule hits" 'sgfw_rule_hits_total{rule="sg-db rule 1"}' "$metrics"
sg_expect_contains "Prometheus: drops by reason" 'reason="acl_ingress"' "$metrics"
tel=$(echo "/sgfw/ports" | python3 /usr/bin/dpdk-telemetry.py -f "$SG_LAB_PREFIX" 2>/dev/null)
sg_expect_contains "DPDK telemetry: /sgfw/ports" '"/sgfw/ports": ["db1", "web1", "db2", "web2"]' "$tel"
# The workers' poll counters: polls, packets received, busy and idle cycles, everywhere.
sg_expect_contains "Prometheus: worker polls" 'sgfw_worker_polls_total{worker="0"}' "$metrics"
sg_expect_contains "Prometheus: worker busy cycles" 'sgfw_worker_busy_cycles_total{worker="0"}' "$metrics"
workers=$(echo "/sgfw/workers" | python3 /usr/bin/dpdk-telemetry.py -f "$SG_LAB_PREFIX" 2>/dev/null |
	python3 -c 'import json,sys; w = json.load(sys.stdin)["/sgfw/workers"]["worker0"]
print("ok" if w["polls"] > w["busy_polls"] > 0 and w["rx_packets"] >= w["busy_polls"] and w["busy_cycles"] > 0 and w["idle_cycles"] > 0 else w)')
sg_expect_eq "DPDK telemetry: /sgfw/workers counts polls, busy polls, packets, cycles" ok "$workers"
workers=$(ctl --json stats | python3 -c 'import json,sys; s = json.load(sys.stdin)
w = s["workers"][0]; rx = sum(p["rx_packets"] for p in s["ports"].values())
print("ok" if w["worker"] == 0 and rx > 0 and abs(w["rx_packets"] - rx) <= 64 and w["polls"] > 0 and s["tsc_hz"] > 0 else (w, rx))')
# One worker polls every port: it received what the ports did (give or take the burst in
# flight while the counters are read).
sg_expect_eq "stats --json: worker 0 received the ports' packets" ok "$workers"
sg_expect_contains "stats: the workers' table" "WORKERS" "$(ctl stats)"
# Log levels at run time: a type set, an unknown one refused.
sg_expect_contains "log level sets a type" "sgfw.dp: debug (1 type)" "$(ctl log level sgfw.dp debug)"
sg_expect_eq "log lists it" "debug" "$(ctl log | awk '$1 == "sgfw.dp" { print $2 }')"
out=$(ctl log level sgfw.nothing debug 2>&1)
sg_expect_eq "an unknown log type exits 1" 1 "$?"
sg_expect_contains "... naming it" 'no log type matches "sgfw.nothing"' "$out"

# Durability: save, restart from the file, every change is still there.
sg_expect_contains "save" "saved the running config" "$(ctl save)"
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw stops cleanly" 0 "$?"
sg_lab_run "$tmp" || sg_fail "sgfw restarts from the saved file"
sg_expect_eq "after restart: the tag-attached group is still there" accept \
	"$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json explain web1 to db2 tcp 22 | sg_json verdict)"
sg_lab_allowed "after restart: web1 -> db2 tcp 22 still connects" web1 10.1.0.12 22

# Whole reloads that add 100 rules and take them away again lose no packet of a stream the
# policy allows before and after. The rules go to sg-web, so web1's policy changes and its
# connection to db1 is re-checked (D9) on every reload.
cp "$tmp/sgfw.conf" "$tmp/saved.conf"
python3 - "$tmp/saved.conf" "$tmp/bulk.conf" <<'PY'
import sys
text = open(sys.argv[1]).read()
at = text.index("rules = (", text.index('id = "sg-web"')) + len("rules = (")
rules = "".join('\n      { direction = "ingress"; policy = "accept"; priority = 50; protocol = "tcp";'
                ' port_range = "%d/%d"; source_cidr = "10.%d.0.0/16"; },' % (20000 + i, 20000 + i, 100 + i)
                for i in range(100))
open(sys.argv[2], "w").write(text[:at] + rules + text[at:])
PY
web1_rules() {
	ctl --json effective web1 ingress |
		python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["ingress"] if r["origin"] == "rule"))'
}
rules_before=$(web1_rules)
sg_in web1 python3 "$here/probe.py" udp 10.1.0.11 7777 1500 4 >"$tmp/udp-reload.log" 2>&1 &
sg_track_pid $!
udp_pid=$!
sleep 0.5
reloads=0 grown=
for i in 1 2; do
	cp "$tmp/bulk.conf" "$tmp/sgfw.conf"
	ctl reload >/dev/null && reloads=$((reloads + 1))
	[ -z "$grown" ] && grown=$(web1_rules)
	sleep 1
	cp "$tmp/saved.conf" "$tmp/sgfw.conf"
	ctl reload >/dev/null && reloads=$((reloads + 1))
	sleep 1
done
wait "$udp_pid"
sg_expect_eq "the 100-rule reload is in force while it runs" $((rules_before + 100)) "$grown"
sg_expect_eq "four reloads (100 rules in, 100 out) are applied" 4 "$reloads"
sg_expect_eq "the four reloads during 1,500 UDP round trips lose none" "sent 1500 received 1500" \
	"$(cat "$tmp/udp-reload.log")"
sg_expect_eq "the policy is the saved one again" "$rules_before" "$(web1_rules)"
# Changed lists were live at once, scanned linearly; their contexts follow in the background.
for i in $(seq 100); do
	[ "$(ctl --json status | sg_json classifier_lists_linear)" = 0 ] && break
	sleep 0.1
done
sg_expect_eq "every changed list has its rte_acl context again (none failed)" "0 0" \
	"$(ctl --json status | python3 -c 'import json,sys; s = json.load(sys.stdin); print(s["classifier_lists_linear"], s["classifier_builds_failed"])')"
sg_finish
