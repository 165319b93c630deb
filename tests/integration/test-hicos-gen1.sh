#!/bin/bash
# A first-generation HiCOS card (p11unlock-vcard --variant gen1) through the module, with
# pkcs11-tool and p11-script (issue 11).  With the defaults: a read-only token whose objects
# come from the card's directory files, and C_Login, C_SetPIN, C_InitPIN refused without card
# I/O, the debug log saying how to turn login on.  With hicos_login = yes: login, signatures
# (RSA-PKCS, SHA256-RSA-PKCS, SHA256-RSA-PKCS-PSS, RSA-PKCS-PSS) verified by openssl against the
# card's certificate, PKCS#1 and OAEP decryption round trips; SO login, C_SetPIN and C_InitPIN
# still refused without card I/O; three wrong PINs: the card answers 63C2/63C1/63C0 and the
# token flags follow (COUNT_LOW, FINAL_TRY, LOCKED), then no further VERIFY.  The card's log
# shows only protected VERIFYs (8C 20), never a plaintext one, their cryptograms redacted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"
. "$(dirname "$0")/hicos-lib.sh"

require_rig
require_module
require_script
require_cmd openssl openssl

plan 49

rig_up
card_create g1 --variant gen1 --pin 123456
card_insert 0 g1 || bail_out "the gen1 card not inserted"
export PIN=123456 WRONG=654321 NEW=24681357 SHORT=12345
cd "$TEST_TMP" || bail_out "no $TEST_TMP"
LABEL="組織及團體憑證管 091349"
GEN1_FLAGS=CKF_USER_PIN_INITIALIZED\|CKF_TOKEN_INITIALIZED

# --- the defaults (hicos_login = no): read-only -------------------------------------------------
p11_setup "# the defaults"
out=$(p11t -L)
like "$out" "token model +: CHT V32N" "token model: the card type of EF 0905"
like "$out" "serial num +: XC00000000091349" "serial number: the card number"
is "$(token_flags)" "token initialized, PIN initialized" "hicos_login = no: no login required, no RNG"
out=$(p11t -O)
is "$(grep -c '^Certificate Object' <<<"$out")" 4 "four certificates"
is "$(grep -c '^Public Key Object; RSA 2048 bits' <<<"$out")" 2 "two RSA-2048 public keys"
is "$(sed -n 's/^ *ID: *//p' <<<"$out" | sort -u | tr '\n' ' ')" "434143657274 4b455958 524f4f54434143657274 5349474e " \
	"CKA_IDs from the directory files: CACert, KEYX, ROOTCACert, SIGN"
like "$(tr '\n' ' ' <<<"$out")" "label: +HiCOS signature certificate .*label: +HiCOS encryption certificate .*label: +HiCOS issuing CA certificate .*label: +HiCOS root CA certificate " \
	"labels from the directory files"
like "$(grep -A3 '^Public Key Object' <<<"$out" | tr '\n' ' ')" "HiCOS signature key +ID: +5349474e +Usage: +verify .*HiCOS encryption key +ID: +4b455958 +Usage: +encrypt, wrap" \
	"public keys: usage from the PuKDF"

out=$(P11UNLOCK_DEBUG=card script_without_io off g1 <<EOF
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
is "$(result_of "$out" "login user env:PIN")" CKR_FUNCTION_NOT_SUPPORTED "hicos_login = no: C_Login refused"
is "$(result_of "$out" "login so env:PIN").$(result_of "$out" "setpin env:PIN env:NEW").$(result_of "$out" "initpin env:NEW")" \
	"CKR_FUNCTION_NOT_SUPPORTED.CKR_FUNCTION_NOT_SUPPORTED.CKR_FUNCTION_NOT_SUPPORTED" \
	"hicos_login = no: SO login, C_SetPIN, C_InitPIN refused"
is "$(tail -n 1 <<<"$out")" "apdus: 0" "hicos_login = no: the refusals cost no card I/O"
like "$out" "C_Login refused without card I/O: .* read-only until hicos_login = yes is set in $P11UNLOCK_CONF" \
	"the debug log says how to turn login on, and where"

# --- hicos_login = yes: login, signatures, decryption ------------------------------------------
p11_setup "hicos_login = yes"
is "$(token_flags)" "login required, token initialized, PIN initialized" "hicos_login = yes: login required"
out=$(p11t --login --pin env:PIN -O)
like "$(grep -A3 '^Private Key Object' <<<"$out" | tr '\n' ' ')" "HiCOS signature key +ID: +5349474e +Usage: +sign +.*HiCOS encryption key +ID: +4b455958 +Usage: +decrypt, unwrap " \
	"after login: the two private keys, usage from the PrKDF"
sign_checks 5349474e
# RSA-PKCS-PSS of a hash: the PSS encoding is made on the host, the card only does raw RSA.
p11t --login --pin env:PIN --sign -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 \
	--salt-len 32 --id 5349474e -i data.sha256 -o sig4 >/dev/null
ok "RSA-PKCS-PSS signature of a SHA-256 hash verifies with openssl" openssl pkeyutl -verify -pubin \
	-inkey sign.pub -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
	-in data.sha256 -sigfile sig4
decrypt_checks 4b455958
out=$(p11t --test --login --pin env:PIN)
like "$out" "No errors" "pkcs11-tool --test --login: No errors"
like "$(tr '\n' ' ' <<<"$out")" "testing key 1 \(HiCOS encryption key\) +RSA-PKCS: OK +RSA-X-509: OK +RSA-PKCS-OAEP:[^:]*OK" \
	"self test: decryption with RSA-PKCS, RSA-X-509, RSA-PKCS-OAEP"
# Every raw RSA: 80 EA 82 and 80 EA 02 with the same key reference (01 sign, 05 decrypt), then 80 C1.
is "$(grep -oE 'CLA=80 INS=(EA|C1) P1=[0-9A-F]{2} P2=[0-9A-F]{2}' "$(card_log g1)" | sed 's/CLA=80 INS=//' |
	paste -sd ' ' | sed -E 's/EA P1=82 P2=(0[15]) EA P1=02 P2=\1 C1 P1=00 P2=80/ok\1/g' | tr ' ' '\n' |
	sort -u | paste -sd ' ')" "ok01 ok05" "raw RSA: 80 EA 82, 80 EA 02, 80 C1, with key reference 01 or 05"

# --- what the module never sends a gen1 card -------------------------------------------------------
out=$(script_without_io refused g1 <<EOF
init
open 0 rw
pause io-start
login so env:PIN
setpin env:PIN env:NEW
initpin env:NEW
login user env:SHORT
pause io-end
EOF
)
transcript_is "$out" "hicos_login = yes, refused without card I/O" <<EOF
init -> CKR_OK
open 0 rw -> CKR_OK
pause io-start -> ok
login so env:PIN -> CKR_FUNCTION_NOT_SUPPORTED  # SO login: no unlock command of real cards is public
setpin env:PIN env:NEW -> CKR_FUNCTION_NOT_SUPPORTED  # C_SetPIN: no PIN change command is public
initpin env:NEW -> CKR_FUNCTION_NOT_SUPPORTED  # C_InitPIN
login user env:SHORT -> CKR_PIN_INCORRECT  # a 5-character PIN never reaches the card
pause io-end -> ok
apdus: 0  # none of them reached the card
EOF

# --- three wrong PINs: the counts of the VERIFY answers in the flags ------------------------------
before=$(verifies g1)
out=$(p11s <<EOF
init
open 0 ro
login user env:WRONG
token-info 0
login user env:WRONG
token-info 0
login user env:WRONG
token-info 0
login user env:PIN
EOF
)
TI="token-info 0 -> CKR_OK label=\"$LABEL\" model=\"CHT V32N\" serial=\"XC00000000091349\" flags=CKF_LOGIN_REQUIRED|$GEN1_FLAGS"
transcript_is "$out" "wrong PINs" <<EOF
init -> CKR_OK
open 0 ro -> CKR_OK
login user env:WRONG -> CKR_PIN_INCORRECT  # wrong PIN 1
$TI|CKF_USER_PIN_COUNT_LOW  # 63C2: COUNT_LOW
login user env:WRONG -> CKR_PIN_INCORRECT  # wrong PIN 2
$TI|CKF_USER_PIN_COUNT_LOW|CKF_USER_PIN_FINAL_TRY  # 63C1: FINAL_TRY
login user env:WRONG -> CKR_PIN_INCORRECT  # wrong PIN 3
$TI|CKF_USER_PIN_LOCKED  # 63C0: LOCKED
login user env:PIN -> CKR_PIN_LOCKED  # the right PIN, once locked: refused
EOF
is "$(grep -E 'CLA=8C INS=20 ' "$(card_log g1)" | tail -n 3 | sed 's/.*SW=\([0-9A-F]*\) .*/\1/' | tr '\n' ' ')" \
	"63C2 63C1 63C0 " "the card answered 63C2, 63C1, 63C0"
is "$(($(verifies g1) - before))" 3 "one VERIFY per login, none once the card said the PIN is blocked"
is "$(vcard_status_get g1 pin_blocked)" 1 "the card agrees: pin_blocked=1"

# --- the card's log ------------------------------------------------------------------------------
is "$(verifies g1 '(00|80)')" 0 "never a plaintext VERIFY (00 20 or 80 20)"
like "$(verifies g1 8C)" "^[1-9][0-9]*$" "protected VERIFYs (8C 20) were sent"
is "$(grep -cE 'CLA=8C INS=20 P1=00 P2=01 Lc=32 Le=- data=\[redacted 32 bytes\] ' "$(card_log g1)")" "$(verifies g1)" \
	"every VERIFY's cryptogram redacted in the card's log"
