#!/bin/bash
# A try is spent only where the holder saw the count, and only on the card the holder chose:
# - P11U_Login (the vendor interface) reads the counter in the VERIFY's own PC/SC transaction
#   and sends nothing when another process spent a try since the holder saw the count
#   (P11UNLOCK_CKR_TRIES_CHANGED with the count now), so a last try is never spent unseen;
# - a session stays bound to the card it was opened on: after a swap in the same reader, a
#   login on it (plain or P11U_Login) is CKR_DEVICE_REMOVED and the new card receives no
#   command that can spend a try;
# - its argument rules: tries seen 1..3, CKU_USER or CKU_SO only, not on the user-code token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 39

rig_up
p11_setup
card_create ga --key-bits 1024
card_create gb --key-bits 1024 --card-number XC00000000077777
card_insert 0 ga
export PIN=123456 UC=Ab12cd34 NEW=24681357 WRONG=999999 WRONG_UC=Zz99zz99
readonly WRONG_UC_APDU="80 20 00 02 08 5A 7A 39 39 7A 7A 39 39"

# --- the count the holder saw --------------------------------------------------------------------
script_bg guard <<'EOF'
init
slots
open 0 rw s
vendor-login so env:WRONG_UC 3
vendor-login so env:UC 3
pause seen2
vendor-login so env:UC 2
vendor-login so env:UC 1
initpin env:NEW
logout
vendor-login user env:NEW 3
logout
vendor-login user env:PIN 0
vendor-login user env:PIN 4
vendor-login context env:UC 3
vendor-login user env:WRONG 3
vendor-login user env:NEW 3
logout
finalize
EOF
script_at guard seen2
# The holder was shown 2 tries; meanwhile another process spends one.
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C1" "another process spends a user-code try"
uc_verifies_before=$(verifies_with_data ga 02)
script_go guard seen2
out=$(script_end guard)
transcript_is "$out" "P11U_Login" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
open 0 rw s -> CKR_OK
vendor-login so env:WRONG_UC 3 -> CKR_PIN_INCORRECT tries_now=2  # a wrong user code, what is left
vendor-login so env:UC 3 -> P11UNLOCK_CKR_TRIES_CHANGED tries_now=2  # the holder saw 3: nothing sent
pause seen2 -> ok
vendor-login so env:UC 2 -> P11UNLOCK_CKR_TRIES_CHANGED tries_now=1  # another process spent one: the last try is not spent unseen
vendor-login so env:UC 1 -> CKR_OK tries_now=3  # shown and confirmed: the last try
initpin env:NEW -> CKR_OK
logout -> CKR_OK
vendor-login user env:NEW 3 -> CKR_OK tries_now=3
logout -> CKR_OK
vendor-login user env:PIN 0 -> CKR_ARGUMENTS_BAD  # tries seen: 1 to 3
vendor-login user env:PIN 4 -> CKR_ARGUMENTS_BAD
vendor-login context env:UC 3 -> CKR_ARGUMENTS_BAD  # CKU_USER or CKU_SO
vendor-login user env:WRONG 3 -> CKR_PIN_INCORRECT tries_now=2
vendor-login user env:NEW 3 -> P11UNLOCK_CKR_TRIES_CHANGED tries_now=2
logout -> CKR_USER_NOT_LOGGED_IN
finalize -> CKR_OK
EOF
is "$(verifies_with_data ga 02)" "$((uc_verifies_before + 1))" \
	"after the count changed, one user-code VERIFY: the confirmed last try"
is "$(card_tries ga)" "pin_tries=2 user_code_tries=3" "the card agrees"

# --- a swap under a held session ---------------------------------------------------------------------
wrong_pins
script_bg swap <<'EOF'
init
slots
open 0 rw s
token-info 0
pause swapped
login so env:UC
vendor-login so env:UC 3
initpin env:NEW
slots present
token-info 0
open 0 rw t
vendor-login so env:UC 3
initpin env:NEW
finalize
EOF
script_at swap swapped
card_remove 0
card_insert 0 gb || bail_out "card gb not inserted"
wrong_pins
script_go swap swapped
out=$(script_end swap)
transcript_is "$out" "swap" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
open 0 rw s -> CKR_OK
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED|CKF_USER_PIN_LOCKED
pause swapped -> ok
login so env:UC -> CKR_DEVICE_REMOVED  # the session was opened on the other card
vendor-login so env:UC 3 -> CKR_SESSION_HANDLE_INVALID
initpin env:NEW -> CKR_SESSION_HANDLE_INVALID
slots present -> CKR_OK 0 1
token-info 0 -> CKR_OK label="組織及團體憑證管 077777" model="P11U V1" serial="XC00000000077777" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED|CKF_USER_PIN_LOCKED
open 0 rw t -> CKR_OK
vendor-login so env:UC 3 -> CKR_OK tries_now=3  # a session opened on the new card: its own
initpin env:NEW -> CKR_OK
finalize -> CKR_OK
EOF
is "$(verifies_with_data gb 02)" 1 "the new card received the user code only in the session opened on it"
