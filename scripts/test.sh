#!/usr/bin/env bash
# The README's test command: set up (packages, configure, build), run every test suite,
# and print the totals as "N passed, M failed".
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1

meson test -C "$SG_BUILD" --print-errorlogs "$@"
status=$?

python3 - "$SG_BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as log:
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
