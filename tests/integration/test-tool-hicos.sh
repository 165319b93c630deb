#!/bin/bash
# p11unlock on real HiCOS cards (virtual gen1 and gen2 cards, issue 11), in English and in
# Chinese: both are listed with card number, holder and validity; unlock and --change-pin are
# refused at step 2 with exit status 7 and, instead of the release, the web page of the CA
# named by the card's issuer; a gen1 card kept read-only (hicos_login = no) is listed with how
# to turn its login on, and without that hint once it is on.  Neither card ever receives a
# VERIFY (of any class), a CHANGE REFERENCE DATA or a RESET RETRY COUNTER.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool

plan 20

tool_setup
rig_up
G1=TP03000000001349
G2=TP03000000002222
card_create g1 --variant gen1 --card-number $G1
card_create g2 --variant gen2 --card-number $G2
card_insert 0 g1 || bail_out "the gen1 card not inserted"
card_insert 1 g2 || bail_out "the gen2 card not inserted"
answers="$USER_CODE"$'\n'"654321"$'\n'"654321"$'\n'
HOLDER="C=TW,O=組織及團體憑證管理中心憑證測試中心"
REFUSAL_EN="is a real HiCOS card. Its lock is released through the web page or an office of the Organizations and Groups Certification Authority (XCA).
This tool does not touch real cards: their PIN reset commands are not public, and a command the card does not expect could cost you a try.
The CA's web page: https://xca.nat.gov.tw/"
REFUSAL_ZH="是正式的 HiCOS 卡片，鎖卡須透過組織及團體憑證管理中心的網站或臨櫃辦理解除。
本工具不處理正式卡片：這類卡片的重設PIN碼指令並未公開，送出卡片不預期的指令可能耗用您的嘗試次數。
憑證管理中心網站：https://xca.nat.gov.tw/"

# --- steps 1 and 2 in English, hicos_login = no ------------------------------------------------
tool_run "" --list --verbose
is "$RC" 0 "--list: exit 0"
like "$(tr '\n' '|' <<<"$OUT")" "^\[1\] Card number: $G1\|    Reader: $(reader_name 0) \(slot [0-9]+\)\|    Card type: CHT V32N\|    Holder: $HOLDER\|    Validity: 2025-09-01 – 2031-09-01\|    Read-only card: its lock is released by the CA, not by this tool\.\|    PIN login, signing and decryption are off: hicos_login = yes in p11unlock\.conf turns them on \(see the README\)\.\|" \
	"gen1: card number, holder, validity, read-only, how to turn its login on"
like "$(tr '\n' '|' <<<"$OUT")" "\[2\] Card number: $G2\|    Reader: $(reader_name 1) \(slot [0-9]+\)\|    Card type: HiCOS GPPKI\|    Holder: $HOLDER\|    Validity: 2025-09-01 – 2031-09-01\|    Read-only card: its lock is released by the CA, not by this tool\.\|$" \
	"gen2: card number, holder, validity, read-only (no login to turn on)"
unlike "$OUT" "PIN: |User code: " "no PIN or user-code state claimed for either card"

tool_run "$answers" --serial $G1
is "$RC" 7 "gen1: unlock refused, exit 7"
like "$OUT" "Card $G1 is chosen\.$" "gen1: steps 1 and 2 shown"
is "$ERR" "Card $G1 $REFUSAL_EN" "gen1: the CA's web page instead of the release"
tool_run "$PIN"$'\n'"654321"$'\n'"654321"$'\n' --change-pin --serial $G1
is "$RC.$ERR" "7.Card $G1 $REFUSAL_EN" "gen1: --change-pin refused the same way, exit 7"
tool_run "$answers" --serial $G2
is "$RC.$ERR" "7.Card $G2 $REFUSAL_EN" "gen2: unlock refused with the CA's web page, exit 7"

# --- in Chinese; then gen1 with hicos_login = yes ------------------------------------------------
if have_zh_catalog; then
	tool_run "$answers" --lang zh_TW
	like "$(tr '\n' '|' <<<"$OUT")" "^\|?步驟 1：偵測卡片\|\[1\] 卡號：$G1\|.*    持卡人：$HOLDER\|    有效期限：自2025年9月1日 至 2031年9月1日\|    唯讀卡片：鎖卡須由憑證管理中心解除，本工具不處理。\|    PIN碼登入、簽章與解密未開啟：在 p11unlock\.conf 設定 hicos_login = yes 即可開啟（請見 README）。\|\[2\] 卡號：$G2\|" \
		"zh_TW: step 1 lists both cards, the gen1 hint in Chinese"
	tool_run "$answers" --serial $G2 --lang zh_TW
	is "$RC" 7 "zh_TW, gen2: exit 7"
	like "$(tr '\n' '|' <<<"$OUT")" "^\|?步驟 1：偵測卡片\|\[1\] 卡號：$G2\|" \
		"zh_TW, --serial: step 1 shows the card named only (the other card's number alone was read)"
	like "$OUT" "已選擇卡片 $G2。" "zh_TW: step 2 chooses gen2"
	is "$ERR" "卡片 $G2 $REFUSAL_ZH" "zh_TW, gen2: the CA's web page in Chinese"
	tool_run "$answers" --serial $G1 --lang zh_TW
	is "$RC.$ERR" "7.卡片 $G1 $REFUSAL_ZH" "zh_TW, gen1: refused with the CA's web page, exit 7"
else
	for what in "zh_TW: step 1" "zh_TW, gen2: exit 7" "zh_TW, --serial: step 1" "zh_TW: step 2" \
		"zh_TW, gen2: page" "zh_TW, gen1"; do
		skip "$what" "no zh_TW catalog (configure --disable-nls)"
	done
fi

echo "hicos_login = yes" >>"$P11UNLOCK_CONF"
tool_run "" --list
like "$(tr '\n' '|' <<<"$OUT")" "Validity: 2025-09-01 – 2031-09-01\|    Real HiCOS card: its lock is released by the CA, not by this tool\.\|\[2\]" \
	"gen1 with hicos_login = yes: a real HiCOS card, not read-only, no hint"
unlike "$OUT" "hicos_login" "hicos_login = yes: the hint is gone"
tool_run "$answers" --serial $G1
is "$RC.$ERR" "7.Card $G1 $REFUSAL_EN" "gen1 with hicos_login = yes: unlock still refused, exit 7"

# --- nothing that can spend a try reached either card ---------------------------------------------
is "$(grep -cE 'INS=(20|24|2C) ' "$(card_log g1)")" 0 "gen1: no VERIFY, CHANGE or RESET in its log"
is "$(grep -cE 'INS=(20|24|2C) ' "$(card_log g2)")" 0 "gen2: no VERIFY, CHANGE or RESET in its log"
