#!/bin/bash
# The module through OpenSC's pkcs11-tool, on a real pcscd with a virtual test card:
# listing, objects with and without login, pkcs11-tool's own self test, signatures
# (RSA-PKCS, SHA256-RSA-PKCS, SHA256-RSA-PKCS-PSS) checked by openssl and by the module's
# verification (pkcs11-tool 0.23 encrypts with secret keys only, so the module's RSA
# encryption is tested in tests/unit/test-crypto.c), and PKCS#1 and OAEP decryption round
# trips.  Secrets are passed as env:VAR, never in argv.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module
require_cmd openssl openssl

plan 37

rig_up
p11_setup
card_create alice --pin 123456 --card-number XC00000000091349 \
	--holder-dn "C=TW,O=組織及團體憑證管理中心憑證測試中心"
card_insert 0 alice
export PIN=123456
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

# --- listing ---------------------------------------------------------------------------
out=$(p11t -L)
like "$out" "Slot 0 \(0x0\): $(reader_name 0)" "slot 0 is the first reader"
like "$out" "token label +: 組織及團體憑證管 091349" "label: holder (cut on a character boundary) + end of the card number"
like "$out" "serial num +: XC00000000091349" "serial number is the card number"
like "$out" "token model +: P11U V1" "model is the card type"
like "$out" "token manufacturer +: p11unlock" "manufacturer"
like "$out" "token flags +: login required, rng, token initialized, PIN initialized" "flags of a fresh card"
like "$out" "pin min/max +: 6/10" "PIN lengths 6..10 (PIN 6-8, user code 6-10)"
like "$out" "Slot 1 \(0x1\): User code: $(reader_name 0)" "slot 1 is the reader's user-code slot"
unlike "$(sed -n '/Slot 1 /,/Slot 2 /p' <<<"$out")" "token label" "no user-code token while the PIN is not locked"

# --- objects -----------------------------------------------------------------------------
out=$(p11t -O)
is "$(grep -c '^Certificate Object' <<<"$out")" 4 "four certificates without login"
is "$(grep -c '^Public Key Object; RSA 2048 bits' <<<"$out")" 2 "two RSA-2048 public keys"
is "$(grep -c '^Private Key Object' <<<"$out")" 0 "no private keys without login"
like "$out" "label: +Signature certificate" "signature certificate label"
like "$out" "ID: +5349474e" "CKA_ID SIGN"
like "$out" "ID: +4b455958" "CKA_ID KEYX"
like "$out" "ID: +434143657274" "CKA_ID CACert"
like "$out" "ID: +524f4f54434143657274" "CKA_ID ROOTCACert"
like "$out" "label: +'PIN status'" "the PIN status data object"
out=$(p11t --login --pin env:PIN -O)
is "$(grep -c '^Private Key Object' <<<"$out")" 2 "two private keys after login"
like "$(grep -A3 '^Private Key Object' <<<"$out" | tr '\n' ' ')" "Signature key +ID: +5349474e +Usage: +sign " "signature key signs only"
like "$(grep -A3 '^Private Key Object' <<<"$out" | tr '\n' ' ')" "Encryption key +ID: +4b455958 +Usage: +decrypt" "encryption key decrypts"
status=$(pkcs11-tool --module "$MODULE" --read-object --type data --label 'PIN status' 2>/dev/null | tr -d '\0')
is "$status" "pin_tries=3 user_code_tries=3" "status object value: exact counters"

# --- pkcs11-tool's self test -----------------------------------------------------------------
out=$(p11t --test --login --pin env:PIN)
like "$out" "No errors" "pkcs11-tool --test --login: No errors"
like "$out" "all 4 signature functions seem to work" "signing functions tested (single- and multi-part)"
like "$(tr '\n' ' ' <<<"$out")" "testing signature mechanisms: +RSA-X-509: OK +RSA-PKCS: OK +SHA1-RSA-PKCS: OK +SHA256-RSA-PKCS: OK" \
	"signature mechanisms tested: RSA-X-509, RSA-PKCS, SHA1-RSA-PKCS, SHA256-RSA-PKCS"
like "$(tr '\n' ' ' <<<"$out")" "testing key 1 \(Encryption key\) +RSA-PKCS: OK +RSA-X-509: OK +RSA-PKCS-OAEP:[^:]*OK" \
	"decryption tested: RSA-PKCS, RSA-X-509, RSA-PKCS-OAEP"
like "$(tr '\n' ' ' <<<"$out")" "Verify \(currently only for RSA\) +testing key 0 \(Signature key\) +RSA-X-509: OK +RSA-PKCS: OK +SHA1-RSA-PKCS: OK " \
	"verification through the module tested: RSA-X-509, RSA-PKCS, SHA1-RSA-PKCS"
unlike "$out" "not implemented" "nothing reported as not implemented"
unlike "$out" "ERR|error:" "no error lines in the self test"

# --- signatures checked by openssl ---------------------------------------------------------------
sign_checks 5349474e

# --- the same signatures verified by the module (public key, no login) ----------------------------
out=$(p11t --verify -m SHA256-RSA-PKCS --id 5349474e -i data --signature-file sig1)
like "$out" "^Signature is valid" "pkcs11-tool --verify: SHA256-RSA-PKCS signature is valid"
out=$(p11t --verify -m SHA256-RSA-PKCS-PSS --id 5349474e -i data --signature-file sig2)
like "$out" "^Signature is valid" "pkcs11-tool --verify: SHA256-RSA-PKCS-PSS signature is valid"
python3 -c 'import sys; s = bytearray(open("sig1", "rb").read()); s[100] ^= 1; sys.stdout.buffer.write(s)' >sig1.bad
out=$(p11t --verify -m SHA256-RSA-PKCS --id 5349474e -i data --signature-file sig1.bad)
like "$out" "^Invalid signature" "pkcs11-tool --verify: a flipped byte is an invalid signature"

# --- decryption round trips ------------------------------------------------------------------------
decrypt_checks 4b455958
