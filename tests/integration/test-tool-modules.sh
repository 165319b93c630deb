#!/bin/bash
# p11unlock with other PKCS#11 modules (--module): OpenSC's module loads and
# lists without crashing (it does not know the virtual card); a token of
# another module (p11-kit's trust module stands in: OpenSC has no token for
# the virtual card) is listed but refused for unlock without --foreign-token;
# through p11-kit's remoting (p11-kit server + p11-kit-client.so), which
# forwards no vendor interface, the tool still reads exact counters from the
# module's status object and unlocks a locked card.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tool-lib.sh"

require_rig
require_tool
require_cmd p11-kit p11-kit

OPENSC_MODULE=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
TRUST_MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so
CLIENT_MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so

plan 15

tool_setup
rig_up
locked_card 0 dave
answers="$USER_CODE"$'\n'"654321"$'\n'"654321"$'\n'

# --- OpenSC ---------------------------------------------------------------------------------
if [ -f "$OPENSC_MODULE" ]; then
	tool_run "" --module "$OPENSC_MODULE" --list
	is "$RC" 6 "OpenSC: --list runs to its end (exit 6: no card it knows)"
	is "$ERR" "1 card is present but not recognized by OpenSC smartcard framework." \
		"OpenSC: the card is there but not OpenSC's"
	tool_run "$answers" --module "$OPENSC_MODULE"
	is "$RC" 6 "OpenSC: nothing to unlock (exit 6), no crash"
	is "$(counters dave)" 0/3 "OpenSC: the card's counters unchanged"
else
	for d in list message unlock counters; do
		skip "OpenSC: $d" "no $OPENSC_MODULE (Debian package opensc-pkcs11)"
	done
fi

# --- a token of another module -----------------------------------------------------------------
if [ -f "$TRUST_MODULE" ]; then
	tool_run "" --module "$TRUST_MODULE" --list --verbose
	is "$RC" 0 "p11-kit-trust: --list exit 0"
	like "$OUT" "    Not a p11unlock token: unlocking it needs --foreign-token\." \
		"p11-kit-trust: its token is listed as another module's"
	tool_run "$answers" --module "$TRUST_MODULE" --slot "$(sed -n 's/.*(slot \([0-9]*\))$/\1/p' <<<"$OUT" | head -n 1)"
	is "$RC" 7 "another module's token: unlock refused without --foreign-token (exit 7)"
	like "$ERR" "belongs to another PKCS#11 module \(PKCS#11 Kit\)\. Its SO PIN may be a PIV PUK or the security officer PIN of an HSM" \
		"another module's token: the reason"
	unlike "$OUT" "Step 3" "another module's token: no secret asked for"
else
	for d in list listed refused reason "no secret"; do
		skip "p11-kit-trust: $d" "no $TRUST_MODULE"
	done
fi

RC=0
"$P11U_TOOL" --module "$TEST_TMP/no-such-module.so" --list >/dev/null 2>"$TEST_TMP/err" || RC=$?
is "$RC" 1 "a module that does not load: exit 1"
like "$(cat "$TEST_TMP/err")" "^Cannot load the PKCS#11 module $TEST_TMP/no-such-module.so: " \
	"a module that does not load: the message names it"

# --- through p11-kit's remoting ------------------------------------------------------------------
if [ -f "$CLIENT_MODULE" ]; then
	export XDG_RUNTIME_DIR=$TEST_TMP
	p11-kit server -f -n "$TEST_TMP/p11-kit.sock" --provider "$P11U_MODULE" "pkcs11:model=P11U%20V1" \
		>"$TEST_TMP/server.out" 2>&1 &
	server=$!
	TOOL_PIDS+=("$server")
	for _ in $(seq 50); do [ -S "$TEST_TMP/p11-kit.sock" ] && break; sleep 0.1; done
	export P11_KIT_SERVER_ADDRESS=unix:path=$TEST_TMP/p11-kit.sock
	tool_run "" --module "$CLIENT_MODULE" --status --json
	like "$OUT" '"card_number":"XC00000000091349",' "remoting: the card seen through p11-kit-client.so"
	like "$OUT" '"pin":\{"state":"locked","tries_left":0\},"user_code":\{"state":"ok","tries_left":3\},"tries_source":"status_object"' \
		"remoting: exact counters from the status object (no vendor interface there)"
	tool_run "$answers" --module "$CLIENT_MODULE"
	is "$RC.$(tail -n 1 <<<"$OUT")" "0.Card unlocked and PIN reset" "remoting: the card unlocked"
	tool_cleanup
	TOOL_PIDS=()
	unset P11_KIT_SERVER_ADDRESS
	is "$(counters dave)" 3/3 "remoting: the card agrees (3/3)"
else
	for d in card counters unlock agrees; do
		skip "remoting: $d" "no $CLIENT_MODULE"
	done
fi
