#!/bin/bash
# Firefox (Debian's firefox-esr, headless, a fresh temporary profile) with the module, driven
# through Marionette in chrome context (marionette.py): loaded by enterprise policy and by
# nsIPKCS11ModuleDB.addModule (Security Devices -> Load); the card token's label and serial;
# login through Firefox's real PIN prompt; Change Password on the card token; a card locked
# by wrong PINs gets its user-code token, where a wrong user code costs one try and Change
# Password with the right one releases the lock; PIN prompts while locked cost no user-code
# try; TLS client authentication with the card key; the card removed and reinserted while
# Firefox runs.  Screenshots of the page, of Security Devices and of the release step by step
# (firefox-unlock-N-*.png: the user-code token selected, Change Password filled in, Firefox's
# answer, the card token's PIN prompt with the new PIN, the token logged in) go to
# $top_builddir/tests/artifacts/test-firefox/ (docs/screenshots/ holds copies for the README).
#
# Every secret reaches Firefox through an environment variable marionette.py reads, and is
# typed into Firefox's own dialogs.  Firefox is always stopped by PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"
. "$(dirname "$0")/firefox-lib.sh"

require_rig
require_module
require_firefox
require_cmd openssl openssl

plan 57

POLICY_DIR=/etc/firefox/policies
POLICY=$POLICY_DIR/policies.json
ARTIFACTS=$(artifact_dir)

export BAD_PIN=000000 NEW_PIN=246810 NEWER_PIN=135790 BAD_USER_CODE=Zz99zz99
UC_TOKEN="用戶代碼 $CARD_NUMBER"

# status KEY: one of the card's counters, as the card itself keeps them.
status() {
	vcard_status_get alice "$1"
}

# APDUs that spend a user-code try (VERIFY of the user code with data, RESET RETRY COUNTER)
# in the card's log from line $1 on.
user_code_apdus_since() {
	tail -n +"$1" "$(card_log alice)" | grep -cE 'INS=2C|INS=20 P1=00 P2=02 Lc=[1-9]'
}

rig_up
p11_setup
card_create alice --pin "$PIN" --user-code "$USER_CODE" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_certs alice "$TEST_TMP/card"
server_cert "$TEST_TMP/server"

# The label the module gives the card token (C_GetTokenInfo, as pkcs11-tool shows it).
card_label 0
SLOT=$(reader_name 0)
diag "card token: '$LABEL' in slot '$SLOT'"

# --- the way administrators load it: enterprise policy ----------------------------------------
if [ -e "$POLICY" ]; then
	for desc in "policy: Firefox loads the module" "policy: the policy engine is active" \
		"policy: the card token is there" "policy: policies.json removed afterwards"; do
		skip "$desc" "$POLICY exists (an administrator's policy; not touching it)"
	done
else
	ff_policy_lock
	[ -d /etc/firefox ] || at_exit rmdir /etc/firefox
	[ -d "$POLICY_DIR" ] || at_exit rmdir "$POLICY_DIR"
	at_exit rm -f "$POLICY"
	mkdir -p "$POLICY_DIR"
	python3 -c 'import json, sys; print(json.dumps({"policies": {"SecurityDevices":
		{"Add": {"p11unlock (policy)": sys.argv[1]}}}}, indent=2))' "$MODULE" >"$POLICY"

	FF1=$TEST_TMP/ff-policy
	ff_start "$FF1" --policy
	modules=$(ff "$FF1" modules)
	is "$(jget "$modules" '[m["libName"] for m in d if m["name"] == "p11unlock (policy)"]')" \
		"[\"$MODULE\"]" "policy: Firefox loads the module named in SecurityDevices"
	is "$(ff "$FF1" chrome 'return Services.policies.status === Services.policies.ACTIVE;')" true \
		"policy: the policy engine is active"
	tok=$(ff "$FF1" wait-token "$LABEL" present)
	is "$(jget "$tok" '[d["name"], d["serial"]]')" "[\"$LABEL\", \"$CARD_NUMBER\"]" \
		"policy: the card token is there, with its label and serial"
	python3 "$MARIONETTE" stop "$FF1"
	rm -f "$POLICY"
	rmdir "$POLICY_DIR" 2>/dev/null
	rmdir /etc/firefox 2>/dev/null
	ff_policy_unlock
	ok "policy: policies.json removed afterwards" test ! -e "$POLICY"
fi

# --- the way users load it: Security Devices -> Load (nsIPKCS11ModuleDB.addModule) -----------------
FF=$TEST_TMP/ff
ff_start "$FF"
ff_trust_ca "$FF" "$TEST_TMP/server/server-ca.pem"

is "$(ff "$FF" add-module p11unlock "$MODULE")" true "addModule loads the module"
modules=$(ff "$FF" modules)
is "$(jget "$modules" '[m["libName"] for m in d if m["name"] == "p11unlock"]')" "[\"$MODULE\"]" \
	"listModules shows it with its path"
is "$(jget "$modules" '[s["name"] for m in d if m["name"] == "p11unlock" for s in m["slots"]][:2]')" \
	"[\"$SLOT\", \"User code: $SLOT\"]" "its first slots: the reader, then the reader's user-code slot"
tok=$(ff "$FF" token "$LABEL")
is "$(jget "$tok" 'd["name"]')" "$LABEL" "the card token shows the label C_GetTokenInfo gives"
like "$LABEL" "^組織及團體憑證管.* ${CARD_NUMBER: -6}$" "the label is the holder plus the end of the card number"
is "$(jget "$tok" 'd["serial"]')" "$CARD_NUMBER" "its serial number is the card number"
is "$(jget "$tok" '[d["manufacturer"], d["hasPassword"], d["isLoggedIn"]]')" '["p11unlock", true, false]' \
	"manufacturer p11unlock, has a password, not logged in"
is "$(jget "$(ff "$FF" tokens)" '[t["name"] for t in d if t["slot"].startswith("User code")]')" "[]" \
	"no user-code token while the PIN is not locked"

# --- login through the PIN prompt ---------------------------------------------------------------
out=$(ff "$FF" login "$LABEL" --pin-env PIN)
is "$(jget "$out" 'd["ok"]')" true "login: the right PIN typed into Firefox's prompt logs in"
is "$(jget "$out" '[p["text"] for p in d["prompts"]]')" \
	"[\"Please authenticate to the security device ($LABEL).\"]" "login: one prompt, naming the token"
is "$(jget "$(ff "$FF" token "$LABEL")" 'd["isLoggedIn"]')" true "login: the token is logged in"
ff "$FF" logout "$LABEL" >/dev/null

out=$(ff "$FF" login "$LABEL" --pin-env BAD_PIN --cancel)
is "$(jget "$out" '[d["ok"], d["error"]["name"], [p["action"] for p in d["prompts"]]]')" \
	'[false, "SEC_ERROR_BAD_PASSWORD", ["password", "cancel"]]' \
	"login: a wrong PIN is refused and Firefox asks again (cancelled)"
is "$(status pin_tries)" 2 "login: the wrong PIN cost one try on the card"

# --- Change Password on the card token -----------------------------------------------------------
out=$(ff "$FF" change-password-dialog "$LABEL" --old-env PIN --new-env NEW_PIN)
is "$(jget "$out" 'd["alert"]')" "Password successfully changed." "Change Password: Firefox says the PIN changed"
is "$(status pin_tries)" 3 "Change Password: the card's PIN counter is full again"
ff "$FF" logout "$LABEL" >/dev/null
is "$(jget "$(ff "$FF" login "$LABEL" --pin-env NEW_PIN)" 'd["ok"]')" true \
	"Change Password: the new PIN logs in"

# --- TLS client authentication with the card key -----------------------------------------------------
# Logged out first: Firefox asks for the PIN during the handshake (the prompt then holds
# Firefox's socket thread; marionette.py answers it from inside Firefox).
ff "$FF" logout "$LABEL" >/dev/null
start_bg tls-server python3 "$P11U_LIB_DIR/tls-server.py" --cert "$TEST_TMP/server/server.pem" \
	--key "$TEST_TMP/server/server.key" --client-ca "$TEST_TMP/card/client-cas.pem" \
	--port-file "$TEST_TMP/tls-server.port"
wait_for_file "$TEST_TMP/tls-server.port" || bail_out "tls-server.py did not start"
url=https://127.0.0.1:$(cat "$TEST_TMP/tls-server.port")/
page=$(ff "$FF" navigate "$url" --pin-env NEW_PIN)
is "$(jget "$page" '[d["uri"], d["title"]]')" "[\"$url\", \"Client certificate accepted\"]" \
	"TLS: the page that requires a client certificate loads"
is "$(jget "$page" '[p["action"] for p in d["prompts"]]')" '["password"]' \
	"TLS: Firefox asked for the card's PIN once"
sig_serial=$(openssl x509 -in "$TEST_TMP/card/signature.pem" -noout -serial | cut -d= -f2)
like "$(jget "$page" 'd["text"]')" "Serial number[[:space:]]+$sig_serial" \
	"TLS: the server got the card's signature certificate (serial $sig_serial)"
ok "TLS: screenshot of the page" ff "$FF" screenshot "$ARTIFACTS/firefox-client-auth.png"

# The same through openssl s_server, which prints the client certificate it verified.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_bg s_server openssl s_server -accept "127.0.0.1:$port" -cert "$TEST_TMP/server/server.pem" \
	-key "$TEST_TMP/server/server.key" -Verify 1 -CAfile "$TEST_TMP/card/client-cas.pem" -www
for _ in $(seq 50); do
	grep -q ACCEPT "$TEST_TMP/s_server.log" && break
	sleep 0.1
done
page=$(ff "$FF" navigate "https://127.0.0.1:$port/")
got_cert=$(jget "$page" 'd["text"]' | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
	openssl x509 -outform DER 2>/dev/null | sha256sum)
is "$got_cert" "$(openssl x509 -in "$TEST_TMP/card/signature.pem" -outform DER | sha256sum)" \
	"TLS: openssl s_server -Verify 1 verified the card's signature certificate"

# --- Security Devices, unlocked -------------------------------------------------------------------
out=$(ff "$FF" device-manager "$ARTIFACTS/firefox-security-devices-unlocked.png" --select "$LABEL")
is "$(jget "$out" '[v for k, v in d["details"] if k in ("Label", "Serial Number")]')" \
	"[\"$LABEL\", \"$CARD_NUMBER\"]" "Security Devices shows the card token's label and serial"

# --- a locked card: the user-code token -----------------------------------------------------------------
ff "$FF" logout "$LABEL" >/dev/null
# The third wrong PIN still gets CKR_PIN_INCORRECT (the card answers 63C0), so Firefox asks a
# fourth time; that answer gets CKR_PIN_LOCKED, and Firefox gives up.
out=$(ff "$FF" login "$LABEL" --pin-env BAD_PIN --pin-env BAD_PIN --pin-env BAD_PIN --pin-env BAD_PIN)
is "$(jget "$out" '[d["ok"], d["error"]["name"], len(d["prompts"])]')" '[false, "SEC_ERROR_LOCKED_PASSWORD", 4]' \
	"lock: three wrong PINs at Firefox's prompts, the fourth prompt reports the password locked"
is "$(status pin_blocked)/$(status pin_tries)/$(status user_code_tries)" 1/0/3 \
	"lock: the card's PIN is blocked, its user code untouched"
tok=$(ff "$FF" wait-token "$UC_TOKEN" present)
is "$(jget "$tok" '[d["name"], d["serial"], d["hasPassword"], d["isLoggedIn"]]')" \
	"[\"$UC_TOKEN\", \"$CARD_NUMBER\", true, false]" "lock: the user-code token appears, with the card's serial"
out=$(ff "$FF" device-manager "$ARTIFACTS/firefox-unlock-1-token-selected.png" --select "$UC_TOKEN")
is "$(jget "$out" '[d["rows"][d["selected"]], [v for k, v in d["details"] if k == "Label"]]')" \
	"[\"User code: $SLOT\", [\"$UC_TOKEN\"]]" "lock: Security Devices shows it in the reader's user-code slot"
is "$(jget "$out" 'd["buttons"]["change_pw_button"]')" true "lock: its Change Password button is enabled"

# PIN prompts while locked: none of them may spend a user-code try.
mark=$(($(wc -l <"$(card_log alice)") + 1))
out=$(ff "$FF" login "$LABEL" --pin-env USER_CODE)
is "$(jget "$out" '[d["ok"], d["error"]["name"], len(d["prompts"])]')" '[false, "SEC_ERROR_LOCKED_PASSWORD", 1]' \
	"locked: the card token's prompt answered (even with the user code) only reports the lock"
out=$(ff "$FF" login "$UC_TOKEN" --pin-env BAD_USER_CODE)
is "$(jget "$out" '[d["ok"], len(d["prompts"])]')" '[true, 1]' \
	"locked: the user-code token's prompt accepts any well-formed code (checked later, by C_SetPIN)"
ff "$FF" logout "$UC_TOKEN" >/dev/null
page=$(ff "$FF" navigate "$url" --pin-env BAD_USER_CODE --pin-env BAD_USER_CODE)
diag "locked, loading $url: $(jget "$page" '[d["uri"][:60], [(p["text"], p["action"]) for p in d["prompts"]]]')"
like "$(jget "$page" 'd["uri"]')" "^about:neterror" \
	"locked: client authentication fails (no key to sign with), an error page"
is "$(status user_code_tries)" 3 "locked: those prompts cost no user-code try (the card says 3)"
is "$(user_code_apdus_since "$mark")" 0 "locked: no user-code VERIFY or RESET RETRY COUNTER reached the card"

# Change Password on the user-code token, wrong code first.
out=$(ff "$FF" change-password-dialog "$UC_TOKEN" --old-env BAD_USER_CODE --new-env NEWER_PIN)
is "$(jget "$out" '[d["alert"], d["dialog_closed"]]')" \
	'["You did not enter the correct current password. Please try again.", false]' \
	"wrong user code: Firefox says the current password is wrong"
is "$(status user_code_tries)/$(status pin_blocked)" 2/1 "wrong user code: one try spent, the PIN still blocked"
tok=$(ff "$FF" token "$UC_TOKEN")
is "$(jget "$tok" 'd["name"]')" "$UC_TOKEN" "wrong user code: the user-code token is still there"

out=$(ff "$FF" change-password-dialog "$UC_TOKEN" --old-env USER_CODE --new-env NEWER_PIN \
	--shot "$ARTIFACTS/firefox-unlock-2-change-password-filled.png" \
	--shot "$ARTIFACTS/firefox-unlock-3-result.png")
is "$(jget "$out" '[d["alert"], d["dialog_closed"]]')" '["Password successfully changed.", true]' \
	"unlock: Change Password (old = user code, new = new PIN) succeeds"
is "$(status pin_blocked)/$(status pin_tries)/$(status user_code_tries)" 0/3/3 \
	"unlock: the card's PIN is released with full counters"
is "$(ff "$FF" wait-token "$UC_TOKEN" absent)" null "unlock: the user-code token disappears"
out=$(ff "$FF" login "$LABEL" --pin-env NEWER_PIN --shot "$ARTIFACTS/firefox-unlock-4-login-new-pin.png")
is "$(jget "$out" '[d["ok"], d["prompts"]]')" \
	"[true, [{\"text\": \"Please authenticate to the security device ($LABEL).\", \"action\": \"password\"}]]" \
	"unlock: the card token logs in with the new PIN (one prompt, for the card token)"
out=$(ff "$FF" device-manager "$ARTIFACTS/firefox-unlock-5-logged-in.png" --select "$LABEL")
is "$(jget "$out" '[v for k, v in d["details"] if k in ("Status", "Label")]')" "[\"Logged In\", \"$LABEL\"]" \
	"unlock: Security Devices shows the card token logged in"
page=$(ff "$FF" navigate "$url")
is "$(jget "$page" '[d["uri"], d["title"]]')" "[\"$url\", \"Client certificate accepted\"]" \
	"unlock: client authentication works again"

# --- the card removed and reinserted while Firefox runs ----------------------------------------------------
card_remove 0
is "$(ff "$FF" wait-token "$LABEL" absent)" null "removal: the card token goes away"
is "$(jget "$(ff "$FF" modules)" '[s["status"] for m in d if m["name"] == "p11unlock" for s in m["slots"]][0]')" \
	"$(ff "$FF" chrome 'return Ci.nsIPKCS11Slot.SLOT_NOT_PRESENT;')" "removal: its slot says no token present"
card_insert 0 alice
tok=$(ff "$FF" wait-token "$LABEL" present)
is "$(jget "$tok" '[d["name"], d["serial"], d["isLoggedIn"]]')" "[\"$LABEL\", \"$CARD_NUMBER\", false]" \
	"reinsertion: the card token comes back, not logged in"
is "$(jget "$(ff "$FF" login "$LABEL" --pin-env NEWER_PIN)" 'd["ok"]')" true \
	"reinsertion: it logs in again"

# --- Firefox stops ------------------------------------------------------------------------------------------
read -r ff_pid _ <"$FF/firefox.pid"
python3 "$MARIONETTE" stop "$FF"
not_running() {
	! proc_running "$1"
}
ok "Firefox is stopped (by PID)" not_running "$ff_pid"
for png in client-auth security-devices-unlocked unlock-1-token-selected unlock-2-change-password-filled \
	unlock-3-result unlock-4-login-new-pin unlock-5-logged-in; do
	ok "screenshot firefox-$png.png saved as an artifact, a whole window" \
		png_at_least "$ARTIFACTS/firefox-$png.png" 200 80
done
