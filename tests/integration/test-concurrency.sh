#!/bin/bash
# One card never freezes the module (card_timeout = 2 here):
# - a card that answered its ATR and then stops answering (its virtual card's process stopped:
#   pcscd waits for it for ever) is shown as not answering (CKR_DEVICE_ERROR) after the
#   deadline; pkcs11-tool in a new process still works with the good card in the other reader;
# - in one process, a call stuck on that card holds up neither the other card (a signature) nor
#   the calls that need no card (slot and session information);
# - when the card answers again it is read again as a new token; taken out, it is gone;
# - eight threads blocked in C_WaitForSlotEvent hold up no other call, and C_Finalize wakes them
#   all at once.
# The `within` bounds are far above what the calls take (milliseconds): they catch a call that
# waits for another card, a deadline or a wait's poll, not a slow machine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 43

rig_up
p11_setup "allow_test_cards = yes" "card_timeout = 2"
card_create stuck --key-bits 1024
card_create good --key-bits 1024 --card-number XC00000000022222
card_insert 0 stuck
card_insert 1 good
export PIN=123456


# --- a new process while the card in reader 0 does not answer -----------------------------------------
signal_card 0 STOP
at_exit signal_card 0 CONT
out=$(timeout 60 pkcs11-tool --module "$MODULE" --slot 2 -O 2>&1)
rc=$?
is "$rc" 0 "pkcs11-tool --slot 2 -O with a stalled card in reader 0: exit 0"
like "$out" "Certificate Object" "it lists the good card's certificates"
out=$(timeout 60 pkcs11-tool --module "$MODULE" -L 2>&1)
is "$?" 0 "pkcs11-tool -L: exit 0"
like "$out" "serial num *: XC00000000022222" "pkcs11-tool -L shows the good card"
unlike "$out" "XC00000000091349" "and not the stalled one as a token"
signal_card 0 CONT

# --- one process, two threads ---------------------------------------------------------------------------
script_bg stall <<'EOF'
init
slots present
open 2 ro b
login user env:PIN
find class=private-key id=SIGN
pause stop
sleep 1100
bg token-info 0
sleep 300
within 1000 slot-info 0
within 1000 slot-info 2
within 1000 token-info 2
within 1000 session-info
within 1500 sign sha256-rsa-pkcs
bg-join
within 500 token-info 0
within 500 slot-info 0
slots present
pause cont
token-info 0
open 0 ro a
pause out
slots present
within 3000 finalize
EOF
script_at stall stop
signal_card 0 STOP
script_go stall stop
script_at stall cont
signal_card 0 CONT
sleep 0.5
script_go stall cont
script_at stall out
card_remove 0
script_go stall out
out=$(script_end stall)
transcript_is "$out" "stalled card" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0 2
open 2 ro b -> CKR_OK
login user env:PIN -> CKR_OK
find class=private-key id=SIGN -> CKR_OK found=1
pause stop -> ok
sleep 1100 -> ok
bg token-info 0 -> started  # a call that reads the stalled card's counters
sleep 300 -> ok
within 1000 slot-info 0 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 00" (within 1000 ms)  # needs no card: not held up
within 1000 slot-info 2 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01" (within 1000 ms)
within 1000 token-info 2 -> CKR_OK label="組織及團體憑證管 022222" model="P11U V1" serial="XC00000000022222" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED (within 1000 ms)
within 1000 session-info -> CKR_OK slot=2 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION (within 1000 ms)
within 1500 sign sha256-rsa-pkcs -> CKR_OK len=128 (within 1500 ms)  # the other card works meanwhile
bg-join -> CKR_DEVICE_ERROR  # the stalled card, after card_timeout
within 500 token-info 0 -> CKR_DEVICE_ERROR (within 500 ms)  # not answering: said at once from now on
within 500 slot-info 0 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 00" (within 500 ms)
slots present -> CKR_OK 0 2
pause cont -> ok
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # answering again: read again
open 0 ro a -> CKR_OK
pause out -> ok
slots present -> CKR_OK 2
within 3000 finalize -> CKR_OK (within 3000 ms)
EOF
card_insert 0 stuck || bail_out "card stuck not inserted again"

# --- eight threads waiting for slot events ----------------------------------------------------------------
# The default card_timeout from here: this part is about waiters, and 2 s per PC/SC call is short
# enough for a busy machine (ASan, CI) to mark a slow but answering card stalled, whose read once
# it answers again is a new token and a slot event.
p11_setup "allow_test_cards = yes"
out=$(p11s <<'EOF'
init
slots
wait-event-thread 8
sleep 300
within 500 slot-info 0
within 500 slot-info 2
within 500 token-info 2
open 2 ro s
within 500 session-info
within 500 slots
within 1500 finalize
join 3000
EOF
)
transcript_is "$out" "eight waiters" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
wait-event-thread 8 -> started
sleep 300 -> ok
within 500 slot-info 0 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 00" (within 500 ms)  # not held up by the waiters
within 500 slot-info 2 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01" (within 500 ms)
within 500 token-info 2 -> CKR_OK label="組織及團體憑證管 022222" model="P11U V1" serial="XC00000000022222" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED (within 500 ms)
open 2 ro s -> CKR_OK
within 500 session-info -> CKR_OK slot=2 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION (within 500 ms)
within 500 slots -> CKR_OK 0 1 2 3 (within 500 ms)
within 1500 finalize -> CKR_OK (within 1500 ms)  # wakes all eight at once
join 3000 -> CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED; CKR_CRYPTOKI_NOT_INITIALIZED
EOF
