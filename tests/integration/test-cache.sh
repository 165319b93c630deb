#!/bin/bash
# The module's per-user cache of public card data ($XDG_CACHE_HOME/p11unlock, issue 10):
# - cold: the card is read whole and its entry written (directory 0700, file 0600);
# - warm: a new process on the unchanged card reads exactly the identification, the card
#   number and the first 256 bytes of the signature certificate, then the counters, and
#   shows the same certificates;
# - stale: a card re-created with the same card number (new keys, new certificates) is read
#   again and shows its own certificates, never the cached ones;
# - untrusted: a directory or file that is not the user's own and private, a symbolic link,
#   another card's entry under this card's name, a truncated entry: ignored (the card is read
#   and nothing is written where the directory is not private);
# - `cache = no`: nothing read from or written to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module

plan 31

rig_up
p11_setup "allow_test_cards = yes"
cache=$XDG_CACHE_HOME/p11unlock
number=XC00000000000501
entry=$cache/$number.card

# apdus NAME FROM: the card's APDUs after number FROM, as "INS data" (SELECTs with their FID,
# READ BINARYs with their offset), one per line.
apdus() {
	awk -v from="$2" '/^apdu [0-9]+:/ {
		n = $2; sub(":", "", n)
		if (n + 0 <= from) next
		ins = ""; p1 = ""; p2 = ""; data = ""
		for (i = 3; i <= NF; i++) {
			if ($i ~ /^INS=/) ins = substr($i, 5)
			if ($i ~ /^P1=/) p1 = substr($i, 4)
			if ($i ~ /^P2=/) p2 = substr($i, 4)
			if ($i ~ /^data=/) data = substr($i, 6)
		}
		if (ins == "A4") print "SELECT " data
		else if (ins == "B0") print "READ " p1 p2
		else if (ins == "20") print "VERIFY " p2
		else print ins
	}' "$(card_log "$1")"
}
last_apdu() {
	local n
	n=$(grep '^apdu ' "$(card_log "$1")" | tail -n 1 | sed 's/^apdu \([0-9]*\):.*/\1/')
	echo "${n:-0}"
}
# certs_of_module: SHA-256 of each certificate object's value, in object order.
certs_of_module() {
	local id
	for id in 5349474e 4b455958; do
		p11t --read-object --type cert --id "$id" -o "$TEST_TMP/obj.der" >/dev/null &&
			sha256sum <"$TEST_TMP/obj.der" | cut -c1-16
	done
}
# certs_of_card NAME: the same from the card's own state (p11unlock-vcard export).
certs_of_card() {
	rm -rf "$TEST_TMP/export"
	"$P11U_VCARD" export "$(card_state "$1")" "$TEST_TMP/export" >/dev/null
	for f in signature encryption; do
		openssl x509 -in "$TEST_TMP/export/$f.pem" -outform der | sha256sum | cut -c1-16
	done
}
mode_of() { stat -c '%a' "$1"; }

# --- cold, then warm ---------------------------------------------------------------------------
card_create first --key-bits 1024 --card-number "$number"
card_insert 0 first
rm -rf "$XDG_CACHE_HOME"
before=$(last_apdu first)
like "$(p11t -L)" "serial num *: $number" "cold: pkcs11-tool -L lists the card"
cold=$(($(last_apdu first) - before))
is "$(mode_of "$cache")" 700 "cold: the cache directory is made with mode 0700"
is "$(mode_of "$entry")" 600 "cold: the card's entry has mode 0600"
is "$(find "$cache" -mindepth 1 | wc -l)" 1 "cold: one file, no temporary file left"

before=$(last_apdu first)
like "$(p11t -L)" "serial num *: $number" "warm: pkcs11-tool -L lists the card"
is "$(apdus first "$before" | tr '\n' ',')" \
	"SELECT 0900,SELECT 0905,READ 0000,SELECT 0903,READ 0000,SELECT 5030,SELECT 08F2,READ 1500,VERIFY 01,VERIFY 02," \
	"warm: identification, card number, 256 bytes of the signature slot, the counters: 10 APDUs"
ok "warm: fewer APDUs than cold ($cold)" test "$cold" -gt 10
is "$(certs_of_module | tr '\n' ' ')" "$(certs_of_card first | tr '\n' ' ')" \
	"warm: the certificates are the card's"
before=$(last_apdu first)
certs_of_module >/dev/null
is "$(apdus first "$before" | grep -c '^READ' || true)" 6 \
	"warm: two processes reading the certificates: 3 READ BINARYs each (type, number, check)"
export PIN=123456
printf 'cached\n' >"$TEST_TMP/data"
ok "warm: the signature key signs (its modulus from the cached certificate)" \
	p11t --login --pin env:PIN --sign -m SHA256-RSA-PKCS --id 5349474e -i "$TEST_TMP/data" \
	-o "$TEST_TMP/sig"
certs_of_card first | head -n 1 >/dev/null
openssl x509 -in "$TEST_TMP/export/signature.pem" -pubkey -noout >"$TEST_TMP/sign.pub"
ok "warm: the signature verifies with the card's certificate" \
	openssl dgst -sha256 -verify "$TEST_TMP/sign.pub" -signature "$TEST_TMP/sig" "$TEST_TMP/data"
card_remove 0

# --- stale: the same card number, re-created -----------------------------------------------------
old_entry=$(sha256sum <"$entry")
card_create first --key-bits 1024 --card-number "$number"
card_insert 0 first
out=$(P11UNLOCK_DEBUG=card p11t -L)
like "$out" "cache: card $number has other certificates than stored" \
	"re-created card: the module sees that the stored certificates are not the card's"
is "$(certs_of_module | tr '\n' ' ')" "$(certs_of_card first | tr '\n' ' ')" \
	"re-created card: the module shows the new certificates"
isnt_entry=$(sha256sum <"$entry")
ok "re-created card: its entry is written anew" test "$old_entry" != "$isnt_entry"

# --- untrusted cache: ignored --------------------------------------------------------------------
# cold_read: whether a new process read the whole certificate store (more READ BINARYs than the
# type, the number and the check); its output (P11UNLOCK_DEBUG=card) in $TEST_TMP/cold.out.
cold_read() {
	local before
	before=$(last_apdu first)
	P11UNLOCK_DEBUG=card p11t -L >"$TEST_TMP/cold.out"
	[ "$(apdus first "$before" | grep -c '^READ')" -gt 3 ]
}
cp "$entry" "$TEST_TMP/good.card"

chmod 0755 "$cache"
out=$(P11UNLOCK_DEBUG=card p11t -L)
like "$out" "cache: directory ignored: mode 0755" "directory 0755: ignored (logged)"
ok "directory 0755: the card is read whole" cold_read
rm -f "$entry"
p11t -L >/dev/null
ok "directory 0755: nothing written into it" test ! -e "$entry"
chmod 0700 "$cache"

cp "$TEST_TMP/good.card" "$entry"
chown nobody "$cache"
ok "directory of another user: ignored, the card read whole" cold_read
chown root "$cache"

chmod 0644 "$entry"
ok "entry with mode 0644: ignored, the card read whole" cold_read
chmod 0600 "$entry"
chown nobody "$entry"
ok "entry of another user: ignored, the card read whole" cold_read
rm -f "$entry"

cp "$TEST_TMP/good.card" "$TEST_TMP/elsewhere.card"
ln -s "$TEST_TMP/elsewhere.card" "$entry"
ok "entry that is a symbolic link: the card read whole" cold_read
like "$(cat "$TEST_TMP/cold.out")" "cache: $number.card ignored: a symbolic link" \
	"entry that is a symbolic link: ignored (logged)"
ok "entry that is a symbolic link: replaced by a file of the module's, its target untouched" \
	test ! -L "$entry" -a "$(sha256sum <"$TEST_TMP/elsewhere.card")" = "$(sha256sum <"$TEST_TMP/good.card")"
rm -f "$entry"

# Another card's valid entry, renamed to this card's number.
card_create other --key-bits 1024 --card-number XC00000000000777
card_remove 0
card_insert 0 other
p11t -L >/dev/null
card_remove 0
card_insert 0 first
cp "$cache/XC00000000000777.card" "$entry"
out=$(P11UNLOCK_DEBUG=card p11t -L)
like "$out" "cache: entry for card $number unusable" "another card's entry under this number: not used"
is "$(certs_of_module | tr '\n' ' ')" "$(certs_of_card first | tr '\n' ' ')" \
	"another card's entry under this number: the card's own certificates"

head -c 300 "$TEST_TMP/good.card" >"$entry"
chmod 0600 "$entry"
ok "truncated entry: the card read whole" cold_read
ok "truncated entry: replaced by a whole one" test "$(stat -c %s "$entry")" -gt 300
is "$(certs_of_module | tr '\n' ' ')" "$(certs_of_card first | tr '\n' ' ')" \
	"truncated entry: the card's certificates"

# XDG_CACHE_HOME unset: ~/.cache/p11unlock.
home=$TEST_TMP/home
mkdir -p "$home"
HOME=$home XDG_CACHE_HOME= p11t -L >/dev/null
ok "without XDG_CACHE_HOME: the entry goes to \$HOME/.cache/p11unlock" test -f "$home/.cache/p11unlock/$number.card"

# --- cache = no ----------------------------------------------------------------------------------
p11_setup "allow_test_cards = yes" "cache = no"
rm -rf "$XDG_CACHE_HOME"
ok "cache = no: the card is read whole" cold_read
ok "cache = no: no cache directory is made" test ! -e "$XDG_CACHE_HOME"
