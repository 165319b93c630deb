#!/bin/bash
# p11unlock, scripted, through the module, a real pcscd and the virtual card:
# the card list (user-code token hidden), the unlock of a locked card with the
# user code (the new PIN logs in, the card's counters back to 3/3), the same
# steps on a card that is not locked ("forgot my PIN", in Chinese), the PIN
# change, and no secret in the card's log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd pkcs11-tool opensc

plan 31

tool_setup
rig_up
locked_card 0 alice
is "$(counters alice)" 0/3 "the card's PIN is locked (0/3)"

# --- the list -------------------------------------------------------------------
tool_run "" --list
is "$RC" 0 "--list: exit 0"
is "$OUT" "[1] Card number: $CARD_NUMBER
    Reader: $(reader_name 0)
    Holder: C=TW,O=組織及團體憑證管理中心憑證測試中心
    Validity: 2025-09-01 – 2031-09-01
    PIN: locked
    User code: 3 tries left" "--list shows the card, its holder, validity and counters (no slot, no card type)"
tool_run "" --list --verbose
is "$(sed -n 2,3p <<<"$OUT")" "    Reader: $(reader_name 0) (slot 0)
    Card type: P11U V1" "--list --verbose: the reader's slot and the card type too"
unlike "$OUT" "用戶代碼|User code token" "--list hides the user-code token the module shows while the PIN is locked"
tool_run "" --status --json
like "$OUT" '"card_number":"XC00000000091349",' "--status --json: the card number"
like "$OUT" '"pin":\{"state":"locked","tries_left":0\},"user_code":\{"state":"ok","tries_left":3\},"tries_source":"status_object"' \
	"--status --json: exact counters from the status object"
like "$OUT" '"ca":"XCA"' "--status --json: the CA named from the issuer"

# --- scripted unlock ------------------------------------------------------------------
commands_before=$(secret_commands alice)
tool_run "$USER_CODE"$'\n'"654321"$'\n'"654321"$'\n' --serial "$CARD_NUMBER"
is "$RC" 0 "unlock: exit 0"
like "$OUT" "Step 1: detect the cards" "unlock: step 1 shown"
like "$OUT" "Card $CARD_NUMBER is chosen\." "unlock: step 2, the card chosen"
like "$OUT" "Step 4: user code tries left" "unlock: step 4 shown"
like "$OUT" "User code: 3 tries left" "unlock: the user code's tries shown before the release"
is "$(tail -n 1 <<<"$OUT")" "Card unlocked and PIN reset" "unlock: the web page's success message"
is "$ERR" "" "unlock: nothing on stderr"
is "$(counters alice)" 3/3 "the card agrees: PIN and user code counters 3/3"
is "$(vcard_status_get alice pin_blocked)" 0 "the card agrees: pin_blocked=0"
is "$(($(secret_commands alice) - commands_before))" 2 \
	"one user-code VERIFY (C_Login SO) and one RESET RETRY COUNTER (C_InitPIN) reached the card"
ok "the new PIN logs in through pkcs11-tool" pin_works 654321
tool_run "" --list
like "$OUT" "    PIN: OK" "--list: PIN OK after the unlock"

# --- the same steps on a card that is not locked: a forgotten PIN, in Chinese ------------
if have_zh_catalog; then
	tool_run "$USER_CODE"$'\n'"a1b2c3d4"$'\n'"a1b2c3d4"$'\n' --lang zh_TW
	is "$RC" 0 "forgotten PIN (zh_TW): exit 0"
	like "$OUT" "此卡片的PIN碼未鎖卡：以下步驟將設定新的PIN碼（適用於忘記PIN碼）。" \
		"forgotten PIN (zh_TW): says the card is not locked"
	like "$OUT" "有效期限：自2025年9月1日 至 2031年9月1日" "zh_TW: validity as 自...至..."
	is "$(tail -n 1 <<<"$OUT")" "鎖卡解碼/重設PIN碼成功" "forgotten PIN (zh_TW): 鎖卡解碼/重設PIN碼成功"
else
	for d in exit "not locked" validity success; do
		skip "forgotten PIN (zh_TW): $d" "no zh_TW catalog (NLS disabled)"
	done
	tool_run "$USER_CODE"$'\n'"a1b2c3d4"$'\n'"a1b2c3d4"$'\n'
fi
ok "the PIN set on the unlocked card logs in" pin_works a1b2c3d4

# --- PIN change for a holder who remembers it ---------------------------------------------
tool_run "a1b2c3d4"$'\n'"87654321"$'\n'"87654321"$'\n' --change-pin
is "$RC" 0 "--change-pin: exit 0"
is "$(tail -n 1 <<<"$OUT")" "PIN changed" "--change-pin: success message"
ok "the changed PIN logs in" pin_works 87654321
tool_run "wrong999"$'\n'"11112222"$'\n'"11112222"$'\n' --change-pin
is "$RC.$ERR" "3.Wrong PIN: 2 tries left." "--change-pin with a wrong current PIN: exit 3, 2 tries left"
is "$(counters alice)" 2/3 "the card agrees: 2 PIN tries left"

# --- secrets never in the card's log (it logs every APDU, secret data redacted) -------------
unlike "$(cat "$(card_log alice)")" \
	"$(hex "$USER_CODE" | tr -d ' ')|$(hex 654321 | tr -d ' ')|$(hex a1b2c3d4 | tr -d ' ')|$(hex 87654321 | tr -d ' ')" \
	"no user code or PIN in the card's log"
