# SPDX-License-Identifier: BSD-3-Clause
# A fleet on one machine: three hypervisors, each a network namespace running one etcd member
# and one sgfw node, joined by two bridges in a "fabric" namespace: the management network
# (etcd's client and peer traffic, 10.250.0.0/24) and the underlay (the sgfw uplinks, which
# carry VXLAN between the hosts' VTEPs). VMs are namespaces plugged into their host's namespace
# by a veth pair whose host end is an af_packet port of that host's sgfw. Needs netns.sh; all
# of it is removed by sg_netns_cleanup (namespaces, processes), whatever ends the test.
#
# sg_fleet_fabric N: the fabric and N host namespaces (hv1..hvN), each with its management
#   address 10.250.0.<i>/24 and an uplink veth "ul<i>" on the underlay bridge.
# sg_fleet_etcd_start I / sg_fleet_etcd_stop I: member etcd<i> of the N-member cluster, in hv<i>,
#   client URL http://10.250.0.<i>:2379, data in $tmp/etcd<i>; stop kills it by PID.
# sg_fleet_etcdctl ARGS: etcdctl against every member that may be up.
# sg_fleet_vm HOST NAME MAC IPV4/LEN GW4: a VM namespace plugged into host HOST; its port's
#   interface (in hv<HOST>'s namespace) is printed by sg_fleet_vm_if NAME.
# sg_fleet_node_conf I / sg_fleet_node_start I / sg_fleet_node_stop I: sgfw node hv<i> (in its
#   namespace), its file $tmp/node<i>/sgfw.conf (host, cluster, uplink ul<i>, idle workers),
#   control socket $tmp/node<i>/sgfw.sock; sg_fleet_ctl I ARGS is sgfwctl on it.
# sg_fleet_revision: the revision of the fleet's last change in etcd; sg_fleet_converged BOUND
#   REV I...: wait up to BOUND seconds until every node I has applied REV or later.
# Needs SGFW and SGFWCTL; SG_FLEET_PREFIX is the key prefix (default /sgfw/v1/).

SG_FLEET_MGMT=10.250.0
SG_FLEET_PREFIX=${SG_FLEET_PREFIX:-/sgfw/v1/}
declare -A SG_FLEET_NODE_PID=()
SG_FLEET_N=0
declare -A SG_FLEET_ETCD_PID=()
declare -A SG_FLEET_VM_IF=()
declare -A SG_FLEET_VM_HOST=()

sg_fleet_host() { sg_ns "hv$1"; }
sg_fleet_in() { local h=$1; shift; ip netns exec "$(sg_fleet_host "$h")" "$@"; }

sg_fleet_fabric() {
	local n=$1 i fabric host
	SG_FLEET_N=$n
	fabric=$(sg_ns fabric)
	ip netns add "$fabric" || return 1
	SG_NS_LIST+=("$fabric")
	SG_IF_LIST+=("") # netns.sh pairs the lists: a namespace with no interface of its own
	ip netns exec "$fabric" ip link set lo up
	ip netns exec "$fabric" ip link add brm type bridge
	ip netns exec "$fabric" ip link add bru type bridge
	ip netns exec "$fabric" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$fabric" ip link set brm up
	ip netns exec "$fabric" ip link set bru up
	for i in $(seq "$n"); do
		host=$(sg_fleet_host "$i")
		ip netns add "$host" || return 1
		SG_NS_LIST+=("$host")
		SG_IF_LIST+=("")
		ip netns exec "$host" ip link set lo up
		ip netns exec "$host" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$host" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$host" link add mgmt type veth peer name "m$i" netns "$fabric" || return 1
		ip -n "$host" link add "ul$i" type veth peer name "u$i" netns "$fabric" || return 1
		ip -n "$fabric" link set "m$i" master brm up
		ip -n "$fabric" link set "u$i" master bru up
		ip -n "$host" addr add "$SG_FLEET_MGMT.$i/24" dev mgmt
		ip -n "$host" link set mgmt up
		ip -n "$host" link set "ul$i" up
		ip netns exec "$host" ethtool -K "ul$i" tx off >/dev/null 2>&1 || true
	done
}

# Cut host I off the management network (etcd's members and clients), or join it again.
sg_fleet_partition() { ip -n "$(sg_ns fabric)" link set "m$1" down; }
sg_fleet_heal() { ip -n "$(sg_ns fabric)" link set "m$1" up; }

sg_fleet_endpoints() {
	local i list=
	for i in $(seq "$SG_FLEET_N"); do list+="${list:+,}http://$SG_FLEET_MGMT.$i:2379"; done
	echo "$list"
}

sg_fleet_etcd_start() {
	local i=$1 j cluster=
	for j in $(seq "$SG_FLEET_N"); do
		cluster+="${cluster:+,}etcd$j=http://$SG_FLEET_MGMT.$j:2380"
	done
	mkdir -p "$tmp/etcd$i"
	# A state of "existing" once the member has data: a restarted member rejoins.
	local state=new
	[ -d "$tmp/etcd$i/data/member" ] && state=existing
	ip netns exec "$(sg_fleet_host "$i")" etcd --name "etcd$i" --data-dir "$tmp/etcd$i/data" \
		--listen-client-urls "http://$SG_FLEET_MGMT.$i:2379" \
		--advertise-client-urls "http://$SG_FLEET_MGMT.$i:2379" \
		--listen-peer-urls "http://$SG_FLEET_MGMT.$i:2380" \
		--initial-advertise-peer-urls "http://$SG_FLEET_MGMT.$i:2380" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token "sgfw-fleet-$SG_NS_ID" \
		--heartbeat-interval 50 --election-timeout 500 \
		>>"$tmp/etcd$i/log" 2>&1 &
	SG_FLEET_ETCD_PID[$i]=$!
	sg_track_pid "$!"
}

sg_fleet_etcd_stop() {
	local pid=${SG_FLEET_ETCD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "SG_FLEET_ETCD_PID[$1]"
}

# etcdctl from the fabric's view: host 1's namespace (every member is reachable from there
# unless host 1 is partitioned, which the tests then say).
sg_fleet_etcdctl() {
	ETCDCTL_API=3 ip netns exec "$(sg_fleet_host "${SG_FLEET_CTL_HOST:-1}")" \
		etcdctl --endpoints "$(sg_fleet_endpoints)" --command-timeout 3s "$@"
}

# Wait (up to 30 s) until the cluster has a leader and accepts a linearizable read.
sg_fleet_etcd_wait() {
	local i
	for i in $(seq 150); do
		sg_fleet_etcdctl get --limit 1 /sgfw-lab-probe >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

sg_fleet_vm() {
	local h=$1 name=$2 mac=$3 ip4=$4 gw4=$5 ifname
	sg_vm_add "$name" "$mac" "$ip4" "$gw4" || return 1
	ifname=$(sg_vm_if "$name")
	ip link set "$ifname" netns "$(sg_fleet_host "$h")" || return 1
	sg_fleet_in "$h" ip link set "$ifname" up
	SG_FLEET_VM_IF[$name]=$ifname
	SG_FLEET_VM_HOST[$name]=$h
}

sg_fleet_vm_if() { echo "${SG_FLEET_VM_IF[$1]}"; }

sg_fleet_node_conf() {
	local i=$1 dir=$tmp/node$1 eps
	eps=$(sg_fleet_endpoints | sed 's/[^,]*/"&"/g; s/,/, /g')
	mkdir -p "$dir"
	cat >"$dir/sgfw.conf" <<CONF
# Node hv$i of tests/system/fleet_lab.sh: its own settings; the fleet comes from etcd.
host = "hv$i";
cluster = { endpoints = [$eps]; prefix = "$SG_FLEET_PREFIX"; state_file = "$dir/state.json"; };
ports = ( { name = "up$i"; role = "uplink"; type = "af_packet"; iface = "ul$i";
  peer_mac = "02:00:00:77:00:fe"; } );
dataplane = { workers = 1; mbufs = 4095; file_prefix = "fleet$SG_NS_ID-$i"; sleep_max_us = 1000; };
conntrack = { capacity = 4096; };
control = { socket = "$dir/sgfw.sock"; };
CONF
}

sg_fleet_node_start() {
	local i=$1 dir=$tmp/node$1
	ip netns exec "$(sg_fleet_host "$i")" "$SGFW" -c "$dir/sgfw.conf" >>"$dir/sgfw.log" 2>&1 &
	SG_FLEET_NODE_PID[$i]=$!
	sg_track_pid "$!"
	sg_wait_up "$dir/sgfw.sock" "${SG_FLEET_NODE_PID[$i]}" ||
		{ echo "node $i did not come up:" >&2; tail -20 "$dir/sgfw.log" >&2; return 1; }
}

sg_fleet_node_stop() {
	local pid=${SG_FLEET_NODE_PID[$1]:-}
	[ -n "$pid" ] || return 0
	unset "SG_FLEET_NODE_PID[$1]"
	sg_stop_pid "$pid"
}

sg_fleet_ctl() { local i=$1; shift; "$SGFWCTL" -s "$tmp/node$i/sgfw.sock" "$@"; }

# sg_fleet_node_field I PATH: a field of node I's status, e.g. cluster.applied_revision.
sg_fleet_node_field() { sg_fleet_ctl "$1" --json status 2>/dev/null | sg_json "$2" 2>/dev/null; }

# The highest mod revision of a policy key: the nodes' presence keys move etcd's revision too,
# but are not policy, so a node's applied revision never follows them.
sg_fleet_revision() {
	local rev= t
	# A member that just rejoined may refuse a read for a moment (leader changed): ask again.
	for t in $(seq 50); do
		rev=$(sg_fleet_etcdctl get --write-out json --prefix "$SG_FLEET_PREFIX" 2>/dev/null |
			python3 -c '
import base64, json, sys
kvs = json.load(sys.stdin).get("kvs", [])
print(max(int(kv["mod_revision"]) for kv in kvs
          if not base64.b64decode(kv["key"]).decode().startswith(sys.argv[1] + "nodes/")))
' "$SG_FLEET_PREFIX" 2>/dev/null)
		[ -n "$rev" ] && break
		sleep 0.2
	done
	echo "$rev"
}

sg_fleet_converged() {
	local bound=$1 rev=$2 i t got
	shift 2
	[ -n "$rev" ] || { echo "no fleet revision to wait for (etcd did not answer)" >&2; return 1; }
	for i in "$@"; do
		for t in $(seq $((bound * 10))); do
			got=$(sg_fleet_node_field "$i" cluster.applied_revision)
			[ -n "$got" ] && [ "$got" -ge "$rev" ] && break
			sleep 0.1
		done
		[ -n "$got" ] && [ "$got" -ge "$rev" ] ||
			{ echo "node $i at revision '$got', want $rev" >&2; return 1; }
	done
}
