/* Text from the card or the module (labels, reader names, certificate DNs) on its
 * way to a terminal or to JSON: it is untrusted, so invalid UTF-8 and control
 * characters never reach the output as they are. */
#ifndef P11UNLOCK_TOOL_TEXT_H
#define P11UNLOCK_TOOL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (at most len bytes) and its code point;
 * 0 when the bytes there are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut). */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Writes s for a terminal: C0, DEL, C1 and invalid UTF-8 become '?'. */
void text_write(FILE *out, const char *s);

/* Writes s as a JSON string with quotes; invalid UTF-8 becomes U+FFFD. */
void json_write_string(FILE *out, const char *s);

#endif
