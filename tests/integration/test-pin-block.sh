#!/bin/bash
# Blocking the PIN through the real stack: wrong PINs sent with opensc-tool -s
# count down 63C2, 63C1, 63C0, then 6983; the card's state says pin_blocked=1
# and keeps it when the card process is restarted (remove + insert); the same
# over a T=0 card.  Format errors cost no try, and the card log never shows a
# PIN.
. "$(dirname "$0")/lib.sh"

require_rig

plan 27

WRONG_PIN_HEX="39 39 39 39 39 39"   # "999999"
RIGHT_PIN_HEX="31 32 33 34 35 36"   # "123456", the card's PIN
verify() {
	echo "80 20 00 01 $(printf '%02X' $(($(wc -w <<<"$1")))) $1"
}

# block_pin_test NAME RUN_ARGS...: the whole story on one card in reader 0.
block_pin_test() {
	local name=$1 mode
	shift
	mode=${*:-T=1}
	card_create "$name" --pin 123456
	card_insert 0 "$name" "$@"

	is "$(apdu_sw 0 "80 20 00 01")" "63 C3" "$mode: VERIFY without data reports 3 tries, free of charge"
	is "$(apdu_sw 0 "$(verify "31 32 33 34 35")")" "67 00" "$mode: a 5-character PIN gets 67 00"
	is "$(apdu_sw 0 "$(verify "31 32 33 34 35 20")")" "6A 80" "$mode: a PIN with a space gets 6A 80"
	is "$(vcard_status_get "$name" pin_tries)" 3 "$mode: format errors cost no try"

	is "$(apdu_sw 0 "$(verify "$WRONG_PIN_HEX")")" "63 C2" "$mode: first wrong PIN: 63 C2"
	is "$(apdu_sw 0 "$(verify "$WRONG_PIN_HEX")")" "63 C1" "$mode: second wrong PIN: 63 C1"
	is "$(apdu_sw 0 "$(verify "$WRONG_PIN_HEX")")" "63 C0" "$mode: third wrong PIN: 63 C0"
	is "$(apdu_sw 0 "$(verify "$RIGHT_PIN_HEX")")" "69 83" "$mode: then even the right PIN gets 69 83"
	is "$(vcard_status_get "$name" pin_blocked)" 1 "$mode: status says pin_blocked=1"

	card_remove 0
	is "$(vcard_status_get "$name" pin_blocked)" 1 "$mode: still pin_blocked=1 after the card process ended"
	card_insert 0 "$name" "$@"
	is "$(apdu_sw 0 "80 20 00 01")" "69 83" "$mode: the restarted card reports the PIN blocked"
	is "$(vcard_status_get "$name" pin_tries)" 0 "$mode: pin_tries=0 after the restart"
	card_remove 0
}

rig_up
block_pin_test t1
block_pin_test t0 --t0

# The log: every VERIFY is there by its header, none with its data.
log="$(cat "$(card_log t1)" "$(card_log t0)")"
is "$(grep -c '^apdu [0-9]*: CLA=80 INS=20 P1=00 P2=01 ' <<<"$log")" 16 \
	"the card logs show all sixteen VERIFYs by their header"
is "$(grep 'INS=20' <<<"$log" | grep -vc ' data=\[redacted [0-9]* bytes\] -> .* resp=\[redacted 0 bytes\]$')" 0 \
	"every VERIFY in the card logs has its data redacted"
unlike "$log" "393939393939|313233343536|3132333435" "no PIN appears in the card logs"
