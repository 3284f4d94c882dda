#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `detourd --check -c FILE`: a good file is valid (exit 0, a summary), and each broken file is
# rejected with exit 1 and a FILE:LINE message naming what is wrong. Nothing is attached, pinned
# or listened on, so no namespace is needed: the file is checked --other-host, so the interfaces
# it names need not exist here; without --other-host each one missing is an error, named.
. "$(dirname "$0")/daemon_fixture.sh"

mac_of() { echo "02:00:00:00:00:0$([ "$2" = sa0 ] && echo 1 || echo 2)"; }
write_keys
GOOD=$TMP/good.conf
write_config "$GOOD"

# line_of FILE PATTERN: the line number of the first line matching PATTERN
line_of() { grep -n -m1 -- "$2" "$1" | cut -d: -f1; }

# broken NAME SED-SCRIPT: a copy of the good file with one change
broken() {
	sed "$2" "$GOOD" >"$TMP/$1.conf"
	echo "$TMP/$1.conf"
}

expect_rejected() { # description, file, line (or "" for a whole-file problem), message text
	local what=$1 file=$2 line=$3 msg=$4 rc
	"$DETOURD" --check --other-host -c "$file" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$file${line:+:$line}: " "$TMP/err" &&
		grep -qF -- "$msg" "$TMP/err" && [ ! -s "$TMP/out" ]; then
		ok "$what"
	else
		not_ok "$what (exit $rc, wanted 1 and \"$file${line:+:$line}: ...$msg\")"
		sed 's/^/#   stderr: /' "$TMP/err"
	fi
}

"$DETOURD" --check --other-host -c "$GOOD" >"$TMP/out" 2>"$TMP/err"
rc=$?
check "a good file: exit 0" test "$rc" -eq 0
check "... with a warning for each interface this machine lacks" \
	grep -qF "$GOOD: warning: [detour]: interfaces: \"edge0\" does not exist on this machine" "$TMP/err"
"$DETOURD" --check -c "$GOOD" >"$TMP/out2" 2>"$TMP/err2"
rc=$?
check "without --other-host a missing interface is an error: exit $rc, named, no summary" \
	eval '[ $rc -eq 1 ] && grep -qF "$GOOD: error: site \"pangyo\": interface \"edge-a\" does not exist on this machine" "$TMP/err2" && [ ! -s "$TMP/out2" ]'

# hook_said RC LEVEL [--other-host]: --check of $f exits RC, with LEVEL about the missing hook
hook_said() {
	"$DETOURD" --check ${3:+"$3"} -c "$f" >/dev/null 2>"$TMP/err3"
	[ $? -eq "$1" ] && grep -qF \
		"$f: $2: notify_command: \"$TMP/no-such-hook\": No such file or directory" "$TMP/err3"
}
f=$(broken no-hook "s|^state_file = .*|&\nnotify_command = $TMP/no-such-hook --flag|")
check "a notify_command this machine lacks: a warning with --other-host (exit 0)" \
	hook_said 0 warning --other-host
check "... and an error without it (exit 1)" hook_said 1 error
f=$(broken hook "s|^state_file = .*|&\nnotify_command = /bin/true --flag|")
"$DETOURD" --check --other-host -c "$f" >/dev/null 2>"$TMP/err3"
check "an executable notify_command is not mentioned" eval '! grep -q notify_command "$TMP/err3"'

check "a good file: the summary counts 2 sites, 3 prefixes, 1 interface" \
	grep -qF "$GOOD: valid: 2 sites, 3 prefixes, 1 interfaces" "$TMP/out"
check "--check attached nothing and pinned nothing" test ! -e "$ROOT" -a ! -e "$SOCK"

f=$(broken unknown-failover 's/^failover = ansan$/failover = sihungg/')
expect_rejected "an unknown failover site" "$f" "$(line_of "$f" '^failover = sihungg')" \
	'failover site "sihungg" is not defined'

f=$(broken self-failover 's/^failover = ansan$/failover = pangyo/')
expect_rejected "a site failing over to itself" "$f" "$(line_of "$f" '^failover = pangyo$')" \
	"pangyo"

f=$(broken dup-site 's/^\[site ansan\]$/[site pangyo]/')
expect_rejected "a duplicate site name" "$f" "$(grep -n '^\[site pangyo\]' "$f" | tail -1 | cut -d: -f1)" \
	"pangyo"

f=$(broken dup-id '0,/^id = 2$/s//id = 1/')
expect_rejected "a duplicate site id, naming the first use" "$f" \
	"$(grep -n '^id = 1$' "$f" | tail -1 | cut -d: -f1)" "id 1 is already used by site \"pangyo\""

f=$(broken overlap 's|^prefix = 198.18.20.0/24 ansan$|prefix = 198.18.10.128/25 ansan|')
expect_rejected "overlapping prefixes with different homes" "$f" \
	"$(line_of "$f" '198.18.10.128/25')" "overlapping prefixes must have the same home"

f=$(broken host-bits 's|^prefix = 198.18.20.0/24 ansan$|prefix = 198.18.20.1/24 ansan|')
expect_rejected "a prefix with host bits set, with the fix" "$f" "$(line_of "$f" '198.18.20.1/24')" \
	"198.18.20.0/24"

f=$(broken timers "s/^hold_down_ms = .*/hold_down_ms = 10/")
# A check across the four timer keys names the last of their lines (config_build.c).
expect_rejected "a hold-down shorter than interval x multiplier" "$f" \
	"$(line_of "$f" '^recovery_timeout_ms')" "hold_down_ms 10 is shorter than interval_ms x multiplier"

f=$(broken typo 's/^multiplier = /multiplyer = /')
expect_rejected "a misspelt key, with a suggestion" "$f" "$(line_of "$f" '^multiplyer')" "multiplier"

f=$(broken no-sites '/^\[site/,/^failover/d')
"$DETOURD" --check --other-host -c "$f" >/dev/null 2>"$TMP/err"
rc=$?
check "a file with no site at all: exit 1 and a message naming the file" \
	eval '[ $rc -eq 1 ] && grep -qF "$f" "$TMP/err"'

# check_with_keys NAME KEY-FILE: `detourd --check` of the good file with another key file: its
# exit code in rc, its stderr in $TMP/err
check_with_keys() {
	f=$(broken "$1" "s|^key_file = .*|key_file = $2|")
	"$DETOURD" --check --other-host -c "$f" >/dev/null 2>"$TMP/err"
	rc=$?
}

grep -v '^2 ' "$KEYS" >"$TMP/one.keys"
chmod 600 "$TMP/one.keys"
check_with_keys missing-key "$TMP/one.keys"
check "a key file without a key for site 2: exit 1, naming the site" \
	eval '[ $rc -eq 1 ] && grep -q "ansan\|site 2\|id 2" "$TMP/err"'

cp "$KEYS" "$TMP/open.keys"
chmod 644 "$TMP/open.keys"
check_with_keys open-keys "$TMP/open.keys"
check "a key file readable by others: exit 1, naming the file" \
	eval '[ $rc -eq 1 ] && grep -qF "$TMP/open.keys" "$TMP/err"'

"$DETOURD" --check -c "$TMP/nonexistent.conf" >/dev/null 2>"$TMP/err"
rc=$?
check "a missing file: exit 1, naming it" \
	eval '[ $rc -eq 1 ] && grep -qF "$TMP/nonexistent.conf" "$TMP/err"'
"$DETOURD" --check -c "$GOOD" extra >/dev/null 2>"$TMP/err"
check "a stray argument is a usage error (exit 2)" test $? -eq 2
finish
