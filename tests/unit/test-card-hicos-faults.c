/* Hostile real cards: directory files with wrong lengths, truncated or malformed DER, paths
 * outside EF 08F2, lengths beyond the file, key records of the wrong size, garbage.  Each card
 * is read as a partial token (what is well-formed is kept) or not at all, never with a crash or
 * an out-of-bounds read (the sanitizer build runs this test too).  Then the parser on its own. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "card/card-int.h"
#include "card/pkcs15.h"
#include "test-card-transport.h"

static char *dir;

static int group_setup(void **state)
{
	struct vcard_params params = {.variant = VCARD_VARIANT_GEN1};
	char path[PATH_MAX], err[512] = "";

	(void)state;
	dir = test_dir_new();
	snprintf(path, sizeof path, "%s/gen1.state", dir);
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create: %s", err);
	params.variant = VCARD_VARIANT_GEN2;
	snprintf(path, sizeof path, "%s/gen2.state", dir);
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create: %s", err);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_dir_remove(dir);
	return 0;
}

/* A gen1 card whose EF fid holds data (len bytes), opened: the result, the card in *out. */
static enum p11u_card_rv open_with(const char *template_name, uint16_t fid, const uint8_t *data,
                                   size_t len, struct test_card **tc, struct p11u_card **out)
{
	char err[256];

	*tc = test_card_load(dir, template_name, "card.state", false);
	if (data != NULL)
		assert_int_equal(vcard_set_file((*tc)->vcard, fid, data, len, err, sizeof err), 0);
	return p11u_card_open(&(*tc)->transport, (*tc)->atr, (*tc)->atr_len, out);
}

static void close_card(struct test_card *tc, struct p11u_card *card)
{
	p11u_card_free(card);
	assert_int_equal(tc->depth, 0);
	test_card_free(tc);
}

/* Appends the two-byte little-endian content length the directory files end with. */
static size_t with_trailer(uint8_t *file, size_t content_len)
{
	file[content_len] = (uint8_t)content_len;
	file[content_len + 1] = (uint8_t)(content_len >> 8);
	return content_len + 2;
}

/* One CDF entry naming `path` (hex bytes) at index 0x1500, length `length`. */
static size_t cdf_entry(uint8_t *out, const uint8_t *path, size_t path_len, uint16_t length)
{
	uint8_t *p = out;
	const size_t pc = 2 + path_len + 4 + 4; /* Path: path, index, length */

	*p++ = 0x30;
	*p++ = (uint8_t)(16 + pc);
	*p++ = 0x30; /* common: empty */
	*p++ = 0x00;
	*p++ = 0x30; /* class: id "SIGN" */
	*p++ = 0x06;
	memcpy(p, "\x04\x04SIGN", 6);
	p += 6;
	*p++ = 0xA1;
	*p++ = (uint8_t)(4 + pc);
	*p++ = 0x30; /* X509CertificateAttributes */
	*p++ = (uint8_t)(2 + pc);
	*p++ = 0x30; /* Path */
	*p++ = (uint8_t)pc;
	*p++ = 0x04;
	*p++ = (uint8_t)path_len;
	memcpy(p, path, path_len);
	p += path_len;
	memcpy(p, "\x02\x02\x15\x00", 4); /* index 0x1500 */
	p += 4;
	*p++ = 0x80;
	*p++ = 0x02;
	*p++ = (uint8_t)(length >> 8);
	*p++ = (uint8_t)length;
	return (size_t)(p - out);
}

static size_t n_certs(const struct p11u_card *card)
{
	return p11u_card_info(card)->dir->n_certs;
}

/* The CDF's trailer says more than the file holds, or the file is one byte: no certificates,
 * the rest of the card read. */
static void test_wrong_content_length(void **state)
{
	static const uint8_t too_long[] = {0x30, 0x00, 0x10, 0x00}; /* 16 bytes said, 2 there */
	static const uint8_t one_byte[] = {0x00};
	struct test_card *tc;
	struct p11u_card *card;
	(void)state;

	assert_int_equal(open_with("gen1.state", 0x4104, too_long, sizeof too_long, &tc, &card),
	                 P11U_CARD_OK);
	assert_int_equal(n_certs(card), 0);
	assert_int_equal(p11u_card_info(card)->dir->n_keys, 4); /* from the key records */
	close_card(tc, card);
	assert_int_equal(open_with("gen1.state", 0x4104, one_byte, sizeof one_byte, &tc, &card),
	                 P11U_CARD_OK);
	assert_int_equal(n_certs(card), 0);
	close_card(tc, card);
	assert_int_equal(open_with("gen1.state", 0x4100, NULL, 0, &tc, &card), P11U_CARD_OK);
	close_card(tc, card);
}

/* Cut short: every length that ends inside an entry.  The entries before the cut are kept. */
static void test_truncated_der(void **state)
{
	static const uint8_t path[] = {0x3F, 0x00, 0x50, 0x30, 0x08, 0xF2};
	uint8_t file[256];
	size_t entry = cdf_entry(file, path, sizeof path, 0x0700);
	(void)state;

	memcpy(file + entry, file, entry); /* two entries */
	for (size_t cut = 0; cut <= 2 * entry; cut++) {
		uint8_t copy[258];
		struct test_card *tc;
		struct p11u_card *card;

		memcpy(copy, file, cut);
		assert_int_equal(
		    open_with("gen1.state", 0x4104, copy, with_trailer(copy, cut), &tc, &card),
		    P11U_CARD_OK);
		assert_int_equal(n_certs(card), cut < entry ? 0 : cut < 2 * entry ? 1 : 2);
		close_card(tc, card);
	}
}

/* A certificate path that leaves EF 08F2 (another EF, another DF, a deeper path) is skipped; so
 * is one whose offset and length run past the file or past what a certificate may be. */
static void test_paths_outside_08f2(void **state)
{
	static const struct {
		uint8_t path[8];
		size_t len;
		uint16_t length;
		size_t certs;
	} cases[] = {
	    {{0x3F, 0x00, 0x50, 0x30, 0x08, 0xF2}, 6, 0x0700, 1}, /* the right one */
	    {{0x50, 0x30, 0x08, 0xF2}, 4, 0x0700, 1},             /* relative to the MF */
	    {{0x08, 0xF2}, 2, 0x0700, 1},                         /* relative to DF 5030 */
	    {{0x3F, 0x00, 0x50, 0x30, 0x08, 0x11}, 6, 0x0700, 0}, /* the key records */
	    {{0x3F, 0x00, 0x50, 0x30, 0x41, 0x04}, 6, 0x0700, 0}, /* the CDF itself */
	    {{0x3F, 0x00, 0x09, 0x00, 0x08, 0xF2}, 6, 0x0700, 0}, /* another DF */
	    {{0x3F, 0x00, 0x08, 0xF2}, 4, 0x0700, 0},             /* the MF */
	    {{0x3F, 0x00, 0x50, 0x30, 0x50, 0x30, 0x08, 0xF2}, 8, 0x0700, 0},
	    {{0x3F, 0x00, 0x50, 0x30, 0x08, 0xF2}, 6, 0x0003, 0}, /* shorter than a header */
	    {{0x3F, 0x00, 0x50, 0x30, 0x08, 0xF2}, 6, 0x0100, 0}, /* shorter than the cert */
	    {{0x3F, 0x00, 0x50, 0x30, 0x08, 0xF2}, 6, 0x7FFF, 0}, /* more than a certificate */
	};
	(void)state;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t file[256];
		struct test_card *tc;
		struct p11u_card *card;
		size_t len = cdf_entry(file, cases[c].path, cases[c].len, cases[c].length);

		assert_int_equal(
		    open_with("gen1.state", 0x4104, file, with_trailer(file, len), &tc, &card),
		    P11U_CARD_OK);
		if (n_certs(card) != cases[c].certs)
			fail_msg("case %zu: %zu certificates, %zu expected", c, n_certs(card),
			         cases[c].certs);
		close_card(tc, card);
	}
}

/* gen2: paths start at the applet (7FFF); the same limits apply. */
static void test_gen2_paths(void **state)
{
	static const struct {
		uint8_t path[6];
		size_t len;
		size_t certs;
	} cases[] = {
	    {{0x7F, 0xFF, 0x50, 0x30, 0x08, 0xF2}, 6, 1}, /* the right one */
	    {{0x08, 0xF2}, 2, 1},                         /* relative to DF 5030 */
	    {{0x7F, 0xFF, 0x50, 0x30, 0x08, 0x11}, 6, 0}, /* the key records */
	    {{0x7F, 0xFF, 0x08, 0xF2}, 4, 0},             /* the applet, not DF 5030 */
	    {{0x7F, 0xFF, 0x09, 0x00, 0x08, 0xF2}, 6, 0}, /* another DF */
	};
	(void)state;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t file[256];
		struct test_card *tc;
		struct p11u_card *card;
		size_t len = cdf_entry(file, cases[c].path, cases[c].len, 0x0700);

		assert_int_equal(
		    open_with("gen2.state", 0x4104, file, with_trailer(file, len), &tc, &card),
		    P11U_CARD_OK);
		if (n_certs(card) != cases[c].certs)
			fail_msg("case %zu: %zu certificates, %zu expected", c, n_certs(card),
			         cases[c].certs);
		close_card(tc, card);
	}
}

/* One DODF entry (label "X") whose value is `path`, with a length when length >= 0. */
static size_t dodf_entry(uint8_t *out, const uint8_t *path, size_t path_len, int length)
{
	const size_t pc = 2 + path_len + (length >= 0 ? 4 : 0); /* Path: path, [length] */
	uint8_t *p = out;

	*p++ = 0x30;
	*p++ = (uint8_t)(5 + 2 + 4 + pc);
	memcpy(p, "\x30\x03\x0C\x01X", 5); /* common: label */
	p += 5;
	*p++ = 0x30; /* class: empty */
	*p++ = 0x00;
	*p++ = 0xA1;
	*p++ = (uint8_t)(2 + pc);
	*p++ = 0x30; /* Path */
	*p++ = (uint8_t)pc;
	*p++ = 0x04;
	*p++ = (uint8_t)path_len;
	memcpy(p, path, path_len);
	p += path_len;
	if (length >= 0) {
		*p++ = 0x80;
		*p++ = 0x02;
		*p++ = (uint8_t)(length >> 8);
		*p++ = (uint8_t)length;
	}
	return (size_t)(p - out);
}

/* Data objects: a value in the key records or in another DF is never read, one whose length
 * runs past its file is dropped; the card is read all the same.  (EF 4108 holds 32 bytes.) */
static void test_data_object_paths(void **state)
{
	static const struct {
		const char *card;
		uint8_t path[6];
		int length;
		size_t n_data, len;
	} cases[] = {
	    {"gen1.state", {0x3F, 0x00, 0x50, 0x30, 0x41, 0x08}, -1, 1, 32}, /* the whole EF */
	    {"gen1.state", {0x3F, 0x00, 0x50, 0x30, 0x41, 0x08}, 16, 1, 16}, /* a part */
	    {"gen1.state", {0x3F, 0x00, 0x50, 0x30, 0x41, 0x08}, 64, 0, 0},  /* past the end */
	    {"gen1.state", {0x3F, 0x00, 0x50, 0x30, 0x08, 0x11}, -1, 0, 0},  /* key records */
	    {"gen1.state", {0x3F, 0x00, 0x50, 0x30, 0x08, 0x10}, 16, 0, 0},  /* key file */
	    {"gen1.state", {0x3F, 0x00, 0x09, 0x00, 0x09, 0x03}, -1, 0, 0},  /* another DF */
	    {"gen2.state", {0x7F, 0xFF, 0x50, 0x30, 0x41, 0x08}, -1, 1, 32},
	    {"gen2.state", {0x7F, 0xFF, 0x50, 0x30, 0x08, 0x11}, -1, 0, 0},
	};
	(void)state;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t file[64];
		struct test_card *tc;
		struct p11u_card *card;
		const struct p11u_card_dir *d;
		size_t len = dodf_entry(file, cases[c].path, sizeof cases[c].path, cases[c].length);

		assert_int_equal(
		    open_with(cases[c].card, 0x4107, file, with_trailer(file, len), &tc, &card),
		    P11U_CARD_OK);
		d = p11u_card_info(card)->dir;
		if (d->n_data != cases[c].n_data ||
		    (d->n_data == 1 && d->data[0].len != cases[c].len))
			fail_msg("case %zu: %zu data objects (%zu bytes), %zu expected", c,
			         d->n_data, d->n_data ? d->data[0].len : 0, cases[c].n_data);
		assert_int_equal(n_certs(card), 4); /* the rest of the card is read */
		close_card(tc, card);
	}
}

/* READ RECORD answers of the wrong size (or naming another record): the key has no public key,
 * so it gets no object and cannot be used; the card is still read. */
static void hook_record_size(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                             uint8_t *resp, size_t *resp_len, size_t cap)
{
	const intptr_t how = (intptr_t)tc->hook_data;

	if (cmd_len < 2 || cmd[1] != 0xB2 || *resp_len < 3)
		return;
	if (how == 0 || how == 1) { /* one byte short, one byte long */
		size_t data = *resp_len - 2 + (how == 1 ? 1 : 0) - (how == 0 ? 1 : 0);
		if (data + 2 > cap)
			return;
		resp[data] = 0x90;
		resp[data + 1] = 0x00;
		*resp_len = data + 2;
	} else if (how == 2) {
		resp[0] ^= 0x01; /* another record number */
	} else {
		resp[5] = 0x01; /* the exponent record not laid out as one */
	}
}

static void test_records_wrong_size(void **state)
{
	static const uint8_t empty_cdf[] = {0x00, 0x00};
	(void)state;

	for (intptr_t how = 0; how <= 3; how++) {
		struct test_card *tc;
		struct p11u_card *card;
		char err[256];
		uint8_t in[256] = {0}, out[256];
		size_t out_len = sizeof out;

		tc = test_card_load(dir, "gen1.state", "card.state", false);
		assert_int_equal(vcard_set_file(tc->vcard, 0x4104, empty_cdf, 2, err, sizeof err),
		                 0);
		tc->hook = hook_record_size;
		tc->hook_data = (void *)how;
		assert_int_equal(p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card),
		                 P11U_CARD_OK);
		for (size_t i = 0; i < p11u_card_info(card)->dir->n_keys; i++)
			assert_null(p11u_card_info(card)->dir->keys[i].modulus);
		p11u_card_enable_real_login(card, true);
		assert_false(p11u_card_has_security_ops(card)); /* no usable key: no login */
		assert_int_equal(p11u_card_sign(card, 0x01, P11U_RSA_RAW, in, 256, out, &out_len),
		                 P11U_CARD_E_ARGS);
		close_card(tc, card);
	}
}

/* Directory files of random bytes, of every size up to the limit and just beyond it. */
static void test_garbage_directories(void **state)
{
	static const uint16_t fids[] = {0x4100, 0x4101, 0x4104, 0x4107};
	static uint8_t junk[4096];
	(void)state;

	for (int round = 0; round < 24; round++) {
		struct test_card *tc;
		struct p11u_card *card;
		size_t len = (size_t)(round * 331) % sizeof junk;
		char err[256];

		assert_true(RAND_bytes(junk, sizeof junk) == 1);
		if (round % 3 == 0 && len >= 2) /* a believable trailer */
			with_trailer(junk, len - 2);
		tc = test_card_load(dir, round % 2 ? "gen2.state" : "gen1.state", "card.state",
		                    round % 4 == 3);
		for (size_t i = 0; i < sizeof fids / sizeof fids[0]; i++)
			assert_int_equal(
			    vcard_set_file(tc->vcard, fids[i], junk, len, err, sizeof err), 0);
		if (p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card) == P11U_CARD_OK)
			close_card(tc, card);
		else
			test_card_free(tc);
	}
}

/* ---- the parser alone ---------------------------------------------------------------------- */

static size_t parse(enum p11u_dir_file which, const uint8_t *content, size_t len,
                    struct p11u_dir_entry *e)
{
	return p11u_dir_parse(which, content, len, e, P11U_DIR_OBJECTS_MAX);
}

static void test_parser_lengths(void **state)
{
	struct p11u_dir_entry e[P11U_DIR_OBJECTS_MAX];
	size_t content;
	(void)state;

	/* The trailer. */
	assert_false(p11u_dir_content((const uint8_t *)"\x05", 1, &content));
	assert_false(p11u_dir_content((const uint8_t *)"\x00\x03\x00", 3, &content));
	assert_true(p11u_dir_content((const uint8_t *)"\x30\x01\x00", 3, &content));
	assert_int_equal(content, 1);
	assert_false(p11u_dir_content(NULL, 0, &content));

	/* Outer lengths that do not fit, long forms, indefinite length, multi-byte tags. */
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x30\x05\x30\x00", 4, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x30\x81", 2, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x30\x82\xFF", 3, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x30\x80\x00\x00", 4, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x30\x83\x00\x00\x01\x00", 6, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x3F\x01\x00\x00", 4, e), 0);
	/* An inner length beyond its parent: the entry is skipped, the next one parsed. */
	static const uint8_t inner[] = {
	    0x30, 0x04, 0x30, 0x09, 0x00, 0x00, /* common says 9, the entry has 2 */
	    0x30, 0x15, 0x30, 0x00, 0x30, 0x03, 0x04, 0x01, 0x41, 0xA1, 0x0C, 0x30,
	    0x0A, 0x30, 0x08, 0x04, 0x02, 0x08, 0xF2, 0x02, 0x02, 0x15, 0x00,
	};
	assert_int_equal(parse(P11U_DIR_CDF, inner, sizeof inner, e), 1);
	assert_int_equal(e[0].name.id_len, 1);
	assert_int_equal(e[0].path.index, 0x1500);
	assert_false(e[0].path.has_length);
	/* Padding ends the content. */
	assert_int_equal(parse(P11U_DIR_CDF, (const uint8_t *)"\x00\x30\x80", 3, e), 0);
	assert_int_equal(parse(P11U_DIR_CDF, NULL, 12, e), 0);
}

static void test_parser_fields(void **state)
{
	/* A PrKDF entry: label with a control character and a right-to-left override, private,
	 * id "SIGN", usage sign + nonRepudiation, native, accessFlags, keyReference 0x81, path
	 * 3F00 5030 0810, modulusLength 2048. */
	static const uint8_t key[] = {
	    0x30, 0x3A, 0x30, 0x0E, 0x0C, 0x08, 0x53, 0x69, 0x67, 0x07, 0xE2, 0x80,
	    0xAE, 0x78, 0x03, 0x02, 0x07, 0x80, 0x30, 0x15, 0x04, 0x04, 0x53, 0x49,
	    0x47, 0x4E, 0x03, 0x03, 0x06, 0x20, 0x40, 0x01, 0x01, 0xFF, 0x03, 0x01,
	    0x00, 0x02, 0x02, 0x00, 0x81, 0xA1, 0x11, 0x30, 0x0F, 0x30, 0x08, 0x04,
	    0x06, 0x3F, 0x00, 0x50, 0x30, 0x08, 0x10, 0x02, 0x03, 0x00, 0x08, 0x00,
	};
	struct p11u_dir_entry e[P11U_DIR_OBJECTS_MAX];
	uint8_t bad[sizeof key];
	(void)state;

	assert_int_equal(parse(P11U_DIR_PRKDF, key, sizeof key, e), 1);
	assert_string_equal(e[0].name.label, "Sig??x"); /* made safe to show */
	assert_true(e[0].private_object);
	assert_memory_equal(e[0].name.id, "SIGN", 4);
	assert_int_equal(e[0].usage, P11U_USAGE_SIGN | P11U_USAGE_NON_REPUDIATION);
	assert_int_equal(e[0].keyref, 0x81);
	assert_int_equal(e[0].path.n_fids, 3);
	assert_int_equal(e[0].path.fids[2], 0x0810);
	assert_int_equal(e[0].modulus_bits, 2048);

	/* A key reference beyond one byte, an empty id, an odd path: the entry is refused. */
	memcpy(bad, key, sizeof key);
	bad[39] = 0x01; /* keyReference 0x0181 */
	assert_int_equal(parse(P11U_DIR_PRKDF, bad, sizeof key, e), 0);
	memcpy(bad, key, sizeof key);
	bad[47] = 0x05; /* path of 5 bytes */
	assert_int_equal(parse(P11U_DIR_PRKDF, bad, sizeof key, e), 0);
	/* The same bytes as a CDF entry: a certificate at EF 0810, which the reader refuses (the
	 * parser only says where). */
	assert_int_equal(parse(P11U_DIR_CDF, key, sizeof key, e), 1);
	assert_int_equal(e[0].path.fids[2], 0x0810);
	assert_false(e[0].authority);
	/* More entries than kept. */
	uint8_t many[40 * sizeof key];
	size_t n = 0;
	for (int i = 0; i < 40; i++, n += sizeof key)
		memcpy(many + n, key, sizeof key);
	assert_int_equal(parse(P11U_DIR_PRKDF, many, n, e), P11U_DIR_OBJECTS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrong_content_length), cmocka_unit_test(test_truncated_der),
	    cmocka_unit_test(test_paths_outside_08f2),   cmocka_unit_test(test_gen2_paths),
	    cmocka_unit_test(test_data_object_paths),    cmocka_unit_test(test_records_wrong_size),
	    cmocka_unit_test(test_garbage_directories),  cmocka_unit_test(test_parser_lengths),
	    cmocka_unit_test(test_parser_fields),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
