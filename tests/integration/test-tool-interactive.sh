#!/bin/bash
# p11unlock on a terminal, driven through tmux (send-keys / capture-pane): every
# step on screen, answers typed with echo off, a bad answer asked again, the
# confirmations (the ordinary one, and "yes" for the user code's last try),
# the card chosen by its number; in English and in Traditional Chinese.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux

plan 53

tool_setup
rig_up
locked_card 0 erin

# --- English: a locked card, a too short PIN and a mismatch asked again ---------------------------
tmux_start --lang en
step "en: step 1 lists the card" "Step 1: detect the cards"
step "en: the card's lock on screen" "    PIN: locked"
step "en: step 2 chooses the only card" "Card XC00000000091349 is chosen\."
step "en: step 3" "Step 3: user code and new PIN"
unlike "$(screen)" "not locked" "en: no 'not locked' note for a locked card"
step "en: step 3 asks for the user code" "User code \(6-10 characters\): $"
answer "$USER_CODE"
step "en: then the new PIN" "New PIN \(6-8 characters\): $"
answer 12345
step "en: a 5-character PIN is refused on the spot" "New PIN: too short, it must have 6 to 8 characters\."
step "en: and the new PIN asked again" "New PIN \(6-8 characters\): $"
answer 654321
step "en: then the confirmation" "New PIN again: $"
answer 654320
step "en: a mismatch is refused" "The two new PINs differ\."
step "en: and the new PIN asked again" "New PIN \(6-8 characters\): $"
answer 654321
step "en: confirmation asked again" "New PIN again: $"
answer 654321
step "en: step 4 shows the user code's tries" "Step 4: user code tries left"
step "en: the ordinary confirmation" "Unlock card XC00000000091349 and set the new PIN now\? \[y/N\] $"
answer y
step "en: step 5 and the success message" "Step 5: release the lock"
step "en: exit 0 after 'Card unlocked and PIN reset'" "Card unlocked and PIN reset"$'\n'"EXIT=0"
unlike "$(screen)" "$USER_CODE|654321|654320|12345[^0-9]" "en: nothing typed was echoed"
is "$(counters erin)" 3/3 "en: the card agrees (3/3)"

# --- English: the ordinary confirmation declined --------------------------------------------------
lock_pin 0 || bail_out "could not lock the PIN again"
tmux_start --lang en
step "decline: user code prompt" "User code \(6-10 characters\): $"
answer "$USER_CODE"
wait_screen "New PIN \(6-8 characters\): $" && answer 654321
wait_screen "New PIN again: $" && answer 654321
step "decline: the confirmation" "\[y/N\] $"
answer n
step "decline: nothing sent, exit 5" "Not confirmed: nothing was sent to the card\."$'\n'"EXIT=5"
is "$(counters erin)" 0/3 "decline: the card's counters unchanged"

# --- Chinese: one user-code try left, the typed "yes" ------------------------------------------------
if have_zh_catalog; then
	wrong_user_codes 0 2
	tmux_start --lang zh_TW
	step "zh_TW: 步驟 1" "步驟 1：偵測卡片"
	step "zh_TW: the card number" "\[1\] 卡號：XC00000000091349"
	step "zh_TW: validity 自...至..." "    有效期限：自2025年9月1日 至 2031年9月1日"
	step "zh_TW: PIN碼：已鎖卡" "    PIN碼：已鎖卡"
	step "zh_TW: 用戶代碼：剩餘 1 次" "    用戶代碼：剩餘 1 次"
	step "zh_TW: 步驟 2" "已選擇卡片 XC00000000091349。"
	step "zh_TW: 步驟 3 asks for the user code" "用戶代碼（6 至 10 個字元）：$"
	answer "$USER_CODE"
	step "zh_TW: the new PIN" "新PIN碼（6 至 8 個字元）：$"
	answer 24682468
	step "zh_TW: the confirmation" "再次輸入新PIN碼：$"
	answer 24682468
	step "zh_TW: the last-try warning" "警告：用戶代碼只剩 1 次機會。若這次的用戶代碼錯誤，卡片將無法解鎖，直到組織及團體憑證管理中心重設用戶代碼為止。"
	step "zh_TW: the last try needs a typed yes (or 是)" "請輸入 yes 或「是」以使用最後一次機會：$"
	answer 是
	step "zh_TW: 步驟 5" "步驟 5：解除鎖卡並重設PIN碼"
	step "zh_TW: 鎖卡解碼/重設PIN碼成功, exit 0" "鎖卡解碼/重設PIN碼成功"$'\n'"EXIT=0"
	unlike "$(screen)" "$USER_CODE|24682468" "zh_TW: nothing typed was echoed"
	is "$(counters erin)" 3/3 "zh_TW: the card agrees (3/3)"
else
	for ((i = 0; i < 15; i++)); do
		skip "zh_TW session" "no zh_TW catalog (NLS disabled)"
	done
fi

counters_before_signals=$(counters erin)

# --- Ctrl-Z at a hidden prompt, then fg: the answer typed after fg is not echoed either ------------
# (An interactive bash for job control.  On the stop bash gives the terminal its own settings
# back; fg does not restore the tool's, so the tool turns echo off again itself.)
tmux_session "env PS1='shell$ ' bash --norc --noprofile -i"
step "job control: a shell" 'shell\$ $'
answer "'$P11U_TOOL' --lang en --serial $CARD_NUMBER"
step "job control: the user code prompt" "User code \(6-10 characters\): $"
tmux_cmd send-keys -t "tool$SESSION" C-z
step "job control: Ctrl-Z stops the tool" "Stopped"
answer fg
step "job control: after fg the question is asked again" \
	"shell\\$ fg"$'\n'"[^"$'\n'"]*p11unlock[^"$'\n'"]*"$'\n'"User code \\(6-10 characters\\): "
answer "$USER_CODE"
step "job control: then the new PIN" "New PIN \(6-8 characters\): $"
unlike "$(screen)" "$USER_CODE" "job control: the user code typed after fg was not echoed"
tmux_cmd send-keys -t "tool$SESSION" C-c
step "job control: Ctrl-C ends the tool" 'shell\$ $'
answer 'echo EXIT=$?'
step "job control: exit status 130 (SIGINT)" "^EXIT=130$"

# --- Ctrl-C at a hidden prompt: echo back on for whatever runs next in the terminal -----------------
# (No interactive shell here: bash would restore its own terminal settings after a signal.  The
# trap keeps sh alive; the tool, exec'ed, gets SIGINT's default action back.)
tmux_session "trap : INT; '$P11U_TOOL' --lang en --serial $CARD_NUMBER; echo EXIT=\$?;
	stty -a | tr ' ;' '\n\n' | grep -xE -- '-?echo' | sed 's/^/TTY=/'; sleep 600"
step "Ctrl-C: the user code prompt" "User code \(6-10 characters\): $"
answer "$USER_CODE"
step "Ctrl-C: the new PIN prompt" "New PIN \(6-8 characters\): $"
tmux_cmd send-keys -t "tool$SESSION" C-c
step "Ctrl-C: the tool ends (exit 130) on a new line saying nothing was sent, and echo is on again" \
	"New PIN \\(6-8 characters\\): "$'\n'"Interrupted: nothing was sent to the card\\."$'\n'"EXIT=130"$'\n'"TTY=echo"
is "$(counters erin)" "$counters_before_signals" "Ctrl-Z and Ctrl-C: nothing was sent to the card"

# --- choosing one of two cards by its number -------------------------------------------------------
card_create frank --card-number XC00000000000002 --pin "$PIN" --user-code "$USER_CODE"
card_insert 1 frank || bail_out "second card not inserted"
tmux_start --lang en --status
step "two cards: the holder is asked to choose" "Choose a card \[1-2\]: $"
answer 3
step "two cards: a number not listed is refused" "Please enter the number of one of the cards listed above\."
answer 2
step "two cards: the chosen card's status, exit 0" "\[2\] Card number: XC00000000000002"
