#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Many hypervisors, one policy (docs/cluster.md): three etcd members and three sgfw nodes, each
# pair in its own host namespace (fleet_lab.sh), the uplinks joined by the underlay bridge,
# VMs on every host. The fleet is written to etcd once (sgfwctl --etcd cluster import); every
# node builds its policy from it and enforces its own ports, with group peers from the whole
# fleet and VXLAN between the hosts. While everything below happens, probers in two hostile VMs
# try flows that must stay denied and the victim's sniffer counts what arrives: nothing may.
#  - cross-host connections allowed and denied per groups and group peers, same subnet and
#    routed;
#  - a rule change written to etcd converges on every node (applied revision), opens exactly
#    its flow, and its removal closes it again;
#  - an etcd member killed: changes still converge; the member restarted rejoins;
#  - a node restarted while cut off from etcd starts from its state file: same verdicts;
#  - a partition: the cut-off node keeps enforcing and says it is disconnected; healed, it
#    converges from the revision it had;
#  - a port moved to another host: served by the new host once it confirms, then dropped by the
#    old one; its connections work from the new host.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/fleet_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

missing=
command -v etcd >/dev/null || missing="needs etcd (Debian's etcd-server)"
command -v etcdctl >/dev/null || missing="needs etcdctl (Debian's etcd-client)"
sg_netns_test_begin "$missing"

# Convergence bound: a write is in force on every connected node within this many seconds.
BOUND=10
ROUTER_MAC=02:53:47:00:00:01

sg_fleet_fabric 3 || { sg_fail "the fabric and three host namespaces are created"; sg_finish; exit 1; }
for i in 1 2 3; do sg_fleet_etcd_start "$i"; done
sg_fleet_etcd_wait && sg_pass "a three-member etcd cluster is up" ||
	{ sg_fail "etcd did not form a cluster"; cat "$tmp"/etcd*/log >&2; sg_finish; exit 1; }
EPS=$(sg_fleet_endpoints)

# VMs: web1 and bad1 on hv1, db2 on hv2 (all in 10.1.0.0/24); web3 and bad3 on hv3 (10.2.0.0/24).
sg_fleet_vm 1 web1 52:54:00:01:00:11 10.1.0.11/24 10.1.0.1 &&
	sg_fleet_vm 1 bad1 52:54:00:01:00:12 10.1.0.12/24 10.1.0.1 &&
	sg_fleet_vm 2 db2 52:54:00:01:00:21 10.1.0.21/24 10.1.0.1 &&
	sg_fleet_vm 3 web3 52:54:00:02:00:31 10.2.0.31/24 10.2.0.1 &&
	sg_fleet_vm 3 bad3 52:54:00:02:00:32 10.2.0.32/24 10.2.0.1 ||
	{ sg_fail "the VMs are created"; sg_finish; exit 1; }

# port NAME HOST MAC IP GROUP: a fleet port entry.
port() {
	printf '  { name = "%s"; host = "%s"; type = "af_packet"; iface = "%s"; mac = "%s";\n' \
		"$1" "$2" "$(sg_fleet_vm_if "$1")" "$3"
	printf '    ips = ["%s"]; security_groups = ["%s"]; }' "$4" "$5"
}
cat >"$tmp/fleet.conf" <<CONF
# The fleet: what every node reads from etcd. The file loads alone (as seen from hv1, with a
# stand-in uplink), which import checks; the uplink and "host" are not written to etcd.
host = "hv1";
hosts = (
  { name = "hv1"; vtep = "192.168.77.1"; mac = "02:00:00:77:00:01"; },
  { name = "hv2"; vtep = "192.168.77.2"; mac = "02:00:00:77:00:02"; },
  { name = "hv3"; vtep = "192.168.77.3"; mac = "02:00:00:77:00:03"; }
);
subnets = (
  { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; vni = 101; },
  { cidr = "10.2.0.0/24"; gateway = "10.2.0.1"; vni = 102; }
);
router = { mac = "$ROUTER_MAC"; };
security_groups = (
  { id = "sg-db"; type = "basic"; inner_access_policy = "drop"; description = "databases";
    rules = (
      { direction = "ingress"; policy = "accept"; priority = 1; protocol = "tcp";
        port_range = "5432/5432"; source_group = "sg-web"; description = "web to PostgreSQL"; }
    ); },
  { id = "sg-web"; type = "basic"; inner_access_policy = "drop"; description = "web"; rules = (); },
  { id = "sg-other"; type = "basic"; inner_access_policy = "drop"; description = "others";
    rules = (); }
);
ports = (
$(port web1 hv1 52:54:00:01:00:11 10.1.0.11 sg-web),
$(port bad1 hv1 52:54:00:01:00:12 10.1.0.12 sg-other),
$(port db2 hv2 52:54:00:01:00:21 10.1.0.21 sg-db),
$(port web3 hv3 52:54:00:02:00:31 10.2.0.31 sg-web),
$(port bad3 hv3 52:54:00:02:00:32 10.2.0.32 sg-other),
  { name = "up"; role = "uplink"; type = "null"; peer_mac = "02:00:00:77:00:fe"; }
);
CONF

ctl_etcd() { ip netns exec "$(sg_fleet_host 1)" "$SGFWCTL" --etcd "$EPS" "$@"; }
out=$(ctl_etcd cluster import "$tmp/fleet.conf" 2>&1)
sg_expect_eq "the fleet is imported into etcd" 0 "$?"
echo "$out"

node_start() { sg_fleet_node_start "$@"; }
node_stop() { sg_fleet_node_stop "$@"; }
ctl() { sg_fleet_ctl "$@"; }
node_field() { sg_fleet_node_field "$@"; }
fleet_revision() { sg_fleet_revision; }
converged() { sg_fleet_converged "$BOUND" "$@"; }
# phase NAME: a timestamped line, so a slow step shows in the log.
phase() { echo "# $(date +%T.%N | cut -c1-12) $*"; }
phase "nodes start"
for i in 1 2 3; do sg_fleet_node_conf "$i"; node_start "$i" || sg_fail "node $i starts"; done
rev=$(fleet_revision)
converged "$rev" 1 2 3 && sg_pass "every node applied the fleet (revision $rev)" ||
	sg_fail "the nodes did not all apply revision $rev within $BOUND s"

# Services: db2 answers on 5432, 2379 and 22, and echoes UDP on 7777; web1 on 80.
sg_in_bg db2 python3 "$here/echo_server.py" 5432 2379 22 udp:7777 >/dev/null
sg_in_bg web1 python3 "$here/echo_server.py" 80 >/dev/null
tcp() { printf ping | sg_in "$1" timeout 10 nc -N -w 3 "$2" "$3" 2>/dev/null; }
allowed() { sg_expect_eq "$1" "ECHO:ping" "$(tcp "$2" "$3" "$4")"; }
denied() { sg_expect_eq "$1" "" "$(tcp "$2" "$3" "$4")"; }
for t in $(seq 100); do sg_in db2 ss -Hltn "sport = :5432" | grep -q . && break; sleep 0.1; done

# The victim's sniffer and the probers of what must stay denied, for the whole test.
sg_in_bg db2 python3 "$here/sniff.py" eth0 "$tmp/db2.sniff" "$tmp/stop"
for t in $(seq 50); do [ -e "$tmp/db2.sniff.ready" ] && break; sleep 0.1; done
sg_in_bg bad1 python3 "$here/deny_probe.py" 10.1.0.21 5432 7777 SGFW-BAD1 "$tmp/stop" "$tmp/bad1.probe"
sg_in_bg bad3 python3 "$here/deny_probe.py" 10.1.0.21 5432 7777 SGFW-BAD3 "$tmp/stop" "$tmp/bad3.probe"

phase "first verdicts"
allowed "web1 (hv1) -> db2 (hv2):5432, same subnet across hosts, by group peer" web1 10.1.0.21 5432
allowed "web3 (hv3) -> db2 (hv2):5432, routed across hosts, by group peer" web3 10.1.0.21 5432
denied "bad1 (hv1, sg-other) -> db2:5432 is denied" bad1 10.1.0.21 5432
denied "web1 -> db2:2379 is denied (no rule)" web1 10.1.0.21 2379
denied "db2 -> web1:80 is denied (sg-web takes nothing inbound)" db2 10.1.0.11 80

phase "rule change"
# A rule change written through sgfwctl --etcd converges on every node and opens exactly its
# flow; removing it closes it again.
ctl_etcd rule add sg-db direction=ingress protocol=tcp port_range=2379/2379 source_group=sg-web \
	priority=1 >/dev/null && sg_pass "a rule is added through etcd" || sg_fail "rule add through etcd"
rev=$(fleet_revision)
converged "$rev" 1 2 3 && sg_pass "the rule change converged on every node (revision $rev)" ||
	sg_fail "the rule change did not converge"
allowed "web1 -> db2:2379 is allowed after the change" web1 10.1.0.21 2379
denied "bad1 -> db2:2379 stays denied" bad1 10.1.0.21 2379
ctl_etcd rule remove sg-db 2 >/dev/null && sg_pass "the rule is removed through etcd" ||
	sg_fail "rule remove through etcd"
rev=$(fleet_revision)
converged "$rev" 1 2 3 || sg_fail "the removal did not converge"
denied "web1 -> db2:2379 is denied again" web1 10.1.0.21 2379

phase "etcd member killed"
# An etcd member killed: a change still reaches every node.
sg_fleet_etcd_stop 3
ctl_etcd rule add sg-db direction=ingress protocol=tcp port_range=22/22 source_group=sg-web \
	priority=1 >/dev/null && sg_pass "a change is written with one member down" ||
	sg_fail "a change with one member down"
rev=$(fleet_revision)
converged "$rev" 1 2 3 && sg_pass "it converged on every node with etcd3 down" ||
	sg_fail "no convergence with etcd3 down"
allowed "web3 -> db2:22 (the new rule) works" web3 10.1.0.21 22
sg_fleet_etcd_start 3
sg_fleet_etcd_wait || sg_fail "etcd3 rejoins"

phase "partition"
# A partition: hv1 is cut off. It keeps enforcing, says so, and converges once healed.
sg_fleet_partition 1
SG_FLEET_CTL_HOST=2
ctl_etcd() { ip netns exec "$(sg_fleet_host 2)" "$SGFWCTL" --etcd "$EPS" "$@"; }
ctl_etcd rule remove sg-db 2 >/dev/null || sg_fail "a change while hv1 is cut off"
rev=$(fleet_revision)
converged "$rev" 2 3 && sg_pass "hv2 and hv3 converge while hv1 is cut off" ||
	sg_fail "hv2/hv3 did not converge during the partition"
state=
for t in $(seq 200); do
	state=$(node_field 1 cluster.connection)
	[ "$state" = disconnected ] && break
	sleep 0.1
done
sg_expect_eq "hv1 says it lost etcd" disconnected "$state"
allowed "web1 -> db2:5432 still works during the partition" web1 10.1.0.21 5432
denied "web3 -> db2:22 is denied by db2's host (in force there)" web3 10.1.0.21 22
phase "hv2 restart"
# hv2 restarted while cut off from etcd too: it starts from its state file.
sg_fleet_partition 2
node_stop 2
node_start 2 && sg_pass "hv2 restarts without etcd" || sg_fail "hv2 restarts without etcd"
sg_expect_eq "hv2 starts from its last applied revision" "$rev" "$(node_field 2 cluster.applied_revision)"
allowed "web1 -> db2:5432 works with hv2 restarted from its state" web1 10.1.0.21 5432
denied "bad1 -> db2:5432 stays denied with hv2 restarted from its state" bad1 10.1.0.21 5432
denied "web3 -> db2:22 stays denied with hv2 restarted from its state" web3 10.1.0.21 22
sg_fleet_heal 1
sg_fleet_heal 2
SG_FLEET_CTL_HOST=1
sg_fleet_etcd_wait || sg_fail "etcd answers from hv1 after healing"
rev=$(fleet_revision)
converged "$rev" 1 2 3 && sg_pass "after healing every node converges (revision $rev)" ||
	sg_fail "no convergence after healing"
sg_expect_eq "hv1 says it is connected again" connected "$(node_field 1 cluster.connection)"

phase "port move"
# A port move: web3 goes from hv3 to hv2 (its interface is moved, its record changed). hv3 keeps
# serving it until hv2 says it applied the move; then only hv2 serves it.
ifname=$(sg_fleet_vm_if web3)
ip -n "$(sg_fleet_host 3)" link set "$ifname" netns "$(sg_fleet_host 2)" &&
	sg_fleet_in 2 ip link set "$ifname" up
ctl_etcd port move web3 hv2 >/dev/null && sg_pass "web3 is moved to hv2 through etcd" ||
	sg_fail "port move web3 hv2 through etcd"
rev=$(fleet_revision)
converged "$rev" 1 2 3 && sg_pass "the move converged" || sg_fail "the move did not converge"
# hv2 applied the move (converged above), so hv3 has its confirmation: web3 is remote there.
where() { ctl "$1" --json port show web3 2>/dev/null | python3 -c \
	'import json, sys; p = json.load(sys.stdin); print(p.get("host"), "remote" if p.get("remote") else "here")'; }
for t in $(seq $((BOUND * 10))); do
	[ "$(where 3)" = "hv2 remote" ] && break
	sleep 0.1
done
sg_expect_eq "hv3 no longer serves web3 (a port of hv2 there)" "hv2 remote" "$(where 3)"
sg_expect_eq "hv2 serves web3" "hv2 here" "$(where 2)"
sg_expect_eq "hv1 sees web3 on hv2" "hv2 remote" "$(where 1)"
allowed "web3 -> db2:5432 works from its new host" web3 10.1.0.21 5432
denied "bad3 -> db2:5432 stays denied" bad3 10.1.0.21 5432

phase "probers stop"
touch "$tmp/stop"
for t in $(seq 50); do
	[ -e "$tmp/bad1.probe" ] && [ -e "$tmp/bad3.probe" ] && [ -e "$tmp/db2.sniff" ] && break
	sleep 0.1
done
for who in bad1 bad3; do
	sg_expect_eq "$who's prober never opened a connection to db2:5432 ($(sg_json attempts <"$tmp/$who.probe") tries)" \
		0 "$(sg_json opened <"$tmp/$who.probe")"
done
marks=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["marked"]; print(m.get("SGFW-BAD1", 0) + m.get("SGFW-BAD3", 0))' "$tmp/db2.sniff")
sg_expect_eq "db2 received none of the probers' datagrams, at any moment" 0 "$marks"
for i in 1 2 3; do node_stop "$i"; done
sg_finish
