# tests/integration/p11.sh: what the module's integration tests share (source after lib.sh).
#   p11_setup [config lines...]   writes a P11UNLOCK_CONF (default: allow_test_cards = yes) and exports it
#   p11t ARGS...                   pkcs11-tool with our module loaded directly (stderr merged)
#   token_flags                    the "token flags" line of slot 0's token, from pkcs11-tool -L
#   sign_checks ID                 3 tests: SHA256-RSA-PKCS, SHA256-RSA-PKCS-PSS and RSA-PKCS (of a
#                                  SHA-256 DigestInfo) signatures by key ID (login: env:PIN), each
#                                  verified by openssl with certificate ID's public key
#   decrypt_checks ID              2 tests: PKCS#1 v1.5 and OAEP (SHA-256) round trips, encrypted
#                                  by openssl to certificate ID, decrypted by key ID
#   (both work in the current directory: data, sign.pub, sig1-3, enc.pub, plain, ct1-2, pt1-2)
# shellcheck shell=bash

MODULE=${P11U_MODULE:-$top_builddir/src/pkcs11/.libs/p11unlock-pkcs11.so}
export MODULE

require_module() {
	require_cmd pkcs11-tool opensc
	[ -f "$MODULE" ] || skip_all "the module is not built ($MODULE)"
}

p11_setup() {
	P11UNLOCK_CONF=$TEST_TMP/p11unlock.conf
	if [ $# = 0 ]; then
		echo "allow_test_cards = yes" >"$P11UNLOCK_CONF"
	else
		printf '%s\n' "$@" >"$P11UNLOCK_CONF"
	fi
	export P11UNLOCK_CONF
}

p11t() {
	pkcs11-tool --module "$MODULE" "$@" 2>&1
}

token_flags() {
	p11t -L | sed -n 's/^ *token flags *: //p' | head -n 1
}

sign_checks() {
	local id=$1
	printf 'The quick brown fox\n' >data
	p11t --read-object --type cert --id "$id" -o sign.der >/dev/null
	openssl x509 -inform der -in sign.der -pubkey -noout >sign.pub
	openssl dgst -sha256 -binary data >data.sha256
	# CKM_RSA_PKCS signs a DigestInfo: the SHA-256 one is the fixed RFC 8017 prefix + the hash.
	{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' &&
		cat data.sha256; } >data.di
	p11t --login --pin env:PIN --sign -m SHA256-RSA-PKCS --id "$id" -i data -o sig1 >/dev/null
	ok "SHA256-RSA-PKCS signature verifies with openssl" openssl dgst -sha256 -verify sign.pub -signature sig1 data
	p11t --login --pin env:PIN --sign -m SHA256-RSA-PKCS-PSS --id "$id" -i data -o sig2 >/dev/null
	ok "SHA256-RSA-PKCS-PSS signature verifies with openssl" openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-1 -verify sign.pub -signature sig2 data
	p11t --login --pin env:PIN --sign -m RSA-PKCS --id "$id" -i data.di -o sig3 >/dev/null
	ok "RSA-PKCS signature of a DigestInfo verifies with openssl" openssl pkeyutl -verify -pubin -inkey sign.pub \
		-pkeyopt digest:sha256 -in data.sha256 -sigfile sig3
}

decrypt_checks() {
	local id=$1
	p11t --read-object --type cert --id "$id" -o enc.der >/dev/null
	openssl x509 -inform der -in enc.der -pubkey -noout >enc.pub
	printf 'secret message' >plain
	openssl pkeyutl -encrypt -pubin -inkey enc.pub -in plain -out ct1
	p11t --login --pin env:PIN --decrypt -m RSA-PKCS --id "$id" -i ct1 -o pt1 >/dev/null
	ok "RSA-PKCS decryption round trip" cmp -s plain pt1
	openssl pkeyutl -encrypt -pubin -inkey enc.pub -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
		-pkeyopt rsa_mgf1_md:sha256 -in plain -out ct2
	p11t --login --pin env:PIN --decrypt -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 \
		--id "$id" -i ct2 -o pt2 >/dev/null
	ok "RSA-PKCS-OAEP (SHA-256) decryption round trip" cmp -s plain pt2
}
