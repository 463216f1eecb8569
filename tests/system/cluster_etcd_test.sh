#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One real etcd and one sgfw node on null ports (docs/cluster.md): seeded with sgfwctl cluster
# import, the node syncs; a change through sgfwctl --etcd reaches it; an invalid group written
# with etcdctl is refused naming its key while the previous policy stays; two racing writers
# are redone or refused, nothing lost; a port moved to another host stays served until that
# host confirms; etcd killed: the node keeps enforcing and says disconnected; sgfw restarted
# without etcd starts from its state file with the same verdicts; a change and a compaction
# made while the node could not see etcd: it resynchronises whole and converges.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/etcd_single.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

sg_etcd_test_begin sgfw-cluster
client=$(sg_free_port)
alt=$(sg_free_port)
peer=$(sg_free_port)
dead=http://127.0.0.1:$(sg_free_port) # nothing listens there: the next endpoint is tried
ep=http://127.0.0.1:$client
export ETCDCTL_API=3

# start_etcd PORT: etcd on 127.0.0.1:PORT with the test's data directory, up within 10 s.
start_etcd() {
	etcd --name sgfw-test --data-dir "$tmp/etcd" \
		--listen-client-urls "http://127.0.0.1:$1" --advertise-client-urls "http://127.0.0.1:$1" \
		--listen-peer-urls "http://127.0.0.1:$peer" \
		--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "sgfw-test=http://127.0.0.1:$peer" \
		--max-txn-ops 10000 >>"$tmp/etcd.log" 2>&1 &
	etcd_pid=$!
	for _ in $(seq 100); do
		etcdctl --endpoints "http://127.0.0.1:$1" endpoint health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$tmp/etcd.log" >&2
	return 1
}
stop_etcd() {
	kill -KILL "$etcd_pid" 2>/dev/null
	wait "$etcd_pid" 2>/dev/null
	etcd_pid=
}

ctl_etcd() { "$SGFWCTL" --etcd "$ep" "$@"; }
ctl() { "$SGFWCTL" -s "$tmp/sgfw.sock" "$@"; }
status_field() { ctl --json status 2>/dev/null | sg_json "cluster.$1" 2>/dev/null; }
# wait_for WHAT SECONDS CMD...: poll CMD until it succeeds; a check either way.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for i in $(seq $((secs * 10))); do
		if "$@" >/dev/null 2>&1; then
			sg_pass "$what"
			return 0
		fi
		sleep 0.1
	done
	sg_fail "$what (not within $secs s)"
	return 1
}
field_is() { [ "$(status_field "$1")" = "$2" ]; }
accepts() { ctl explain vm2 ingress tcp 10.0.0.99:1000 "10.0.0.12:$1" >/dev/null; }
drops() { ctl explain vm2 ingress tcp 10.0.0.99:1000 "10.0.0.12:$1" >/dev/null; [ $? -eq 3 ]; }

start_etcd "$client" || { sg_fail "etcd did not start"; sg_finish; exit 1; }

cat >"$tmp/fleet.conf" <<CONF
host = "hv1";
hosts = ( { name = "hv1"; vtep = "192.168.50.1"; }, { name = "hv2"; vtep = "192.168.50.2"; } );
security_groups = (
  { id = "sg-web"; rules = ( { direction = "ingress"; protocol = "tcp"; port_range = "80/80"; source_cidr = "0.0.0.0/0"; } ); },
  { id = "sg-db"; rules = ( { direction = "ingress"; protocol = "tcp"; port_range = "5432/5432"; source_group = "sg-web"; } ); }
);
subnets = ( { cidr = "10.0.0.0/24"; gateway = "10.0.0.1"; vni = 100; } );
ports = (
  { name = "up"; type = "null"; role = "uplink"; peer_mac = "02:00:00:00:00:fe"; },
  { name = "vm1"; host = "hv1"; type = "null"; mac = "52:54:00:00:00:01"; ips = ["10.0.0.11"]; security_groups = ["sg-web"]; },
  { name = "vm2"; host = "hv1"; type = "null"; mac = "52:54:00:00:00:02"; ips = ["10.0.0.12"]; security_groups = ["sg-db"]; },
  { name = "vm3"; host = "hv2"; type = "null"; mac = "52:54:00:00:00:03"; ips = ["10.0.0.13"]; security_groups = ["sg-web"]; }
);
CONF
out=$("$SGFWCTL" --etcd "$dead,$ep" cluster import "$tmp/fleet.conf")
sg_expect_eq "cluster import exits 0" 0 "$?"
sg_expect_contains "cluster import: 10 keys in the fleet" "10 in the fleet" "$out"
sg_expect_eq "the fleet is keys in etcd" '{"name":"hv2","vtep":"192.168.50.2"}' \
	"$(etcdctl --endpoints "$ep" get --print-value-only /sgfw/v1/hosts/hv2)"

cat >"$tmp/node.conf" <<CONF
host = "hv1";
cluster = { endpoints = ["$dead", "$ep"]; state_file = "$tmp/state.json"; timeout_ms = 1000; lease_ttl = 4; };
ports = ( { name = "up"; type = "null"; role = "uplink"; peer_mac = "02:00:00:00:00:fe"; } );
dataplane = { workers = 1; mbufs = 2047; sleep_max_us = 1000; };
conntrack = { capacity = 4096; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
start_sgfw() {
	"$SGFW" -c "$tmp/node.conf" -- --file-prefix="$prefix" >>"$tmp/sgfw.log" 2>&1 &
	pid=$!
	sg_wait_up "$tmp/sgfw.sock" "$pid"
}
if ! start_sgfw; then
	cat "$tmp/sgfw.log" >&2
	sg_fail "sgfw did not come up"
	sg_finish
	exit 1
fi

imported=$(etcdctl --endpoints "$ep" get -w json /sgfw/v1/epoch | sg_json kvs.0.mod_revision)
wait_for "the node syncs: policy synced" 10 field_is policy synced
sg_expect_eq "status: the applied revision is the import's" "$imported" "$(status_field applied_revision)"
sg_expect_eq "status: connected" connected "$(status_field connection)"
ctl explain vm2 ingress tcp 10.0.0.13:1000 10.0.0.12:5432 >/dev/null
sg_expect_eq "etcd's rules: vm2 takes 5432 from sg-web's remote member vm3" 0 "$?"
ctl explain vm2 ingress tcp 10.0.0.99:1000 10.0.0.12:5432 >/dev/null
sg_expect_eq "etcd's rules: not from a non-member" 3 "$?"
drops 6000
sg_expect_eq "etcd's rules: 6000 dropped" 0 "$?"
wait_for "cluster status lists the node, lag 0" 10 \
	sh -c "\"$SGFWCTL\" --etcd $ep --json cluster status | grep -q '\"lag\": 0'"

# A change through sgfwctl --etcd reaches the node.
out=$(ctl_etcd rule add sg-db direction=ingress protocol=tcp port_range=6000/6000 source_cidr=10.0.0.0/24)
sg_expect_eq "sgfwctl --etcd rule add exits 0" 0 "$?"
sg_expect_contains "it says where it was written" "written to etcd at revision" "$out"
wait_for "the rule reaches the node" 10 accepts 6000

# An invalid group: refused whole, naming the key; the previous policy stays.
good_rev=$(status_field applied_revision)
etcdctl --endpoints "$ep" put /sgfw/v1/groups/sg-bad \
	'{"rules":[{"direction":"ingress","protocol":"tcp","port_range":"99999/99999"}]}' >/dev/null
wait_for "an invalid group is refused" 10 field_is policy refused
sg_expect_contains "the error names the key and field" \
	"etcd key /sgfw/v1/groups/sg-bad: rules[0].port_range: security group \"sg-bad\" rule 1" \
	"$(status_field last_error)"
sg_expect_eq "the applied revision stays" "$good_rev" "$(status_field applied_revision)"
accepts 6000
sg_expect_eq "the previous policy is enforced" 0 "$?"
grep -c "groups/sg-bad" "$tmp/sgfw.log" | grep -qx 1
sg_expect_eq "the refusal is logged once" 0 "$?"
etcdctl --endpoints "$ep" del /sgfw/v1/groups/sg-bad >/dev/null
wait_for "the fleet without it is applied again" 10 field_is policy synced

# Two writers race: the one that read first is redone on the other's change; nothing lost.
SGFWCTL_ETCD_PAUSE_MS=1500 "$SGFWCTL" --etcd "$ep" rule add sg-db direction=ingress \
	protocol=tcp port_range=7000/7000 source_cidr=10.0.0.0/24 >"$tmp/a.out" 2>&1 &
a=$!
sleep 0.5
ctl_etcd rule add sg-db direction=ingress protocol=tcp port_range=7001/7001 source_cidr=10.0.0.0/24 >/dev/null
sg_expect_eq "writer B exits 0" 0 "$?"
wait "$a"
sg_expect_eq "writer A exits 0" 0 "$?"
sg_expect_contains "writer A was redone" "after a concurrent change: read again and redone" "$(cat "$tmp/a.out")"
rules=$(ctl_etcd rule list sg-db)
sg_expect_contains "A's rule is in etcd" "7000/7000" "$rules"
sg_expect_contains "B's rule is in etcd" "7001/7001" "$rules"
# Without retries, the stale writer is refused and writes nothing.
SGFWCTL_ETCD_RETRIES=0 SGFWCTL_ETCD_PAUSE_MS=1500 "$SGFWCTL" --etcd "$ep" rule add sg-db \
	direction=ingress protocol=tcp port_range=7002/7002 source_cidr=10.0.0.0/24 >"$tmp/a.out" 2>&1 &
a=$!
sleep 0.5
ctl_etcd rule add sg-db direction=ingress protocol=tcp port_range=7003/7003 source_cidr=10.0.0.0/24 >/dev/null
wait "$a"
sg_expect_eq "the stale writer without retries exits 1" 1 "$?"
sg_expect_contains "it says concurrent change" "error: concurrent change" "$(cat "$tmp/a.out")"
rules=$(ctl_etcd rule list sg-db)
sg_expect_eq "its rule is not in etcd" 0 "$(echo "$rules" | grep -c 7002/7002)"
sg_expect_contains "the other's rule is" "7003/7003" "$rules"
wait_for "both racing rules reach the node" 10 sh -c \
	"\"$SGFWCTL\" -s $tmp/sgfw.sock explain vm2 ingress tcp 10.0.0.99:1 10.0.0.12:7000 >/dev/null &&
	 \"$SGFWCTL\" -s $tmp/sgfw.sock explain vm2 ingress tcp 10.0.0.99:1 10.0.0.12:7001 >/dev/null"

# A port moved to hv2 is served here until hv2 says it applied the move.
out=$(ctl_etcd port move vm2 hv2)
sg_expect_contains "sgfwctl --etcd port move" "moved port vm2 to host hv2" "$out"
moved=$(etcdctl --endpoints "$ep" get -w json /sgfw/v1/ports/vm2 | sg_json kvs.0.mod_revision)
wait_for "the moved port is held" 10 field_is held_ports vm2
accepts 6000
sg_expect_eq "vm2 is still enforced here" 0 "$?"
etcdctl --endpoints "$ep" put /sgfw/v1/nodes/hv2 "{\"applied_revision\":$((moved - 1))}" >/dev/null
sleep 1
sg_expect_eq "hv2 behind the move: still held" vm2 "$(status_field held_ports)"
etcdctl --endpoints "$ep" put /sgfw/v1/nodes/hv2 "{\"applied_revision\":$moved}" >/dev/null
wait_for "hv2 confirms: vm2 is let go" 10 field_is held_ports ""
ctl explain vm2 ingress tcp 10.0.0.99:1000 10.0.0.12:6000 >/dev/null 2>"$tmp/explain.err"
sg_expect_eq "vm2 is a remote port now: explain exits 1" 1 "$?"
sg_expect_contains "its rules are enforced on hv2" 'port "vm2" is on host "hv2": its rules are enforced there' \
	"$(cat "$tmp/explain.err")"
# Back to hv1 for the rest (a move here: served at once).
ctl_etcd port move vm2 hv1 >/dev/null
wait_for "vm2 is back" 10 accepts 6000

# etcd killed: the node keeps enforcing and says so.
stop_etcd
wait_for "etcd killed: status says disconnected" 15 field_is connection disconnected
accepts 6000
sg_expect_eq "disconnected: still enforcing the last policy" 0 "$?"
drops 6001
sg_expect_eq "disconnected: still dropping what it dropped" 0 "$?"

# While the node cannot see it, etcd gets a change and a compaction (on another client port).
start_etcd "$alt" || sg_fail "etcd on the other port"
for p in 8000 8001; do
	"$SGFWCTL" --etcd "http://127.0.0.1:$alt" rule add sg-db direction=ingress protocol=tcp \
		port_range=$p/$p source_cidr=10.0.0.0/24 >/dev/null
done
rev=$(etcdctl --endpoints "http://127.0.0.1:$alt" get -w json /sgfw/v1/epoch | sg_json header.revision)
etcdctl --endpoints "http://127.0.0.1:$alt" compact "$rev" >/dev/null
sg_expect_eq "compacted at the change" 0 "$?"
stop_etcd
start_etcd "$client" || sg_fail "etcd back"
wait_for "etcd back: connected" 15 field_is connection connected
wait_for "the changes made meanwhile reach the node" 15 sh -c \
	"\"$SGFWCTL\" -s $tmp/sgfw.sock explain vm2 ingress tcp 10.0.0.99:1 10.0.0.12:8000 >/dev/null &&
	 \"$SGFWCTL\" -s $tmp/sgfw.sock explain vm2 ingress tcp 10.0.0.99:1 10.0.0.12:8001 >/dev/null"
sg_expect_contains "compaction: a whole resync" "were compacted: reading the whole fleet again" \
	"$(cat "$tmp/sgfw.log")"
sg_expect_eq "the applied revision is the compacted one or newer" 1 \
	"$([ "$(status_field applied_revision)" -ge "$rev" ] && echo 1 || echo 0)"

# etcd killed again, then sgfw restarted without it.
stop_etcd
wait_for "etcd killed again: disconnected" 15 field_is connection disconnected
last=$(status_field applied_revision)

# Restarted without etcd: from the state file, the same verdicts.
kill -TERM "$pid"
wait "$pid"
pid=
start_sgfw || sg_fail "sgfw restarted without etcd"
sg_expect_eq "restarted: the state file's revision" "$last" "$(status_field applied_revision)"
wait_for "restarted: disconnected" 10 field_is connection disconnected
accepts 6000
sg_expect_eq "restarted: the same accept" 0 "$?"
drops 6001
sg_expect_eq "restarted: the same drop" 0 "$?"
accepts 8000
sg_expect_eq "restarted: the change made before the restart" 0 "$?"
start_etcd "$client" || sg_fail "etcd back again"
wait_for "etcd back: the restarted node connects" 15 field_is connection connected
wait_for "and is synced" 15 field_is policy synced

sg_finish
