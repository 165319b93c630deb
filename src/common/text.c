/* The sanitizer of untrusted text (see text.h). */
#include "config.h"

#include "common/text.h"

#include <stdbool.h>
#include <string.h>

size_t p11u_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t need;
	uint32_t min, value;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2, min = 0x80, value = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3, min = 0x800, value = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4, min = 0x10000, value = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		value = (value << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms could hide a '/' or a control from a byte-wise check. */
	if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
		return 0;
	*cp = value;
	return need;
}

/* Controls, and the invisible marks that reorder or hide text on screen (bidirectional
 * embeddings, overrides and isolates, line and paragraph separators): a label or a DN
 * with them could show another card number or holder than the one it has. */
static bool is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void p11u_text_sanitize(char *s)
{
	unsigned char *in = (unsigned char *)s;
	char *out = s;
	size_t len = strlen(s);

	while (len > 0) {
		uint32_t cp;
		size_t n = p11u_utf8_decode(in, len, &cp);
		if (n == 0 || is_unsafe(cp)) {
			*out++ = '?';
			n = n == 0 ? 1 : n;
		} else {
			memmove(out, in, n);
			out += n;
		}
		in += n;
		len -= n;
	}
	*out = '\0';
}
