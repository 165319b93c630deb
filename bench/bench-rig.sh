#!/bin/bash
# Benchmark through the whole stack: pkcs11-tool -> p11unlock-pkcs11.so -> pcscd -> vpcd ->
# virtual card, on the isolated rig, with the card answering after --latency-us (0 and 2 ms per
# APDU, roughly a real contact card).  Prints wall-clock times; asserts nothing.  Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(pwd)}"
export top_builddir P11U_VCARD="${P11U_VCARD:-$top_builddir/tools/vcard/p11unlock-vcard}"
vcard=$P11U_VCARD
module=$top_builddir/src/pkcs11/.libs/p11unlock-pkcs11.so
rig=$here/../tests/rig.sh
[ "$(id -u)" = 0 ] || { echo "bench-rig: needs root (private pcscd in namespaces)"; exit 0; }

work=$(mktemp -d /tmp/p11u-bench.XXXXXX)
trap '"$rig" stop "$work/rig" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$vcard" create "$work/card.state" >/dev/null
eval "$("$rig" start "$work/rig")"
export PCSCLITE_CSOCK_NAME
printf 'allow_test_cards = yes\n' >"$work/conf"
export P11UNLOCK_CONF=$work/conf PIN=123456
printf 'benchmark data\n' >"$work/data"

timed() { # timed LABEL COMMAND...: average wall time of 5 runs
	local label=$1 t0 t1
	shift
	t0=$(date +%s%N)
	for _ in 1 2 3 4 5; do "$@" >/dev/null 2>&1; done
	t1=$(date +%s%N)
	printf '  %-40s %8.1f ms\n' "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 5 / 1000000 }')"
}

for latency in 0 2000; do
	"$rig" insert "$work/rig" 0 "$work/card.state" --latency-us "$latency" --log "$work/apdu.log" >/dev/null
	echo "card latency ${latency} us per APDU:"
	timed "pkcs11-tool -L" pkcs11-tool --module "$module" -L
	timed "pkcs11-tool -O (no login)" pkcs11-tool --module "$module" -O
	timed "pkcs11-tool login + sign SHA256-RSA-PKCS" pkcs11-tool --module "$module" --login --pin env:PIN \
		--sign -m SHA256-RSA-PKCS --id 5349474e -i "$work/data" -o "$work/sig"
	echo "  APDUs the card answered: $(grep -c '^apdu ' "$work/apdu.log")"
	"$rig" remove "$work/rig" 0 >/dev/null
	rm -f "$work/apdu.log"
done
