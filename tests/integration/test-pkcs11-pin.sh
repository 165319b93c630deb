#!/bin/bash
# PIN login and PIN change through pkcs11-tool: three wrong PINs step the token flags
# COUNT_LOW -> FINAL_TRY -> LOCKED and the card agrees; a PIN that cannot be valid costs no
# try and never reaches the card; --change-pin with --login changes the PIN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module

plan 22

rig_up
p11_setup
card_create bob --pin 123456 --key-bits 1024
card_insert 0 bob --log "$TEST_TMP/bob.apdu"
export PIN=123456 WRONG=999999 SHORT=12345 NEW=24681357

status_value() {
	pkcs11-tool --module "$MODULE" --read-object --type data --label 'PIN status' 2>/dev/null | tr -d '\0'
}

# A PIN that cannot be valid: CKR_PIN_INCORRECT (all NSS understands), no try, no VERIFY.
like "$(p11t --login --pin env:SHORT -O)" "C_Login failed: rv = CKR_PIN_INCORRECT" "5-character PIN: CKR_PIN_INCORRECT"
is "$(vcard_status_get bob pin_tries)" 3 "5-character PIN cost no try"
is "$(grep -c 'INS=20 P1=00 P2=01 Lc=[1-9]' "$TEST_TMP/bob.apdu" || true)" 0 "5-character PIN never reached the card"
export SPACE="12 456"
like "$(p11t --login --pin env:SPACE -O)" "CKR_PIN_INCORRECT" "PIN with a space: CKR_PIN_INCORRECT"
is "$(vcard_status_get bob pin_tries)" 3 "PIN with a space cost no try"

# Wrong PINs, counted by the card and mirrored in the flags and the status object.
like "$(p11t --login --pin env:WRONG -O)" "C_Login failed: rv = CKR_PIN_INCORRECT" "wrong PIN 1: CKR_PIN_INCORRECT"
like "$(token_flags)" "user PIN count low" "after 1 wrong PIN: COUNT_LOW"
is "$(status_value)" "pin_tries=2 user_code_tries=3" "status object: 2 PIN tries"
like "$(p11t --login --pin env:WRONG -O)" "CKR_PIN_INCORRECT" "wrong PIN 2: CKR_PIN_INCORRECT"
like "$(token_flags)" "final user PIN try" "after 2 wrong PINs: FINAL_TRY"
is "$(vcard_status_get bob pin_tries)" 1 "card agrees: 1 try left"
# The right PIN resets the counter.
like "$(p11t --login --pin env:PIN -O)" "Private Key Object" "right PIN logs in"
is "$(vcard_status_get bob pin_tries)" 3 "right PIN resets the card's counter"
unlike "$(token_flags)" "count low|final try|locked" "flags clear after a good login"

# Change the PIN (CHANGE REFERENCE DATA), then log in with the new one.
like "$(p11t --login --pin env:PIN --change-pin --new-pin env:NEW)" "PIN successfully changed" "--change-pin with --login"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN logs in"
like "$(p11t --login --pin env:PIN -O)" "CKR_PIN_INCORRECT" "the old PIN does not"
export BADNEW=1234567890
like "$(p11t --login --pin env:NEW --change-pin --new-pin env:BADNEW)" "CKR_PIN_LEN_RANGE" "a 10-character new PIN: CKR_PIN_LEN_RANGE"

# Three wrong: locked (the last login above, with NEW, reset the counter).
p11t --login --pin env:WRONG -O >/dev/null
p11t --login --pin env:WRONG -O >/dev/null
p11t --login --pin env:WRONG -O >/dev/null
like "$(token_flags)" "user PIN locked" "after 3 wrong PINs: LOCKED"
like "$(p11t --login --pin env:NEW -O)" "CKR_PIN_LOCKED" "a locked PIN: CKR_PIN_LOCKED, even the right one"
is "$(vcard_status_get bob pin_blocked)" 1 "card agrees: pin_blocked=1"
unlike "$(cat "$TEST_TMP/bob.apdu")" "$(printf '%s' 24681357 | od -An -tx1 | tr -d ' \n')|3[0-9] 3[0-9] 3[0-9] 3[0-9] 3[0-9] 3[0-9]" "no PIN in the card's APDU log"
