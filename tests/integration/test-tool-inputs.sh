#!/bin/bash
# p11unlock checks every answer before it touches the card: PINs of 5 and 9
# characters, user codes of 5 and 11, spaces, non-ASCII characters, a
# mismatched confirmation, empty lines and the end of the input are each
# refused with their exact message and exit status 2, and the card receives no
# command that could spend a try (its counters stay as they were).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool

plan 34

tool_setup
rig_up
locked_card 0 carol
wrong_user_codes 0 1
is "$(counters carol)" 0/2 "prepared: PIN locked, 2 user-code tries left"
commands_before=$(secret_commands carol)

nl=$'\n'
# refused DESC INPUT MESSAGE [ARGS...]: exit 2, exactly MESSAGE on stderr.
refused() {
	local desc=$1 input=$2 message=$3
	shift 3
	tool_run "$input" "$@"
	is "$RC" 2 "$desc: exit 2"
	is "$ERR" "$message" "$desc: message"
}

refused "5-character PIN" "$USER_CODE${nl}12345${nl}12345${nl}" \
	"New PIN: too short, it must have 6 to 8 characters."
refused "9-character PIN" "$USER_CODE${nl}123456789${nl}123456789${nl}" \
	"New PIN: too long, it must have 6 to 8 characters."
refused "5-character user code" "Ab12c${nl}654321${nl}654321${nl}" \
	"User code: too short, it must have 6 to 10 characters."
refused "11-character user code" "Ab12cd34567${nl}654321${nl}654321${nl}" \
	"User code: too long, it must have 6 to 10 characters."
refused "a space in the user code" "Ab12 cd34${nl}654321${nl}654321${nl}" \
	"User code: must not contain spaces."
refused "a space in the new PIN" "$USER_CODE${nl}654 321${nl}654 321${nl}" \
	"New PIN: must not contain spaces."
refused "non-ASCII user code" "用戶代碼12${nl}654321${nl}654321${nl}" \
	"User code: only letters, digits and ASCII symbols are allowed."
refused "non-ASCII (full-width) PIN" "$USER_CODE${nl}６５４３２１${nl}６５４３２１${nl}" \
	"New PIN: only letters, digits and ASCII symbols are allowed."
refused "mismatched confirmation" "$USER_CODE${nl}654321${nl}654320${nl}" \
	"The two new PINs differ."
refused "empty line for the user code" "${nl}654321${nl}654321${nl}" \
	"User code: must not be empty."
refused "blank line for the new PIN" "$USER_CODE${nl}   ${nl}654321${nl}" \
	"New PIN: must not be empty."
refused "no input at all" "" \
	"User code: the input ended before an answer."
refused "input ending before the confirmation" "$USER_CODE${nl}654321${nl}" \
	"New PIN (again): the input ended before an answer."
if have_zh_catalog; then
	refused "zh_TW: 5-character PIN" "$USER_CODE${nl}12345${nl}12345${nl}" \
		"新PIN碼：太短，長度須為 6 至 8 個字元。" --lang zh_TW
	refused "zh_TW: mismatched confirmation" "$USER_CODE${nl}654321${nl}654320${nl}" \
		"兩次輸入的新PIN碼不一致。" --lang zh_TW
else
	for d in "5-character PIN: exit" "5-character PIN: message" "mismatch: exit" "mismatch: message"; do
		skip "zh_TW: $d" "no zh_TW catalog (NLS disabled)"
	done
fi

is "$(counters carol)" 0/2 "after every refused input: the card's counters are unchanged"
is "$(secret_commands carol)" "$commands_before" \
	"after every refused input: no VERIFY, CHANGE or RESET reached the card"

# Valid answers still work afterwards: an 8-character PIN of letters, digits and symbols.
tool_run "$USER_CODE${nl}!a2B#c4D${nl}!a2B#c4D${nl}"
is "$RC.$(counters carol)" "0.3/3" "then valid answers unlock the card"
