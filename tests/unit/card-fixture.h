/* Test fixture: a virtual card personalized into a temporary directory, served
 * in-process by the virtual card's APDU library and opened through the real card
 * layer (no pcscd).  Used by the object and crypto unit tests. */
#ifndef P11U_TEST_CARD_FIXTURE_H
#define P11U_TEST_CARD_FIXTURE_H

#include <openssl/x509.h>

#include "card/card.h"
#include "common/transport.h"
#include "vcard/vcard.h"

struct card_fixture {
	char dir[64]; /* temporary directory: state file and exported certificates */
	struct vcard *vcard;
	struct p11u_transport transport;
	struct p11u_card *card;
};

/* Creates a card with params (NULL: the defaults) and opens it.  Returns 0 on success. */
int card_fixture_open(struct card_fixture *fx, const struct vcard_params *params);
/* Frees everything and removes the temporary directory. */
void card_fixture_close(struct card_fixture *fx);

/* A certificate as the virtual card exported it (PEM in the fixture's directory):
 * "signature", "encryption", "issuing-ca" or "root-ca".  NULL on failure. */
X509 *card_fixture_exported_cert(const struct card_fixture *fx, const char *name);

#endif
