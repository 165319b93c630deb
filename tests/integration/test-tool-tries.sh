#!/bin/bash
# p11unlock and the user code's counter: a wrong user code costs exactly one
# try and says how many are left (the card agrees); with one try left the tool
# refuses without --last-try (--yes does not count) and sends nothing; with
# --last-try it goes ahead; a blocked user code is refused with the hint naming
# the CA that resets it, in both languages.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool

plan 26

tool_setup
rig_up
locked_card 0 bob

answers="Zz11zz11"$'\n'"654321"$'\n'"654321"$'\n'
right_answers="$USER_CODE"$'\n'"654321"$'\n'"654321"$'\n'

# --- wrong user code --------------------------------------------------------------------
case_hint="The user code is case-sensitive: check capital and small letters. When no tries are left, the card cannot be unlocked until the Organizations and Groups Certification Authority (XCA) resets the user code."
tool_run "$answers"
is "$RC" 3 "wrong user code: exit 3"
is "$ERR" "Wrong user code: 2 tries left.
$case_hint" "wrong user code: 2 tries left, the code is case-sensitive, what happens at 0"
is "$(counters bob)" 0/2 "the card agrees: user_code_tries=2, PIN still locked"
tool_run "" --list
like "$OUT" "    User code: 2 tries left" "--list shows 2 user-code tries left"
tool_run "$answers"
is "$RC.$ERR" "3.Wrong user code: 1 try left.
$case_hint" "second wrong user code: exit 3, 1 try left"
is "$(counters bob)" 0/1 "the card agrees: user_code_tries=1"

# --- one try left ---------------------------------------------------------------------------
commands_before=$(secret_commands bob)
tool_run "$right_answers"
is "$RC" 5 "one try left, no --last-try: exit 5"
like "$OUT" "User code: 1 try left" "one try left: the tries are shown"
like "$ERR" "^Warning: the user code has one try left\. If this user code is wrong, the card cannot be unlocked until the Organizations and Groups Certification Authority \(XCA\) resets the user code\.$" \
	"one try left: the warning names the CA"
like "$ERR" "Refused: the last try of the user code is used only with --last-try\. Nothing was sent to the card\." \
	"one try left: refused without --last-try"
tool_run "$right_answers" --yes
is "$RC" 5 "one try left, --yes: still exit 5 (--yes never confirms the last try)"
is "$(counters bob)" 0/1 "refused twice: counters unchanged"
is "$(secret_commands bob)" "$commands_before" "refused twice: no VERIFY, CHANGE or RESET reached the card"

tool_run "$right_answers" --last-try
is "$RC" 0 "one try left, --last-try and the right code: exit 0"
is "$(tail -n 1 <<<"$OUT")" "Card unlocked and PIN reset" "--last-try: unlocked"
is "$(counters bob)" 3/3 "the card agrees: 3/3"

# --- the last try spent on a wrong code -------------------------------------------------------
lock_pin 0 || bail_out "could not lock the PIN again"
wrong_user_codes 0 2
is "$(counters bob)" 0/1 "prepared: PIN locked, one user-code try left"
tool_run "$answers" --last-try
is "$RC" 3 "a wrong last try: exit 3"
like "$ERR" "^Wrong user code \(user code: blocked\)\.$" "a wrong last try: the user code is now blocked"
like "$ERR" "Only the Organizations and Groups Certification Authority \(XCA\) can reset the user code" \
	"a wrong last try: the CA reset hint"

# --- blocked ------------------------------------------------------------------------------------
commands_before=$(secret_commands bob)
tool_run "$right_answers"
is "$RC" 4 "blocked user code: exit 4"
is "$ERR" "The user code of card $CARD_NUMBER is blocked: no tries are left.
Only the Organizations and Groups Certification Authority (XCA) can reset the user code: bring the card to one of its offices or follow its web page. This tool cannot reset the user code.
After that reset, run p11unlock again with the new user code." "blocked: refused with the CA reset hint"
unlike "$OUT" "Step 3" "blocked: no user code is asked for"
if have_zh_catalog; then
	tool_run "$right_answers" --lang zh_TW
	is "$RC.$(head -n 2 <<<"$ERR")" "4.卡片 $CARD_NUMBER 的用戶代碼已鎖定，已無剩餘次數。
用戶代碼只能由組織及團體憑證管理中心重設：請攜帶卡片臨櫃辦理，或依其網站說明辦理。本工具無法重設用戶代碼。" \
		"blocked (zh_TW): the hint names 組織及團體憑證管理中心"
else
	skip "blocked (zh_TW)" "no zh_TW catalog (NLS disabled)"
fi
is "$(counters bob)/$(secret_commands bob)" "0/0/$commands_before" "blocked: counters unchanged, nothing sent"

# --- after the CA's reset of the user code ---------------------------------------------------------
card_remove 0
"$P11U_VCARD" reset-user-code "$(card_state bob)" --new-user-code Cd34ef56 >/dev/null
card_insert 0 bob || bail_out "card not inserted again"
tool_run "Cd34ef56"$'\n'"654321"$'\n'"654321"$'\n'
is "$RC.$(counters bob)" "0.3/3" "after the CA's user-code reset, the new user code unlocks the card"
