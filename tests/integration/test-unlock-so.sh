#!/bin/bash
# Unlock the standard way: C_Login(CKU_SO, user code) + C_InitPIN(new PIN).
# - pkcs11-tool --login --login-type so --init-pin releases a card blocked by three wrong
#   PINs, the new PIN works and the card's counters are back to 3/3;
# - wrong user codes: CKR_PIN_INCORRECT, the SO flags step COUNT_LOW -> FINAL_TRY -> LOCKED;
# - the same release works on a PIN that is not locked ("forgot my PIN");
# - the PKCS#11 rules, through p11-script: no SO login while a R/O session exists, no R/O
#   session while the SO is logged in, C_SetPIN refused to the SO, C_Logout forgets the user
#   code, a bad new PIN is refused before any card I/O, a user code that cannot be valid
#   costs no try and never reaches the card.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 70

rig_up
p11_setup
card_create so --key-bits 1024
card_insert 0 so
export PIN=123456 UC=Ab12cd34 NEW=24681357 NEW2=13572468 WRONG=999999 WRONG_UC=Zz99zz99

# --- a locked card, released with pkcs11-tool ----------------------------------------------
wrong_pins
is "$(card_tries so)" "pin_tries=0 user_code_tries=3" "three wrong PINs block the card"

out=$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW)
rc=$?
is "$rc" 0 "pkcs11-tool --login-type so --init-pin exits 0"
like "$out" "^User PIN successfully initialized$" "pkcs11-tool: User PIN successfully initialized"
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "the card's counters are back to 3/3"
is "$(resets so)" 1 "one RESET RETRY COUNTER reached the card"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN logs in"
like "$(p11t --login --pin env:PIN -O)" "C_Login failed: rv = CKR_PIN_INCORRECT" "the old PIN does not"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN again (counter reset)"
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "counters 3/3"

# --- wrong user codes: CKR_PIN_INCORRECT, SO flags COUNT_LOW -> FINAL_TRY -> LOCKED -----------
so_init() {
	p11t --login --login-type so --so-pin "env:$1" --init-pin --new-pin env:NEW2
}
is "$(token_flags)" "login required, rng, token initialized, PIN initialized" "no retry flags at first"
like "$(so_init WRONG_UC)" "C_Login failed: rv = CKR_PIN_INCORRECT" "wrong user code 1: CKR_PIN_INCORRECT"
is "$(token_flags)" "login required, rng, SO PIN count low, token initialized, PIN initialized" \
	"after 1 wrong user code: SO PIN count low"
is "$(card_tries so)" "pin_tries=3 user_code_tries=2" "the card agrees: 2 user-code tries"
like "$(so_init WRONG_UC)" "C_Login failed: rv = CKR_PIN_INCORRECT" "wrong user code 2: CKR_PIN_INCORRECT"
is "$(token_flags)" \
	"login required, rng, SO PIN count low, final SO PIN try, token initialized, PIN initialized" \
	"after 2 wrong user codes: final SO PIN try"
like "$(so_init WRONG_UC)" "C_Login failed: rv = CKR_PIN_INCORRECT" "wrong user code 3: CKR_PIN_INCORRECT"
is "$(token_flags)" "login required, rng, SO PIN locked, token initialized, PIN initialized" \
	"after 3 wrong user codes: SO PIN locked"
is "$(vcard_status_get so user_code_blocked)" 1 "the card agrees: user code blocked"
like "$(so_init UC)" "C_Login failed: rv = CKR_PIN_LOCKED" "a blocked user code: CKR_PIN_LOCKED, even the right one"
is "$(resets so)" 1 "no RESET RETRY COUNTER was sent for any of them"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the PIN still works"

# The CA resets the user code (out of band).
"$P11U_VCARD" reset-user-code "$(card_state so)" --new-user-code "$UC" >/dev/null
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "user code reset by the CA"

# --- "forgot my PIN": the same release while the PIN is not locked ---------------------------
p11t --login --pin env:WRONG -O >/dev/null
is "$(card_tries so)" "pin_tries=2 user_code_tries=3" "one wrong PIN: not locked"
out=$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW2)
like "$out" "^User PIN successfully initialized$" "forgot my PIN: SO login + C_InitPIN"
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "forgot my PIN: counters 3/3"
like "$(p11t --login --pin env:NEW2 -O)" "Private Key Object" "forgot my PIN: the new PIN logs in"

# --- the PKCS#11 rules, through p11-script -------------------------------------------------
export SHORT_UC=Ab12c LONG_UC=Ab12cd34567 SPACE_UC="Ab1 cd34" SHORT_PIN=12345 LONG_PIN=123456789
export SPACE_PIN="12 456"
verifies_uc=$(verifies_with_data so 02)
verifies_pin=$(verifies_with_data so 01)
resets=$(resets so)
changes=$(commands_with_data so 24 01)
out=$(p11s <<'EOF'
init
slots
open 0 ro nss
login so env:UC
open 0 rw change
login so env:UC
use nss
close
use change
login so env:UC
session-info
open 0 ro second
login user env:NEW2
login so env:UC
setpin env:UC env:NEW
initpin env:SHORT_PIN
initpin env:LONG_PIN
initpin env:SPACE_PIN
logout
initpin env:NEW
session-info
login so env:SHORT_UC
login so env:LONG_UC
login so env:SPACE_UC
login so empty
token-info 0
login so env:UC
initpin env:NEW
logout
login user env:NEW
logout
close
open 0 rw again
login so env:UC
close
open 0 rw last
initpin env:NEW
finalize
EOF
)
transcript_is "$out" "SO rules" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
open 0 ro nss -> CKR_OK  # NSS keeps a R/O session open
login so env:UC -> CKR_SESSION_READ_ONLY_EXISTS  # SO login with a R/O session: CKR_SESSION_READ_ONLY_EXISTS
open 0 rw change -> CKR_OK
login so env:UC -> CKR_SESSION_READ_ONLY_EXISTS  # refused in a R/W session too while the R/O one exists
use nss -> ok
close -> CKR_OK
use change -> ok
login so env:UC -> CKR_OK  # SO login once no R/O session is left
session-info -> CKR_OK slot=0 state=CKS_RW_SO_FUNCTIONS flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
open 0 ro second -> CKR_SESSION_READ_WRITE_SO_EXISTS  # no R/O session while the SO is logged in
login user env:NEW2 -> CKR_USER_ANOTHER_ALREADY_LOGGED_IN
login so env:UC -> CKR_USER_ALREADY_LOGGED_IN
setpin env:UC env:NEW -> CKR_FUNCTION_NOT_SUPPORTED  # C_SetPIN as SO refused: the CA keeps the user code
initpin env:SHORT_PIN -> CKR_PIN_LEN_RANGE  # 5-character new PIN
initpin env:LONG_PIN -> CKR_PIN_LEN_RANGE  # 9-character new PIN
initpin env:SPACE_PIN -> CKR_PIN_INVALID  # new PIN with a space
logout -> CKR_OK
initpin env:NEW -> CKR_USER_NOT_LOGGED_IN  # C_Logout forgot the user code
session-info -> CKR_OK slot=0 state=CKS_RW_PUBLIC_SESSION flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
login so env:SHORT_UC -> CKR_PIN_INCORRECT  # 5-character user code
login so env:LONG_UC -> CKR_PIN_INCORRECT  # 11-character user code
login so env:SPACE_UC -> CKR_PIN_INCORRECT  # user code with a space
login so empty -> CKR_PIN_INCORRECT  # empty user code (NSS's "set a first password")
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # no try spent: no SO retry flags
login so env:UC -> CKR_OK
initpin env:NEW -> CKR_OK  # C_InitPIN in the SO session sets the new PIN
logout -> CKR_OK
login user env:NEW -> CKR_OK  # the new PIN logs in
logout -> CKR_OK
close -> CKR_OK
open 0 rw again -> CKR_OK
login so env:UC -> CKR_OK
close -> CKR_OK  # closing the last session ends the SO login
open 0 rw last -> CKR_OK
initpin env:NEW -> CKR_USER_NOT_LOGGED_IN  # and the user code with it
finalize -> CKR_OK
EOF
is "$(verifies_with_data so 02)" $((verifies_uc + 3)) \
	"only the three SO logins that succeeded sent the user code to the card"
is "$(verifies_with_data so 01)" $((verifies_pin + 1)) "only the last user login sent a PIN"
is "$(resets so)" $((resets + 1)) "one RESET RETRY COUNTER: the C_InitPIN that succeeded"
is "$(commands_with_data so 24 01)" "$changes" "no CHANGE REFERENCE DATA from the refused C_SetPIN"
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "no try was spent"
