#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One VM's flood cannot take the flow logs from the others (docs/security.md): the seed lab with
# flow logs on and every port allowed 300 events a second. web2 floods db1 with 20,000 UDP
# datagrams db1's groups refuse, from random source ports, while web1 sends 20 SYNs db1 refuses.
# Checked: every one of web1's refused attempts has its line; the records lost to the flood are
# counted and written as SKIPDATA lines of web2 and db1 (the ports they concern) and nowhere
# else; web1 lost nothing; sgfwctl audit says the logs of web2 and db1 are incomplete and
# proposes to remove or narrow none of their rules.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/netns.sh"
. "$here/seed_lab.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SG_SOURCE_ROOT:?source root}"

sg_netns_test_begin

SG_LAB_EXTRA="flow_logs = { enabled = true; directory = \"$tmp/flows\"; window = 2;
  port_events_per_second = 300; };"
sg_lab_start "$tmp" || { sg_fail "sgfw starts with flow logs on"; sg_finish; exit 1; }
sg_pass "sgfw starts with flow logs on"
stats() { "$SGFWCTL" -s "$SG_LAB_SOCKET" --json stats; }

sg_in_bg web2 python3 "$here/flood.py" udp 10.2.0.12 10.1.0.11 9000 20000
flood=$!
sleep 0.2
# 20 SYNs from distinct source ports to db1:22, which db1's groups refuse.
sg_in web1 python3 -c '
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import frames as f
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for port in range(42000, 42020):
    s.sendto(f.tcp("10.2.0.11", "10.1.0.11", port, 22, f.SYN, seq=1), ("10.1.0.11", 0))
    time.sleep(0.01)
' "$here"
wait "$flood"

# Until the window holding the last loss is written (windows are 2 s; bounded at 20 s).
skipped() { # PORT: the records its SKIPDATA lines count so far
	cat "$tmp"/flows/sgfw-flows-*.log 2>/dev/null |
		awk -v p="$1" '$13 == "SKIPDATA" && $2 == p { n += $9 } END { print n + 0 }'
}
for _ in $(seq 100); do
	after=$(stats)
	[ "$(skipped web2)" = "$(echo "$after" | sg_json ports.web2.flowlog_lost)" ] &&
		[ "$(skipped db1)" = "$(echo "$after" | sg_json ports.db1.flowlog_lost)" ] && break
	sleep 0.2
done
lost() { echo "$after" | sg_json "ports.$1.flowlog_lost"; }
web2_lost=$(lost web2)
db1_lost=$(lost db1)
[ "$web2_lost" -gt 10000 ] && sg_pass "the flood lost web2 $web2_lost records (budget 300/s)" ||
	sg_fail "the flood lost web2 records: $web2_lost"
sg_expect_eq "db1, the flood's target, lost as many" "$web2_lost" "$db1_lost"
sg_expect_eq "web1 lost none" 0 "$(lost web1)"

python3 - "$tmp/flows" "$web2_lost" "$db1_lost" <<'PY' >"$tmp/verdicts"
import glob, sys
skip, refused = {}, set()
for path in sorted(glob.glob(sys.argv[1] + "/sgfw-flows-*.log")):
    for line in open(path):
        f = line.split()
        if len(f) < 16 or f[0] == "version":
            continue
        if f[12] == "SKIPDATA":
            skip[f[1]] = skip.get(f[1], 0) + int(f[8])
        elif f[12] == "OK" and f[1] == "db1" and f[7] == "ingress" and f[13] == "REJECT" \
                and f[2] == "10.2.0.11" and f[5] == "22":
            refused.add(int(f[3]))
def check(ok, text):
    print("ok" if ok else "FAIL", text)
check(refused == set(range(42000, 42020)),
      "db1 logged all 20 of web1's refused SYNs (%d source ports)" % len(refused))
check(skip.get("web2", 0) == int(sys.argv[2]),
      "web2's SKIPDATA lines count its %s lost records (%d)" % (sys.argv[2], skip.get("web2", 0)))
check(skip.get("db1", 0) == int(sys.argv[3]),
      "db1's SKIPDATA lines count its %s lost records (%d)" % (sys.argv[3], skip.get("db1", 0)))
check(set(skip) <= {"web2", "db1"}, "no other SKIPDATA line (%s)" % sorted(skip))
PY
while read -r verdict text; do
	if [ "$verdict" = ok ]; then sg_pass "$text"; else sg_fail "$text"; fi
done <"$tmp/verdicts"

"$SGFWCTL" -c "$tmp/sgfw.conf" --json audit --flow-logs "$tmp/flows" >"$tmp/audit.json"
sg_expect_eq "the audit says whose logs are incomplete" "db1 web2" "$(python3 -c '
import json, sys
print(" ".join(sorted(p["port"] for p in json.load(open(sys.argv[1]))["incomplete"])))' "$tmp/audit.json")"
sg_expect_eq "the audit proposes no change to the rules of db1's group on incomplete logs" "" \
	"$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(" ".join(f["rule"].get("group", "") + "/" + str(f["rule"].get("index", ""))
               for f in a["findings"] if f["in_proposal"] and "db1" in f["ports"]))' "$tmp/audit.json")"
sg_expect_contains "the audit for people names the incomplete logs" \
	"the flow logs of web2 are incomplete" \
	"$("$SGFWCTL" -c "$tmp/sgfw.conf" audit --flow-logs "$tmp/flows")"

sg_finish
