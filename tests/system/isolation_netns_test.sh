#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Paths around the security groups (docs/security.md, "Paths around the groups"), each tried
# as an attacker would and judged by what the victims' namespaces capture (sniff.py, promiscuous)
# and by the drop reason counted, next to the legitimate traffic it imitates.
#
# The seed lab plus "ext", a host behind an uplink port. web2 is the hostile VM: its own group
# (sg-web2) refuses its egress to the database subnet. It tries to reach db1 through db1's and
# web1's MACs with destinations its egress allows, to learn other subnets' MACs by ARP and ND,
# to use 0.0.0.0, ::, link-local addresses, VLAN tags and other ethertypes, and to act as a
# router (redirects). ext tries sources that belong to the switch's VMs and subnets, tags, a
# VM's MAC, and floods spoofed RST, FIN, data and ICMP errors at web1's connection to db1, whose
# tracked state, counters and timeout must not move. Legitimate flows (web1 -> db1, ext <->
# web1, web2 -> ext, DHCP discovery) work before, during and after.
#
# Allowed prefixes: db1 owns 10.1.0.128/26 and fd00:1::1:0/112 in its subnets and uses
# 10.1.0.130 and fd00:1::1:5 from them as secondary addresses; web1 owns 192.168.50.0/24, a
# network outside every subnet (routed behind it), and uses 192.168.50.1. web1 reaches db1's
# secondary addresses (routed), db2 reaches 10.1.0.130 by MAC inside the subnet after asking
# for it by ARP, db1 reaches db2 from 10.1.0.130 (db2's group peer holds db1's prefix), ext
# reaches 192.168.50.1 through the uplink; web2 is still refused for them, cannot send from
# them, reach them by MAC or learn their MACs, and ext cannot use them as sources.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

SG_LAB_UPLINK=1
SG_LAB_WEB2_GROUPS=sg-web2
SG_LAB_GROUPS=$tmp/groups.conf
cat >"$SG_LAB_GROUPS" <<'GROUPS'
# The seed's database group, whose members also take 5432 from each other (a group peer, which
# holds the members' allowed prefixes); the web group takes TCP 80 from outside; web2's own
# group refuses its egress to the database subnet (the address-based path web2 will look around).
security_groups = (
  { id = "sg-db"; inner_access_policy = "drop"; tags = ["cluster:PostgreSQL"]; rules = (
      { direction = "ingress"; protocol = "tcp"; port_range = "5432/5432"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "tcp"; port_range = "5432/5432"; source_cidr = "fd00:2::/64"; },
      { direction = "ingress"; protocol = "tcp"; port_range = "5432/5432"; source_group = "sg-db"; }
  ); },
  { id = "sg-web"; inner_access_policy = "drop"; rules = (
      { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "203.0.113.0/24"; },
      { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "2001:db8:ff::/64"; }
  ); },
  { id = "sg-web2"; inner_access_policy = "drop"; rules = (
      { direction = "egress"; policy = "drop"; protocol = "all"; dest_cidr = "10.1.0.0/24"; },
      { direction = "egress"; policy = "drop"; protocol = "all"; dest_cidr = "fd00:1::/64"; }
  ); }
);
GROUPS
DB1_PFX=10.1.0.130 DB1_PFX6=fd00:1::1:5 WEB1_ROUTED=192.168.50.1
SG_LAB_FIELDS_db1='allowed_prefixes = ["10.1.0.128/26", "fd00:1::1:0/112"];'
SG_LAB_FIELDS_web1='allowed_prefixes = ["192.168.50.0/24"];'
export SG_LAB_UPLINK SG_LAB_WEB2_GROUPS SG_LAB_GROUPS SG_LAB_FIELDS_db1 SG_LAB_FIELDS_web1

sg_lab_start "$tmp" || { sg_fail "sgfw starts on the seed lab with an uplink"; sg_finish; exit 1; }
sg_pass "sgfw starts on the seed lab with an uplink"
# The VMs use addresses of their prefixes.
sg_in db1 ip addr add "$DB1_PFX/32" dev eth0 &&
	sg_in db1 ip -6 addr add "$DB1_PFX6/128" dev eth0 nodad &&
	sg_in web1 ip addr add "$WEB1_ROUTED/32" dev eth0 ||
	sg_fail "db1 and web1 take addresses of their allowed prefixes"
stats() { "$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats; }

for vm in db1 db2 web1 web2 ext; do
	sg_in_bg "$vm" python3 "$here/echo_server.py" line:5432 line:80 >/dev/null
done
for vm in db1 db2 web1 web2 ext; do
	sg_lab_listen "$vm" 5432 80 || sg_fail "the echo service listens in $vm"
done
# talk FROM ADDR PORT [SRC]: one message over a new TCP connection, echoed ("1 ok") or not.
talk() { sg_in "$1" timeout 10 python3 "$here/tcp_chat.py" talk "$2" "$3" 1 0 ${4:+"$4"} 2>/dev/null; }
legit_flows() { # WHEN
	sg_expect_eq "$1: web1 -> db1:5432" "1 ok" "$(talk web1 10.1.0.11 5432)"
	sg_expect_eq "$1: web1 -> db1:5432 over IPv6" "1 ok" "$(talk web1 fd00:1::11 5432)"
	sg_expect_eq "$1: ext -> web1:80 through the uplink" "1 ok" "$(talk ext 10.2.0.11 80)"
	sg_expect_eq "$1: ext -> web1:80 over IPv6" "1 ok" "$(talk ext fd00:2::11 80)"
	sg_expect_eq "$1: web2 -> ext:80, which its egress allows" "1 ok" "$(talk web2 203.0.113.10 80)"
	sg_expect_eq "$1: web2 -> db1:5432 is refused by web2's egress" "lost at 0" \
		"$(talk web2 10.1.0.11 5432)"
	sg_expect_eq "$1: web1 -> db1's prefix address $DB1_PFX:5432 (routed)" "1 ok" \
		"$(talk web1 "$DB1_PFX" 5432)"
	sg_expect_eq "$1: web1 -> db1's prefix address $DB1_PFX6:5432" "1 ok" \
		"$(talk web1 "$DB1_PFX6" 5432)"
	sg_expect_eq "$1: db2 -> db1's prefix address by MAC, in their subnet" "1 ok" \
		"$(talk db2 "$DB1_PFX" 5432)"
	sg_expect_eq "$1: db1 from its prefix address -> db2 (db2's group peer holds it)" "1 ok" \
		"$(talk db1 10.1.0.12 5432 "$DB1_PFX")"
	sg_expect_eq "$1: ext -> web1's routed network $WEB1_ROUTED:80 through the uplink" "1 ok" \
		"$(talk ext "$WEB1_ROUTED" 80)"
	sg_expect_eq "$1: web2 -> db1's prefix address is refused by web2's egress" "lost at 0" \
		"$(talk web2 "$DB1_PFX" 5432)"
}
legit_flows "before"
sg_expect_contains "db2 learnt db1's MAC for db1's prefix address (answered by ARP)" \
	"52:54:00:01:00:0b" "$(sg_in db2 ip neigh show "$DB1_PFX")"

# The victims and the attacker capture everything they receive from now on.
for vm in db1 db2 web1 web2 ext; do
	sg_in_bg "$vm" python3 "$here/sniff.py" eth0 "$tmp/sniff-$vm.json" "$tmp/stop-sniffing"
done
for vm in db1 db2 web1 web2 ext; do
	for _ in $(seq 100); do [ -f "$tmp/sniff-$vm.json.ready" ] && break; sleep 0.1; done
	[ -f "$tmp/sniff-$vm.json.ready" ] || sg_fail "the sniffer in $vm starts"
done

# web1's idle connection to db1: one message now, the next once the attacks are judged (the
# test says when: a timer would let it go early on a loaded machine and count as the flood).
sg_in_bg web1 python3 "$here/tcp_chat.py" talk 10.1.0.11 5432 2 "file:$tmp/idle.next" >"$tmp/idle.out"
idle_conn() {
	"$SGFWCTL" -s "$SG_LAB_SOCKET" --json ct addr=10.2.0.11 proto=tcp state=ESTABLISHED |
		python3 -c '
import json, sys
conns = [c for c in json.load(sys.stdin)
         if c["dport"] == 5432 and c["src"] == "10.2.0.11" and c["in_port"] == "web1"]
if len(conns) == 1:
    c = conns[0]
    print(c["sport"], c["state"], c["packets_orig"], c["packets_reply"], c["bytes_orig"],
          c["bytes_reply"], c["expires_ms"])
'
}
for _ in $(seq 50); do
	idle_before=$(idle_conn)
	[ -n "$idle_before" ] && break
	sleep 0.1
done
[ -n "$idle_before" ] && sg_pass "web1 holds one idle connection to db1:5432" ||
	sg_fail "web1 holds one idle connection to db1:5432"
vport=$(echo "$idle_before" | cut -d' ' -f1)

lab=$(python3 - "${vport:-40000}" "$DB1_PFX" "$WEB1_ROUTED" <<'PY'
import json, sys
def vm(mac, ip4, ip6, gw4, gw6):
    b = [int(x, 16) for x in mac.split(":")]
    ll6 = "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % (b[0] ^ 2, b[1], b[2], b[3], b[4], b[5])
    return {"mac": mac, "ip4": ip4, "ip6": ip6, "gw4": gw4, "gw6": gw6, "ll6": ll6}
print(json.dumps({
    "vms": {
        "db1": vm("52:54:00:01:00:0b", "10.1.0.11", "fd00:1::11", "10.1.0.1", "fd00:1::1"),
        "db2": vm("52:54:00:01:00:0c", "10.1.0.12", "fd00:1::12", "10.1.0.1", "fd00:1::1"),
        "web1": vm("52:54:00:02:00:0b", "10.2.0.11", "fd00:2::11", "10.2.0.1", "fd00:2::1"),
        "web2": vm("52:54:00:02:00:0c", "10.2.0.12", "fd00:2::12", "10.2.0.1", "fd00:2::1"),
    },
    "ext": {"mac": "52:54:00:ff:00:0a", "ip4": "203.0.113.10", "ip6": "2001:db8:ff::10"},
    "router_mac": "02:53:47:00:00:01",
    "conn": [int(sys.argv[1]), 5432],
    "prefixes": {"db1": sys.argv[2], "web1_routed": sys.argv[3]},
}))
PY
)

COPIES=3
before=$(stats)
sent_web2=()
for group in delivery neighbour unspecified vlan prefixes; do
	sent_web2+=("$(sg_in web2 python3 "$here/attack_send.py" eth0 "$lab" "$group" "$COPIES")")
done
sent_ext=()
sent_ext+=("$(sg_in ext python3 "$here/attack_send.py" eth0 "$lab" uplink "$COPIES")")
sent_ext+=("$(sg_in ext python3 "$here/attack_send.py" eth0 "$lab" conn 5)")
sent_ext+=("$(sg_in ext python3 "$here/attack_send.py" eth0 "$lab" prefixes_uplink "$COPIES")")
sleep 1
after=$(stats)
idle_after=$(idle_conn)

# Every refusal counted under the reason it was built for, on the port it came from, exactly.
python3 - "$before" "$after" "$(printf '%s\n' "${sent_web2[@]}")" \
	"$(printf '%s\n' "${sent_ext[@]}")" <<'PY' >"$tmp/verdicts"
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def expected(lines):
    total = {}
    for line in lines.splitlines():
        for reason, n in json.loads(line).items():
            total[reason] = total.get(reason, 0) + n
    return total
for port, sent in (("web2", expected(sys.argv[3])), ("up0", expected(sys.argv[4]))):
    for reason, want in sorted(sent.items()):
        if reason in ("replies", "absorbed", "forwarded"):
            continue  # judged by what the VMs capture: the kernels add their own
        get = lambda s: s["ports"][port]["drop_reasons"].get(reason, 0)
        got = get(after) - get(before)
        print(("ok" if got == want else "FAIL"), "%s %s: %d dropped of %d sent" % (port, reason, got, want))
PY
while read -r verdict text; do
	if [ "$verdict" = ok ]; then sg_pass "$text"; else sg_fail "$text"; fi
done <"$tmp/verdicts"

# The idle connection: nothing the uplink sent touched it (state, counters; its timeout only
# ran down), and it still carries data.
read -r _ st_b po_b pr_b bo_b br_b exp_b <<<"$idle_before"
read -r _ st_a po_a pr_a bo_a br_a exp_a <<<"${idle_after:-x x x x x x 0}"
sg_expect_eq "the spoofed flood left the connection's state" "$st_b" "$st_a"
sg_expect_eq "... its counters" "$po_b $pr_b $bo_b $br_b" "$po_a $pr_a $bo_a $br_a"
[ "${exp_a:-0}" -lt "${exp_b:-0}" ] && sg_pass "... and did not refresh its timeout ($exp_b -> $exp_a ms)" ||
	sg_fail "... and did not refresh its timeout ($exp_b -> $exp_a ms)"
touch "$tmp/idle.next"
for _ in $(seq 300); do grep -q . "$tmp/idle.out" 2>/dev/null && break; sleep 0.1; done
sg_expect_eq "the idle connection carries data after the flood" "2 ok" "$(cat "$tmp/idle.out")"

# Nothing a VM announced changed a table: web1 resolves its gateway and web2 afresh.
sg_in web1 ip neigh flush dev eth0
legit_flows "after"
sg_in web1 python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("10.2.0.12", 9))'
sleep 0.5
sg_expect_contains "web1's neighbour cache: web2 is web2's MAC" "52:54:00:02:00:0c" \
	"$(sg_in web1 ip neigh show 10.2.0.12)"
sg_expect_contains "web1's neighbour cache: the gateway is the router MAC" "02:53:47:00:00:01" \
	"$(sg_in web1 ip neigh show 10.2.0.1)"

touch "$tmp/stop-sniffing"
for vm in db1 db2 web1 web2 ext; do
	for _ in $(seq 100); do [ -s "$tmp/sniff-$vm.json" ] && break; sleep 0.1; done
done
# What the victims received, and what web2 learnt from the switch's answers.
python3 - "$tmp" "$COPIES" <<'PY' >"$tmp/captures"
import json, sys
tmp, copies = sys.argv[1], int(sys.argv[2])
got = {vm: json.load(open("%s/sniff-%s.json" % (tmp, vm))) for vm in ("db1", "db2", "web1", "web2", "ext")}
def check(ok, text):
    print("ok" if ok else "FAIL", text)
for vm in ("db1", "db2", "web1", "ext"):
    n = got[vm]["marked"].get("SGFW-ATTACK", 0)
    check(n == 0, "%s received %d attack frames" % (vm, n))
n = got["ext"]["marked"].get("SGFW-LEGIT-DHCP", 0)
check(n == copies, "ext received web2's DHCP discovery %d times of %d" % (n, copies))
replies = got["web2"]["arp_replies"]
for ip in ("10.1.0.11", "10.1.0.1", "10.2.0.99", "10.1.0.130", "192.168.50.1"):
    check(not any(r[0] == ip for r in replies), "web2 learnt no MAC for %s by ARP" % ip)
for ip, mac in (("10.2.0.11", "52:54:00:02:00:0b"), ("10.2.0.1", "02:53:47:00:00:01")):
    n = sum(1 for r in replies if r == [ip, mac])
    check(n >= copies, "web2's ARP for %s was answered with %s (%d times)" % (ip, mac, n))
check(all(r[1] != "52:54:00:02:00:0c" or r[0] == "10.2.0.12" for vm in ("db1", "db2", "web1")
          for r in got[vm]["arp_replies"]),
      "no VM received an ARP reply giving web2's MAC for an address not web2's")
adverts = got["web2"]["neighbour_adverts"]
for ip in ("fd00:1::11", "fd00:1::1", "fe80::5054:ff:fe02:b"):
    check(not any(a[0] == ip for a in adverts), "web2 learnt no MAC for %s by ND" % ip)
n = sum(1 for a in adverts if a == ["fd00:2::11", "52:54:00:02:00:0b"])
check(n >= copies, "web2's NS for fd00:2::11 was answered with web1's MAC (%d times)" % n)
PY
while read -r verdict text; do
	if [ "$verdict" = ok ]; then sg_pass "$text"; else sg_fail "$text"; fi
done <"$tmp/captures"

sg_finish
