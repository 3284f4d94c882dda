#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (9) Key rotation without a flag day (issue 13, item 5; docs/heartbeat.md, "Rotating a key"),
# under UDP load to pangyo: (1) the edge's key file gains pangyo's key id 1 and detourd is
# SIGHUPed; (2) pangyo's beacon is told key-id = 1 in its config file and SIGHUPed, so it seals
# with the new key from its next heartbeat on; (3) key id 0 leaves the edge's file and detourd is
# SIGHUPed again. Nothing may notice: no state change of any site, no heartbeat refused as
# unknown-key or bad-mac, pangyo's heartbeats accepted after the last step, no request lost.
. "$(dirname "$0")/lib.sh"
RATE=500
test_start

id=$(dt_site_index pangyo)
keys=$DT_WORK/keys
refused() { dt_ctl --json stats | jget /dev/stdin "j['heartbeats']['unknown-key'] + j['heartbeats']['bad-mac']"; }
pangyo_beats() { dt_ctl --json site show pangyo | jget /dev/stdin "j['site']['heartbeats']"; }
reloaded() { [ "$(grep -c 'reload: .* applied' "$DT_WORK/logs/detourd.log")" -ge "$1" ]; }
beacon_reloaded() { grep -q 'configuration reloaded' "$DT_WORK/logs/beacon-pangyo.log"; }

addr=$(service_addr)
client_bg udp udp --addr "$addr" --rate $RATE --duration 3000 --flows 8 --timeout 300
sleep 0.5
seq0=$(last_seq)

echo "$id 1 $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>"$keys"
kill -HUP "$(dt_pid detourd)"
check "step 1: detourd reloaded with both key ids of pangyo" dt_wait_until 2000 reloaded 1

echo "key-id = 1" >"$DT_WORK/beacon-pangyo.conf"
kill -HUP "$(dt_pid beacon-pangyo)"
check "step 2: pangyo's beacon reloaded, sealing with key id 1" dt_wait_until 2000 beacon_reloaded
sleep 0.3

grep -Ev "^$id [0-9a-f]{64}\$" "$keys" >"$keys.new"
chmod 0600 "$keys.new"
mv "$keys.new" "$keys"
check "step 3: key id 0 of pangyo is gone from the edge's file" \
	eq "$(grep -cE "^$id [0-9a-f]{64}\$" "$keys")" 0
kill -HUP "$(dt_pid detourd)"
check "step 3: detourd reloaded without key id 0" dt_wait_until 2000 reloaded 2
before=$(pangyo_beats)
sleep 0.3
after=$(pangyo_beats)
echo "# pangyo: $before heartbeats accepted before the last 300 ms, $after after"
check "pangyo's heartbeats are accepted with the new key alone ($before -> $after)" \
	ge "$((after - before))" 10
client_wait udp

transitions=$(transitions_after "$seq0")
check "no site changed state during the rotation ($transitions)" eq "$transitions" 0
check "no heartbeat refused as unknown-key or bad-mac ($(refused))" eq "$(refused)" 0
check "every site is still up" eq "$(dt_ctl --json sites | jget /dev/stdin "sum(s['state'] != 'up' for s in j['sites'])")" 0
check "no request lost ($(jget "$DT_WORK/udp.json" 'j["lost"]'))" eq "$(jget "$DT_WORK/udp.json" 'j["lost"]')" 0
test_finish
