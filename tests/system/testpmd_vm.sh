# SPDX-License-Identifier: BSD-3-Clause
# dpdk-testpmd "VMs" on virtio-user ports for the vhost-user system tests (sourced). Each VM is
# an interactive testpmd fed through a fifo, so a test can start and stop its forwarding, read
# its counters while it runs, crash it (SIGKILL) or quit it, and start it again on the same
# socket. Needs TESTPMD, SG_VM_DIR (a temporary directory) and SG_VM_PREFIX (unique per run).
#
# Without hugepages virtio-user shares its memory with the backend only with --legacy-mem.
# Busy pollers share the machine's CPUs: each VM's two lcores are pinned to the one CPU given.
# VMs run at the default priority: at nice 10, a VM sharing its CPU with sgfw's busy worker got
# no CPU time at all on a newer kernel (vm_reconnect's vm2 received nothing in any round),
# while at equal weight the namespace VMs sharing the CPUs still answer every round trip
# (vm_reconnect, restart_vhost).
# testpmd's output is line-buffered (stdbuf) so its answers can be read while it runs.

SG_VM_PIDS=()

# sg_tpmd_start NAME SOCKET MAC CPU MODE [server] [TESTPMD ARGS...]: MODE is a forwarding mode
# (txonly, rxonly, ...); "server" makes the VM own the socket (virtio-user server=1, sgfw's
# port is then client = true). The VM does not forward until sg_tpmd_cmd NAME start.
sg_tpmd_start() {
	local name=$1 sock=$2 mac=$3 cpu=$4 mode=$5 server=0 fd
	shift 5
	if [ "${1:-}" = server ]; then
		server=1
		shift
	fi
	rm -f "$SG_VM_DIR/$name.in"
	mkfifo "$SG_VM_DIR/$name.in"
	stdbuf -oL "$TESTPMD" --no-huge --legacy-mem -m 1024 --no-pci --lcores "0@$cpu,1@$cpu" \
		--file-prefix "$SG_VM_PREFIX-$name" \
		--vdev "net_virtio_user0,path=$sock,mac=$mac,queues=1,server=$server" -- -i \
		--forward-mode="$mode" --nb-cores=1 --txd=256 --rxd=256 --total-num-mbufs=8192 "$@" \
		<"$SG_VM_DIR/$name.in" >>"$SG_VM_DIR/$name.log" 2>&1 &
	eval "SG_VM_PID_$name=$!"
	SG_VM_PIDS+=($!)
	# Crashed on purpose: no "Killed" notice from the shell.
	disown $!
	# Hold the fifo open: testpmd reads commands until it is closed.
	exec {fd}>"$SG_VM_DIR/$name.in"
	eval "SG_VM_FD_$name=$fd"
}

sg_tpmd_pid() { eval "echo \${SG_VM_PID_$1:-}"; }

sg_tpmd_alive() {
	local pid
	pid=$(sg_tpmd_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# sg_tpmd_cmd NAME COMMAND: a testpmd command line (start, stop, show port stats 0, ...).
sg_tpmd_cmd() {
	local fd
	fd=$(eval "echo \${SG_VM_FD_$1:-}")
	[ -n "$fd" ] && echo "$2" >&"$fd"
}

# sg_tpmd_stats NAME: print "RX TX", port 0's packet counters, read while the VM runs
# (waits up to 10 s for testpmd to answer; prints nothing if it does not).
sg_tpmd_stats() {
	local name=$1 log="$SG_VM_DIR/$1.log" before i
	before=$(grep -c "Tx-pps" "$log" 2>/dev/null)
	sg_tpmd_cmd "$name" "show port stats 0" || return 1
	for i in $(seq 100); do
		[ "$(grep -c "Tx-pps" "$log" 2>/dev/null)" -gt "$before" ] && break
		sg_tpmd_alive "$name" || return 1
		sleep 0.1
	done
	[ "$(grep -c "Tx-pps" "$log" 2>/dev/null)" -gt "$before" ] || return 1
	echo "$(grep -o "RX-packets: *[0-9]*" "$log" | tail -1 | grep -o '[0-9]*$')" \
		"$(grep -o "TX-packets: *[0-9]*" "$log" | tail -1 | grep -o '[0-9]*$')"
}

# sg_tpmd_wait_gone NAME: wait (up to 20 s) for the VM's process to end; KILL it after that.
sg_tpmd_wait_gone() {
	local pid
	pid=$(sg_tpmd_pid "$1")
	[ -n "$pid" ] || return 0
	timeout 20 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	eval "SG_VM_PID_$1="
	return 0
}

# sg_tpmd_close_fd NAME: stop feeding the VM commands.
sg_tpmd_close_fd() {
	local fd
	fd=$(eval "echo \${SG_VM_FD_$1:-}")
	[ -n "$fd" ] && eval "exec $fd>&-"
	eval "SG_VM_FD_$1="
}

# sg_tpmd_quit NAME: a clean shutdown (testpmd stops its ports and exits).
sg_tpmd_quit() {
	sg_tpmd_cmd "$1" quit
	sg_tpmd_close_fd "$1"
	sg_tpmd_wait_gone "$1"
}

# sg_tpmd_crash NAME: the VM dies at once (SIGKILL): its socket closes with no goodbye.
sg_tpmd_crash() {
	local pid
	pid=$(sg_tpmd_pid "$1")
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	sg_tpmd_close_fd "$1"
	sg_tpmd_wait_gone "$1"
}

# For the EXIT trap: every VM started, TERM then KILL, and their EAL files.
sg_tpmd_cleanup() {
	local pid
	for pid in "${SG_VM_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${SG_VM_PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	SG_VM_PIDS=()
	rm -rf "/dev/shm/$SG_VM_PREFIX"* "/var/run/dpdk/$SG_VM_PREFIX"* 2>/dev/null
}

# Counters of the switch under test, for the vhost tests (they define ctl and $tmp).
# snap NAME: keep one reading of every counter (sgfwctl stats); count NAME PORT FIELD reads it
# back (FIELD: rx_packets, tx_packets, drops, or a drop reason; 0 when never counted). awk, not
# python: starting python takes more than a second on a machine this busy.
snap() { ctl stats >"$tmp/snap-$1.txt"; }
count() {
	awk -v port="$2" -v field="$3" '
		/^RULE HITS/ { exit }
		/^PORT / { next }
		/^[^ ]/ { cur = $1; if (cur == port) { v["rx_packets"] = $2; v["tx_packets"] = $3; v["drops"] = $6 } }
		/^    drop / { if (cur == port) v[$2] = $3 }
		END { print (field in v) ? v[field] : 0 }' "$tmp/snap-$1.txt"
}
# delta FROM TO PORT FIELD
delta() { echo $(( $(count "$2" "$3" "$4") - $(count "$1" "$3" "$4") )); }
# link PORT: true or false, from sgfwctl ports.
link() {
	ctl ports | awk -v port="$1" '$5 == port { print ($1 == "up") ? "true" : "false" }'
}
# wait_link PORT true|false: up to 15 s.
wait_link() {
	local i
	for i in $(seq 150); do
		[ "$(link "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
