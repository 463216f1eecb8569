#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per packet of sgfw's engine, by phase and by function: sgfw-bench's generator
# under valgrind's callgrind, counting only the engine (dp_worker_process and the workers'
# housekeeping), one dump per phase. Instruction counts do not depend on the machine's load,
# so they are the before/after measure of docs/BENCHMARKS.md ("Where the cycles go").
#
#   bench/callgrind.sh [--build DIR] [--out DIR] [--top N] [-- SGFW-BENCH OPTIONS]
#
# Default traffic: --flows 1000 --rules 1000 --duration 2 --cps (established TCP, then
# connection lifecycles). The phases run for their duration in TSC time, so under valgrind
# they see fewer packets, but the same per-packet work. Each phase ends with its cost by
# stage (parse, admission, conntrack, classification, forwarding, the driver's transmit).
# Needs Debian's valgrind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="${SG_BUILD:-$ROOT/build}" OUT= TOP=25
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--top) TOP=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) echo "callgrind.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
BENCH=$BUILD/app/sgfw-bench/sgfw-bench
[ -x "$BENCH" ] || { echo "callgrind.sh: no $BENCH (build first)" >&2; exit 1; }
[ $# -eq 0 ] && set -- --flows 1000 --rules 1000 --duration 2 --cps

TMP=$(mktemp -d "/tmp/bchcg$$.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
[ -n "$OUT" ] && mkdir -p "$OUT"
DIR=${OUT:-$TMP}

# Stage timing off: its rdtsc calls are not the engine's work.
valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out" \
	--collect-atstart=no --toggle-collect=dp_worker_process --toggle-collect=sg_dp_worker_idle \
	--dump-after=phase_setup --dump-after=phase_established --dump-after=phase_cps \
	"$BENCH" --no-progress --no-stage-cycles --json "$DIR/bench.json" "$@" \
	-- --file-prefix="bchcg$$" >"$DIR/bench.txt" 2>&1 ||
	{ cat "$DIR/bench.txt" >&2; exit 1; }

python3 - "$DIR" "$TOP" <<'PY'
import glob, json, os, re, subprocess, sys

out, top = sys.argv[1], int(sys.argv[2])
res = json.load(open(os.path.join(out, "bench.json")))["results"]
for f in sorted(glob.glob(os.path.join(out, "callgrind.out.*"))):
    text = open(f).read()
    trig = re.search(r"^desc: Trigger: --dump-after=phase_(\w+)", text, re.M)
    tot = re.search(r"^totals: (\d+)", text, re.M)
    if not trig or not tot or trig.group(1) not in res:
        continue
    phase, total = trig.group(1), int(tot.group(1))
    pkts = res[phase]["packets"]
    if pkts == 0:
        continue
    extra = ""
    if res[phase].get("connections"):
        extra = ", %.0f per connection" % (total / res[phase]["connections"])
    print("%s: %d packets, %.1f instructions per packet%s" % (phase, pkts, total / pkts, extra))
    if phase == "setup":
        continue
    incl = {}
    for inclusive in ("no", "yes"):
        ann = subprocess.run(["callgrind_annotate", "--threshold=100",
                              "--inclusive=" + inclusive, f],
                             capture_output=True, text=True).stdout
        # Functions summed over the files their code comes from (inlined headers); the chain
        # of callers above the engine (the whole total) left out.
        cost = {}
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+?):(\S+)", line)
            if not m:
                continue
            ir = int(m.group(1).replace(",", ""))
            fn = m.group(3)
            if ir >= total * 0.999 or fn.startswith("("):
                continue
            if inclusive == "yes":
                cost[fn] = max(cost.get(fn, 0), ir)
            else:
                cost[fn] = cost.get(fn, 0) + ir
        if inclusive == "yes":
            incl = cost
        print("  %s, instructions per packet:" % ("self" if inclusive == "no" else "inclusive"))
        for fn, ir in sorted(cost.items(), key=lambda kv: -kv[1])[:top]:
            print("    %8.1f  %s" % (ir / pkts, fn))
    # By stage, from the inclusive counts: the parser; admission without it (port security,
    # ARP/ND, destination); conntrack (the fw stage without classification, commits
    # included); classification (rte_acl, verdicts, rule hits); forwarding (rewrite, grouping,
    # counters) and the driver's transmit (sg_port_tx, mbuf frees); the rest (the burst's
    # frame, fragments, housekeeping). The generator injects bursts, so no receive.
    pp = lambda fn: incl.get(fn, 0) / pkts
    classify = sum(pp(fn) for fn in ("dp_classify_checks", "dp_check_verdict",
                                      "dp_check_count_accept", "make_origin.isra.0"))
    stages = [("parse", pp("sg_pkt_parse_burst")),
              ("admission", pp("dp_admit_burst") - pp("sg_pkt_parse_burst")),
              ("conntrack", pp("dp_stage_conntrack") - classify),
              ("classification", classify),
              ("forwarding", pp("dp_forward") - pp("sg_port_tx")),
              ("driver transmit", pp("sg_port_tx"))]
    rest = total / pkts - sum(v for _, v in stages)
    print("  stages, instructions per packet: " +
          ", ".join("%s %.1f" % kv for kv in stages + [("rest", rest)]) +
          " (of which conntrack commits %.1f)" % pp("sg_ct_commit"))
PY
