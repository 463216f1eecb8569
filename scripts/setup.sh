#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Shared set-up for the README commands: install missing Debian packages, configure, build.
# Sourced by demo.sh and test.sh; SG_BUILD names the build directory (default ./build).
set -euo pipefail

SG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SG_BUILD=${SG_BUILD:-$SG_ROOT/build}

sg_missing_packages() {
	local pkg
	grep -Ev '^\s*(#|$)' "$SG_ROOT/scripts/packages.txt" | while read -r pkg; do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$pkg"
	done
}

sg_install_packages() {
	local missing sudo=
	mapfile -t missing < <(sg_missing_packages)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	echo "sgfw: installing Debian packages: ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

sg_build() {
	if [ ! -f "$SG_BUILD/build.ninja" ]; then
		meson setup "$SG_BUILD" "$SG_ROOT" "$@"
	fi
	ninja -C "$SG_BUILD"
}

sg_install_packages
sg_build "$@"
