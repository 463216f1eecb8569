#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two sgfw nodes joined by a VXLAN overlay (docs/architecture.md, "The VXLAN overlay"). Node A
# (host hv-a, VTEP 192.168.50.1) runs VMs a1 (10.1.0.11, sg-db) and aw (10.2.0.11, sg-web);
# node B (hv-b, 192.168.50.2) runs b1 (10.1.0.21, sg-db) and bw (10.2.0.21, sg-web). Each
# node's config holds the whole fleet; the two uplinks are joined by a Linux bridge in an
# "underlay" namespace. Real clients: cross-host connections allowed by group rules whose peer
# is on the other host work both ways, inside a subnet and routed; denied ones reach nothing
# at the victim (a sniffer there); an attacker on the underlay sends VXLAN from an unknown
# VTEP and from a known one with a spoofed inner source: the victim receives nothing and the
# drop reasons count exactly what was sent. Then a hostile VM on A (aw) sends whole VXLAN frames
# inside UDP to B's VTEP, to A's and to the victim itself, and one with A's VTEP as its outer
# source: sniffers on b1 and bw see none of their inner packets while aw's own connection to b1
# gets through in the same window. Both nodes sleep when idle (sleep_max_us).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin
UL=$(sg_ns ul)
A_MAC=02:00:00:00:50:01
B_MAC=02:00:00:00:50:02
COPIES=20

ctl_a() { "$SGFWCTL" -s "$tmp/A/sgfw.sock" "$@"; }
ctl_b() { "$SGFWCTL" -s "$tmp/B/sgfw.sock" "$@"; }
# stat NODE KEY: a counter of node A or B's JSON stats, by dotted path (0 when absent).
stat() {
	"$SGFWCTL" -s "$tmp/$1/sgfw.sock" --json stats | python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value.get(key, 0) if isinstance(value, dict) else 0
print(value)
' "$2"
}

# The VMs (af_packet veths) and the underlay: a bridge joining both uplinks, in its namespace.
sg_vm_add a1 52:54:00:0a:00:0b 10.1.0.11/24 10.1.0.1 &&
	sg_vm_add aw 52:54:00:0a:00:0c 10.2.0.11/24 10.2.0.1 &&
	sg_vm_add b1 52:54:00:0b:00:15 10.1.0.21/24 10.1.0.1 &&
	sg_vm_add bw 52:54:00:0b:00:16 10.2.0.21/24 10.2.0.1 ||
	{ sg_fail "the VM namespaces are made"; sg_finish; exit 1; }
UP_A="${SG_IF_PREFIX}ua"
UP_B="${SG_IF_PREFIX}ub"
ip netns add "$UL" && SG_NS_LIST+=("$UL") &&
	ip link add "$UP_A" type veth peer name pa netns "$UL" && SG_IF_LIST+=("$UP_A") &&
	ip link add "$UP_B" type veth peer name pb netns "$UL" && SG_IF_LIST+=("$UP_B") ||
	{ sg_fail "the underlay is made"; sg_finish; exit 1; }
for up in "$UP_A" "$UP_B"; do
	sysctl -qw "net.ipv6.conf.$up.disable_ipv6=1" || true
	ip link set "$up" up
done
ip netns exec "$UL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$UL" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$UL" ip link add br0 type bridge
for dev in pa pb; do
	ip netns exec "$UL" ip link set "$dev" master br0
	ip netns exec "$UL" ip link set "$dev" up
done
ip netns exec "$UL" ip link set br0 up
ip netns exec "$UL" ip link set lo up

# config NODE HOST UPLINK: one node's view of the fleet; its own VMs local, the others remote.
config() {
	local node=$1 host=$2 uplink=$3 a_host=hv-a b_host=hv-b
	mkdir -p "$tmp/$node"
	cat >"$tmp/$node/sgfw.conf" <<CONF
host = "$host";
hosts = ( { name = "hv-a"; vtep = "192.168.50.1"; mac = "$A_MAC"; },
          { name = "hv-b"; vtep = "192.168.50.2"; mac = "$B_MAC"; } );
overlay = { mtu = 1500; };
security_groups = (
  { id = "sg-db"; inner_access_policy = "drop"; rules = (
      { direction = "ingress"; protocol = "tcp"; port_range = "5432/5432"; source_group = "sg-web"; },
      { direction = "ingress"; protocol = "tcp"; port_range = "2379/2379"; source_group = "sg-db"; } ); },
  { id = "sg-web"; inner_access_policy = "drop"; rules = (
      { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_group = "sg-db"; } ); }
);
subnets = ( { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; vni = 101; },
            { cidr = "10.2.0.0/24"; gateway = "10.2.0.1"; vni = 102; } );
ports = (
  { name = "up0"; role = "uplink"; type = "af_packet"; iface = "$uplink"; peer_mac = "02:00:00:00:99:01"; },
  { name = "a1"; host = "$a_host"; type = "af_packet"; iface = "$(sg_vm_if a1)"; mac = "52:54:00:0a:00:0b";
    ips = ["10.1.0.11"]; security_groups = ["sg-db"]; },
  { name = "aw"; host = "$a_host"; type = "af_packet"; iface = "$(sg_vm_if aw)"; mac = "52:54:00:0a:00:0c";
    ips = ["10.2.0.11"]; security_groups = ["sg-web"]; },
  { name = "b1"; host = "$b_host"; type = "af_packet"; iface = "$(sg_vm_if b1)"; mac = "52:54:00:0b:00:15";
    ips = ["10.1.0.21"]; security_groups = ["sg-db"]; },
  { name = "bw"; host = "$b_host"; type = "af_packet"; iface = "$(sg_vm_if bw)"; mac = "52:54:00:0b:00:16";
    ips = ["10.2.0.21"]; security_groups = ["sg-web"]; }
);
dataplane = { workers = 1; mbufs = 4095; file_prefix = "sgfw-ov$node$SG_NS_ID"; sleep_max_us = 1000; };
conntrack = { capacity = 16384; };
control = { socket = "$tmp/$node/sgfw.sock"; };
CONF
}

start() {
	local node=$1 pid
	"$SGFW" -c "$tmp/$node/sgfw.conf" >>"$tmp/$node/sgfw.log" 2>&1 &
	pid=$!
	sg_track_pid "$pid"
	eval "PID_$node=$pid"
	if ! sg_wait_up "$tmp/$node/sgfw.sock" "$pid"; then
		echo "sgfw $node did not come up; its log:" >&2
		cat "$tmp/$node/sgfw.log" >&2
		return 1
	fi
}

config A hv-a "$UP_A"
config B hv-b "$UP_B"
start A && start B || { sg_fail "both nodes start"; sg_finish; exit 1; }
sg_pass "two nodes run one fleet config each"

for vm in a1 aw b1 bw; do
	sg_in_bg "$vm" python3 "$here/echo_server.py" 5432 2379 80 22 >/dev/null
done
for vm in a1 aw b1 bw; do
	for port in 5432 2379 80 22; do
		for _ in $(seq 100); do
			sg_in "$vm" ss -Hltn "sport = :$port" | grep -q . && break
			sleep 0.1
		done
	done
done

tcp() { printf ping | sg_in "$1" timeout 10 nc -N -w 3 "$2" "$3" 2>/dev/null; }
allowed() { sg_expect_eq "$1" "ECHO:ping" "$(tcp "$2" "$3" "$4")"; }
denied() { sg_expect_eq "$1" "" "$(tcp "$2" "$3" "$4")"; }

# Inside one subnet, across hosts: sg-db members reach each other on 2379 (the peer of the
# rule is on the other host), both ways; nothing else.
allowed "a1 (hv-a) -> b1 (hv-b):2379, same subnet, source_group peer remote" a1 10.1.0.21 2379
allowed "b1 (hv-b) -> a1 (hv-a):2379, the other way" b1 10.1.0.11 2379
denied "a1 -> b1:22 is denied (no rule)" a1 10.1.0.21 22
# Routed between subnets, across hosts: sg-web reaches sg-db on 5432, sg-db reaches sg-web on 80.
allowed "aw (10.2, hv-a) -> b1 (10.1, hv-b):5432, routed" aw 10.1.0.21 5432
allowed "bw (10.2, hv-b) -> a1 (10.1, hv-a):5432, routed" bw 10.1.0.11 5432
allowed "b1 (hv-b) -> aw (hv-a):80, routed" b1 10.2.0.11 80
denied "bw -> a1:2379 is denied (bw is not in sg-db)" bw 10.1.0.11 2379
denied "aw -> bw:80 is denied (sg-web's inner access is drop)" aw 10.2.0.21 80
# MTU: a1 and b1 send 1500-byte TCP segments, 50 bytes too many for the overlay; each node
# answers with ICMP "fragmentation needed" (MTU 1450), the kernels adapt, and 20 kB go through
# both ways.
big=$(head -c 20000 /dev/zero | tr '\0' x)
got=$(printf '%s' "$big" | sg_in a1 timeout 20 nc -N -w 5 10.1.0.21 2379 2>/dev/null | wc -c)
sg_expect_eq "20 kB a1 -> b1:2379 and back through the overlay (path MTU discovery)" 20005 "$got"
sg_expect_contains "a1's kernel learnt the overlay's MTU from sgfw's ICMP" "mtu 1450" \
	"$(sg_in a1 ip route get 10.1.0.21)"
sg_expect_eq "node A counted the too-big segments and answered them" 1 \
	"$([ "$(stat A ports.a1.drop_reasons.overlay_too_big)" -ge 1 ] &&
		[ "$(stat A ports.a1.replies)" -ge 1 ] && echo 1)"
sg_expect_eq "node A encapsulated" 1 "$([ "$(stat A ports.up0.vxlan_encap)" -gt 0 ] && echo 1)"
sg_expect_eq "node B decapsulated" 1 "$([ "$(stat B ports.up0.vxlan_decap)" -gt 0 ] && echo 1)"

# What the victim a1 receives while it is attacked: a sniffer on its interface.
sg_in_bg a1 python3 "$here/sniff.py" eth0 "$tmp/sniff.json" "$tmp/sniff.stop"
for _ in $(seq 100); do [ -e "$tmp/sniff.json.ready" ] && break; sleep 0.1; done
# Denied UDP with a marker, from the other host, same subnet and routed.
for vm in b1 bw; do
	sg_in "$vm" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    s.sendto(b"SGFW-DENIED-UDP", ("10.1.0.11", 53))
'
done
u0=$(stat A ports.up0.drop_reasons.vxlan_unknown_vtep)
s0=$(stat A ports.up0.drop_reasons.vxlan_spoofed_source)
d0=$(stat A ports.up0.vxlan_decap)
# An attacker on the underlay (a raw socket on the bridge), to node A's VTEP and MAC: the
# inner SYNs are for a1:2379, which b1 may reach.
send() {
	ip netns exec "$UL" python3 "$here/overlay_send.py" br0 "$A_MAC" 192.168.50.1 192.168.50.2 101 \
		52:54:00:0a:00:0b 10.1.0.11 "$1" "$COPIES"
}
# First what hv-b itself would send (b1 may reach a1:2379): the sniffer sees it arrive.
sg_expect_eq "$COPIES well-formed VXLAN frames sent as hv-b's" "$COPIES" "$(send valid)"
sg_expect_eq "the attacker sent $COPIES VXLAN frames from an unknown VTEP" "$COPIES" "$(send unknown-vtep)"
sg_expect_eq "the attacker sent $COPIES VXLAN frames from hv-b's VTEP, spoofed inner source" \
	"$COPIES" "$(send spoofed-source)"
sleep 1
touch "$tmp/sniff.stop"
for _ in $(seq 100); do [ -s "$tmp/sniff.json" ] && break; sleep 0.1; done
marks=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["marked"])' "$tmp/sniff.json")
echo "a1 received: $(cat "$tmp/sniff.json")"
sg_expect_eq "the victim a1 received hv-b's frames only: no denied UDP, no attacker frame" \
	"{'SGFW-OVERLAY-VALID': $COPIES}" "$marks"
sg_expect_eq "vxlan_unknown_vtep counted every frame from the unknown VTEP" "$COPIES" \
	"$(($(stat A ports.up0.drop_reasons.vxlan_unknown_vtep) - u0))"
sg_expect_eq "vxlan_spoofed_source counted every spoofed inner source" "$COPIES" \
	"$(($(stat A ports.up0.drop_reasons.vxlan_spoofed_source) - s0))"
sg_expect_eq "only hv-b's were decapsulated" "$((d0 + COPIES))" "$(stat A ports.up0.vxlan_decap)"
sg_expect_eq "the denied UDP was refused by a1's ingress rules on A" 1 \
	"$([ "$(stat A ports.up0.drop_reasons.acl_ingress)" -ge 10 ] && echo 1)"

# A hostile VM on node A: aw sends UDP to port 4789 carrying whole VXLAN frames whose inner
# SYNs the groups would let through to b1 (or bw) were they decapsulated. Sniffers on b1 and
# bw judge; the counters of both nodes must count exactly what was sent.
for vm in b1 bw; do
	rm -f "$tmp/vm-$vm.json" "$tmp/vm-$vm.json.ready"
	sg_in_bg "$vm" python3 "$here/sniff.py" eth0 "$tmp/vm-$vm.json" "$tmp/vm.stop"
	for _ in $(seq 100); do [ -e "$tmp/vm-$vm.json.ready" ] && break; sleep 0.1; done
done
# The router's MAC as aw's kernel resolved it (the raw frame below is built by hand).
sg_in aw ping -c 1 -W 1 10.2.0.1 >/dev/null 2>&1
router_mac=$(sg_in aw ip neigh show 10.2.0.1 dev eth0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
vm_send() { sg_in aw python3 "$here/overlay_vm_send.py" "$@"; }
b_vtep0=$(stat B ports.up0.drop_reasons.vxlan_unknown_vtep)
b_spoof0=$(stat B ports.up0.drop_reasons.spoof_uplink)
b_acl0=$(stat B ports.up0.drop_reasons.acl_ingress)
a_under0=$(stat A ports.aw.drop_reasons.underlay_target)
b_decap0=$(stat B ports.up0.vxlan_decap)
a_ip0=$(stat A ports.aw.drop_reasons.spoof_ip)
a_encap0=$(stat A ports.up0.vxlan_encap)
# (a) its own inner source, (b) a1's, (d) bw in another VNI: to B's VTEP. A VM reaches no
# host's VTEP address: A drops them before they leave (and B would drop them as from no VTEP).
sent=0
for case in own spoofed-inner other-vni; do
	sent=$((sent + $(vm_send "$case" 192.168.50.2 "$COPIES" b-vtep)))
done
sg_expect_eq "aw sent $((3 * COPIES)) VXLAN-in-UDP datagrams to B's VTEP" "$((3 * COPIES))" "$sent"
# Its own frame to A's VTEP (dropped at A as well) and to the victim b1 itself (carried as aw's
# UDP to b1, and judged by b1's rules).
sg_expect_eq "aw sent $COPIES to A's VTEP" "$COPIES" "$(vm_send own 192.168.50.1 "$COPIES" a-vtep)"
sg_expect_eq "aw sent $COPIES to b1:4789" "$COPIES" "$(vm_send own 10.1.0.21 "$COPIES" b1)"
# (c) A's VTEP as the outer source, a raw frame to the router: port security on A.
sg_expect_eq "aw sent $COPIES with A's VTEP as the outer source" "$COPIES" \
	"$(vm_send spoofed-vtep 192.168.50.2 "$COPIES" b-vtep eth0 "$router_mac")"
sleep 1
sg_expect_eq "A: underlay_target on aw counted every datagram to B's and A's VTEPs" \
	"$((4 * COPIES))" "$(($(stat A ports.aw.drop_reasons.underlay_target) - a_under0))"
sg_expect_eq "B: no datagram to a VTEP arrived from A (vxlan_unknown_vtep)" \
	0 "$(($(stat B ports.up0.drop_reasons.vxlan_unknown_vtep) - b_vtep0))"
sg_expect_eq "B: no datagram to a VTEP arrived from A (spoof_uplink)" \
	0 "$(($(stat B ports.up0.drop_reasons.spoof_uplink) - b_spoof0))"
sg_expect_eq "B: acl_ingress counted every datagram to b1:4789 (b1 takes no UDP)" "$COPIES" \
	"$(($(stat B ports.up0.drop_reasons.acl_ingress) - b_acl0))"
sg_expect_eq "B decapsulated only the datagrams A carried to b1 as aw's UDP" "$COPIES" \
	"$(($(stat B ports.up0.vxlan_decap) - b_decap0))"
sg_expect_eq "A: spoof_ip on aw counted every frame with A's VTEP as its source" "$COPIES" \
	"$(($(stat A ports.aw.drop_reasons.spoof_ip) - a_ip0))"
sg_expect_eq "A encapsulated only aw's UDP to b1" "$COPIES" \
	"$(($(stat A ports.up0.vxlan_encap) - a_encap0))"
# The same VMs' legitimate overlay traffic, in the same window: aw -> b1:5432 (routed).
sg_expect_eq "aw -> b1:5432 works during the attack (its marker reaches b1)" \
	"ECHO:SGFW-VMVX-LEGIT" "$(printf SGFW-VMVX-LEGIT | sg_in aw timeout 10 nc -N -w 3 10.1.0.21 5432 2>/dev/null)"
touch "$tmp/vm.stop"
for vm in b1 bw; do
	for _ in $(seq 100); do [ -s "$tmp/vm-$vm.json" ] && break; sleep 0.1; done
	echo "$vm received: $(cat "$tmp/vm-$vm.json")"
done
marked() { python3 -c 'import json, sys; print(sorted(json.load(open(sys.argv[1]))["marked"]))' "$1"; }
sg_expect_eq "b1 received aw's connection and none of the inner SYNs" "['SGFW-VMVX-LEGIT']" \
	"$(marked "$tmp/vm-b1.json")"
sg_expect_eq "bw received none of the inner SYNs" "[]" "$(marked "$tmp/vm-bw.json")"

# The connections still work after the attack.
allowed "a1 -> b1:2379 still works" a1 10.1.0.21 2379
sg_stop_pid "$PID_A"
sg_expect_eq "node A exits 0 on SIGTERM" 0 "$?"
sg_stop_pid "$PID_B"
sg_expect_eq "node B exits 0 on SIGTERM" 0 "$?"
sg_finish
