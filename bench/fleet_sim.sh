#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Write-to-enforcement time at fleet scale (docs/cluster.md): one etcd on 127.0.0.1 (its own
# data directory and port, killed on exit), a generated fleet of PORTS ports on HOSTS hosts in
# GROUPS groups imported with sgfwctl --etcd cluster import, then build/bench/fleet_sim with
# each NODES count: watchers only, and watchers that build their host's config from every
# batch (--build). Every simulated node shares this machine's cores, so the --build figures are
# what one machine's CPU gives to all of them at once, not one node's own latency.
#
# Usage: bench/fleet_sim.sh [--build-dir DIR] [--writes N] [--ports P] [--groups G] [--hosts H]
#                           [--nodes "100 1000"]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build writes=50 ports=2000 groups=200 hosts=1000 nodes="100 1000"
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift 2 ;;
	--writes) writes=$2; shift 2 ;;
	--ports) ports=$2; shift 2 ;;
	--groups) groups=$2; shift 2 ;;
	--hosts) hosts=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	*) echo "usage: $0 [--build-dir DIR] [--writes N] [--ports P] [--groups G] [--hosts H] [--nodes LIST]" >&2; exit 2 ;;
	esac
done
sim=$build/bench/fleet_sim
ctl=$build/app/sgfwctl/sgfwctl
[ -x "$sim" ] && [ -x "$ctl" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
command -v etcd >/dev/null || { echo "needs etcd (Debian's etcd-server)" >&2; exit 1; }

tmp=$(mktemp -d)
etcd_pid=
cleanup() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
peer=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep=http://127.0.0.1:$port
# One import is one transaction: room for every key of the fleet.
etcd --name sim --data-dir "$tmp/etcd" --listen-client-urls "$ep" --advertise-client-urls "$ep" \
	--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	--initial-cluster "sim=http://127.0.0.1:$peer" --max-txn-ops 1000000 \
	--max-request-bytes 268435456 >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do curl -sf "$ep/health" >/dev/null && break; sleep 0.1; done

python3 - "$ports" "$groups" "$hosts" >"$tmp/fleet.conf" <<'PY'
import sys
ports, groups, hosts = (int(a) for a in sys.argv[1:4])
print('host = "hv0";')
print("hosts = (" + ",\n".join('{ name = "hv%d"; vtep = "192.168.%d.%d"; }' % (h, h // 250, h % 250 + 1)
                               for h in range(hosts)) + ");")
print('subnets = ( { cidr = "10.0.0.0/8"; gateway = "10.0.0.1"; vni = 100; } );')
print("security_groups = (" + ",\n".join(
    '{ id = "sg-%d"; inner_access_policy = "drop"; rules = ( { direction = "ingress"; priority = 1; '
    'protocol = "tcp"; port_range = "5432/5432"; source_group = "sg-%d"; } ); }' % (g, (g + 1) % groups)
    for g in range(groups)) + ");")
print("ports = (" + ",\n".join(
    '{ name = "vm%d"; host = "hv%d"; type = "null"; mac = "52:54:%02x:%02x:%02x:%02x"; '
    'ips = ["10.%d.%d.%d"]; security_groups = ["sg-%d"]; }'
    % (p, p % hosts, (p >> 24) & 255, (p >> 16) & 255, (p >> 8) & 255, p & 255,
       ((p + 2) >> 16) & 255, ((p + 2) >> 8) & 255, (p + 2) & 255, p % groups)
    for p in range(ports)) +
    ',\n{ name = "up"; role = "uplink"; type = "null"; peer_mac = "02:00:00:00:00:fe"; } );')
PY
"$ctl" --etcd "$ep" cluster import "$tmp/fleet.conf"
echo "fleet: $ports ports on $hosts hosts, $groups groups; $writes writes per run"
for n in $nodes; do
	"$sim" "$ep" "$n" "$writes"
	"$sim" "$ep" "$n" "$writes" --build
done
