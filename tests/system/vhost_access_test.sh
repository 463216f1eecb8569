#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Who may connect to vhost-user sockets: sgfw gives each server socket the owner, group and
# mode of its port, else the vhost_user section's, else root-only (0600). A dpdk-testpmd VM
# running as an unprivileged user (nobody, as libvirt runs QEMU as libvirt-qemu) connects to
# the socket given to it and sends traffic sgfw receives; it cannot connect to a root-only
# one. Online: a port added with socket_owner gets it; an unknown user is refused, changing
# nothing; a reload with another default re-applies it to the running ports. A second sgfw on
# the same EAL file prefix is refused.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd)}
missing=
[ "$(id -u)" -eq 0 ] || missing="needs root (to start a VM as another user)"
[ -n "$TESTPMD" ] || missing="needs dpdk-testpmd (Debian package dpdk)"
id nobody >/dev/null 2>&1 || missing="needs the user nobody"
command -v setpriv >/dev/null || missing="needs setpriv (util-linux)"
[ -x /usr/bin/python3 ] || missing="needs /usr/bin/python3"
if [ -n "$missing" ]; then
	echo "SKIP: $missing"
	exit 77
fi

tmp=$(mktemp -d)
chmod 755 "$tmp" # the sockets' own modes decide; nobody must be able to reach them
id=$(( ($$ + RANDOM) % 100000 ))
sgfw_pid=
vm_pid=
cleanup() {
	[ -n "$vm_pid" ] && kill -KILL "$vm_pid" 2>/dev/null
	if [ -n "$sgfw_pid" ]; then
		kill -TERM "$sgfw_pid" 2>/dev/null
		timeout 10 tail --pid="$sgfw_pid" -f /dev/null
		kill -KILL "$sgfw_pid" 2>/dev/null
	fi
	rm -rf "$tmp" "/tmp/dpdk/sgfw-access$id"* "/var/run/dpdk/sgfw-access$id"* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ctl() { "$SGFWCTL" -s "$tmp/sgfw.sock" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# can_connect SOCKET: "yes", or why not, for the user nobody.
can_connect() {
	# The system python: a python under /root (pyenv) is not reachable as nobody.
	as_nobody /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("yes")
except OSError as e:
    print(e.strerror)' "$1"
}
access() { stat -c '%U:%G %a' "$1"; }

cat >"$tmp/sgfw.conf" <<CONF
security_groups = ( { id = "sg-app"; rules = (
    { direction = "ingress"; protocol = "udp"; port_range = "9/9"; source_cidr = "10.1.0.0/24"; } ); } );
subnets = ( { cidr = "10.1.0.0/24"; gateway = "10.1.0.1"; } );
ports = (
  { name = "vm1"; path = "$tmp/vm1.sock"; mac = "52:54:00:00:00:01"; ips = ["10.1.0.11"];
    security_groups = ["sg-app"]; socket_owner = "nobody"; },
  { name = "vm2"; path = "$tmp/vm2.sock"; mac = "52:54:00:00:00:02"; ips = ["10.1.0.12"];
    security_groups = ["sg-app"]; }
);
dataplane = { mbufs = 8191; file_prefix = "sgfw-access$id"; };
conntrack = { capacity = 16384; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
"$SGFW" -c "$tmp/sgfw.conf" >"$tmp/sgfw.log" 2>&1 &
sgfw_pid=$!
for i in $(seq 300); do
	ctl status >/dev/null 2>&1 && break
	kill -0 "$sgfw_pid" 2>/dev/null || break
	sleep 0.1
done
if ! ctl status >/dev/null 2>&1; then
	cat "$tmp/sgfw.log" >&2
	sg_fail "sgfw starts"
	sg_finish
	exit 1
fi

sg_expect_eq "vm1's socket is nobody's, owner-only" "nobody:root 600" "$(access "$tmp/vm1.sock")"
sg_expect_eq "vm2's socket is root-only (the default)" "root:root 600" "$(access "$tmp/vm2.sock")"
sg_expect_eq "nobody cannot connect to vm2's socket" "Permission denied" "$(can_connect "$tmp/vm2.sock")"

# The VM, as nobody: testpmd on a virtio-user port sends UDP to vm2's address for 3 s.
mkfifo "$tmp/vm1.in"
as_nobody env HOME="$tmp" "$TESTPMD" --no-huge --legacy-mem -m 512 --no-pci --lcores "0@0,1@0" \
	--file-prefix "sgfw-access$id-vm1" \
	--vdev "net_virtio_user0,path=$tmp/vm1.sock,mac=52:54:00:00:00:01,queues=1" -- \
	--forward-mode=txonly --nb-cores=1 --txd=256 --rxd=256 --total-num-mbufs=4096 \
	--eth-peer=0,52:54:00:00:00:02 --tx-ip=10.1.0.11,10.1.0.12 --tx-udp=9,9 --txpkts=64 \
	<"$tmp/vm1.in" >"$tmp/vm1.log" 2>&1 &
vm_pid=$!
exec {vm_fd}>"$tmp/vm1.in"
link=false
for i in $(seq 150); do
	link=$(ctl --json stats | sg_json ports.vm1.link_up)
	[ "$link" = true ] && break
	sleep 0.1
done
sg_expect_eq "the VM running as nobody connected to vm1's socket" true "$link"
sleep 3
rx=$(ctl --json stats | sg_json ports.vm1.rx_packets)
[ "${rx:-0}" -gt 0 ] && sg_pass "sgfw receives the unprivileged VM's traffic ($rx packets)" ||
	sg_fail "sgfw receives the unprivileged VM's traffic: rx_packets '$rx'"
exec {vm_fd}>&-
timeout 20 tail --pid="$vm_pid" -f /dev/null
kill -KILL "$vm_pid" 2>/dev/null
vm_pid=
grep -q "TX-packets" "$tmp/vm1.log" && sg_pass "the VM ran as nobody and exited" || {
	cat "$tmp/vm1.log" >&2
	sg_fail "the VM ran as nobody and exited"
}

# Online: a new port with its own access; an unknown user changes nothing.
out=$(ctl port add name=vm3 path="$tmp/vm3.sock" mac=52:54:00:00:00:03 ips=10.1.0.13 \
	security_groups=sg-app socket_group=nogroup socket_mode=0660 2>&1)
sg_expect_eq "port add with socket_group and socket_mode exits 0 ($out)" 0 "$?"
sg_expect_eq "vm3's socket: group nogroup, 0660" "root:nogroup 660" "$(access "$tmp/vm3.sock")"
out=$(ctl port add name=vm4 path="$tmp/vm4.sock" mac=52:54:00:00:00:04 ips=10.1.0.14 \
	security_groups=sg-app socket_owner=sgfw-no-such-user 2>&1)
sg_expect_eq "an unknown socket_owner exits 1" 1 "$?"
sg_expect_contains "... naming the port and the user" \
	'port "vm4": socket_owner "sgfw-no-such-user" is no user of this system' "$out"
sg_expect_eq "... and adds nothing" "3 no" \
	"$(ctl --json status | sg_json ports) $([ -e "$tmp/vm4.sock" ] && echo yes || echo no)"
out=$(ctl port add name=vm5 type=af_packet iface=lo mac=52:54:00:00:00:05 security_groups=sg-app \
	socket_mode=0660 2>&1)
sg_expect_contains "socket access on a non-vhost port is refused" \
	'port "vm5": socket_mode applies to vhost-user ports only' "$out"

# A reload with a default for every vhost-user socket applies it to the running ports.
sed -i 's|^control = |vhost_user = { socket_group = "nogroup"; socket_mode = "0660"; };\ncontrol = |' \
	"$tmp/sgfw.conf"
sg_expect_contains "reload with a vhost_user section" "reloaded" "$(ctl reload 2>&1)"
sg_expect_eq "vm2's socket takes the new default" "root:nogroup 660" "$(access "$tmp/vm2.sock")"
sg_expect_eq "vm1 keeps its own owner, with the default group and mode" "nobody:nogroup 660" \
	"$(access "$tmp/vm1.sock")"
sg_expect_eq "nobody (group nogroup) may now connect to vm2's socket" yes \
	"$(can_connect "$tmp/vm2.sock")"

# A second sgfw on the same EAL file prefix is refused before EAL starts, naming the first.
cat >"$tmp/second.conf" <<CONF
dataplane = { mbufs = 2047; file_prefix = "sgfw-access$id"; };
conntrack = { capacity = 1024; };
control = { socket = "$tmp/second.sock"; };
CONF
out=$(timeout 60 "$SGFW" -c "$tmp/second.conf" 2>&1)
sg_expect_eq "a second sgfw on the same file prefix exits 1" 1 "$?"
sg_expect_contains "... naming the prefix and the process that has it" \
	"EAL file prefix \"sgfw-access$id\" is taken by process $sgfw_pid (sgfw)" "$out"
sg_expect_eq "... and the first one still answers (vm1, vm2: the reload dropped vm3)" 2 "$(ctl --json status | sg_json ports)"
kill -TERM "$sgfw_pid"
wait "$sgfw_pid"
sg_expect_eq "sgfw exits 0 on SIGTERM" 0 "$?"
sgfw_pid=
sg_finish
