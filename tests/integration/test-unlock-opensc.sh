#!/bin/bash
# OpenSC-compatible unblocking (opensc_unblock_styles, off by default):
# - on: `pkcs11-tool --unlock-pin --puk env:UC --new-pin env:NEW` (C_SetPIN(user code, new PIN)
#   in a session nobody is logged in to) releases a locked card; on an unlocked card the same
#   call is an ordinary PIN change that never touches the user code's counter;
#   C_Login(CKU_CONTEXT_SPECIFIC, user code) + C_SetPIN releases too; both refuse the last
#   user-code try;
# - off: an unlogged C_SetPIN(user code, new PIN) on a locked card does not unlock, and
#   C_Login(CKU_CONTEXT_SPECIFIC) is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 59

rig_up
p11_setup "allow_test_cards = yes" "opensc_unblock_styles = yes"
card_create os --key-bits 1024
card_insert 0 os
export PIN=123456 UC=Ab12cd34 NEW=24681357 NEW2=13572468 NEW3=11223344 WRONG=999999
export WRONG_UC=Zz99zz99

unlock_pin() {
	p11t --unlock-pin --puk "env:$1" --new-pin "env:$2"
}

context_unlock() {
	p11t --login --login-type context-specific --unlock-pin --puk "env:$1" --new-pin "env:$2"
}

# --- option on: pkcs11-tool --unlock-pin releases a locked card --------------------------------
wrong_pins
is "$(card_tries os)" "pin_tries=0 user_code_tries=3" "three wrong PINs lock the card"
out=$(unlock_pin UC NEW)
is "$?" 0 "pkcs11-tool --unlock-pin exits 0"
like "$out" "^PIN successfully changed$" "pkcs11-tool --unlock-pin: PIN successfully changed"
is "$(card_tries os)" "pin_tries=3 user_code_tries=3" "released: counters 3/3"
is "$(resets os)" 1 "one RESET RETRY COUNTER"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN logs in"

# --- on an unlocked card the same call is an ordinary PIN change ------------------------------
changes=$(commands_with_data os 24 01)
like "$(unlock_pin UC NEW2)" "C_SetPIN failed: rv = CKR_PIN_INCORRECT" \
	"unlocked card: the user code taken as the old PIN: CKR_PIN_INCORRECT"
is "$(card_tries os)" "pin_tries=2 user_code_tries=3" "it cost a PIN try, not a user-code try"
is "$(commands_with_data os 24 01)" $((changes + 1)) "it was a CHANGE REFERENCE DATA"
is "$(resets os)" 1 "no RESET RETRY COUNTER"
is "$(verifies_with_data os 02)" 0 "the user code never reached the card"
out=$(p11t --change-pin --pin env:NEW --new-pin env:NEW2)
like "$out" "^PIN successfully changed$" "unlogged C_SetPIN(old PIN, new PIN): PIN changed"
is "$(card_tries os)" "pin_tries=3 user_code_tries=3" "counters 3/3"
like "$(p11t --login --pin env:NEW2 -O)" "Private Key Object" "the changed PIN logs in"

# --- wrong user codes cost a try; the last try is refused ----------------------------------------
wrong_pins
like "$(unlock_pin WRONG_UC NEW)" "C_SetPIN failed: rv = CKR_PIN_INCORRECT" "locked card, wrong user code: CKR_PIN_INCORRECT"
is "$(card_tries os)" "pin_tries=0 user_code_tries=2" "it cost a user-code try"
like "$(token_flags)" "SO PIN count low" "SO PIN count low"
like "$(unlock_pin WRONG_UC NEW)" "CKR_PIN_INCORRECT" "wrong user code again: CKR_PIN_INCORRECT"
is "$(card_tries os)" "pin_tries=0 user_code_tries=1" "one user-code try left"
resets=$(resets os)
# pkcs11-tool 0.23 has no name for CKR_FUNCTION_REJECTED (0x200).
like "$(unlock_pin UC NEW)" "C_SetPIN failed: rv = unknown PKCS11 error \(0x200\)" \
	"--unlock-pin with one try left: CKR_FUNCTION_REJECTED, even with the right code"
like "$(context_unlock UC NEW)" "C_SetPIN failed: rv = unknown PKCS11 error \(0x200\)" \
	"context-specific login + C_SetPIN with one try left: CKR_FUNCTION_REJECTED"
is "$(card_tries os)" "pin_tries=0 user_code_tries=1" "the card's counters are unchanged"
is "$(resets os)" "$resets" "no RESET RETRY COUNTER was sent"

# --- C_Login(CKU_CONTEXT_SPECIFIC, user code) + C_SetPIN -------------------------------------
"$P11U_VCARD" reset-user-code "$(card_state os)" --new-user-code "$UC" >/dev/null
is "$(card_tries os)" "pin_tries=0 user_code_tries=3" "the CA reset the user code"
out=$(context_unlock UC NEW)
like "$out" "^PIN successfully changed$" "pkcs11-tool --login-type context-specific --unlock-pin releases"
is "$(card_tries os)" "pin_tries=3 user_code_tries=3" "counters 3/3"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN logs in"

wrong_pins
export SHORT=12345
verifies=$(verifies_with_data os 02)
resets=$(resets os)
out=$(p11s <<'EOF'
init
slots present
open 0 rw s
login context env:WRONG_UC
session-info
logout
login context env:UC
login context env:UC
login user env:NEW
setpin env:UC env:SHORT
setpin empty env:NEW3
setpin empty env:NEW3
session-info
token-info 0
login user env:NEW3
finalize
EOF
)
transcript_is "$out" "context-specific" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 1  # the user-code token is there too
open 0 rw s -> CKR_OK
login context env:WRONG_UC -> CKR_OK  # the code is kept, not checked: no card I/O
session-info -> CKR_OK slot=0 state=CKS_RW_PUBLIC_SESSION flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
logout -> CKR_OK
login context env:UC -> CKR_OK
login context env:UC -> CKR_USER_ANOTHER_ALREADY_LOGGED_IN
login user env:NEW -> CKR_USER_ANOTHER_ALREADY_LOGGED_IN
setpin env:UC env:SHORT -> CKR_PIN_LEN_RANGE  # a bad new PIN: refused before any card I/O, the login stays
setpin empty env:NEW3 -> CKR_OK  # C_SetPIN after the context-specific login releases the card
setpin empty env:NEW3 -> CKR_PIN_INCORRECT  # one use per login: now an ordinary PIN change
session-info -> CKR_OK slot=0 state=CKS_RW_PUBLIC_SESSION flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED
login user env:NEW3 -> CKR_OK
finalize -> CKR_OK
EOF
is "$(verifies_with_data os 02)" "$verifies" "the context-specific logins sent nothing to the card"
is "$(resets os)" $((resets + 1)) "one RESET RETRY COUNTER"
is "$(card_tries os)" "pin_tries=3 user_code_tries=3" "counters 3/3"

# --- option off: no unblocking through C_SetPIN or CKU_CONTEXT_SPECIFIC ------------------------
p11_setup
wrong_pins
resets=$(resets os)
out=$(p11s <<'EOF'
init
slots present
open 0 rw s
setpin env:UC env:NEW
login context env:UC
setpin empty env:NEW
token-info 0
finalize
EOF
)
transcript_is "$out" "option off" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 1  # the user-code token is there too
open 0 rw s -> CKR_OK
setpin env:UC env:NEW -> CKR_PIN_LOCKED  # an ordinary PIN change, and the PIN is locked
login context env:UC -> CKR_OPERATION_NOT_INITIALIZED  # nothing to re-authenticate
setpin empty env:NEW -> CKR_PIN_INCORRECT  # still an ordinary PIN change
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED|CKF_USER_PIN_LOCKED
finalize -> CKR_OK
EOF
like "$(unlock_pin UC NEW)" "C_SetPIN failed: rv = CKR_PIN_LOCKED" "option off: pkcs11-tool --unlock-pin does not unlock"
is "$(card_tries os)" "pin_tries=0 user_code_tries=3" "option off: still locked, no user-code try spent"
is "$(resets os)" "$resets" "option off: no RESET RETRY COUNTER"
