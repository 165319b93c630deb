/* Text from a card or another module (labels, card numbers, certificate names, reader names)
 * is untrusted.  One sanitizer for the module and the tool: whatever the module shows an
 * application and whatever the tool prints have passed the same rules. */
#ifndef P11U_TEXT_H
#define P11U_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (at most len bytes) and its code point in *cp;
 * 0 when the bytes there are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut). */
size_t p11u_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Makes s safe to show, in place: C0 controls, DEL, C1 controls, the bidirectional marks
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph separators
 * (U+2028, U+2029) and every byte that is not part of valid UTF-8 become '?', one per code
 * point or per invalid byte.  The text never grows and stays valid UTF-8. */
void p11u_text_sanitize(char *s);

#endif
