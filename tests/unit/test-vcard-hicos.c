/* The virtual card's real-card variants (docs/card-profile.md, "Real cards"), APDU by APDU:
 * gen1 (class 80 only, reads of at most 0xC8 bytes, key records, the protected VERIFY checked by
 * its MAC, raw RSA in two halves, no plaintext VERIFY) and gen2 (nothing before the applet's
 * SELECT, class 00 files, key-record halves, every security command refused), and their state
 * files.  The protected VERIFY's block is built here with EVP directly. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "vcard/vcard.h"

#define PIN   "123456"
#define NO_LE (-1)

static char tmpdir[] = "/tmp/test-vcard-hicos-XXXXXX";
static char gen1_path[256], gen2_path[256];

struct resp {
	uint8_t data[VCARD_RESP_MAX];
	size_t len;
	uint16_t sw;
};

static uint16_t cmd(struct vcard *card, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const void *data, size_t lc, int le, struct resp *r)
{
	uint8_t apdu[4 + 1 + 255 + 1], raw[VCARD_RESP_MAX];
	size_t len = 4, n;
	struct resp ignored;

	if (r == NULL)
		r = &ignored;
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
	n = vcard_process(card, apdu, len, raw);
	assert_true(n >= 2 && n <= VCARD_RESP_MAX);
	r->len = n - 2;
	memcpy(r->data, raw, r->len);
	r->sw = (uint16_t)(raw[n - 2] << 8 | raw[n - 1]);
	return r->sw;
}

static uint16_t select_path(struct vcard *card, uint16_t ef)
{
	const uint16_t path[] = {0x3F00, 0x5030, ef};
	uint16_t sw = 0;

	for (size_t i = 0; i < 3; i++) {
		uint8_t f[2] = {(uint8_t)(path[i] >> 8), (uint8_t)path[i]};
		sw = cmd(card, 0x80, 0xA4, 0x00, 0x00, f, 2, NO_LE, NULL);
		if (sw != 0x9000)
			break;
	}
	return sw;
}

/* A fresh copy of a card (counters full). */
static struct vcard *load(const char *path)
{
	char err[256], copy[300];
	struct vcard *card;
	FILE *in = fopen(path, "rb"), *out;
	int c;

	snprintf(copy, sizeof copy, "%s/copy.state", tmpdir);
	out = fopen(copy, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	card = vcard_load(copy, err, sizeof err);
	if (card == NULL)
		fail_msg("vcard_load: %s", err);
	return card;
}

static int group_setup(void **state)
{
	struct vcard_params params = {.variant = VCARD_VARIANT_GEN1};
	char err[256];

	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(gen1_path, sizeof gen1_path, "%s/gen1.state", tmpdir);
	snprintf(gen2_path, sizeof gen2_path, "%s/gen2.state", tmpdir);
	if (vcard_create(gen1_path, &params, err, sizeof err) != 0)
		fail_msg("create: %s", err);
	params.variant = VCARD_VARIANT_GEN2;
	if (vcard_create(gen2_path, &params, err, sizeof err) != 0)
		fail_msg("create: %s", err);
	return 0;
}

static int group_teardown(void **state)
{
	char path[300];
	static const char *const names[] = {"gen1.state", "gen2.state", "copy.state", "bad.state"};

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

/* The protected VERIFY block, built here: PIN10 = PIN || FF..; MAC = last block of
 * 3DES-CBC(IV, PIN10 || 06 x6); IV || 3DES-CBC(IV, PIN10 || MAC || 06 x6). */
static void des(const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	assert_non_null(ctx);
	assert_true(EVP_EncryptInit_ex(ctx, EVP_des_ede_cbc(), NULL,
	                               (const uint8_t *)"CHTTL8f0HiCardV2", iv));
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_true(EVP_EncryptUpdate(ctx, out, &n, in, (int)len));
	assert_true(EVP_EncryptFinal_ex(ctx, out + n, &f));
	EVP_CIPHER_CTX_free(ctx);
}

static void verify_block(const char *pin, uint8_t out[32])
{
	uint8_t pin10[10], mac_in[16], mac[16], plain[24];

	memset(pin10, 0xFF, 10);
	memcpy(pin10, pin, strlen(pin));
	assert_true(RAND_bytes(out, 8) == 1);
	memcpy(mac_in, pin10, 10);
	memset(mac_in + 10, 6, 6);
	des(out, mac_in, 16, mac);
	memcpy(plain, pin10, 10);
	memcpy(plain + 10, mac + 8, 8);
	memset(plain + 18, 6, 6);
	des(out, plain, 24, out + 8);
}

static uint16_t protected_verify(struct vcard *card, const char *pin)
{
	uint8_t data[32];

	verify_block(pin, data);
	return cmd(card, 0x8C, 0x20, 0x00, 0x01, data, 32, NO_LE, NULL);
}

/* ---- gen1 ------------------------------------------------------------------------------- */

static void test_gen1_atr_and_classes(void **state)
{
	struct vcard *card = load(gen1_path);
	uint8_t atr[40], tck = 0;
	struct resp r;
	size_t len;
	(void)state;

	len = vcard_atr(card, atr, sizeof atr);
	assert_int_equal(len, 12);
	assert_memory_equal(atr, "\x3B\x88\x01" "CHTMOICA", 11);
	for (size_t i = 1; i < len; i++)
		tck ^= atr[i];
	assert_int_equal(tck, 0); /* T0 .. TCK XOR to 00 */
	vcard_set_t0(card, true);
	assert_int_equal(vcard_atr(card, atr, sizeof atr), 10);
	assert_memory_equal(atr, "\x3B\x08" "CHTMOICA", 10);
	vcard_set_t0(card, false);

	assert_int_equal(cmd(card, 0x00, 0xA4, 0, 0, "\x3F\x00", 2, NO_LE, NULL), 0x6E00);
	assert_int_equal(cmd(card, 0x90, 0xA4, 0, 0, "\x3F\x00", 2, NO_LE, NULL), 0x6E00);
	/* The test card's commands, a plaintext VERIFY among them: not there. */
	assert_int_equal(cmd(card, 0x80, 0x20, 0x00, 0x01, PIN, 6, NO_LE, NULL), 0x6D00);
	assert_int_equal(cmd(card, 0x80, 0x20, 0x00, 0x01, NULL, 0, NO_LE, NULL), 0x6D00);
	assert_int_equal(cmd(card, 0x80, 0x2C, 0x00, 0x01, "\x01\x31\x01\x31", 4, NO_LE, NULL),
	                 0x6D00);
	assert_int_equal(cmd(card, 0x80, 0x84, 0x00, 0x00, NULL, 0, 8, NULL), 0x6D00);
	/* Reads of at most 0xC8 bytes. */
	assert_int_equal(select_path(card, 0x08F2), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xB0, 0, 0, NULL, 0, 0xC9, NULL), 0x6700);
	assert_int_equal(cmd(card, 0x80, 0xB0, 0, 0, NULL, 0, 0xC8, &r), 0x9000);
	assert_int_equal(r.len, 0xC8);
	assert_int_equal(r.data[0], 0x30);
	/* The directory files, with their length trailer. */
	assert_int_equal(select_path(card, 0x4104), 0x9000);
	size_t total = 0;
	uint8_t file[1024];
	uint16_t sw;
	do {
		sw = cmd(card, 0x80, 0xB0, (uint8_t)(total >> 8), (uint8_t)total, NULL, 0, 0xC8, &r);
		assert_true(sw == 0x9000 || sw == 0x6282);
		assert_true(total + r.len <= sizeof file);
		memcpy(file + total, r.data, r.len);
		total += r.len;
	} while (sw == 0x9000);
	assert_int_equal(file[total - 2] | file[total - 1] << 8, total - 2);
	vcard_free(card);
}

/* Records of EF 0811 for key reference 1: the exponent, zeros, the modulus least-significant
 * word first.  Rebuilt here, it is the signature certificate's modulus. */
static void test_gen1_key_records(void **state)
{
	struct vcard *card = load(gen1_path);
	uint8_t rec[4][128], modulus[256], expected[256];
	struct resp r;
	X509 *x509;
	BIGNUM *n = NULL;
	char err[256];
	FILE *fp;
	char pem[300];
	(void)state;

	assert_int_equal(select_path(card, 0x0810), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xB2, 1, 0, NULL, 0, 0x81, NULL), 0x6982);
	assert_int_equal(select_path(card, 0x0811), 0x9000);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cmd(card, 0x80, 0xB2, (uint8_t)(1 + i), 0x00, NULL, 0, 0x81, &r),
		                 0x9000);
		assert_int_equal(r.len, 129);
		assert_int_equal(r.data[0], 1 + i);
		memcpy(rec[i], r.data + 1, 128);
	}
	assert_int_equal(cmd(card, 0x80, 0xB2, 9, 0x00, NULL, 0, 0x81, NULL), 0x6A83);
	assert_int_equal(cmd(card, 0x80, 0xB2, 1, 0x04, NULL, 0, 0x81, NULL), 0x6A86);
	assert_int_equal(cmd(card, 0x80, 0xB2, 1, 0x00, NULL, 0, 0x80, NULL), 0x6700);
	assert_memory_equal(rec[0], "\x00\x01\x00\x01", 4);
	for (int i = 4; i < 128; i++)
		assert_int_equal(rec[0][i] | rec[1][i], 0);
	for (int w = 0; w < 64; w++) /* word w from the least significant */
		memcpy(modulus + 256 - 4 * (w + 1), rec[2 + w / 32] + 4 * (w % 32), 4);

	assert_int_equal(vcard_export(card, tmpdir, err, sizeof err), 0);
	snprintf(pem, sizeof pem, "%s/signature.pem", tmpdir);
	fp = fopen(pem, "r");
	assert_non_null(fp);
	x509 = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x509);
	assert_true(EVP_PKEY_get_bn_param(X509_get0_pubkey(x509), "n", &n));
	assert_int_equal(BN_bn2binpad(n, expected, 256), 256);
	assert_memory_equal(modulus, expected, 256);
	BN_free(n);
	X509_free(x509);
	static const char *const exported[] = {"root-ca.pem", "issuing-ca.pem", "encryption.pem",
	                                       "signature.pem", "ca-chain.pem"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(pem, sizeof pem, "%s/%s", tmpdir, exported[i]);
		unlink(pem);
	}
	vcard_free(card);
}

static void test_gen1_protected_verify(void **state)
{
	struct vcard *card = load(gen1_path);
	struct vcard_status st;
	uint8_t data[32];
	(void)state;

	/* EF 0810 first. */
	assert_int_equal(protected_verify(card, PIN), 0x6985);
	assert_int_equal(select_path(card, 0x0810), 0x9000);
	verify_block(PIN, data);
	assert_int_equal(cmd(card, 0x8C, 0x20, 0x00, 0x02, data, 32, NO_LE, NULL), 0x6A88);
	assert_int_equal(cmd(card, 0x8C, 0x20, 0x00, 0x01, data, 31, NO_LE, NULL), 0x6700);
	data[31] ^= 0x01; /* a block whose MAC does not check: refused, no try */
	assert_int_equal(cmd(card, 0x8C, 0x20, 0x00, 0x01, data, 32, NO_LE, NULL), 0x6A80);
	vcard_get_status(card, &st);
	assert_int_equal(st.pin_tries, 3);

	assert_int_equal(protected_verify(card, "654321"), 0x63C2);
	assert_int_equal(protected_verify(card, PIN), 0x9000);
	vcard_get_status(card, &st);
	assert_int_equal(st.pin_tries, 3);
	for (int left = 2; left >= 0; left--)
		assert_int_equal(protected_verify(card, "000000"), 0x63C0 | left);
	assert_int_equal(protected_verify(card, PIN), 0x6983);
	vcard_free(card);
}

/* Raw RSA: 80 EA 82 / 80 EA 02 / 80 C1, with the PIN verified; the pieces in order. */
static void test_gen1_raw_rsa(void **state)
{
	struct vcard *card = load(gen1_path);
	uint8_t block[256] = {0};
	struct resp r, rest;
	(void)state;

	block[255] = 0x02;
	assert_int_equal(cmd(card, 0x80, 0xC1, 0x00, 0x80, NULL, 0, 0x80, NULL), 0x6985);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x01, block, 128, NO_LE, NULL), 0x6982);
	assert_int_equal(select_path(card, 0x0810), 0x9000);
	assert_int_equal(protected_verify(card, PIN), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x02, 0x01, block + 128, 128, NO_LE, NULL), 0x6985);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x03, block, 128, NO_LE, NULL), 0x6A88);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x01, block, 100, NO_LE, NULL), 0x6700);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x01, block, 128, NO_LE, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x02, 0x01, block + 128, 128, NO_LE, &r), 0x9000);
	assert_int_equal(r.len, 128);
	assert_true(vcard_last_was_secret(card));
	assert_int_equal(cmd(card, 0x80, 0xC1, 0x00, 0x80, NULL, 0, 0x80, &rest), 0x9000);
	assert_int_equal(rest.len, 128);
	assert_true(vcard_last_was_secret(card));
	assert_int_equal(cmd(card, 0x80, 0xC1, 0x00, 0x80, NULL, 0, 0x80, NULL), 0x6985);
	/* T=0: each half announced with 6180 and fetched. */
	vcard_set_t0(card, true);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x05, block, 128, NO_LE, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x02, 0x05, block + 128, 128, NO_LE, NULL), 0x6180);
	assert_int_equal(cmd(card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &r), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xC1, 0x00, 0x80, NULL, 0, 0x80, NULL), 0x6180);
	assert_int_equal(cmd(card, 0x00, 0xC0, 0x00, 0x00, NULL, 0, 0x80, &rest), 0x9000);
	assert_int_equal(r.len + rest.len, 256);
	vcard_free(card);
}

/* ---- gen2 ------------------------------------------------------------------------------- */

static const uint8_t aid[] = {0xA0, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00, 0x06,
                              0x22, 0x01, 0x69, 0x64, 0x00, 0x01, 0x01, 0x01};

static void test_gen2_applet(void **state)
{
	struct vcard *card = load(gen2_path);
	struct resp r;
	uint8_t other[16];
	(void)state;

	/* Nothing but the applet's SELECT before it. */
	assert_int_equal(cmd(card, 0x80, 0xA4, 0, 0, "\x3F\x00", 2, NO_LE, NULL), 0x6D00);
	assert_int_equal(cmd(card, 0x00, 0xA4, 0, 4, "\x50\x30", 2, 0, NULL), 0x6A82);
	memcpy(other, aid, 16);
	other[15] = 0x02;
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x04, 0x0C, other, 16, 0, NULL), 0x6A82);
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x04, 0x0C, aid, 16, 0, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x00, 0x04, "\x50\x30", 2, 0, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x00, 0x04, "\x08\xF2", 2, 0, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x00, 0xB0, 0, 0, NULL, 0, 4, &r), 0x9000);
	assert_memory_equal(r.data, "\x30\x82", 2);
	assert_int_equal(cmd(card, 0x80, 0xB0, 0, 0, NULL, 0, 4, NULL), 0x6D00);
	/* Key records: the modulus in two halves. */
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x00, 0x04, "\x08\x11", 2, 0, NULL), 0x9000);
	assert_int_equal(cmd(card, 0x80, 0xB2, 0x01, 0x03, NULL, 0, 0, &r), 0x9000);
	assert_int_equal(r.len, 128);
	assert_true(r.data[0] & 0x80); /* the top byte of a 2048-bit modulus */
	assert_int_equal(cmd(card, 0x80, 0xB2, 0x05, 0x04, NULL, 0, 0, &r), 0x9000);
	assert_int_equal(r.len, 128);
	/* Every security command needs secure messaging. */
	uint8_t data[32] = {0};
	assert_int_equal(cmd(card, 0x8C, 0x20, 0x00, 0x01, data, 32, NO_LE, NULL), 0x6982);
	assert_int_equal(cmd(card, 0x80, 0x20, 0x00, 0x01, PIN, 6, NO_LE, NULL), 0x6982);
	assert_int_equal(cmd(card, 0x00, 0x20, 0x00, 0x81, PIN, 6, NO_LE, NULL), 0x6982);
	assert_int_equal(cmd(card, 0x80, 0xEA, 0x82, 0x01, data, 32, NO_LE, NULL), 0x6982);
	vcard_reset(card); /* the applet is deselected */
	assert_int_equal(cmd(card, 0x00, 0xA4, 0x00, 0x04, "\x50\x30", 2, 0, NULL), 0x6A82);
	vcard_free(card);
}

/* ---- state files --------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static char *read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = calloc(1, 256 * 1024);

	assert_non_null(fp);
	assert_non_null(text);
	(void)!fread(text, 1, 256 * 1024 - 1, fp);
	fclose(fp);
	return text;
}

/* Removes the line starting with prefix from text. */
static void remove_line(char *text, const char *prefix)
{
	char *line = strstr(text, prefix), *end;

	assert_non_null(line);
	end = strchr(line, '\n');
	assert_non_null(end);
	memmove(line, end + 1, strlen(end + 1) + 1);
}

static void test_state_file_variants(void **state)
{
	char bad[300], err[512];
	char *text;
	struct vcard *card;
	struct vcard_status st;
	(void)state;

	card = load(gen1_path);
	vcard_get_status(card, &st);
	assert_int_equal(st.variant, VCARD_VARIANT_GEN1);
	assert_string_equal(st.card_type, "CHT V32N");
	/* A replaced directory file is kept in the state file; other files cannot be replaced. */
	assert_int_equal(vcard_set_file(card, 0x4107, (const uint8_t *)"\x00\x00", 2, err,
	                                sizeof err),
	                 0);
	assert_int_equal(vcard_set_file(card, 0x0903, (const uint8_t *)"x", 1, err, sizeof err),
	                 -1);
	vcard_free(card);

	snprintf(bad, sizeof bad, "%s/bad.state", tmpdir);
	/* The variant without one of its files. */
	text = read_all(gen1_path);
	remove_line(text, "ef_4101=");
	write_file(bad, text);
	assert_null(vcard_load(bad, err, sizeof err));
	assert_non_null(strstr(err, "missing"));
	free(text);

	/* A test card with directory files. */
	text = read_all(gen1_path);
	remove_line(text, "variant=gen1");
	write_file(bad, text);
	assert_null(vcard_load(bad, err, sizeof err));
	assert_non_null(strstr(err, "only with variant"));
	free(text);

	struct vcard_params params = {.variant = VCARD_VARIANT_GEN1, .key_bits = 1024};
	assert_int_equal(vcard_create(bad, &params, err, sizeof err), -1);
	assert_non_null(strstr(err, "RSA-2048"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gen1_atr_and_classes), cmocka_unit_test(test_gen1_key_records),
	    cmocka_unit_test(test_gen1_protected_verify), cmocka_unit_test(test_gen1_raw_rsa),
	    cmocka_unit_test(test_gen2_applet),           cmocka_unit_test(test_state_file_variants),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
