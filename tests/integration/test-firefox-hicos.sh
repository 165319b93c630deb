#!/bin/bash
# Firefox (headless firefox-esr, a fresh profile, Marionette as in test-firefox.sh) with a
# first-generation HiCOS card (p11unlock-vcard --variant gen1) and `hicos_login = yes`: the
# card token in Security Devices; Certificate Manager lists the card's certificates (read from
# its PKCS#15 directory files) before any login; login through Firefox's PIN prompt (one
# protected VERIFY, a wrong PIN costs one try); Change Password refused, no PIN change sent to the
# card; TLS client authentication signed by the card (raw RSA on the card, padding by the
# module), with what the server saw checked against the card's certificate.  Screenshots go to
# $top_builddir/tests/artifacts/test-firefox-hicos/ (docs/screenshots/ holds copies).
#
# Secrets reach Firefox through environment variables marionette.py reads; Firefox is stopped
# by PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"
. "$(dirname "$0")/firefox-lib.sh"

require_rig
require_module
require_firefox
require_cmd openssl openssl

plan 28

ARTIFACTS=$(artifact_dir)
export BAD_PIN=000000 NEW_PIN=246810

# APDUs of kind ERE (a regular expression on the card log's "CLA=.. INS=.." part) in the
# card's log from line $1 on.
apdus_since() {
	tail -n +"$1" "$(card_log hicos)" | grep -cE "$2"
}

log_mark() {
	echo $(($(wc -l <"$(card_log hicos)") + 1))
}

# fingerprint NAME: the SHA-256 of the card's certificate NAME as Firefox shows it (AA:BB:...).
fingerprint() {
	openssl x509 -in "$TEST_TMP/card/$1.pem" -noout -fingerprint -sha256 | cut -d= -f2
}

# serial NAME: its serial number as Firefox shows it (AA:BB:...).
serial() {
	openssl x509 -in "$TEST_TMP/card/$1.pem" -noout -serial | cut -d= -f2 | sed 's/../&:/g; s/:$//'
}

# json_sorted WORDS...: the words as a sorted JSON list, what jget prints for a sorted list.
json_sorted() {
	python3 -c 'import json, sys; print(json.dumps(sorted(sys.argv[1:])))' "$@"
}

rig_up
# A real card, not a test card: only the opt-in for login is needed.
p11_setup "hicos_login = yes"
card_create hicos --variant gen1 --pin "$PIN"
card_insert 0 hicos
card_certs hicos "$TEST_TMP/card"
server_cert "$TEST_TMP/server"
is "$(vcard_status_get hicos variant)/$(vcard_status_get hicos card_type)" "gen1/CHT V32N" \
	"the virtual card is a first-generation HiCOS card"

card_label 0
diag "card token: '$LABEL' in slot '$(reader_name 0)'"

FF=$TEST_TMP/ff
ff_start "$FF"
ff_trust_ca "$FF" "$TEST_TMP/server/server-ca.pem"
is "$(ff "$FF" add-module p11unlock "$MODULE")" true "addModule loads the module"
tok=$(ff "$FF" wait-token "$LABEL" present)
is "$(jget "$tok" '[d["name"], d["serial"], d["hasPassword"], d["isLoggedIn"]]')" \
	"[\"$LABEL\", \"$CARD_NUMBER\", true, false]" \
	"the gen1 card token: its label, the card number as serial, a password, not logged in"

# --- the card's certificates, before any login -------------------------------------------------
mark=$(log_mark)
on_card='sorted(r[KEY] for r in d["shown"] if r["token"] == TOKEN)'
on_card=${on_card//TOKEN/\"$LABEL\"}
mine=$(ff "$FF" cert-manager "$ARTIFACTS/firefox-hicos-certificates.png" --tab mine)
diag "Your Certificates: $(jget "$mine" '[(r["name"], r["token"]) for r in d["shown"]]')"
is "$(jget "$mine" 'd["prompts"]')" \
	"[{\"text\": \"Please authenticate to the security device ($LABEL).\", \"action\": \"cancel\"}]" \
	"Certificate Manager asks for the card's PIN once as it opens (cancelled here)"
is "$(jget "$mine" "${on_card//KEY/\"sha256\"}")" \
	"$(json_sorted "$(fingerprint signature)" "$(fingerprint encryption)")" \
	"Your Certificates: the card's signature and encryption certificates, without a login"
is "$(jget "$mine" "${on_card//KEY/\"serial\"}")" "$(json_sorted "$(serial signature)" "$(serial encryption)")" \
	"Your Certificates: ... with their serial numbers"
diag "People: $(jget "$(ff "$FF" cert-manager "$TEST_TMP/people.png" --tab people)" '[(r["name"], r["token"]) for r in d["shown"]]')"
cas=$(ff "$FF" cert-manager "$ARTIFACTS/firefox-hicos-authorities.png" --tab ca --select "$LABEL")
is "$(jget "$cas" "${on_card//KEY/\"sha256\"}")" \
	"$(json_sorted "$(fingerprint issuing-ca)" "$(fingerprint root-ca)")" \
	"Authorities: the card's issuing and root CA certificates"
is "$(apdus_since "$mark" 'INS=20')" 0 "listing the certificates sent no VERIFY"

# --- login through the PIN prompt: the protected VERIFY -------------------------------------------
mark=$(log_mark)
out=$(ff "$FF" login "$LABEL" --pin-env BAD_PIN --cancel)
is "$(jget "$out" '[d["ok"], d["error"]["name"], [p["action"] for p in d["prompts"]]]')" \
	'[false, "SEC_ERROR_BAD_PASSWORD", ["password", "cancel"]]' \
	"login: a wrong PIN is refused and Firefox asks again (cancelled)"
is "$(vcard_status_get hicos pin_tries)" 2 "login: the wrong PIN cost one try on the card"
out=$(ff "$FF" login "$LABEL" --pin-env PIN --shot "$ARTIFACTS/firefox-hicos-login.png")
is "$(jget "$out" '[d["ok"], [p["text"] for p in d["prompts"]]]')" \
	"[true, [\"Please authenticate to the security device ($LABEL).\"]]" \
	"login: the right PIN typed into the prompt for the card token logs in"
is "$(vcard_status_get hicos pin_tries)" 3 "login: the card's PIN counter is full again"
is "$(apdus_since "$mark" 'INS=20')/$(apdus_since "$mark" 'CLA=8C INS=20 P1=00 P2=01 Lc=32')" 2/2 \
	"login: two VERIFYs reached the card, both protected (8C 20 00 01, 32 bytes)"
out=$(ff "$FF" device-manager "$ARTIFACTS/firefox-hicos-security-devices.png" --select "$LABEL")
is "$(jget "$out" '[v for k, v in d["details"] if k in ("Status", "Label", "Serial Number")]')" \
	"[\"Logged In\", \"$LABEL\", \"$CARD_NUMBER\"]" \
	"Security Devices shows the gen1 card token logged in, with its label and serial"

# --- Change Password: no PIN change command of real cards is public --------------------------------
mark=$(log_mark)
out=$(ff "$FF" change-password "$LABEL" --old-env PIN --new-env NEW_PIN)
# 0x805A1768: NSPR's PR_NOT_IMPLEMENTED_ERROR, what NSS makes of CKR_FUNCTION_NOT_SUPPORTED.
is "$(jget "$out" '[d["ok"], hex(d["error"]["result"])]')" '[false, "0x805a1768"]' \
	"Change Password on the gen1 token fails: not implemented (CKR_FUNCTION_NOT_SUPPORTED)"
is "$(apdus_since "$mark" 'INS=24|INS=2C')" 0 "... and no CHANGE REFERENCE DATA or RESET RETRY COUNTER reached the card"
is "$(vcard_status_get hicos pin_tries)" 3 "... and the PIN's tries are untouched"

# --- TLS client authentication signed by the card --------------------------------------------------
ff "$FF" logout "$LABEL" >/dev/null
mark=$(log_mark)
start_bg tls-server python3 "$P11U_LIB_DIR/tls-server.py" --cert "$TEST_TMP/server/server.pem" \
	--key "$TEST_TMP/server/server.key" --client-ca "$TEST_TMP/card/client-cas.pem" \
	--port-file "$TEST_TMP/tls-server.port" --log "$TEST_TMP/tls-server.jsonl"
wait_for_file "$TEST_TMP/tls-server.port" || bail_out "tls-server.py did not start"
url=https://127.0.0.1:$(cat "$TEST_TMP/tls-server.port")/
page=$(ff "$FF" navigate "$url" --pin-env PIN)
is "$(jget "$page" '[d["uri"], d["title"], [p["action"] for p in d["prompts"]]]')" \
	"[\"$url\", \"Client certificate accepted\", [\"password\"]]" \
	"TLS: the page that requires a client certificate loads, after one PIN prompt"
seen=$(grep -m 1 '"path": "/"' "$TEST_TMP/tls-server.jsonl" 2>/dev/null)
diag "the server saw: $seen"
is "$(jget "$seen" 'd["subject"]')" \
	"$(openssl x509 -in "$TEST_TMP/card/signature.pem" -noout -subject -nameopt sep_comma_plus_space,utf8,-esc_msb |
		sed 's/^subject=//')" "TLS: the server saw the subject of the card's signature certificate"
is "$(jget "$seen" 'd["sha256"]')" \
	"$(openssl x509 -in "$TEST_TMP/card/signature.pem" -outform DER | sha256sum | cut -d' ' -f1)" \
	"TLS: ... and exactly that certificate (SHA-256 of its DER)"
# TLS 1.3 signs the handshake with RSA-PSS only: the card's raw RSA with the module's PSS encoding.
is "$(jget "$seen" 'd["tls"]')" TLSv1.3 "TLS: version 1.3, so the card's key signed with RSA-PSS"
like "$(apdus_since "$mark" 'CLA=80 INS=EA P1=82')/$(apdus_since "$mark" 'CLA=80 INS=EA P1=02')/$(apdus_since "$mark" 'CLA=80 INS=C1')" \
	'^[1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]*$' \
	"TLS: the handshake was signed on the card (80 EA 82, 80 EA 02, 80 C1 in its log)"
ok "TLS: screenshot of the page" ff "$FF" screenshot "$ARTIFACTS/firefox-hicos-client-auth.png"

for png in certificates authorities login security-devices client-auth; do
	ok "screenshot firefox-hicos-$png.png saved as an artifact, a whole window" \
		png_at_least "$ARTIFACTS/firefox-hicos-$png.png" 200 80
done
