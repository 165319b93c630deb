# tests/integration/tool-lib.sh: helpers for the p11unlock tool's integration tests.
# shellcheck shell=bash
#
# Source it after lib.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/tool-lib.sh"
#   require_rig; require_tool
#   tool_setup                   # module config (allow_test_cards), English messages
#   rig_up; locked_card 0 alice    # card_create, card_insert, lock_pin
#   tool_run $'Ab12cd34\n654321\n654321\n' --serial XC00000000091349
#   is "$RC" 0 "unlocked"
#
# On a terminal (tmux): tmux_start ARGS (p11unlock ARGS; the pane ends with "EXIT=<status>"),
# tmux_session CMD (any command), screen, wait_screen ERE, answer TEXT (typed, then Enter),
# step DESC ERE (a test that passes when the screen comes to match ERE), tmux_cmd ARGS.
#
# Secrets reach the tool on stdin only, as a holder's script would pass them.

: "${P11U_TOOL:=$top_builddir/tools/p11unlock/p11unlock}"
: "${P11U_MODULE:=$top_builddir/src/pkcs11/.libs/p11unlock-pkcs11.so}"

# The virtual card's defaults (p11unlock-vcard create).
CARD_NUMBER=XC00000000091349
USER_CODE=Ab12cd34
PIN=123456

# Processes a test started (p11-kit server, tmux), stopped on exit whatever happens.
TOOL_PIDS=()
TMUX_SOCKET=

tool_cleanup() {
	local pid
	[ -n "$TMUX_SOCKET" ] && tmux -S "$TMUX_SOCKET" kill-server >/dev/null 2>&1
	for pid in "${TOOL_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	return 0
}

at_exit tool_cleanup

require_tool() {
	[ -x "$P11U_TOOL" ] || skip_all "p11unlock not built ($P11U_TOOL)"
	[ -f "$P11U_MODULE" ] || skip_all "the module is not built ($P11U_MODULE)"
}

# The module with allow_test_cards for this test only; English messages whatever the caller's
# locale; the zh_TW catalog of the build tree (po/zh_TW.gmo) behind P11UNLOCK_LOCALEDIR.
tool_setup() {
	printf 'allow_test_cards = yes\n' >"$TEST_TMP/p11unlock.conf"
	export P11UNLOCK_CONF=$TEST_TMP/p11unlock.conf P11UNLOCK_MODULE=$P11U_MODULE
	unset LC_ALL LC_MESSAGES LANGUAGE
	export LANG=C.UTF-8
	mkdir -p "$TEST_TMP/locale/zh_TW/LC_MESSAGES"
	if [ -f "$top_srcdir/po/zh_TW.gmo" ]; then
		ln -sf "$top_srcdir/po/zh_TW.gmo" "$TEST_TMP/locale/zh_TW/LC_MESSAGES/p11unlock.mo"
	elif [ -f "$top_builddir/po/zh_TW.gmo" ]; then
		ln -sf "$top_builddir/po/zh_TW.gmo" "$TEST_TMP/locale/zh_TW/LC_MESSAGES/p11unlock.mo"
	fi
	export P11UNLOCK_LOCALEDIR=$TEST_TMP/locale
}

# Whether the Chinese catalog is there (not with configure --disable-nls).
have_zh_catalog() {
	[ -e "$TEST_TMP/locale/zh_TW/LC_MESSAGES/p11unlock.mo" ]
}

# tool_run INPUT [ARGS...]: runs p11unlock with INPUT on stdin (not a terminal); sets OUT
# (stdout), ERR (stderr) and RC (exit status).
tool_run() {
	local input=$1
	shift
	RC=0
	printf '%s' "$input" | "$P11U_TOOL" "$@" >"$TEST_TMP/tool.out" 2>"$TEST_TMP/tool.err" || RC=$?
	OUT=$(cat "$TEST_TMP/tool.out")
	ERR=$(cat "$TEST_TMP/tool.err")
}

# locked_card INDEX NAME [CREATE OPTIONS...]: card NAME (the defaults' PIN and user code) in
# reader INDEX, its PIN locked by three wrong PINs; bails out when that fails.
locked_card() {
	local index=$1 name=$2
	shift 2
	card_create "$name" --pin "$PIN" --user-code "$USER_CODE" "$@"
	card_insert "$index" "$name" || bail_out "card $name not inserted"
	lock_pin "$index" || bail_out "could not lock the PIN of card $name"
}

# hex STRING: the bytes of STRING as "41 62 ..." for an APDU.
hex() {
	printf '%s' "$1" | od -An -tx1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//' | tr a-f A-F
}

# verify_apdu REF SECRET: VERIFY of the PIN (REF 01) or the user code (REF 02).
verify_apdu() {
	printf '80 20 00 %s %02X %s' "$1" "${#2}" "$(hex "$2")"
}

# lock_pin INDEX: three wrong PINs on the card in reader INDEX, as a holder who mistyped;
# prints nothing, fails unless the card answered 63C2, 63C1, 63C0.
lock_pin() {
	local got
	got="$(apdu_sw "$1" "$(verify_apdu 01 999999)"),$(apdu_sw "$1" "$(verify_apdu 01 999999)"),$(apdu_sw "$1" "$(verify_apdu 01 999999)")"
	[ "$got" = "63 C2,63 C1,63 C0" ] || {
		echo "lock_pin: the card answered $got" >&2
		return 1
	}
}

# wrong_user_codes INDEX N: N wrong user codes sent straight to the card (no tool involved).
wrong_user_codes() {
	local i
	for ((i = 0; i < $2; i++)); do
		apdu_sw "$1" "$(verify_apdu 02 Zz99zz99)" >/dev/null
	done
}

# counters NAME: "pin_tries/user_code_tries" of card NAME, e.g. "0/3".
counters() {
	echo "$(vcard_status_get "$1" pin_tries)/$(vcard_status_get "$1" user_code_tries)"
}

# secret_commands NAME: how many commands that can spend a try card NAME has received
# (VERIFY with data, CHANGE REFERENCE DATA, RESET RETRY COUNTER), from its log.
secret_commands() {
	grep -cE 'INS=20 P1=00 P2=0[12] Lc=[1-9]|INS=24 |INS=2C ' "$(card_log "$1")" || true
}

# pin_works PIN: a user login with PIN through pkcs11-tool sees the private keys.
pin_works() {
	local out
	out=$(LOGIN_PIN=$1 pkcs11-tool --module "$P11U_MODULE" --login --pin env:LOGIN_PIN \
		--list-objects --type privkey 2>&1) || return 1
	grep -q 'Private Key Object' <<<"$out"
}

# ----- on a terminal (tmux) ---------------------------------------------------------------

tmux_cmd() {
	: "${TMUX_SOCKET:=$TEST_TMP/tmux.sock}"
	tmux -u -S "$TMUX_SOCKET" -f /dev/null "$@"
}

# tmux_session CMD: CMD in a new 150x60 terminal (a new tmux session of one server; the
# previous one is closed).
SESSION=0
tmux_session() {
	[ "$SESSION" = 0 ] || tmux_cmd kill-session -t "tool$SESSION" >/dev/null 2>&1
	SESSION=$((SESSION + 1))
	tmux_cmd new-session -d -s "tool$SESSION" -x 150 -y 60 "$1"
}

# tmux_start ARGS...: p11unlock ARGS...; when it ends the pane shows "EXIT=<status>".  The
# pane's shell survives a Ctrl-C sent to the tool (trap; the tool gets SIGINT's default action).
tmux_start() {
	tmux_session "trap : INT; '$P11U_TOOL' $*; echo EXIT=\$?; sleep 600"
}

screen() {
	tmux_cmd capture-pane -p -J -t "tool$SESSION" -S -300 2>&1
}

# wait_screen ERE: until the screen matches (10 s at most); false otherwise.  An ERE of one
# line is matched line by line (grep), one with a newline against the whole screen.
wait_screen() {
	local i
	for ((i = 0; i < 100; i++)); do
		if [[ $1 == *$'\n'* ]]; then
			[[ $(screen) =~ $1 ]] && return 0
		else
			grep -Eq -- "$1" <<<"$(screen)" && return 0
		fi
		sleep 0.1
	done
	return 1
}

# answer TEXT: types TEXT and Enter.
answer() {
	tmux_cmd send-keys -t "tool$SESSION" -l "$1"
	tmux_cmd send-keys -t "tool$SESSION" Enter
}

# step DESC ERE: one test, passes when the screen comes to match ERE.
step() {
	if wait_screen "$2"; then
		pass "$1"
	else
		fail "$1" "the screen never matched /$2/; it shows:" "$(screen)"
	fi
}
