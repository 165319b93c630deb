#!/bin/bash
# GnuTLS (gnutls-bin) with the module loaded directly (--provider): p11tool finds the token,
# the certificates and (after login) the private keys by PKCS#11 URI; on a locked card the
# user-code token shares the card's serial, so URIs name the model too; p11tool
# --initialize-pin (SO login with the user code + C_InitPIN) releases a locked card and also
# sets a new PIN on a card that is not locked ("forgot my PIN"); gnutls-cli authenticates to a
# TLS server with the card's key, by URI.
#
# Secrets: GNUTLS_PIN (user PIN, or the new PIN for --initialize-pin) and GNUTLS_SO_PIN (the
# user code) in the environment.  p11tool also takes them as --set-pin / --set-so-pin, which
# puts them in argv: not used here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd p11tool gnutls-bin
require_cmd gnutls-cli gnutls-bin
require_cmd python3 python3
require_cmd openssl openssl

plan 25

rig_up
p11_setup
card_create alice --pin "$PIN" --user-code "$USER_CODE" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_certs alice "$TEST_TMP/card"
card_label 0
CARD_URI="pkcs11:model=P11U%20V1;serial=$CARD_NUMBER"
UC_URI="pkcs11:model=User%20code;serial=$CARD_NUMBER"

p11tool() {
	command p11tool --provider "$MODULE" "$@" 2>&1
}

status() {
	vcard_status_get alice "$1"
}

# The URLs p11tool prints for OBJECTS (--list-tokens, --list-all-certs...).
urls() {
	sed -n 's/^[[:space:]]*URL: //p' <<<"$1"
}

# --- listing by URI -------------------------------------------------------------------------------------
out=$(p11tool --list-tokens)
is "$(urls "$out")" "pkcs11:model=P11U%20V1;manufacturer=p11unlock;serial=$CARD_NUMBER;token=$(python3 -c '
import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$LABEL")" \
	"--list-tokens: one token, its URI with model, manufacturer, serial and label"
like "$out" "Label: $LABEL" "--list-tokens: the label"
like "$out" "Flags: RNG, Requires login" "--list-tokens: flags"

out=$(p11tool --list-all-certs "$CARD_URI")
is "$(grep -c 'Type: X.509 Certificate (RSA-2048)' <<<"$out")" 4 "--list-all-certs: the card's four certificates"
is "$(urls "$out" | sed -n 's/.*;id=\([^;]*\);object=\([^;]*\);type=cert$/\1 \2/p' | tr '\n' ',')" \
	"%53%49%47%4E Signature%20certificate,%4B%45%59%58 Encryption%20certificate,%43%41%43%65%72%74 Issuing%20CA%20certificate,%52%4F%4F%54%43%41%43%65%72%74 Root%20CA%20certificate," \
	"--list-all-certs: their URIs (id SIGN, KEYX, CACert, ROOTCACert)"
out=$(p11tool --list-all-privkeys "$CARD_URI")
is "$(grep -c 'Private key' <<<"$out")" 0 "--list-all-privkeys without login: none"
out=$(GNUTLS_PIN=$PIN p11tool --login --list-all-privkeys "$CARD_URI")
is "$(urls "$out" | sed -n 's/.*;object=\([^;]*\);type=private$/\1/p' | tr '\n' ',')" \
	"Signature%20key,Encryption%20key," "--login --list-all-privkeys (GNUTLS_PIN): the two private keys"
like "$out" "Type: Private key \(RSA-2048\)" "--login --list-all-privkeys: RSA-2048"

# --- TLS client authentication with gnutls-cli -------------------------------------------------------------------
server_cert "$TEST_TMP/server"
start_bg tls-server python3 "$P11U_LIB_DIR/tls-server.py" --cert "$TEST_TMP/server/server.pem" \
	--key "$TEST_TMP/server/server.key" --client-ca "$TEST_TMP/card/client-cas.pem" \
	--port-file "$TEST_TMP/tls-server.port"
wait_for_file "$TEST_TMP/tls-server.port" || bail_out "tls-server.py did not start"
# tls_get PATH: GET PATH through gnutls-cli, client certificate and key on the card by URI.
tls_get() {
	printf 'GET %s HTTP/1.0\r\n\r\n' "$1" |
		GNUTLS_PIN=$PIN timeout 60 gnutls-cli --provider "$MODULE" \
			--x509cafile "$TEST_TMP/server/server-ca.pem" \
			--x509certfile "$CARD_URI;id=%53%49%47%4E;type=cert" \
			--x509keyfile "$CARD_URI;id=%53%49%47%4E;type=private" \
			--logfile "$TEST_TMP/gnutls-cli.log" -p "$(cat "$TEST_TMP/tls-server.port")" 127.0.0.1 \
			2>>"$TEST_TMP/gnutls-cli.err"
}
out=$(tls_get /cert.pem)
is "$(sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' <<<"$out" |
	openssl x509 -outform DER 2>/dev/null | sha256sum)" \
	"$(openssl x509 -in "$TEST_TMP/card/signature.pem" -outform DER | sha256sum)" \
	"gnutls-cli: the server verified the card's signature certificate (key used by URI)"
like "$(cat "$TEST_TMP/gnutls-cli.log")" "Handshake was completed" "gnutls-cli: handshake completed"
like "$(tls_get /)" "<title>Client certificate accepted</title>" "gnutls-cli: the page loads"

# --- "forgot my PIN": SO login with the user code + C_InitPIN on a card that is not locked -------------------------------
out=$(GNUTLS_SO_PIN=$USER_CODE GNUTLS_PIN=246810 p11tool --batch --initialize-pin "$CARD_URI")
like "$out" "Setting user's PIN" "--initialize-pin on a card that is not locked: p11tool sets the PIN"
is "$(status pin_tries)/$(status user_code_tries)" 3/3 "--initialize-pin: counters full"
out=$(GNUTLS_PIN=246810 p11tool --login --list-all-privkeys "$CARD_URI")
is "$(grep -c 'Type: Private key' <<<"$out")" 2 "--initialize-pin: the new PIN logs in"

# --- a locked card -----------------------------------------------------------------------------------------------------------
export BAD_PIN=000000
for _ in 1 2 3; do
	p11t --login --pin env:BAD_PIN -O >/dev/null
done
is "$(status pin_blocked)" 1 "three wrong PINs block the PIN"
out=$(p11tool --list-tokens)
is "$(urls "$out" | sed 's/;token=.*//')" "pkcs11:model=P11U%20V1;manufacturer=p11unlock;serial=$CARD_NUMBER
pkcs11:model=User%20code;manufacturer=p11unlock;serial=$CARD_NUMBER" \
	"locked: the user-code token appears with the card's serial; the model tells them apart"
out=$(p11tool --list-all "$UC_URI")
is "$(grep -c '^Object' <<<"$out")" 0 "locked: the user-code token has no objects"
out=$(p11tool --list-all-certs "$CARD_URI")
is "$(grep -c 'Type: X.509 Certificate' <<<"$out")" 4 "locked: the card token still lists its certificates"

out=$(GNUTLS_SO_PIN=Zz99zz99 GNUTLS_PIN=135790 p11tool --batch --initialize-pin "$CARD_URI")
rc=$?
is "$rc" 1 "locked: --initialize-pin with a wrong user code fails"
like "$out" "Wrong PIN has been provided" "locked: p11tool reports the wrong PIN"
is "$(status user_code_tries)/$(status pin_blocked)" 2/1 "locked: the wrong user code cost one try"

out=$(GNUTLS_SO_PIN=$USER_CODE GNUTLS_PIN=135790 p11tool --batch --initialize-pin "$CARD_URI")
rc=$?
is "$rc" 0 "locked: --initialize-pin with the user code succeeds"
is "$(status pin_blocked)/$(status pin_tries)/$(status user_code_tries)" 0/3/3 "locked: released, counters full"
out=$(p11tool --list-tokens)
is "$(urls "$out" | grep -c 'model=User%20code')" 0 "released: the user-code token is gone"
out=$(GNUTLS_PIN=135790 p11tool --login --list-all-privkeys "$CARD_URI")
is "$(grep -c 'Type: Private key' <<<"$out")" 2 "released: the new PIN logs in"
