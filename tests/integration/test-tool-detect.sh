#!/bin/bash
# Finding the card, as the form's 偵測卡片 button does:
# - no card on a terminal: the tool says so and offers to detect again (Enter); the card put in
#   meanwhile is found and the steps go on;
# - Ctrl-C there, or at a later question, says that nothing was sent to the card;
# - no reader, and no card with the number asked for (--serial): the same offer; the end of
#   the input ends the tool (exit 6);
# - a p11unlock test card while test cards are switched off (allow_test_cards = no, the
#   installed default) is named with the setting, not reported as "No card found" (once the
#   module reports such a card through P11U_GetCardInfo: see tools/p11unlock/vendor.h).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux

plan 20

tool_setup
rig_up
card_create jade --pin "$PIN" --user-code "$USER_CODE"

# --- no card, then the card ------------------------------------------------------------------------------
tmux_start --lang en
step "no card: said" "^No card found: insert your card into the reader\.$"
step "no card: detect again with Enter" "^Press Enter to detect the cards again \(Ctrl-C to quit\): $"
answer ""
step "Enter without a card: asked again" \
	"Press Enter to detect the cards again \\(Ctrl-C to quit\\): "$'\n'"No card found: insert your card into the reader\\."$'\n'"Press Enter to detect the cards again \\(Ctrl-C to quit\\): "
card_insert 0 jade || bail_out "card jade not inserted"
answer ""
step "the card put in is found" "^\[1\] Card number: XC00000000091349$"
step "and the steps go on" "^User code \(6-10 characters\): $"
tmux_cmd send-keys -t "tool$SESSION" C-c
step "Ctrl-C at a question: nothing was sent, exit 130" \
	"User code \\(6-10 characters\\): "$'\n'"Interrupted: nothing was sent to the card\\."$'\n'"EXIT=130"
is "$(secret_commands jade)" 0 "Ctrl-C: no VERIFY, CHANGE or RESET reached the card"
card_remove 0

# --- Ctrl-C while waiting for a card ------------------------------------------------------------------
tmux_start --lang zh_TW
step "zh_TW: no card" "^找不到卡片：請將卡片插入讀卡機。$"
step "zh_TW: 偵測卡片" "^請按 Enter 重新偵測卡片（按 Ctrl-C 結束）：$"
tmux_cmd send-keys -t "tool$SESSION" C-c
step "zh_TW: Ctrl-C: nothing was sent, exit 130" \
	"請按 Enter 重新偵測卡片（按 Ctrl-C 結束）：(\\^C)?"$'\n'"已中斷：沒有對卡片送出任何指令。"$'\n'"EXIT=130"

# --- no card with the number asked for ------------------------------------------------------------------
card_create kate --card-number XC00000000000011 --pin "$PIN" --user-code "$USER_CODE"
card_insert 1 kate || bail_out "card kate not inserted"
tmux_start --lang en --serial XC00000000091349
step "--serial not found: said" "^No card matches --serial, --slot or --token\.$"
step "--serial not found: detect again" "^Press Enter to detect the cards again \(Ctrl-C to quit\): $"
card_insert 0 jade || bail_out "card jade not inserted"
answer ""
step "--serial: the card put in is chosen" "^Card XC00000000091349 is chosen\.$"
tmux_cmd send-keys -t "tool$SESSION" C-c
step "--serial: Ctrl-C, exit 130" "EXIT=130"
card_remove 0
card_remove 1

# --- no reader; the end of the input ----------------------------------------------------------------------
tmux_session "env PCSCLITE_CSOCK_NAME='$TEST_TMP/no-pcscd.comm' '$P11U_TOOL' --lang en; echo EXIT=\$?; sleep 600"
step "no reader: said" "^No smart card reader found\.$"
step "no reader: detect again" "^Press Enter to detect the cards again \(Ctrl-C to quit\): $"
tmux_cmd send-keys -t "tool$SESSION" C-d
step "no reader: the end of the input ends the tool, exit 6" "EXIT=6"

# --- a test card while test cards are switched off -----------------------------------------------------------
printf 'allow_test_cards = no\n' >"$TEST_TMP/off.conf"
card_insert 0 jade || bail_out "card jade not inserted"
withheld="Card XC00000000091349 in reader \"$(reader_name 0)\" is a p11unlock test card (P11U V1). Test cards are switched off: the module gives them no token unless allow_test_cards = yes is set in $TEST_TMP/off.conf."
RC=0
P11UNLOCK_CONF=$TEST_TMP/off.conf "$P11U_TOOL" --list >"$TEST_TMP/off.out" 2>"$TEST_TMP/off.err" </dev/null || RC=$?
if grep -q P11UNLOCK_CARD_TEST_DISABLED "$top_srcdir/include/p11unlock/p11unlock.h"; then
	is "$RC.$(cat "$TEST_TMP/off.err")" "6.$withheld" "test cards switched off: --list names the card and the setting"
	RC=0
	printf '%s\n' "$USER_CODE" 654321 654321 | P11UNLOCK_CONF=$TEST_TMP/off.conf "$P11U_TOOL" \
		>"$TEST_TMP/off.out" 2>"$TEST_TMP/off.err" || RC=$?
	is "$RC.$(cat "$TEST_TMP/off.err")" "6.$withheld" "test cards switched off: the unlock names the card and the setting"
else
	# The module gives such a card no token and tells nobody (P11U_GetCardInfo: no card).
	is "$RC.$(cat "$TEST_TMP/off.err")" "6.No card found: insert your card into the reader." \
		"test cards switched off, a module that does not report them: No card found (exit 6)"
	skip "test cards switched off: the card and the setting named" \
		"needs the module to report the card (P11UNLOCK_CARD_TEST_DISABLED, tools/p11unlock/vendor.h)"
fi
is "$(secret_commands jade)" 0 "nothing that can spend a try ever reached the card"
