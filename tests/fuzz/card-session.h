/* The card layer alone over the fake reader (fuzz-card-files, and the seed generator that
 * records it): p11u_card_open (card type, card number, certificate store, public keys), then
 * every card operation once.  The card script decides every answer. */
#ifndef P11U_FUZZ_CARD_SESSION_H
#define P11U_FUZZ_CARD_SESSION_H

#include "fuzz-script.h"

void card_session_run(struct fuzz_script *script);

#endif
