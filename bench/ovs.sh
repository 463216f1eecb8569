# SPDX-License-Identifier: BSD-3-Clause
# Shared by the bench scripts that measure OVS-DPDK (compare.sh, rate.sh): its daemons started by
# hand in a private directory, a bridge of two DPDK ports, and the two flow tables compared with
# sgfw (plain output; a conntrack security group). Sourced after session.sh, not run.
#
# The caller sets: tmp, tag, pids (session.sh); FWD_CPU, the PMD's CPU; OVS_MEM, EAL's -m;
# OVS_MEMPOOL (shared or per-port), OVS_NRXQ (requested receive queues, which size a per-port
# pool), OVS_RXQ_DESC, OVS_MTU (empty: OVS's default).
OVS_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk

# ovs_start DEVARGS0 DEVARGS1: OVS with bridge br0 of p0 (OpenFlow port 1, the uplink's side)
# and p1 (port 2, the VM's side) on those DPDK devices, no flows. Sets VSCTL, APPCTL, OFCTL,
# BR, OVS_PID, OVSDB_PID.
ovs_start() {
	local dir=$tmp/ovs
	rm -rf "$dir"
	mkdir -p "$dir"
	export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
	ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/ovsdb-server.pid" \
		--unixctl="$dir/ovsdb-server.ctl" --log-file="$dir/ovsdb-server.log" -vconsole:off 2>/dev/null &
	pids+=($!)
	OVSDB_PID=$!
	for _ in $(seq 50); do [ -S "$dir/db.sock" ] && break; sleep 0.1; done
	VSCTL=(ovs-vsctl --db="unix:$dir/db.sock")
	"${VSCTL[@]}" --no-wait init
	# --no-huge needs --legacy-mem (Debian's OVS adds --in-memory); one PMD on the forwarding CPU.
	"${VSCTL[@]}" --no-wait set Open_vSwitch . other_config:dpdk-init=true \
		other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=$((1 << FWD_CPU)) \
		"other_config:dpdk-extra=\"--no-huge -m $OVS_MEM --legacy-mem --no-pci --no-telemetry --file-prefix=$tag-ovs\""
	local logopt=()
	if [ "$OVS_MEMPOOL" = per-port ]; then
		"${VSCTL[@]}" --no-wait set Open_vSwitch . other_config:per-port-memory=true
		# The pools' sizes are logged at debug level only.
		logopt=(-vnetdev_dpdk:file:dbg)
	fi
	"$OVS_VSWITCHD" "unix:$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" \
		--unixctl="$dir/ovs-vswitchd.ctl" --log-file="$dir/ovs-vswitchd.log" -vconsole:off \
		"${logopt[@]}" >/dev/null 2>&1 &
	pids+=($!)
	OVS_PID=$!
	APPCTL=(ovs-appctl --target="$dir/ovs-vswitchd.ctl")
	for _ in $(seq 100); do [ -S "$dir/ovs-vswitchd.ctl" ] && break; sleep 0.1; done
	"${VSCTL[@]}" add-br br0 -- set bridge br0 datapath_type=netdev
	local rxqopt=()
	[ "$OVS_MEMPOOL" = per-port ] && rxqopt=("options:n_rxq=$OVS_NRXQ")
	[ -n "$OVS_MTU" ] && rxqopt+=("mtu_request=$OVS_MTU")
	"${VSCTL[@]}" add-port br0 p0 -- set Interface p0 type=dpdk ofport_request=1 \
		"options:dpdk-devargs=\"$1\"" options:n_rxq_desc=$OVS_RXQ_DESC "${rxqopt[@]}"
	"${VSCTL[@]}" add-port br0 p1 -- set Interface p1 type=dpdk ofport_request=2 \
		"options:dpdk-devargs=\"$2\"" options:n_rxq_desc=$OVS_RXQ_DESC "${rxqopt[@]}"
	# ovs-vsctl reports a port that failed to start but exits 0: a pcap that did not fit its
	# pool would leave the run measuring one port.
	local p err
	for p in p0 p1; do
		err=$("${VSCTL[@]}" get Interface "$p" error 2>&1 || true)
		if [ -n "$err" ] && [ "$err" != "[]" ]; then
			echo "ovs: port $p: $err" >&2
			grep -iE 'mempool|mbuf|pcap|memif|error' "$dir/ovs-vswitchd.log" | tail -20 >&2
			return 1
		fi
	done
	OFCTL=(ovs-ofctl -O OpenFlow13)
	BR=unix:$dir/br0.mgmt
	"${OFCTL[@]}" del-flows "$BR"
}

# Plain forwarding between the two ports.
ovs_flows_plain() {
	"${OFCTL[@]}" add-flow "$BR" "table=0,in_port=1,actions=output:2"
	"${OFCTL[@]}" add-flow "$BR" "table=0,in_port=2,actions=output:1"
}

# A security group: new connections from the clients (198.18.0.0/16, 2001:db8:18::/48; the
# denied ones come from 198.19.0.0/16) to the VM and from the VM are committed; established and
# related pass; the rest is dropped.
ovs_flows_ct() {
	"${OFCTL[@]}" add-flows "$BR" - <<FLOWS
table=0,priority=100,ip,actions=ct(table=1,zone=1)
table=0,priority=100,ipv6,actions=ct(table=1,zone=1)
table=0,priority=0,actions=drop
table=1,priority=200,ct_state=+trk+est-rel-inv,in_port=1,actions=output:2
table=1,priority=200,ct_state=+trk+est-rel-inv,in_port=2,actions=output:1
table=1,priority=200,ct_state=+trk+rel-inv,in_port=1,actions=output:2
table=1,priority=200,ct_state=+trk+rel-inv,in_port=2,actions=output:1
table=1,priority=100,ct_state=+trk+new-inv,ip,in_port=1,nw_src=198.18.0.0/16,actions=ct(commit,zone=1),output:2
table=1,priority=100,ct_state=+trk+new-inv,ipv6,in_port=1,ipv6_src=2001:db8:18::/48,actions=ct(commit,zone=1),output:2
table=1,priority=100,ct_state=+trk+new-inv,ip,in_port=2,actions=ct(commit,zone=1),output:1
table=1,priority=100,ct_state=+trk+new-inv,ipv6,in_port=2,actions=ct(commit,zone=1),output:1
table=1,priority=0,actions=drop
FLOWS
}

# Both daemons: the next ovs_start makes a fresh database.
ovs_stop() {
	local pid
	for pid in "$OVS_PID" "$OVSDB_PID"; do
		kill -TERM "$pid" 2>/dev/null || true
		timeout 20 tail --pid="$pid" -f /dev/null || true
	done
}
