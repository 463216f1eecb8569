#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The control socket and the files sgfw writes, against a running sgfw on null ports (no
# namespaces): a control.socket that names a regular file is refused and the file kept; a
# second sgfw on a served socket is refused; control.group lets its members (here: nobody,
# group nogroup) use sgfwctl; every online change is logged in one line with the client's
# uid, gid and pid (SO_PEERCRED) and the result; a config that is a symbolic link is never
# written through or replaced (save, control.persist, an offline change); at exit sgfw
# removes its own socket and nothing that took its place; the Prometheus endpoint answers on
# IPv4 and IPv6, and a client that connects to it and sends nothing does not delay sgfwctl
# (each of five "sgfwctl stats" answers in under 100 ms meanwhile).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (control.group's chown, a client as nobody)"; exit 77; }
for tool in curl setpriv python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit 77; }
done
getent group nogroup >/dev/null && id nobody >/dev/null 2>&1 ||
	{ echo "SKIP: needs the user nobody and the group nogroup"; exit 77; }

tmp=$(mktemp -d)
chmod 0711 "$tmp" # nobody reaches the socket's directory through it, as through /run
pids=()
prefix=sgfw-cs-$$
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp" /var/run/dpdk/"$prefix"-* "${XDG_RUNTIME_DIR:-/nonexistent}"/dpdk/"$prefix"-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

metrics_port=$((30000 + $$ % 20000))
# A config on null ports; $2 is the control socket, $3 more control settings.
write_conf() {
	cat >"$1" <<CONF
security_groups = ( { id = "sg-a"; rules = (
  { direction = "ingress"; protocol = "tcp"; port_range = "22/22"; source_cidr = "10.0.0.0/8"; } ); } );
ports = (
  { name = "a"; type = "null"; mac = "52:54:00:00:00:01"; ips = ["10.0.0.1"]; security_groups = ["sg-a"]; },
  { name = "b"; type = "null"; mac = "52:54:00:00:00:02"; ips = ["10.0.0.2"]; security_groups = ["sg-a"]; }
);
dataplane = { workers = 1; mbufs = 2047; };
conntrack = { capacity = 4096; };
control = { socket = "$2"; $3 };
CONF
}

# start NAME CONF: sgfw in the background, its log in $tmp/NAME.log; sets $pid.
start() {
	"$SGFW" -c "$2" -- --file-prefix="$prefix-$1" >>"$tmp/$1.log" 2>&1 &
	pid=$!
	pids+=("$pid")
}

# Wait for sgfw $1 to exit; its status in $status.
wait_exit() {
	local i
	for i in $(seq 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1"
	status=$?
}

# 1. control.socket names a regular file: refused, the file kept as it was.
printf 'precious\n' >"$tmp/precious"
write_conf "$tmp/file.conf" "$tmp/precious" ""
"$SGFWCTL" -c "$tmp/file.conf" check >/dev/null 2>&1
sg_expect_eq "sgfwctl check says so first (exit 1)" 1 "$?"
start file "$tmp/file.conf"
wait_exit "$pid"
sg_expect_eq "sgfw refuses a control.socket that is a regular file (exit 1)" 1 "$status"
sg_expect_contains "it says why" \
	"sgfw.ctl: error: control socket: $tmp/precious exists and is not a socket; remove it or choose another path (control.socket)" \
	"$(cat "$tmp/file.log")"
sg_expect_eq "the file is as it was" precious "$(cat "$tmp/precious")"

# 2. A running sgfw with control.group, metrics, control.persist and a config that is a link.
sock=$tmp/run/sgfw.sock
mkdir -m 0700 "$tmp/run"
write_conf "$tmp/real.conf" "$sock" \
	"group = \"nogroup\"; persist = true; metrics_port = $metrics_port;"
ln -s "$tmp/real.conf" "$tmp/sgfw.conf"
real_sum=$(sha256sum <"$tmp/real.conf")
start main "$tmp/sgfw.conf"
main_pid=$pid
sg_wait_up "$sock" "$pid" || { sg_fail "sgfw starts"; cat "$tmp/main.log" >&2; sg_finish; exit 1; }
sg_pass "sgfw starts with control.group"
sg_expect_eq "the socket is the group's, mode 0660" "660 nogroup" "$(stat -c '%a %G' "$sock")"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$SGFWCTL" -s "$sock" "$@"; }
sg_expect_eq "a member of control.group uses sgfwctl" 2 "$(as_nobody --json status | sg_json ports)"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SGFWCTL" -s "$sock" group create sg-nobody \
	>/dev/null 2>&1 &
client=$!
wait "$client"
sg_expect_eq "...and makes a change (its save refused: the config is a link)" 1 "$?"
sg_expect_contains "the change is logged with who made it and the result" \
	"sgfw.ctl: change by uid 65534 gid 65534 pid $client: group create sg-nobody: applied, not saved: the change is running but was not saved: cannot save the configuration to $tmp/sgfw.conf: it is a symbolic link" \
	"$(cat "$tmp/main.log")"
"$SGFWCTL" -s "$sock" rule add sg-a direction=ingress priority=0 protocol=tcp port_range=1/2 \
	source_cidr=10.0.0.0/8 >/dev/null 2>&1 &
client=$!
wait "$client"
sg_expect_contains "a refused change is logged with its error" \
	"sgfw.ctl: change by uid 0 gid 0 pid $client: rule add sg-a direction=ingress priority=0 protocol=tcp port_range=1/2 source_cidr=10.0.0.0/8: refused: priority 0 is out of range 1..100 (nothing changed)" \
	"$(cat "$tmp/main.log")"

# control.persist and save never write through the link, nor replace it.
out=$("$SGFWCTL" -s "$sock" group create sg-root 2>&1)
sg_expect_eq "a change under control.persist with a linked config exits 1" 1 "$?"
sg_expect_contains "...saying it was not saved, and why" \
	"error: the change is running but was not saved: cannot save the configuration to $tmp/sgfw.conf: it is a symbolic link; sgfw replaces only a regular file (name the file a link points to as the config)" \
	"$out"
sg_expect_eq "...and the change is running" basic \
	"$("$SGFWCTL" -s "$sock" --json groups | python3 -c 'import json,sys; print([g["type"] for g in json.load(sys.stdin) if g["id"] == "sg-root"][0])')"
out=$("$SGFWCTL" -s "$sock" save 2>&1)
sg_expect_eq "save refuses the link (exit 1)" 1 "$?"
sg_expect_contains "...saying why" "it is a symbolic link" "$out"
out=$("$SGFWCTL" -c "$tmp/sgfw.conf" group create sg-offline 2>&1)
sg_expect_eq "an offline change refuses the link too (exit 1)" 1 "$?"
sg_expect_eq "...and says nothing changed" \
	"error: cannot save the configuration to $tmp/sgfw.conf: it is a symbolic link; sgfw replaces only a regular file (name the file a link points to as the config) (nothing changed)" \
	"$out"
sg_expect_eq "the link is still a link" "$tmp/real.conf" "$(readlink "$tmp/sgfw.conf")"
sg_expect_eq "its target is unchanged" "$real_sum" "$(sha256sum <"$tmp/real.conf")"
sg_expect_eq "no temporary file is left beside them" 0 \
	"$(ls "$tmp" | grep -c -E '^(real|sgfw)\.conf\.')"

# A second sgfw on the served socket is refused; the first keeps serving.
write_conf "$tmp/second.conf" "$sock" ""
start second "$tmp/second.conf"
wait_exit "$pid"
sg_expect_eq "a second sgfw on a served control.socket exits 1" 1 "$status"
sg_expect_contains "...saying the socket is served" "$sock is served by another process" \
	"$(cat "$tmp/second.log")"
sg_expect_eq "the first still answers" 2 "$("$SGFWCTL" -s "$sock" --json status | sg_json ports)"

# 3. Prometheus on IPv4 and IPv6, and off the control thread.
sg_expect_contains "metrics over IPv4" "sgfw_up 1" "$(curl -s "http://127.0.0.1:$metrics_port/metrics")"
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
	sg_expect_contains "metrics over IPv6" "sgfw_up 1" \
		"$(curl -s -g "http://[::1]:$metrics_port/metrics")"
else
	echo "# no IPv6 on lo: metrics over IPv6 not checked"
fi
python3 - "$metrics_port" "$SGFWCTL" "$sock" >"$tmp/idle.txt" 2>&1 <<'PY'
import socket, subprocess, sys, time
port, sgfwctl, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3]
idle = socket.create_connection(("127.0.0.1", port))  # connects, sends nothing
time.sleep(0.1)
worst = 0.0
for _ in range(5):
    start = time.monotonic()
    subprocess.run([sgfwctl, "-s", sock, "stats"], check=True, capture_output=True)
    worst = max(worst, time.monotonic() - start)
print("worst %.1f ms" % (worst * 1000))
print("fast" if worst < 0.1 else "slow")
idle.close()
PY
sg_expect_eq "sgfwctl stats answers in under 100 ms while a metrics client sends nothing ($(head -1 "$tmp/idle.txt"))" \
	fast "$(tail -1 "$tmp/idle.txt")"
sg_expect_contains "metrics answer again once the idle client is gone" "sgfw_up 1" \
	"$(curl -s -m 5 "http://127.0.0.1:$metrics_port/metrics")"

# 4. At exit sgfw removes its own socket, and nothing that took its place.
mv "$sock" "$tmp/run/moved.sock"
printf 'mine\n' >"$sock"
kill -TERM "$main_pid"
wait_exit "$main_pid"
sg_expect_eq "sgfw stops cleanly" 0 "$status"
sg_expect_eq "the file that took the socket's place is kept" mine "$(cat "$sock")"
sg_finish
