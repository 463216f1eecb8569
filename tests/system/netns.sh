# SPDX-License-Identifier: BSD-3-Clause
# Network-namespace VMs for sgfw, sourced by the end-to-end tests and the demo.
#
# sg_vm_add NAME MAC IPV4/LEN GW4 [IPV6/LEN GW6] creates namespace "$SG_NS_PREFIX-NAME" with an
# eth0 whose peer "$SG_IF_PREFIX<n>" stays on the host for sgfw's af_packet port. Everything
# made here is recorded and removed by sg_netns_cleanup, which callers run from an EXIT trap,
# so nothing is left behind even when a test fails.

SG_NS_ID=${SG_NS_ID:-$(( ($$ + RANDOM) % 100000 ))}
SG_NS_PREFIX=${SG_NS_PREFIX:-sgfw$SG_NS_ID}
SG_IF_PREFIX=${SG_IF_PREFIX:-sg${SG_NS_ID}v}
SG_NS_LIST=()
SG_IF_LIST=()
SG_PID_LIST=()

sg_ns() { echo "$SG_NS_PREFIX-$1"; }

# The host-side interface of VM NAME.
sg_vm_if() {
	local i
	for i in "${!SG_NS_LIST[@]}"; do
		[ "${SG_NS_LIST[$i]}" = "$(sg_ns "$1")" ] && { echo "${SG_IF_LIST[$i]}"; return; }
	done
	return 1
}

sg_vm_add() {
	local name=$1 mac=$2 ip4=$3 gw4=$4 ip6=${5:-} gw6=${6:-}
	local ns host
	ns=$(sg_ns "$name")
	host="$SG_IF_PREFIX${#SG_NS_LIST[@]}"
	ip netns add "$ns" || return 1
	SG_NS_LIST+=("$ns")
	SG_IF_LIST+=("$host")
	ip link add "$host" type veth peer name eth0 netns "$ns" || return 1
	# The host side carries sgfw only: no addresses, no IPv6 chatter of its own.
	sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" || true
	ip link set "$host" up
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link set eth0 address "$mac"
	if [ -n "$ip6" ]; then
		# Static addresses: skip duplicate address detection so tests need not wait for it.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
	else
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	fi
	ip netns exec "$ns" ip addr add "$ip4" dev eth0
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip route add default via "$gw4"
	if [ -n "$ip6" ]; then
		ip netns exec "$ns" ip -6 addr add "$ip6" dev eth0 nodad
		ip netns exec "$ns" ip -6 route add default via "$gw6"
	fi
	# Full checksums on transmit: af_packet would otherwise see partial ones (offload).
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1 || true
}

# Run a command in VM NAME's namespace.
sg_in() {
	local name=$1
	shift
	ip netns exec "$(sg_ns "$name")" "$@"
}

# Start a command in VM NAME's namespace in the background; it is killed at cleanup.
sg_in_bg() {
	local name=$1
	shift
	ip netns exec "$(sg_ns "$name")" "$@" &
	SG_PID_LIST+=($!)
}

# Record a process to stop at cleanup.
sg_track_pid() { SG_PID_LIST+=("$1"); }

# Stop a process: TERM, then KILL after 10 s. Returns its exit status if it was our child.
sg_stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null
}

# Safe under "set -e": every step may fail (already gone) without stopping the rest.
sg_netns_cleanup() {
	local pid ns host
	for pid in "${SG_PID_LIST[@]}"; do
		sg_stop_pid "$pid" >/dev/null 2>&1 || true
	done
	SG_PID_LIST=()
	for host in "${SG_IF_LIST[@]}"; do
		ip link del "$host" 2>/dev/null || true
	done
	for ns in "${SG_NS_LIST[@]}"; do
		{ ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; } || true
		ip netns del "$ns" 2>/dev/null || true
	done
	SG_NS_LIST=()
	SG_IF_LIST=()
}

# Why this machine cannot run namespace tests, or nothing.
sg_netns_missing() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root for network namespaces"; return; }
	local tool
	for tool in ip nc ethtool ping python3; do
		command -v "$tool" >/dev/null || { echo "needs $tool"; return; }
	done
	ip netns add "sgfw-probe-$$" 2>/dev/null || { echo "cannot create network namespaces"; return; }
	ip netns del "sgfw-probe-$$"
}

# The start of a namespace test: skip it (exit 77) when this machine cannot run it, or when
# $1, a message, says what else is missing; otherwise make $tmp and remove the lab and $tmp
# however the test ends.
sg_netns_test_begin() {
	local missing
	missing=$(sg_netns_missing)
	[ -z "$missing" ] && missing=${1:-}
	if [ -n "$missing" ]; then
		echo "SKIP: $missing"
		exit 77
	fi
	tmp=$(mktemp -d)
	trap sg_netns_test_end EXIT
	trap 'exit 130' INT TERM HUP
}

# At exit: the test's own clean-up (a function sg_test_cleanup, when it defines one), the lab,
# then $tmp (kept, and said so, with SG_KEEP=1).
sg_netns_test_end() {
	declare -F sg_test_cleanup >/dev/null && sg_test_cleanup
	sg_netns_cleanup
	if [ -n "${SG_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
