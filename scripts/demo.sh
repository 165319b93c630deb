#!/usr/bin/env bash
# The main job, end to end on a virtual card (run by `sudo ./quickstart demo`, or after a build):
#  1. start the isolated PC/SC rig and insert a test card like the issuer's test card,
#  2. lock its PIN with three wrong PINs (as a holder who mistyped would),
#  3. run `p11unlock` on it: interactive when run from a terminal, scripted otherwise,
#  4. log in with the new PIN through pkcs11-tool to show the card works again, and clean up.
# allow_test_cards is switched on for this demo only, through a private P11UNLOCK_CONF.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${top_builddir:-$top/_build}
vcard=$build/tools/vcard/p11unlock-vcard
tool=$build/tools/p11unlock/p11unlock
module=$build/src/pkcs11/.libs/p11unlock-pkcs11.so

[ "$(id -u)" = 0 ] || { echo "demo: run as root (it starts a private pcscd in its own namespaces)" >&2; exit 1; }
for f in "$vcard" "$tool" "$module"; do
	[ -e "$f" ] || { echo "demo: $f is missing: build first (sudo ./quickstart demo does)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/p11unlock-demo.XXXXXX)
cleanup() { "$top/tests/rig.sh" stop "$work/rig" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

user_code=Ab12cd34
new_pin=654321
card=$work/card.state
echo "== A test card like the issuer's: card number XC00000000091349, user code $user_code"
"$vcard" create "$card" --card-number XC00000000091349 \
	--holder-dn "C=TW,O=組織及團體憑證管理中心憑證測試中心" --pin 123456 --user-code "$user_code" >/dev/null
eval "$("$top/tests/rig.sh" start "$work/rig" --readers 1)"
export PCSCLITE_CSOCK_NAME P11U_RIG_DIR
"$top/tests/rig.sh" insert "$work/rig" 0 "$card" >/dev/null
printf 'allow_test_cards = yes\n' >"$work/p11unlock.conf"
export P11UNLOCK_CONF=$work/p11unlock.conf P11UNLOCK_MODULE=$module

echo "== Three wrong PINs lock the card"
for wrong in 000000 111111 222222; do
	WRONG=$wrong pkcs11-tool --module "$module" --login --pin env:WRONG -O >/dev/null 2>&1 || true
done
"$vcard" status "$card"

echo "== p11unlock"
if [ -t 0 ] && [ -t 1 ]; then
	echo "(interactive: the user code is $user_code; choose a new PIN of 6-8 characters)"
	"$tool"
	echo "== Log in with your new PIN"
	pkcs11-tool --module "$module" --login -O
else
	printf '%s\n' "$user_code" "$new_pin" "$new_pin" | "$tool" --serial XC00000000091349
	echo "== Log in with the new PIN ($new_pin) through pkcs11-tool"
	NEW_PIN=$new_pin pkcs11-tool --module "$module" --login --pin env:NEW_PIN -O | grep -E 'Private Key Object|label'
fi
"$vcard" status "$card"
echo "== Done: the card is unlocked and works with the new PIN"
