#!/bin/bash
# OpenSSH with the card: ssh-keygen -D lists the card's signature key (the same key as the
# signature certificate's), and ssh-agent with the module added (ssh-add -s, PIN through
# SSH_ASKPASS, never in argv) signs with it: `ssh-keygen -Y sign` through the agent, checked by
# `ssh-keygen -Y verify`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11.sh"

require_rig
require_module
require_cmd ssh-keygen openssh-client
require_cmd ssh-agent openssh-client

plan 7

rig_up
p11_setup
card_create carol --pin 123456 --key-bits 2048
card_insert 0 carol
cd "$TEST_TMP" || bail_out "no $TEST_TMP"

# The signature key as ssh sees it, from the certificate the card holds.
p11t --read-object --type cert --id 5349474e -o sign.der >/dev/null
openssl x509 -inform der -in sign.der -pubkey -noout >sign.pem
want=$(ssh-keygen -i -m PKCS8 -f sign.pem | cut -d' ' -f1-2)

keys=$(ssh-keygen -D "$MODULE" 2>/dev/null)
is "$(grep -cxF "$want Signature key" <<<"$keys")" 1 "ssh-keygen -D lists the signature key, labelled"
like "$keys" " Encryption key$" "ssh-keygen -D lists the encryption key"

# ssh-agent with the module (its own socket; -P allows the build tree's module path).
eval "$(ssh-agent -s -a "$TEST_TMP/agent.sock" -P '/*')" >/dev/null
at_exit kill "$SSH_AGENT_PID"
# shellcheck disable=SC2016 # the variable is for the askpass script to expand
printf '#!/bin/sh\necho "$P11U_SSH_PIN"\n' >askpass
chmod 700 askpass
out=$(P11U_SSH_PIN=123456 SSH_ASKPASS=$TEST_TMP/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none \
	ssh-add -s "$MODULE" </dev/null 2>&1)
like "$out" "Card added: $MODULE" "ssh-add -s loads the card into ssh-agent (PIN through SSH_ASKPASS)"
is "$(ssh-add -L | grep -cxF "$want Signature key")" 1 "the agent holds the card's signature key"

printf '%s Signature key\n' "$want" >key.pub
printf 'signed through ssh-agent by the card\n' >data
out=$(ssh-keygen -Y sign -f key.pub -n p11unlock-test data 2>&1)
like "$out" "Write signature to data.sig" "ssh-keygen -Y sign with the card key through the agent"
printf 'card %s\n' "$want" >allowed
out=$(ssh-keygen -Y verify -f allowed -I card -n p11unlock-test -s data.sig <data 2>&1)
like "$out" "^Good \"p11unlock-test\" signature for card with RSA key" "ssh-keygen -Y verify accepts the signature"
is "$(vcard_status_get carol pin_tries)" 3 "the card's PIN counter is full (the agent logged in once, right)"
