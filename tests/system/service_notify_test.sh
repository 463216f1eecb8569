#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfw as systemd runs it (Type=notify, WatchdogSec): READY=1 once its port is up, a watchdog
# fed only while the worker polls (a worker stopped by ptrace stops the pings), STOPPING=1.
# notify.py plays systemd's part on a NOTIFY_SOCKET of its own.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (EAL, and ptrace to stop a worker thread)"
	exit 77
fi
if [ "${SG_HAVE_SYSTEMD:-}" != 1 ]; then
	echo "SKIP: sgfw was built without libsystemd (-Dsystemd=disabled)"
	exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
id=$(( ($$ + RANDOM) % 100000 ))
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/sgfw.conf" <<CONF
security_groups = ( { id = "sg-a"; } );
ports = ( { name = "vm1"; path = "$tmp/vm1.sock"; mac = "52:54:00:00:00:01";
    security_groups = ["sg-a"]; } );
dataplane = { mbufs = 2047; file_prefix = "sgfw-notify$id"; };
conntrack = { capacity = 1024; };
control = { socket = "$tmp/sgfw.sock"; };
CONF
python3 "$here/notify.py" "$SGFW" "$tmp/sgfw.conf" "$tmp/sgfw.log"
