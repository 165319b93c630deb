/* The per-user cache of cards' public data, in files: $XDG_CACHE_HOME/p11unlock (else
 * ~/.cache/p11unlock), one file per card number.  `cache = no` in p11unlock.conf turns it off.
 * The card layer decides what is stored and whether a stored entry still matches the card
 * (card/card.h, struct p11u_card_cache); this file only keeps bytes, safely (cache.c). */
#ifndef P11U_PKCS11_CACHE_H
#define P11U_PKCS11_CACHE_H

#include "card/card.h"
#include "pkcs11/conf.h"

/* The cache for p11u_card_open_cached(), or NULL when the configuration turns it off. */
const struct p11u_card_cache *p11u_cache_of(const struct p11u_config *config);

#endif
