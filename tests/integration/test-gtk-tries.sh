#!/bin/bash
# p11unlock-gtk and the user code's tries: a wrong user code (the tries left shown, read from the
# card again, the entries emptied, one VERIFY sent); the last try asked for in a dialog before
# anything is sent, where Cancel sends nothing (the card's APDU log proves it) and "Use the last
# try" releases the card; the wrong user code in Chinese; the count changed by another program
# while the last-try dialog waits (the window sends nothing for the old count, then releases the
# card with the new one).  Screenshots of every step go to
# tests/artifacts/test-gtk-tries/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"
. "$(dirname "$0")/gtk-lib.sh"

require_rig
require_tool
require_gtk
require_cmd pkcs11-tool opensc

plan 31

tool_setup
rig_up
locked_card 0 alice
gtk_up
gtk_lang en
gtk_start
gtk_step "the card is shown" '^label\|User code: 3 tries left\|' gtk-en-6-start
WRONG=Zz99zz99

# --- a wrong user code ------------------------------------------------------------------------
commands_before=$(secret_commands alice)
gtk_fill "$WRONG" 654321
gtk click "$B_UNLOCK"
gtk_step "a wrong user code: the tries left, the code is case-sensitive" \
	'^label\|Wrong user code: 2 tries left\.\\n.*case-sensitive' gtk-en-6-wrong
gtk_step "the tries-left line shows the count read again" '^label\|User code: 2 tries left\|' \
	gtk-en-6-wrong
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"a wrong user code: the three entries are emptied"
is "$(($(secret_commands alice) - commands_before))" 1 "a wrong user code: one VERIFY, nothing more"
is "$(counters alice)" 0/2 "the card agrees: 2 user-code tries left, PIN still locked"

gtk_fill "$WRONG" 654321
gtk click "$B_UNLOCK"
gtk_step "a second wrong user code: 1 try left" '^label\|Wrong user code: 1 try left\.' \
	gtk-en-6-wrong2

# --- the last try: a dialog first, Cancel sends nothing ----------------------------------------
commands_before=$(secret_commands alice)
apdus_before=$(wc -l <"$(card_log alice)")
gtk_fill "$USER_CODE" 654321
gtk click "$B_UNLOCK"
gtk_step "the last try: a dialog asks first" '^label\|Last try of the user code\|' gtk-en-7-last-try
gtk_step "the dialog says what a wrong code would do" \
	'^label\|Warning: the user code has one try left\. If this user code is wrong, the card cannot be unlocked until the Organizations and Groups Certification Authority \(XCA\) resets the user code\.\|' \
	gtk-en-7-last-try
is "$(($(secret_commands alice) - commands_before))" 0 "while the dialog waits: no secret sent"
gtk click Cancel
gtk_step "Cancel: not confirmed, nothing sent" \
	'^label\|Not confirmed: nothing was sent to the card\.\|' gtk-en-8-cancelled
ok "the dialog is gone" gtk gone '^dialog\|'
is "$(($(secret_commands alice) - commands_before))" 0 \
	"Cancel: the card's log shows no VERIFY and no RESET RETRY COUNTER"
unlike "$(tail -n +"$((apdus_before + 1))" "$(card_log alice)")" 'INS=20 P1=00 P2=02 Lc=[1-9]|INS=2C ' \
	"Cancel: no user-code VERIFY among the commands since the click"
is "$(counters alice)" 0/1 "Cancel: the card still has its last try"
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"Cancel: the entries are emptied"

# --- the last try, confirmed --------------------------------------------------------------------
gtk_fill "$USER_CODE" 654321
gtk click "$B_UNLOCK"
gtk_step "the last try: the dialog again" '^push button\|Use the last try' gtk-en-7-last-try
gtk click "Use the last try"
gtk_step "the last try confirmed: the card is released" \
	'^label\|Unlock card / reset PIN: success\|' gtk-en-9-last-try-success
is "$(counters alice)" 3/3 "the card agrees: counters 3/3"
ok "the new PIN logs in" pin_works 654321
gtk click "$B_OK"

# --- a wrong user code in Chinese --------------------------------------------------------------
gtk_stop
lock_pin 0 || bail_out "could not lock the card again"
gtk_lang zh_TW
if have_zh_catalog; then
	# The catalog the build tree keeps next to the programs, as a holder trying the window from
	# the build tree gets it (no P11UNLOCK_LOCALEDIR).
	P11UNLOCK_LOCALEDIR='' gtk_start --lang zh_TW
	gtk_step "zh_TW (--lang, the build tree's catalog): the card is shown" '^label\|用戶代碼：剩餘 3 次\|' gtk-zh-6-start
	gtk_fill "$WRONG" 654321
	gtk click "$B_UNLOCK"
	gtk_step "zh_TW: a wrong user code, the tries left and the case" \
		'^label\|用戶代碼錯誤，剩餘 2 次機會。\\n用戶代碼區分英文大小寫' gtk-zh-6-wrong
	is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
		"zh_TW: the entries are emptied"
	gtk_fill "$WRONG" 654321
	gtk click "$B_UNLOCK"
	gtk_step "zh_TW: 1 try left" '^label\|用戶代碼錯誤，剩餘 1 次機會。' gtk-zh-6-wrong
	gtk_fill "$USER_CODE" 654321
	gtk click "$B_UNLOCK"
	gtk_step "zh_TW: the last-try dialog" '^label\|用戶代碼只剩最後一次機會\|' gtk-zh-7-last-try
	gtk click 取消
	gtk_step "zh_TW: Cancel, nothing sent" '^label\|未確認：沒有對卡片送出任何指令。\|' gtk-zh-8-cancelled
else
	for d in start wrong emptied one-left dialog cancel; do
		skip "zh_TW: $d" "no zh_TW catalog (NLS disabled)"
	done
	gtk_lang en
	gtk_start
fi
is "$(counters alice)" 0/1 "the card agrees: one user-code try left"

# --- the count changes while the last-try dialog waits --------------------------------------------
# Another program gives the right user code meanwhile (the count goes back to 3): the window's
# release, made for the count of 1 the holder saw, sends nothing (P11U_Login), reads the new count
# and releases the card with it.
commands_before=$(secret_commands alice)
gtk_fill "$USER_CODE" 654321
gtk click "$B_UNLOCK"
gtk wait '^push button\|(Use the last try|使用最後一次機會)' >/dev/null
is "$(apdu_sw 0 "$(verify_apdu 02 "$USER_CODE")")" "90 00" "another program's right user code while the dialog waits"
gtk click "$B_LAST_TRY"
gtk_step "the count changed: the release goes on with the new count" \
	'^label\|(Unlock card / reset PIN: success|鎖卡解碼/重設PIN碼 成功)\|' gtk-9-tries-changed
is "$(($(secret_commands alice) - commands_before))" 3 \
	"the other program's VERIFY, then one VERIFY and one RESET RETRY COUNTER from the window"
is "$(counters alice)" 3/3 "the card agrees: counters 3/3"
