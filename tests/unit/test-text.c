/* The sanitizer of untrusted text (src/common/text.c) that the module's token labels and
 * the tool's output both go through: hostile input from a card's certificate or another
 * module must come out as valid UTF-8 without controls or marks that reorder the text. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static void assert_sanitized(const char *in, const char *expected)
{
	char *text = strdup(in);

	assert_non_null(text);
	p11u_text_sanitize(text);
	assert_string_equal(text, expected);
	free(text);
}

/* UTF-8 of cp (any value up to 0x10FFFF, surrogates included: the test builds bad input). */
static size_t encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The rule, written out independently of the code under test. */
static int is_rejected(uint32_t cp)
{
	static const uint32_t marks[] = {
	    0x061C,                                 /* ARABIC LETTER MARK */
	    0x200E, 0x200F,                         /* LRM, RLM */
	    0x2028, 0x2029,                         /* LINE / PARAGRAPH SEPARATOR */
	    0x202A, 0x202B, 0x202C, 0x202D, 0x202E, /* LRE RLE PDF LRO RLO */
	    0x2066, 0x2067, 0x2068, 0x2069,         /* LRI RLI FSI PDI */
	};

	if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F))
		return 1;
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (cp == marks[i])
			return 1;
	return 0;
}

static void test_keeps_text(void **state)
{
	(void)state;
	assert_sanitized("", "");
	assert_sanitized("C=TW, O=ACME Ltd. ~!", "C=TW, O=ACME Ltd. ~!");
	assert_sanitized("組織及團體憑證管理中心 測試", "組織及團體憑證管理中心 測試");
	assert_sanitized("王小明 091349", "王小明 091349");
	assert_sanitized("\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
	/* The neighbours of the rejected marks stay: ZWJ U+200D, HYPHEN U+2010, NNBSP U+202F,
	 * WORD JOINER U+2060, U+206A, NBSP U+00A0. */
	assert_sanitized("a\u200db\u2010c\u202fd\u2060e\u206af\u00a0",
	                 "a\u200db\u2010c\u202fd\u2060e\u206af\u00a0");
}

/* Each rejected code point, alone between two letters: one '?' in its place. */
static void test_each_rejected_code_point(void **state)
{
	static const uint32_t bad[] = {0x01,   0x07,   0x09,   0x0A,   0x0D,   0x1B,   0x1F,
	                               0x7F,   0x80,   0x85,   0x9B,   0x9F,   0x061C, 0x200E,
	                               0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D,
	                               0x202E, 0x2066, 0x2067, 0x2068, 0x2069};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char in[8] = "a";
		size_t n = 1 + encode(bad[i], in + 1);

		in[n] = 'b';
		in[n + 1] = '\0';
		assert_sanitized(in, "a?b");
	}
	/* A label that would read backwards from U+202E on. */
	assert_sanitized("Evil\u202eabc\u200fdef\xc2\x85g 091349", "Evil?abc?def?g 091349");
	assert_sanitized("a\033[2Jb\x7f\n", "a?[2Jb??");
}

/* Every code point: kept exactly when the rule allows it, a single '?' otherwise. */
static void test_every_code_point(void **state)
{
	(void)state;
	for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
		char in[8], out[8];
		size_t n;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		n = encode(cp, in);
		in[n] = '\0';
		memcpy(out, in, n + 1);
		p11u_text_sanitize(out);
		if (is_rejected(cp)) {
			if (strcmp(out, "?") != 0)
				fail_msg("U+%04X kept", (unsigned)cp);
		} else if (strcmp(out, in) != 0) {
			fail_msg("U+%04X replaced", (unsigned)cp);
		}
	}
}

/* Overlong forms: every byte of them becomes '?', so an overlong '/' or control never
 * comes out as one. */
static void test_overlong(void **state)
{
	(void)state;
	assert_sanitized("\xc0\xaf", "??"); /* '/' in 2 bytes */
	assert_sanitized("\xc0\x80", "??"); /* NUL in 2 bytes */
	assert_sanitized("\xc1\xbf", "??"); /* U+007F in 2 bytes */
	assert_sanitized("a\xc0\x8a"
	                 "b",
	                 "a??b");                     /* LF in 2 bytes */
	assert_sanitized("\xe0\x80\xaf", "???");      /* '/' in 3 bytes */
	assert_sanitized("\xe0\x9f\xbf", "???");      /* U+07FF in 3 bytes */
	assert_sanitized("\xf0\x80\x80\xaf", "????"); /* '/' in 4 bytes */
	assert_sanitized("\xf0\x82\x80\xae", "????"); /* U+202E in 4 bytes */
	assert_sanitized("\xf0\x8f\xbf\xbf", "????"); /* U+FFFF in 4 bytes */
	/* The shortest forms of the same values stay. */
	assert_sanitized("\xdf\xbf\xef\xbf\xbf", "\xdf\xbf\xef\xbf\xbf");
}

static void test_surrogates_and_beyond(void **state)
{
	(void)state;
	assert_sanitized("\xed\xa0\x80", "???");                /* U+D800 */
	assert_sanitized("\xed\xbf\xbf", "???");                /* U+DFFF */
	assert_sanitized("\xed\xa0\xbd\xed\xb8\x80", "??????"); /* CESU-8 pair */
	assert_sanitized("\xed\x9f\xbf", "\xed\x9f\xbf");       /* U+D7FF stays */
	assert_sanitized("\xee\x80\x80", "\xee\x80\x80");       /* U+E000 stays */
	assert_sanitized("\xf4\x90\x80\x80", "????");           /* U+110000 */
	assert_sanitized("\xf7\xbf\xbf\xbf", "????");           /* U+1FFFFF */
	assert_sanitized("a\xf8\x88\x80\x80\x80"
	                 "b",
	                 "a?????b"); /* 5-byte form */
	assert_sanitized("\xfe\xff", "??");
}

/* A sequence cut short costs its own bytes only: the character after it stays. */
static void test_truncated(void **state)
{
	(void)state;
	assert_sanitized("\xe7\xb5", "??");
	assert_sanitized("\xe7\xb5"
	                 "A",
	                 "??A");
	assert_sanitized("\xf0\x9f\x98", "???");
	assert_sanitized("x\xc3", "x?");
	assert_sanitized("\xc3\xe7\xb5\x84", "?組");
	assert_sanitized("\x80\xbf"
	                 "a",
	                 "??a"); /* continuation bytes without a lead */
	assert_sanitized("組\xe7", "組?");
}

/* p11u_utf8_decode's boundaries. */
static void test_decode(void **state)
{
	static const struct {
		const char *bytes;
		size_t len, want;
		uint32_t cp;
	} cases[] = {
	    {"A", 1, 1, 0x41},
	    {"\xc2\x80", 2, 2, 0x80},
	    {"\xdf\xbf", 2, 2, 0x7FF},
	    {"\xe0\xa0\x80", 3, 3, 0x800},
	    {"\xef\xbf\xbf", 3, 3, 0xFFFF},
	    {"\xf0\x90\x80\x80", 4, 4, 0x10000},
	    {"\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF},
	    {"\xe7\xb5\x84", 2, 0, 0}, /* len cuts it */
	    {"A", 0, 0, 0},
	    {"\xc1\x81", 2, 0, 0},
	    {"\xe0\x81\x81", 3, 0, 0},
	    {"\xf0\x81\x81\x81", 4, 0, 0},
	    {"\xed\xa0\x80", 3, 0, 0},
	    {"\xf4\x90\x80\x80", 4, 0, 0},
	    {"\xe7\x35\x84", 3, 0, 0}, /* not a continuation byte */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t cp = 0;
		size_t got =
		    p11u_utf8_decode((const unsigned char *)cases[i].bytes, cases[i].len, &cp);

		assert_int_equal(got, cases[i].want);
		if (got > 0)
			assert_int_equal(cp, cases[i].cp);
	}
}

/* Random bytes: the output never grows, decodes completely and holds nothing rejected. */
static void test_random_bytes(void **state)
{
	uint32_t seed = 0x5EED1234;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		unsigned char buf[24];
		size_t in_len = 1 + (size_t)round % (sizeof buf - 1), len;

		for (size_t i = 0; i < in_len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (unsigned char)(seed >> 16);
			/* More lead and continuation bytes than uniform bytes give. */
			if (buf[i] == 0)
				buf[i] = 0x80;
		}
		buf[in_len] = '\0';
		p11u_text_sanitize((char *)buf);
		len = strlen((const char *)buf);
		assert_true(len <= in_len);
		for (size_t pos = 0; pos < len;) {
			uint32_t cp;
			size_t n = p11u_utf8_decode(buf + pos, len - pos, &cp);

			assert_true(n > 0);
			assert_false(is_rejected(cp));
			pos += n;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keeps_text),
	    cmocka_unit_test(test_each_rejected_code_point),
	    cmocka_unit_test(test_every_code_point),
	    cmocka_unit_test(test_overlong),
	    cmocka_unit_test(test_surrogates_and_beyond),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
