# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Detour's programs in a test network, as functions to source after scripts/lib/netns.sh: the
# pieces that scripts/lib/topology.sh and scripts/lib/two_sites.sh both need.
#
#   dt_write_keys FILE SITE-ID...              a random 32-byte heartbeat key per site, mode 0600
#   dt_conf_section NAME KEY=VALUE...          one section of detourd's configuration file
#   dt_beacon_argv SITE-ID KEYS TARGET MS      DT_BEACON_ARGV: the arguments of a test beacon
#   dt_ctl ARGS...                             detourctl on DT_SOCK (default DT_WORK/detourd.sock)
#
# Programs: DETOURCTL (and DT_BEACON for the callers of dt_beacon_argv).

[ -z "${DT_DETOUR_SH:-}" ] || return 0
DT_DETOUR_SH=1

dt_write_keys() {
	local file=$1 id
	shift
	(
		umask 077
		echo "# detour test keys: site-id key"
		for id; do echo "$id $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"; done
	) >"$file"
	chmod 0600 "$file"
}

# A key with an empty value is left out (an optional setting the caller does not use); a key
# given twice is written twice (prefix = ... lines).
dt_conf_section() {
	local kv
	printf '[%s]\n' "$1"
	shift
	for kv; do
		[ -z "${kv#*=}" ] || printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
	done
}

dt_beacon_argv() {
	# shellcheck disable=SC2034 # read by the caller
	DT_BEACON_ARGV=(--foreground --site "$1" --key-file "$2" --target "$3" --interval "$4ms")
}

dt_ctl() {
	"$DETOURCTL" -s "${DT_SOCK:-$DT_WORK/detourd.sock}" ${DT_CTL_TIMEOUT_MS:+-t "$DT_CTL_TIMEOUT_MS"} "$@"
}
