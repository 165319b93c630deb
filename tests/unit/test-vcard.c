/* Unit tests of the virtual card's APDU library, in-process through vcard_process:
 * every command and status word of docs/card-profile.md, the counters and their
 * persistence, chaining, 61xx / GET RESPONSE, and T=0 behaviour.
 *
 * Three cards are personalized once per run (1024-bit for most tests, 2048 and
 * 3072 bits where the size matters); each test works on its own copy. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "vcard/vcard.h"

#define PIN       "123456"
#define USER_CODE "Ab12cd34"
#define NO_LE     (-1)

static char tmpdir[] = "/tmp/test-vcard-XXXXXX";
static char card1024[4200], card2048[4200], card3072[4200];
static unsigned copies;

struct fixture {
	char path[4200];
	struct vcard *card;
};

/* APDU helpers. */

struct resp {
	uint8_t data[VCARD_RESP_MAX];
	size_t len;
	uint16_t sw;
};

static uint16_t transmit(struct vcard *card, const uint8_t *apdu, size_t len, struct resp *r)
{
	uint8_t raw[VCARD_RESP_MAX];
	size_t n = vcard_process(card, apdu, len, raw);

	assert_true(n >= 2 && n <= VCARD_RESP_MAX);
	r->len = n - 2;
	memcpy(r->data, raw, r->len);
	r->sw = (uint16_t)(raw[n - 2] << 8 | raw[n - 1]);
	return r->sw;
}

/* Sends CLA INS P1 P2 [Lc data] [Le]; le is NO_LE or 1..256. */
static uint16_t cmd(struct vcard *card, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const void *data, size_t lc, int le, struct resp *r)
{
	uint8_t apdu[4 + 1 + 255 + 1];
	size_t len = 4;
	struct resp ignored;

	assert_true(lc <= 255);
	apdu[0] = cla;
	apdu[1] = ins;
	apdu[2] = p1;
	apdu[3] = p2;
	if (lc > 0) {
		apdu[len++] = (uint8_t)lc;
		memcpy(apdu + len, data, lc);
		len += lc;
	}
	if (le != NO_LE)
		apdu[len++] = (uint8_t)(le & 0xff);
	return transmit(card, apdu, len, r ? r : &ignored);
}

static uint16_t select_fid(struct vcard *card, uint16_t fid)
{
	uint8_t f[2] = {(uint8_t)(fid >> 8), (uint8_t)fid};

	return cmd(card, 0x80, 0xA4, 0x00, 0x00, f, 2, NO_LE, NULL);
}

static uint16_t read_binary(struct vcard *card, size_t offset, int le, struct resp *r)
{
	return cmd(card, 0x80, 0xB0, (uint8_t)(offset >> 8), (uint8_t)offset, NULL, 0, le, r);
}

static uint16_t verify(struct vcard *card, uint8_t ref, const char *secret)
{
	return cmd(card, 0x80, 0x20, 0x00, ref, secret, secret ? strlen(secret) : 0, NO_LE, NULL);
}

/* len1 || first || len2 || second */
static size_t two_secrets(uint8_t *out, const char *first, const char *second)
{
	size_t a = strlen(first), b = strlen(second);

	out[0] = (uint8_t)a;
	memcpy(out + 1, first, a);
	out[1 + a] = (uint8_t)b;
	memcpy(out + 2 + a, second, b);
	return 2 + a + b;
}

static uint16_t change_pin(struct vcard *card, const char *old_pin, const char *new_pin)
{
	uint8_t data[64];

	return cmd(card, 0x80, 0x24, 0x00, 0x01, data, two_secrets(data, old_pin, new_pin), NO_LE,
	           NULL);
}

static uint16_t reset_retry_counter(struct vcard *card, const char *code, const char *new_pin)
{
	uint8_t data[64];

	return cmd(card, 0x80, 0x2C, 0x00, 0x01, data, two_secrets(data, code, new_pin), NO_LE,
	           NULL);
}

static uint16_t mse(struct vcard *card, uint8_t p2, uint8_t key, uint8_t alg)
{
	uint8_t data[] = {0x84, 0x01, key, 0x80, 0x01, alg};

	return cmd(card, 0x80, 0x22, 0x41, p2, data, sizeof(data), NO_LE, NULL);
}

static void card_status(struct vcard *card, int *pin_tries, int *uc_tries)
{
	struct vcard_status st;

	vcard_get_status(card, &st);
	*pin_tries = st.pin_tries;
	*uc_tries = st.user_code_tries;
}

/* Fixtures. */

static int create_card(char *path, size_t size, const char *name, int bits)
{
	struct vcard_params params = {.key_bits = bits};
	char err[512];

	snprintf(path, size, "%s/%s", tmpdir, name);
	if (vcard_create(path, &params, err, sizeof(err)) != 0) {
		fprintf(stderr, "# create %s: %s\n", name, err);
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	if (create_card(card1024, sizeof(card1024), "base1024", 1024) != 0 ||
	    create_card(card2048, sizeof(card2048), "base2048", 2048) != 0 ||
	    create_card(card3072, sizeof(card3072), "base3072", 3072) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmdline[4200];

	snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", tmpdir);
	return system(cmdline) == 0 ? 0 : -1;
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[8192];
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static int setup_copy(void **state, const char *base)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/card-%u", tmpdir, copies++);
	copy_file(base, f->path);
	f->card = vcard_load(f->path, err, sizeof(err));
	if (!f->card) {
		fprintf(stderr, "# load: %s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup1024(void **state)
{
	return setup_copy(state, card1024);
}

static int setup2048(void **state)
{
	return setup_copy(state, card2048);
}

static int setup3072(void **state)
{
	return setup_copy(state, card3072);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vcard_free(f->card);
	unlink(f->path);
	free(f);
	return 0;
}

/* Power-cycles the card process: frees it and loads it again from its state file. */
static void restart(struct fixture *f)
{
	char err[512];

	vcard_free(f->card);
	f->card = vcard_load(f->path, err, sizeof(err));
	assert_non_null(f->card);
}

/* Reads a certificate slot of EF 08F2 through the card and parses it. */
static X509 *read_cert(struct vcard *card, size_t slot_offset)
{
	uint8_t der[0x700];
	struct resp r;
	const uint8_t *p = der;

	assert_int_equal(select_fid(card, 0x5030), 0x9000);
	assert_int_equal(select_fid(card, 0x08F2), 0x9000);
	for (size_t off = 0; off < sizeof(der); off += r.len) {
		size_t want = sizeof(der) - off < 256 ? sizeof(der) - off : 256;

		assert_int_equal(read_binary(card, slot_offset + off, (int)want, &r), 0x9000);
		assert_int_equal(r.len, want);
		memcpy(der + off, r.data, r.len);
	}
	return d2i_X509(NULL, &p, sizeof(der));
}

static EVP_PKEY *cert_key(struct vcard *card, size_t slot_offset)
{
	X509 *cert = read_cert(card, slot_offset);
	EVP_PKEY *key;

	assert_non_null(cert);
	key = X509_get_pubkey(cert);
	X509_free(cert);
	assert_non_null(key);
	return key;
}

#define SLOT_ROOT       0x0000
#define SLOT_ISSUING    0x0700
#define SLOT_ENCRYPTION 0x0E00
#define SLOT_SIGNATURE  0x1500

/* SHA-256 DigestInfo of msg. */
static size_t digest_info(const char *msg, uint8_t out[51])
{
	static const uint8_t prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                                 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	unsigned int len = 32;

	memcpy(out, prefix, sizeof(prefix));
	assert_int_equal(
	    EVP_Digest(msg, strlen(msg), out + sizeof(prefix), &len, EVP_sha256(), NULL), 1);
	return sizeof(prefix) + 32;
}

static void assert_signature_ok(EVP_PKEY *pub, const char *msg, const uint8_t *sig, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, len, (const uint8_t *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(ctx);
}

static size_t encrypt_to(EVP_PKEY *pub, int padding, const uint8_t *in, size_t in_len, uint8_t *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	size_t out_len = 512;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, padding), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, out, &out_len, in, in_len), 1);
	EVP_PKEY_CTX_free(ctx);
	return out_len;
}

/* ATR and class / instruction checks. */

static void test_atr(void **state)
{
	static const uint8_t t1[] = {0x3B, 0x89, 0x01, 'P', '1', '1', 'U',
	                             'V',  'C',  'A',  'R', 'D', 0xCF};
	static const uint8_t t0[] = {0x3B, 0x09, 'P', '1', '1', 'U', 'V', 'C', 'A', 'R', 'D'};
	struct fixture *f = *state;
	uint8_t atr[64], x = 0;
	size_t len;

	len = vcard_atr(f->card, atr, sizeof(atr));
	assert_int_equal(len, sizeof(t1));
	assert_memory_equal(atr, t1, sizeof(t1));
	for (size_t i = 1; i < len; i++) /* TCK: T0 .. TCK XOR to 0 */
		x ^= atr[i];
	assert_int_equal(x, 0);
	assert_int_equal(vcard_atr(f->card, atr, 5), 0);

	vcard_set_t0(f->card, true);
	len = vcard_atr(f->card, atr, sizeof(atr));
	assert_int_equal(len, sizeof(t0));
	assert_memory_equal(atr, t0, sizeof(t0));
}

static void test_class_and_instruction(void **state)
{
	struct fixture *f = *state;
	uint8_t mf[] = {0x3F, 0x00};
	uint8_t three[] = {0x80, 0xA4, 0x00};
	uint8_t ext[] = {0x80, 0xA4, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3F, 0x00};
	uint8_t short_lc[] = {0x80, 0xA4, 0x00, 0x00, 0x03, 0x3F, 0x00};
	struct resp r;

	assert_int_equal(cmd(f->card, 0x80, 0xA4, 0x00, 0x00, mf, 2, NO_LE, NULL), 0x9000);
	assert_int_equal(cmd(f->card, 0x00, 0xA4, 0x00, 0x00, mf, 2, NO_LE, NULL), 0x6E00);
	assert_int_equal(cmd(f->card, 0x00, 0xB0, 0x00, 0x00, NULL, 0, 4, NULL), 0x6E00);
	assert_int_equal(cmd(f->card, 0x84, 0xA4, 0x00, 0x00, mf, 2, NO_LE, NULL), 0x6E00);
	assert_int_equal(cmd(f->card, 0x0C, 0xA4, 0x00, 0x00, mf, 2, NO_LE, NULL), 0x6E00);
	/* Chaining is for commands with data only. */
	assert_int_equal(cmd(f->card, 0x90, 0xB0, 0x00, 0x00, NULL, 0, 4, NULL), 0x6E00);
	/* GET RESPONSE is accepted with class 00 (nothing is waiting here). */
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 16, NULL), 0x6985);
	assert_int_equal(cmd(f->card, 0x80, 0xC0, 0x00, 0x00, NULL, 0, 16, NULL), 0x6985);
	assert_int_equal(cmd(f->card, 0x80, 0xFF, 0x00, 0x00, NULL, 0, NO_LE, NULL), 0x6D00);
	assert_int_equal(cmd(f->card, 0x80, 0x0E, 0x00, 0x00, NULL, 0, NO_LE, NULL), 0x6D00);
	assert_int_equal(transmit(f->card, three, sizeof(three), &r), 0x6700);
	assert_int_equal(transmit(f->card, ext, sizeof(ext), &r), 0x6700);
	assert_int_equal(transmit(f->card, short_lc, sizeof(short_lc), &r), 0x6700);
}

/* Files. */

static void test_select(void **state)
{
	struct fixture *f = *state;
	uint8_t one[] = {0x3F};

	assert_int_equal(select_fid(f->card, 0x3F00), 0x9000);
	assert_int_equal(select_fid(f->card, 0x0905), 0x6A82); /* not below the MF */
	assert_int_equal(select_fid(f->card, 0x0900), 0x9000);
	assert_int_equal(select_fid(f->card, 0x0905), 0x9000);
	assert_int_equal(select_fid(f->card, 0x0903), 0x9000);
	assert_int_equal(select_fid(f->card, 0x08F2), 0x6A82); /* lives in DF 5030 */
	assert_int_equal(select_fid(f->card, 0x5030), 0x9000); /* a sibling DF */
	assert_int_equal(select_fid(f->card, 0x08F2), 0x9000);
	assert_int_equal(select_fid(f->card, 0x1234), 0x6A82);
	assert_int_equal(cmd(f->card, 0x80, 0xA4, 0x00, 0x00, one, 1, NO_LE, NULL), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0xA4, 0x00, 0x00, NULL, 0, NO_LE, NULL), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0xA4, 0x04, 0x00, "\x3F\x00", 2, NO_LE, NULL), 0x6A86);
	assert_int_equal(cmd(f->card, 0x80, 0xA4, 0x00, 0x0C, "\x3F\x00", 2, NO_LE, NULL), 0x6A86);
}

static void test_read_binary(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	/* No current EF. */
	assert_int_equal(read_binary(f->card, 0, 4, &r), 0x6A82);
	assert_int_equal(select_fid(f->card, 0x0900), 0x9000);
	assert_int_equal(read_binary(f->card, 0, 4, &r), 0x6A82);

	assert_int_equal(select_fid(f->card, 0x0905), 0x9000);
	assert_int_equal(read_binary(f->card, 0, 24, &r), 0x9000);
	assert_int_equal(r.len, 24);
	assert_memory_equal(r.data, "P11U V1                 ", 24);
	/* A read that hits the end: the bytes there are, with 6282. */
	assert_int_equal(read_binary(f->card, 0, 30, &r), 0x6282);
	assert_int_equal(r.len, 24);
	assert_int_equal(read_binary(f->card, 20, 4, &r), 0x9000);
	assert_int_equal(r.len, 4);
	assert_int_equal(read_binary(f->card, 20, 256, &r), 0x6282);
	assert_int_equal(r.len, 4);
	/* Offsets at or beyond the end. */
	assert_int_equal(read_binary(f->card, 24, 1, &r), 0x6B00);
	assert_int_equal(read_binary(f->card, 0x7FFF, 1, &r), 0x6B00);
	/* Short EF identifiers are not supported; Le is required; no data. */
	assert_int_equal(cmd(f->card, 0x80, 0xB0, 0x85, 0x00, NULL, 0, 4, &r), 0x6A86);
	assert_int_equal(cmd(f->card, 0x80, 0xB0, 0x00, 0x00, NULL, 0, NO_LE, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0xB0, 0x00, 0x00, "\x01", 1, 4, &r), 0x6700);

	assert_int_equal(select_fid(f->card, 0x0903), 0x9000);
	assert_int_equal(read_binary(f->card, 0, 16, &r), 0x9000);
	assert_memory_equal(r.data, "XC00000000091349", 16);
	assert_int_equal(read_binary(f->card, 16, 1, &r), 0x6B00);

	/* EF 08F2: 0x1C00 bytes, a DER certificate at the start of each slot. */
	assert_int_equal(select_fid(f->card, 0x5030), 0x9000);
	assert_int_equal(select_fid(f->card, 0x08F2), 0x9000);
	for (size_t slot = 0; slot < 4; slot++) {
		assert_int_equal(read_binary(f->card, slot * 0x700, 2, &r), 0x9000);
		assert_int_equal(r.data[0], 0x30);
		assert_int_equal(r.data[1], 0x82);
	}
	assert_int_equal(read_binary(f->card, 0x1BFF, 2, &r), 0x6282);
	assert_int_equal(r.len, 1);
	assert_int_equal(read_binary(f->card, 0x1B00, 256, &r), 0x9000);
	assert_int_equal(r.len, 256);
	assert_int_equal(read_binary(f->card, 0x1C00, 1, &r), 0x6B00);
}

static void test_certificates(void **state)
{
	struct fixture *f = *state;
	X509 *root = read_cert(f->card, SLOT_ROOT), *issuing = read_cert(f->card, SLOT_ISSUING);
	X509 *enc = read_cert(f->card, SLOT_ENCRYPTION), *sig = read_cert(f->card, SLOT_SIGNATURE);
	EVP_PKEY *root_key, *issuing_key;

	assert_non_null(root);
	assert_non_null(issuing);
	assert_non_null(enc);
	assert_non_null(sig);
	root_key = X509_get0_pubkey(root);
	issuing_key = X509_get0_pubkey(issuing);
	assert_int_equal(X509_verify(root, root_key), 1);
	assert_int_equal(X509_verify(issuing, root_key), 1);
	assert_int_equal(X509_verify(sig, issuing_key), 1);
	assert_int_equal(X509_verify(enc, issuing_key), 1);
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_check_ca(issuing), 1);
	assert_int_equal(X509_check_ca(sig), 0);
	assert_int_equal(X509_get_key_usage(sig), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION);
	assert_int_equal(X509_get_key_usage(enc), KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT);
	assert_int_equal(X509_get_key_usage(issuing), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(sig)), 1024);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(sig), X509_get_subject_name(issuing)),
	                 0);
	X509_free(root);
	X509_free(issuing);
	X509_free(enc);
	X509_free(sig);
}

/* Secrets. */

static void test_verify_counts_down_to_blocked(void **state)
{
	struct fixture *f = *state;
	int pin, uc;

	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C1);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C1);
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C0);
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x6983);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x6983); /* blocked: not even checked */
	assert_int_equal(verify(f->card, 0x01, NULL), 0x6983);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 0);
	assert_int_equal(uc, 3);

	restart(f);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 0);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x6983);
}

static void test_verify_persists_before_answer(void **state)
{
	struct fixture *f = *state;
	struct vcard *other;
	char err[512];
	int pin, uc;

	assert_int_equal(verify(f->card, 0x01, "999999"), 0x63C2);
	/* The answer is out: the file already says so (another process reading it). */
	other = vcard_load(f->path, err, sizeof(err));
	assert_non_null(other);
	card_status(other, &pin, &uc);
	assert_int_equal(pin, 2);
	vcard_free(other);

	/* Right PIN: 9000 and the counter back to 3, also in the file. */
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	other = vcard_load(f->path, err, sizeof(err));
	assert_non_null(other);
	card_status(other, &pin, &uc);
	assert_int_equal(pin, 3);
	vcard_free(other);
}

static void test_verify_format_costs_nothing(void **state)
{
	struct fixture *f = *state;
	int pin, uc;

	assert_int_equal(verify(f->card, 0x01, "12345"), 0x6700);
	assert_int_equal(verify(f->card, 0x01, "123456789"), 0x6700);
	assert_int_equal(verify(f->card, 0x01, "123 56"), 0x6A80);
	assert_int_equal(verify(f->card, 0x01, "12345\x7f"), 0x6A80);
	assert_int_equal(verify(f->card, 0x01, "12345\xe4"), 0x6A80);
	assert_int_equal(verify(f->card, 0x02, "Ab12c"), 0x6700);
	assert_int_equal(verify(f->card, 0x02, "Ab12cd34567"), 0x6700);
	assert_int_equal(verify(f->card, 0x02, "Ab12 d34"), 0x6A80);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
	assert_int_equal(verify(f->card, 0x02, NULL), 0x63C3);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 3);
	assert_int_equal(uc, 3);
	/* Bad references. */
	assert_int_equal(cmd(f->card, 0x80, 0x20, 0x00, 0x03, PIN, 6, NO_LE, NULL), 0x6A86);
	assert_int_equal(cmd(f->card, 0x80, 0x20, 0x01, 0x01, PIN, 6, NO_LE, NULL), 0x6A86);
}

static void test_verify_right_and_session(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(verify(f->card, 0x01, "1234567"), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x9000); /* verified in this session */
	/* A wrong try ends the verified state. */
	assert_int_equal(verify(f->card, 0x01, "1234567"), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	vcard_reset(f->card);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
}

static void test_user_code_grants_nothing(void **state)
{
	struct fixture *f = *state;
	uint8_t di[51];
	size_t n = digest_info("x", di);

	assert_int_equal(verify(f->card, 0x02, "ab12cd34"), 0x63C2); /* case-sensitive */
	assert_int_equal(verify(f->card, 0x02, USER_CODE), 0x9000);
	assert_int_equal(verify(f->card, 0x02, NULL), 0x9000);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, NULL), 0x6982);
}

static void test_change_reference_data(void **state)
{
	struct fixture *f = *state;
	uint8_t bad[] = {0x06, '1', '2', '3', '4', '5', '6', 0x07, 'a', 'b'};
	int pin, uc;

	/* New PIN's format first, then the old one: no try consumed. */
	assert_int_equal(change_pin(f->card, "000000", "12345"), 0x6700);
	assert_int_equal(change_pin(f->card, "000000", "123 456"), 0x6A80);
	assert_int_equal(change_pin(f->card, "12345", "654321"), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x24, 0x00, 0x01, bad, sizeof(bad), NO_LE, NULL),
	                 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x24, 0x00, 0x01, "\x06", 1, NO_LE, NULL), 0x6700);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
	/* Wrong old PIN counts like VERIFY. */
	assert_int_equal(change_pin(f->card, "000000", "654321"), 0x63C2);
	assert_int_equal(cmd(f->card, 0x80, 0x24, 0x00, 0x02, NULL, 0, NO_LE, NULL), 0x6A86);
	/* Right: changed, counter 3, still verified. */
	assert_int_equal(change_pin(f->card, PIN, "654321"), 0x9000);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x9000);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 3);

	restart(f);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, "654321"), 0x9000);

	/* Blocked: 6983, nothing checked. */
	for (int i = 2; i >= 0; i--)
		assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C0 | i);
	assert_int_equal(change_pin(f->card, "654321", "111111"), 0x6983);
}

static void test_reset_retry_counter_locked(void **state)
{
	struct fixture *f = *state;
	int pin, uc;

	for (int i = 0; i < 3; i++)
		verify(f->card, 0x01, "000000");
	assert_int_equal(verify(f->card, 0x01, NULL), 0x6983);

	/* The new PIN's format first: no user-code try consumed. */
	assert_int_equal(reset_retry_counter(f->card, "wrongcode", "12345"), 0x6700);
	assert_int_equal(reset_retry_counter(f->card, "wrongcode", "1234 6"), 0x6A80);
	assert_int_equal(reset_retry_counter(f->card, "short", "111111"), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x2C, 0x00, 0x01, "\x08", 1, NO_LE, NULL), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x2C, 0x00, 0x02, NULL, 0, NO_LE, NULL), 0x6A86);
	assert_int_equal(cmd(f->card, 0x80, 0x2C, 0x03, 0x01, NULL, 0, NO_LE, NULL), 0x6A86);
	card_status(f->card, &pin, &uc);
	assert_int_equal(uc, 3);

	assert_int_equal(reset_retry_counter(f->card, "wrongcode", "111111"), 0x63C2);
	assert_int_equal(verify(f->card, 0x02, NULL), 0x63C2);
	assert_int_equal(reset_retry_counter(f->card, USER_CODE, "111111"), 0x9000);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 3);
	assert_int_equal(uc, 3);
	/* The new PIN is not verified by the reset. */
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);

	restart(f);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 3);
	assert_int_equal(uc, 3);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, "111111"), 0x9000);
}

static void test_reset_retry_counter_not_locked(void **state)
{
	struct fixture *f = *state;

	/* "Forgot my PIN": allowed while the PIN is not locked. */
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C2);
	assert_int_equal(reset_retry_counter(f->card, USER_CODE, "22222222"), 0x9000);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
	assert_int_equal(verify(f->card, 0x01, "22222222"), 0x9000);
}

static void test_reset_retry_counter_blocked_user_code(void **state)
{
	struct fixture *f = *state;
	int pin, uc;

	assert_int_equal(reset_retry_counter(f->card, "wrong1", "111111"), 0x63C2);
	assert_int_equal(reset_retry_counter(f->card, "wrong2", "111111"), 0x63C1);
	assert_int_equal(reset_retry_counter(f->card, "wrong3", "111111"), 0x63C0);
	assert_int_equal(reset_retry_counter(f->card, USER_CODE, "111111"), 0x6983);
	assert_int_equal(verify(f->card, 0x02, USER_CODE), 0x6983);
	/* Nothing changed: the old PIN still works. */
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	restart(f);
	card_status(f->card, &pin, &uc);
	assert_int_equal(pin, 3);
	assert_int_equal(uc, 0);
	assert_int_equal(reset_retry_counter(f->card, USER_CODE, "111111"), 0x6983);
}

static void test_reset_user_code_out_of_band(void **state)
{
	struct fixture *f = *state;
	struct vcard *ca;
	char err[512];
	int pin, uc;

	for (int i = 0; i < 3; i++)
		verify(f->card, 0x02, "wrong-code");
	assert_int_equal(verify(f->card, 0x02, NULL), 0x6983);

	/* Another process (the CLI) resets the user code while this card runs. */
	ca = vcard_load(f->path, err, sizeof(err));
	assert_non_null(ca);
	assert_int_equal(vcard_reset_user_code(ca, "short", err, sizeof(err)), -1);
	assert_int_equal(vcard_reset_user_code(ca, "New-Code9", err, sizeof(err)), 0);
	vcard_free(ca);

	assert_int_equal(verify(f->card, 0x02, NULL), 0x63C3);
	assert_int_equal(verify(f->card, 0x02, USER_CODE), 0x63C2);
	assert_int_equal(verify(f->card, 0x02, "New-Code9"), 0x9000);
	card_status(f->card, &pin, &uc);
	assert_int_equal(uc, 3);
}

/* Keys. */

static void test_mse(void **state)
{
	struct fixture *f = *state;
	uint8_t tlv_swapped[] = {0x80, 0x01, 0x00, 0x84, 0x01, 0x01};
	uint8_t tlv_twice[] = {0x84, 0x01, 0x01, 0x84, 0x01, 0x01};
	uint8_t tlv_long[] = {0x84, 0x02, 0x01, 0x80, 0x01, 0x02};

	assert_int_equal(mse(f->card, 0xB6, 0x01, 0x02), 0x9000);
	assert_int_equal(mse(f->card, 0xB6, 0x01, 0x00), 0x9000);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x02), 0x9000);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x00), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x41, 0xB6, tlv_swapped, 6, NO_LE, NULL), 0x9000);
	/* Each key for what its certificate allows. */
	assert_int_equal(mse(f->card, 0xB6, 0x02, 0x02), 0x6A80);
	assert_int_equal(mse(f->card, 0xB8, 0x01, 0x02), 0x6A80);
	assert_int_equal(mse(f->card, 0xB6, 0x03, 0x02), 0x6A80);
	assert_int_equal(mse(f->card, 0xB6, 0x01, 0x01), 0x6A80);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x41, 0xB6, tlv_twice, 6, NO_LE, NULL), 0x6A80);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x41, 0xB6, tlv_long, 6, NO_LE, NULL), 0x6A80);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x41, 0xB6, tlv_long, 5, NO_LE, NULL), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x41, 0xA4, tlv_swapped, 6, NO_LE, NULL), 0x6A86);
	assert_int_equal(cmd(f->card, 0x80, 0x22, 0x81, 0xB6, tlv_swapped, 6, NO_LE, NULL), 0x6A86);
}

static void test_sign_pkcs1(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_SIGNATURE);
	uint8_t di[51], big[118];
	size_t n = digest_info("hello, card", di);
	struct resp r;

	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, &r), 0x6982);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(mse(f->card, 0xB6, 0x01, 0x02), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, &r), 0x9000);
	assert_int_equal(r.len, 128);
	assert_signature_ok(pub, "hello, card", r.data, r.len);
	/* Without Le too; and without MSE SET (the default environment is key 01, PKCS#1). */
	vcard_reset(f->card);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, NO_LE, &r), 0x9000);
	assert_signature_ok(pub, "hello, card", r.data, r.len);
	/* Input lengths: at most k - 11 bytes, at least one. */
	memset(big, 0x5A, sizeof(big));
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, big, 117, 0, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, big, 118, 0, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, NULL, 0, 0, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9B, di, n, 0, &r), 0x6A86);
	assert_false(vcard_last_was_secret(f->card));
	EVP_PKEY_free(pub);
}

static void test_sign_raw(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_SIGNATURE);
	uint8_t block[128], recovered[128], di[51];
	size_t n = digest_info("raw", di), rec_len = sizeof(recovered);
	EVP_PKEY_CTX *ctx;
	struct resp r;

	/* EMSA-PKCS1-v1_5 block built by the caller, as the module does for PSS and others. */
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, sizeof(block) - 3 - n);
	block[sizeof(block) - n - 1] = 0x00;
	memcpy(block + sizeof(block) - n, di, n);

	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(mse(f->card, 0xB6, 0x01, 0x00), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, block, sizeof(block), 0, &r), 0x9000);
	assert_int_equal(r.len, 128);
	assert_signature_ok(pub, "raw", r.data, r.len);

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	assert_int_equal(EVP_PKEY_verify_recover_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_verify_recover(ctx, recovered, &rec_len, r.data, r.len), 1);
	assert_int_equal(rec_len, sizeof(block));
	assert_memory_equal(recovered, block, sizeof(block));
	EVP_PKEY_CTX_free(ctx);

	/* Exactly the modulus size, and smaller than the modulus. */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, block, 127, 0, &r), 0x6700);
	memset(block, 0xFF, sizeof(block));
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, block, sizeof(block), 0, &r), 0x6A80);
	EVP_PKEY_free(pub);
}

static void test_decipher(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_ENCRYPTION);
	static const char secret[] = "session key 0123456789";
	uint8_t data[1 + 128], block[128];
	struct resp r;

	data[0] = 0x00;
	assert_int_equal(
	    encrypt_to(pub, RSA_PKCS1_PADDING, (const uint8_t *)secret, strlen(secret), data + 1),
	    128);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x6982);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x02), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(r.len, strlen(secret));
	assert_memory_equal(r.data, secret, strlen(secret));

	/* Raw: the whole block comes back. */
	memset(block, 0, sizeof(block));
	memcpy(block + sizeof(block) - 5, "hello", 5);
	encrypt_to(pub, RSA_NO_PADDING, block, sizeof(block), data + 1);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x00), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x9000);
	assert_int_equal(r.len, 128);
	assert_memory_equal(r.data, block, sizeof(block));

	/* Padding indicator, lengths, a cryptogram not below the modulus, bad padding. */
	data[0] = 0x01;
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x6A80);
	data[0] = 0x00;
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, 128, 0, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 1, 128, 0, &r), 0x6700);
	memset(data + 1, 0xFF, 128);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x6A80);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x02), 0x9000);
	encrypt_to(pub, RSA_NO_PADDING, block, sizeof(block), data + 1); /* not PKCS#1 type 2 */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, sizeof(data), 0, &r), 0x6A80);
	EVP_PKEY_free(pub);
}

static void test_get_challenge(void **state)
{
	struct fixture *f = *state;
	struct resp a, b;

	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 8, &a), 0x9000);
	assert_int_equal(a.len, 8);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 8, &b), 0x9000);
	assert_memory_not_equal(a.data, b.data, 8);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 256, &a), 0x9000);
	assert_int_equal(a.len, 256);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, NO_LE, &a), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, "\x01", 1, 8, &a), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x01, 0x00, NULL, 0, 8, &a), 0x6A86);
}

static void test_reset_clears_session(void **state)
{
	struct fixture *f = *state;
	uint8_t di[51];
	size_t n = digest_info("x", di);
	struct resp r;

	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(select_fid(f->card, 0x0900), 0x9000);
	assert_int_equal(select_fid(f->card, 0x0905), 0x9000);
	vcard_reset(f->card);
	assert_int_equal(read_binary(f->card, 0, 4, &r), 0x6A82);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, &r), 0x6982);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x63C3);
}

/* Chaining (2048-bit card: PSO DECIPHER takes 257 bytes). */

static void build_cryptogram(struct fixture *f, const char *secret, uint8_t data[257])
{
	EVP_PKEY *pub = cert_key(f->card, SLOT_ENCRYPTION);

	data[0] = 0x00;
	assert_int_equal(
	    encrypt_to(pub, RSA_PKCS1_PADDING, (const uint8_t *)secret, strlen(secret), data + 1),
	    256);
	EVP_PKEY_free(pub);
}

static void test_chained_decipher(void **state)
{
	struct fixture *f = *state;
	uint8_t data[257];
	struct resp r;

	build_cryptogram(f, "chained secret", data);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(r.len, 0);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 255, 2, 0, &r), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(r.len, strlen("chained secret"));
	assert_memory_equal(r.data, "chained secret", r.len);

	/* Three segments work as well. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 100, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data + 100, 100, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 200, 57, NO_LE, &r), 0x9000);
	assert_memory_equal(r.data, "chained secret", r.len);

	/* Unchained, 257 bytes do not fit a short APDU; a partial cryptogram is a wrong length. */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, 255, 0, &r), 0x6700);
}

static void test_chain_broken(void **state)
{
	struct fixture *f = *state;
	uint8_t data[257];
	struct resp r;

	build_cryptogram(f, "broken", data);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);

	/* Another command breaks the chain: it is dropped, and its continuation gets 6883. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(select_fid(f->card, 0x3F00), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 255, 2, 0, &r), 0x6883);
	/* Only the command right after the break is taken for a continuation. */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 255, 2, 0, &r), 0x6700);

	/* A 0x90 segment of another command breaks the chain and starts its own... */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x9E, 0x9A, data, 10, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, data + 10, 9, 0, &r), 0x9000);
	assert_int_equal(r.len, 256); /* a PKCS#1 signature of the 19 chained bytes */
	/* ...and the old chain's next segment, right after, gets 6883 and breaks the new one. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x9E, 0x9A, data, 10, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data + 255, 2, NO_LE, &r), 0x6883);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, data + 10, 9, 0, &r), 0x6883);

	/* Retrying the whole chain works. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 255, 2, 0, &r), 0x9000);
	assert_memory_equal(r.data, "broken", 6);
}

static void test_chain_limits(void **state)
{
	struct fixture *f = *state;
	uint8_t data[255];
	struct resp r;

	memset(data, 0x41, sizeof(data));
	/* Intermediate segments carry data and no Le. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, NULL, 0, NO_LE, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 10, 0, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 10, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 10, 0, &r), 0x6700);
	/* The chain was dropped: this starts a new one. Total at most 1024 bytes. */
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, 5, NO_LE, &r), 0x6700);
	/* 1020 + 4 = 1024 bytes is accepted (and then refused by PSO: wrong length, no PIN). */
	for (int i = 0; i < 4; i++)
		assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r),
		                 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data, 4, NO_LE, &r), 0x6982);
	/* A chained VERIFY is a VERIFY (and its segments are secret). */
	assert_int_equal(cmd(f->card, 0x90, 0x20, 0x00, 0x01, "123", 3, NO_LE, &r), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(cmd(f->card, 0x80, 0x20, 0x00, 0x01, "456", 3, NO_LE, &r), 0x9000);
	assert_int_equal(verify(f->card, 0x01, NULL), 0x9000);
}

/* Responses of more than 256 bytes (3072-bit card). */

static void test_get_response_t1(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_SIGNATURE);
	uint8_t di[51], sig[384];
	size_t n = digest_info("long", di);
	struct resp r;

	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, &r), 0x6180);
	assert_int_equal(r.len, 256);
	memcpy(sig, r.data, 256);
	/* A shorter Le gets part of the rest. */
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x40, &r), 0x6140);
	assert_int_equal(r.len, 0x40);
	memcpy(sig + 256, r.data, 0x40);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x01, 0x00, NULL, 0, 0x40, &r), 0x6A86);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, NO_LE, &r), 0x6700);
	assert_int_equal(cmd(f->card, 0x80, 0xC0, 0x00, 0x00, NULL, 0, 0, &r), 0x9000);
	assert_int_equal(r.len, 0x40);
	memcpy(sig + 256 + 0x40, r.data, 0x40);
	assert_signature_ok(pub, "long", sig, sizeof(sig));
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0, &r), 0x6985);

	/* Any other command drops the waiting data. */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, 0, &r), 0x6180);
	assert_false(vcard_last_was_secret(f->card));
	assert_int_equal(select_fid(f->card, 0x3F00), 0x9000);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x6985);
	EVP_PKEY_free(pub);
}

static void test_get_response_decipher_is_secret(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_ENCRYPTION);
	uint8_t data[385], block[384], out[384];
	struct resp r;

	memset(block, 0x00, sizeof(block));
	memcpy(block + sizeof(block) - 3, "abc", 3);
	data[0] = 0x00;
	assert_int_equal(encrypt_to(pub, RSA_NO_PADDING, block, sizeof(block), data + 1), 384);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(mse(f->card, 0xB8, 0x02, 0x00), 0x9000);
	assert_int_equal(cmd(f->card, 0x90, 0x2A, 0x80, 0x86, data, 255, NO_LE, &r), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x80, 0x86, data + 255, 130, 0, &r), 0x6180);
	assert_true(vcard_last_was_secret(f->card));
	memcpy(out, r.data, 256);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	memcpy(out + 256, r.data, 128);
	assert_memory_equal(out, block, sizeof(block));
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x6985);
	assert_false(vcard_last_was_secret(f->card));
	EVP_PKEY_free(pub);
}

/* T=0: every response with data is announced by 61xx; a wrong Le gets 6Cxx. */

static void test_t0_read(void **state)
{
	struct fixture *f = *state;
	struct resp r;
	uint8_t cert_start[256];

	vcard_set_t0(f->card, true);
	assert_int_equal(select_fid(f->card, 0x0900), 0x9000); /* no data: plain status word */
	assert_int_equal(select_fid(f->card, 0x0905), 0x9000);
	assert_int_equal(read_binary(f->card, 0, 24, &r), 0x6118);
	assert_int_equal(r.len, 0);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 10, &r), 0x6C18);
	assert_int_equal(r.len, 0);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 24, &r), 0x9000);
	assert_memory_equal(r.data, "P11U V1 ", 8);
	/* A read past the end asks for the exact length. */
	assert_int_equal(read_binary(f->card, 20, 10, &r), 0x6C04);
	assert_int_equal(read_binary(f->card, 20, 4, &r), 0x6104);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 4, &r), 0x9000);
	assert_memory_equal(r.data, "    ", 4);
	assert_int_equal(read_binary(f->card, 24, 1, &r), 0x6B00);

	/* 256 bytes: 6100, fetched with Le 00. */
	assert_int_equal(select_fid(f->card, 0x5030), 0x9000);
	assert_int_equal(select_fid(f->card, 0x08F2), 0x9000);
	assert_int_equal(read_binary(f->card, 0x1500, 256, &r), 0x6100);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0xFF, &r), 0x6C00);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 256, &r), 0x9000);
	assert_int_equal(r.len, 256);
	memcpy(cert_start, r.data, 256);
	vcard_set_t0(f->card, false);
	assert_int_equal(read_binary(f->card, 0x1500, 256, &r), 0x9000);
	assert_memory_equal(r.data, cert_start, 256);
}

static void test_t0_crypto(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *pub = cert_key(f->card, SLOT_SIGNATURE);
	uint8_t di[51], sig[384];
	size_t n = digest_info("t0", di);
	struct resp r;

	vcard_set_t0(f->card, true);
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C2);
	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 8, &r), 0x6108);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 8, &r), 0x9000);
	assert_int_equal(r.len, 8);
	/* 384 bytes: 6100, then 256 bytes with 6180, then 128 bytes. */
	assert_int_equal(cmd(f->card, 0x80, 0x2A, 0x9E, 0x9A, di, n, NO_LE, &r), 0x6100);
	assert_int_equal(r.len, 0);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x6C00);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 256, &r), 0x6180);
	assert_int_equal(r.len, 256);
	memcpy(sig, r.data, 256);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x40, &r), 0x6C80);
	assert_int_equal(cmd(f->card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x9000);
	assert_int_equal(r.len, 128);
	memcpy(sig + 256, r.data, 128);
	assert_signature_ok(pub, "t0", sig, sizeof(sig));
	EVP_PKEY_free(pub);
}

/* Redaction flag. */

static void test_secret_flag(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[] = {0x00, 0x20};
	struct resp r;

	assert_int_equal(verify(f->card, 0x01, PIN), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(select_fid(f->card, 0x3F00), 0x9000);
	assert_false(vcard_last_was_secret(f->card));
	assert_int_equal(change_pin(f->card, PIN, PIN), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(reset_retry_counter(f->card, USER_CODE, PIN), 0x9000);
	assert_true(vcard_last_was_secret(f->card));
	/* Refused commands too: the data may be a secret all the same. */
	assert_int_equal(cmd(f->card, 0x00, 0x20, 0x00, 0x01, PIN, 6, NO_LE, &r), 0x6E00);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(transmit(f->card, junk, sizeof(junk), &r), 0x6700);
	assert_true(vcard_last_was_secret(f->card));
	assert_int_equal(cmd(f->card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 8, &r), 0x9000);
	assert_false(vcard_last_was_secret(f->card));
}

/* State file and personalization. */

static void write_text(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
}

/* Copies the fixture's state file with one line replaced (or dropped when repl is ""). */
static void write_variant(const char *from, const char *to, const char *field, const char *repl)
{
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	char line[20000];

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == '=')
			fputs(repl, out);
		else
			fputs(line, out);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void assert_load_fails(const char *path, const char *what)
{
	char err[512] = "";
	struct vcard *card = vcard_load(path, err, sizeof(err));

	assert_null(card);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err, what);
}

static void test_state_file_validation(void **state)
{
	struct fixture *f = *state;
	char bad[4300];
	struct stat st;

	snprintf(bad, sizeof(bad), "%s.bad", f->path);
	/* The card rewrites its file with mode 0600 (it holds the PIN and the keys). */
	assert_int_equal(verify(f->card, 0x01, "000000"), 0x63C2);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_load_fails("/nonexistent/state", "No such file");
	write_variant(f->path, bad, "pin_tries", "pin_tries=4\n");
	assert_load_fails(bad, "pin_tries");
	write_variant(f->path, bad, "user_code_tries", "user_code_tries=-1\n");
	assert_load_fails(bad, "user_code_tries");
	write_variant(f->path, bad, "pin", "pin=3132333435\n"); /* 5 characters */
	assert_load_fails(bad, "pin");
	write_variant(f->path, bad, "pin", "pin=31323334353620\n"); /* a space */
	assert_load_fails(bad, "pin");
	write_variant(f->path, bad, "user_code", "user_code=zz\n");
	assert_load_fails(bad, "user_code");
	write_variant(f->path, bad, "ef_0903", "ef_0903=5843\n");
	assert_load_fails(bad, "ef_0903");
	write_variant(f->path, bad, "ef_0905",
	              "ef_0905=000000000000000000000000000000000000000000000000\n");
	assert_load_fails(bad, "ef_0905");
	write_variant(f->path, bad, "ef_08f2", "ef_08f2=00\n");
	assert_load_fails(bad, "ef_08f2");
	write_variant(f->path, bad, "sign_key", "sign_key=3000\n");
	assert_load_fails(bad, "sign_key");
	write_variant(f->path, bad, "decrypt_key", "");
	assert_load_fails(bad, "decrypt_key: missing");
	write_variant(f->path, bad, "format", "format=p11unlock-vcard-state 2\n");
	assert_load_fails(bad, "format");
	write_variant(f->path, bad, "pin_tries", "pin_tries=3\npin_tries=3\n");
	assert_load_fails(bad, "twice");
	write_variant(f->path, bad, "pin_tries", "pin_tries=3\ncolour=blue\n");
	assert_load_fails(bad, "unknown field");
	write_text(bad, "");
	assert_load_fails(bad, "missing");
	unlink(bad);
}

static void test_create_errors(void **state)
{
	struct vcard_params p = {.key_bits = 4096};
	char path[4300], err[512], dn[2000];
	size_t len;

	snprintf(path, sizeof(path), "%s/never", tmpdir);
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1024 to 3072"));
	p.key_bits = 512;
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.key_bits = 1024;
	p.pin = "12345";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PIN"));
	p.pin = NULL;
	p.user_code = "Ab12cd34567";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.user_code = NULL;
	p.card_number = "XC0000000009134";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.card_number = NULL;
	p.not_before = "2025-02-30";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.not_before = "2032-01-01";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.not_before = NULL;
	p.card_type = "a card type that is far too long";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.card_type = NULL;
	p.holder_dn = "C=TW,no-equals-sign";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	p.holder_dn = "C=TW,XX=unknown";
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);

	/* A certificate that does not fit its 0x700-byte slot. */
	strcpy(dn, "C=TW");
	for (int i = 0; i < 10; i++) {
		len = strlen(dn);
		snprintf(dn + len, sizeof(dn) - len, ",OU=%02d", i);
		for (int j = 0; j < 58; j++)
			strcat(dn, "測");
	}
	p.holder_dn = dn;
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_create_options(void **state)
{
	struct vcard_params p = {
	    .card_number = "XC99999999990001",
	    .holder_dn = "C=TW, O=測試機關, CN=王小明\\, 測試",
	    .not_before = "2015-09-01",
	    .not_after = "2021-09-01",
	    .pin = "abcdefgh",
	    .user_code = "UserCode10",
	    .key_bits = 1024,
	    .card_type = "CHT V32N",
	};
	char path[4300], err[512], dir[4300], pem[4400];
	struct vcard_status st;
	struct vcard *card;
	X509 *sig;
	char *cn;
	int cn_len;

	snprintf(path, sizeof(path), "%s/options", tmpdir);
	assert_int_equal(vcard_create(path, &p, err, sizeof(err)), 0);
	card = vcard_load(path, err, sizeof(err));
	assert_non_null(card);
	vcard_get_status(card, &st);
	assert_string_equal(st.card_number, "XC99999999990001");
	assert_string_equal(st.card_type, "CHT V32N");
	assert_int_equal(verify(card, 0x01, "abcdefgh"), 0x9000);
	assert_int_equal(verify(card, 0x02, "UserCode10"), 0x9000);

	sig = read_cert(card, SLOT_SIGNATURE);
	assert_non_null(sig);
	cn_len = X509_NAME_get_text_by_NID(X509_get_subject_name(sig), NID_commonName, NULL, 0);
	assert_true(cn_len > 0);
	cn = malloc((size_t)cn_len + 1);
	X509_NAME_get_text_by_NID(X509_get_subject_name(sig), NID_commonName, cn, cn_len + 1);
	assert_string_equal(cn, "王小明, 測試");
	free(cn);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(sig), 1441065600), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(sig), 1630454400), 0);
	X509_free(sig);

	snprintf(dir, sizeof(dir), "%s/export", tmpdir);
	assert_int_equal(vcard_export(card, dir, err, sizeof(err)), 0);
	for (const char *const *name =
	         (const char *const[]){"root-ca.pem", "issuing-ca.pem", "encryption.pem",
	                               "signature.pem", "ca-chain.pem", NULL};
	     *name; name++) {
		snprintf(pem, sizeof(pem), "%s/%s", dir, *name);
		assert_int_equal(access(pem, R_OK), 0);
	}
	vcard_free(card);
}

/* A test on a fresh card with an RSA key of BITS bits. */
#define CARD_TEST(test, bits) cmocka_unit_test_setup_teardown(test, setup##bits, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CARD_TEST(test_atr, 1024),
	    CARD_TEST(test_class_and_instruction, 1024),
	    CARD_TEST(test_select, 1024),
	    CARD_TEST(test_read_binary, 1024),
	    CARD_TEST(test_certificates, 1024),
	    CARD_TEST(test_verify_counts_down_to_blocked, 1024),
	    CARD_TEST(test_verify_persists_before_answer, 1024),
	    CARD_TEST(test_verify_format_costs_nothing, 1024),
	    CARD_TEST(test_verify_right_and_session, 1024),
	    CARD_TEST(test_user_code_grants_nothing, 1024),
	    CARD_TEST(test_change_reference_data, 1024),
	    CARD_TEST(test_reset_retry_counter_locked, 1024),
	    CARD_TEST(test_reset_retry_counter_not_locked, 1024),
	    CARD_TEST(test_reset_retry_counter_blocked_user_code, 1024),
	    CARD_TEST(test_reset_user_code_out_of_band, 1024),
	    CARD_TEST(test_mse, 1024),
	    CARD_TEST(test_sign_pkcs1, 1024),
	    CARD_TEST(test_sign_raw, 1024),
	    CARD_TEST(test_decipher, 1024),
	    CARD_TEST(test_get_challenge, 1024),
	    CARD_TEST(test_reset_clears_session, 1024),
	    CARD_TEST(test_chained_decipher, 2048),
	    CARD_TEST(test_chain_broken, 2048),
	    CARD_TEST(test_chain_limits, 2048),
	    CARD_TEST(test_get_response_t1, 3072),
	    CARD_TEST(test_get_response_decipher_is_secret, 3072),
	    CARD_TEST(test_t0_read, 1024),
	    CARD_TEST(test_t0_crypto, 3072),
	    CARD_TEST(test_secret_flag, 1024),
	    CARD_TEST(test_state_file_validation, 1024),
	    cmocka_unit_test(test_create_errors),
	    cmocka_unit_test(test_create_options),
	};

	return cmocka_run_group_tests_name("vcard", tests, group_setup, group_teardown);
}
