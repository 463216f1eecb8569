# SPDX-License-Identifier: BSD-3-Clause
# Shared helpers for the system tests (sourced): assertions that name what failed, and a
# counter so each script ends with a clear summary and a non-zero status on any failure.
SG_FAILS=0
SG_CHECKS=0

sg_pass() { SG_CHECKS=$((SG_CHECKS + 1)); echo "ok - $1"; }
sg_fail() { SG_CHECKS=$((SG_CHECKS + 1)); SG_FAILS=$((SG_FAILS + 1)); echo "FAIL - $1" >&2; }

# sg_expect_eq NAME EXPECTED ACTUAL
sg_expect_eq() {
	if [ "$2" = "$3" ]; then sg_pass "$1"; else sg_fail "$1: expected '$2', got '$3'"; fi
}

# sg_expect_contains NAME NEEDLE HAYSTACK
sg_expect_contains() {
	case "$3" in
	*"$2"*) sg_pass "$1" ;;
	*) sg_fail "$1: '$2' not found in: $3" ;;
	esac
}

# sg_json FILTER: read JSON on stdin, print the value at a dotted path (a.b.0.c).
sg_json() {
	python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value if not isinstance(value, bool) else str(value).lower())
' "$1"
}

# sg_wait_up SOCKET PID: wait (up to 30 s) until the sgfw PID answers on SOCKET; 1 when it
# exited first or never answered.
sg_wait_up() {
	local i
	for i in $(seq 300); do
		"$SGFWCTL" -s "$1" status >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

sg_finish() {
	echo "$SG_CHECKS checks, $SG_FAILS failed"
	[ "$SG_FAILS" -eq 0 ]
}
