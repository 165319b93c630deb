/* Text from the card or the module (labels, reader names, certificate DNs) is
 * untrusted: it is sanitized when read, so invalid UTF-8 and control characters
 * never reach a terminal, and escaped again for JSON. */
#ifndef P11UNLOCK_TOOL_TEXT_H
#define P11UNLOCK_TOOL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (at most len bytes) and its code point;
 * 0 when the bytes there are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut). */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Makes s safe for a terminal, in place: C0, DEL, C1 controls, the bidirectional and line
 * separator marks and invalid UTF-8 bytes become '?' (the text never grows). */
void text_sanitize(char *s);

/* Writes s as a JSON string with quotes; invalid UTF-8 becomes U+FFFD. */
void json_write_string(FILE *out, const char *s);

#endif
