#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# sgfwctl import/export alibaba end to end: a new config from Alibaba Cloud's JSON, a merge into
# the seed's config, export -> import -> export, and a refused import that changes nothing.
set -u
. "$(dirname "$0")/lib.sh"
SGFWCTL=${SGFWCTL:?path to sgfwctl}
ROOT=${SG_SOURCE_ROOT:?source root}
DATA=$ROOT/tests/data/alibaba
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A config that does not exist yet is created, owner-only.
"$SGFWCTL" -c "$tmp/new.conf" import alibaba "$DATA/describe-security-groups.json" \
	"$DATA"/describe-sg-attribute-*.json >"$tmp/out" 2>"$tmp/err"
sg_expect_eq "import into a new config exits 0" 0 "$?"
sg_expect_eq "import says what it did" "imported 4 files into $tmp/new.conf: 3 security groups" \
	"$(cat "$tmp/out")"
sg_expect_eq "a new config is owner-only" 600 "$(stat -c %a "$tmp/new.conf")"
out=$("$SGFWCTL" -c "$tmp/new.conf" --json check)
sg_expect_eq "the imported config checks" true "$(echo "$out" | sg_json ok)"
sg_expect_eq "the imported config has the rules" 13 "$(echo "$out" | sg_json rules)"

# export -> import -> export gives the same JSON.
"$SGFWCTL" -c "$tmp/new.conf" export alibaba >"$tmp/groups.json"
sg_expect_eq "export of every group exits 0" 0 "$?"
"$SGFWCTL" -c "$tmp/new.conf" export alibaba sg-bp1db00000000000001 >"$tmp/db.json"
sg_expect_eq "export of a group exits 0" 0 "$?"
"$SGFWCTL" -c "$tmp/new.conf" export alibaba sg-bp1web0000000000002 >"$tmp/web.json"
"$SGFWCTL" -c "$tmp/new.conf" export alibaba sg-bp1ent0000000000003 >"$tmp/ent.json"
"$SGFWCTL" -c "$tmp/again.conf" import alibaba "$tmp/groups.json" "$tmp/db.json" \
	"$tmp/web.json" "$tmp/ent.json" >/dev/null
sg_expect_eq "the export imports" 0 "$?"
sg_expect_eq "import, export, import: the same config" "$(cat "$tmp/new.conf")" \
	"$(cat "$tmp/again.conf")"
sg_expect_eq "export, import, export: the same JSON" "$(cat "$tmp/db.json")" \
	"$("$SGFWCTL" -c "$tmp/again.conf" export alibaba sg-bp1db00000000000001)"

# Merged into a config with ports: its groups and ports stay.
cp "$ROOT/config/sample-multi.conf" "$tmp/multi.conf"
"$SGFWCTL" -c "$tmp/multi.conf" import alibaba "$DATA/describe-sg-attribute-web.json" >/dev/null
sg_expect_eq "merge into a config exits 0" 0 "$?"
out=$("$SGFWCTL" -c "$tmp/multi.conf" --json check)
sg_expect_eq "the config keeps its ports" 5 "$(echo "$out" | sg_json ports)"
sg_expect_eq "the config gains a group" 5 "$(echo "$out" | sg_json security_groups)"
sg_expect_eq "and its rules" 14 "$(echo "$out" | sg_json rules)"
# A config with @include is not flattened.
cp "$ROOT/config/seed.conf" "$ROOT/config/seed-groups.conf" "$tmp/"
"$SGFWCTL" -c "$tmp/seed.conf" import alibaba "$DATA/describe-sg-attribute-web.json" \
	>/dev/null 2>"$tmp/err"
sg_expect_eq "import into a config with @include exits 1" 1 "$?"
sg_expect_contains "and says why" "uses @include" "$(cat "$tmp/err")"

# A bad field: the error names the file, the JSON path and the field; nothing changes.
sed 's/"Priority": 10,/"Priority": 0,/' "$DATA/describe-sg-attribute-db.json" >"$tmp/bad.json"
cp "$tmp/new.conf" "$tmp/before.conf"
"$SGFWCTL" -c "$tmp/new.conf" import alibaba "$tmp/bad.json" >/dev/null 2>"$tmp/err"
sg_expect_eq "a bad import exits 1" 1 "$?"
sg_expect_eq "a bad import names file, path and field" \
	"error: $tmp/bad.json: \$.Permissions.Permission[3]: Priority 0 is out of range 1..100 (nothing changed)" \
	"$(cat "$tmp/err")"
sg_expect_eq "a bad import changes nothing" "$(cat "$tmp/before.conf")" "$(cat "$tmp/new.conf")"
sg_expect_eq "a bad import leaves no temporary file" 0 "$(ls "$tmp" | grep -c 'new.conf.')"

"$SGFWCTL" -c "$tmp/new.conf" export alibaba nosuchgroup >/dev/null 2>"$tmp/err"
sg_expect_eq "export of an unknown group exits 1" 1 "$?"
sg_expect_eq "export of an unknown group names it" \
	"error: no security group \"nosuchgroup\" in $tmp/new.conf" "$(cat "$tmp/err")"
"$SGFWCTL" -c "$tmp/new.conf" import aws "$tmp/db.json" >/dev/null 2>&1
sg_expect_eq "import of another cloud is a usage error" 2 "$?"
"$SGFWCTL" -s "$tmp/none.sock" export alibaba >/dev/null 2>&1
sg_expect_eq "export is offline only" 2 "$?"

sg_finish
