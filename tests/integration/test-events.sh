#!/bin/bash
# Slot events and polling, through p11-script:
# - C_WaitForSlotEvent, blocking (in a thread) and with CKF_DONT_BLOCK, reports card insertion
#   and removal once each;
# - C_Finalize from another thread wakes a blocked C_WaitForSlotEvent, which returns
#   CKR_CRYPTOKI_NOT_INITIALIZED, and an immediate new C_Initialize works (what NSS does);
# - no APDU storm: NSS's presence polling (C_GetSlotInfo + C_GetSessionInfo, about once a
#   second per slot) costs no APDU at all, and C_GetTokenInfo refreshes the retry flags at most
#   once a second (two empty VERIFYs, which cost no try).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script

plan 66

rig_up
p11_setup
export PIN=123456
card_create a --key-bits 1024
card_create b --key-bits 1024 --card-number XC00000000000002

# --- insertion and removal -----------------------------------------------------------------------
script_bg events <<'EOF'
init
slots
slots present
wait-event dont-block
wait-event-thread
pause insert-a
join 5000
wait-event dont-block
slots present
pause insert-b
wait-event dont-block
wait-event dont-block
slots present
wait-event-thread
pause remove-a
join 5000
wait-event dont-block
pause remove-b
wait-event dont-block
wait-event dont-block
slots present
pause insert-a-again
wait-event dont-block
wait-event-thread
sleep 300
finalize
init
join 3000
slots present
wait-event dont-block
wait-event-thread
sleep 300
finalize
join 3000
init
slots present
finalize
EOF
script_at events insert-a
card_insert 0 a
script_go events insert-a
script_at events insert-b
card_insert 1 b
script_go events insert-b
script_at events remove-a
card_remove 0
script_go events remove-a
script_at events remove-b
card_remove 1
script_go events remove-b
script_at events insert-a-again
card_insert 0 a
script_go events insert-a-again
out=$(script_end events)
transcript_is "$out" "events" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3
slots present -> CKR_OK  # no card yet
wait-event dont-block -> CKR_NO_EVENT
wait-event-thread -> started  # a thread blocks in C_WaitForSlotEvent
pause insert-a -> ok
join 5000 -> CKR_OK slot=0  # a card inserted in reader 0 wakes it
wait-event dont-block -> CKR_NO_EVENT  # reported once
slots present -> CKR_OK 0
pause insert-b -> ok
wait-event dont-block -> CKR_OK slot=2  # CKF_DONT_BLOCK: a card inserted in reader 1
wait-event dont-block -> CKR_NO_EVENT
slots present -> CKR_OK 0 2
wait-event-thread -> started
pause remove-a -> ok
join 5000 -> CKR_OK slot=0  # the blocked wait: card removed from reader 0
wait-event dont-block -> CKR_NO_EVENT
pause remove-b -> ok
wait-event dont-block -> CKR_OK slot=2  # CKF_DONT_BLOCK: card removed from reader 1
wait-event dont-block -> CKR_NO_EVENT
slots present -> CKR_OK
pause insert-a-again -> ok
wait-event dont-block -> CKR_OK slot=0
wait-event-thread -> started
sleep 300 -> ok
finalize -> CKR_OK  # C_Finalize while a thread waits (NSS's way to stop it)
init -> CKR_OK  # and C_Initialize again at once
join 3000 -> CKR_CRYPTOKI_NOT_INITIALIZED  # the waiting thread was woken
slots present -> CKR_OK 0  # the new initialization works
wait-event dont-block -> CKR_NO_EVENT  # the card present at C_GetSlotList is no event
wait-event-thread -> started
sleep 300 -> ok
finalize -> CKR_OK
join 3000 -> CKR_CRYPTOKI_NOT_INITIALIZED
init -> CKR_OK
slots present -> CKR_OK 0
finalize -> CKR_OK
EOF

# --- no APDU storm ----------------------------------------------------------------------------------
{
	printf '%s\n' init "slots present" "open 0 ro s" "login user env:PIN" "token-info 0" "pause before"
	for _ in $(seq 10); do
		printf '%s\n' "slot-info 0" "slot-info 1" session-info "sleep 150"
	done
	printf '%s\n' "pause after" "token-info 0" "token-info 0" "token-info 0" "pause after-token" finalize
} >"$TEST_TMP/poll.commands"
script_bg poll <"$TEST_TMP/poll.commands"
script_at poll before
apdus_before=$(apdu_count a)
script_go poll before
script_at poll after
apdus_after=$(apdu_count a)
script_go poll after
script_at poll after-token
apdus_after_token=$(apdu_count a)
script_go poll after-token
out=$(script_end poll)
is "$((apdus_after - apdus_before))" 0 \
	"10 rounds of C_GetSlotInfo (both slots) + C_GetSessionInfo over 1.5 s: no APDU"
is "$(grep -c '^slot-info 0 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 00"$' <<<"$out")" 10 \
	"every C_GetSlotInfo of the card slot: token present"
is "$(grep -c '^session-info -> CKR_OK slot=0 state=CKS_RO_USER_FUNCTIONS flags=CKF_SERIAL_SESSION$' <<<"$out")" 10 \
	"every C_GetSessionInfo: logged in"
is "$((apdus_after_token - apdus_after))" 2 "three C_GetTokenInfo in a row: one refresh of the retry flags"
is "$(sed -n "$((apdus_after + 1)),${apdus_after_token}p" < <(grep '^apdu ' "$(card_log a)") | sed 's/^apdu [0-9]*: //; s/ -> .*//')" \
	"CLA=80 INS=20 P1=00 P2=01 Lc=0 Le=- data=[redacted 0 bytes]
CLA=80 INS=20 P1=00 P2=02 Lc=0 Le=- data=[redacted 0 bytes]" "the refresh: two empty VERIFYs (no try spent)"
is "$(grep -c '^token-info 0 -> CKR_OK ' <<<"$out")" 4 "C_GetTokenInfo: CKR_OK each time"

# --- a card inserted after C_Initialize, noticed by C_GetSlotList or read by a waiting thread -------
# Card b answers slowly here (reading it takes seconds): while the waiting thread reads it, the
# main thread's C_GetSlotInfo and C_GetSlotList must show the card (its token not read yet),
# C_GetTokenInfo waits for that token, and the waiter gets the event, once.  The sleeps only
# let the waiter start first.
script_bg late <<'EOF'
init
pause insert-fast
slots present
wait-event dont-block
wait-event dont-block
finalize
pause remove
init
pause insert-slow
wait-event-thread
sleep 500
slot-info 2
sleep 200
slot-info 2
sleep 200
slots present
token-info 2
join 60000
wait-event dont-block
slot-info 2
finalize
EOF
script_at late insert-fast
card_insert 1 b
script_go late insert-fast
script_at late remove
card_remove 1
script_go late remove
script_at late insert-slow
card_insert 1 b --latency-us 250000
script_go late insert-slow
out=$(script_end late)
transcript_is "$out" "late card" <<'EOF'
init -> CKR_OK
pause insert-fast -> ok
slots present -> CKR_OK 0 2  # inserted after C_Initialize, first seen by C_GetSlotList
wait-event dont-block -> CKR_OK slot=2  # still an event: it came after C_Initialize
wait-event dont-block -> CKR_NO_EVENT  # once
finalize -> CKR_OK
pause remove -> ok
init -> CKR_OK
pause insert-slow -> ok
wait-event-thread -> started  # the waiter reads the slow card
sleep 500 -> ok
slot-info 2 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01"  # while it is read: not empty
sleep 200 -> ok
slot-info 2 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01"
sleep 200 -> ok
slots present -> CKR_OK 0 2  # listed while it is read
token-info 2 -> CKR_OK label="組織及團體憑證管 000002" model="P11U V1" serial="XC00000000000002" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # waits for the token being read
join 60000 -> CKR_OK slot=2  # the waiter gets the event
wait-event dont-block -> CKR_NO_EVENT  # once
slot-info 2 -> CKR_OK flags=CKF_TOKEN_PRESENT|CKF_REMOVABLE_DEVICE|CKF_HW_SLOT description="Virtual PCD 00 01"
finalize -> CKR_OK
EOF
