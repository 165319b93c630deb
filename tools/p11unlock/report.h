/* The card list and one card's status, as text in the current language or as JSON
 * (language-independent keys, ISO dates, counters as numbers or null). */
#ifndef P11UNLOCK_TOOL_REPORT_H
#define P11UNLOCK_TOOL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "token.h"

/* "3 tries left", "OK", "locked", ... in the current language.  A new string (free it). */
char *tries_text(const struct tries *tries, bool is_pin);

/* One card as an indented block headed "[index] Card number: XC...".  verbose: also the
 * PKCS#11 slot of the reader and the card type (jargon a holder does not need). */
void report_card_text(FILE *out, size_t index, const struct card *card, bool verbose);

void report_list_text(FILE *out, const struct card_list *list, bool verbose);
void report_list_json(FILE *out, const struct card_list *list);
void report_card_json(FILE *out, const struct card *card);

#endif
