# tests/integration/lib.sh: TAP helpers and rig helpers for the shell integration tests.
# shellcheck shell=bash
#
# Source it from a bash test:
#   . "$(dirname "$0")/lib.sh"
#   require_rig                  # root, namespaces, pcscd, vpcd, opensc-tool, the card binary
#   plan 3
#   rig_up                       # private pcscd, PCSCLITE_CSOCK_NAME exported
#   card_create alice --pin 111111
#   card_insert 0 alice          # reader 0; the card logs to $(card_log alice)
#   is "$(apdu_sw 0 '80 A4 00 00 02 3F 00')" "90 00" "SELECT MF"
#   ...
# The rig is always stopped and the temporary directory ($TEST_TMP) removed on
# exit (P11U_KEEP_TMP=1 keeps the directory and says where it is).
#
# Paths: $top_srcdir and $top_builddir come from `make check`; run standalone
# (`sudo tests/integration/test-x.sh` after an in-tree build) they default to
# the directory above tests/.  For an out-of-tree build set top_builddir:
#   sudo env top_builddir=$PWD/_build tests/integration/test-x.sh
#
# TAP: plan N | ok DESC CMD... | is GOT WANT DESC | like GOT ERE DESC |
#   unlike GOT ERE DESC | pass DESC | fail DESC [DIAG...] | skip DESC WHY |
#   diag MSG | skip_all WHY | bail_out WHY.  Tests go on after a failure; the
#   script exits 1 when a test failed or the plan was not met, 0 otherwise.
# Requirements (skip_all when missing): require_root, require_namespaces,
#   require_cmd CMD DEBIAN-PACKAGE, require_vcard, require_rig (all of them).
# Cleanup: at_exit CMD [ARGS...] (run on exit, last in first out, before the rig stops).
# Rig: rig_up [--readers N], rig SUBCOMMAND [ARGS] (tests/rig.sh on this rig),
#   reader_name INDEX, $RIG_DIR.
# Cards: card_create NAME [create ARGS], card_insert INDEX NAME [run ARGS],
#   card_remove INDEX, card_state NAME, card_log NAME,
#   vcard_status_get STATE|NAME KEY.
# APDUs: apdu_sw INDEX APDU (opensc-tool -r INDEX -s APDU, prints "90 00"),
#   sw_of OPENSC_TOOL_OUTPUT.  Processes: proc_running PID.

# ----- paths -------------------------------------------------------------------

P11U_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$P11U_LIB_DIR/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

# The tests compare UTF-8 text (holder names, man pages, Java's output): run them in a UTF-8
# locale whatever the caller's is (a CI job or `env -i` gives none, and then col, grep and Java
# treat each byte as a character).  Tests that need a language set LANG for that command.
case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
*UTF-8* | *utf8*) ;;
*)
	unset LC_ALL LC_CTYPE
	export LANG=C.UTF-8
	;;
esac
export top_srcdir top_builddir
RIG=$top_srcdir/tests/rig.sh
: "${P11U_VCARD:=$top_builddir/tools/vcard/p11unlock-vcard}"
export P11U_VCARD

# ----- TAP -----------------------------------------------------------------------

_tap_planned=
_tap_count=0
_tap_failed=0
_tap_done=

plan() {
	_tap_planned=$1
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

pass() {
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count - $1"
}

# fail DESC [DIAGNOSTIC...]
fail() {
	_tap_count=$((_tap_count + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_count - $1"
	shift
	local line
	for line in "$@"; do
		diag "$line"
	done
}

skip() {
	_tap_count=$((_tap_count + 1))
	echo "ok $_tap_count - $1 # SKIP $2"
}

# ok DESC CMD [ARGS...]: passes when CMD exits 0; its output goes to the
# diagnostics when it fails.
ok() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		pass "$desc"
	else
		fail "$desc" "command failed (exit $rc): $*" "$out"
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:      '$1'" "expected: '$2'"
	fi
}

# like GOT ERE DESC: GOT matches the extended regular expression.
like() {
	if grep -Eq -- "$2" <<<"$1"; then
		pass "$3"
	else
		fail "$3" "got: '$1'" "does not match: /$2/"
	fi
}

unlike() {
	if grep -Eq -- "$2" <<<"$1"; then
		fail "$3" "got: '$1'" "matches: /$2/"
	else
		pass "$3"
	fi
}

# Ends the test: nothing to run here, a single "1..0 # SKIP" line.
skip_all() {
	echo "1..0 # SKIP $*"
	_tap_done=1
	exit 0
}

bail_out() {
	echo "Bail out! $*"
	_tap_done=1
	exit 1
}

_tap_finish() {
	local rc=$?
	[ -n "$_tap_done" ] && return "$rc"
	_tap_done=1
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_count"
	elif [ "$_tap_count" != "$_tap_planned" ]; then
		diag "planned $_tap_planned tests but ran $_tap_count"
		return 1
	fi
	[ "$rc" = 0 ] || {
		diag "the test script exited with status $rc"
		return "$rc"
	}
	[ "$_tap_failed" = 0 ] || return 1
	return 0
}

# ----- requirements ------------------------------------------------------------

require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root for the PC/SC rig (run: sudo $0)"
}

# require_cmd CMD DEBIAN-PACKAGE
require_cmd() {
	command -v "$1" >/dev/null 2>&1 || skip_all "$1 not found (Debian package $2)"
}

require_vcard() {
	[ -x "$P11U_VCARD" ] || skip_all "p11unlock-vcard not built ($P11U_VCARD)"
}

# Namespaces can be refused even to root (an unprivileged container): then the
# test cannot run here at all, which is a skip, not a failure.
require_namespaces() {
	local err
	require_cmd unshare util-linux
	err=$(unshare -m -n --propagation unchanged true 2>&1) ||
		skip_all "cannot create mount and network namespaces here: $err"
}

# Everything the rig itself needs.
require_rig() {
	# `make distcheck` in CI checks the tarball's build and unit tests; the integration tests
	# have run from the checkout already (.ci/run sets this for distcheck only).
	[ "${P11U_SKIP_INTEGRATION:-0}" = 1 ] && skip_all "P11U_SKIP_INTEGRATION=1"
	require_root
	require_namespaces
	require_cmd nsenter util-linux
	require_cmd ip iproute2
	require_cmd opensc-tool opensc
	[ -x "${PCSCD:-/usr/sbin/pcscd}" ] || command -v pcscd >/dev/null 2>&1 ||
		skip_all "pcscd not found (Debian package pcscd)"
	[ -f /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || [ -n "${P11U_VPCD_DRIVER:-}" ] ||
		skip_all "vpcd driver not found (Debian package vsmartcard-vpcd)"
	require_vcard
}

# proc_running PID: the process exists and is not a zombie waiting to be reaped.
proc_running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# ----- temporary directory and cleanup -------------------------------------------

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/p11u-test.XXXXXX")
# The module's cache of public card data: one per test, shared by its processes.
export XDG_CACHE_HOME="$TEST_TMP/cache"
RIG_DIR=

# at_exit CMD [ARGS...]: run CMD when the test ends, whatever happens (last in, first out),
# before the rig stops and $TEST_TMP goes.
_at_exit=()
at_exit() {
	local cmd
	printf -v cmd '%q ' "$@"
	_at_exit+=("$cmd")
}

_cleanup() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}" >/dev/null 2>&1 || true
	done
	if [ -n "$RIG_DIR" ]; then
		"$RIG" stop "$RIG_DIR" >/dev/null 2>&1 || echo "# rig.sh stop $RIG_DIR failed" >&2
	fi
	if [ -n "${P11U_KEEP_TMP:-}" ]; then
		echo "# kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
}

_on_exit() {
	local rc
	_tap_finish
	rc=$?
	_cleanup
	exit "$rc"
}

trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----- rig ----------------------------------------------------------------------------

# shellcheck disable=SC2120 # the arguments are optional
# rig_up [--readers N]: starts a rig in $TEST_TMP/rig and exports its environment
# (PCSCLITE_CSOCK_NAME, P11U_RIG_DIR).  Bails out when the rig does not start.
rig_up() {
	local env line
	RIG_DIR=$TEST_TMP/rig
	env=$("$RIG" start "$RIG_DIR" "$@" 2>"$TEST_TMP/rig-start.err") || {
		cat "$TEST_TMP/rig-start.err" >&2
		bail_out "the PC/SC rig did not start: $(tail -n 1 "$TEST_TMP/rig-start.err")"
	}
	while IFS= read -r line; do
		export "${line?}"
	done <<<"$env"
}

rig() {
	"$RIG" "$1" "$RIG_DIR" "${@:2}"
}

reader_name() {
	rig reader-name "$1"
}

# ----- cards -------------------------------------------------------------------------

# A card NAME lives in $TEST_TMP/NAME.state and logs to $TEST_TMP/NAME.log.
card_state() {
	echo "$TEST_TMP/$1.state"
}

card_log() {
	echo "$TEST_TMP/$1.log"
}

# card_create NAME [p11unlock-vcard create ARGS...]
card_create() {
	local name=$1 out
	shift
	out=$("$P11U_VCARD" create "$(card_state "$name")" "$@" 2>&1) || {
		echo "$out" >&2
		bail_out "p11unlock-vcard create $name failed"
	}
}

# card_insert INDEX NAME [p11unlock-vcard run ARGS...]: serves card NAME in reader
# INDEX and waits until pcscd sees it.  Adds --log $(card_log NAME) unless ARGS
# have their own --log.  Returns non-zero (with the reason on stderr) on failure.
card_insert() {
	local index=$1 name=$2 arg has_log=
	shift 2
	for arg in "$@"; do
		case $arg in --log | --log=*) has_log=1 ;; esac
	done
	[ -n "$has_log" ] || set -- "$@" --log "$(card_log "$name")"
	rig insert "$index" "$(card_state "$name")" "$@"
}

# card_remove INDEX: SIGTERM the card, wait until the reader is empty.
card_remove() {
	rig remove "$1"
}

# signal_card INDEX SIGNAL: to the virtual card serving reader INDEX (STOP: a card that answered
# its ATR and stops answering, pcscd waiting for it; CONT: it answers again).
signal_card() {
	local pid
	read -r pid _ <"$RIG_DIR/card-$1.pid"
	kill "-$2" "$pid"
}

# vcard_status_get STATE|NAME KEY: one value of `p11unlock-vcard status`.
vcard_status_get() {
	local state=$1
	[[ $state == */* ]] || state=$(card_state "$state")
	"$P11U_VCARD" status "$state" | sed -n "s/^$2=//p"
}

# ----- APDUs through opensc-tool ---------------------------------------------------

# apdu_sw INDEX APDU: sends APDU (hex, spaces allowed) with `opensc-tool -r INDEX -s`
# and prints the status word as "90 00" (or "error: ..." when none came back).
apdu_sw() {
	local out
	out=$(opensc-tool -r "$1" -s "$2" 2>&1)
	sw_of "$out"
}

# sw_of OPENSC_TOOL_OUTPUT: the last "Received (SW1=0x90, SW2=0x00)" as "90 00".
sw_of() {
	local sw
	sw=$(sed -n 's/^Received (SW1=0x\([0-9A-Fa-f]\{2\}\), SW2=0x\([0-9A-Fa-f]\{2\}\)).*/\1 \2/p' <<<"$1" |
		tail -n 1)
	if [ -n "$sw" ]; then
		echo "$sw"
	else
		echo "error: $(tail -n 1 <<<"$1")"
	fi
}
