# SPDX-License-Identifier: BSD-3-Clause
# The start of a test against one etcd of its own (cluster_etcd, cluster_tls), sourced after
# lib.sh: sg_etcd_test_begin NAME [TOOL...] skips (77) unless etcd, etcdctl, python3 and each
# TOOL are here, makes $tmp and the EAL file prefix $prefix (NAME and the pid), and at exit
# kills sgfw ($pid) and etcd ($etcd_pid) and removes $tmp and the prefix's runtime files.
# sg_free_port prints a TCP port of 127.0.0.1 that nothing listens on.

sg_etcd_test_begin() {
	local name=$1 tool
	shift
	for tool in etcd etcdctl python3 "$@"; do
		command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
	done
	tmp=$(mktemp -d)
	prefix=$name-$$
	pid=
	etcd_pid=
	trap sg_etcd_test_end EXIT
	trap 'exit 130' INT TERM HUP
}

sg_etcd_test_end() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$etcd_pid" ] && kill -KILL "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/"$prefix" "${XDG_RUNTIME_DIR:-/nonexistent}"/dpdk/"$prefix"
}

sg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
