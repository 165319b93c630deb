/* fuzz-text: the sanitizer of untrusted text (src/common/text.h), against a decoder written
 * differently here.  Checked: p11u_utf8_decode accepts exactly the shortest encodings of
 * scalar values (no overlong form, surrogate, or value over U+10FFFF); p11u_text_sanitize never
 * grows the text, leaves valid UTF-8 without controls, bidi or line separator marks, keeps every
 * safe character and puts one '?' for each unsafe one or invalid byte, and is idempotent. */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "fuzz-script.h"

static size_t encode(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/* The reference: the sequence at s is valid when some scalar value encodes to exactly it. */
static size_t reference_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	int ones = 0;
	uint32_t value;
	uint8_t again[4];

	if (len == 0)
		return 0;
	while (ones < 8 && (s[0] & (0x80 >> ones)))
		ones++;
	if (ones == 0) {
		*cp = s[0];
		return 1;
	}
	if (ones < 2 || ones > 4 || len < (size_t)ones)
		return 0;
	value = s[0] & (0x7F >> ones);
	for (int i = 1; i < ones; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		value = value << 6 | (s[i] & 0x3F);
	}
	if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
		return 0;
	if (encode(value, again) != (size_t)ones || memcmp(again, s, (size_t)ones) != 0)
		return 0;
	*cp = value;
	return (size_t)ones;
}

static bool unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
	       cp == 0x200F || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *expected = malloc(size + 1), *again;
	size_t in_len, out_len, e = 0;

	FUZZ_CHECK(text != NULL && expected != NULL, "out of memory");

	/* The decoder at every offset of the raw bytes, NULs included. */
	for (size_t i = 0; i < size; i++) {
		uint32_t cp = 0, ref_cp = 0;
		size_t n = p11u_utf8_decode(data + i, size - i, &cp);
		size_t ref = reference_decode(data + i, size - i, &ref_cp);

		FUZZ_CHECK(n == ref, "offset %zu: decoded %zu bytes, expected %zu", i, n, ref);
		FUZZ_CHECK(n == 0 || cp == ref_cp, "offset %zu: U+%X, expected U+%X", i,
		           (unsigned)cp, (unsigned)ref_cp);
	}

	memcpy(text, data, size);
	text[size] = '\0';
	in_len = strlen(text);
	/* What the sanitizer must produce, by the reference decoder. */
	for (size_t i = 0; i < in_len;) {
		uint32_t cp;
		size_t n = reference_decode((const uint8_t *)text + i, in_len - i, &cp);

		if (n == 0 || unsafe(cp)) {
			expected[e++] = '?';
			i += n == 0 ? 1 : n;
		} else {
			memcpy(expected + e, text + i, n);
			e += n;
			i += n;
		}
	}
	expected[e] = '\0';

	p11u_text_sanitize(text);
	out_len = strlen(text);
	FUZZ_CHECK(out_len <= in_len, "sanitized text grew from %zu to %zu bytes", in_len, out_len);
	FUZZ_CHECK(strcmp(text, expected) == 0, "sanitized text differs from the reference");
	for (size_t i = 0; i < out_len;) {
		uint32_t cp;
		size_t n = reference_decode((const uint8_t *)text + i, out_len - i, &cp);

		FUZZ_CHECK(n > 0, "invalid UTF-8 left at byte %zu", i);
		FUZZ_CHECK(!unsafe(cp), "U+%04X left at byte %zu", (unsigned)cp, i);
		i += n;
	}
	again = strdup(text);
	FUZZ_CHECK(again != NULL, "out of memory");
	p11u_text_sanitize(again);
	FUZZ_CHECK(strcmp(again, text) == 0, "sanitizing twice changes the text");
	free(again);
	free(expected);
	free(text);
	return 0;
}
