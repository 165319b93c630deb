#!/bin/bash
# A certificate slot of EF 08F2 that does not hold one exact DER certificate (here junk after
# a certificate-like header: p11unlock-vcard create --corrupt-cert-slot) is read as empty:
# the card keeps its token, its other certificates and its keys, even when the junk is in a
# CA slot.  Without a signature certificate the signature key is gone with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module

plan 16

rig_up
p11_setup "allow_test_cards = yes"
export PIN=123456

echo "to be signed" >"$TEST_TMP/data"

# certificates LABEL...: the "label:" of each certificate object of `pkcs11-tool -O`, in order.
certificates() {
	sed -n '/^Certificate Object/,/^ *label:/s/^ *label: *//p' <<<"$1" | tr '\n' ',' | sed 's/,$//'
}

# --- junk in the root CA slot ------------------------------------------------------------------
card_create junkroot --key-bits 1024 --corrupt-cert-slot root
card_insert 0 junkroot
like "$(p11t -L)" "token label +: 組織及團體憑證管 091349$" \
	"root CA slot of junk: the card still has its token"
out=$(p11t -O)
is "$(certificates "$out")" "Signature certificate,Encryption certificate,Issuing CA certificate" \
	"root CA slot of junk: the three other certificates"
is "$(grep -c '^Public Key Object' <<<"$out")" 2 "root CA slot of junk: both public keys"
out=$(p11t --login --pin env:PIN -O)
is "$(grep -c '^Private Key Object' <<<"$out")" 2 "root CA slot of junk: both private keys"
ok "root CA slot of junk: the signature key signs" \
	p11t --login --pin env:PIN --sign -m SHA256-RSA-PKCS --id 5349474e -i "$TEST_TMP/data" \
	-o "$TEST_TMP/sig"
card_remove 0

# --- junk in the issuing CA slot ----------------------------------------------------------------
card_create junkissuing --key-bits 1024 --corrupt-cert-slot issuing
card_insert 0 junkissuing
out=$(p11t -O)
is "$(certificates "$out")" "Signature certificate,Encryption certificate,Root CA certificate" \
	"issuing CA slot of junk: the three other certificates"
is "$(grep -c '^Public Key Object' <<<"$out")" 2 "issuing CA slot of junk: both public keys"
card_remove 0

# --- junk in the signature slot: the signature key goes with it ----------------------------------
card_create junksign --key-bits 1024 --corrupt-cert-slot signature
card_insert 0 junksign
out=$(p11t --login --pin env:PIN -O)
is "$(certificates "$out")" "Encryption certificate,Issuing CA certificate,Root CA certificate" \
	"signature slot of junk: the three other certificates"
is "$(grep -c '^Public Key Object' <<<"$out")" 1 "signature slot of junk: one public key"
is "$(grep -c '^Private Key Object' <<<"$out")" 1 "signature slot of junk: one private key"
like "$(p11t --login --pin env:PIN --sign -m SHA256-RSA-PKCS --id 5349474e -i "$TEST_TMP/data" \
	-o "$TEST_TMP/sig")" "Private key not found" "signature slot of junk: no key SIGN to sign with"
card_remove 0

# --- two slots of junk -------------------------------------------------------------------------
card_create twojunk --key-bits 1024 --corrupt-cert-slot root --corrupt-cert-slot encryption
card_insert 0 twojunk
out=$(p11t -O)
is "$(certificates "$out")" "Signature certificate,Issuing CA certificate" \
	"root and encryption slots of junk: the two other certificates"
card_remove 0

# --- the option itself ------------------------------------------------------------------------
rc=0
err=$("$P11U_VCARD" create "$TEST_TMP/x.state" --corrupt-cert-slot user 2>&1) || rc=$?
is "$rc" 2 "--corrupt-cert-slot user: a usage error"
like "$err" "--corrupt-cert-slot: not root, issuing, encryption or signature: user" \
	"--corrupt-cert-slot user: the message"
state=$(card_state twojunk)
is "$(sed -n 's/^ef_08f2=//p' "$state" | cut -c1-24)" "30820100a5a5a5a5a5a5a5a5" \
	"the junk: a certificate header that fits, then bytes that are not DER"
is "$(sed -n 's/^ef_08f2=//p' "$state" | cut -c$((0x700 * 2 + 1))-$((0x700 * 2 + 4)))" 3082 \
	"the issuing CA slot keeps its certificate"
