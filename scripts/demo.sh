#!/usr/bin/env bash
# The README's main command: set up, then show sgfw's policy engine on the built-in seed
# scenario (config/seed.conf): the check, the combined rules of each port, and the verdicts
# of the seed's six questions, each with the rule that decided it.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

config=${1:-$SG_ROOT/config/seed.conf}
ctl() { "$SG_BUILD/app/sgfwctl/sgfwctl" -c "$config" "$@"; }

echo "== sgfwctl check"
ctl check
echo
echo "== the combined rules of each port (hidden rules shown)"
for port in db1 web1; do
	ctl effective "$port"
	echo
done
echo "== the seed's questions"
ctl explain web1 to db1 tcp 5432  # web cluster to PostgreSQL: accept
ctl explain web1 to db1 tcp 22    # any other port: drop
ctl explain db1 to db2 tcp 2379   # database cluster synchronisation: accept
ctl explain db1 to db2 tcp 5432   # internal isolation inside the database cluster: drop
ctl explain web1 to web2 tcp 80   # internal isolation inside the web cluster: drop
ctl explain db1 to web1 tcp 80    # database to web: drop by web's default ingress
