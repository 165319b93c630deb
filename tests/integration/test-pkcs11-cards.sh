#!/bin/bash
# Card safety: which cards get which token.  A card announcing a real HiCOS type (CHT V32N)
# gets a read-only token (certificates and public keys) and never receives a VERIFY or any
# other security command; a p11unlock test card gets no token unless allow_test_cards is on;
# a card of an unknown type gets no usable token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module

plan 17

rig_up --readers 2
export PIN=123456 NEW=654321 UC=Ab12cd34

# --- a real HiCOS card type: read-only -----------------------------------------------
p11_setup "allow_test_cards = yes"
card_create hicos --card-type "CHT V32N" --key-bits 1024 --card-number TP03000000000001
card_insert 0 hicos
log=$(card_log hicos)
out=$(p11t -L)
like "$out" "token model +: CHT V32N" "CHT V32N card: a token with the card type as model"
like "$out" "serial num +: TP03000000000001" "CHT V32N card: the card number as serial"
out=$(p11t -O)
is "$(grep -c '^Certificate Object' <<<"$out")" 4 "CHT V32N card: its certificates"
is "$(grep -c '^Public Key Object' <<<"$out")" 2 "CHT V32N card: its public keys"
like "$(p11t --login --pin env:PIN -O)" "C_Login failed: rv = CKR_FUNCTION_NOT_SUPPORTED" \
	"CHT V32N card: C_Login refused with CKR_FUNCTION_NOT_SUPPORTED"
like "$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW)" "CKR_FUNCTION_NOT_SUPPORTED" \
	"CHT V32N card: SO login refused"
like "$(p11t --change-pin --pin env:PIN --new-pin env:NEW)" "CKR_FUNCTION_NOT_SUPPORTED" \
	"CHT V32N card: C_SetPIN refused"
like "$(p11t --generate-random 16 -o /dev/null)" "Could not generate random bytes" \
	"CHT V32N card: C_GenerateRandom refused (GET CHALLENGE is our command)"
is "$(grep -cE 'INS=(20|24|2C|22|2A|84) ' "$log" || true)" 0 \
	"CHT V32N card: no VERIFY, CHANGE, RESET, MSE, PSO or GET CHALLENGE ever reached it"
is "$(vcard_status_get hicos pin_tries)" 3 "CHT V32N card: its counters are untouched"
like "$(grep -c 'INS=B0' "$log")" "^[1-9][0-9]*$" "CHT V32N card: the read path (READ BINARY) was used"

# --- a test card without allow_test_cards ---------------------------------------------
card_create testcard --key-bits 1024
card_insert 2 testcard
p11_setup "allow_test_cards = no"
out=$(p11t -L)
like "$(sed -n '/^Slot 0 /,/^Slot 1 /p' <<<"$out")" "token model +: CHT V32N" "allow_test_cards = no: the HiCOS card keeps its token"
unlike "$(sed -n '/^Slot 4 /,/^Slot 5 /p' <<<"$out")" "token label|token model" "allow_test_cards = no: the test card gets no token"
is "$(grep -c 'INS=20' "$(card_log testcard)" || true)" 0 "allow_test_cards = no: nothing security-related sent to the test card"
p11_setup "allow_test_cards = yes"
like "$(sed -n '/^Slot 4 /,/^Slot 5 /p' <<<"$(p11t -L)")" "token model +: P11U V1" "allow_test_cards = yes: the test card gets its token"

# --- an unknown card type ------------------------------------------------------------
card_remove 2
card_create odd --card-type "XYZ V1" --key-bits 1024
card_insert 2 odd
out=$(sed -n '/^Slot 4 /,/^Slot 5 /p' <<<"$(p11t -L)")
unlike "$out" "token label|token model" "an unknown card type: no token"
is "$(grep -c 'INS=20' "$(card_log odd)" || true)" 0 "an unknown card type: no VERIFY"
