#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's test command: set up (packages, configure, build), run every test suite, then
# build a second tree with clang, AddressSanitizer and UBSan (-Dsanitizers=true -Dfuzz=true),
# run the unit and component suites again under the sanitizers and each libFuzzer target for a
# bounded time (the fuzz suite), and print the totals of both trees as "N passed, M failed".
#
# Arguments go to 'meson test' in both trees (without any, the second runs unit, component
# and fuzz). SG_SANITIZE=0 skips the second tree; SG_BUILD_SAN names it (default build-san);
# SG_FUZZ_SECONDS is the time per fuzz target (default 60).
set -uo pipefail

args=("$@")
set -- # setup.sh takes its own arguments as meson setup options
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
set +e # setup.sh stops at the first error; here a failing suite must not hide the totals

meson test -C "$SG_BUILD" --print-errorlogs "${args[@]}"
status=$?
logs=("$SG_BUILD/meson-logs/testlog.json")
broken=0

if [ "${SG_SANITIZE:-1}" != 0 ]; then
	SG_BUILD_SAN=${SG_BUILD_SAN:-$SG_ROOT/build-san}
	san_args=("${args[@]}")
	[ ${#args[@]} -eq 0 ] && san_args=(--suite unit --suite component --suite fuzz)
	if { [ -f "$SG_BUILD_SAN/build.ninja" ] ||
			CC=clang meson setup "$SG_BUILD_SAN" "$SG_ROOT" -Dsanitizers=true -Dfuzz=true; } &&
			ninja -C "$SG_BUILD_SAN"; then
		rm -f "$SG_BUILD_SAN"/tests/fuzz/work/*/summary.txt
		meson test -C "$SG_BUILD_SAN" --print-errorlogs "${san_args[@]}" || status=1
		logs+=("$SG_BUILD_SAN/meson-logs/testlog.json")
		grep -h . "$SG_BUILD_SAN"/tests/fuzz/work/*/summary.txt 2>/dev/null
	else
		echo "FAIL: the sanitizer and fuzz build ($SG_BUILD_SAN) did not build" >&2
		status=1
		broken=1
	fi
fi

python3 - "$broken" "${logs[@]}" <<'PY'
import json, sys
passed = skipped = 0
failed = int(sys.argv[1])
for path in sys.argv[2:]:
    try:
        with open(path) as log:
            for line in log:
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
if skipped:
    print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
PY
exit $status
