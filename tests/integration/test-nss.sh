#!/bin/bash
# NSS's command-line tools (libnss3-tools) with the module in an NSS database, as Chrome and
# other NSS applications use one: modutil -add / -list show the module and the token;
# certutil -L -h all lists the card's certificates, and on a locked card costs no user-code
# try; modutil -changepw changes the PIN on the card token, and on the user-code token (old
# password = the user code) releases a locked card.  NSS tools read passwords from files
# (-f / -pwfile / -newpwfile): they are written mode 600 into the test's directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"
. "$(dirname "$0")/clients-lib.sh"

require_rig
require_module
require_cmd modutil libnss3-tools
require_cmd certutil libnss3-tools

plan 25

rig_up
p11_setup
card_create alice --pin "$PIN" --user-code "$USER_CODE" --card-number "$CARD_NUMBER"
card_insert 0 alice
card_label 0
UC_TOKEN="用戶代碼 $CARD_NUMBER"
DB=sql:$TEST_TMP/nssdb
mkdir "$TEST_TMP/nssdb"
certutil -N -d "$DB" --empty-password || bail_out "certutil -N failed"

# secret NAME VALUE: a password file for the NSS tools.
secret() {
	(umask 077 && printf '%s\n' "$2" >"$TEST_TMP/$1.pw")
	echo "$TEST_TMP/$1.pw"
}
pin_file=$(secret pin "$PIN")
new_file=$(secret new 246810)
newer_file=$(secret newer 135790)
bad_file=$(secret bad 000000)
uc_file=$(secret uc "$USER_CODE")
bad_uc_file=$(secret bad-uc Zz99zz99)

status() {
	vcard_status_get alice "$1"
}

# APDUs that spend a user-code try, in the card's log from line $1 on.
user_code_apdus_since() {
	tail -n +"$1" "$(card_log alice)" | grep -cE 'INS=2C|INS=20 P1=00 P2=02 Lc=[1-9]'
}

# --- modutil -add / -list ---------------------------------------------------------------------------
out=$(modutil -dbdir "$DB" -add p11unlock -libfile "$MODULE" -force 2>&1)
is "$out" 'Module "p11unlock" added to database.' "modutil -add adds the module"
out=$(modutil -dbdir "$DB" -list 2>&1)
like "$out" "library name: $MODULE" "modutil -list: the module's library"
like "$(grep -A1 "slot: $(reader_name 0)\$" <<<"$out")" "token: $LABEL\$" "modutil -list: the card token in the reader's slot"
like "$out" "uri: pkcs11:token=[^;]*;manufacturer=p11unlock;serial=$CARD_NUMBER;model=P11U%20V1" \
	"modutil -list: the token's PKCS#11 URI (serial and model)"
out=$(modutil -dbdir "$DB" -list p11unlock 2>&1)
like "$out" "Token Name: $LABEL" "modutil -list p11unlock: token name"
like "$out" "Token Serial Number: $CARD_NUMBER" "modutil -list p11unlock: serial number"

# --- certutil -L -h all ---------------------------------------------------------------------------------
out=$(certutil -L -d "$DB" -h all -f "$pin_file" 2>&1)
is "$(grep -c "^$LABEL:" <<<"$out")" 4 "certutil -L -h all lists the card's four certificates"
like "$out" "^$LABEL:Signature certificate +u,u,u" "the signature certificate is a user certificate (its key is on the card)"
like "$out" "^$LABEL:Encryption certificate +u,u,u" "so is the encryption certificate"

# --- modutil -changepw on the card token ------------------------------------------------------------------
out=$(modutil -dbdir "$DB" -changepw "$LABEL" -pwfile "$pin_file" -newpwfile "$new_file" -force 2>&1)
is "$out" "Token \"$LABEL\" password changed successfully." "modutil -changepw changes the PIN"
out=$(modutil -dbdir "$DB" -changepw "$LABEL" -pwfile "$bad_file" -newpwfile "$newer_file" -force 2>&1)
is "$out" "ERROR: Incorrect password." "modutil -changepw with a wrong old PIN: incorrect password"
is "$(status pin_tries)" 2 "the wrong old PIN cost one try"
modutil -dbdir "$DB" -changepw "$LABEL" -pwfile "$new_file" -newpwfile "$newer_file" -force >/dev/null 2>&1
is "$(status pin_tries)" 3 "the right PIN fills the counter again"

# --- a locked card -----------------------------------------------------------------------------------------------
export BAD_PIN=000000
for _ in 1 2 3; do
	p11t --login --pin env:BAD_PIN -O >/dev/null
done
is "$(status pin_blocked)/$(status user_code_tries)" 1/3 "three wrong PINs (pkcs11-tool) block the PIN"
out=$(modutil -dbdir "$DB" -list 2>&1)
like "$(grep -A1 "slot: User code: $(reader_name 0)\$" <<<"$out")" "token: $UC_TOKEN\$" \
	"modutil -list: the user-code token in the reader's user-code slot"
like "$out" "uri: pkcs11:token=[^;]*;manufacturer=p11unlock;serial=$CARD_NUMBER;model=User%20code" \
	"its URI: the card's serial, model \"User code\""

# certutil logs in to every token that needs it, with the password file's content: here a
# wrong user code for the user-code token (accepted without card I/O) and the card token
# (CKR_PIN_LOCKED).
mark=$(($(wc -l <"$(card_log alice)") + 1))
out=$(P11UNLOCK_DEBUG=call certutil -L -d "$DB" -h all -f "$bad_uc_file" 2>"$TEST_TMP/certutil.err")
is "$(grep -c "^$LABEL:" <<<"$out")" 4 "locked: certutil -L -h all still lists the four certificates"
is "$(grep -oE 'C_Login\(session [0-9]+\): [A-Z_]+' "$TEST_TMP/certutil.err" | sed 's/(session [0-9]*)//' | sort | tr '\n' ' ')" \
	"C_Login: CKR_OK C_Login: CKR_PIN_LOCKED " \
	"locked: certutil logged in to both tokens (user-code token: OK; card token: PIN locked)"
is "$(status user_code_tries)" 3 "locked: certutil cost no user-code try"
is "$(user_code_apdus_since "$mark")" 0 "locked: no user-code APDU reached the card"

# --- modutil -changepw on the user-code token ----------------------------------------------------------------
# NSS logs in with the old password (which the user-code token accepts without checking), then
# C_SetPIN checks it on the card: so a wrong user code is reported as a failed change, not as
# an incorrect password.
out=$(modutil -dbdir "$DB" -changepw "$UC_TOKEN" -pwfile "$bad_uc_file" -newpwfile "$new_file" -force 2>&1)
is "$out" "ERROR: Unable to change password on token \"$UC_TOKEN\"." \
	"modutil -changepw with a wrong user code fails"
is "$(status user_code_tries)/$(status pin_blocked)" 2/1 "the wrong user code cost one try; the PIN is still blocked"
out=$(modutil -dbdir "$DB" -changepw "$UC_TOKEN" -pwfile "$uc_file" -newpwfile "$new_file" -force 2>&1)
is "$out" "Token \"$UC_TOKEN\" password changed successfully." \
	"modutil -changepw with the user code as old password releases the lock"
is "$(status pin_blocked)/$(status pin_tries)/$(status user_code_tries)" 0/3/3 "the card: PIN released, counters full"
out=$(certutil -K -d "$DB" -h "$LABEL" -f "$new_file" 2>&1)
like "$(tr '\n' ' ' <<<"$out")" 'rsa +"SIGN" +Signature key .*rsa +"KEYX" +Encryption key' \
	"the new PIN logs in: certutil -K lists the two private keys"
