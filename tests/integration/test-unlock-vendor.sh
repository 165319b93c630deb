#!/bin/bash
# The vendor interface "Vendor P11UNLOCK" and the status object report the card's exact
# counters, the same as `p11unlock-vcard status`, read fresh while another process changes
# them; the status object also through p11-kit's proxy (which forwards no vendor interface).
# The interfaces: "PKCS 11" 3.0 (the default, its 3.0-only functions return
# CKR_FUNCTION_NOT_SUPPORTED), "PKCS 11" 2.40 and "Vendor P11UNLOCK" 1.1 (and 1.0 for callers
# that ask for it), a requested version matched exactly; `pkcs11-tool --list-interfaces` lists
# them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/p11-script.sh"

require_rig
require_module
require_script
require_cmd p11-kit p11-kit
require_cmd findmnt util-linux

PROXY=$(pkg-config p11-kit-1 --variable proxy_module 2>/dev/null) ||
	PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
P11KIT_MODULE_CONFIGS=$(pkg-config p11-kit-1 --variable p11_module_configs 2>/dev/null) ||
	P11KIT_MODULE_CONFIGS=/usr/share/p11-kit/modules
[ -f "$PROXY" ] || skip_all "p11-kit's proxy module not found ($PROXY)"
[ -d "$P11KIT_MODULE_CONFIGS" ] || skip_all "p11-kit's module config directory not found"

plan 87

rig_up --readers 2
p11_setup
card_create ven --key-bits 1024
card_create hic --key-bits 1024 --card-type "CHT V32N" --card-number XC00000000055555
card_insert 0 ven
card_insert 1 hic

# p11-kit reads no user configuration in a program running as root, so the module is
# registered for one command at a time in a private mount namespace, where a directory of
# ours (holding only p11unlock-test.module) is bind-mounted over p11-kit's module config
# directory.  Nothing outside that namespace sees it; other modules (OpenSC would probe the
# rig's readers) are left out.
mkdir -p "$TEST_TMP/p11-modules"
printf 'module: %s\n' "$MODULE" >"$TEST_TMP/p11-modules/p11unlock-test.module"
with_registration() {
	# shellcheck disable=SC2016 # the inner shell expands them
	unshare -m --propagation unchanged -- /bin/sh -c '
		set -e
		mine=$1 configs=$2
		shift 2
		mount -n --make-rprivate / 2>/dev/null || true
		case $(findmnt -n -o PROPAGATION --target "$configs") in
		*shared*) echo "cannot make the mounts private" >&2; exit 1 ;;
		esac
		mount -n --bind "$mine" "$configs"
		exec "$@"' with_registration "$TEST_TMP/p11-modules" "$P11KIT_MODULE_CONFIGS" "$@"
}

proxy_status() {
	with_registration pkcs11-tool --module "$PROXY" --read-object --type data \
		--label 'PIN status' 2>/dev/null | tr -d '\0'
}

like "$(with_registration p11-kit list-modules 2>&1)" "p11unlock-test: $MODULE" \
	"p11-kit sees the module registered in the private namespace"

# --- interfaces ---------------------------------------------------------------------------------
out=$(p11t --list-interfaces | awk "/^Interface '/ { name = \$0 } /^  version: / { print name, \$2 }")
is "$out" "Interface 'PKCS 11' 3.0
Interface 'PKCS 11' 2.40
Interface 'Vendor P11UNLOCK' 1.2
Interface 'Vendor P11UNLOCK' 1.1
Interface 'Vendor P11UNLOCK' 1.0" "pkcs11-tool --list-interfaces: PKCS 11 3.0 and 2.40, Vendor P11UNLOCK 1.2, 1.1 and 1.0"

out=$(p11s <<'EOF'
interfaces
get-interface - - -
init
info
v3-calls
get-interface "PKCS 11" 3 0
info
get-interface "PKCS 11" 2 40
info
get-interface - 2 40
get-interface - 1 0
get-interface "PKCS 11" 3 1
get-interface "PKCS 11" 2 20
get-interface "PKCS 11" 1 0
get-interface "Vendor P11UNLOCK" - -
get-interface "Vendor P11UNLOCK" 1 0
get-interface "Vendor P11UNLOCK" 1 1
get-interface "Vendor P11UNLOCK" 1 2
get-interface "Vendor P11UNLOCK" 1 3
get-interface "Vendor P11UNLOCK" 0 1
get-interface "PKCS 12" - -
function-list
info
finalize
EOF
)
transcript_is "$out" "interfaces" <<'EOF'
interfaces -> CKR_OK "PKCS 11" 3.0, "PKCS 11" 2.40, "Vendor P11UNLOCK" 1.2, "Vendor P11UNLOCK" 1.1, "Vendor P11UNLOCK" 1.0
get-interface - - - -> CKR_OK "PKCS 11" 3.0  # the default is PKCS 11 3.0
init -> CKR_OK
info -> CKR_OK cryptoki=3.0 manufacturer="p11unlock" library="p11unlock PKCS#11 module"  # its C_GetInfo says 3.0
v3-calls -> C_GetInterfaceList=CKR_OK C_GetInterface=CKR_OK C_LoginUser=CKR_FUNCTION_NOT_SUPPORTED C_SessionCancel=CKR_FUNCTION_NOT_SUPPORTED C_MessageEncryptInit=CKR_FUNCTION_NOT_SUPPORTED C_MessageVerifyFinal=CKR_FUNCTION_NOT_SUPPORTED  # a full 3.0 list
get-interface "PKCS 11" 3 0 -> CKR_OK "PKCS 11" 3.0
info -> CKR_OK cryptoki=3.0 manufacturer="p11unlock" library="p11unlock PKCS#11 module"
get-interface "PKCS 11" 2 40 -> CKR_OK "PKCS 11" 2.40
info -> CKR_OK cryptoki=2.40 manufacturer="p11unlock" library="p11unlock PKCS#11 module"  # the 2.40 list says 2.40
get-interface - 2 40 -> CKR_OK "PKCS 11" 2.40  # any name, version 2.40
get-interface - 1 0 -> CKR_OK "Vendor P11UNLOCK" 1.0  # any name, version 1.0
get-interface "PKCS 11" 3 1 -> CKR_ARGUMENTS_BAD  # versions are matched exactly
get-interface "PKCS 11" 2 20 -> CKR_ARGUMENTS_BAD
get-interface "PKCS 11" 1 0 -> CKR_ARGUMENTS_BAD
get-interface "Vendor P11UNLOCK" - - -> CKR_OK "Vendor P11UNLOCK" 1.2  # the newest first
get-interface "Vendor P11UNLOCK" 1 0 -> CKR_OK "Vendor P11UNLOCK" 1.0  # an older caller's exact version
get-interface "Vendor P11UNLOCK" 1 1 -> CKR_OK "Vendor P11UNLOCK" 1.1
get-interface "Vendor P11UNLOCK" 1 2 -> CKR_OK "Vendor P11UNLOCK" 1.2
get-interface "Vendor P11UNLOCK" 1 3 -> CKR_ARGUMENTS_BAD
get-interface "Vendor P11UNLOCK" 0 1 -> CKR_ARGUMENTS_BAD
get-interface "PKCS 12" - - -> CKR_ARGUMENTS_BAD  # no such interface
function-list -> ok
info -> CKR_OK cryptoki=2.40 manufacturer="p11unlock" library="p11unlock PKCS#11 module"  # C_GetFunctionList gives the 2.40 list
finalize -> CKR_OK
EOF

# --- the counters, as the card changes under a running module ------------------------------------
readonly WRONG_PIN_APDU="80 20 00 01 06 39 39 39 39 39 39"
readonly WRONG_UC_APDU="80 20 00 02 08 5A 7A 39 39 7A 7A 39 39"
script_bg vendor <<'EOF'
init
slots
vendor-info 0
vendor-info 1
vendor-info 2
vendor-info 4
vendor-info 99
vendor-tries 2
vendor-tries 4
vendor-tries 99
open 0 ro s
find class=data application=p11unlock
getattr label
getattr application
pause s1
vendor-tries 0
vendor-tries 1
getattr value
pause s2
vendor-tries 0
vendor-tries 1
getattr value
pause s3
vendor-tries 0
vendor-tries 1
getattr value
pause s4
vendor-tries 0
vendor-tries 1
getattr value
finalize
EOF

# check_state STEP "PIN UC": the card's own status and the status object through the proxy,
# then the script may read its counters at pause STEP.  (The script stops at the next pause
# after reading, so the test changes the card only once it has read.)
check_state() {
	local want="pin_tries=${2% *} user_code_tries=${2#* }"
	is "$(card_tries ven)" "$want" "$1: p11unlock-vcard status says $want"
	is "$(proxy_status)" "$want" "$1: the status object through p11-kit's proxy says the same"
	script_go vendor "$1"
}

script_at vendor s1
check_state s1 "3 3"
script_at vendor s2
is "$(apdu_sw 0 "$WRONG_PIN_APDU")" "63 C2" "another process: a wrong PIN"
check_state s2 "2 3"
script_at vendor s3
is "$(apdu_sw 0 "$WRONG_PIN_APDU")" "63 C1" "another process: a wrong PIN"
is "$(apdu_sw 0 "$WRONG_PIN_APDU")" "63 C0" "another process: a wrong PIN, now locked"
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C2" "another process: a wrong user code"
check_state s3 "0 2"
script_at vendor s4
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C1" "another process: a wrong user code"
is "$(apdu_sw 0 "$WRONG_UC_APDU")" "63 C0" "another process: a wrong user code, now blocked"
check_state s4 "0 0"
out=$(script_end vendor)
transcript_is "$out" "vendor" <<'EOF'
init -> CKR_OK
slots -> CKR_OK 0 1 2 3 4 5 6 7
vendor-info 0 -> CKR_OK version=1.0 kind=test number="XC00000000091349" type="P11U V1"
vendor-info 1 -> CKR_OK version=1.0 kind=test number="XC00000000091349" type="P11U V1"  # both slots of a reader name its card
vendor-info 2 -> CKR_OK version=1.0 kind=hicos number="XC00000000055555" type="CHT V32N"
vendor-info 4 -> CKR_TOKEN_NOT_PRESENT  # an empty reader
vendor-info 99 -> CKR_SLOT_ID_INVALID
vendor-tries 2 -> CKR_FUNCTION_NOT_SUPPORTED  # a real HiCOS card gets no command of ours
vendor-tries 4 -> CKR_TOKEN_NOT_PRESENT
vendor-tries 99 -> CKR_SLOT_ID_INVALID
open 0 ro s -> CKR_OK
find class=data application=p11unlock -> CKR_OK found=1  # the status object
getattr label -> CKR_OK "PIN status"
getattr application -> CKR_OK "p11unlock"
pause s1 -> ok
vendor-tries 0 -> CKR_OK pin_tries=3 user_code_tries=3
vendor-tries 1 -> CKR_OK pin_tries=3 user_code_tries=3
getattr value -> CKR_OK "pin_tries=3 user_code_tries=3"
pause s2 -> ok
vendor-tries 0 -> CKR_OK pin_tries=2 user_code_tries=3  # read fresh: another process spent a PIN try
vendor-tries 1 -> CKR_OK pin_tries=2 user_code_tries=3
getattr value -> CKR_OK "pin_tries=2 user_code_tries=3"
pause s3 -> ok
vendor-tries 0 -> CKR_OK pin_tries=0 user_code_tries=2
vendor-tries 1 -> CKR_OK pin_tries=0 user_code_tries=2
getattr value -> CKR_OK "pin_tries=0 user_code_tries=2"
pause s4 -> ok
vendor-tries 0 -> CKR_OK pin_tries=0 user_code_tries=0
vendor-tries 1 -> CKR_OK pin_tries=0 user_code_tries=0
getattr value -> CKR_OK "pin_tries=0 user_code_tries=0"
finalize -> CKR_OK
EOF
is "$(grep -c 'INS=20' "$(card_log hic)" || true)" 0 "the HiCOS card never received a VERIFY"

# --- the card number alone (1.2) -----------------------------------------------------------------
card_remove 1
card_create num --key-bits 1024 --card-number XC00000000077777
script_bg number <<'EOF2'
init
vendor-number 2
vendor-number 99
pause in
vendor-number 2
vendor-number 3
pause check
token-info 2
vendor-number 2
finalize
EOF2
script_at number in
card_insert 1 num
script_go number in
script_at number check
is "$(grep '^apdu ' "$(card_log num)" | sed 's/^apdu [0-9]*: CLA=80 INS=\(..\) .* data=\([^ ]*\) .*/\1 \2/' |
	tr '\n' ',')" "A4 0900,A4 0903,B0 -," "the card number alone: SELECT DF 0900, SELECT EF 0903, READ BINARY, nothing else"
script_go number check
out=$(script_end number)
transcript_is "$out" "card number alone" <<'EOF2'
init -> CKR_OK
vendor-number 2 -> CKR_TOKEN_NOT_PRESENT  # an empty reader
vendor-number 99 -> CKR_SLOT_ID_INVALID
pause in -> ok
vendor-number 2 -> CKR_OK number="XC00000000077777"
vendor-number 3 -> CKR_OK number="XC00000000077777"  # either slot of the reader, not read again
pause check -> ok
token-info 2 -> CKR_OK label="組織及團體憑證管 077777" model="P11U V1" serial="XC00000000077777" flags=CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_TOKEN_INITIALIZED  # read when its token is needed
vendor-number 2 -> CKR_OK number="XC00000000077777"
finalize -> CKR_OK
EOF2
is "$(grep -c 'INS=A4 .* data=0903 ' "$(card_log num)")" 1 "reading the card later did not ask for its number again"
