# SPDX-License-Identifier: BSD-3-Clause
# Shared by the bench scripts that start DPDK processes (compare.sh, vhost.sh): a run's unique
# tag (EAL file prefixes start with it), its temporary directory and OUT, and the EXIT trap
# that stops every PID in 'pids' (TERM, then KILL after 10 s) and removes what they leave.
# Sourced, not run; SG_KEEP=1 keeps the temporary directory.
tag="bch$$"
tmp=$(mktemp -d "/tmp/$tag.XXXX")
OUT=${OUT:-$tmp/results}
mkdir -p "$OUT"
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "/var/run/dpdk/$tag"* "/dev/shm/$tag"* 2>/dev/null || true
	if [ -n "${SG_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
