#!/bin/bash
# p11unlock with unusual standard streams and arguments:
# - stdin, stdout or stderr closed: the tool fills them with /dev/null before the module opens
#   its pcscd socket, so it never reads answers from that socket nor writes its headings into
#   it: a scripted unlock with stdin closed ends as end of input (exit 2) and nothing that can
#   spend a try reaches the card; --list with stdout (and stderr) closed exits 0; with stdout
#   closed and the answers on stdin, the card is released.
# - stdout a pipe whose reader is gone: the release still says success (exit 0, not 141 for
#   SIGPIPE) and the card is released.
# - a secret typed as an argument is never repeated in the usage error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd pkcs11-tool opensc
require_cmd timeout coreutils

plan 34

tool_setup
rig_up
locked_card 0 dave
is "$(counters dave)" 0/3 "prepared: PIN locked, 3 user-code tries"
commands_before=$(secret_commands dave)

nl=$'\n'
# closed_run ARGS...: p11unlock ARGS with the redirections set up by the caller (a stuck tool
# is ended after 30 s); sets RC, and ERR from $TEST_TMP/streams.err when the caller sent it there.
closed_run() {
	RC=0
	timeout 30 "$P11U_TOOL" "$@" || RC=$?
	ERR=$(cat "$TEST_TMP/streams.err" 2>/dev/null)
	rm -f "$TEST_TMP/streams.err"
}

# --- closed standard streams ---------------------------------------------------------------
closed_run --serial "$CARD_NUMBER" <&- >"$TEST_TMP/streams.out" 2>"$TEST_TMP/streams.err"
is "$RC" 2 "stdin closed, scripted unlock: exit 2 (end of input)"
is "$ERR" "User code: the input ended before an answer." "stdin closed: the end-of-input message"
like "$(cat "$TEST_TMP/streams.out")" "Step 1: detect the cards" "stdin closed: the steps still go to stdout"

closed_run --serial "$CARD_NUMBER" <&- >&- 2>"$TEST_TMP/streams.err"
is "$RC" 2 "stdin and stdout closed, scripted unlock: exit 2 (end of input)"
is "$ERR" "User code: the input ended before an answer." "stdin and stdout closed: the end-of-input message"

closed_run --serial "$CARD_NUMBER" --yes <&- >&- 2>&-
is "$RC" 2 "stdin, stdout and stderr closed, scripted unlock: exit 2"

closed_run --list >&- 2>"$TEST_TMP/streams.err"
is "$RC" 0 "stdout closed: --list exits 0"
is "$ERR" "" "stdout closed: --list says nothing on stderr"

closed_run --list >&- 2>&-
is "$RC" 0 "stdout and stderr closed: --list exits 0"

closed_run --status --serial "$CARD_NUMBER" <&- >"$TEST_TMP/streams.out" 2>"$TEST_TMP/streams.err"
is "$RC" 0 "stdin closed: --status exits 0"
like "$(cat "$TEST_TMP/streams.out")" "PIN: locked" "stdin closed: --status shows the card"

is "$(counters dave)" 0/3 "after the closed streams: the card's counters are unchanged"
is "$(secret_commands dave)" "$commands_before" \
	"after the closed streams: no VERIFY, CHANGE or RESET reached the card"

# Answers on stdin, stdout closed: the release goes through, its report to /dev/null.
closed_run --serial "$CARD_NUMBER" >&- 2>"$TEST_TMP/streams.err" <<<"$USER_CODE${nl}654321${nl}654321"
is "$RC.$ERR" "0." "stdout closed, scripted unlock: exit 0, nothing on stderr"
is "$(counters dave)" 3/3 "stdout closed: the card is released (3/3)"
[ "$(counters dave)" = 0/3 ] || lock_pin 0 || bail_out "could not lock the PIN of card dave again"

# --- stdout a pipe whose reader is gone ----------------------------------------------------------
# The reader closes its end and says so before the tool starts: every write gets EPIPE.
rm -f "$TEST_TMP/reader-gone" "$TEST_TMP/pipe.rc"
{
	while [ ! -e "$TEST_TMP/reader-gone" ]; do sleep 0.05; done
	rc=0
	printf '%s\n' "$USER_CODE" 246810 246810 |
		timeout 30 "$P11U_TOOL" --serial "$CARD_NUMBER" 2>"$TEST_TMP/pipe.err" || rc=$?
	echo "$rc" >"$TEST_TMP/pipe.rc"
} | {
	exec <&-
	touch "$TEST_TMP/reader-gone"
}
is "$(cat "$TEST_TMP/pipe.rc")" 0 "unlock with stdout a closed pipe: exit 0 (not 141, SIGPIPE)"
is "$(cat "$TEST_TMP/pipe.err")" "" "closed pipe: nothing on stderr"
is "$(counters dave)" 3/3 "closed pipe: the card is released (3/3)"
is "$(vcard_status_get dave pin_blocked)" 0 "closed pipe: pin_blocked=0"
ok "closed pipe: the new PIN logs in" pin_works 246810

# --- secrets typed as arguments ------------------------------------------------------------------
SECRET=Ab12cd34xyz
try_hint="Try 'p11unlock --help' for more information."
stray="An unexpected argument was given (not shown: it may be a secret). The user code and PINs are asked for, never given on the command line."
# refused_args DESC MESSAGE ARGS...: exit 2, exactly MESSAGE and the --help hint on stderr,
# nothing on stdout, the secret nowhere.
refused_args() {
	local desc=$1 message=$2
	shift 2
	tool_run "" "$@"
	is "$RC" 2 "$desc: exit 2"
	is "$ERR" "$message$nl$try_hint" "$desc: message"
	unlike "$OUT$ERR" "$SECRET|${SECRET#Ab}" "$desc: the secret is not repeated"
}
refused_args "a stray argument" "$stray" "$SECRET"
refused_args "an unknown option with a value" "Unknown option: --pin" "--pin=$SECRET"
refused_args "a secret as short options" "Unknown option: -A" "-$SECRET"
tool_run "" --serial "$CARD_NUMBER" -- "$SECRET"
is "$RC.$ERR" "2.$stray$nl$try_hint" "a stray argument after --: refused, not repeated"
tool_run "" --list="$SECRET"
is "$RC.$ERR" "2.--list takes no value.$nl$try_hint" "a value for an option without one: not repeated"
tool_run "" --serial
is "$RC.$ERR" "2.--serial needs a value.$nl$try_hint" "an option missing its value: named"
if have_zh_catalog; then
	tool_run "" --lang zh_TW "$SECRET"
	is "$RC.$ERR" "2.有未預期的引數（不予顯示：可能是用戶代碼或PIN碼）。用戶代碼與PIN碼會另行詢問，不可寫在命令列上。$nl請執行「p11unlock --help」以取得更多資訊。" \
		"zh_TW: a stray argument, not repeated"
else
	skip "zh_TW: a stray argument, not repeated" "no zh_TW catalog (NLS disabled)"
fi
