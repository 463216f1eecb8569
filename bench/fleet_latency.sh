#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Write-to-enforcement time on three real nodes (docs/cluster.md): the fleet of
# tests/system/fleet_lab.sh (three host namespaces, each with an etcd member and an sgfw node,
# idle workers sleeping up to 1 ms), a small fleet imported (3 hosts, 30 ports, 10 groups),
# then bench/cluster_latency.py: COUNT writes through etcd's gateway, each timed until every
# node's applied revision has it. Needs root (namespaces). Cleans up whatever ends it.
#
# Usage: bench/fleet_latency.sh [--build-dir DIR] [--count N]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build count=200
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	*) echo "usage: $0 [--build-dir DIR] [--count N]" >&2; exit 2 ;;
	esac
done
export SGFW=$build/app/sgfw/sgfw SGFWCTL=$build/app/sgfwctl/sgfwctl
lab=$root/tests/system
. "$lab/lib.sh"
. "$lab/netns.sh"
. "$lab/fleet_lab.sh"
sg_netns_test_begin "$(command -v etcd >/dev/null || echo "needs etcd (Debian's etcd-server)")"

sg_fleet_fabric 3 || exit 1
for i in 1 2 3; do sg_fleet_etcd_start "$i"; done
sg_fleet_etcd_wait || { echo "etcd did not form a cluster" >&2; exit 1; }
python3 - >"$tmp/fleet.conf" <<'PY'
print('host = "hv1";')
print("hosts = (" + ", ".join('{ name = "hv%d"; vtep = "192.168.77.%d"; }' % (h, h) for h in (1, 2, 3)) + ");")
print('subnets = ( { cidr = "10.1.0.0/16"; gateway = "10.1.0.1"; vni = 101; } );')
print("security_groups = (" + ",\n".join(
    '{ id = "sg-%d"; rules = ( { direction = "ingress"; priority = 1; protocol = "tcp"; '
    'port_range = "5432/5432"; source_group = "sg-%d"; } ); }' % (g, (g + 1) % 10) for g in range(10)) + ");")
print("ports = (" + ",\n".join(
    '{ name = "vm%d"; host = "hv%d"; type = "null"; mac = "52:54:00:00:01:%02x"; ips = ["10.1.1.%d"]; '
    'security_groups = ["sg-%d"]; }' % (p, p % 3 + 1, p, p + 10, p % 10) for p in range(30)) +
    ',\n{ name = "up"; role = "uplink"; type = "null"; peer_mac = "02:00:00:77:00:fe"; } );')
PY
sg_fleet_in 1 "$SGFWCTL" --etcd "$(sg_fleet_endpoints)" cluster import "$tmp/fleet.conf" || exit 1
for i in 1 2 3; do sg_fleet_node_conf "$i"; sg_fleet_node_start "$i" || exit 1; done
sg_fleet_converged 10 "$(sg_fleet_revision)" 1 2 3 || exit 1
echo "3 nodes (1 worker each, sleep_max_us 1000), 3 etcd members, $count writes:"
sg_fleet_in 1 python3 "$root/bench/cluster_latency.py" "http://$SG_FLEET_MGMT.1:2379" \
	"$tmp/node1/sgfw.sock,$tmp/node2/sgfw.sock,$tmp/node3/sgfw.sock" "$count"
