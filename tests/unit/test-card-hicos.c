/* The card layer against the virtual real-card variants, in-process: a first-generation HiCOS
 * card (gen1) and the second-generation GPPKI applet (gen2).  Identification costs no try on any
 * card; objects come from the directory files; the protected VERIFY matches a vector computed
 * here with the openssl command (not with the code under test); no path of the card layer can
 * send a plaintext VERIFY to gen1, nor the protected one before the login is enabled; raw RSA
 * signs and deciphers; gen2 receives nothing but reads. */
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
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card/card-int.h"
#include "test-card-transport.h"

#define PIN     "123456"
#define BAD_PIN "654321"

static char *dir; /* gen1.state, gen2.state, test.state, cht.state */

/* Every command header the card received (the hook records them). */
#define LOG_MAX 4096
static struct sent {
	uint8_t cla, ins, p1, p2, p3; /* p3: Lc or Le (0 for a 4-byte command) */
	size_t len;
} sent[LOG_MAX];
static size_t n_sent;

static void record(struct test_card *tc, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                   size_t *resp_len, size_t cap)
{
	(void)tc;
	(void)resp;
	(void)resp_len;
	(void)cap;
	if (n_sent < LOG_MAX)
		sent[n_sent++] = (struct sent){
		    cmd[0], cmd[1], cmd[2], cmd[3], cmd_len > 4 ? cmd[4] : 0, cmd_len};
}

static void create(const char *name, enum vcard_variant variant, const char *card_type)
{
	struct vcard_params params = {.variant = variant, .card_type = card_type, .pin = PIN};
	char path[PATH_MAX], err[512] = "";

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create %s: %s", name, err);
}

static int group_setup(void **state)
{
	(void)state;
	dir = test_dir_new();
	create("gen1.state", VCARD_VARIANT_GEN1, NULL);
	create("gen2.state", VCARD_VARIANT_GEN2, NULL);
	create("test.state", VCARD_VARIANT_TEST, NULL);
	create("cht.state", VCARD_VARIANT_TEST, "CHT V32N");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	test_dir_remove(dir);
	return 0;
}

struct fixture {
	struct test_card *tc;
	struct p11u_card *card;
};

/* A private copy of a card, not opened yet (tests change it first). */
static struct fixture *load_fixture(const char *template_name, bool t0)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	n_sent = 0;
	f->tc = test_card_load(dir, template_name, "card.state", t0);
	f->tc->hook = record;
	return f;
}

static void open_card(struct fixture *f)
{
	assert_int_equal(p11u_card_open(&f->tc->transport, f->tc->atr, f->tc->atr_len, &f->card),
	                 P11U_CARD_OK);
}

static struct fixture *open_fixture(const char *template_name, bool t0)
{
	struct fixture *f = load_fixture(template_name, t0);

	open_card(f);
	return f;
}

/* The group state says the mode: NULL for T=1, anything else for T=0. */
static int setup_gen1(void **state)
{
	*state = open_fixture("gen1.state", *state != NULL);
	return 0;
}

static int setup_gen2(void **state)
{
	*state = open_fixture("gen2.state", *state != NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	p11u_card_free(f->card);
	assert_int_equal(f->tc->depth, 0);
	assert_int_equal(f->tc->begins, f->tc->ends);
	test_card_free(f->tc);
	free(f);
	return 0;
}

static size_t count_sent(int cla, uint8_t ins)
{
	size_t n = 0;

	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins == ins && (cla < 0 || sent[i].cla == cla))
			n++;
	return n;
}

/* Only SELECT, READ BINARY, READ RECORD and GET RESPONSE since the log started. */
static void assert_reads_only(void)
{
	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins != 0xA4 && sent[i].ins != 0xB0 && sent[i].ins != 0xB2 &&
		    sent[i].ins != 0xC0)
			fail_msg("command %zu: %02X %02X %02X %02X is not a read", i, sent[i].cla,
			         sent[i].ins, sent[i].p1, sent[i].p2);
}

static const struct p11u_dir_cert *dir_cert(const struct p11u_card_dir *d, const char *id)
{
	for (size_t i = 0; i < d->n_certs; i++)
		if (d->certs[i].name.id_len == strlen(id) &&
		    memcmp(d->certs[i].name.id, id, strlen(id)) == 0)
			return &d->certs[i];
	return NULL;
}

static const struct p11u_dir_key *dir_key(const struct p11u_card_dir *d, const char *id,
                                          bool is_private)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (d->keys[i].is_private == is_private && d->keys[i].name.id_len == strlen(id) &&
		    memcmp(d->keys[i].name.id, id, strlen(id)) == 0)
			return &d->keys[i];
	return NULL;
}

static EVP_PKEY *cert_key(const struct p11u_dir_cert *cert)
{
	const unsigned char *p = cert->der;
	X509 *x509 = d2i_X509(NULL, &p, (long)cert->len);
	EVP_PKEY *key;

	assert_non_null(x509);
	key = X509_get_pubkey(x509);
	X509_free(x509);
	assert_non_null(key);
	return key;
}

/* A key record's modulus equals its certificate's. */
static void assert_key_matches_cert(const struct p11u_dir_key *key,
                                    const struct p11u_dir_cert *cert)
{
	EVP_PKEY *pkey = cert_key(cert);
	BIGNUM *n = NULL;
	uint8_t modulus[256];

	assert_non_null(key->modulus);
	assert_true(EVP_PKEY_get_bn_param(pkey, "n", &n));
	assert_int_equal(BN_bn2binpad(n, modulus, sizeof modulus), 256);
	assert_int_equal(key->modulus_len, 256);
	assert_memory_equal(key->modulus, modulus, 256);
	BN_free(n);
	EVP_PKEY_free(pkey);
}

/* ---- identification ---------------------------------------------------------------------- */

/* Every kind of card is identified with reads only, and gen2 detection comes after EF 0905. */
static void test_identification_reads_only(void **state)
{
	static const struct {
		const char *state;
		enum p11u_card_kind kind;
		const char *type;
	} cards[] = {
	    {"gen1.state", P11U_CARD_KIND_GEN1, "CHT V32N"},
	    {"gen2.state", P11U_CARD_KIND_GEN2, "HiCOS GPPKI"},
	    {"test.state", P11U_CARD_KIND_TEST, "P11U V1"},
	    {"cht.state", P11U_CARD_KIND_HICOS, "CHT V32N"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
		for (int t0 = 0; t0 <= 1; t0++) {
			struct fixture *f = open_fixture(cards[i].state, t0);
			const struct p11u_card_info *info = p11u_card_info(f->card);

			assert_int_equal(info->kind, cards[i].kind);
			assert_string_equal(info->card_type, cards[i].type);
			assert_reads_only();
			/* The first command of every identification: SELECT MF of the profile. */
			assert_int_equal(sent[0].cla, 0x80);
			assert_int_equal(sent[0].ins, 0xA4);
			assert_int_equal(count_sent(0x00, 0xA4) > 0,
			                 cards[i].kind == P11U_CARD_KIND_GEN2);
			struct vcard_status st;
			vcard_get_status(f->tc->vcard, &st);
			assert_int_equal(st.pin_tries, 3);
			teardown((void **)&f);
		}
	}
}

/* ---- gen1 read path ------------------------------------------------------------------------ */

static void test_gen1_objects_from_directory(void **state)
{
	struct fixture *f = *state;
	const struct p11u_card_info *info = p11u_card_info(f->card);
	const struct p11u_card_dir *d = info->dir;
	const struct p11u_dir_cert *sign, *keyx, *ca, *root;

	assert_string_equal(info->card_number, "XC00000000091349");
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		assert_null(info->certs[slot].der); /* no fixed layout */
	assert_non_null(d);
	assert_int_equal(d->n_certs, 4);
	sign = dir_cert(d, "SIGN");
	keyx = dir_cert(d, "KEYX");
	ca = dir_cert(d, "CACert");
	root = dir_cert(d, "ROOTCACert");
	assert_non_null(sign);
	assert_non_null(keyx);
	assert_non_null(ca);
	assert_non_null(root);
	assert_string_equal(sign->name.label, "HiCOS signature certificate");
	assert_false(sign->authority);
	assert_true(ca->authority);
	assert_true(root->authority);

	assert_int_equal(d->n_keys, 4);
	const struct p11u_dir_key *sk = dir_key(d, "SIGN", true), *ek = dir_key(d, "KEYX", true);
	assert_non_null(sk);
	assert_non_null(ek);
	assert_int_equal(sk->keyref, 0x01);
	assert_int_equal(ek->keyref, 0x05);
	assert_true(sk->usage & P11U_USAGE_SIGN);
	assert_true(sk->usage & P11U_USAGE_NON_REPUDIATION);
	assert_true(ek->usage & P11U_USAGE_DECRYPT);
	assert_false(ek->usage & P11U_USAGE_SIGN);
	assert_string_equal(sk->name.label, "HiCOS signature key");
	assert_key_matches_cert(sk, sign);
	assert_key_matches_cert(ek, keyx);
	assert_key_matches_cert(dir_key(d, "SIGN", false), sign);

	assert_int_equal(d->n_data, 1);
	assert_string_equal(d->data[0].application, "p11unlock-vcard");
	assert_int_equal(d->data[0].len, strlen("p11unlock-vcard XC00000000091349"));
	assert_memory_equal(d->data[0].value, "p11unlock-vcard XC00000000091349", d->data[0].len);

	assert_reads_only();
	/* Reads of at most 0xC8 bytes (Le 00 would be 256), in class 80. */
	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins == 0xB0) {
			assert_int_equal(sent[i].len, 5);
			assert_int_equal(sent[i].cla, 0x80);
			assert_true(sent[i].p3 > 0 && sent[i].p3 <= 0xC8);
		}
	assert_false(p11u_card_pads_pkcs1(f->card));
	assert_false(p11u_card_has_pin_management(f->card));
	assert_false(p11u_card_has_security_ops(f->card)); /* login not enabled */
	p11u_card_enable_real_login(f->card, true);
	assert_true(p11u_card_has_security_ops(f->card));
}

/* A card without certificates in its directory: the public keys come from the key records
 * (the word order of the traces), equal the certificates' keys, and the private key signs. */
static void test_gen1_keys_from_records(void **state)
{
	static const uint8_t empty_cdf[] = {0x00, 0x00}; /* content length 0 */
	uint8_t moduli[2][256], block[256], sig[256];
	const char *const ids[2] = {"SIGN", "KEYX"};
	struct fixture *f = open_fixture("gen1.state", *state != NULL);
	size_t sig_len = sizeof sig;
	char err[256];

	for (int i = 0; i < 2; i++)
		memcpy(moduli[i], dir_key(p11u_card_info(f->card)->dir, ids[i], true)->modulus,
		       256);
	teardown((void **)&f);

	f = load_fixture("gen1.state", *state != NULL);
	assert_int_equal(
	    vcard_set_file(f->tc->vcard, 0x4104, empty_cdf, sizeof empty_cdf, err, sizeof err), 0);
	open_card(f);
	const struct p11u_card_dir *d = p11u_card_info(f->card)->dir;
	assert_int_equal(d->n_certs, 0);
	assert_int_equal(count_sent(0x80, 0xB2), 8); /* records 1-4 and 5-8, once */
	for (int i = 0; i < 2; i++) {
		const struct p11u_dir_key *pub = dir_key(d, ids[i], false);
		const struct p11u_dir_key *priv = dir_key(d, ids[i], true);

		assert_non_null(pub->modulus);
		assert_memory_equal(pub->modulus, moduli[i], 256);
		assert_int_equal(pub->exponent_len, 4);
		assert_memory_equal(pub->exponent, "\x00\x01\x00\x01", 4);
		assert_non_null(priv->modulus);
		assert_memory_equal(priv->modulus, moduli[i], 256);
	}
	p11u_card_enable_real_login(f->card, true);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);
	memset(block, 0x11, sizeof block);
	block[0] = 0;
	assert_int_equal(p11u_card_sign(f->card, 1, P11U_RSA_RAW, block, 256, sig, &sig_len),
	                 P11U_CARD_OK);
	teardown((void **)&f);
}

/* ---- the protected VERIFY ------------------------------------------------------------------ */

/* Runs `openssl enc -des-ede-cbc -nopad` on in (the expected value, computed outside the code
 * under test).  False when the openssl command is not there. */
static bool openssl_des_ede_cbc(const uint8_t iv[8], const uint8_t *in, size_t len, uint8_t *out)
{
	char in_path[PATH_MAX], cmd[PATH_MAX + 256];
	FILE *fp;
	size_t got;

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		return false;
	snprintf(in_path, sizeof in_path, "%s/des.in", dir);
	fp = fopen(in_path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(in, 1, len, fp), len);
	fclose(fp);
	/* The key: the 16 ASCII bytes "CHTTL8f0HiCardV2". */
	snprintf(cmd, sizeof cmd,
	         "openssl enc -des-ede-cbc -nopad -K 434854544c3866304869436172645632 "
	         "-iv %02x%02x%02x%02x%02x%02x%02x%02x -in %s",
	         iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7], in_path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	got = fread(out, 1, len + 1, fp);
	assert_int_equal(pclose(fp), 0);
	assert_int_equal(got, len);
	unlink(in_path);
	return true;
}

static void test_verify_vector_independent(void **state)
{
	static const struct {
		const char *pin;
		uint8_t iv[8];
	} cases[] = {
	    {"123456", {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}},
	    {"Ab1!x9zQ", {0xFF, 0x00, 0x7F, 0x80, 0x10, 0x20, 0x30, 0x40}},
	    {"000000", {0, 0, 0, 0, 0, 0, 0, 0}},
	};
	/* A vector recorded once with the openssl command, so that this check runs without it:
	 *   K=434854544c3866304869436172645632 IV=0123456789abcdef
	 *   printf '123456\xff\xff\xff\xff\x06\x06\x06\x06\x06\x06' |
	 *     openssl enc -des-ede-cbc -nopad -K $K -iv $IV | tail -c 8
	 *   (the MAC: 3bf2c3cc49b6c81e), then with P='123456\xff\xff\xff\xff':
	 *   printf "$P"'\x3b\xf2\xc3\xcc\x49\xb6\xc8\x1e\x06\x06\x06\x06\x06\x06' |
	 *     openssl enc -des-ede-cbc -nopad -K $K -iv $IV | xxd -p */
	static const uint8_t recorded[24] = {0xeb, 0x1e, 0x52, 0x9e, 0x78, 0xdc, 0xcc, 0xdb,
	                                     0x34, 0xe7, 0xc2, 0xfe, 0x29, 0xf5, 0x79, 0x9a,
	                                     0x3f, 0x84, 0x46, 0xbb, 0x95, 0x05, 0xfd, 0x29};
	uint8_t out[32], iv[8] = {0};
	(void)state;

	assert_true(p11u_hicos_verify_data((const uint8_t *)"123456", 6, cases[0].iv, out));
	assert_memory_equal(out, cases[0].iv, 8);
	assert_memory_equal(out + 8, recorded, 24);
	/* What the block cannot carry. */
	assert_false(p11u_hicos_verify_data((const uint8_t *)"12345678901", 11, iv, out));
	assert_false(p11u_hicos_verify_data((const uint8_t *)"1", 0, iv, out));

	/* More, computed here with the openssl command. */
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t pin10[10], mac_in[16], mac_out[16], plain[24], crypt[24], got[32];
		size_t len = strlen(cases[c].pin);

		memset(pin10, 0xFF, sizeof pin10);
		memcpy(pin10, cases[c].pin, len);
		memcpy(mac_in, pin10, 10);
		memset(mac_in + 10, 0x06, 6);
		if (!openssl_des_ede_cbc(cases[c].iv, mac_in, sizeof mac_in, mac_out))
			skip();
		memcpy(plain, pin10, 10);
		memcpy(plain + 10, mac_out + 8, 8); /* the MAC: the last block */
		memset(plain + 18, 0x06, 6);
		assert_true(openssl_des_ede_cbc(cases[c].iv, plain, sizeof plain, crypt));

		assert_true(
		    p11u_hicos_verify_data((const uint8_t *)cases[c].pin, len, cases[c].iv, got));
		assert_memory_equal(got, cases[c].iv, 8);
		assert_memory_equal(got + 8, crypt, 24);
	}
}

/* The protected VERIFY only for the PIN and only once enabled: before that, nothing reaches the
 * card, not even a transaction. */
static void test_gen1_login_gate(void **state)
{
	struct fixture *f = *state;
	const unsigned long apdus = f->tc->apdus, begins = f->tc->begins;
	int tries = 77;

	assert_int_equal(
	    p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, &tries),
	    P11U_CARD_E_NOT_SUPPORTED);
	p11u_card_enable_real_login(f->card, true);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_USER_CODE,
	                                  (const uint8_t *)"Ab12cd34", 8, &tries),
	                 P11U_CARD_E_NOT_SUPPORTED);
	p11u_card_enable_real_login(f->card, false);
	assert_int_equal(
	    p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, &tries),
	    P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(tries, 77);
	assert_int_equal(f->tc->apdus, apdus);
	assert_int_equal(f->tc->begins, begins);
}

/* One 8C 20 per call: 9000, then 63C2 / 63C1 / 63C0 for wrong PINs, then 6983. */
static void test_gen1_verify_counts(void **state)
{
	struct fixture *f = *state;
	const uint8_t *pin = (const uint8_t *)PIN, *bad = (const uint8_t *)BAD_PIN;
	struct vcard_status st;
	int tries = -1;

	p11u_card_enable_real_login(f->card, true);
	n_sent = 0;
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, pin, 6, &tries), P11U_CARD_OK);
	assert_int_equal(count_sent(0x8C, 0x20), 1);
	for (int left = 2; left >= 0; left--) {
		assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, bad, 6, &tries),
		                 P11U_CARD_E_SECRET_INCORRECT);
		assert_int_equal(tries, left);
		vcard_get_status(f->tc->vcard, &st);
		assert_int_equal(st.pin_tries, left);
	}
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, pin, 6, &tries),
	                 P11U_CARD_E_SECRET_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(count_sent(0x8C, 0x20), 5);
	assert_int_equal(count_sent(-1, 0x20), 5); /* and no other VERIFY */
	/* Each right after selecting 3F00/5030/0810, with 32 bytes of data. */
	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins == 0x20) {
			assert_int_equal(sent[i].p2, 0x01);
			assert_int_equal(sent[i].p3, 0x20);
			assert_int_equal(sent[i].len, 5 + 0x20);
		}
}

/* ---- raw RSA ------------------------------------------------------------------------------- */

static EVP_PKEY *key_of(const struct fixture *f, const char *id)
{
	return cert_key(dir_cert(p11u_card_info(f->card)->dir, id));
}

/* m^e with no padding: what the card's raw RSA must undo or produce. */
static void public_op(EVP_PKEY *key, const uint8_t *in, uint8_t *out, bool recover)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t len = 256;

	assert_non_null(ctx);
	if (recover) {
		assert_true(EVP_PKEY_verify_recover_init(ctx) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
		assert_true(EVP_PKEY_verify_recover(ctx, out, &len, in, 256) > 0);
	} else {
		assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
		assert_true(EVP_PKEY_encrypt(ctx, out, &len, in, 256) > 0);
	}
	assert_int_equal(len, 256);
	EVP_PKEY_CTX_free(ctx);
}

static void test_gen1_sign_and_decipher(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *sign_key = key_of(f, "SIGN"), *crypt_key = key_of(f, "KEYX");
	uint8_t block[256], out[256], back[256], cryptogram[256];
	size_t out_len = sizeof out;

	assert_true(RAND_bytes(block, sizeof block) == 1);
	block[0] = 0x00; /* below any 2048-bit modulus */
	p11u_card_enable_real_login(f->card, true);
	/* Not logged in: the card says 6982. */
	assert_int_equal(p11u_card_sign(f->card, 0x01, P11U_RSA_RAW, block, 256, out, &out_len),
	                 P11U_CARD_E_NOT_VERIFIED);
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, NULL),
	                 P11U_CARD_OK);
	/* gen1 pads nothing: PKCS#1 v1.5 is the caller's. */
	out_len = sizeof out;
	assert_int_equal(p11u_card_sign(f->card, 0x01, P11U_RSA_PKCS1, block, 51, out, &out_len),
	                 P11U_CARD_E_ARGS);

	n_sent = 0;
	out_len = sizeof out;
	assert_int_equal(p11u_card_sign(f->card, 0x01, P11U_RSA_RAW, block, 256, out, &out_len),
	                 P11U_CARD_OK);
	assert_int_equal(out_len, 256);
	public_op(sign_key, out, back, true);
	assert_memory_equal(back, block, 256);
	assert_int_equal(count_sent(0x80, 0xEA), 2);
	assert_int_equal(count_sent(0x80, 0xC1), 1);
	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins == 0xEA) {
			assert_true(sent[i].p1 == 0x82 || sent[i].p1 == 0x02);
			assert_int_equal(sent[i].p2, 0x01);
			assert_int_equal(sent[i].len, 5 + 128); /* no Le, as traced */
		}

	public_op(crypt_key, block, cryptogram, false);
	out_len = sizeof out;
	assert_int_equal(
	    p11u_card_decipher(f->card, 0x05, P11U_RSA_RAW, cryptogram, 256, out, &out_len),
	    P11U_CARD_OK);
	assert_int_equal(out_len, 256);
	assert_memory_equal(out, block, 256);
	/* A key the directory does not name, or the wrong size of input: nothing sent. */
	n_sent = 0;
	out_len = sizeof out;
	assert_int_equal(p11u_card_sign(f->card, 0x02, P11U_RSA_RAW, block, 256, out, &out_len),
	                 P11U_CARD_E_ARGS);
	assert_int_equal(p11u_card_sign(f->card, 0x01, P11U_RSA_RAW, block, 255, out, &out_len),
	                 P11U_CARD_E_DATA_LEN);
	assert_int_equal(n_sent, 0);
	EVP_PKEY_free(sign_key);
	EVP_PKEY_free(crypt_key);
}

/* ---- what gen1 never receives ------------------------------------------------------------ */

/* Every entry point of the card layer, login disabled then enabled: no VERIFY but the protected
 * one for the PIN, and none of the test card's commands. */
static void test_no_plaintext_verify_to_gen1(void **state)
{
	struct fixture *f = *state;
	const uint8_t *pin = (const uint8_t *)PIN, *uc = (const uint8_t *)"Ab12cd34";
	uint8_t in[256] = {0}, out[256];
	struct p11u_secret_state st;
	size_t out_len;

	n_sent = 0;
	for (int enabled = 0; enabled <= 1; enabled++) {
		p11u_card_enable_real_login(f->card, enabled);
		p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st);
		p11u_card_secret_state(f->card, P11U_SECRET_USER_CODE, &st);
		p11u_card_verify(f->card, P11U_SECRET_USER_CODE, uc, 8, NULL);
		p11u_card_change_pin(f->card, pin, 6, pin, 6, NULL);
		p11u_card_reset_pin(f->card, uc, 8, pin, 6, NULL);
		p11u_card_random(f->card, out, 16);
		out_len = sizeof out;
		p11u_card_sign(f->card, 0x01, P11U_RSA_PKCS1, in, 51, out, &out_len);
		out_len = sizeof out;
		p11u_card_decipher(f->card, 0x05, P11U_RSA_PKCS1, in, 256, out, &out_len);
		assert_int_equal(count_sent(-1, 0x20), 0);
		p11u_card_verify(f->card, P11U_SECRET_PIN, pin, 6, NULL);
	}
	/* The one VERIFY that went out: the protected one, once enabled. */
	assert_int_equal(count_sent(-1, 0x20), 1);
	assert_int_equal(count_sent(0x8C, 0x20), 1);
	for (size_t i = 0; i < n_sent; i++)
		if (sent[i].ins == 0x24 || sent[i].ins == 0x2C || sent[i].ins == 0x22 ||
		    sent[i].ins == 0x2A || sent[i].ins == 0x84)
			fail_msg("a test-card command reached gen1: %02X %02X", sent[i].cla,
			         sent[i].ins);
}

/* ---- gen2 --------------------------------------------------------------------------------- */

static void test_gen2_read_only(void **state)
{
	struct fixture *f = *state;
	const struct p11u_card_info *info = p11u_card_info(f->card);
	const uint8_t *pin = (const uint8_t *)PIN;
	uint8_t in[256] = {0}, out[256];
	size_t out_len = sizeof out;
	struct p11u_secret_state st;
	unsigned long apdus;

	assert_int_equal(info->kind, P11U_CARD_KIND_GEN2);
	assert_string_equal(info->card_type, "HiCOS GPPKI");
	assert_string_equal(info->card_number, "XC00000000091349");
	assert_int_equal(info->dir->n_certs, 4);
	assert_key_matches_cert(dir_key(info->dir, "SIGN", true), dir_cert(info->dir, "SIGN"));
	assert_reads_only();
	/* After the applet: class 00 for SELECT and READ BINARY. */
	for (size_t i = 1; i < n_sent; i++)
		if (sent[i].ins == 0xA4 || sent[i].ins == 0xB0)
			assert_int_equal(sent[i].cla, 0x00);

	p11u_card_enable_real_login(f->card, true);
	assert_false(p11u_card_has_security_ops(f->card));
	apdus = f->tc->apdus;
	assert_int_equal(p11u_card_verify(f->card, P11U_SECRET_PIN, pin, 6, NULL),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_sign(f->card, 0x01, P11U_RSA_RAW, in, 256, out, &out_len),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_decipher(f->card, 0x05, P11U_RSA_RAW, in, 256, out, &out_len),
	                 P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(p11u_card_random(f->card, out, 8), P11U_CARD_E_NOT_SUPPORTED);
	assert_int_equal(f->tc->apdus, apdus);
	assert_int_equal(count_sent(-1, 0x20), 0);
}

#define BOTH(name, setup)                                                                          \
	{#name " (T=1)", name, setup, teardown, NULL},                                             \
	{                                                                                          \
#name " (T=0)", name, setup, teardown, (void *)1                                   \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identification_reads_only),
	    BOTH(test_gen1_objects_from_directory, setup_gen1),
	    {"test_gen1_keys_from_records (T=1)", test_gen1_keys_from_records, NULL, NULL, NULL},
	    {"test_gen1_keys_from_records (T=0)", test_gen1_keys_from_records, NULL, NULL,
	     (void *)1},
	    cmocka_unit_test(test_verify_vector_independent),
	    BOTH(test_gen1_login_gate, setup_gen1),
	    BOTH(test_gen1_verify_counts, setup_gen1),
	    BOTH(test_gen1_sign_and_decipher, setup_gen1),
	    BOTH(test_no_plaintext_verify_to_gen1, setup_gen1),
	    BOTH(test_gen2_read_only, setup_gen2),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
