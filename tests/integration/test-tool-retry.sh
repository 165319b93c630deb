#!/bin/bash
# A wrong user code on a terminal: the tool says how many tries are left, that the user code is
# case-sensitive and what happens at 0 (the CA must reset it), and offers to type it again in
# the same run (the form's 重新輸入).  Each new attempt shows the count again and is sent with
# that count (P11U_Login); the last try still needs the typed "yes" (or 是), and declining it
# sends nothing.  Declining the new attempt ends with status 3.  Exactly one VERIFY per attempt
# reaches the card.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd tmux tmux

plan 30

tool_setup
rig_up
locked_card 0 hana
NEWPIN=24681357
CASE_HINT="The user code is case-sensitive: check capital and small letters\. When no tries are left, the card cannot be unlocked until the Organizations and Groups Certification Authority \(XCA\) resets the user code\."
verifies_before=$(secret_commands hana)

# --- two wrong user codes, then the right one on the last try -------------------------------------
tmux_start --lang en --serial "$CARD_NUMBER"
step "the user code" "^User code \(6-10 characters\): $"
answer Zz99zz99
wait_screen "^New PIN \(6-8 characters\): $" && answer "$NEWPIN"
wait_screen "^New PIN again: $" && answer "$NEWPIN"
step "the ordinary confirmation" "\[y/N\] $"
answer y
step "wrong: the tries left and the case-sensitivity hint" \
	"Wrong user code: 2 tries left\."$'\n'"$CASE_HINT"
step "wrong: offered to type the user code again" "^Type the user code again\? \[y/N\] $"
is "$(counters hana)" 0/2 "one try spent"
answer y
step "again: the user code is asked again" "^User code \(6-10 characters\): $"
answer aB12CD34
step "again: the count shown again, no second ordinary question" \
	"Step 4: user code tries left"$'\n'"User code: 2 tries left"$'\n'$'\n'"Step 5: release the lock"
step "second wrong: 1 try left" "Wrong user code: 1 try left\."$'\n'"$CASE_HINT"
is "$(counters hana)" 0/1 "two tries spent"
answer y
step "again: the user code" "^User code \(6-10 characters\): $"
answer "$USER_CODE"
step "the last try: the count and the warning" \
	"User code: 1 try left"$'\n'"Warning: the user code has one try left\."
step "the last try needs the typed yes" "^Type \"yes\" to use the last try: $"
answer yes
step "released on the last try, exit 0" "Card unlocked and PIN reset"$'\n'"EXIT=0"
unlike "$(screen)" "Zz99zz99|aB12CD34|$USER_CODE|$NEWPIN" "nothing typed was echoed"
is "$(counters hana)" 3/3 "the card agrees (3/3)"
is "$(($(secret_commands hana) - verifies_before))" 4 \
	"three user-code VERIFYs and one RESET RETRY COUNTER reached the card"
ok "the new PIN typed at the start logs in" pin_works "$NEWPIN"

# --- the last try declined after a new attempt: nothing sent --------------------------------------
lock_pin 0 || bail_out "could not lock the PIN again"
wrong_user_codes 0 1
is "$(counters hana)" 0/2 "prepared: two user-code tries"
verifies_before=$(secret_commands hana)
tmux_start --lang zh_TW --serial "$CARD_NUMBER"
step "zh_TW: the user code" "^用戶代碼（6 至 10 個字元）：$"
answer Zz99zz99
wait_screen "^新PIN碼（6 至 8 個字元）：$" && answer "$NEWPIN"
wait_screen "^再次輸入新PIN碼：$" && answer "$NEWPIN"
step "zh_TW: the question" "\[是\(y\)/否\(N\)\] $"
answer 是
step "zh_TW: wrong, 1 try left, case-sensitive, the CA at 0" \
	"用戶代碼錯誤，剩餘 1 次機會。"$'\n'"用戶代碼區分英文大小寫，請確認大小寫是否正確。剩餘次數用完後，卡片將無法解鎖，直到組織及團體憑證管理中心重設用戶代碼為止。"
step "zh_TW: 重新輸入?" "^要重新輸入用戶代碼嗎？\[是\(y\)/否\(N\)\] $"
answer 是
step "zh_TW: the user code again" "^用戶代碼（6 至 10 個字元）：$"
answer "$USER_CODE"
step "zh_TW: the last try needs yes or 是" "^請輸入 yes 或「是」以使用最後一次機會：$"
answer y
step "zh_TW: y is not enough for the last try: nothing sent, exit 5" \
	"未確認：沒有對卡片送出任何指令。"$'\n'"EXIT=5"
is "$(counters hana)" 0/1 "the last try kept"
is "$(($(secret_commands hana) - verifies_before))" 1 "only the first, wrong, user code reached the card"

# --- the new attempt declined: status 3 -------------------------------------------------------------
card_remove 0
"$P11U_VCARD" reset-user-code "$(card_state hana)" --new-user-code "$USER_CODE" >/dev/null
card_insert 0 hana || bail_out "card not inserted again"
tmux_start --lang en --serial "$CARD_NUMBER"
step "decline: the user code" "^User code \(6-10 characters\): $"
answer Zz99zz99
wait_screen "^New PIN \(6-8 characters\): $" && answer "$NEWPIN"
wait_screen "^New PIN again: $" && answer "$NEWPIN"
wait_screen "\[y/N\] $" && answer y
step "decline: offered" "^Type the user code again\? \[y/N\] $"
answer n
step "decline: exit 3" "Type the user code again\? \[y/N\] n"$'\n'"EXIT=3"
