#!/bin/bash
# The card chosen leaves the reader before or during the release: exit 6, the message entirely
# in the holder's language (no p11-kit English inside a Chinese sentence), and what had reached
# the card:
# - before the release step (on a terminal, while the tool waits for the confirmation; scripted,
#   a few commands before the user code's VERIFY): nothing was sent to any card;
# - right after the module read the count, before the user code's VERIFY: the user code may
#   have reached the card (the tool cannot know: it says "may", and to check the tries);
# - right after the user code's VERIFY, before RESET RETRY COUNTER: the user code was correct,
#   the new PIN may not be set; the card is then released by running the tool again.
# The card leaves through p11unlock-vcard --remove-after N (after its N-th command), N counted
# from a first run on an identical card.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux

plan 22

tool_setup
rig_up
NEWPIN=24681357
answers="$USER_CODE"$'\n'"$NEWPIN"$'\n'"$NEWPIN"$'\n'

# The position of the user code's VERIFY among the commands a scripted release sends to a card
# inserted just before it.
card_create probe --pin "$PIN" --user-code "$USER_CODE"
card_insert 0 probe || bail_out "probe card not inserted"
lock_pin 0 || bail_out "could not lock the probe card"
card_remove 0
card_insert 0 probe --log "$TEST_TMP/probe-run.log" || bail_out "probe card not inserted again"
tool_run "$answers" --serial "$CARD_NUMBER"
[ "$RC" = 0 ] || bail_out "the probe release failed: $ERR"
card_remove 0
V=$(sed -n 's/^apdu \([0-9]*\): .*INS=20 P1=00 P2=02 Lc=[1-9].*/\1/p' "$TEST_TMP/probe-run.log" | head -n 1)
[ -n "$V" ] || bail_out "no user-code VERIFY in the probe run"
diag "the user code's VERIFY is command $V of a release"

# release_with_removal NAME N [ARGS...]: card NAME (locked) inserted to leave after its N-th
# command, then a scripted release (sets RC, OUT, ERR).
release_with_removal() {
	local name=$1 n=$2
	shift 2
	card_create "$name" --pin "$PIN" --user-code "$USER_CODE"
	card_insert 0 "$name" || bail_out "card $name not inserted"
	lock_pin 0 || bail_out "could not lock card $name"
	card_remove 0
	card_insert 0 "$name" --remove-after "$n" --log "$TEST_TMP/$name-run.log" ||
		bail_out "card $name not inserted again"
	tool_run "$answers" --serial "$CARD_NUMBER" "$@"
	rig wait 0 empty >/dev/null 2>&1 || card_remove 0
}

data_verifies() {
	grep -cE 'INS=20 P1=00 P2=02 Lc=[1-9]' "$TEST_TMP/$1-run.log" || true
}

# --- before the release step -----------------------------------------------------------------------
release_with_removal before $((V - 2)) --lang zh_TW
is "$RC" 6 "removed before the release step: exit 6"
is "$ERR" "卡片 XC00000000091349 在您選擇之後已被移除或更換。沒有對任何卡片送出任何指令。請插入您的卡片後再執行一次 p11unlock。" \
	"removed before the release step (zh_TW): the whole message, nothing sent"
unlike "$ERR" "[A-Za-z]{5,} [a-z]{3,}" "removed before the release step (zh_TW): no English sentence inside"
is "$(data_verifies before).$(counters before)" "0.0/3" "removed before the release step: no VERIFY, counters unchanged"
release_with_removal before-en $((V - 2)) --lang en
is "$RC.$ERR" "6.Card XC00000000091349 was removed or replaced after you chose it. Nothing was sent to any card. Insert your card and run p11unlock again." \
	"removed before the release step (en): exit 6, nothing sent"

# --- after the count was read, before the VERIFY -------------------------------------------------------
release_with_removal login $((V - 1)) --lang zh_TW
is "$RC" 6 "removed at the VERIFY: exit 6"
is "$ERR" "卡片 XC00000000091349 在作業進行中被移除。您輸入的用戶代碼可能已送到卡片：請插入卡片，在再試一次之前先以 p11unlock --status 查看剩餘次數。" \
	"removed at the VERIFY (zh_TW): the user code may have reached the card, check the tries"
release_with_removal login-en $((V - 1)) --lang en
is "$RC.$ERR" "6.Card XC00000000091349 was removed while it was working. The user code you typed may have reached the card: insert it and check its tries left with p11unlock --status before you try again." \
	"removed at the VERIFY (en): exit 6, may have reached the card"
is "$(counters login-en)" 0/3 "removed at the VERIFY: (here the VERIFY never arrived) counters unchanged"

# --- after the VERIFY, before RESET RETRY COUNTER ------------------------------------------------------
release_with_removal initpin "$V" --lang zh_TW
is "$RC" 6 "removed after the user code was accepted: exit 6"
is "$ERR" "卡片 XC00000000091349 在作業進行中被移除。用戶代碼正確，但新PIN碼可能尚未設定：請插入卡片，以 p11unlock --status 查看；若PIN碼仍為鎖卡狀態，請再執行一次 p11unlock。" \
	"removed after the user code was accepted (zh_TW): the new PIN may not be set"
is "$(data_verifies initpin).$(counters initpin)" "1.0/3" \
	"the user code reached the card and was right (3 tries), the PIN is still locked"
release_with_removal initpin-en "$V" --lang en
is "$RC.$ERR" "6.Card XC00000000091349 was removed while it was working. The user code was correct, but the new PIN may not be set: insert the card and check it with p11unlock --status; if its PIN is still locked, run p11unlock again." \
	"removed after the user code was accepted (en)"
card_insert 0 initpin || bail_out "card initpin not inserted again"
tool_run "" --status --serial "$CARD_NUMBER"
like "$OUT" "    PIN: locked" "--status: the PIN is still locked, as the message said it may be"
tool_run "$answers" --serial "$CARD_NUMBER"
is "$RC.$(counters initpin)" "0.3/3" "running p11unlock again releases the card"
ok "the new PIN logs in" pin_works "$NEWPIN"
card_remove 0

# --- on a terminal: taken out while the tool waits for the confirmation ----------------------------------
locked_card 0 iris
tmux_start --lang zh_TW
step "terminal: the user code" "^用戶代碼（6 至 10 個字元）：$"
answer "$USER_CODE"
wait_screen "^新PIN碼（6 至 8 個字元）：$" && answer "$NEWPIN"
wait_screen "^再次輸入新PIN碼：$" && answer "$NEWPIN"
step "terminal: the question" "\[是\(y\)/否\(N\)\] $"
card_remove 0
answer 是
step "terminal: exit 6, in Chinese, nothing sent" \
	"卡片 XC00000000091349 在您選擇之後已被移除或更換。沒有對任何卡片送出任何指令。請插入您的卡片後再執行一次 p11unlock。"$'\n'"EXIT=6"
is "$(counters iris)" 0/3 "terminal: the card's counters unchanged"
unlike "$(screen)" "not present|unplugged|device" "terminal: no p11-kit English"
is "$(grep -cE 'INS=20 P1=00 P2=02 Lc=[1-9]' "$(card_log iris)" || true)" 0 "terminal: no user-code VERIFY reached the card"
