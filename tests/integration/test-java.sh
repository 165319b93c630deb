#!/bin/bash
# Java (OpenJDK 17) with the card through SunPKCS11: a provider config naming the module and the
# card's slot, first by slot ID (`slot = 0`: Java uses it straight after C_Initialize, without
# C_GetSlotList) and then by `slotListIndex = 0`.  keytool -list shows the card's two key entries
# with their certificate chains built from the card's certificates; jarsigner signs a jar with
# the card's signature key and jarsigner -verify accepts it against a truststore holding the
# card's root CA (exported with p11unlock-vcard); a wrong PIN fails with CKR_PIN_INCORRECT behind
# Java's "load failed" and costs exactly one try.
#
# Secrets: -storepass:env PIN or -storepass:file FILE, never in argv.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd java openjdk-17-jdk-headless
require_cmd keytool openjdk-17-jdk-headless
require_cmd jarsigner openjdk-17-jdk-headless
require_cmd jar openjdk-17-jdk-headless
require_cmd openssl openssl
java_version=$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1)
[ "${java_version:-0}" -ge 17 ] 2>/dev/null || skip_all "needs Java 17 or later (found: ${java_version:-none})"

plan 26

rig_up
p11_setup
card_create alice --pin "$PIN" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_certs alice "$TEST_TMP/card"
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

# SunPKCS11 configs: by slot ID and by index in C_GetSlotList.
printf '%s\n' "name = p11unlock" "library = $MODULE" "slot = 0" >slot.cfg
printf '%s\n' "name = p11unlock" "library = $MODULE" "slotListIndex = 0" >index.cfg
(umask 077 && printf '%s\n' "$PIN" >pin.txt)

# A JVM starts in about a second; these flags trim it (no JIT tiers beyond C1, serial GC).
JOPTS=(-J-XX:TieredStopAtLevel=1 -J-XX:+UseSerialGC)
# p11ks TOOL CONFIG ARGS...: keytool or jarsigner with the card as keystore (SunPKCS11, CONFIG).
p11ks() {
	local tool=$1 cfg=$2
	shift 2
	"$tool" "${JOPTS[@]}" -keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
		-providerArg "$TEST_TMP/$cfg" "$@" </dev/null
}

status() {
	vcard_status_get alice "$1"
}

pin_verifies() {
	grep -cE 'INS=20 P1=00 P2=0[12] Lc=[1-9]' "$(card_log alice)" || true
}

sha256_fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# --- keytool -list, by slot ID ---------------------------------------------------------------------
out=$(P11UNLOCK_DEBUG=call p11ks keytool slot.cfg -list -storepass:env PIN 2>keytool-slot.calls)
is "$?" 0 "keytool -list (slot = 0, -storepass:env PIN): exit 0"
like "$out" "^Keystore provider: SunPKCS11-p11unlock$" "keytool -list: the SunPKCS11-p11unlock provider"
is "$(grep -E 'PrivateKeyEntry' <<<"$out" | tr '\n' '|')" \
	"Encryption certificate, PrivateKeyEntry, |Signature certificate, PrivateKeyEntry, |" \
	"keytool -list: the card's two key entries, by their labels"
is "$(sed -n '/^Signature certificate, /{n;s/^Certificate fingerprint (SHA-256): //p}' <<<"$out")" \
	"$(sha256_fp card/signature.pem)" "keytool -list: the signature entry's certificate is the card's"
is "$(sed -n '/^Encryption certificate, /{n;s/^Certificate fingerprint (SHA-256): //p}' <<<"$out")" \
	"$(sha256_fp card/encryption.pem)" "keytool -list: the encryption entry's certificate is the card's"
calls=$(grep '^p11unlock\[call\]' keytool-slot.calls)
is "$(grep -c 'C_GetSlotList' <<<"$calls")/$(grep -m 1 -o 'C_OpenSession: slot [0-9]*' <<<"$calls")" \
	"0/C_OpenSession: slot 0" "slot = 0: Java opens slot 0 straight after C_Initialize, no C_GetSlotList"
is "$(grep -c 'C_Login(.*): CKR_OK' <<<"$calls")" 1 "slot = 0: one successful login"

out=$(p11ks keytool slot.cfg -list -v -storepass:env PIN 2>&1)
is "$(grep -c '^Certificate chain length: 3$' <<<"$out")" 2 \
	"keytool -list -v: each key's chain has 3 certificates, built from the card's"
is "$(sed -n '/^Alias name: Signature certificate$/,/^Alias name/s/^Owner: //p' <<<"$out" | tr '\n' '|')" \
	"O=組織及團體憑證管理中心憑證測試中心, C=TW|OU=組織及團體憑證管理中心 測試, O=行政院, C=TW|O=Government Root Certification Authority 測試, C=TW|" \
	"keytool -list -v: the signature chain is holder, issuing CA, root CA"

# --- by slotListIndex --------------------------------------------------------------------------------
out=$(P11UNLOCK_DEBUG=call p11ks keytool index.cfg -list -storepass:env PIN 2>keytool-index.calls)
is "$?/$(grep -c 'PrivateKeyEntry' <<<"$out")" 0/2 "keytool -list (slotListIndex = 0): the two key entries"
like "$(grep '^p11unlock\[call\]' keytool-index.calls | head -n 8)" "C_GetSlotList: CKR_OK" \
	"slotListIndex = 0: Java lists the slots first"
is "$(status pin_tries)" 3 "the PIN counter is full"

# --- jarsigner ---------------------------------------------------------------------------------------
mkdir -p content
printf 'p11unlock: a jar signed on the card\n' >content/hello.txt
jar cf unsigned.jar -C content hello.txt
out=$(p11ks jarsigner slot.cfg -storepass:file pin.txt -sigfile CARD -signedjar signed.jar unsigned.jar \
	"Signature certificate" 2>&1)
is "$?" 0 "jarsigner (PIN from a file) signs with the card's signature key"
like "$out" "^jar signed\.$" "jarsigner: jar signed."

mkdir -p extracted
(cd extracted && jar xf ../signed.jar META-INF/CARD.SF META-INF/CARD.RSA)
out=$(openssl cms -verify -inform DER -in extracted/META-INF/CARD.RSA -content extracted/META-INF/CARD.SF \
	-binary -CAfile card/root-ca.pem -out /dev/null 2>&1)
like "$out" "CMS Verification successful" \
	"openssl cms -verify: the jar's signature block is signed by the card's key, chain to the card's root"

# The trust anchor: the card's root CA (the issuing CA comes with the signature).
export TRUST_PASS=p11unlock-trust
keytool -importcert -noprompt -keystore trust.p12 -storetype PKCS12 -storepass:env TRUST_PASS -alias card-root \
	-file card/root-ca.pem >/dev/null 2>&1 || bail_out "could not make the truststore"
out=$(jarsigner "${JOPTS[@]}" -verify -verbose -certs -keystore trust.p12 -storetype PKCS12 \
	-storepass:env TRUST_PASS signed.jar 2>&1 </dev/null)
is "$?" 0 "jarsigner -verify (truststore: the card's root CA): exit 0"
like "$out" "^jar verified\.$" "jarsigner -verify: jar verified."
like "$out" "O=Government Root Certification Authority 測試, C=TW \(card-root\)" \
	"jarsigner -verify: the chain ends at the card's root, found in the truststore (alias card-root)"
like "$out" "\[trusted certificate\]" "jarsigner -verify: the root is the truststore's"
unlike "$out" "chain is invalid|CertPath not validated" "jarsigner -verify: no chain warning"
# -strict turns warnings into exit bits: 4 = chain not validated, 8 = key usage.  The card's
# signature certificate has no codeSigning extended key usage (clientAuth, emailProtection),
# so 8 stays; the chain must not add 4.
jarsigner "${JOPTS[@]}" -verify -strict -keystore trust.p12 -storetype PKCS12 -storepass:env TRUST_PASS \
	signed.jar >/dev/null 2>&1 </dev/null
rc_trust=$?
jarsigner "${JOPTS[@]}" -verify -strict signed.jar >/dev/null 2>&1 </dev/null
is "$rc_trust/$?" 8/12 \
	"jarsigner -verify -strict: the chain validates with the card's root (8 = EKU only), not without it (12)"

# --- a wrong PIN ---------------------------------------------------------------------------------------
export BAD_PIN=000000
before=$(pin_verifies)
out=$(p11ks keytool slot.cfg -list -v -storepass:env BAD_PIN 2>&1)
is "$?/$(status pin_tries)/$(($(pin_verifies) - before))" 1/2/1 \
	"keytool with a wrong PIN: exit 1, exactly one try spent (one VERIFY)"
like "$out" "keytool error: java.io.IOException: load failed" "keytool: load failed"
like "$out" "FailedLoginException" "keytool -v: the cause is a failed login ..."
like "$out" "PKCS11Exception: CKR_PIN_INCORRECT" "... with CKR_PIN_INCORRECT from the module"

out=$(p11ks jarsigner slot.cfg -storepass:env BAD_PIN -signedjar bad.jar unsigned.jar "Signature certificate" 2>&1)
is "$?/$(status pin_tries)/$(($(pin_verifies) - before))/$([ -e bad.jar ] && echo jar || echo no-jar)" \
	1/1/2/no-jar "jarsigner with a wrong PIN: exit 1, no jar, exactly one more try spent"
