# tests/integration/p11.sh: what the module's integration tests share (source after lib.sh).
#   p11_setup [config lines...]   writes a P11UNLOCK_CONF (default: allow_test_cards = yes) and exports it
#   p11t ARGS...                   pkcs11-tool with our module loaded directly (stderr merged)
#   token_flags                    the "token flags" line of slot 0's token, from pkcs11-tool -L
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
