#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A hostile tenant: the seed scenario in network namespaces (seed_lab.sh), where web2 sends
# malformed frames at every layer and spoofs its neighbours (hostile_send.py, raw AF_PACKET),
# while web1 keeps a TCP connection to db1 busy (tcp_steady.py). Checked:
#  - every hostile frame is dropped and counted under the reason it was built for, exactly
#    (sgfwctl --json stats, web2's drop_reasons), and nothing web2 sent was forwarded;
#  - forged ICMP errors about web1's connection are dropped, while the same error from db1,
#    the connection's peer, passes (so the connection they quote is tracked);
#  - the connection web1 -> db1 carries on throughout, every round trip answered;
#  - no victim's neighbour cache gives web2's MAC to an address web2 does not own.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

sg_lab_start "$tmp" || { sg_fail "sgfw starts on the seed scenario"; sg_finish; exit 1; }
sg_pass "sgfw starts on the seed scenario"
stats() { "$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats; }

ROUTER_MAC=02:53:47:00:00:01
vm_json() { # NAME MAC IP4 IP6 GW4 GW6
	printf '{"mac": "%s", "ip4": "%s", "ip6": "%s", "gw4": "%s", "gw6": "%s"}' "$2" "$3" "$4" "$5" "$6"
}
web1=$(vm_json web1 52:54:00:02:00:0b 10.2.0.11 fd00:2::11 10.2.0.1 fd00:2::1)
web2=$(vm_json web2 52:54:00:02:00:0c 10.2.0.12 fd00:2::12 10.2.0.1 fd00:2::1)
db1=$(vm_json db1 52:54:00:01:00:0b 10.1.0.11 fd00:1::11 10.1.0.1 fd00:1::1)

# The victims' connection, kept busy from now to the end.
sg_in_bg db1 python3 "$here/echo_server.py" line:5432 >/dev/null
sg_lab_listen db1 5432 || sg_fail "the echo service listens in db1"
sg_in_bg web1 python3 "$here/tcp_steady.py" 10.1.0.11 5432 "$tmp/stop" 120 >"$tmp/steady.out"
steady=$!
for _ in $(seq 50); do
	grep -q CONNECTED "$tmp/steady.out" 2>/dev/null && break
	sleep 0.1
done
vport=$(sed -n 's/^CONNECTED //p' "$tmp/steady.out")
[ -n "$vport" ] && sg_pass "web1 holds a TCP connection to db1:5432 (port $vport)" ||
	sg_fail "web1 connects to db1:5432"
# web1 reaches db1 over IPv6 too: both its gateways are now in its neighbour cache, where a
# spoofed answer would land.
sg_expect_eq "web1 reaches db1 over IPv6" x "$(printf x | sg_in web1 timeout 5 nc -N -w 2 fd00:1::11 5432)"

lab_from() { # SELF_JSON
	printf '{"self": %s, "victim": %s, "peer": %s, "router_mac": "%s", "conn": [%s, 5432]}' \
		"$1" "$web1" "$db1" "$ROUTER_MAC" "${vport:-40000}"
}
before=$(stats)
expected=$(sg_in web2 python3 "$here/hostile_send.py" eth0 "$(lab_from "$web2")" malformed spoof)
control=$(sg_in db1 python3 "$here/hostile_send.py" eth0 "$(lab_from "$db1")" related)
sleep 1
after=$(stats)

# Per reason: exactly what was sent for it; and web2's port forwarded nothing.
python3 - "$before" "$after" "$expected" "$control" <<'PY' >"$tmp/verdicts"
import json, sys
before, after, expected, control = (json.loads(a) for a in sys.argv[1:5])
def delta(port, key):
    return after["ports"][port][key] - before["ports"][port][key]
def reason(port, name):
    get = lambda s: s["ports"][port]["drop_reasons"].get(name, 0)
    return get(after) - get(before)
unseen = expected.pop("unseen", 0)
for name, want in sorted(expected.items()):
    got = reason("web2", name)
    print(("ok" if got == want else "FAIL"), "web2 %s: %d dropped of %d sent" % (name, got, want))
sent = sum(expected.values())
print(("ok" if delta("web2", "drops") == sent else "FAIL"),
      "web2: %d drops in all for %d hostile frames (and %d IPv4 fragments the kernel took)"
      % (delta("web2", "drops"), sent, unseen))
forwarded = delta("web2", "rx_packets") - delta("web2", "drops") - delta("web2", "absorbed") \
    - delta("web2", "replies")
print(("ok" if forwarded == 0 else "FAIL"), "web2: %d of its frames forwarded" % forwarded)
print(("ok" if control.get("forwarded") and delta("db1", "drops") == 0 else "FAIL"),
      "db1's own ICMP error about the connection passes (%d drops on db1)" % delta("db1", "drops"))
PY
while read -r verdict text; do
	[ "$verdict" = ok ] && sg_pass "$text" || sg_fail "$text"
done <"$tmp/verdicts"
[ -s "$tmp/verdicts" ] || sg_fail "the counters could be compared (sender said: $expected)"

# Nobody's cache maps an address to web2's MAC unless web2 owns it; gateways keep the router's.
for vm in web1 db1 db2; do
	sg_in "$vm" ip -j neigh show >"$tmp/neigh-$vm.json"
	bad=$(python3 - "$tmp/neigh-$vm.json" <<'PY'
import json, sys
web2_mac, web2_ips = "52:54:00:02:00:0c", {"10.2.0.12", "fd00:2::12", "fe80::5054:ff:fe02:c"}
router, gateways = "02:53:47:00:00:01", {"10.1.0.1", "10.2.0.1", "fd00:1::1", "fd00:2::1"}
for e in json.load(open(sys.argv[1])):
    mac = e.get("lladdr", "")
    if (mac == web2_mac and e["dst"] not in web2_ips) or (e["dst"] in gateways and mac and mac != router):
        print("%s -> %s" % (e["dst"], mac))
PY
)
	sg_expect_eq "$vm's neighbour cache is not poisoned" "" "$bad"
done
gw=$(sg_in web1 ip -j neigh show 10.2.0.1 | sg_json 0.lladdr 2>/dev/null)
sg_expect_eq "web1 still reaches its gateway at the router's MAC" "$ROUTER_MAC" "$gw"
gw6=$(sg_in web1 ip -j -6 neigh show fd00:2::1 | sg_json 0.lladdr 2>/dev/null)
sg_expect_eq "web1's IPv6 gateway is still the router's MAC" "$ROUTER_MAC" "$gw6"

touch "$tmp/stop"
wait "$steady"
status=$?
rounds=$(sed -n 's/^ROUNDS \([0-9]*\).*/\1/p' "$tmp/steady.out")
sg_expect_eq "web1's connection to db1 kept working throughout ($(tail -1 "$tmp/steady.out"))" \
	0 "$status"
[ "${rounds:-0}" -ge 20 ] && sg_pass "it made $rounds round trips during the attack" ||
	sg_fail "too few round trips: ${rounds:-none}"

kill -0 "$SG_LAB_PID" 2>/dev/null && sg_pass "sgfw is still running" || sg_fail "sgfw died"
sg_stop_pid "$SG_LAB_PID"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sg_finish
