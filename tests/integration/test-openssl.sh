#!/bin/bash
# OpenSSL 3.0 with the card's keys through the pkcs11 engine (libengine-pkcs11-openssl; Debian
# 12 has no pkcs11 provider package), keys named by PKCS#11 URI: dgst -sign (SHA256 with
# RSA-PKCS) and pkeyutl -sign (RSA-PSS) verify with the card's certificate; pkeyutl -decrypt
# (PKCS#1 v1.5 and OAEP-SHA256) round-trips; cms -sign with the card key verifies against the
# card's own certificate chain (read from the card with pkcs11-tool).  The engine loads the
# module named in an OpenSSL config file (MODULE_PATH); the PIN comes from -passin env:PIN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd openssl openssl
ENGINE=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')/pkcs11.so
[ -f "$ENGINE" ] || skip_all "the pkcs11 engine is not installed (Debian package libengine-pkcs11-openssl)"

plan 14

rig_up
p11_setup
card_create alice --pin "$PIN" --card-number "$CARD_NUMBER"
card_insert 0 alice
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

cat >openssl.cnf <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 0
EOF
export OPENSSL_CONF=$TEST_TMP/openssl.cnf

CARD_URI="pkcs11:model=P11U%20V1;serial=$CARD_NUMBER"
SIGN_KEY="$CARD_URI;id=%53%49%47%4E;type=private"
KEYX_KEY="$CARD_URI;id=%4B%45%59%58;type=private"

# engine CMD ARGS...: an openssl command using the card through the engine (no terminal).
engine() {
	openssl "$1" -engine pkcs11 -keyform engine "${@:2}" </dev/null 2>>"$TEST_TMP/openssl.err"
}

out=$(openssl engine pkcs11 -t 2>&1)
like "$out" "\[ available \]" "openssl engine pkcs11 -t: the engine loads the module"

# The card's certificates, read from the card.
for id in SIGN:5349474e KEYX:4b455958 CACert:434143657274 ROOTCACert:524f4f54434143657274; do
	p11t --read-object --type cert --id "${id#*:}" -o "${id%%:*}.der" >/dev/null &&
		openssl x509 -inform DER -in "${id%%:*}.der" -out "${id%%:*}.pem"
done
ok "the four certificates read from the card" test -s SIGN.pem -a -s KEYX.pem -a -s CACert.pem -a -s ROOTCACert.pem
ok "the signature certificate chains to the card's root" \
	openssl verify -CAfile ROOTCACert.pem -untrusted CACert.pem SIGN.pem
printf 'p11unlock: signed and decrypted on the card\n' >msg.txt
openssl x509 -in SIGN.pem -pubkey -noout >SIGN.pub

# --- signatures ------------------------------------------------------------------------------
engine dgst -sha256 -sign "$SIGN_KEY" -passin env:PIN -out msg.sig msg.txt
ok "dgst -sha256 -sign with the card key (by URI)" test -s msg.sig
is "$(openssl dgst -sha256 -verify SIGN.pub -signature msg.sig msg.txt 2>&1)" "Verified OK" \
	"the RSA-PKCS signature verifies with the card's certificate"
openssl dgst -sha256 -binary msg.txt >msg.sha256
engine pkeyutl -sign -inkey "$SIGN_KEY" -passin env:PIN -pkeyopt rsa_padding_mode:pss \
	-pkeyopt digest:sha256 -pkeyopt rsa_pss_saltlen:32 -in msg.sha256 -out msg.pss
is "$(openssl pkeyutl -verify -certin -inkey SIGN.pem -pkeyopt rsa_padding_mode:pss -pkeyopt digest:sha256 \
	-pkeyopt rsa_pss_saltlen:32 -in msg.sha256 -sigfile msg.pss 2>&1)" "Signature Verified Successfully" \
	"pkeyutl -sign with RSA-PSS (SHA-256): verifies"

# --- decryption ---------------------------------------------------------------------------------
openssl pkeyutl -encrypt -certin -inkey KEYX.pem -in msg.txt -out msg.pkcs1
is "$(engine pkeyutl -decrypt -inkey "$KEYX_KEY" -passin env:PIN -in msg.pkcs1)" "$(cat msg.txt)" \
	"pkeyutl -decrypt (PKCS#1 v1.5) with the card's encryption key"
openssl pkeyutl -encrypt -certin -inkey KEYX.pem -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -in msg.txt -out msg.oaep
is "$(engine pkeyutl -decrypt -inkey "$KEYX_KEY" -passin env:PIN -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -in msg.oaep)" "$(cat msg.txt)" "pkeyutl -decrypt (OAEP, SHA-256)"

# --- CMS -----------------------------------------------------------------------------------------
engine cms -sign -inkey "$SIGN_KEY" -passin env:PIN -signer SIGN.pem -certfile CACert.pem \
	-binary -in msg.txt -out msg.p7s -outform PEM -nodetach
ok "cms -sign with the card key (signer and issuing CA certificates from the card)" test -s msg.p7s
out=$(openssl cms -verify -binary -in msg.p7s -inform PEM -CAfile ROOTCACert.pem -out verified.txt 2>&1)
is "$out" "CMS Verification successful" "cms -verify against the card's root CA"
is "$(cat verified.txt)" "$(cat msg.txt)" "cms -verify gives back the content"
out=$(openssl cms -cmsout -print -in msg.p7s -inform PEM 2>&1)
like "$out" "algorithm: sha256 " "the CMS signature uses SHA-256"

# --- a wrong PIN -----------------------------------------------------------------------------------
export BAD_PIN=000000
engine dgst -sha256 -sign "$SIGN_KEY" -passin env:BAD_PIN -out bad.sig msg.txt
is "$?/$(vcard_status_get alice pin_tries)" 1/2 "a wrong PIN: no signature, one try spent"
engine dgst -sha256 -sign "$SIGN_KEY" -passin env:PIN -out msg2.sig msg.txt
is "$?/$(vcard_status_get alice pin_tries)" 0/3 "the right PIN again: signs, counter full"
