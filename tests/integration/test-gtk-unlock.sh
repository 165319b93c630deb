#!/bin/bash
# p11unlock-gtk, the desktop window, driven through its accessibility tree under Xvfb, as a
# holder would use it: the card's details where the web form shows them, the inputs checked as
# they are typed (the release is offered only when they pass), 重新輸入 empties them, the release
# of a locked card (the success dialog, the entries emptied, the card's counters back to 3/3, the
# new PIN logs in); the same in Chinese on a Chinese desktop (LANG=zh_TW.UTF-8), with the
# "作業進行中，請稍候" state while a slow card works; make install puts the menu entry and the icon;
# no secret in the card's log.  Screenshots of every step go to tests/artifacts/test-gtk-unlock/
# (docs/screenshots/gtk-*.png are copies).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"
. "$(dirname "$0")/gtk-lib.sh"

require_rig
require_tool
require_gtk
require_cmd pkcs11-tool opensc

plan 35

tool_setup
rig_up
locked_card 0 alice
gtk_up

# --- English (a desktop in another language than Chinese) ---------------------------------
gtk_lang en
gtk_start
gtk_step "the drop-down names the card and its reader" \
	"^label\|$CARD_NUMBER \($(reader_name 0)\)\|" gtk-en-1-card
gtk_step "the card number" "^label\|$CARD_NUMBER\|" gtk-en-1-card
gtk_step "the holder from the signature certificate" \
	'^label\|C=TW,O=組織及團體憑證管理中心憑證測試中心\|' gtk-en-1-card
gtk_step "the validity" '^label\|2025-09-01 – 2031-09-01\|' gtk-en-1-card
gtk_step "the user code's tries left" '^label\|User code: 3 tries left\|' gtk-en-1-card
gtk_step "the notes: another program's Unlock PIN can ruin the card" \
	'^label\|Notes:.*"Unlock PIN" function of another program.*ruin the card' gtk-en-1-card
gtk_step "the user code's hint: 6 to 10 characters, case-sensitive" \
	'^label\|6 to 10 characters; upper and lower case letters differ\.\|' gtk-en-1-card
is "$(gtk enabled "$B_UNLOCK")" no "nothing typed yet: the release is not offered"

gtk type "$F_CODE" Ab12
gtk_step "a short user code is named as it is typed" \
	'^label\|User code: too short, it must have 6 to 10 characters\.\|' gtk-en-2-short
is "$(gtk enabled "$B_UNLOCK")" no "a short user code: the release is not offered"
gtk_fill "$USER_CODE" 654321 654320
gtk_step "two different new PINs are named" '^label\|The two new PINs differ\.\|' gtk-en-3-mismatch
is "$(gtk enabled "$B_UNLOCK")" no "different new PINs: the release is not offered"
gtk click "$B_CLEAR"
gtk gone 'The two new PINs differ' >/dev/null
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"重新輸入 (Re-enter) empties the three entries"
gtk_fill "$USER_CODE" 654321 654320
gtk type "$F_AGAIN" 654321
gtk gone 'The two new PINs differ' >/dev/null
is "$(gtk enabled "$B_UNLOCK")" yes "every input valid: the release is offered"
gtk_shot gtk-en-4-filled

commands_before=$(secret_commands alice)
gtk click "$B_UNLOCK"
gtk_step "the success dialog" '^label\|Unlock card / reset PIN: success\|' gtk-en-5-success
gtk_step "the success dialog says the card is unlocked" '^label\|Card unlocked and PIN reset\|' \
	gtk-en-5-success
is "$(gtk length "$F_CODE")/$(gtk length "$F_PIN")/$(gtk length "$F_AGAIN")" 0/0/0 \
	"the three entries are emptied after the attempt"
is "$(counters alice)" 3/3 "the card agrees: PIN and user code counters 3/3"
is "$(($(secret_commands alice) - commands_before))" 2 \
	"one user-code VERIFY and one RESET RETRY COUNTER reached the card"
ok "the new PIN logs in through pkcs11-tool" pin_works 654321
gtk click "$B_OK"
ok "the success dialog closes" gtk gone '^dialog\|'

# --- Chinese: a zh_TW desktop, a slow card --------------------------------------------------
gtk_stop
lock_pin 0 || bail_out "could not lock the card again"
card_remove 0
card_insert 0 alice --latency-us 150000 || bail_out "card alice not inserted again"
gtk_lang zh_TW
if have_zh_catalog; then
	LANG=zh_TW.UTF-8 gtk_start
	gtk_step "zh_TW: 選擇卡片 and the card" "^label\|$CARD_NUMBER \($(reader_name 0)\)\|" gtk-zh-1-card
	gtk_step "zh_TW: the form's labels 卡號, 卡片持有者資訊, 卡片效期" '^label\|卡片效期\|' gtk-zh-1-card
	gtk_step "zh_TW: the validity 自...至..." '^label\|自2025年9月1日 至 2031年9月1日\|' gtk-zh-1-card
	gtk_step "zh_TW: the tries left" '^label\|用戶代碼：剩餘 3 次\|' gtk-zh-1-card
	gtk_step "zh_TW: 注意事項" '^label\|注意事項' gtk-zh-1-card
	gtk type "$F_CODE" Ab1
	gtk_step "zh_TW: a short user code is named as it is typed" \
		'^label\|用戶代碼：太短，長度須為 6 至 10 個字元。\|' gtk-zh-2-short
	gtk_fill "$USER_CODE" a1b2c3d4
	gtk_click_step "zh_TW: 作業進行中，請稍候 while the card works" "$B_UNLOCK" \
		'^label\|作業進行中，請稍候\|' gtk-zh-3-busy
	gtk_step "zh_TW: the success dialog 鎖卡解碼/重設PIN碼 成功" \
		'^label\|鎖卡解碼/重設PIN碼 成功\|' gtk-zh-4-success
	is "$(counters alice)" 3/3 "zh_TW: the card agrees: counters 3/3"
	ok "zh_TW: the PIN set in the window logs in" pin_works a1b2c3d4
else
	for d in card labels validity tries notes short busy success counters pin; do
		skip "zh_TW: $d" "no zh_TW catalog (NLS disabled)"
	done
fi

# --- make install: the menu entry and the icon -------------------------------------------------------
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" DESTDIR="$TEST_TMP/dest" \
	install-p11unlockgtkdesktopDATA install-p11unlockgtkiconDATA >"$TEST_TMP/install.log" 2>&1 ||
	diag "make install failed: $(tail -n 3 "$TEST_TMP/install.log")"
desktop=$(find "$TEST_TMP/dest" -path '*/share/applications/p11unlock-gtk.desktop')
like "$(cat "$desktop" 2>/dev/null)" \
	'^Exec=p11unlock-gtk$' "make install: share/applications/p11unlock-gtk.desktop starts the window"
icon=$(find "$TEST_TMP/dest" -path '*/share/icons/hicolor/scalable/apps/*.svg')
ok "make install: the icon the .desktop file names, in share/icons/hicolor/scalable/apps" \
	grep -qx "Icon=$(basename "${icon:-none}" .svg)" "${desktop:-/dev/null}"

# --- secrets never in the card's log (it logs every APDU, secret data redacted) ---------------
unlike "$(cat "$(card_log alice)")" \
	"$(hex "$USER_CODE" | tr -d ' ')|$(hex 654321 | tr -d ' ')|$(hex a1b2c3d4 | tr -d ' ')" \
	"no user code or PIN in the card's log"
unlike "$(cat "$TEST_TMP/gtk.out" "$TEST_TMP/gtk.err")" "$USER_CODE|654321|a1b2c3d4" \
	"no user code or PIN in the window's output"
