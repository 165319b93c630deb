/* Text from the card or the module (labels, reader names, certificate DNs) is
 * untrusted: it is sanitized when read, so invalid UTF-8 and control characters
 * never reach a terminal, and escaped again for JSON.  The rules are the module's
 * (src/common/text.h): what a label may hold is decided in one place. */
#ifndef P11UNLOCK_TOOL_TEXT_H
#define P11UNLOCK_TOOL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/text.h"

/* p11u_utf8_decode(). */
static inline size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	return p11u_utf8_decode(s, len, cp);
}

/* p11u_text_sanitize(): controls, bidirectional and line separator marks and invalid
 * UTF-8 bytes become '?' (the text never grows). */
static inline void text_sanitize(char *s)
{
	p11u_text_sanitize(s);
}

/* Writes s as a JSON string with quotes; invalid UTF-8 becomes U+FFFD. */
void json_write_string(FILE *out, const char *s);

/* printf into a new string, never cut (translated text has no fixed size: a Chinese character
 * takes 3 bytes).  Ends the process when memory runs out.  The caller frees the string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup() that ends the process when memory runs out. */
char *xstrdup(const char *s);

/* Removes one trailing "\n" (translations of messages written with one keep it). */
char *text_chomp(char *s);

#endif
