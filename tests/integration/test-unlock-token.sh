#!/bin/bash
# The user-code token (user_code_token, on by default), driven through p11-script the way
# NSS / Firefox drive it (a R/O session always open, C_Login as user with the "old password",
# C_SetPIN(old, new) in a R/W session):
# - it exists only while the card's PIN is locked, in the reader's second slot (2n+1), with its
#   own label and model, no objects, and retry flags that follow the user code;
# - C_Login on it with any code costs no try and sends nothing to the card;
# - C_SetPIN(user code, new PIN) releases the card with one RESET RETRY COUNTER; the token then
#   disappears and calls on its sessions fail cleanly;
# - a wrong code costs one try; with one try left C_SetPIN is refused and the card's counters
#   are unchanged, also when another process spent the tries meanwhile;
# - C_WaitForSlotEvent reports the token appearing (a lock made by another process, noticed
#   at the next flag refresh) and disappearing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 161

rig_up
p11_setup
card_create tok --key-bits 1024
card_create ev --key-bits 1024 --card-number XC00000000000777
card_insert 0 tok
card_insert 1 ev
export PIN=123456 UC=Ab12cd34 NEW=24681357 NEW2=13572468 WRONG=999999 WRONG_UC=Zz99zz99
export SHORT_UC=Ab12c SHORT_PIN=12345 SPACE_PIN="12 456"

# The card's APDU count when a script reached `pause STEP`.
declare -A apdus_at

# Another process at the card: VERIFY of the PIN "999999", of the user code "Zz99zz99".
readonly WRONG_PIN_APDU="80 20 00 01 06 39 39 39 39 39 39"
readonly WRONG_UC_APDU="80 20 00 02 08 5A 7A 39 39 7A 7A 39 39"

LABEL_TOK='label="用戶代碼 XC00000000091349" model="User code" serial="XC00000000091349"'
LABEL_CARD='label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349"'
UC_FLAGS="CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED"
CARD_FLAGS="CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED"

# --- no token while the PIN is not locked ---------------------------------------------------
out=$(p11s <<'EOF'
init
slots present
slot-info 1
token-info 1
open 1 ro
finalize
EOF
)
transcript_is "$out" "unlocked card" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 2  # no user-code token while the PIN is not locked
slot-info 1 -> CKR_OK flags=CKF_REMOVABLE_DEVICE description="User code: Virtual PCD 00 00"
token-info 1 -> CKR_TOKEN_NOT_PRESENT
open 1 ro -> CKR_TOKEN_NOT_PRESENT
finalize -> CKR_OK
EOF

# --- lock the card; the token appears; NSS's logins cost nothing; Change Password releases ---
wrong_pins
is "$(card_tries tok)" "pin_tries=0 user_code_tries=3" "three wrong PINs lock the card"

script_bg nss <<'EOF'
init
slots present
slot-info 1
token-info 1
token-info 0
open 1 ro nss
session-info
find
pause logins
login user env:WRONG_UC
session-info
find
logout
login user env:SHORT_UC
login user empty
login user env:UC
login user env:UC
logout
pause logins-done
setpin env:UC env:NEW
open 1 rw change
login user env:UC
setpin env:UC env:SHORT_PIN
setpin env:UC env:SPACE_PIN
setpin env:UC env:NEW
session-info
session-info
use nss
login user env:UC
find
token-info 1
slot-info 1
slots present
open 1 ro
token-info 0
open 0 ro card
login user env:NEW
finalize
EOF
script_at nss logins && apdus_at[logins]=$(apdu_count tok)
script_go nss logins
script_at nss logins-done && apdus_at[logins-done]=$(apdu_count tok)
script_go nss logins-done
out=$(script_end nss)
transcript_is "$out" "NSS flow" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 1 2  # the user-code token appears in slot 2n+1
slot-info 1 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE description="User code: Virtual PCD 00 00"
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS  # its label, model and flags
token-info 0 -> CKR_OK $LABEL_CARD flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED
open 1 ro nss -> CKR_OK  # NSS's R/O session
session-info -> CKR_OK slot=1 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION
find -> CKR_OK found=0  # no objects
pause logins -> ok
login user env:WRONG_UC -> CKR_OK  # a wrong code is only kept: no card check, no try
session-info -> CKR_OK slot=1 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION
find -> CKR_OK found=0  # no objects after login either
logout -> CKR_OK
login user env:SHORT_UC -> CKR_PIN_INCORRECT  # a code that cannot be valid
login user empty -> CKR_PIN_INCORRECT  # an empty code
login user env:UC -> CKR_OK
login user env:UC -> CKR_USER_ALREADY_LOGGED_IN
logout -> CKR_OK
pause logins-done -> ok
setpin env:UC env:NEW -> CKR_SESSION_READ_ONLY  # C_SetPIN needs a R/W session
open 1 rw change -> CKR_OK  # Firefox's Change Password: a R/W session,
login user env:UC -> CKR_OK  # login with the old password (the user code),
setpin env:UC env:SHORT_PIN -> CKR_PIN_LEN_RANGE  # a new PIN that cannot be valid: refused before any card I/O
setpin env:UC env:SPACE_PIN -> CKR_PIN_INVALID
setpin env:UC env:NEW -> CKR_OK  # C_SetPIN(user code, new PIN) releases the card
session-info -> CKR_DEVICE_REMOVED  # its token is gone
session-info -> CKR_SESSION_HANDLE_INVALID  # and the session with it
use nss -> ok
login user env:UC -> CKR_DEVICE_REMOVED  # the R/O session also fails cleanly
find -> CKR_SESSION_HANDLE_INVALID
token-info 1 -> CKR_TOKEN_NOT_PRESENT  # the token disappeared
slot-info 1 -> CKR_OK flags=CKF_REMOVABLE_DEVICE description="User code: Virtual PCD 00 00"
slots present -> CKR_OK 0 2
open 1 ro -> CKR_TOKEN_NOT_PRESENT
token-info 0 -> CKR_OK $LABEL_CARD flags=$CARD_FLAGS  # the card token: no longer locked
open 0 ro card -> CKR_OK
login user env:NEW -> CKR_OK  # the new PIN logs in
finalize -> CKR_OK
EOF
is "$((apdus_at[logins-done] - apdus_at[logins]))" 0 "the logins on the user-code token sent no APDU at all"
is "$(verifies_with_data tok 02)" 0 "no VERIFY of the user code ever reached the card"
is "$(resets tok)" 1 "the release was one RESET RETRY COUNTER"
is "$(card_tries tok)" "pin_tries=3 user_code_tries=3" "the card's counters are 3/3"
like "$(p11t --login --pin env:NEW -O)" "Private Key Object" "pkcs11-tool logs in with the new PIN"

# --- wrong codes cost a try each; with one try left C_SetPIN is refused -------------------------
wrong_pins
is "$(card_tries tok)" "pin_tries=0 user_code_tries=3" "locked again"
script_bg last <<'EOF'
init
slots present
open 1 ro nss
open 1 rw change
login user env:WRONG_UC
setpin env:WRONG_UC env:NEW2
token-info 1
token-info 0
setpin env:WRONG_UC env:NEW2
token-info 1
token-info 0
pause one-left
setpin env:UC env:NEW2
setpin env:UC env:NEW2
pause refused
token-info 1
logout
login user env:UC
session-info
finalize
EOF
script_at last one-left && apdus_at[one-left]=$(apdu_count tok) &&
	resets_at_one_left=$(resets tok) && counters_at_one_left=$(card_tries tok)
script_go last one-left
script_at last refused && apdus_at[refused]=$(apdu_count tok)
script_go last refused
out=$(script_end last)
transcript_is "$out" "last try" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 1 2
open 1 ro nss -> CKR_OK
open 1 rw change -> CKR_OK
login user env:WRONG_UC -> CKR_OK
setpin env:WRONG_UC env:NEW2 -> CKR_PIN_INCORRECT  # a wrong code costs one try
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS|CKF_USER_PIN_COUNT_LOW  # the token's user flags follow the user code
token-info 0 -> CKR_OK $LABEL_CARD flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED|CKF_SO_PIN_COUNT_LOW  # and the card token's SO flags
setpin env:WRONG_UC env:NEW2 -> CKR_PIN_INCORRECT
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS|CKF_USER_PIN_COUNT_LOW|CKF_USER_PIN_FINAL_TRY
token-info 0 -> CKR_OK $LABEL_CARD flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED|CKF_SO_PIN_COUNT_LOW|CKF_SO_PIN_FINAL_TRY
pause one-left -> ok
setpin env:UC env:NEW2 -> CKR_FUNCTION_REJECTED  # one try left: refused, even with the right code
setpin env:UC env:NEW2 -> CKR_FUNCTION_REJECTED
pause refused -> ok
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS|CKF_USER_PIN_COUNT_LOW|CKF_USER_PIN_FINAL_TRY  # the token stays
logout -> CKR_OK
login user env:UC -> CKR_OK  # logging in still costs nothing
session-info -> CKR_OK slot=1 state=CKS_RW_USER_FUNCTIONS flags=CKF_RW_SESSION|CKF_SERIAL_SESSION
finalize -> CKR_OK
EOF
is "$counters_at_one_left" "pin_tries=0 user_code_tries=1" "two wrong codes: one user-code try left on the card"
is "$((apdus_at[refused] - apdus_at[one-left]))" 0 "the refused C_SetPIN sent no APDU"
is "$(resets tok)" "$resets_at_one_left" "no RESET RETRY COUNTER for the refused C_SetPIN"
is "$(card_tries tok)" "pin_tries=0 user_code_tries=1" "the card's counters are unchanged"

# Another process spends the tries between the module's last reading and C_SetPIN: the check
# made in the same transaction as the reset still refuses.
"$P11U_VCARD" reset-user-code "$(card_state tok)" --new-user-code "$UC" >/dev/null
is "$(card_tries tok)" "pin_tries=0 user_code_tries=3" "the CA reset the user code"
script_bg stale <<'EOF'
init
slots present
token-info 1
open 1 ro nss
open 1 rw change
login user env:UC
pause spent
setpin env:UC env:NEW2
token-info 1
finalize
EOF
script_at stale spent
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C2" "another process: wrong user code (2 left)"
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C1" "another process: wrong user code (1 left)"
resets_before=$(resets tok)
script_go stale spent
out=$(script_end stale)
transcript_is "$out" "stale counters" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 1 2
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS  # the module read 3 user-code tries
open 1 ro nss -> CKR_OK
open 1 rw change -> CKR_OK
login user env:UC -> CKR_OK
pause spent -> ok
setpin env:UC env:NEW2 -> CKR_FUNCTION_REJECTED  # the card says one try left: refused
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS|CKF_USER_PIN_COUNT_LOW|CKF_USER_PIN_FINAL_TRY
finalize -> CKR_OK
EOF
is "$(resets tok)" "$resets_before" "no RESET RETRY COUNTER was sent"
is "$(card_tries tok)" "pin_tries=0 user_code_tries=1" "the card's counters are unchanged"

# The last try is left to an explicit SO login.
like "$(p11t --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW2)" \
	"User PIN successfully initialized" "an explicit SO login spends the last try and releases"
is "$(card_tries tok)" "pin_tries=3 user_code_tries=3" "counters 3/3"

# A blocked user code: the token stays (the PIN is locked) and says so; nothing is tried.
wrong_pins
for sw in "63 C2" "63 C1" "63 C0"; do
	is "$(apdu_sw 0 "$WRONG_UC_APDU")" "$sw" "another process: wrong user code ($sw)"
done
is "$(card_tries tok)" "pin_tries=0 user_code_tries=0" "PIN and user code blocked"
resets_before=$(resets tok)
out=$(p11s <<'EOF'
init
slots present
token-info 1
token-info 0
open 1 ro nss
open 1 rw change
login user env:UC
setpin env:UC env:NEW
finalize
EOF
)
transcript_is "$out" "blocked user code" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 1 2
token-info 1 -> CKR_OK $LABEL_TOK flags=$UC_FLAGS|CKF_USER_PIN_LOCKED  # the token's user PIN (the user code) is locked
token-info 0 -> CKR_OK $LABEL_CARD flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED|CKF_SO_PIN_LOCKED
open 1 ro nss -> CKR_OK
open 1 rw change -> CKR_OK
login user env:UC -> CKR_PIN_LOCKED
setpin env:UC env:NEW -> CKR_PIN_LOCKED
finalize -> CKR_OK
EOF
is "$(resets tok)" "$resets_before" "blocked user code: no RESET RETRY COUNTER"
is "$(card_tries tok)" "pin_tries=0 user_code_tries=0" "blocked user code: counters unchanged"

# user_code_token = no: no user-code token, even on a locked card.
p11_setup "allow_test_cards = yes" "user_code_token = no"
out=$(p11s <<'EOF'
init
slots present
token-info 1
finalize
EOF
)
transcript_is "$out" "user_code_token off" <<EOF
init -> CKR_OK
slots present -> CKR_OK 0 2  # no user-code token for the locked card
token-info 1 -> CKR_TOKEN_NOT_PRESENT
finalize -> CKR_OK
EOF
p11_setup

# --- C_WaitForSlotEvent: the token appears (lock by another process) and disappears ----------
script_bg events <<'EOF'
init
slots
token-info 2
wait-event dont-block
wait-event-thread
pause locked
sleep 1100
token-info 2
join 5000
wait-event dont-block
token-info 3
open 3 ro nss
open 3 rw change
login user env:UC
wait-event-thread
sleep 200
setpin env:UC env:NEW
join 5000
wait-event dont-block
token-info 3
slots present
pause relocked
sleep 1100
token-info 2
wait-event dont-block
open 3 ro nss3
wait-event-thread
pause released
sleep 1100
token-info 2
join 5000
use nss3
session-info
slots present
finalize
EOF
script_at events locked
for sw in "63 C2" "63 C1" "63 C0"; do
	is "$(apdu_sw 1 "$WRONG_PIN_APDU")" "$sw" "another process: wrong PIN ($sw)"
done
script_go events locked
script_at events relocked
for sw in "63 C2" "63 C1" "63 C0"; do
	is "$(apdu_sw 1 "$WRONG_PIN_APDU")" "$sw" "another process locks the card again ($sw)"
done
script_go events relocked
script_at events released
like "$(p11t --slot 2 --login --login-type so --so-pin env:UC --init-pin --new-pin env:NEW2)" \
	"User PIN successfully initialized" "another process releases the card"
script_go events released
out=$(script_end events)
LABEL_EV_TOK='label="用戶代碼 XC00000000000777" model="User code" serial="XC00000000000777"'
LABEL_EV='label="組織及團體憑證管 000777" model="P11U V1" serial="XC00000000000777"'
transcript_is "$out" "slot events" <<EOF
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
token-info 2 -> CKR_OK $LABEL_EV flags=$CARD_FLAGS
wait-event dont-block -> CKR_NO_EVENT  # nothing new since C_GetSlotList
wait-event-thread -> started  # a thread blocks in C_WaitForSlotEvent
pause locked -> ok
sleep 1100 -> ok
token-info 2 -> CKR_OK $LABEL_EV flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED  # the next flag refresh sees the lock
join 5000 -> CKR_OK slot=3  # the blocked wait reports the user-code slot (2n+1)
wait-event dont-block -> CKR_NO_EVENT  # reported once
token-info 3 -> CKR_OK $LABEL_EV_TOK flags=$UC_FLAGS
open 3 ro nss -> CKR_OK
open 3 rw change -> CKR_OK
login user env:UC -> CKR_OK
wait-event-thread -> started
sleep 200 -> ok
setpin env:UC env:NEW -> CKR_OK  # released
join 5000 -> CKR_OK slot=3  # the wait reports the token disappearing
wait-event dont-block -> CKR_NO_EVENT
token-info 3 -> CKR_TOKEN_NOT_PRESENT
slots present -> CKR_OK 0 1 2  # (the card in reader 0 is still blocked)
pause relocked -> ok
sleep 1100 -> ok
token-info 2 -> CKR_OK $LABEL_EV flags=$CARD_FLAGS|CKF_USER_PIN_LOCKED
wait-event dont-block -> CKR_OK slot=3  # CKF_DONT_BLOCK: the token appeared
open 3 ro nss3 -> CKR_OK
wait-event-thread -> started
pause released -> ok
sleep 1100 -> ok
token-info 2 -> CKR_OK $LABEL_EV flags=$CARD_FLAGS  # the refresh sees the release by the other process
join 5000 -> CKR_OK slot=3  # the token disappearing is reported
use nss3 -> ok
session-info -> CKR_DEVICE_REMOVED  # its session ends cleanly
slots present -> CKR_OK 0 1 2  # (the card in reader 0 is still blocked)
finalize -> CKR_OK
EOF
is "$(card_tries ev)" "pin_tries=3 user_code_tries=3" "the card in reader 1 was released"
