#!/bin/bash
# The holder's secrets reach the card the holder chose, and a try is spent only where the
# holder saw the count (two virtual cards, the real pcscd, the tool as a holder runs it):
# - the card in the reader is swapped while the tool waits for the answers (unlock with
#   --serial and --last-try, and --change-pin): the other card receives nothing, the tool
#   says so (exit 6);
# - another process spends a user-code try while the tool waits at the confirmation: nothing
#   is sent, the new count is shown, and the now last try asks for the typed "yes".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux

plan 35

tool_setup
rig_up

OTHER_NUMBER=XC00000000077777
OTHER_CODE=Bb34ef56
export NEWPIN=24681357

# tool_bg NAME ARGS...: p11unlock ARGS in the background, its answers from a pipe the test
# writes to later (answer_bg); stdout and stderr in $TEST_TMP/NAME.out and NAME.err.
tool_bg() {
	local name=$1
	shift
	rm -f "$TEST_TMP/$name.in"
	mkfifo "$TEST_TMP/$name.in"
	"$P11U_TOOL" "$@" <"$TEST_TMP/$name.in" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	echo $! >"$TEST_TMP/$name.pid"
	exec 7>"$TEST_TMP/$name.in"
}

# until_output NAME ERE: waits (20 s at most) until the tool's stdout matches.
until_output() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$2" "$TEST_TMP/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "the tool never printed /$2/:" "$(cat "$TEST_TMP/$1.out" "$TEST_TMP/$1.err")"
	return 1
}

# answer_bg NAME TEXT: the answers, then the end of input; sets RC to the tool's exit status.
answer_bg() {
	printf '%s' "$2" >&7
	exec 7>&-
	RC=0
	wait "$(cat "$TEST_TMP/$1.pid")" || RC=$?
}

# other_card NAME PIN_TRIES_TO_SPEND USER_CODE_TRIES_TO_SPEND: the second card, prepared in
# reader 1 and taken out again, ready to be put where the first one was.
other_card() {
	card_create "$1" --card-number "$OTHER_NUMBER" --pin 654321 --user-code "$OTHER_CODE"
	card_insert 1 "$1" || bail_out "card $1 not inserted"
	local i
	for ((i = 0; i < $2; i++)); do
		apdu_sw 1 "$(verify_apdu 01 999999)" >/dev/null
	done
	wrong_user_codes 1 "$3"
	card_remove 1
}

swap_in() {
	card_remove 0
	card_insert 0 "$1" || bail_out "card $1 not inserted"
}

# --- unlock: the card swapped while the tool waits for the answers ---------------------------------
locked_card 0 alba
other_card bria 3 2
is "$(counters bria)" 0/1 "the other card: PIN locked, one user-code try left"
before=$(secret_commands bria)
tool_bg swap --serial "$CARD_NUMBER" --last-try
until_output swap "Step 3: user code and new PIN" || true
like "$(cat "$TEST_TMP/swap.out")" "Card $CARD_NUMBER is chosen\." "unlock: card A chosen"
swap_in bria
answer_bg swap "$USER_CODE"$'\n'"$NEWPIN"$'\n'"$NEWPIN"$'\n'
is "$RC" 6 "unlock after a swap: exit 6"
is "$(cat "$TEST_TMP/swap.err")" "Card $CARD_NUMBER was removed or replaced after you chose it. Nothing was sent to any card. Insert your card and run p11unlock again." \
	"unlock after a swap: says the card changed and nothing was sent"
is "$(counters bria)" 0/1 "the other card kept its last user-code try"
is "$(secret_commands bria)" "$before" "the other card received no VERIFY, CHANGE or RESET"
unlike "$(cat "$TEST_TMP/swap.out")" "Card unlocked" "no success claimed"

# --- --change-pin: the card swapped while the tool waits for the current PIN -----------------------
card_remove 0
card_create cora --card-number XC00000000000003 --pin "$PIN" --user-code "$USER_CODE"
card_insert 0 cora || bail_out "card cora not inserted"
other_card dana 2 0
is "$(counters dana)" 1/3 "the other card: one PIN try left"
before=$(secret_commands dana)
tool_bg change --change-pin --serial XC00000000000003
until_output change "Card XC00000000000003 is chosen\." || true
swap_in dana
answer_bg change "$PIN"$'\n'"$NEWPIN"$'\n'"$NEWPIN"$'\n'
is "$RC" 6 "--change-pin after a swap: exit 6"
like "$(cat "$TEST_TMP/change.err")" "Card XC00000000000003 was removed or replaced after you chose it\." \
	"--change-pin after a swap: says the card changed"
is "$(counters dana)" 1/3 "the other card kept its last PIN try"
is "$(secret_commands dana)" "$before" "the other card received no VERIFY, CHANGE or RESET"

# The same commands without a swap still work (the session held from the choice on).
swap_in cora
tool_run "$PIN"$'\n'"$NEWPIN"$'\n'"$NEWPIN"$'\n' --change-pin --serial XC00000000000003
is "$RC" 0 "--change-pin without a swap: exit 0"
like "$OUT" "PIN changed" "--change-pin: PIN changed"
ok "--change-pin: the new PIN logs in" pin_works "$NEWPIN"

# --- a try spent by another process while the tool waits at the confirmation ------------------------
card_remove 0
locked_card 0 elsa
wrong_user_codes 0 1
is "$(counters elsa)" 0/2 "card E: PIN locked, two user-code tries left"
verifies_before=$(secret_commands elsa)
tmux_start --lang en --serial "$CARD_NUMBER"
step "race: the user code prompt" "User code \(6-10 characters\): $"
answer Zz99zz99
step "race: the new PIN" "New PIN \(6-8 characters\): $"
answer "$NEWPIN"
step "race: again" "New PIN again: $"
answer "$NEWPIN"
step "race: step 4 shows two tries" "User code: 2 tries left"
step "race: the ordinary confirmation" "\[y/N\] $"
is "$(apdu_sw 0 "$(verify_apdu 02 Yy88yy88)")" "63 C1" "another process spends a user-code try meanwhile"
answer y
step "race: nothing sent, the change said" "The number of tries left changed while you answered \(another program used the card\)\. Nothing was sent to the card; here is the new count\."
step "race: the new count" "User code: 1 try left"
step "race: the last-try warning" "Warning: the user code has one try left\."
step "race: the typed yes is asked for" "Type \"yes\" to use the last try: $"
answer no
step "race: not confirmed, exit 5" "Not confirmed: nothing was sent to the card\."$'\n'"EXIT=5"
is "$(counters elsa)" 0/1 "race: the card still has its last try"
is "$(secret_commands elsa)" "$((verifies_before + 1))" "race: only the other process's VERIFY reached the card"

# Confirmed this time, with the right user code: the last try releases the card.
tmux_start --lang en --serial "$CARD_NUMBER"
step "last try: the user code prompt" "User code \(6-10 characters\): $"
answer "$USER_CODE"
step "last try: the new PIN" "New PIN \(6-8 characters\): $"
answer "$NEWPIN"
step "last try: again" "New PIN again: $"
answer "$NEWPIN"
step "last try: the typed yes is asked for" "Type \"yes\" to use the last try: $"
answer yes
step "last try: released, exit 0" "Card unlocked and PIN reset"$'\n'"EXIT=0"
is "$(counters elsa)" 3/3 "last try: the card agrees (3/3)"
