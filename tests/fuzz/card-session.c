/* fuzz-card-files' session (see card-session.h).  What is checked whatever the card answers:
 * what p11u_card_open accepted is within the profile's rules (printable card type and number,
 * certificates that parse and fit their slot, a test card only with the test ATR mark, a gen1
 * card only with a CHT mark, directory entries within their limits with labels safe to show),
 * counters within 0-3, outputs within their buffers, no transaction left open after an
 * operation, and (fake-reader.c) no command to a card of another kind. */
#include "config.h"

#include "card-session.h"

#include <string.h>

#include <openssl/x509.h>

#include "card/card-int.h"
#include "fake-reader.h"
#include "pcsc/reader.h"

/* The card layer reads real cards' directory files (gen1, gen2) where profile.h names them. */
#ifdef P11U_FID_PRKDF
#define HAVE_REAL_CARDS 1
#endif

#define PIN       "123456"
#define USER_CODE "Ab12cd34"

static const uint8_t digest_info[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
    0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
    0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

static bool printable(const char *s, size_t max, char lo)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < lo || s[i] > 0x7E)
			return false;
	return true;
}

static void check_certificate(const uint8_t *der, size_t len, const char *what)
{
	const unsigned char *p = der;
	X509 *x509 = d2i_X509(NULL, &p, (long)len);

	FUZZ_CHECK(x509 != NULL && p == der + len,
	           "%s: accepted bytes that are not one certificate", what);
	X509_free(x509);
}

#ifdef HAVE_REAL_CARDS
/* What the directory-file parser accepted is within its own limits. */
static void check_dir(const struct p11u_card_dir *dir)
{
	FUZZ_CHECK(dir->n_certs <= P11U_DIR_OBJECTS_MAX &&
	               dir->n_keys <= 2 * P11U_DIR_OBJECTS_MAX &&
	               dir->n_data <= P11U_DIR_OBJECTS_MAX,
	           "directory of %zu certificates, %zu keys, %zu data objects", dir->n_certs,
	           dir->n_keys, dir->n_data);
	for (size_t i = 0; i < dir->n_certs; i++) {
		const struct p11u_dir_cert *c = &dir->certs[i];

		FUZZ_CHECK(c->name.id_len <= P11U_DIR_ID_MAX, "certificate id of %zu bytes",
		           c->name.id_len);
		fuzz_check_label(c->name.label, sizeof c->name.label, "certificate");
		FUZZ_CHECK(c->der != NULL && c->len > 0, "certificate entry without a certificate");
		check_certificate(c->der, c->len, "directory certificate");
	}
	for (size_t i = 0; i < dir->n_keys; i++) {
		const struct p11u_dir_key *k = &dir->keys[i];

		FUZZ_CHECK(k->name.id_len <= P11U_DIR_ID_MAX, "key id of %zu bytes",
		           k->name.id_len);
		fuzz_check_label(k->name.label, sizeof k->name.label, "key");
		FUZZ_CHECK(k->keyref >= -1 && k->keyref <= 255, "key reference %d", k->keyref);
		FUZZ_CHECK(
		    (k->modulus == NULL) == (k->modulus_len == 0) &&
		        k->modulus_len <= P11U_MODULUS_MAX && k->exponent_len <= sizeof k->exponent,
		    "key of %zu modulus and %zu exponent bytes", k->modulus_len, k->exponent_len);
	}
	for (size_t i = 0; i < dir->n_data; i++) {
		const struct p11u_dir_data *d = &dir->data[i];

		FUZZ_CHECK(d->name.id_len <= P11U_DIR_ID_MAX, "data id of %zu bytes",
		           d->name.id_len);
		fuzz_check_label(d->name.label, sizeof d->name.label, "data object");
		fuzz_check_label(d->application, sizeof d->application, "data application");
		FUZZ_CHECK(d->len == 0 || d->value != NULL, "data object without its value");
	}
}
#endif

static void check_info(const struct p11u_card *card, const uint8_t *atr, size_t atr_len)
{
	const struct p11u_card_info *info = p11u_card_info(card);
	const bool security = p11u_card_has_security_ops(card);

	FUZZ_CHECK(printable(info->card_type, P11U_CARD_TYPE_LEN, 0x20), "card type not printable");
	FUZZ_CHECK(printable(info->card_number, P11U_CARD_NUMBER_LEN, 0x21),
	           "card number not printable");
	FUZZ_CHECK(info->kind != P11U_CARD_KIND_TEST || fuzz_atr_has_test_mark(atr, atr_len),
	           "a test card without the ATR mark");
#ifdef HAVE_REAL_CARDS
	FUZZ_CHECK(info->kind >= P11U_CARD_KIND_TEST && info->kind <= P11U_CARD_KIND_GEN2,
	           "card kind %d", (int)info->kind);
	FUZZ_CHECK(info->kind != P11U_CARD_KIND_GEN1 || fuzz_atr_has_hicos_mark(atr, atr_len),
	           "a first-generation card without a CHT mark in the ATR");
	FUZZ_CHECK(!security || info->kind == P11U_CARD_KIND_TEST ||
	               info->kind == P11U_CARD_KIND_GEN1,
	           "security operations for card kind %d", (int)info->kind);
	if (info->dir != NULL)
		check_dir(info->dir);
#else
	FUZZ_CHECK(info->kind == P11U_CARD_KIND_TEST || info->kind == P11U_CARD_KIND_HICOS,
	           "card kind %d", (int)info->kind);
	FUZZ_CHECK(security == (info->kind == P11U_CARD_KIND_TEST),
	           "security operations for card kind %d", (int)info->kind);
#endif
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		const struct p11u_card_cert *cert = &info->certs[slot];

		FUZZ_CHECK((cert->der == NULL) == (cert->len == 0), "slot %d: der/len mismatch",
		           slot);
		if (cert->der == NULL)
			continue;
		FUZZ_CHECK(cert->len <= P11U_CERT_SLOT_SIZE, "slot %d: %zu bytes", slot, cert->len);
		check_certificate(cert->der, cert->len, "certificate slot");
	}
}

static void check_rv(enum p11u_card_rv rv, const char *op)
{
	FUZZ_CHECK(rv >= P11U_CARD_OK && rv <= P11U_CARD_E_NO_MEMORY, "%s: result %d", op, (int)rv);
	FUZZ_CHECK(rv != P11U_CARD_E_NO_MEMORY, "%s: out of memory", op);
	fake_reader_check_idle(op);
}

static void check_tries(int tries, const char *op)
{
	FUZZ_CHECK(tries >= -1 && tries <= P11U_TRIES_MAX, "%s: %d tries left", op, tries);
}

static void secret_ops(struct p11u_card *card)
{
	struct p11u_secret_state st;
	int tries = -1;
	enum p11u_card_rv rv;

	for (int which = P11U_SECRET_PIN; which <= P11U_SECRET_USER_CODE; which++) {
		rv = p11u_card_secret_state(card, (enum p11u_secret)which, &st);
		check_rv(rv, "secret state");
		if (rv == P11U_CARD_OK)
			FUZZ_CHECK(st.tries_left >= 0 && st.tries_left <= P11U_TRIES_MAX,
			           "secret state: %d tries left", st.tries_left);
	}
	rv = p11u_card_verify(card, P11U_SECRET_PIN, (const uint8_t *)PIN, strlen(PIN), &tries);
	check_rv(rv, "VERIFY");
	check_tries(tries, "VERIFY");
	tries = -1;
	rv = p11u_card_change_pin(card, (const uint8_t *)PIN, strlen(PIN), (const uint8_t *)PIN,
	                          strlen(PIN), &tries);
	check_rv(rv, "CHANGE REFERENCE DATA");
	check_tries(tries, "CHANGE REFERENCE DATA");
	tries = -1;
	rv = p11u_card_reset_pin(card, (const uint8_t *)USER_CODE, strlen(USER_CODE),
	                         (const uint8_t *)PIN, strlen(PIN), &tries);
	check_rv(rv, "RESET RETRY COUNTER");
	check_tries(tries, "RESET RETRY COUNTER");
}

/* A raw block below any modulus (leading zero byte) of the key's size. */
static size_t raw_block(const struct p11u_card *card, enum p11u_keyref key, uint8_t *block)
{
	const struct p11u_card_key *k = p11u_card_key(card, key);

	if (k == NULL)
		return 0;
	memset(block, 0xFF, k->size);
	block[0] = 0x00;
	block[1] = 0x01;
	memcpy(block + k->size - sizeof digest_info, digest_info, sizeof digest_info);
	block[k->size - sizeof digest_info - 1] = 0x00;
	return k->size;
}

/* Signs and deciphers with one key reference, both ways the card layer knows. */
static void key_ops(struct p11u_card *card, enum p11u_keyref key)
{
	static const enum p11u_rsa_alg algs[] = {P11U_RSA_PKCS1, P11U_RSA_RAW};
	uint8_t block[P11U_MODULUS_MAX], out[P11U_MODULUS_MAX];
	size_t block_len, out_len;
	enum p11u_card_rv rv;

	for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		const uint8_t *in = digest_info;
		size_t in_len = sizeof digest_info;

		if (algs[a] == P11U_RSA_RAW) {
			in_len = raw_block(card, key, block);
			in = block;
		}
		out_len = sizeof out;
		rv = p11u_card_sign(card, key, algs[a], in, in_len, out, &out_len);
		check_rv(rv, "sign");
		FUZZ_CHECK(rv != P11U_CARD_OK || out_len == p11u_card_key(card, key)->size,
		           "signature of %zu bytes", out_len);

		block_len = raw_block(card, key, block);
		out_len = sizeof out;
		rv = p11u_card_decipher(card, key, algs[a], block, block_len, out, &out_len);
		check_rv(rv, "decipher");
		FUZZ_CHECK(rv != P11U_CARD_OK || out_len <= block_len, "plaintext of %zu bytes",
		           out_len);
	}
}

/* The test card's two keys, and those a real card's directory names. */
static void all_key_ops(struct p11u_card *card)
{
	uint8_t out[300];

	key_ops(card, P11U_KEY_SIGNATURE);
	key_ops(card, P11U_KEY_ENCRYPTION);
#ifdef HAVE_REAL_CARDS
	const struct p11u_card_dir *dir = p11u_card_info(card)->dir;

	for (size_t i = 0; dir != NULL && i < dir->n_keys; i++)
		if (dir->keys[i].is_private && dir->keys[i].keyref > P11U_KEY_ENCRYPTION)
			key_ops(card, (enum p11u_keyref)dir->keys[i].keyref);
#endif
	check_rv(p11u_card_random(card, out, sizeof out), "GET CHALLENGE");
}

void card_session_run(struct fuzz_script *script)
{
	struct p11u_reader *conn = NULL;
	struct p11u_card *card = NULL;
	const uint8_t *atr;
	size_t atr_len;
	enum p11u_card_rv rv;

	fake_reader_start(script);
	if (p11u_reader_connect(FAKE_READER_NAME, 1000, &conn) != P11U_IO_OK) {
		fake_reader_finish();
		return;
	}
	atr = p11u_reader_atr(conn, &atr_len);
	rv = p11u_card_open(p11u_reader_transport(conn), atr, atr_len, &card);
	check_rv(rv, "open");
	if (rv == P11U_CARD_OK) {
		check_info(card, atr, atr_len);
#ifdef HAVE_REAL_CARDS
		p11u_card_enable_real_login(card, true); /* the module's hicos_login = yes */
#endif
		secret_ops(card);
		all_key_ops(card);
		p11u_card_free(card);
	} else {
		FUZZ_CHECK(card == NULL, "a failed open returned a card");
	}
	p11u_reader_disconnect(conn);
	fake_reader_finish();
}
