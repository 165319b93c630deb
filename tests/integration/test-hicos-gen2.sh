#!/bin/bash
# A second-generation HiCOS card (p11unlock-vcard --variant gen2, the GPPKI applet) through the
# module (issue 11): a read-only token (certificates, public keys, card number) whatever
# hicos_login says; C_Login, SO login, C_SetPIN and C_InitPIN refused without card I/O; the card
# never receives a VERIFY of any class (no 8C 20), and its counter stays untouched.  Beside it in
# a second reader, a gen1 card: detecting both costs neither a try.  A gen2 card whose
# signature certificate is junk gives a partial token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"
. "$(dirname "$0")/hicos-lib.sh"

require_rig
require_module
require_script
require_cmd openssl openssl

plan 22

rig_up
card_create g2 --variant gen2 --pin 123456 --card-number TP03000000002222
card_create g1 --variant gen1 --pin 123456 --card-number TP03000000001111
card_insert 0 g2 || bail_out "the gen2 card not inserted"
card_insert 1 g1 || bail_out "the gen1 card not inserted"
export PIN=123456 NEW=24681357
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

for conf in defaults "hicos_login = yes"; do
	p11_setup "${conf/defaults/# the defaults}"
	out=$(p11t -L)
	like "$(tr '\n' '|' <<<"$out")" "Slot 0 \(0x0\): $(reader_name 0)\|  token label +: [^|]*002222\|  token manufacturer +: p11unlock\|  token model +: HiCOS GPPKI\|  token flags +: token initialized, PIN initialized\|.*  serial num +: TP03000000002222\|" \
		"$conf: gen2 listed, read-only (no login required), card number as serial"
	like "$(tr '\n' '|' <<<"$out")" "Slot 2 \(0x2\): $(reader_name 1)\|.*  token model +: CHT V32N\|.*  serial num +: TP03000000001111\|" \
		"$conf: the gen1 card beside it listed too"
done

out=$(p11t --slot 0 -O)
is "$(grep -c '^Certificate Object' <<<"$out")" 4 "four certificates"
is "$(sed -n 's/^ *ID: *//p' <<<"$out" | sort -u | tr '\n' ' ')" "434143657274 4b455958 524f4f54434143657274 5349474e " \
	"CKA_IDs from the directory files: CACert, KEYX, ROOTCACert, SIGN"
is "$(grep -c '^Public Key Object; RSA 2048 bits' <<<"$out")" 2 "two RSA-2048 public keys"
is "$(grep -c '^Private Key Object' <<<"$out")" 0 "no private keys"
# Each public key is its certificate's.
for id in 5349474e 4b455958; do
	p11t --slot 0 --read-object --type cert --id $id -o "cert-$id.der" >/dev/null
	p11t --slot 0 --read-object --type pubkey --id $id -o "pub-$id.der" >/dev/null
done
is "$(openssl rsa -pubin -inform der -in pub-5349474e.der -noout -modulus 2>&1).$(openssl rsa -pubin -inform der -in pub-4b455958.der -noout -modulus 2>&1)" \
	"$(openssl x509 -inform der -in cert-5349474e.der -noout -modulus).$(openssl x509 -inform der -in cert-4b455958.der -noout -modulus)" \
	"public keys SIGN and KEYX: the certificates' moduli"

# --- refused, with no card I/O ---------------------------------------------------------------------
out=$(script_without_io refused g2 <<EOF
init
open 0 rw
pause io-start
login user env:PIN
login so env:PIN
setpin env:PIN env:NEW
initpin env:NEW
pause io-end
EOF
)
transcript_is "$out" "gen2, hicos_login = yes" <<EOF
init -> CKR_OK
open 0 rw -> CKR_OK
pause io-start -> ok
login user env:PIN -> CKR_FUNCTION_NOT_SUPPORTED  # C_Login: everything beyond reading needs secure messaging
login so env:PIN -> CKR_FUNCTION_NOT_SUPPORTED  # SO login
setpin env:PIN env:NEW -> CKR_FUNCTION_NOT_SUPPORTED  # C_SetPIN
initpin env:NEW -> CKR_FUNCTION_NOT_SUPPORTED  # C_InitPIN
pause io-end -> ok
apdus: 0  # none of them reached the card
EOF

# --- what reached the cards --------------------------------------------------------------------------
is "$(verifies g2).$(vcard_status_get g2 pin_tries)" "0.3" "gen2: no VERIFY of any class ever, 3 tries left"
is "$(verifies g1).$(vcard_status_get g1 pin_tries)" "0.3" "gen1 beside it: no VERIFY during detection, 3 tries left"

# --- a junk signature certificate: a partial token -------------------------------------------------
card_remove 0
card_create junk --variant gen2 --card-number TP03000000003333 --corrupt-cert-slot signature
card_insert 0 junk || bail_out "the junk gen2 card not inserted"
out=$(p11t --slot 0 -O)
is "$(grep -c '^Certificate Object' <<<"$out").$(sed -n 's/^ *ID: *//p' <<<"$out" | sort -u | tr '\n' ' ')" \
	"3.434143657274 4b455958 524f4f54434143657274 " \
	"junk signature certificate: the three others and the encryption key, nothing named SIGN"
