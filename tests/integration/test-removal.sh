#!/bin/bash
# Card removal, card swap, reset by another process, and fork, through p11-script:
# - the card removed between C_Login(CKU_SO) and C_InitPIN, and between the user-code token's
#   C_Login and C_SetPIN: clean errors, the card's state unchanged, no login inherited when
#   the card comes back;
# - the card cut by --remove-after right after RESET RETRY COUNTER, and right before it: the
#   state file is the new state or the old one, never torn, and the card works afterwards;
# - another card in the same reader, swapped between two calls, never inherits a login nor the
#   first card's token information (read before the swap), and its own login and key work;
# - a reset by another process: sessions fall back to public, a private operation returns
#   CKR_USER_NOT_LOGGED_IN, the module never verifies again from memory;
# - a forked child that did not call C_Initialize gets CKR_CRYPTOKI_NOT_INITIALIZED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script
require_cmd scriptor pcsc-tools

plan 113

rig_up
p11_setup
export PIN=123456 UC=Ab12cd34 NEW=24681357 WRONG=999999

# lock NAME: three wrong PINs on the card in reader 0.
lock() {
	wrong_pins
	is "$(card_tries "$1")" "pin_tries=0 user_code_tries=3" "card $1 locked"
}

# --- removed between C_Login(CKU_SO) and C_InitPIN -----------------------------------------------
card_create so --key-bits 1024
card_insert 0 so
lock so
script_bg so <<'EOF'
init
slots present
open 0 rw s
login so env:UC
session-info
pause removed
initpin env:NEW
initpin env:NEW
session-info
token-info 0
slots present
open 0 rw
pause back
slots present
open 0 rw s2
session-info
initpin env:NEW
token-info 0
finalize
EOF
script_at so removed
card_remove 0
script_go so removed
script_at so back
card_insert 0 so
script_go so back
out=$(script_end so)
transcript_is "$out" "SO login, removal, C_InitPIN" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 1
open 0 rw s -> CKR_OK
login so env:UC -> CKR_OK
session-info -> CKR_OK slot=0 state=CKS_RW_SO_FUNCTIONS flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
pause removed -> ok
initpin env:NEW -> CKR_DEVICE_REMOVED  # the card is gone: a clean error
initpin env:NEW -> CKR_SESSION_HANDLE_INVALID  # the session went with it
session-info -> CKR_SESSION_HANDLE_INVALID
token-info 0 -> CKR_TOKEN_NOT_PRESENT
slots present -> CKR_OK
open 0 rw -> CKR_TOKEN_NOT_PRESENT
pause back -> ok
slots present -> CKR_OK 0 1  # the same card is back, still locked
open 0 rw s2 -> CKR_OK
session-info -> CKR_OK slot=0 state=CKS_RW_PUBLIC_SESSION flags=CKF_RW_SESSION|CKF_SERIAL_SESSION  # it inherits no SO login
initpin env:NEW -> CKR_USER_NOT_LOGGED_IN  # and no user code
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED|CKF_USER_PIN_LOCKED
finalize -> CKR_OK
EOF
is "$(card_tries so)" "pin_tries=0 user_code_tries=3" "the card's state is the old one"
is "$(resets so)" 0 "no RESET RETRY COUNTER reached the card"
like "$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW)" \
	"User PIN successfully initialized" "the card works: SO login + C_InitPIN"
is "$(card_tries so)" "pin_tries=3 user_code_tries=3" "released"
card_remove 0

# --- removed between the user-code token's C_Login and C_SetPIN ------------------------------------
card_create uc --key-bits 1024
card_insert 0 uc
lock uc
script_bg uc <<'EOF'
init
slots present
open 1 ro nss
open 1 rw change
login user env:UC
pause removed
setpin env:UC env:NEW
use nss
session-info
token-info 1
slots present
pause back
slots present
open 1 ro nss2
session-info
open 1 rw change2
setpin env:UC env:NEW
session-info
finalize
EOF
script_at uc removed
card_remove 0
script_go uc removed
script_at uc back
card_insert 0 uc
script_go uc back
out=$(script_end uc)
transcript_is "$out" "user-code token, removal, C_SetPIN" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 1
open 1 ro nss -> CKR_OK
open 1 rw change -> CKR_OK
login user env:UC -> CKR_OK
pause removed -> ok
setpin env:UC env:NEW -> CKR_DEVICE_REMOVED  # the card is gone: a clean error
use nss -> ok
session-info -> CKR_DEVICE_REMOVED
token-info 1 -> CKR_TOKEN_NOT_PRESENT
slots present -> CKR_OK
pause back -> ok
slots present -> CKR_OK 0 1  # back, still locked: the token is there again
open 1 ro nss2 -> CKR_OK
session-info -> CKR_OK slot=1 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION  # no login inherited
open 1 rw change2 -> CKR_OK
setpin env:UC env:NEW -> CKR_OK  # the card works
session-info -> CKR_DEVICE_REMOVED  # and the token went away
finalize -> CKR_OK
EOF
is "$(resets uc)" 1 "one RESET RETRY COUNTER reached the card: the last C_SetPIN"
is "$(card_tries uc)" "pin_tries=3 user_code_tries=3" "released"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "the new PIN logs in"
card_remove 0

# --- the card cut right after, and right before, RESET RETRY COUNTER --------------------------------
# The same script on the same card state sends the same APDUs: a first run finds the number R
# of the RESET RETRY COUNTER APDU; then the card is served with --remove-after R (it leaves
# right after answering it) and --remove-after R-1 (right before it).
card_create cut --key-bits 1024
card_insert 0 cut
lock cut
card_remove 0
cp "$(card_state cut)" "$TEST_TMP/cut.locked"

# cut_run LOG [run ARGS]: restore the locked card, serve it, run SO login + C_InitPIN; the
# script waits until pcscd saw the card go (or, on the dry run, goes on at once).
cut_run() {
	local log=$1
	shift
	cp "$TEST_TMP/cut.locked" "$(card_state cut)"
	card_insert 0 cut --log "$TEST_TMP/$log.log" "$@"
	script_bg "$log" <<'EOF'
init
slots present
open 0 rw s
login so env:UC
initpin env:NEW
pause gone
session-info
token-info 0
finalize
EOF
	script_at "$log" gone
	[ $# = 0 ] || rig wait 0 empty
	script_go "$log" gone
	cut_out=$(script_end "$log")
	card_remove 0
}

cut_run cut-dry
is "$(result_of "$cut_out" "initpin env:NEW")" CKR_OK "dry run: SO login + C_InitPIN"
R=$(sed -n 's/^apdu \([0-9]*\): CLA=80 INS=2C .*/\1/p' "$TEST_TMP/cut-dry.log")
like "$R" "^[0-9]+$" "dry run: RESET RETRY COUNTER was APDU number $R"

cut_run cut-after --remove-after "$R"
like "$(grep '^apdu ' "$TEST_TMP/cut-after.log" | tail -n 1)" "^apdu $R: CLA=80 INS=2C " \
	"cut after: the last APDU the card answered was RESET RETRY COUNTER"
is "$(tail -n 1 "$TEST_TMP/cut-after.log")" "removed after the last APDU (--remove-after)" \
	"cut after: then the card left the reader"
transcript_is "$cut_out" "cut after" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 1
open 0 rw s -> CKR_OK
login so env:UC -> CKR_OK
initpin env:NEW -> CKR_OK  # the card answered before it left
pause gone -> ok
session-info -> CKR_DEVICE_REMOVED
token-info 0 -> CKR_TOKEN_NOT_PRESENT
finalize -> CKR_OK
EOF
is "$(card_tries cut)" "pin_tries=3 user_code_tries=3" "cut after: the state file holds the new state"
card_insert 0 cut
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "cut after: the card works with the new PIN"
card_remove 0

cut_run cut-before --remove-after $((R - 1))
like "$(grep '^apdu ' "$TEST_TMP/cut-before.log" | tail -n 1)" "^apdu $((R - 1)): " \
	"cut before: the card left after APDU $((R - 1))"
is "$(grep -c 'INS=2C' "$TEST_TMP/cut-before.log" || true)" 0 \
	"cut before: RESET RETRY COUNTER never reached the card"
# The card vanished under a transmit: pcscd reports a failed transaction before it has seen the
# removal; the module asks pcscd again and reports the removal, and that call ends the session.
is "$(result_of "$cut_out" "initpin env:NEW")" "CKR_DEVICE_REMOVED" \
	"cut before: C_InitPIN fails cleanly"
is "$(sed -n '6,$p' <<<"$cut_out")" "pause gone -> ok
session-info -> CKR_SESSION_HANDLE_INVALID
token-info 0 -> CKR_TOKEN_NOT_PRESENT
finalize -> CKR_OK" "cut before: then the session ends with the card"
is "$(card_tries cut)" "pin_tries=0 user_code_tries=3" "cut before: the state file holds the old state"
card_insert 0 cut
like "$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW)" \
	"User PIN successfully initialized" "cut before: the card works (SO login + C_InitPIN)"
card_remove 0

# --- another card in the same reader never inherits a login --------------------------------------
card_create first --key-bits 1024 --card-number XC00000000000001
card_create second --key-bits 1024 --card-number XC00000000000002
card_insert 0 first
script_bg swap <<'EOF'
init
slots present
token-info 0
open 0 ro s
login user env:PIN
find class=private-key
pause swapped
session-info
find class=private-key
slots present
token-info 0
open 0 ro s2
session-info
find class=private-key
sign rsa-pkcs SIGN
login user env:PIN
find class=private-key
sign sha256-rsa-pkcs SIGN
finalize
EOF
script_at swap swapped
card_remove 0
card_insert 0 second
verifies_second=$(verifies_with_data second 01)
script_go swap swapped
out=$(script_end swap)
transcript_is "$out" "card swap" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0
token-info 0 -> CKR_OK label="組織及團體憑證管 000001" model="P11U V1" serial="XC00000000000001" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED
open 0 ro s -> CKR_OK
login user env:PIN -> CKR_OK
find class=private-key -> CKR_OK found=2
pause swapped -> ok
session-info -> CKR_DEVICE_REMOVED  # the first card's session ended
find class=private-key -> CKR_SESSION_HANDLE_INVALID
slots present -> CKR_OK 0
token-info 0 -> CKR_OK label="組織及團體憑證管 000002" model="P11U V1" serial="XC00000000000002" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # the second card
open 0 ro s2 -> CKR_OK
session-info -> CKR_OK slot=0 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION  # not logged in
find class=private-key -> CKR_OK found=0  # its private keys are hidden
sign rsa-pkcs SIGN -> no key
login user env:PIN -> CKR_OK  # its own login
find class=private-key -> CKR_OK found=2
sign sha256-rsa-pkcs SIGN -> CKR_OK len=128
finalize -> CKR_OK
EOF
is "$(verifies_with_data second 01)" $((verifies_second + 1)) "the second card got one VERIFY: its own login"
card_remove 0

# --- reset by another process ----------------------------------------------------------------------
card_create rst --key-bits 1024
card_insert 0 rst
script_bg reset <<'EOF'
init
slots present
open 0 ro s
login user env:PIN
find class=private-key id=SIGN
sign rsa-pkcs
pause reset
sign rsa-pkcs
session-info
find class=private-key
pause checked
login user env:PIN
sign rsa-pkcs SIGN
fork-check
session-info
sign rsa-pkcs
finalize
EOF
script_at reset reset
is "$(echo reset | scriptor -r "$(reader_name 0)" 2>&1 | grep -c '^< OK')" 1 "another process resets the card (scriptor)"
verifies=$(verifies_with_data rst 01)
script_go reset reset
script_at reset checked
is "$(verifies_with_data rst 01)" "$verifies" "no VERIFY from memory after the reset"
script_go reset checked
out=$(script_end reset)
transcript_is "$out" "reset by another process, fork" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0
open 0 ro s -> CKR_OK
login user env:PIN -> CKR_OK
find class=private-key id=SIGN -> CKR_OK found=1
sign rsa-pkcs -> CKR_OK len=128
pause reset -> ok
sign rsa-pkcs -> CKR_USER_NOT_LOGGED_IN  # the reset ended the login
session-info -> CKR_OK slot=0 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION  # the session fell back to public
find class=private-key -> CKR_OK found=0
pause checked -> ok
login user env:PIN -> CKR_OK  # a new login works
sign rsa-pkcs SIGN -> CKR_OK len=128
fork-check -> child C_GetInfo=CKR_CRYPTOKI_NOT_INITIALIZED C_GetSessionInfo=CKR_CRYPTOKI_NOT_INITIALIZED C_Initialize=CKR_OK C_GetSlotList=CKR_OK C_Finalize=CKR_OK  # a forked child starts uninitialized
session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION  # the parent is unaffected
sign rsa-pkcs -> CKR_OK len=128
finalize -> CKR_OK
EOF
