#!/bin/bash
# Token labels from the card's certificate are untrusted: a holder name (subject CN) with a
# right-to-left override (U+202E), a right-to-left mark (U+200F) or a C1 control (U+0085)
# could show another holder or card number than the card has.  The module gives each of them
# a '?' in the label, the same rule as the p11unlock tool (src/common/text.c); a Chinese name
# stays, and a long one is cut on a character boundary.  (Overlong UTF-8 cannot come through
# p11unlock-vcard create, which takes valid UTF-8 only: tests/unit/test-text.c has it.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 8

RLO=$'\xe2\x80\xae' RLM=$'\xe2\x80\x8f' NEL=$'\xc2\x85'

rig_up
p11_setup "allow_test_cards = yes"

# --- hostile marks in the holder's name -------------------------------------------------------
card_create evil --key-bits 1024 --card-number XC00000000091349 \
	--holder-dn "C=TW,O=ACME,CN=Evil${RLO}abc${RLM}def${NEL}g"
card_insert 0 evil
out=$(p11t -L)
like "$out" "token label +: Evil\?abc\?def\?g 091349$" \
	"pkcs11-tool -L: a '?' for U+202E, U+200F and U+0085 in the label"
is "$(LC_ALL=C grep -c -e "$RLO" -e "$RLM" -e "$NEL" <<<"$out")" 0 \
	"pkcs11-tool -L: none of their bytes"
out=$(p11s <<'SCRIPT'
init
slots present
token-info 0
finalize
SCRIPT
)
like "$(result_of "$out" "token-info 0")" \
	'^CKR_OK label="Evil\?abc\?def\?g 091349" model="P11U V1" serial="XC00000000091349" ' \
	"C_GetTokenInfo: the exact label"
is "$(LC_ALL=C grep -c -e "$RLO" -e "$RLM" -e "$NEL" <<<"$out")" 0 "C_GetTokenInfo: none of their bytes"
card_remove 0

# --- a Chinese name is kept; a long one is cut between characters -----------------------------
card_create wang --key-bits 1024 --card-number XC00000000000002 --holder-dn "C=TW,O=行政院,CN=王小明"
card_insert 0 wang
like "$(p11t -L)" "token label +: 王小明 000002$" "a Chinese holder name stays as it is"
card_remove 0
card_create long --key-bits 1024 --card-number XC00000000000003 \
	--holder-dn "C=TW,O=行政院,CN=一二三四五六七八九十"
card_insert 0 long
out=$(p11s <<'SCRIPT'
init
slots present
token-info 0
finalize
SCRIPT
)
like "$(result_of "$out" "token-info 0")" '^CKR_OK label="一二三四五六七八 000003" ' \
	"a long name: as many whole characters as fit 32 bytes with the card number"
card_remove 0

# --- every control and mark of the rule, together ---------------------------------------------
card_create marks --key-bits 1024 --card-number XC00000000000004 \
	--holder-dn "C=TW,O=ACME,CN=a"$'\x1b'"b"$'\x7f'"c"$'\xd8\x9c'"d"$'\xe2\x80\x8e'"e"$'\xe2\x80\xa8'"f"$'\xe2\x81\xa7'"g"
card_insert 0 marks
out=$(p11s <<'SCRIPT'
init
slots present
token-info 0
finalize
SCRIPT
)
like "$(result_of "$out" "token-info 0")" '^CKR_OK label="a\?b\?c\?d\?e\?f\?g 000004" ' \
	"ESC, DEL, U+061C, U+200E, U+2028, U+2067: a '?' each"
is "$(LC_ALL=C grep -c -e $'\x1b' -e $'\x7f' -e $'\xd8\x9c' -e $'\xe2\x80\x8e' -e $'\xe2\x80\xa8' -e $'\xe2\x81\xa7' <<<"$out")" 0 \
	"none of their bytes"
