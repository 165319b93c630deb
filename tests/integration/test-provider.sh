#!/bin/bash
# OpenSSL 3 with the card's keys through pkcs11-provider (Debian 12: package pkcs11-provider from
# bookworm-backports), the module named in an OpenSSL config file (pkcs11-module-path): storeutl
# lists the card's certificates and keys by PKCS#11 URI; pkeyutl -sign (RSA PKCS#1 v1.5 and
# RSA-PSS) and dgst -sign verify with the card's certificate (p11unlock-vcard export); s_client
# authenticates to a local s_server -Verify 1 (which trusts the card's CAs) with the card's key
# and certificate by URI, in TLS 1.3 (RSA-PSS) and TLS 1.2 (RSA PKCS#1 v1.5); and with two wrong
# PINs spent (the token shows CKF_USER_PIN_FINAL_TRY) the provider refuses to log in: no VERIFY
# reaches the card and the counter stays at 1.
#
# Secrets: the PIN from the environment (-passin env:PIN) or from a file named in the config
# (pkcs11-module-token-pin = file:...), never in argv.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd openssl openssl
PROVIDER=$(openssl version -m | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p')/pkcs11.so
[ -f "$PROVIDER" ] || skip_all "pkcs11-provider is not installed ($PROVIDER; Debian 12: apt-get install" \
	"-t bookworm-backports pkcs11-provider, with bookworm-backports as an apt source)"

plan 24

rig_up
p11_setup
card_create alice --pin "$PIN" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_certs alice "$TEST_TMP/card"
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

CARD_URI="pkcs11:model=P11U%20V1;serial=$CARD_NUMBER"
SIGN_URI="$CARD_URI;id=%53%49%47%4E"
SIGN_KEY="$SIGN_URI;type=private"

# provider.cnf: default + pkcs11, no PIN (commands give it: -passin env:PIN);
# provider-pin.cnf: the same with the PIN read from a file.
provider_cnf() {
	cat <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
pkcs11 = pkcs11_sect
[default_sect]
activate = 1
[pkcs11_sect]
module = $PROVIDER
pkcs11-module-path = $MODULE
activate = 1
EOF
}
provider_cnf >provider.cnf
(umask 077 && printf '%s\n' "$PIN" >pin.txt)
{
	provider_cnf
	echo "pkcs11-module-token-pin = file:$TEST_TMP/pin.txt"
} >provider-pin.cnf

# prov [-pin] ARGS...: openssl with the provider config (no terminal; stderr to openssl.err).
prov() {
	local cnf=provider.cnf
	if [ "$1" = -pin ]; then
		cnf=provider-pin.cnf
		shift
	fi
	OPENSSL_CONF=$TEST_TMP/$cnf openssl "$@" </dev/null 2>>"$TEST_TMP/openssl.err"
}

status() {
	vcard_status_get alice "$1"
}

# VERIFY commands with data (PIN tries) the card has received.
pin_verifies() {
	grep -cE 'INS=20 P1=00 P2=0[12] Lc=[1-9]' "$(card_log alice)" || true
}

der_sha256() {
	openssl x509 -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1
}

# --- the provider and the listing by URI ---------------------------------------------------------
out=$(prov list -providers)
like "$(sed -n '/^  pkcs11$/,/status/p' <<<"$out")" "status: active" \
	"openssl list -providers: pkcs11-provider is active with the module"
ok "the exported signature certificate chains to the card's root" \
	openssl verify -CAfile card/root-ca.pem -untrusted card/issuing-ca.pem card/signature.pem

out=$(prov storeutl -certs "$CARD_URI")
like "$out" "^Total found: 4$" "storeutl -certs $CARD_URI: the card's four certificates (no login)"
is "$(prov storeutl -certs "$SIGN_URI;type=cert" | der_sha256)" "$(der_sha256 <card/signature.pem)" \
	"storeutl by URI (id=SIGN, type=cert): the card's signature certificate"
out=$(prov storeutl -certs -text "$CARD_URI;type=cert")
is "$(grep -E '^ *Subject: ' <<<"$out" | sort | uniq -c | sed 's/^ *//;s/ .*//' | sort -n | tr '\n' ,)" "1,1,2," \
	"storeutl -text: holder (signature + encryption), issuing CA and root CA certificates"

before=$(pin_verifies)
out=$(prov -pin storeutl -keys -text "$CARD_URI")
is "$(sed -n 's/^URI pkcs11:.*;id=\([^;]*\);object=\([^;]*\);type=private$/\1 \2/p' <<<"$out" | tr '\n' ,)" \
	"%53%49%47%4E Signature%20key,%4B%45%59%58 Encryption%20key," \
	"storeutl -keys (PIN from a file in the config): the two private keys by URI"
is "$(($(pin_verifies) - before))/$(status pin_tries)" 1/3 "storeutl -keys: one PIN VERIFY, counter full"

# --- signatures -------------------------------------------------------------------------------------
printf 'p11unlock: signed on the card through pkcs11-provider\n' >msg.txt
openssl dgst -sha256 -binary msg.txt >msg.sha256
openssl x509 -in card/signature.pem -pubkey -noout >signature.pub

prov pkeyutl -sign -inkey "$SIGN_KEY" -passin env:PIN -pkeyopt digest:sha256 -in msg.sha256 -out msg.pkcs1
ok "pkeyutl -sign, RSA PKCS#1 v1.5 with SHA-256 (key by URI, -passin env:PIN)" test -s msg.pkcs1
is "$(openssl pkeyutl -verify -certin -inkey card/signature.pem -pkeyopt digest:sha256 -in msg.sha256 \
	-sigfile msg.pkcs1 2>&1)" "Signature Verified Successfully" \
	"the PKCS#1 v1.5 signature verifies with the card's certificate"

prov pkeyutl -sign -inkey "$SIGN_KEY" -passin env:PIN -pkeyopt rsa_padding_mode:pss -pkeyopt digest:sha256 \
	-pkeyopt rsa_pss_saltlen:32 -in msg.sha256 -out msg.pss
ok "pkeyutl -sign, RSA-PSS (SHA-256, salt 32)" test -s msg.pss
is "$(openssl pkeyutl -verify -certin -inkey card/signature.pem -pkeyopt rsa_padding_mode:pss \
	-pkeyopt digest:sha256 -pkeyopt rsa_pss_saltlen:32 -in msg.sha256 -sigfile msg.pss 2>&1)" \
	"Signature Verified Successfully" "the PSS signature verifies with the card's certificate"

prov dgst -sha256 -sign "$SIGN_KEY" -passin env:PIN -out msg.sig msg.txt
is "$(openssl dgst -sha256 -verify signature.pub -signature msg.sig msg.txt 2>&1)" "Verified OK" \
	"dgst -sha256 -sign with the card key: verifies"

# --- TLS client authentication: s_client against a local s_server -Verify 1 ----------------------------
server_cert "$TEST_TMP/server"
# start_server NAME [s_server ARGS...]: an s_server on a free loopback port that requires a
# client certificate issued by the card's CAs; sets PORT.
start_server() {
	local name=$1 i
	shift
	start_bg "$name" openssl s_server -accept 127.0.0.1:0 -cert server/server.pem -key server/server.key \
		-Verify 1 -CAfile card/client-cas.pem -www "$@"
	PORT=
	for ((i = 0; i < 150; i++)); do
		PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TEST_TMP/$name.log")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	bail_out "openssl s_server did not start: $(cat "$TEST_TMP/$name.log")"
}
# tls_get NAME [s_client ARGS...]: GET / from the server on PORT with the card's key and
# certificate (by URI); prints s_client's output (also kept in NAME.out, its stderr in NAME.err).
tls_get() {
	local name=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' |
		OPENSSL_CONF=$TEST_TMP/provider.cnf timeout 60 openssl s_client -connect "127.0.0.1:$PORT" \
			-cert "$SIGN_URI;type=cert" -key "$SIGN_KEY" -pass env:PIN \
			-CAfile server/server-ca.pem -verify_return_error -quiet "$@" \
			>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
	cat "$TEST_TMP/$name.out"
}
# The server's page (s_server -www): what it saw of the client.
page() {
	sed -n '/HTTP\/1.0 200 ok/,$p' <<<"$1"
}
client_cert_sha256() {
	page "$1" | sed -n '/^Client certificate/,$p' | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
		der_sha256
}

start_server tls13
out=$(tls_get s_client-tls13)
is "$(client_cert_sha256 "$out")" "$(der_sha256 <card/signature.pem)" \
	"s_client (TLS 1.3): the server verified the card's signature certificate"
is "$(page "$out" | sed -n 's/^ *Protocol *: //p' | head -n 1)/$(page "$out" | sed -n 's/^Peer signature type: //p')" \
	"TLSv1.3/RSA-PSS" "TLS 1.3: the client signed its CertificateVerify with RSA-PSS on the card"

start_server tls12 -client_sigalgs RSA+SHA256
out=$(tls_get s_client-tls12 -tls1_2)
is "$(client_cert_sha256 "$out")" "$(der_sha256 <card/signature.pem)" \
	"s_client -tls1_2: the server verified the card's signature certificate"
is "$(page "$out" | sed -n 's/^ *Protocol *: //p' | head -n 1)/$(page "$out" | sed -n 's/^Peer signature type: //p')" \
	"TLSv1.2/RSA" "TLS 1.2 (server asks for rsa_pkcs1_sha256): the card signed with RSA PKCS#1 v1.5"
is "$(status pin_tries)" 3 "after all that: the PIN counter is full"

# --- CKF_USER_PIN_FINAL_TRY: the provider does not log in -------------------------------------------------
export BAD_PIN=000000
for _ in 1 2; do
	p11t --login --pin env:BAD_PIN -O >/dev/null
done
is "$(status pin_tries)" 1 "two wrong PINs (pkcs11-tool): one try left"
like "$(token_flags)" "final user PIN try" "the token shows CKF_USER_PIN_FINAL_TRY"

before=$(pin_verifies)
rm -f final.sig
PKCS11_PROVIDER_DEBUG=file:$TEST_TMP/provider-debug.log,level:1 \
	prov pkeyutl -sign -inkey "$SIGN_KEY" -passin env:PIN -pkeyopt digest:sha256 -in msg.sha256 -out final.sig
is "$?/$([ -s final.sig ] && echo signature || echo none)" "1/none" \
	"pkeyutl -sign with the right PIN on the last try: refused, no signature"
like "$(cat "$TEST_TMP/provider-debug.log")" "Only one auth attempt left on token\. Canceling login attempt" \
	"the provider says why (CKF_USER_PIN_FINAL_TRY)"
out=$(prov -pin storeutl -keys "$CARD_URI")
like "$out" "^Total found: 0$" "storeutl -keys (PIN from the config file) on the last try: no login, no keys"
is "$(($(pin_verifies) - before))/$(status pin_tries)" 0/1 "the last try: no VERIFY reached the card, counter still 1"

# What the provider asks for: a manual login (here pkcs11-tool) with the right PIN resets the counter.
p11t --login --pin env:PIN -O >/dev/null
prov pkeyutl -sign -inkey "$SIGN_KEY" -passin env:PIN -pkeyopt digest:sha256 -in msg.sha256 -out again.sig
is "$(status pin_tries)/$(openssl pkeyutl -verify -certin -inkey card/signature.pem -pkeyopt digest:sha256 \
	-in msg.sha256 -sigfile again.sig 2>&1)" "3/Signature Verified Successfully" \
	"after a manual login with the right PIN: counter full, the provider signs again"
