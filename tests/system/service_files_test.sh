#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What an installation adds, checked from the build tree: the default config loads (with no
# VM port), systemd-analyze verify accepts the unit (its programs pointed at this build), and
# bash completion offers commands, ports and groups (from the config given with -c).
set -u
here=$(dirname "$0")
. "$here/lib.sh"
: "${SGFW:?path to sgfw}" "${SGFWCTL:?path to sgfwctl}" "${SGFW_UNIT:?the built sgfw.service}"
: "${SG_SOURCE_ROOT:?source root}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$SGFWCTL" -c "$SG_SOURCE_ROOT/dist/sgfw.conf" --json check)
sg_expect_eq "the default config loads" true "$(echo "$out" | sg_json ok)"
sg_expect_eq "... with no port" 0 "$("$SGFWCTL" -c "$SG_SOURCE_ROOT/dist/sgfw.conf" --json ports |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

if command -v systemd-analyze >/dev/null; then
	sed -e "s|^ExecStart=.*|ExecStart=$SGFW|" -e "s|^ExecReload=[^ ]*|ExecReload=$SGFWCTL|" \
		"$SGFW_UNIT" >"$tmp/sgfw.service"
	out=$(systemd-analyze verify --man=no "$tmp/sgfw.service" 2>&1)
	sg_expect_eq "systemd-analyze verify accepts sgfw.service (said: ${out:-nothing})" "" "$out"
	sg_expect_contains "the unit is Type=notify with a watchdog" "WatchdogSec=" \
		"$(grep -E '^(Type=notify|WatchdogSec=)' "$SGFW_UNIT" | tr '\n' ' ')"
else
	sg_pass "systemd-analyze verify (skipped: no systemd-analyze on this machine)"
fi

if [ -f /usr/share/bash-completion/bash_completion ]; then
	complete_words() {
		bash -c '
			source /usr/share/bash-completion/bash_completion
			source "$1/dist/sgfwctl.bash"
			PATH=$(dirname "$2"):$PATH
			shift 2
			COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_sgfwctl; echo "${COMPREPLY[*]}"' _ "$SG_SOURCE_ROOT" "$SGFWCTL" "$@"
	}
	seed=$SG_SOURCE_ROOT/config/seed.conf
	sg_expect_contains "completion: commands" "effective explain audit" "$(complete_words sgfwctl "")"
	sg_expect_eq "completion: port names from the config" "db1 db2 web1 web2" \
		"$(complete_words sgfwctl -c "$seed" effective "")"
	sg_expect_eq "completion: group names" "sg-db sg-web" \
		"$(complete_words sgfwctl -c "$seed" rule add "")"
	sg_expect_eq "completion: a command's options" "--count --filter --passed --snaplen" \
		"$(complete_words sgfwctl -c "$seed" capture web1 --)"
	sg_expect_eq "completion: audit's flow-log formats" "auto alibaba aws-v5" \
		"$(complete_words sgfwctl -c "$seed" audit --log-format a)"
else
	sg_pass "bash completion (skipped: bash-completion is not installed)"
fi
sg_finish
