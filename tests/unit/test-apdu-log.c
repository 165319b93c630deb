/* The APDU trace never shows a secret: the data of VERIFY (the protected 8C 20
 * of a first-generation card too: it carries the PIN under a public key), CHANGE
 * REFERENCE DATA and RESET RETRY COUNTER and the plaintext of PSO DECIPHER or of a
 * gen1 card's raw RSA (and the GET RESPONSE after them) appear as lengths only.
 * Checked on the formatter and on the whole P11UNLOCK_DEBUG log of real
 * operations against the virtual card and its gen1 variant. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card/card-int.h"
#include "common/log.h"
#include "test-card-transport.h"

#define PIN       "Qx7#Zk9!"
#define WRONG_PIN "Wr0ng!pw"
#define NEW_PIN   "N3w#Pin8"
#define RESET_PIN "Rst$Pin9"
#define USER_CODE "Uc-Code42x"
#define PLAINTEXT "Pt9:Zq4!Kw2&Hn7@Lm5*Rx8%Vb3^Jd6~" /* 32 bytes, like a session key */

static char *dir;

/* Runs of this many characters of a secret must not appear as text (shorter runs occur in
 * ordinary words, e.g. "de" in "hidden"). */
#define ASCII_WINDOW 4

/* No run of `window` consecutive bytes of secret appears in text as hex (upper or lower case,
 * with or without spaces), and no run of ASCII_WINDOW characters as text. */
static void assert_secret_absent(const char *text, const char *secret, size_t window)
{
	const size_t len = strlen(secret), text_len = strlen(text);

	for (size_t i = 0; i + ASCII_WINDOW <= len; i++)
		if (memmem(text, text_len, secret + i, ASCII_WINDOW) != NULL)
			fail_msg("\"%.*s\" of a secret in: %s", ASCII_WINDOW, secret + i, text);
	for (size_t i = 0; i + window <= len; i++) {
		char spaced[64] = "", joined[64] = "";

		for (size_t j = 0; j < window; j++) {
			char hex[4];

			snprintf(hex, sizeof hex, "%02X", (unsigned char)secret[i + j]);
			strcat(joined, hex);
			if (j > 0)
				strcat(spaced, " ");
			strcat(spaced, hex);
		}
		if (strcasestr(text, spaced) != NULL || strcasestr(text, joined) != NULL)
			fail_msg("%s (bytes of a secret) in: %s", joined, text);
	}
}

/* cmd = header || Lc || data */
static size_t build(uint8_t *cmd, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const uint8_t *data, size_t len)
{
	cmd[0] = cla;
	cmd[1] = ins;
	cmd[2] = p1;
	cmd[3] = p2;
	cmd[4] = (uint8_t)len;
	memcpy(cmd + 5, data, len);
	return 5 + len;
}

/* len a || a || len b || b */
static size_t pair(uint8_t *out, const char *a, const char *b)
{
	size_t n = 0;

	out[n++] = (uint8_t)strlen(a);
	memcpy(out + n, a, strlen(a));
	n += strlen(a);
	out[n++] = (uint8_t)strlen(b);
	memcpy(out + n, b, strlen(b));
	return n + strlen(b);
}

static void test_verify_command_masked(void **state)
{
	uint8_t cmd[64];
	char out[256];
	size_t len = build(cmd, 0x80, 0x20, 0x00, 0x01, (const uint8_t *)PIN, strlen(PIN));

	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 20 00 01 Lc=8 data=<8 bytes hidden>");
	assert_secret_absent(out, PIN, 2);
}

static void test_change_command_masked(void **state)
{
	uint8_t data[32], cmd[64];
	char out[256];
	size_t len = build(cmd, 0x80, 0x24, 0x00, 0x01, data, pair(data, PIN, NEW_PIN));

	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 24 00 01 Lc=18 data=<18 bytes hidden>");
	assert_secret_absent(out, PIN, 2);
	assert_secret_absent(out, NEW_PIN, 2);
}

static void test_reset_command_masked(void **state)
{
	uint8_t data[32], cmd[64];
	char out[256];
	size_t len = build(cmd, 0x80, 0x2C, 0x00, 0x01, data, pair(data, USER_CODE, NEW_PIN));

	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 2C 00 01 Lc=20 data=<20 bytes hidden>");
	assert_secret_absent(out, USER_CODE, 2);
	assert_secret_absent(out, NEW_PIN, 2);
}

/* A chained segment (CLA 0x90) and the odd instruction variants are masked too. */
static void test_chained_and_odd_variants_masked(void **state)
{
	uint8_t cmd[64];
	char out[256];
	size_t len;

	len = build(cmd, 0x90, 0x24, 0x00, 0x01, (const uint8_t *)PIN, strlen(PIN));
	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "90 24 00 01 Lc=8 data=<8 bytes hidden>");
	len = build(cmd, 0x80, 0x21, 0x00, 0x01, (const uint8_t *)PIN, strlen(PIN));
	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 21 00 01 Lc=8 data=<8 bytes hidden>");
	assert_secret_absent(out, PIN, 2);
}

/* The protected VERIFY of a first-generation card: class 8C, the IV and the cryptogram hidden. */
static void test_protected_verify_masked(void **state)
{
	uint8_t data[P11U_HICOS_VERIFY_LC], cmd[64];
	const uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	char out[256], hex[8];
	size_t len;

	assert_true(p11u_hicos_verify_data((const uint8_t *)PIN, strlen(PIN), iv, data));
	len = build(cmd, 0x8C, 0x20, 0x00, 0x01, data, sizeof data);
	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "8C 20 00 01 Lc=32 data=<32 bytes hidden>");
	for (size_t i = 0; i < sizeof data; i++) {
		snprintf(hex, sizeof hex, "%02X %02X", data[i], data[(i + 1) % sizeof data]);
		assert_null(strstr(out + strlen("8C 20 00 01 "), hex));
	}
}

/* A malformed secret command shows no data at all. */
static void test_malformed_secret_command_masked(void **state)
{
	uint8_t cmd[64];
	char out[256];
	size_t len = build(cmd, 0x80, 0x20, 0x00, 0x01, (const uint8_t *)PIN, strlen(PIN));

	cmd[4] = 3; /* Lc disagrees with the length */
	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 20 00 01 malformed body (9 bytes)");
	cmd[4] = 0; /* extended length */
	p11u_apdu_format_command(cmd, len, out, sizeof out);
	assert_string_equal(out, "80 20 00 01 malformed body (9 bytes)");
	assert_secret_absent(out, PIN, 2);
	p11u_apdu_format_command(cmd, 3, out, sizeof out);
	assert_string_equal(out, "malformed command (3 bytes)");
}

static void test_decipher_response_masked(void **state)
{
	uint8_t resp[300];
	char out[1024];

	memcpy(resp, PLAINTEXT, 32);
	resp[32] = 0x90;
	resp[33] = 0x00;
	p11u_apdu_format_response(resp, 34, true, out, sizeof out);
	assert_string_equal(out, "SW=9000 len=32 data=<hidden>");
	assert_secret_absent(out, PLAINTEXT, 2);
	/* The first part of a long answer, more to fetch. */
	memset(resp, 'P', 256);
	resp[256] = 0x61;
	resp[257] = 0x10;
	p11u_apdu_format_response(resp, 258, true, out, sizeof out);
	assert_string_equal(out, "SW=6110 len=256 data=<hidden>");
}

/* Everything else is shown: the trace stays useful. */
static void test_plain_apdus_shown(void **state)
{
	static const uint8_t select[] = {0x80, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00},
	                     read[] = {0x80, 0xB0, 0x07, 0x00, 0x00},
	                     empty_verify[] = {0x80, 0x20, 0x00, 0x01},
	                     pso[] = {0x80, 0x2A, 0x9E, 0x9A, 0x02, 0xAB, 0xCD, 0x00},
	                     resp[] = {0x01, 0x02, 0x62, 0x82};
	char out[256];

	p11u_apdu_format_command(select, sizeof select, out, sizeof out);
	assert_string_equal(out, "80 A4 00 00 Lc=2 data=3F 00");
	p11u_apdu_format_command(read, sizeof read, out, sizeof out);
	assert_string_equal(out, "80 B0 07 00 Le=256");
	p11u_apdu_format_command(empty_verify, sizeof empty_verify, out, sizeof out);
	assert_string_equal(out, "80 20 00 01");
	p11u_apdu_format_command(pso, sizeof pso, out, sizeof out);
	assert_string_equal(out, "80 2A 9E 9A Lc=2 data=AB CD Le=256");
	p11u_apdu_format_response(resp, sizeof resp, false, out, sizeof out);
	assert_string_equal(out, "SW=6282 len=2 data=01 02");
	p11u_apdu_format_response(resp, 1, false, out, sizeof out);
	assert_string_equal(out, "malformed response (1 bytes)");
}

static void test_output_bounded(void **state)
{
	uint8_t cmd[261];
	char out[32], untouched[4] = "abc";

	memset(cmd, 0x41, sizeof cmd);
	memcpy(cmd, "\x80\x2A\x80\x86\xFF", 5);
	p11u_apdu_format_command(cmd, 260, out, sizeof out);
	assert_int_equal(strlen(out), sizeof out - 1);
	assert_string_equal(out + sizeof out - 4, "...");
	p11u_apdu_format_command(cmd, 260, untouched, 0);
	assert_string_equal(untouched, "abc");
	p11u_apdu_format_response(cmd, 200, false, out, sizeof out);
	assert_string_equal(out + sizeof out - 4, "...");
}

/* The whole debug log of real operations against the virtual card. */
static void run_operations(struct test_card *tc, struct p11u_card *card)
{
	const struct p11u_card_cert *cert = &p11u_card_info(card)->certs[P11U_CERT_ENCRYPTION];
	const unsigned char *p = cert->der;
	X509 *x509 = d2i_X509(NULL, &p, (long)cert->len);
	EVP_PKEY_CTX *ctx;
	uint8_t cryptogram[512], plain[512];
	size_t c_len = sizeof cryptogram, p_len = sizeof plain;
	int tries;

	assert_int_equal(
	    p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)WRONG_PIN, 8, &tries),
	    P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 8, NULL),
	                 P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_verify(card, P11U_SECRET_USER_CODE, (const uint8_t *)USER_CODE, 10, NULL),
	    P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_change_pin(card, (const uint8_t *)PIN, 8, (const uint8_t *)NEW_PIN, 8, NULL),
	    P11U_CARD_OK);

	assert_non_null(x509);
	ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x509), NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, cryptogram, &c_len, (const uint8_t *)PLAINTEXT, 32),
	                 1);
	EVP_PKEY_CTX_free(ctx);
	X509_free(x509);
	assert_int_equal(p11u_card_decipher(card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1, cryptogram,
	                                    c_len, plain, &p_len),
	                 P11U_CARD_OK);
	assert_int_equal(p_len, 32);
	assert_memory_equal(plain, PLAINTEXT, 32);

	assert_int_equal(p11u_card_reset_pin(card, (const uint8_t *)USER_CODE, 10,
	                                     (const uint8_t *)RESET_PIN, 8, NULL),
	                 P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)RESET_PIN, 8, NULL),
	    P11U_CARD_OK);
	(void)tc;
}

static void test_debug_log_hides_secrets(void **state)
{
	const bool t0 = *(const bool *)*state;
	struct test_card *tc = test_card_load(dir, "test.state", "card.state", t0);
	struct p11u_card *card = NULL;
	char *log = NULL;
	size_t log_len = 0;
	FILE *stream = open_memstream(&log, &log_len);

	assert_non_null(stream);
	setenv("P11UNLOCK_DEBUG", "1", 1);
	p11u_log_reinit();
	p11u_log_set_stream(stream);
	assert_int_equal(p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card), P11U_CARD_OK);
	run_operations(tc, card);
	p11u_card_free(card);
	p11u_log_set_stream(NULL);
	unsetenv("P11UNLOCK_DEBUG");
	p11u_log_reinit();
	assert_int_equal(fclose(stream), 0);
	test_card_free(tc);

	/* The trace is there ... */
	assert_non_null(strstr(log, "> 80 20 00 01 Lc=8 data=<8 bytes hidden>"));
	assert_non_null(strstr(log, "> 80 20 00 02 Lc=10 data=<10 bytes hidden>"));
	assert_non_null(strstr(log, "> 80 24 00 01 Lc=18 data=<18 bytes hidden>"));
	assert_non_null(strstr(log, "> 80 2C 00 01 Lc=20 data=<20 bytes hidden>"));
	assert_non_null(strstr(log, "< SW=63C2 len=0"));
	if (t0) {
		assert_non_null(strstr(log,
		                       "< SW=6120 len=0\np11unlock[apdu]: > 00 C0 00 00 Le=32\n"
		                       "p11unlock[apdu]: < SW=9000 len=32 data=<hidden>\n"));
	} else {
		assert_non_null(strstr(log, "< SW=9000 len=32 data=<hidden>\n"));
	}
	/* ... and no secret in it, in any form (windows of 4 bytes: the log also holds the
	 * certificates' bytes, where shorter runs could occur by chance). */
	assert_secret_absent(log, PIN, 4);
	assert_secret_absent(log, WRONG_PIN, 4);
	assert_secret_absent(log, NEW_PIN, 4);
	assert_secret_absent(log, RESET_PIN, 4);
	assert_secret_absent(log, USER_CODE, 4);
	assert_secret_absent(log, PLAINTEXT, 4);
	free(log);
}

/* A gen1 card: the protected VERIFY and the raw RSA that deciphers, in the debug log. */
static void test_gen1_debug_log_hides_secrets(void **state)
{
	const bool t0 = *(const bool *)*state;
	struct test_card *tc = test_card_load(dir, "gen1.state", "card.state", t0);
	struct p11u_card *card = NULL;
	uint8_t block[256], cryptogram[256], plain[256];
	size_t c_len = sizeof cryptogram, p_len = sizeof plain;
	char *log = NULL;
	size_t log_len = 0;
	FILE *stream = open_memstream(&log, &log_len);
	EVP_PKEY_CTX *ctx;
	X509 *x509;

	assert_non_null(stream);
	setenv("P11UNLOCK_DEBUG", "1", 1);
	p11u_log_reinit();
	p11u_log_set_stream(stream);
	assert_int_equal(p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card), P11U_CARD_OK);
	p11u_card_enable_real_login(card, true);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)WRONG_PIN, 8,
	                                  NULL),
	                 P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, 8, NULL),
	                 P11U_CARD_OK);
	/* A PKCS#1 block around PLAINTEXT, enciphered with the encryption certificate's key. */
	const struct p11u_dir_cert *cert = &p11u_card_info(card)->dir->certs[1];
	const unsigned char *p = cert->der;
	x509 = d2i_X509(NULL, &p, (long)cert->len);
	assert_non_null(x509);
	memset(block, 0x5A, sizeof block);
	block[0] = 0x00;
	block[1] = 0x02;
	block[256 - 33] = 0x00;
	memcpy(block + 256 - 32, PLAINTEXT, 32);
	ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x509), NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, cryptogram, &c_len, block, 256), 1);
	EVP_PKEY_CTX_free(ctx);
	X509_free(x509);
	assert_int_equal(p11u_card_decipher(card, 0x05, P11U_RSA_RAW, cryptogram, c_len, plain,
	                                    &p_len),
	                 P11U_CARD_OK);
	assert_memory_equal(plain, block, 256);
	p11u_card_free(card);
	p11u_log_set_stream(NULL);
	unsetenv("P11UNLOCK_DEBUG");
	p11u_log_reinit();
	assert_int_equal(fclose(stream), 0);
	test_card_free(tc);

	assert_non_null(strstr(log, "> 8C 20 00 01 Lc=32 data=<32 bytes hidden>"));
	assert_non_null(strstr(log, "< SW=63C2 len=0"));
	assert_non_null(strstr(log, "> 80 C1 00 80 Le=128"));
	assert_null(strstr(log, "80 20 00 01")); /* never a plaintext VERIFY */
	assert_secret_absent(log, PIN, 4);
	assert_secret_absent(log, WRONG_PIN, 4);
	assert_secret_absent(log, PLAINTEXT, 4);
	free(log);
}

static int group_setup(void **state)
{
	struct vcard_params gen1 = {.variant = VCARD_VARIANT_GEN1, .pin = PIN};
	char path[PATH_MAX], err[512] = "";

	dir = test_dir_new();
	test_card_create(dir, "test.state", NULL, 0, PIN, USER_CODE);
	snprintf(path, sizeof path, "%s/gen1.state", dir);
	if (vcard_create(path, &gen1, err, sizeof err) != 0)
		fail_msg("vcard_create: %s", err);
	return 0;
}

static int group_teardown(void **state)
{
	test_dir_remove(dir);
	return 0;
}

int main(void)
{
	static const bool t1 = false, t0 = true;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify_command_masked),
	    cmocka_unit_test(test_change_command_masked),
	    cmocka_unit_test(test_reset_command_masked),
	    cmocka_unit_test(test_chained_and_odd_variants_masked),
	    cmocka_unit_test(test_protected_verify_masked),
	    cmocka_unit_test(test_malformed_secret_command_masked),
	    cmocka_unit_test(test_decipher_response_masked),
	    cmocka_unit_test(test_plain_apdus_shown),
	    cmocka_unit_test(test_output_bounded),
	    {"test_debug_log_hides_secrets (T=1)", test_debug_log_hides_secrets, NULL, NULL,
	     (void *)&t1},
	    {"test_debug_log_hides_secrets (T=0)", test_debug_log_hides_secrets, NULL, NULL,
	     (void *)&t0},
	    {"test_gen1_debug_log_hides_secrets (T=1)", test_gen1_debug_log_hides_secrets, NULL,
	     NULL, (void *)&t1},
	    {"test_gen1_debug_log_hides_secrets (T=0)", test_gen1_debug_log_hides_secrets, NULL,
	     NULL, (void *)&t0},
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
