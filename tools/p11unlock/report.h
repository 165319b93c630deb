/* The card list and one card's status, as text in the current language or as JSON
 * (language-independent keys, ISO dates, counters as numbers or null). */
#ifndef P11UNLOCK_TOOL_REPORT_H
#define P11UNLOCK_TOOL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "token.h"

/* "3 tries left", "OK", "locked", ... in the current language. */
void tries_text(const struct tries *tries, bool is_pin, char *out, size_t size);

/* One card as an indented block headed "[index] Card XC... (slot N)". */
void report_card_text(FILE *out, size_t index, const struct card *card);

void report_list_text(FILE *out, const struct card_list *list);
void report_list_json(FILE *out, const struct card_list *list);
void report_card_json(FILE *out, const struct card *card);

#endif
