#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end, fragments (D12): a client VM and a server VM in two subnets (routed by sgfw on
# af_packet ports); the server echoes UDP on 7000 (allowed) and 7001 (denied).
#  - IPv6: a 4000-byte datagram over MTU 1500 leaves the client as three fragments; sgfw
#    classifies the first and gives the others its verdict, so the echo (fragmented again)
#    comes back whole from 7000 and nothing comes back from 7001.
#  - IPv4: DPDK's af_packet driver asks the kernel to reassemble IPv4 fragments before sgfw
#    sees them (PACKET_FANOUT_FLAG_DEFRAG), so a datagram must fit one af_packet frame once
#    reassembled: 1600 bytes, fragmented by a 1280-byte route MTU on both VMs (their links
#    carry 9000), arrive at sgfw whole and are classified whole.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

sg_netns_test_begin

sg_vm_add cli 52:54:00:02:00:0b 10.2.0.11/24 10.2.0.1 fd00:2::11/64 fd00:2::1 &&
	sg_vm_add srv 52:54:00:01:00:0b 10.1.0.11/24 10.1.0.1 fd00:1::11/64 fd00:1::1 ||
	{ sg_fail "namespaces are created"; sg_finish; exit 1; }
# Links that carry 9000 bytes, IPv4 routes that fragment at 1280 (see the header).
for vm in cli srv; do
	ip link set "$(sg_vm_if "$vm")" mtu 9000
	sg_in "$vm" ip link set eth0 mtu 9000
done
sg_in cli ip route replace 10.1.0.0/24 via 10.2.0.1 mtu lock 1280
sg_in srv ip route replace 10.2.0.0/24 via 10.1.0.1 mtu lock 1280
sg_in cli ip -6 route replace fd00:1::/64 via fd00:2::1 mtu 1500
sg_in srv ip -6 route replace fd00:2::/64 via fd00:1::1 mtu 1500

cat >"$tmp/sgfw.conf" <<CONF
security_groups = (
  { id = "sg-srv"; rules = (
      { direction = "ingress"; protocol = "udp"; port_range = "7000/7000"; source_cidr = "10.2.0.0/24"; },
      { direction = "ingress"; protocol = "udp"; port_range = "7000/7000"; source_cidr = "fd00:2::/64"; }
  ); },
  { id = "sg-cli"; rules = (); }
);
subnets = (
  { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; }, { cidr = "10.2.0.0/24"; gateway = "10.2.0.1"; },
  { cidr = "fd00:1::/64"; gateway = "fd00:1::1"; }, { cidr = "fd00:2::/64"; gateway = "fd00:2::1"; }
);
ports = (
  { name = "cli"; type = "af_packet"; iface = "$(sg_vm_if cli)"; mac = "52:54:00:02:00:0b";
    ips = ["10.2.0.11", "fd00:2::11"]; security_groups = ["sg-cli"]; },
  { name = "srv"; type = "af_packet"; iface = "$(sg_vm_if srv)"; mac = "52:54:00:01:00:0b";
    ips = ["10.1.0.11", "fd00:1::11"]; security_groups = ["sg-srv"]; }
);
dataplane = { workers = 1; mbufs = 8191; file_prefix = "sgfw-frag$SG_NS_ID"; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
SG_LAB_SOCKET=$tmp/sgfw.sock
"$SGFW" -c "$tmp/sgfw.conf" >"$tmp/sgfw.log" 2>&1 &
SG_LAB_PID=$!
sg_track_pid "$SG_LAB_PID"
if ! sg_lab_wait; then
	cat "$tmp/sgfw.log" >&2
	sg_fail "sgfw starts"
	sg_finish
	exit 1
fi
sg_pass "sgfw starts"
sg_in_bg srv python3 "$here/udp_echo.py" serve 7000 7001 >/dev/null
for i in $(seq 100); do
	sg_in srv ss -Hlun "sport = :7001" | grep -q . && break
	sleep 0.1
done

echo6() { sg_in cli python3 "$here/udp_echo.py" send fd00:1::11 "$1" 4000; }
echo4() { sg_in cli python3 "$here/udp_echo.py" send 10.1.0.11 "$1" 1600; }

sg_expect_eq "IPv6: a fragmented 4000-byte datagram to an allowed port comes back whole" \
	"4000 ok" "$(echo6 7000)"
sg_expect_eq "IPv6: to a denied port nothing comes back" "timeout" "$(echo6 7001)"
sg_expect_eq "IPv4: a fragmented 1600-byte datagram to an allowed port comes back whole" \
	"1600 ok" "$(echo4 7000)"
sg_expect_eq "IPv4: to a denied port nothing comes back" "timeout" "$(echo4 7001)"

stats=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats)
# Denied: the three IPv6 fragments (each with the datagram's reason) and the IPv4 datagram.
sg_expect_eq "cli's denied datagrams: 3 IPv6 fragments + 1 IPv4 datagram dropped by the ACL" \
	4 "$(echo "$stats" | sg_json ports.cli.drop_reasons.acl_ingress)"
sg_expect_eq "each allowed datagram was classified once (IPv6)" 1 \
	"$(echo "$stats" | sg_json 'rule_hits.sg-srv rule 2')"
sg_expect_eq "each allowed datagram was classified once (IPv4)" 1 \
	"$(echo "$stats" | sg_json 'rule_hits.sg-srv rule 1')"
for port in cli srv; do
	reasons=$(echo "$stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)["ports"][sys.argv[1]]["drop_reasons"]
print(" ".join(k for k in sorted(d) if k.startswith("frag") or k.startswith("ip_")) or "none")
' "$port")
	sg_expect_eq "no fragment was refused on $port" none "$reasons"
done
sg_finish
