#!/usr/bin/env bash
# tests/sanitize/valgrind.sh: the module under valgrind memcheck for one whole sequence
# (tests/sanitize/sequence.p11, run by p11-script on the rig's pcscd with a virtual card): list
# the slots and tokens, log in, sign, lock the PIN, release it with the user code (SO login +
# C_InitPIN, then again through the user-code token's C_SetPIN), sign with the new PIN, finalize.
# Passes with no memcheck error, no definitely lost block and no descriptor left open by the
# module after C_Finalize.  Needs root (the rig) and valgrind; TAP.
#
# Run it on a build without sanitizers (valgrind and ASan do not mix), after make check:
#   sudo env top_builddir=$PWD/_build tests/sanitize/valgrind.sh
# P11U_KEEP_TMP=1 keeps valgrind's log ($TEST_TMP/valgrind.log).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/p11.sh"
. "$here/../integration/p11-script.sh"

require_rig
require_module
require_script
require_cmd valgrind valgrind

plan 10

p11_setup
rig_up
card_create alice --pin 123456 --user-code Ab12cd34
card_insert 0 alice || bail_out "the card was not inserted"
export PIN=123456 WRONG=999999 UC=Ab12cd34 NEW=654321 NEW2=13572468

# Exit status 99: valgrind found an error (definite leaks count as errors).
VG_LOG=$TEST_TMP/valgrind.log
rc=0
out=$(cd "$TEST_TMP" && timeout 600 valgrind --tool=memcheck --error-exitcode=99 \
	--leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite \
	--track-fds=yes --num-callers=40 --log-file="$VG_LOG" \
	--suppressions="$here/valgrind.supp" \
	"$P11_SCRIPT" "$MODULE" <"$here/sequence.p11" 2>&1) || rc=$?

vg_diag() {
	diag "valgrind's log ($VG_LOG):" "$(cat "$VG_LOG" 2>/dev/null)"
}

is "$rc" 0 "p11-script under valgrind: exit status 0 (99 = memcheck errors or definite leaks)"
[ "$rc" = 0 ] || diag "p11-script's output:" "$out"
like "$(grep 'ERROR SUMMARY' "$VG_LOG")" 'ERROR SUMMARY: 0 errors' "no memcheck error"
errors=$(grep -c 'ERROR SUMMARY: 0 errors' "$VG_LOG" || true)
leaks=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$VG_LOG")
is "${leaks:-0}" 0 "no definitely lost bytes"
# --track-fds: every descriptor open at exit is listed, with "<inherited from parent>" or the
# stack that opened it; one the module opened (a PC/SC socket, a file) and kept after
# C_Finalize has a stack.
fds=$(awk '/ Open .*descriptor [0-9]+:/ { d = $0; next }
	d != "" && /<inherited from parent>/ { d = ""; next }
	d != "" { print d; d = "" }' "$VG_LOG")
is "$fds" "" "no descriptor left open by the module after C_Finalize"
[ "$errors" = 1 ] && [ "${leaks:-0}" = 0 ] && [ -z "$fds" ] || vg_diag

# The sequence did what it says (every step CKR_OK where it should be).
is "$(result_of "$out" "sign rsa-pkcs SIGN")" "CKR_OK len=256" "signed with the PIN"
like "$(grep -c '^login user env:WRONG -> CKR_PIN_INCORRECT$' <<<"$out")" '^6$' \
	"six wrong PINs refused (the PIN locked twice)"
is "$(result_of "$out" "initpin env:NEW")" "CKR_OK" "SO login + C_InitPIN released the PIN"
is "$(result_of "$out" "setpin env:UC env:NEW2")" "CKR_OK" \
	"the user-code token's C_SetPIN released it again"
like "$(grep -A1 '^login user env:NEW2 -> CKR_OK$' <<<"$out")" 'sign sha256-rsa-pkcs SIGN -> CKR_OK' \
	"signed with the second new PIN"
is "$(tail -n 1 <<<"$out")" "finalize -> CKR_OK" "C_Finalize"
