# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the flow-log system tests (flowlog_netns, flowlog_cloud_netns), sourced after
# seed_lab.sh: the lab runs tests/system/flowlog_planted_groups.conf, the seed's groups with a
# database rule planted far too wide (sg-db rule 1) and one nobody uses (sg-db rule 3).

# Wait (up to 20 s) until the window open now has been written.
sg_fl_wait_window() {
	local start i now
	start=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json flowlogs | sg_json window_start)
	for i in $(seq 200); do
		now=$("$SGFWCTL" -s "$SG_LAB_SOCKET" --json flowlogs | sg_json window_start)
		[ "$now" -gt "$start" ] && return 0
		sleep 0.1
	done
	return 1
}

# sg_fl_check_audit FILE: what the JSON audit in FILE says of the two planted rules, on one line.
sg_fl_check_audit() {
	python3 - "$1" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
def find(kind, name):
    return [f for f in a["findings"] if f["kind"] == kind and f["rule"]["name"] == name]
wide = find("wide", "sg-db rule 1")
unused = find("unused", "sg-db rule 3")
out = []
out.append("wide=%d" % len(wide))
if wide:
    out.append("suggested=" + ",".join(sorted(r.split('source_cidr = "')[1].split('"')[0]
                                               for r in wide[0]["suggested_rules"])))
    out.append("wide_in_proposal=%s" % wide[0]["in_proposal"])
out.append("unused=%d" % len(unused))
if unused:
    out.append("unused_in_proposal=%s" % unused[0]["in_proposal"])
out.append("verified=%s" % a["proposal"]["verified"])
print(" ".join(out))
PY
}
