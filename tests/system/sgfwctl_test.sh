#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfwctl end to end on the sample configs: the seed's six questions, JSON, errors, exit codes.
set -u
. "$(dirname "$0")/lib.sh"
SGFWCTL=${SGFWCTL:?path to sgfwctl}
ROOT=${SG_SOURCE_ROOT:?source root}
SEED=$ROOT/config/seed.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# path FROM TO PORT EXPECTED_VERDICT EXPECTED_DECIDING_INGRESS_RULE
path() {
	local out
	out=$("$SGFWCTL" -c "$SEED" --json explain "$1" to "$2" tcp "$3")
	sg_expect_eq "$1 -> $2 tcp $3 verdict" "$4" "$(echo "$out" | sg_json verdict)"
	sg_expect_eq "$1 -> $2 tcp $3 deciding ingress rule" "$5" "$(echo "$out" | sg_json ingress.rule.name)"
}
path web1 db1 5432 accept "sg-db rule 1"
path web1 db1 22 drop "default basic ingress drop"
path db1 db2 2379 accept "sg-db rule 2"
path db2 db1 5432 drop "default basic ingress drop"
path web1 web2 80 drop "default basic ingress drop"
path db1 web1 80 drop "default basic ingress drop"
out=$("$SGFWCTL" -c "$SEED" --json explain db1 to web1 tcp 80)
sg_expect_eq "db egress to web 80 is accepted by db's default" "default basic egress accept" \
	"$(echo "$out" | sg_json egress.rule.name)"

out=$("$SGFWCTL" -c "$SEED" --json explain db1 ingress tcp 10.2.0.99:1234 10.1.0.11:5432)
sg_expect_eq "one-direction explain verdict" accept "$(echo "$out" | sg_json verdict)"
sg_expect_eq "one-direction explain rule index" 1 "$(echo "$out" | sg_json rule.index)"
sg_expect_eq "one-direction explain sport" 1234 "$(echo "$out" | sg_json flow.sport)"

out=$("$SGFWCTL" -c "$SEED" --json effective db1 ingress)
sg_expect_eq "effective db1 ingress: first entry" "sg-db rule 1" "$(echo "$out" | sg_json ingress.0.name)"
sg_expect_eq "effective db1 ingress: the fifth and last entry is the default" default "$(echo "$out" | sg_json ingress.4.origin)"

out=$("$SGFWCTL" -c "$SEED" --json check)
sg_expect_eq "check ok" true "$(echo "$out" | sg_json ok)"
sg_expect_eq "check counts ports" 4 "$(echo "$out" | sg_json ports)"

out=$("$SGFWCTL" -c "$ROOT/config/sample-multi.conf" --json explain lb1 to app1 tcp 8080 --ipv6)
sg_expect_eq "group peer over IPv6" accept "$(echo "$out" | sg_json verdict)"
sg_expect_eq "group peer flow is IPv6" "fd00:20:1::10" "$(echo "$out" | sg_json flow.src)"

# A broken config: exit 1, the file and line named (here in the @included groups), JSON ok=false.
cp "$SEED" "$tmp/bad.conf"
sed 's/priority = 1;/priority = 0;/' "$ROOT/config/seed-groups.conf" >"$tmp/seed-groups.conf"
out=$("$SGFWCTL" -c "$tmp/bad.conf" check 2>&1)
sg_expect_eq "broken config exits 1" 1 "$?"
sg_expect_contains "broken config names file and line" "$tmp/seed-groups.conf:13: security group \"sg-db\" rule 1: priority 0 is out of range 1..100" "$out"
out=$("$SGFWCTL" -c "$tmp/bad.conf" --json check 2>/dev/null)
sg_expect_eq "broken config JSON ok=false (in the error object's data)" false "$(echo "$out" | sg_json data.ok)"

"$SGFWCTL" -c "$SEED" explain nosuchport ingress tcp 1.2.3.4 5.6.7.8:1 >/dev/null 2>"$tmp/err"
sg_expect_eq "unknown port exits 1" 1 "$?"
sg_expect_contains "unknown port is named" 'no port named "nosuchport"' "$(cat "$tmp/err")"
"$SGFWCTL" -c "$SEED" explain db1 sideways tcp 1.2.3.4 5.6.7.8:1 >/dev/null 2>&1
sg_expect_eq "bad direction is a usage error" 2 "$?"
"$SGFWCTL" -c "$SEED" frobnicate >/dev/null 2>&1
sg_expect_eq "unknown command is a usage error" 2 "$?"
# explain's exit status: 0 accepted, 3 dropped (both forms, text and JSON).
"$SGFWCTL" -c "$SEED" explain web1 to db1 tcp 5432 >/dev/null
sg_expect_eq "explain of an accepted flow exits 0" 0 "$?"
"$SGFWCTL" -c "$SEED" explain db1 to web1 tcp 80 >/dev/null
sg_expect_eq "explain of a dropped flow exits 3" 3 "$?"
"$SGFWCTL" -c "$SEED" --json explain db1 ingress tcp 10.2.0.99:1234 10.1.0.11:22 >/dev/null
sg_expect_eq "explain --json of a dropped flow exits 3" 3 "$?"

# Options anywhere; the command's own words starting with '-' stay its; "--" ends sgfwctl's.
out=$("$SGFWCTL" effective db1 ingress --json -c "$SEED")
sg_expect_eq "options after the command" "sg-db rule 1" "$(echo "$out" | sg_json ingress.0.name)"
out=$("$SGFWCTL" explain web1 to db1 icmp --ipv6 --config="$SEED" --json)
sg_expect_eq "--ipv6 is explain's, --config= sgfwctl's" "fd00:2::11" "$(echo "$out" | sg_json flow.src)"
"$SGFWCTL" -c "$SEED" -- explain db1 ingress tcp 10.2.0.99 10.1.0.11:5432 --json >/dev/null 2>&1
sg_expect_eq "after --, --json is the command's (a usage error of explain)" 2 "$?"

# group show, rule list, port show: the rules with the indexes rule remove takes.
out=$("$SGFWCTL" -c "$SEED" group show sg-db)
sg_expect_contains "group show: members" "members db1,db2" "$out"
sg_expect_contains "group show: rule 2 with its index" '2     { direction = "ingress"; policy = "accept"; priority = 1; protocol = "tcp"; port_range = "2379/2379"' "$out"
out=$("$SGFWCTL" -c "$SEED" --json rule list sg-db)
sg_expect_eq "rule list: four rules, the last index 4" 4 "$(echo "$out" | sg_json rules.3.index)"
out=$("$SGFWCTL" -c "$SEED" port show web2)
sg_expect_contains "port show: the port's row" "web2             vhost-user vm" "$out"
"$SGFWCTL" -c "$SEED" group show sg-nope >/dev/null 2>"$tmp/err"
sg_expect_eq "group show of an unknown group exits 1" 1 "$?"
sg_expect_contains "and names it" 'no security group "sg-nope"' "$(cat "$tmp/err")"

"$SGFWCTL" -c "$tmp/missing.conf" check >/dev/null 2>"$tmp/err"
sg_expect_eq "missing config exits 1" 1 "$?"
sg_expect_contains "missing config is named" "$tmp/missing.conf: cannot open" "$(cat "$tmp/err")"

sg_finish
