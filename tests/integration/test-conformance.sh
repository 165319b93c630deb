#!/bin/bash
# PKCS#11 rules other programs rely on (docs/conformance.md):
# - slots exist from C_Initialize: C_GetSlotInfo, C_GetTokenInfo and C_OpenSession on a slot ID
#   work without a C_GetSlotList first (Java's SunPKCS11 with `slot = N`), and the IDs stay
#   those C_GetSlotList gives; a card present at C_Initialize is no slot event;
# - C_SeedRandom: CKR_RANDOM_NO_RNG on tokens without CKF_RNG (the user-code token, a real
#   HiCOS card's read-only token), CKR_RANDOM_SEED_NOT_SUPPORTED on a test card's token.
# (Single-part and multi-part calls that must not mix: tests/unit/test-crypto.c.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 25

rig_up --readers 2
p11_setup
card_create conf --key-bits 1024
card_create hico --key-bits 1024 --card-type "CHT V32N" --card-number XC00000000055555
card_insert 0 conf
card_insert 2 hico
export PIN=123456 WRONG=999999 UC=Ab12cd34

out=$(p11s <<'EOF'
init
slot-info 2
token-info 0
open 0 ro s
session-info
slots
wait-event dont-block
seed-random
open 4 ro h
seed-random
token-info 4
login user env:PIN
use s
close-all 0
session-info
finalize
EOF
)
transcript_is "$out" "from C_Initialize" <<'EOF'
init -> CKR_OK
slot-info 2 -> CKR_OK flags=CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01"  # no C_GetSlotList first
token-info 0 -> CKR_OK label="組織及團體憑證管 091349" model="P11U V1" serial="XC00000000091349" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED
open 0 ro s -> CKR_OK
session-info -> CKR_OK slot=0 state=CKS_RO_PUBLIC_SESSION flags=CKF_SERIAL_SESSION
slots -> CKR_OK 0 1 2 3 4 5 6 7  # the same IDs
wait-event dont-block -> CKR_NO_EVENT  # cards present at C_Initialize are no events
seed-random -> CKR_RANDOM_SEED_NOT_SUPPORTED  # the test card has an RNG that takes no seed
open 4 ro h -> CKR_OK
seed-random -> CKR_RANDOM_NO_RNG  # a real HiCOS card's read-only token has no RNG
token-info 4 -> CKR_OK label="組織及團體憑證管 055555" model="CHT V32N" serial="XC00000000055555" flags=CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # read-only: no login, no RNG
login user env:PIN -> CKR_FUNCTION_NOT_SUPPORTED  # nothing sent to a real card
use s -> ok
close-all 0 -> CKR_OK
session-info -> CKR_SESSION_HANDLE_INVALID  # closed by C_CloseAllSessions
finalize -> CKR_OK
EOF

# The user-code token of a locked card has no RNG either.
wrong_pins
out=$(p11s <<'EOF'
init
open 1 rw u
seed-random
vendor-login so env:UC 3
finalize
EOF
)
transcript_is "$out" "user-code token" <<'EOF'
init -> CKR_OK
open 1 rw u -> CKR_OK
seed-random -> CKR_RANDOM_NO_RNG
vendor-login so env:UC 3 -> CKR_FUNCTION_NOT_SUPPORTED  # P11U_Login: the user-code token's login spends no try
finalize -> CKR_OK
EOF
is "$(grep -c 'INS=84' "$(card_log conf)" || true)" 0 "no GET CHALLENGE reached the card"
is "$(grep -cE 'INS=(20|24|2C|22|2A) ' "$(card_log hico)" || true)" 0 "the real card received no security command"
