/* The card layer against the virtual card, in-process: identification, the
 * read path, secrets, key operations and the card-kind rules, in T=1 and T=0
 * mode.  Results are checked against the card's own counters and against
 * OpenSSL with the card's certificates. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card/card.h"
#include "common/log.h"
#include "test-card-transport.h"

#define PIN       "123456"
#define USER_CODE "Ab12cd34"
#define NEW_PIN   "654321xy"

static char *dir; /* state files: test.state, big.state, cht.state, unknown.state */

struct mode {
	bool t0;
};
static const struct mode mode_t1 = {false}, mode_t0 = {true};

struct fixture {
	struct test_card *tc;
	struct p11u_card *card;
	bool t0;
};

static int group_setup(void **state)
{
	dir = test_dir_new();
	test_card_create(dir, "test.state", NULL, 0, PIN, USER_CODE);
	test_card_create(dir, "big.state", NULL, 3072, PIN, USER_CODE);
	test_card_create(dir, "cht.state", "CHT V32N", 0, PIN, USER_CODE);
	test_card_create(dir, "unknown.state", "XYZ V9", 0, PIN, USER_CODE);
	return 0;
}

static int group_teardown(void **state)
{
	test_dir_remove(dir);
	return 0;
}

static struct fixture *fixture_open(const char *template_name, bool t0)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->t0 = t0;
	f->tc = test_card_load(dir, template_name, "card.state", t0);
	assert_int_equal(p11u_card_open(&f->tc->transport, f->tc->atr, f->tc->atr_len, &f->card),
	                 P11U_CARD_OK);
	return f;
}

static int setup(void **state)
{
	const struct mode *mode = *state;

	*state = fixture_open("test.state", mode->t0);
	return 0;
}

static int setup_big(void **state)
{
	const struct mode *mode = *state;

	*state = fixture_open("big.state", mode->t0);
	return 0;
}

static int setup_cht(void **state)
{
	const struct mode *mode = *state;

	*state = fixture_open("cht.state", mode->t0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	p11u_card_free(f->card);
	/* Every transaction was ended. */
	assert_int_equal(f->tc->depth, 0);
	assert_int_equal(f->tc->begins, f->tc->ends);
	test_card_free(f->tc);
	free(f);
	return 0;
}

static struct vcard_status card_status(const struct fixture *f)
{
	struct vcard_status st;

	vcard_get_status(f->tc->vcard, &st);
	return st;
}

static void assert_counters(const struct fixture *f, int pin_tries, int user_code_tries)
{
	struct vcard_status st = card_status(f);

	assert_int_equal(st.pin_tries, pin_tries);
	assert_int_equal(st.user_code_tries, user_code_tries);
}

static enum p11u_card_rv verify_pin(struct fixture *f, const char *pin, int *tries)
{
	return p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)pin, strlen(pin), tries);
}

static X509 *cert_of(const struct fixture *f, enum p11u_cert_slot slot)
{
	const struct p11u_card_cert *cert = &p11u_card_info(f->card)->certs[slot];
	const unsigned char *p = cert->der;
	X509 *x509;

	assert_non_null(cert->der);
	x509 = d2i_X509(NULL, &p, (long)cert->len);
	assert_non_null(x509);
	return x509;
}

/* open */

static void test_open_reads_info_and_certs(void **state)
{
	struct fixture *f = *state;
	const struct p11u_card_info *info = p11u_card_info(f->card);
	static const char *const pem_names[P11U_CERT_SLOTS] = {"root-ca.pem", "issuing-ca.pem",
	                                                       "encryption.pem", "signature.pem"};
	char err[256];

	assert_int_equal(info->kind, P11U_CARD_KIND_TEST);
	assert_string_equal(info->card_type, "P11U V1");
	assert_string_equal(info->card_number, "XC00000000091349");
	assert_true(p11u_card_has_security_ops(f->card));
	/* The four slots hold exactly the certificates the card was personalized with. */
	assert_int_equal(vcard_export(f->tc->vcard, dir, err, sizeof err), 0);
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		char path[PATH_MAX];
		unsigned char *der = NULL;
		FILE *fp;
		X509 *x509;
		int len;

		snprintf(path, sizeof path, "%s/%s", dir, pem_names[slot]);
		fp = fopen(path, "r");
		assert_non_null(fp);
		x509 = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
		unlink(path);
		assert_non_null(x509);
		len = i2d_X509(x509, &der);
		assert_true(len > 0);
		assert_int_equal(info->certs[slot].len, (size_t)len);
		assert_memory_equal(info->certs[slot].der, der, (size_t)len);
		OPENSSL_free(der);
		X509_free(x509);
	}
	/* Identification and the read path: one transaction. */
	assert_int_equal(f->tc->begins, 1);
}

static void test_open_unknown_card_type(void **state)
{
	const struct mode *mode = *state;
	struct test_card *tc = test_card_load(dir, "unknown.state", "card.state", mode->t0);
	struct p11u_card *card = (struct p11u_card *)0x1;

	assert_int_equal(p11u_card_open(&tc->transport, tc->atr, tc->atr_len, &card),
	                 P11U_CARD_E_UNRECOGNIZED);
	assert_null(card);
	assert_int_equal(tc->depth, 0);
	test_card_free(tc);
}

/* "P11U V1" in EF 0905 is not enough: the ATR must say so too. */
static void test_open_test_type_without_atr_mark(void **state)
{
	const struct mode *mode = *state;
	struct test_card *tc = test_card_load(dir, "test.state", "card.state", mode->t0);
	static const uint8_t other_atr[] = {0x3B, 0x88, 0x01, 'C', 'H', 'T',
	                                    'M',  'O',  'I',  'C', 'A', 0x00};
	struct p11u_card *card = NULL;

	assert_int_equal(p11u_card_open(&tc->transport, other_atr, sizeof other_atr, &card),
	                 P11U_CARD_E_UNRECOGNIZED);
	assert_null(card);
	assert_int_equal(p11u_card_open(&tc->transport, NULL, 0, &card), P11U_CARD_E_UNRECOGNIZED);
	assert_null(card);
	test_card_free(tc);
}

/* secrets */

static void test_secret_state_initial(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;

	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_int_equal(st.tries_left, 3);
	assert_false(st.verified);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_USER_CODE, &st), P11U_CARD_OK);
	assert_int_equal(st.tries_left, 3);
	assert_false(st.verified);
	assert_counters(f, 3, 3);
}

static void test_verify_right(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;
	int tries = -1;

	assert_int_equal(verify_pin(f, PIN, &tries), P11U_CARD_OK);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_true(st.verified);
	assert_int_equal(st.tries_left, 3);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_USER_CODE,
	                                  (const uint8_t *)USER_CODE, strlen(USER_CODE), NULL),
	                 P11U_CARD_OK);
	/* A verified user code grants nothing. */
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_USER_CODE, &st), P11U_CARD_OK);
	assert_false(st.verified);
	assert_counters(f, 3, 3);
}

static void test_verify_wrong_until_blocked(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;
	int tries = -1;

	assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 2);
	assert_counters(f, 2, 3);
	assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 0);
	assert_counters(f, 0, 3);
	/* Blocked: even the right PIN is not checked. */
	tries = -1;
	assert_int_equal(verify_pin(f, PIN, &tries), P11U_CARD_E_SECRET_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_int_equal(st.tries_left, 0);
	assert_false(st.verified);
	assert_counters(f, 0, 3);
}

/* A wrong try after a right one: the counter goes back to 3 on the right one. */
static void test_verify_right_restores_counter(void **state)
{
	struct fixture *f = *state;
	int tries;

	assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(verify_pin(f, "999998", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_counters(f, 1, 3);
	assert_int_equal(verify_pin(f, PIN, &tries), P11U_CARD_OK);
	assert_counters(f, 3, 3);
}

static void test_secret_format_ok(void **state)
{
	(void)state;
	assert_true(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"123456", 6));
	assert_true(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"!~abcdef", 8));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"12345", 5));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"123456789", 9));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"123 56", 6));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"12345\x7f", 6));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, (const uint8_t *)"12345\x80", 6));
	assert_false(p11u_secret_format_ok(P11U_SECRET_PIN, NULL, 6));
	assert_true(
	    p11u_secret_format_ok(P11U_SECRET_USER_CODE, (const uint8_t *)"Ab12cd34Ef", 10));
	assert_false(
	    p11u_secret_format_ok(P11U_SECRET_USER_CODE, (const uint8_t *)"Ab12cd34Efg", 11));
	assert_false(p11u_secret_format_ok(P11U_SECRET_USER_CODE, (const uint8_t *)"Ab12c", 5));
	assert_false(p11u_secret_format_ok((enum p11u_secret)3, (const uint8_t *)"123456", 6));
}

/* A secret that cannot be valid is refused before any card I/O: no try is spent. */
static void test_format_errors_cost_nothing(void **state)
{
	struct fixture *f = *state;
	const unsigned long apdus = f->tc->apdus;
	const uint8_t *uc = (const uint8_t *)USER_CODE, *pin = (const uint8_t *)PIN;
	int tries = 77;

	assert_int_equal(verify_pin(f, "12345", &tries), P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(verify_pin(f, "123456789", &tries), P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(verify_pin(f, "123 56", &tries), P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(verify_pin(f, "12345\xc3\xa9", &tries), P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, NULL, 6, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_USER_CODE,
	                                  (const uint8_t *)"Ab12cd34Efg", 11, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_change_pin(f->card, pin, 6, (const uint8_t *)"12345", 5, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_change_pin(f->card, (const uint8_t *)"1", 1, pin, 6, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_reset_pin(f->card, uc, 8, (const uint8_t *)"12 456", 6, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(p11u_card_reset_pin(f->card, (const uint8_t *)"Ab12c", 5, pin, 6, &tries),
	                 P11U_CARD_E_SECRET_FORMAT);
	assert_int_equal(tries, 77);
	assert_int_equal(f->tc->apdus, apdus);
	assert_counters(f, 3, 3);
}

static void test_change_pin(void **state)
{
	struct fixture *f = *state;
	const uint8_t *np = (const uint8_t *)NEW_PIN;
	struct p11u_secret_state st;
	int tries = -1;

	assert_int_equal(p11u_card_change_pin(f->card, (const uint8_t *)"000000", 6, np,
	                                      strlen(NEW_PIN), &tries),
	                 P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 2);
	assert_counters(f, 2, 3);
	assert_int_equal(p11u_card_change_pin(f->card, (const uint8_t *)PIN, strlen(PIN), np,
	                                      strlen(NEW_PIN), &tries),
	                 P11U_CARD_OK);
	assert_counters(f, 3, 3);
	/* Changed and still verified. */
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_true(st.verified);
	assert_int_equal(verify_pin(f, NEW_PIN, &tries), P11U_CARD_OK);
	assert_int_equal(verify_pin(f, PIN, &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 2);
}

static void block_pin(struct fixture *f)
{
	int tries;

	for (int i = 0; i < 3; i++)
		assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_counters(f, 0, 3);
}

static enum p11u_card_rv reset_pin(struct fixture *f, const char *code, const char *new_pin,
                                   int *tries)
{
	return p11u_card_reset_pin(f->card, (const uint8_t *)code, strlen(code),
	                           (const uint8_t *)new_pin, strlen(new_pin), tries);
}

static void test_reset_pin_not_locked(void **state)
{
	struct fixture *f = *state;
	int tries;

	assert_int_equal(verify_pin(f, "999999", &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_counters(f, 2, 3);
	assert_int_equal(reset_pin(f, USER_CODE, NEW_PIN, &tries), P11U_CARD_OK);
	assert_counters(f, 3, 3);
	assert_int_equal(verify_pin(f, NEW_PIN, &tries), P11U_CARD_OK);
}

static void test_reset_pin_locked(void **state)
{
	struct fixture *f = *state;
	int tries;

	block_pin(f);
	assert_int_equal(reset_pin(f, USER_CODE, NEW_PIN, &tries), P11U_CARD_OK);
	assert_counters(f, 3, 3);
	assert_int_equal(verify_pin(f, PIN, &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(verify_pin(f, NEW_PIN, &tries), P11U_CARD_OK);
	assert_counters(f, 3, 3);
}

static void test_reset_pin_wrong_user_code_until_blocked(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;
	int tries = -1;

	block_pin(f);
	assert_int_equal(reset_pin(f, "Zz99zz99", NEW_PIN, &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 2);
	assert_counters(f, 0, 2);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_USER_CODE, &st), P11U_CARD_OK);
	assert_int_equal(st.tries_left, 2);
	assert_int_equal(reset_pin(f, "Zz99zz99", NEW_PIN, &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(reset_pin(f, "Zz99zz99", NEW_PIN, &tries), P11U_CARD_E_SECRET_INCORRECT);
	assert_int_equal(tries, 0);
	assert_counters(f, 0, 0);
	/* Blocked: the right user code changes nothing. */
	tries = -1;
	assert_int_equal(reset_pin(f, USER_CODE, NEW_PIN, &tries), P11U_CARD_E_SECRET_BLOCKED);
	assert_int_equal(tries, 0);
	assert_counters(f, 0, 0);
	assert_int_equal(verify_pin(f, NEW_PIN, &tries), P11U_CARD_E_SECRET_BLOCKED);
}

/* keys */

static const uint8_t sha256_prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const char message[] = "p11unlock card layer test message";

/* DigestInfo(SHA-256(message)) into out (51 bytes). */
static size_t digest_info(uint8_t *out)
{
	unsigned int len = 32;

	memcpy(out, sha256_prefix, sizeof sha256_prefix);
	assert_int_equal(EVP_Digest(message, strlen(message), out + sizeof sha256_prefix, &len,
	                            EVP_sha256(), NULL),
	                 1);
	return sizeof sha256_prefix + len;
}

static void assert_signature_verifies(const struct fixture *f, const uint8_t *sig, size_t len)
{
	X509 *x509 = cert_of(f, P11U_CERT_SIGNATURE);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x509)),
	                 1);
	assert_int_equal(EVP_DigestVerify(md, sig, len, (const uint8_t *)message, strlen(message)),
	                 1);
	EVP_MD_CTX_free(md);
	X509_free(x509);
}

static size_t modulus_bytes(const struct fixture *f, enum p11u_cert_slot slot)
{
	X509 *x509 = cert_of(f, slot);
	size_t n = (size_t)EVP_PKEY_get_size(X509_get0_pubkey(x509));

	X509_free(x509);
	return n;
}

static void test_sign_pkcs1(void **state)
{
	struct fixture *f = *state;
	uint8_t di[64], sig[512];
	size_t di_len = digest_info(di), sig_len = sizeof sig;
	const size_t k = modulus_bytes(f, P11U_CERT_SIGNATURE);

	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, di_len, sig, &sig_len),
	    P11U_CARD_OK);
	assert_int_equal(sig_len, k);
	assert_signature_verifies(f, sig, sig_len);
}

static void test_sign_raw(void **state)
{
	struct fixture *f = *state;
	const size_t k = modulus_bytes(f, P11U_CERT_SIGNATURE);
	uint8_t di[64], block[512], sig[512];
	size_t di_len = digest_info(di), sig_len = sizeof sig;

	/* EMSA-PKCS1-v1_5 done here, raw RSA on the card. */
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, k - 3 - di_len);
	block[k - di_len - 1] = 0x00;
	memcpy(block + k - di_len, di, di_len);
	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_RAW, block, k, sig, &sig_len),
	    P11U_CARD_OK);
	assert_int_equal(sig_len, k);
	assert_signature_verifies(f, sig, sig_len);
}

static void test_sign_needs_verified_pin(void **state)
{
	struct fixture *f = *state;
	uint8_t di[64], sig[512];
	size_t di_len = digest_info(di), sig_len = sizeof sig;

	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, di_len, sig, &sig_len),
	    P11U_CARD_E_NOT_VERIFIED);
}

/* Length problems are caught before any card I/O. */
static void test_sign_checks_lengths(void **state)
{
	struct fixture *f = *state;
	const size_t k = modulus_bytes(f, P11U_CERT_SIGNATURE);
	const unsigned long apdus = f->tc->apdus;
	uint8_t in[512], sig[512];
	size_t sig_len = 16;

	memset(in, 0x01, sizeof in);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, in, 51, sig, &sig_len),
	    P11U_CARD_E_ARGS);
	assert_int_equal(sig_len, k);
	sig_len = sizeof sig;
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, in, k - 10, sig, &sig_len),
	    P11U_CARD_E_DATA_LEN);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_RAW, in, k - 1, sig, &sig_len),
	    P11U_CARD_E_DATA_LEN);
	/* A raw block not below the modulus. */
	memset(in, 0xFF, k);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_RAW, in, k, sig, &sig_len),
	    P11U_CARD_E_DATA_LEN);
	assert_int_equal(
	    p11u_card_sign(f->card, (enum p11u_keyref)3, P11U_RSA_RAW, in, k, sig, &sig_len),
	    P11U_CARD_E_ARGS);
	assert_int_equal(p11u_card_sign(f->card, P11U_KEY_SIGNATURE, (enum p11u_rsa_alg)1, in, 51,
	                                sig, &sig_len),
	                 P11U_CARD_E_ARGS);
	assert_int_equal(f->tc->apdus, apdus);
}

static EVP_PKEY_CTX *encrypt_ctx(const struct fixture *f, int padding)
{
	X509 *x509 = cert_of(f, P11U_CERT_ENCRYPTION);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x509), NULL);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, padding), 1);
	X509_free(x509);
	return ctx;
}

static void test_decipher_pkcs1(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[] = "a 32-byte session key, for once!";
	uint8_t cryptogram[512], plain[512];
	size_t c_len = sizeof cryptogram, p_len = sizeof plain;
	EVP_PKEY_CTX *ctx = encrypt_ctx(f, RSA_PKCS1_PADDING);

	assert_int_equal(EVP_PKEY_encrypt(ctx, cryptogram, &c_len, secret, 32), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1,
	                                    cryptogram, c_len, plain, &p_len),
	                 P11U_CARD_OK);
	assert_int_equal(p_len, 32);
	assert_memory_equal(plain, secret, 32);
	/* A buffer too small for the plaintext: the size it needs. */
	p_len = 16;
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1,
	                                    cryptogram, c_len, plain, &p_len),
	                 P11U_CARD_E_ARGS);
	assert_int_equal(p_len, 32);
}

static void test_decipher_raw(void **state)
{
	struct fixture *f = *state;
	const size_t k = modulus_bytes(f, P11U_CERT_ENCRYPTION);
	uint8_t block[512], cryptogram[512], plain[512];
	size_t c_len = sizeof cryptogram, p_len = sizeof plain;
	EVP_PKEY_CTX *ctx = encrypt_ctx(f, RSA_NO_PADDING);

	block[0] = 0x00;
	assert_int_equal(RAND_bytes(block + 1, (int)k - 1), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, cryptogram, &c_len, block, k), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(c_len, k);
	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    c_len, plain, &p_len),
	                 P11U_CARD_OK);
	assert_int_equal(p_len, k);
	assert_memory_equal(plain, block, k);
	/* The cryptogram must be exactly the modulus size. */
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    c_len - 1, plain, &p_len),
	                 P11U_CARD_E_DATA_LEN);
}

static void test_decipher_needs_verified_pin(void **state)
{
	struct fixture *f = *state;
	const size_t k = modulus_bytes(f, P11U_CERT_ENCRYPTION);
	uint8_t cryptogram[512] = {0}, plain[512];
	size_t p_len = sizeof plain;

	cryptogram[k - 1] = 0x05;
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    k, plain, &p_len),
	                 P11U_CARD_E_NOT_VERIFIED);
}

static void test_random(void **state)
{
	struct fixture *f = *state;
	uint8_t a[300], b[300], zero[300] = {0};
	const unsigned long apdus = f->tc->apdus;

	assert_int_equal(p11u_card_random(f->card, a, sizeof a), P11U_CARD_OK);
	assert_int_equal(p11u_card_random(f->card, b, sizeof b), P11U_CARD_OK);
	assert_memory_not_equal(a, b, sizeof a);
	assert_memory_not_equal(a, zero, sizeof a);
	/* 300 bytes: two GET CHALLENGE each (plus GET RESPONSE in T=0). */
	assert_int_equal(f->tc->apdus - apdus, f->t0 ? 8 : 4);
	assert_int_equal(p11u_card_random(f->card, a, 0), P11U_CARD_OK);
	assert_int_equal(f->tc->apdus - apdus, f->t0 ? 8 : 4);
}

/* Groups of operations share one transaction; the card layer's own begin/end nest. */
static void test_transactions_nest(void **state)
{
	struct fixture *f = *state;
	const unsigned long begins = f->tc->begins;
	struct p11u_secret_state st;

	assert_int_equal(p11u_card_begin(f->card), P11U_CARD_OK);
	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_int_equal(f->tc->begins - begins, 1);
	assert_int_equal(f->tc->depth, 1);
	p11u_card_end(f->card);
	assert_int_equal(f->tc->depth, 0);
	assert_int_equal(f->tc->ends - begins, 1);
	/* Each operation alone: a transaction of its own. */
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_int_equal(f->tc->begins - begins, 2);
}

/* RSA-3072: responses over 256 bytes (61xx) and chained 385-byte PSO DECIPHER data. */
static void test_big_key_sign_and_decipher(void **state)
{
	struct fixture *f = *state;
	const uint8_t secret[] = "0123456789abcdef";
	uint8_t di[64], sig[512], cryptogram[512], plain[512];
	size_t di_len = digest_info(di), sig_len = sizeof sig, c_len = sizeof cryptogram,
	       p_len = sizeof plain;
	EVP_PKEY_CTX *ctx = encrypt_ctx(f, RSA_PKCS1_PADDING);

	assert_int_equal(modulus_bytes(f, P11U_CERT_SIGNATURE), 384);
	assert_int_equal(verify_pin(f, PIN, NULL), P11U_CARD_OK);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, di_len, sig, &sig_len),
	    P11U_CARD_OK);
	assert_int_equal(sig_len, 384);
	assert_signature_verifies(f, sig, sig_len);
	assert_int_equal(EVP_PKEY_encrypt(ctx, cryptogram, &c_len, secret, 16), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1,
	                                    cryptogram, c_len, plain, &p_len),
	                 P11U_CARD_OK);
	assert_int_equal(p_len, 16);
	assert_memory_equal(plain, secret, 16);
}

/* A real HiCOS card: read path only.  Every security operation is refused with no card I/O,
 * and the debug log says why. */
static void test_hicos_read_only(void **state)
{
	struct fixture *f = *state;
	const struct p11u_card_info *info = p11u_card_info(f->card);
	const unsigned long apdus = f->tc->apdus, begins = f->tc->begins;
	const uint8_t *pin = (const uint8_t *)PIN, *uc = (const uint8_t *)USER_CODE;
	uint8_t in[512] = {0}, out[512];
	size_t out_len = sizeof out;
	struct p11u_secret_state st;
	char *log = NULL;
	size_t log_len = 0;
	FILE *log_stream = open_memstream(&log, &log_len);
	int tries = 77;

	assert_int_equal(info->kind, P11U_CARD_KIND_HICOS);
	assert_string_equal(info->card_type, "CHT V32N");
	assert_string_equal(info->card_number, "XC00000000091349");
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		assert_non_null(info->certs[slot].der);
	assert_false(p11u_card_has_security_ops(f->card));

	assert_non_null(log_stream);
	setenv("P11UNLOCK_DEBUG", "card", 1);
	p11u_log_reinit();
	p11u_log_set_stream(log_stream);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, pin, 6, &tries),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_change_pin(f->card, pin, 6, pin, 6, &tries),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_reset_pin(f->card, uc, 8, pin, 6, &tries),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(
	    p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, in, 51, out, &out_len),
	    P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(
	    p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, in, 256, out, &out_len),
	    P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_random(f->card, out, 16), P11U_CARD_E_NOT_SUPPORTED);
	p11u_log_set_stream(NULL);
	unsetenv("P11UNLOCK_DEBUG");
	p11u_log_reinit();
	fclose(log_stream);

	assert_int_equal(tries, 77);
	assert_int_equal(f->tc->apdus, apdus);
	assert_int_equal(f->tc->begins, begins);
	assert_counters(f, 3, 3);
	assert_non_null(strstr(log, "VERIFY refused without card I/O: a real HiCOS card (card type "
	                            "\"CHT V32N\") gets the read path only"));
	assert_non_null(strstr(log, "RESET RETRY COUNTER refused without card I/O"));
	free(log);
}

#define BOTH(f, s)                                                                                 \
	{#f " (T=1)", f, s, teardown, (void *)&mode_t1},                                           \
	{                                                                                          \
#f " (T=0)", f, s, teardown, (void *)&mode_t0                                      \
	}
#define BOTH_NO_FIXTURE(f)                                                                         \
	{#f " (T=1)", f, NULL, NULL, (void *)&mode_t1},                                            \
	{                                                                                          \
#f " (T=0)", f, NULL, NULL, (void *)&mode_t0                                       \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_open_reads_info_and_certs, setup),
	    BOTH_NO_FIXTURE(test_open_unknown_card_type),
	    BOTH_NO_FIXTURE(test_open_test_type_without_atr_mark),
	    cmocka_unit_test(test_secret_format_ok),
	    BOTH(test_secret_state_initial, setup),
	    BOTH(test_verify_right, setup),
	    BOTH(test_verify_wrong_until_blocked, setup),
	    BOTH(test_verify_right_restores_counter, setup),
	    BOTH(test_format_errors_cost_nothing, setup),
	    BOTH(test_change_pin, setup),
	    BOTH(test_reset_pin_not_locked, setup),
	    BOTH(test_reset_pin_locked, setup),
	    BOTH(test_reset_pin_wrong_user_code_until_blocked, setup),
	    BOTH(test_sign_pkcs1, setup),
	    BOTH(test_sign_raw, setup),
	    BOTH(test_sign_needs_verified_pin, setup),
	    BOTH(test_sign_checks_lengths, setup),
	    BOTH(test_decipher_pkcs1, setup),
	    BOTH(test_decipher_raw, setup),
	    BOTH(test_decipher_needs_verified_pin, setup),
	    BOTH(test_random, setup),
	    BOTH(test_transactions_nest, setup),
	    BOTH(test_big_key_sign_and_decipher, setup_big),
	    BOTH(test_hicos_read_only, setup_cht),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
