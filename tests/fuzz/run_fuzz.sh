#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run one libFuzzer target for a bounded time as a meson test:
#   run_fuzz.sh TARGET SEED_DIR WORK_DIR [LIBFUZZER_OPTION...]
# New inputs go to WORK_DIR/corpus (kept between runs of this build tree, so later runs start
# deeper); the seeds in SEED_DIR are only read. Fails on a crash, a sanitizer report, a leak or
# a broken invariant (the input is saved as WORK_DIR/crash-*). Prints, and writes to
# WORK_DIR/summary.txt, the executions and the coverage reached (libFuzzer's cov and ft).
# SG_FUZZ_SECONDS sets the time (default 60).
set -u
target=$1 seeds=$2 work=$3
shift 3
name=$(basename "$target")
seconds=${SG_FUZZ_SECONDS:-60}

mkdir -p "$work/corpus" || exit 1
log="$work/fuzz.log"
pid=
# EAL's runtime directory is named after the process; a crash leaves it behind.
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$pid" ] && rmdir "/var/run/dpdk/sgfw-test-$name-$pid" 2>/dev/null
	rmdir "$HOME/.dpdk/sgfw-test-$name-$pid" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/sgfw-test-$name-$pid" 2>/dev/null
	true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# DPDK is not instrumented and maps its memory itself; ASan only watches the heap, which is
# where the targets put every packet. abort_on_error gives libFuzzer a crash to save.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:handle_abort=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(dirname "$0")/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1
	-artifact_prefix="$work/")
# corpus/<name>/ -> <name>.dict beside corpus/ (conf.dict, ctl.dict).
dict="$(dirname "$(dirname "$seeds")")/$(basename "$seeds").dict"
[ -f "$dict" ] && args+=(-dict="$dict")
args+=("$@")
"$target" "${args[@]}" "$work/corpus" "$seeds" >"$log" 2>&1 &
pid=$!
wait "$pid"
status=$?

# The last status line ("#N DONE cov: C ft: F corp: ...") and the final stats.
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
summary="$name: ${runs:-?} executions in ${seconds} s (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, peak RSS ${rss:-?} MB"
echo "$summary" | tee "$work/summary.txt"
if [ "$status" -ne 0 ]; then
	echo "FAIL: $name exited with $status; its log ($log) ends with:" >&2
	tail -60 "$log" >&2
	exit 1
fi
