#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The machine API (docs/api.md) through a client other than sgfwctl: api_client.py (python's
# json and socket only) calls every method of a running sgfw on null ports, checks its error
# objects (bad JSON, unknown method, bad params, an oversize line: exact codes and the field at
# fault), pipelining and capture's stream; then sgfwctl's --json prints the same objects.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}"

command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }

tmp=$(mktemp -d)
prefix=sgfw-api-$$
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/"$prefix" "${XDG_RUNTIME_DIR:-/nonexistent}"/dpdk/"$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cat >"$tmp/api.conf" <<CONF
security_groups = ( { id = "sg-a"; rules = (
  { direction = "ingress"; protocol = "tcp"; port_range = "22/22"; source_cidr = "10.0.0.0/8"; } ); } );
ports = (
  { name = "a"; type = "null"; mac = "52:54:00:00:00:01"; ips = ["10.0.0.1"]; security_groups = ["sg-a"]; },
  { name = "b"; type = "null"; mac = "52:54:00:00:00:02"; ips = ["10.0.0.2"]; security_groups = ["sg-a"]; }
);
dataplane = { workers = 1; mbufs = 2047; };
conntrack = { capacity = 4096; };
control = { socket = "$tmp/sgfw.sock"; };
CONF

"$SGFW" -c "$tmp/api.conf" -- --file-prefix="$prefix" >"$tmp/sgfw.log" 2>&1 &
pid=$!
if ! sg_wait_up "$tmp/sgfw.sock" "$pid"; then
	cat "$tmp/sgfw.log" >&2
	sg_fail "sgfw did not come up"
	sg_finish
	exit 1
fi

python3 "$here/api_client.py" "$tmp/sgfw.sock" 2>&1
sg_expect_eq "api_client.py: every check passed" 0 "$?"

# sgfwctl --json prints the API's objects: the result, or the error object (and its exit code).
out=$("$SGFWCTL" -s "$tmp/sgfw.sock" --json port show a)
sg_expect_eq "sgfwctl --json port show: the result object" a "$(echo "$out" | sg_json name)"
out=$("$SGFWCTL" --json effective nosuch -s "$tmp/sgfw.sock" 2>/dev/null)
sg_expect_eq "sgfwctl --json error: exit 1" 1 "$?"
sg_expect_eq "sgfwctl --json error: the code" -32000 "$(echo "$out" | sg_json code)"
sg_expect_eq "sgfwctl --json error: the argument" nosuch "$(echo "$out" | sg_json data.argument)"
"$SGFWCTL" -s "$tmp/sgfw.sock" explain a ingress tcp 10.1.2.3 10.0.0.1:23 >/dev/null
sg_expect_eq "explain of a dropped flow exits 3 (online)" 3 "$?"
"$SGFWCTL" -s "$tmp/sgfw.sock" --json explain a ingress tcp 10.1.2.3 10.0.0.1:22 >/dev/null
sg_expect_eq "explain of an accepted flow exits 0 (online, --json)" 0 "$?"
"$SGFWCTL" -s "$tmp/sgfw.sock" --json explain a ingress tcp 10.1.2.3 10.0.0.1:23 >/dev/null
sg_expect_eq "explain of a dropped flow exits 3 (online, --json)" 3 "$?"

sg_finish
