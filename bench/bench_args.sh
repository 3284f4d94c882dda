# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# The command line every bench/bench-*.sh takes: [--quick] [NAME...].

# bench_args "DEFAULT NAMES" ARGS...: QUICK=1 after a leading --quick (else 0), WHAT=(the names
# given, or the default ones).
bench_args() {
	local defaults=$1
	shift
	QUICK=0
	if [ "${1:-}" = --quick ]; then
		QUICK=1
		shift
	fi
	WHAT=("$@")
	[ ${#WHAT[@]} -gt 0 ] || read -ra WHAT <<<"$defaults"
}
