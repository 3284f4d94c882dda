#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input to `detourd --dataplane dpdk`: invalid EAL arguments, no hugepages, an interface
# with no DPDK port, no exception port, no worker lcore, EAL arguments in XDP mode. Each must
# end the daemon at start-up with the documented exit code (2 usage, 3 EAL, 4 port) and a
# message naming what was wrong, never a crash. net_null vdevs only: no namespace, no traffic.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (the key file must be root's)"
	exit 77
fi
TMP=$(mktemp -d /tmp/dt-dpdk-bad.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TAP_NUMBERED=1
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/tap.sh
. "$(dirname "$0")/../../scripts/lib/tap.sh"

(umask 077; echo "1 $(printf '11%.0s' $(seq 32))" >"$TMP/keys")
cat >"$TMP/detour.conf" <<CONF
[detour]
interfaces = edge0
heartbeat_listen = 198.18.0.1:7600
key_file = $TMP/keys
control_socket = $TMP/detourd.sock
event_log = $TMP/events.jsonl
state_file = $TMP/detourd.state

[site pangyo]
id = 1
delivery = route
interface = e-pangyo
next_hop_mac = 02:dd:00:00:01:02

[prefixes]
prefix = 198.18.100.0/24 pangyo
CONF

EAL_OK="-l 0,1 --no-pci --no-huge --no-shconf -m 512 --file-prefix dtbad$$"

# expect NAME EXIT WORDS DETOURD-ARGS...: exit code and a line of stderr containing WORDS
expect() {
	local name=$1 want=$2 words=$3 rc
	shift 3
	timeout 30 "$DETOURD" -c "$TMP/detour.conf" --no-realtime "$@" >"$TMP/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$words" "$TMP/out"; then
		ok "$name: exit $rc, \"$words\""
	else
		not_ok "$name: exit $rc (want $want), \"$words\" $(grep -cF -- "$words" "$TMP/out") times"
		sed 's/^/#   /' "$TMP/out" | tail -8
	fi
}

expect "invalid EAL argument" 3 "EAL start-up failed: Invalid argument" \
	--dataplane dpdk -- $EAL_OK --no-such-eal-option
expect "no hugepages" 3 "no usable hugepages?" \
	--dataplane dpdk -- -l 0,1 --no-pci --huge-dir=/nonexistent/dt-hugepages -m 64 \
	--file-prefix dtbadh$$
expect "interface with no DPDK port" 4 "interface edge0: no DPDK port by that name or with iface=edge0" \
	--dataplane dpdk -- $EAL_OK --vdev net_null0
expect "a --port mapping to a missing device" 4 "interface edge0: no DPDK port net_null7" \
	--dataplane dpdk --port edge0=net_null7 -- $EAL_OK --vdev net_null0
expect "no exception port" 4 "no exception port toward the kernel" \
	--dataplane dpdk --port edge0=net_null0 --port e-pangyo=net_null1 -- $EAL_OK \
	--vdev net_null0 --vdev net_null1
expect "no worker lcore" 3 "1 worker lcore" \
	--dataplane dpdk --workers 2 --port edge0=net_null0 -- $EAL_OK --vdev net_null0
expect "EAL arguments without --dataplane dpdk" 2 "EAL arguments need --dataplane dpdk" \
	-- -l 0,1
expect "unknown dataplane" 2 "expected xdp or dpdk" --dataplane vpp
expect "bad --port" 2 "expected NAME=DEVICE" --dataplane dpdk --port edge0
expect "--check ignores the EAL arguments" 0 "valid: 1 sites" --check --dataplane dpdk -- --bogus
echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
