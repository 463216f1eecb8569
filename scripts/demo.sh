#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main command: set up, then run sgfw on the built-in seed scenario. Four VMs
# (db1, db2 in 10.1.0.0/24; web1, web2 in 10.2.0.0/24) live in network namespaces; sgfw
# switches between them on af_packet ports with the seed's security groups
# (config/seed-groups.conf), and real TCP connections show what is allowed and what is not.
# Everything it creates is removed when it ends.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "sgfw demo: network namespaces need root; running again with sudo"
	exec sudo -E "$0" "$@"
fi

export SGFW=$SG_BUILD/app/sgfw/sgfw SGFWCTL=$SG_BUILD/app/sgfwctl/sgfwctl SG_SOURCE_ROOT=$SG_ROOT
systest=$SG_ROOT/tests/system
. "$systest/netns.sh"
. "$systest/seed_lab.sh"
lab=$(mktemp -d)
trap 'sg_netns_cleanup; rm -rf "$lab"' EXIT
trap 'exit 130' INT TERM HUP
ctl() { "$SGFWCTL" -s "$SG_LAB_SOCKET" "$@"; }

echo "== The seed scenario's policy (offline: sgfwctl -c config/seed.conf)"
"$SGFWCTL" -c "$SG_ROOT/config/seed.conf" check
"$SGFWCTL" -c "$SG_ROOT/config/seed.conf" effective db1 ingress
echo

echo "== Starting sgfw: 4 VMs in network namespaces, one af_packet port each"
sg_lab_start "$lab"
for vm in db1 db2 web1 web2; do
	sg_in_bg "$vm" python3 "$systest/echo_server.py" 5432 2379 22 80 >/dev/null
done
for vm in db1 db2 web1 web2; do
	sg_lab_listen "$vm" 5432 2379 22 80
done
ctl status
echo

echo "== Real TCP connections through sgfw (nc to an echo service in each VM)"
try() {
	local from=$1 addr=$2 port=$3 why=$4 answer
	answer=$(sg_lab_tcp "$from" "$addr" "$port") || answer=""
	if [ -n "$answer" ]; then
		printf '  %-5s -> %-11s tcp %-5s ALLOWED  (reply "%s")  %s\n' "$from" "$addr" "$port" "$answer" "$why"
	else
		printf '  %-5s -> %-11s tcp %-5s denied                   %s\n' "$from" "$addr" "$port" "$why"
	fi
}
try web1 10.1.0.11 5432 "web cluster to PostgreSQL (sg-db rule 1)"
try web2 10.1.0.12 5432 "the other web server, the other database"
try web1 fd00:1::11 5432 "the same over IPv6 (sg-db rule 3)"
try web1 10.1.0.11 22 "any other port of the database cluster"
try db1 10.1.0.12 2379 "cluster synchronisation (sg-db rule 2)"
try db1 10.1.0.12 5432 "internal isolation inside the database cluster"
try web1 10.2.0.12 80 "internal isolation inside the web cluster"
try db1 10.2.0.11 80 "database to web: web's default ingress drops it"
echo

echo "== Counters (sgfwctl stats): drops by reason, rule hits"
ctl stats
echo
echo "== Why (sgfwctl explain, online)"
# explain exits 3 for a dropped flow, as this one is.
ctl explain web1 to db1 tcp 22 || [ $? -eq 3 ]
echo
sg_stop_pid "$SG_LAB_PID"
echo "sgfw stopped; namespaces removed."
