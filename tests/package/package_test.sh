#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian packages, end to end: dpkg-buildpackage -b builds sgfw and sgfw-bench from a copy
# of the source tree; each package holds exactly the files it should (the default config a
# conffile); lintian reports no error or warning that debian/ does not justify; the unit
# passes systemd-analyze verify with the package's own programs and man pages; and the
# installed sgfw, unpacked into a temporary root, starts on the installed default config
# without -c (in a mount namespace where /etc/sgfw and /run are the test's own), answers
# sgfwctl status and stops cleanly.
set -u
here=$(dirname "$0")
. "$here/../system/lib.sh"
: "${SG_SOURCE_ROOT:?source root}"

missing=
for tool in dpkg-buildpackage dh lintian pandoc systemd-analyze unshare; do
	command -v "$tool" >/dev/null || { missing="needs $tool (scripts/packages.txt)"; break; }
done
[ "$(id -u)" -eq 0 ] || missing="needs root (a mount namespace for the installed sgfw)"
if [ -n "$missing" ]; then
	echo "SKIP: $missing"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# A copy of the tree (what git would commit, without benchmark results), built outside it:
# dpkg-buildpackage writes the packages into the parent directory.
mkdir "$tmp/src"
if git -C "$SG_SOURCE_ROOT" rev-parse --show-toplevel >/dev/null 2>&1; then
	git -C "$SG_SOURCE_ROOT" ls-files -co --exclude-standard | grep -v '^bench/results/' |
		tar -C "$SG_SOURCE_ROOT" -cf - -T - | tar -C "$tmp/src" -xf -
else
	tar -C "$SG_SOURCE_ROOT" --exclude='./build*' --exclude=./bench/results -cf - . |
		tar -C "$tmp/src" -xf -
fi
start=$(date +%s)
if (cd "$tmp/src" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
	sg_pass "dpkg-buildpackage -b -us -uc builds the packages ($(($(date +%s) - start)) s)"
else
	tail -40 "$tmp/build.log" >&2
	sg_fail "dpkg-buildpackage -b -us -uc builds the packages"
	sg_finish
	exit 1
fi
version=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$tmp/sgfw_${version}_$arch.deb
bench_deb=$tmp/sgfw-bench_${version}_$arch.deb

files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort | tr '\n' ' '; }
sg_expect_eq "sgfw holds the daemon, sgfwctl, config, unit, man pages, completion and docs" \
	"etc/sgfw/sgfw.conf lib/systemd/system/sgfw.service usr/bin/sgfwctl usr/sbin/sgfw \
usr/share/bash-completion/completions/sgfwctl usr/share/doc/sgfw/architecture.md.gz \
usr/share/doc/sgfw/changelog.gz usr/share/doc/sgfw/config.md.gz usr/share/doc/sgfw/conntrack.md.gz \
usr/share/doc/sgfw/copyright usr/share/doc/sgfw/decisions.md.gz usr/share/doc/sgfw/flowlogs.md.gz \
usr/share/doc/sgfw/integration.md.gz \
usr/share/doc/sgfw/policy.md usr/share/doc/sgfw/security.md.gz usr/share/doc/sgfw/sgfw.md.gz \
usr/share/doc/sgfw/sgfwctl.md.gz usr/share/doc/sgfw/testing.md.gz usr/share/man/man5/sgfw.conf.5.gz \
usr/share/man/man8/sgfw.8.gz usr/share/man/man8/sgfwctl.8.gz usr/share/sgfw/config/sample-multi.conf \
usr/share/sgfw/config/seed.conf " "$(files "$deb")"
sg_expect_eq "sgfw-bench holds the harness alone" \
	"usr/bin/sgfw-bench usr/share/doc/sgfw-bench/changelog.gz usr/share/doc/sgfw-bench/copyright \
usr/share/lintian/overrides/sgfw-bench " "$(files "$bench_deb")"
sg_expect_eq "the default config is a conffile" "/etc/sgfw/sgfw.conf" \
	"$(dpkg-deb -e "$deb" "$tmp/control" && cat "$tmp/control/conffiles")"
sg_expect_contains "sgfw depends on the DPDK drivers it loads" "librte-net-af-packet23" \
	"$(dpkg-deb -f "$deb" Depends)"

lintian --fail-on error,warning "$tmp/sgfw_${version}_$arch.changes" >"$tmp/lintian.log" 2>&1
status=$?
sg_expect_eq "lintian: no error or warning but the overrides debian/ justifies ($(grep -c . \
"$tmp/lintian.log") lines: $(grep -E '^[EW]:' "$tmp/lintian.log" | head -3 | tr '\n' ' '))" 0 "$status"

root=$tmp/root
dpkg -x "$deb" "$root"
sed -e "s|^ExecStart=/usr/sbin/sgfw|ExecStart=$root/usr/sbin/sgfw|" \
	-e "s|^ExecReload=/usr/bin/sgfwctl|ExecReload=$root/usr/bin/sgfwctl|" \
	"$root/lib/systemd/system/sgfw.service" >"$tmp/sgfw.service"
out=$(MANPATH=$root/usr/share/man systemd-analyze verify "$tmp/sgfw.service" 2>&1)
sg_expect_eq "systemd-analyze verify: the installed unit, its programs and man pages (said: \
${out:-nothing})" "" "$out"
sg_expect_eq "the unit starts /usr/sbin/sgfw and reloads with sgfwctl" \
	"ExecStart=/usr/sbin/sgfw ExecReload=/usr/bin/sgfwctl reload" \
	"$(grep -E '^Exec(Start|Reload)=' "$root/lib/systemd/system/sgfw.service" | tr '\n' ' ' | sed 's/ $//')"

# The installed programs on the installed default config, as the service would run them:
# no -c, the default control socket; /etc/sgfw (over an overlay of /etc) and /run are private
# to the namespace, so nothing of the host's is read or touched.
mkdir -p "$tmp/etc-up" "$tmp/etc-work"
unshare -m --propagation private bash -c '
	set -u
	root=$1 tmp=$2
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$tmp/etc-up,workdir=$tmp/etc-work" /etc &&
		mkdir -p /etc/sgfw && cp "$root/etc/sgfw/sgfw.conf" /etc/sgfw/ &&
		mount -t tmpfs tmpfs /run || { echo "cannot set up the namespace"; exit 1; }
	"$root/usr/sbin/sgfw" >"$tmp/sgfw.log" 2>&1 &
	pid=$!
	for i in $(seq 300); do
		"$root/usr/bin/sgfwctl" status >"$tmp/status.txt" 2>&1 && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	"$root/usr/bin/sgfwctl" --json status >"$tmp/status.json" 2>&1
	"$root/usr/bin/sgfwctl" stats >"$tmp/stats.txt" 2>&1
	kill -TERM "$pid"
	wait "$pid"
	echo $? >"$tmp/sgfw.status"
' _ "$root" "$tmp"
sg_expect_contains "the installed sgfw starts without -c on /etc/sgfw/sgfw.conf" \
	"0 ports, config /etc/sgfw/sgfw.conf" "$(cat "$tmp/status.txt")"
sg_expect_eq "sgfwctl status answers on the default socket (--json)" 0 \
	"$(sg_json ports <"$tmp/status.json" 2>/dev/null)"
sg_expect_contains "sgfwctl stats shows its worker" "WORKERS" "$(cat "$tmp/stats.txt")"
sg_expect_contains "it says which EAL file prefix it took" "EAL file prefix sgfw)" "$(cat "$tmp/sgfw.log")"
sg_expect_contains "... and so does sgfwctl status" "EAL file prefix sgfw (dpdk-telemetry.py -f sgfw)" \
	"$(cat "$tmp/status.txt")"
sg_expect_eq "it stops on SIGTERM with status 0" 0 "$(cat "$tmp/sgfw.status" 2>/dev/null)"
[ "$SG_FAILS" -eq 0 ] || cat "$tmp/sgfw.log" >&2
sg_finish
