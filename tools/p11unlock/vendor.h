/* The module's "Vendor P11UNLOCK" interface (include/p11unlock/p11unlock.h).
 * p11-kit hands out only the standard function list, so the tool reaches the
 * vendor interface through its own dlopen reference to the already loaded
 * module (RTLD_NOLOAD), asking the module's C_GetInterface for it. */
#ifndef P11UNLOCK_TOOL_VENDOR_H
#define P11UNLOCK_TOOL_VENDOR_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "p11unlock/p11unlock.h"

/* P11UNLOCK_CARD_INFO.kind of a p11unlock test card that the module gives no token because its
 * allow_test_cards is off (card_number and card_type filled; the card receives nothing).
 * Proposed for include/p11unlock/p11unlock.h: until the module reports such a card,
 * P11U_GetCardInfo answers CKR_TOKEN_NOT_PRESENT for it and the tool says "No card found". */
#ifndef P11UNLOCK_CARD_TEST_DISABLED
#define P11UNLOCK_CARD_TEST_DISABLED 3UL
#endif

struct module;

void vendor_attach(struct module *module, const char *path);
void vendor_detach(struct module *module);

/* Exact counters from the vendor interface; false when it is not available. */
bool vendor_tries(const struct module *module, CK_SLOT_ID slot, int *pin_tries,
                  int *user_code_tries);

/* P11U_GetCardNumber (1.2) for a slot: a card not read yet is asked for its number alone; false
 * when the module does not offer it or has no number. */
bool vendor_card_number(const struct module *module, CK_SLOT_ID slot, char *number, size_t size);
/* P11U_GetCardInfo for a slot; false when the vendor interface is not available or the module
 * knows no card there. */
bool vendor_card_info(const struct module *module, CK_SLOT_ID slot, CK_ULONG *kind,
                      char *card_number, size_t number_size, char *card_type, size_t type_size);

/* P11U_Login (the VERIFY only when the card's count is tries_seen); false when the vendor
 * interface is not available, and *rv is then untouched.  *nothing_sent: the module says the
 * card went away before the VERIFY was sent. */
bool vendor_login(const struct module *module, CK_SESSION_HANDLE session, CK_USER_TYPE user,
                  const CK_UTF8CHAR *pin, CK_ULONG pin_len, int tries_seen, CK_RV *rv,
                  bool *nothing_sent);

#endif
