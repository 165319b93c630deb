#!/bin/bash
# Presence from reader events (issue 10): the module follows pcscd's reader states in a thread
# of its own, so calls that need no card data answer from memory.
# - Another process holds the card: its command waits in pcscd on a card that does not answer
#   (the virtual card's process is stopped), inside its transaction.  Meanwhile this process's
#   C_GetSessionInfo, C_GetSlotInfo and C_GetSlotList answer at once, as NSS polls them.
# (A card swapped between two calls, its token information read before: test-removal.sh.)
# - Cards in several readers are read at the same time: the first call that reads a card starts
#   reading the other new ones in threads of their own.
# The `within` bounds are far above what the calls take (microseconds now): they catch a call
# that waits for the other process or for pcscd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 21

rig_up --readers 3
p11_setup "allow_test_cards = yes"
export PIN=123456


# --- another process holds the card ------------------------------------------------------------------
card_create held --key-bits 1024 --card-number XC00000000000601
card_insert 0 held
script_bg held <<'EOF'
init
slots present
open 0 ro s
login user env:PIN
session-info
pause hold
within 300 session-info
within 300 slot-info 0
within 300 slots present
within 300 session-info
pause release
session-info
sign sha256-rsa-pkcs SIGN
finalize
EOF
script_at held hold
signal_card 0 STOP
at_exit signal_card 0 CONT
# opensc-tool takes the card's transaction for its command, which the stopped card never answers.
timeout 60 opensc-tool -r 0 -s "80 20 00 01" >"$TEST_TMP/other.out" 2>&1 &
other=$!
sleep 1.5
ok "the other process is still waiting for the card" proc_running "$other"
script_go held hold
script_at held release
signal_card 0 CONT
wait "$other"
script_go held release
out=$(script_end held)
transcript_is "$out" "another process holds the card" <<'EOF'
init -> CKR_OK
slots present -> CKR_OK 0
open 0 ro s -> CKR_OK
login user env:PIN -> CKR_OK
session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION
pause hold -> ok
within 300 session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION (within 300 ms)  # no wait for the other process
within 300 slot-info 0 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 00" (within 300 ms)
within 300 slots present -> CKR_OK 0 (within 300 ms)
within 300 session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION (within 300 ms)
pause release -> ok
session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION
sign sha256-rsa-pkcs SIGN -> CKR_OK len=128  # the card answers again, the login held
finalize -> CKR_OK
EOF
card_remove 0

# --- several cards read at the same time ---------------------------------------------------------------
card_create c1 --key-bits 1024 --card-number XC00000000000631
card_create c2 --key-bits 1024 --card-number XC00000000000632
card_create c3 --key-bits 1024 --card-number XC00000000000633
card_insert 0 c1
card_insert 1 c2
card_insert 2 c3
out=$(P11UNLOCK_DEBUG=card p11t -L)
is "$(grep -c 'its card is read at the same time' <<<"$out")" 2 \
	"pkcs11-tool -L: reading the first card starts reading the two others"
is "$(sed -n 's/^ *serial num *: //p' <<<"$out" | sort -u | tr '\n' ' ')" \
	"XC00000000000631 XC00000000000632 XC00000000000633 " "pkcs11-tool -L: the three cards' tokens"
for c in c1 c2 c3; do
	is "$(grep -c 'INS=B0 P1=00 P2=00 .*Le=16 ' "$(card_log "$c")")" 1 "$c: read once (one card-number READ BINARY)"
done
