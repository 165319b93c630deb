#!/bin/bash
# p11unlock with several cards and readers, and with cards it must not unlock:
# two cards in two readers are both listed (no user-code tokens), a script
# must name one, --serial unlocks only that one, --slot and --token select too;
# no card and no reader are reported with exit status 6; a "CHT V32N" card (a
# real HiCOS card's type) is listed as read-only, refused with the CA hint, and
# never receives a VERIFY.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool

plan 32

tool_setup
rig_up
locked_card 0 one --card-number XC00000000000001
locked_card 1 two --card-number XC00000000000002 --holder-dn "C=TW,O=行政院,OU=內政部,CN=王小明"
answers="$USER_CODE"$'\n'"654321"$'\n'"654321"$'\n'

# --- two cards, two readers ---------------------------------------------------------------
tool_run "" --list --verbose
is "$RC" 0 "--list: exit 0"
is "$(grep '^\[' <<<"$OUT")" "[1] Card number: XC00000000000001
[2] Card number: XC00000000000002" "--list shows both cards, in reader order"
like "$OUT" "Reader: $(reader_name 1) \(slot 2\)" "--list: the second card in the second reader (slot 2)"
like "$OUT" "Holder: C=TW,O=行政院,OU=內政部,CN=王小明" "--list: the second card's holder"
unlike "$OUT" "用戶代碼" "--list: no user-code token of either locked card"
tool_run "" --list --json
is "$(grep -o '"card_number":"[^"]*"' <<<"$OUT" | tr '\n' ' ')" \
	'"card_number":"XC00000000000001" "card_number":"XC00000000000002" ' "--list --json: both cards, no user-code token"

tool_run "$answers"
is "$RC" 2 "two cards, no selection, not a terminal: exit 2"
is "$ERR" "Several cards are present: choose one with --serial, --slot or --token." \
	"two cards, no selection: the message"

before=$(grep -c '^apdu ' "$(card_log one)")
tool_run "$answers" --serial XC00000000000002
is "$RC" 0 "--serial XC00000000000002: exit 0"
like "$OUT" "Card XC00000000000002 is chosen\." "--serial: the right card chosen"
is "$(counters two)" 3/3 "the card named by --serial is unlocked"
is "$(counters one)" 0/3 "the other card is untouched"
# Only its card number was read (P11U_GetCardNumber): SELECT DF 0900, SELECT EF 0903, READ BINARY.
is "$(grep '^apdu ' "$(card_log one)" | tail -n +$((before + 1)) |
	sed 's/^apdu [0-9]*: CLA=80 INS=\(..\) P1=.. P2=.. Lc=[0-9]* Le=[-0-9]* data=\([^ ]*\) .*/\1 \2/' |
	tr '\n' ',')" "A4 0900,A4 0903,B0 -," "--serial: of the other card, only its number was read"

tool_run "" --status --slot 2
like "$OUT" "^\[2\] Card number: XC00000000000002" "--status --slot 2: the card in slot 2"
like "$OUT" "    PIN: OK" "--status --slot 2: its PIN is OK"
tool_run "" --status --token "pkcs11:serial=XC00000000000001;model=P11U%20V1"
like "$OUT" "^\[1\] Card number: XC00000000000001" "--status --token pkcs11:serial=...: that card"
like "$OUT" "    PIN: locked" "--status --token: its PIN is still locked"
tool_run "" --status --token "pkcs11:object=SIGN"
is "$RC" 2 "--token with an object URI: exit 2 (a token is needed)"
tool_run "$answers" --serial XC99999999999999
is "$RC.$ERR" "6.No card matches --serial, --slot or --token." "an unknown card number: exit 6"
is "$(counters one)" 0/3 "still untouched"

# --- no card, no reader -----------------------------------------------------------------------
card_remove 0
card_remove 1
tool_run "$answers"
is "$RC.$ERR" "6.No card found: insert your card into the reader." "no card: exit 6 and the message"
RC=0
"$P11U_TOOL" --list >/dev/null 2>"$TEST_TMP/err" </dev/null || RC=$?
is "$RC" 6 "--list without a card: exit 6"
rig_socket=$PCSCLITE_CSOCK_NAME
export PCSCLITE_CSOCK_NAME=$TEST_TMP/no-pcscd.comm
tool_run "$answers"
is "$RC.$ERR" "6.No smart card reader found." "no reader (no pcscd): exit 6 and the message"
export PCSCLITE_CSOCK_NAME=$rig_socket

# --- a card of a real HiCOS type: read-only ----------------------------------------------------------
card_create hicos --card-type "CHT V32N" --card-number TP03000000001349 --pin "$PIN" --user-code "$USER_CODE"
card_insert 0 hicos || bail_out "the CHT V32N card not inserted"
tool_run "" --list --verbose
like "$OUT" "Card type: CHT V32N" "CHT V32N: listed"
like "$OUT" "    Read-only card: its lock is released by the CA, not by this tool\." "CHT V32N: listed as read-only"
tool_run "$answers"
is "$RC" 7 "CHT V32N: unlock refused, exit 7"
is "$ERR" "Card TP03000000001349 is a real HiCOS card. Its lock is released through the web page or an office of the Organizations and Groups Certification Authority (XCA).
This tool does not touch real cards: their PIN reset commands are not public, and a command the card does not expect could cost you a try.
The CA's web page: https://xca.nat.gov.tw/" \
	"CHT V32N: the CA hint, its web page and why the tool does not touch it"
tool_run "$PIN"$'\n'"654321"$'\n'"654321"$'\n' --change-pin
is "$RC" 7 "CHT V32N: --change-pin refused, exit 7"
is "$(grep -cE 'INS=(20|24|2C) ' "$(card_log hicos)")" 0 "CHT V32N: no VERIFY (nor CHANGE, RESET) in the card's log"

# --- text from the card reaches the terminal harmless -------------------------------------------
# A holder DN with terminal escape sequences (set the window title, clear the screen), a BEL and
# a right-to-left override: shown escaped (RFC 4514) or as "?", never as the raw bytes.
card_create evil --card-number XC00000000000666 --holder-dn \
	"$(printf 'C=TW,O=Evil\033]0;pwned\007\033[2J,CN=A\u202eB')"
card_insert 1 evil || bail_out "the card with escape sequences not inserted"
tool_run "" --status --serial XC00000000000666
is "$(grep 'Holder:' <<<"$OUT")" '    Holder: C=TW,O=Evil\1B]0\;pwned\07\1B[2J,CN=A?B' \
	"escape sequences in the holder DN: shown escaped, the RLO as ?"
is "$(printf '%s%s' "$OUT" "$ERR" | LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f]\\|\xe2\x80\xae')" 0 \
	"no control byte and no RLO in anything the tool printed"
tool_run "" --status --json --serial XC00000000000666
like "$OUT" '"holder":"C=TW,O=Evil\\\\1B]0\\\\;pwned\\\\07\\\\1B\[2J,CN=A\?B"' "--json: the same text, JSON-escaped"
