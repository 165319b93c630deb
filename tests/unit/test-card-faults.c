/* The card layer when things go wrong: a card removed or reset by someone else
 * in the middle of an operation, and cards that answer nonsense (truncated
 * answers, lengths that do not fit, status words without data, endless
 * 61xx...).  Every case must end in a clean error, never a crash, and leave no
 * transaction open.  Only a certificate slot of junk is not an error: it is read as
 * empty, and the card keeps its other certificates. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "card/card.h"
#include "test-card-transport.h"

#define PIN       "123456"
#define USER_CODE "Ab12cd34"

static char *dir; /* test.state, junk-root.state, junk-issuing.state */

struct fixture {
	struct test_card *tc;
	struct p11u_card *card;
};

/* A card whose slot `junk` of EF 08F2 holds junk instead of its certificate. */
static void create_junk_card(const char *name, enum p11u_cert_slot junk)
{
	struct vcard_params params = {.pin = PIN, .user_code = USER_CODE};
	char path[PATH_MAX], err[512] = "";

	params.junk_cert_slots = 1u << junk;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (vcard_create(path, &params, err, sizeof err) != 0)
		fail_msg("vcard_create %s: %s", name, err);
}

static int group_setup(void **state)
{
	dir = test_dir_new();
	test_card_create(dir, "test.state", NULL, 0, PIN, USER_CODE);
	create_junk_card("junk-root.state", P11U_CERT_ROOT_CA);
	create_junk_card("junk-issuing.state", P11U_CERT_ISSUING_CA);
	return 0;
}

static int group_teardown(void **state)
{
	test_dir_remove(dir);
	return 0;
}

/* A loaded card, not opened yet (open tests). */
static int setup_loaded(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->tc = test_card_load(dir, "test.state", "card.state", false);
	*state = f;
	return 0;
}

/* An opened card. */
static int setup(void **state)
{
	struct fixture *f;

	setup_loaded(state);
	f = *state;
	assert_int_equal(p11u_card_open(&f->tc->transport, f->tc->atr, f->tc->atr_len, &f->card),
	                 P11U_CARD_OK);
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

static enum p11u_card_rv open_card(struct fixture *f)
{
	return p11u_card_open(&f->tc->transport, f->tc->atr, f->tc->atr_len, &f->card);
}

static enum p11u_card_rv verify_pin(struct fixture *f)
{
	return p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, strlen(PIN), NULL);
}

static size_t digest_info(uint8_t *out)
{
	memset(out, 0x5A, 51);
	return 51;
}

static enum p11u_card_rv sign(struct fixture *f)
{
	uint8_t di[64], sig[512];
	size_t di_len = digest_info(di), sig_len = sizeof sig;

	return p11u_card_sign(f->card, P11U_KEY_SIGNATURE, P11U_RSA_PKCS1, di, di_len, sig,
	                      &sig_len);
}

static void assert_counters(const struct fixture *f, int pin_tries, int user_code_tries)
{
	struct vcard_status st;

	vcard_get_status(f->tc->vcard, &st);
	assert_int_equal(st.pin_tries, pin_tries);
	assert_int_equal(st.user_code_tries, user_code_tries);
}

/* Removal and reset */

static void test_removed_mid_sign(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;

	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	/* MSE SET goes through, the card is gone at PSO. */
	f->tc->remove_at = f->tc->apdus + 2;
	assert_int_equal(sign(f), P11U_CARD_E_REMOVED);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st),
	                 P11U_CARD_E_REMOVED);
	assert_int_equal(f->tc->depth, 0);
}

static void test_removed_during_open(void **state)
{
	struct fixture *f = *state;

	f->tc->remove_at = 5; /* while reading the card type */
	assert_int_equal(open_card(f), P11U_CARD_E_REMOVED);
	assert_null(f->card);
}

/* A reset by someone else before a security operation: reported, nothing sent, and the
 * verified PIN is gone. */
static void test_reset_before_sign(void **state)
{
	struct fixture *f = *state;
	unsigned long apdus;

	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	test_card_reset_by_other(f->tc);
	apdus = f->tc->apdus;
	assert_int_equal(sign(f), P11U_CARD_E_RESET);
	assert_int_equal(f->tc->apdus, apdus);
	assert_int_equal(sign(f), P11U_CARD_E_NOT_VERIFIED);
}

static void test_reset_before_verify(void **state)
{
	struct fixture *f = *state;

	test_card_reset_by_other(f->tc);
	assert_int_equal(verify_pin(f), P11U_CARD_E_RESET);
	assert_counters(f, 3, 3);
	assert_int_equal(verify_pin(f), P11U_CARD_OK);
}

/* The reset shows up at a command inside a transaction the caller holds. */
static void test_reset_mid_transaction(void **state)
{
	struct fixture *f = *state;
	unsigned long apdus;

	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	assert_int_equal(p11u_card_begin(f->card), P11U_CARD_OK);
	test_card_reset_by_other(f->tc);
	apdus = f->tc->apdus;
	assert_int_equal(sign(f), P11U_CARD_E_RESET);
	assert_int_equal(f->tc->apdus - apdus, 1); /* MSE SET, answered with the reset */
	p11u_card_end(f->card);
	assert_int_equal(sign(f), P11U_CARD_E_NOT_VERIFIED);
}

/* Read-only steps lose nothing they need: they run once more. */
static void test_reset_read_only_retried(void **state)
{
	struct fixture *f = *state;
	struct p11u_secret_state st;
	uint8_t rnd[16];

	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	test_card_reset_by_other(f->tc);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_OK);
	assert_false(st.verified);
	assert_int_equal(st.tries_left, 3);
	test_card_reset_by_other(f->tc);
	assert_int_equal(p11u_card_random(f->card, rnd, sizeof rnd), P11U_CARD_OK);
	/* Twice in a row: given up. */
	f->tc->resets_pending = 2;
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st), P11U_CARD_E_RESET);
}

static void test_reset_during_open_retried(void **state)
{
	struct fixture *f = *state;

	f->tc->resets_pending = 1;
	assert_int_equal(open_card(f), P11U_CARD_OK);
	assert_string_equal(p11u_card_info(f->card)->card_number, "XC00000000091349");
}

/* Malformed answers */

static bool is_cmd(const uint8_t *cmd, size_t len, uint8_t ins, int p1, int p2)
{
	return len >= 4 && cmd[1] == ins && (p1 < 0 || cmd[2] == p1) && (p2 < 0 || cmd[3] == p2);
}

static void set_answer(uint8_t *resp, size_t *resp_len, const uint8_t *answer, size_t len)
{
	memcpy(resp, answer, len);
	*resp_len = len;
}

/* The hooks: which answer to break and how is in tc->hook_data. */

static void hook_truncate_first(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                uint8_t *resp, size_t *resp_len, size_t cap)
{
	*resp_len = (size_t)(uintptr_t)tc->hook_data;
}

/* READ BINARY at the encryption slot (0x0E00): the certificate header's bytes 0..3 replaced. */
static void hook_cert_header(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                             uint8_t *resp, size_t *resp_len, size_t cap)
{
	const uint8_t *header = tc->hook_data;

	if (is_cmd(cmd, cmd_len, 0xB0, 0x0E, 0x00) && *resp_len >= 6)
		memcpy(resp, header, 4);
}

/* READ BINARY at the encryption slot: the header's length two bytes longer, so that the
 * certificate is followed by two of the slot's zero bytes inside the declared length. */
static void hook_cert_length_plus_two(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                      uint8_t *resp, size_t *resp_len, size_t cap)
{
	if (is_cmd(cmd, cmd_len, 0xB0, 0x0E, 0x00) && *resp_len >= 6) {
		unsigned len = (unsigned)resp[2] << 8 | resp[3];

		resp[2] = (uint8_t)((len + 2) >> 8);
		resp[3] = (uint8_t)((len + 2) & 0xFF);
	}
}

/* The first READ BINARY of the root CA slot (offset 0, Le 256: the card type and number are
 * read with Le 24 and 16): answered, then the card is gone. */
static void hook_removed_in_root_slot(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                      uint8_t *resp, size_t *resp_len, size_t cap)
{
	if (is_cmd(cmd, cmd_len, 0xB0, 0x00, 0x00) && cmd_len == 5 && cmd[4] == 0x00)
		tc->removed = true;
}

/* The same READ BINARY answered "file not found". */
static void hook_root_slot_6a82(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                uint8_t *resp, size_t *resp_len, size_t cap)
{
	static const uint8_t not_found[] = {0x6A, 0x82};

	if (is_cmd(cmd, cmd_len, 0xB0, 0x00, 0x00) && cmd_len == 5 && cmd[4] == 0x00)
		set_answer(resp, resp_len, not_found, sizeof not_found);
}

static void hook_read_binary_no_data(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                     uint8_t *resp, size_t *resp_len, size_t cap)
{
	static const uint8_t ok[] = {0x90, 0x00};

	if (is_cmd(cmd, cmd_len, 0xB0, 0x0E, 0x00))
		set_answer(resp, resp_len, ok, sizeof ok);
}

/* EF 0903 (16 bytes) or EF 0905 (24 bytes): one byte replaced by a control character. */
static void hook_bad_text(struct test_card *tc, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                          size_t *resp_len, size_t cap)
{
	const size_t file_len = (size_t)(uintptr_t)tc->hook_data;

	if (is_cmd(cmd, cmd_len, 0xB0, 0x00, 0x00) && *resp_len == file_len + 2)
		resp[1] = 0x07;
}

static void hook_read_binary_6c(struct test_card *tc, const uint8_t *cmd, size_t cmd_len,
                                uint8_t *resp, size_t *resp_len, size_t cap)
{
	static const uint8_t wrong_le[] = {0x6C, 0x10};

	if (is_cmd(cmd, cmd_len, 0xB0, -1, -1))
		set_answer(resp, resp_len, wrong_le, sizeof wrong_le);
}

/* A response to READ BINARY of the card type far larger than the Le asked for. */
static void hook_oversized(struct test_card *tc, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t *resp_len, size_t cap)
{
	if (is_cmd(cmd, cmd_len, 0xB0, 0x00, 0x00) && *resp_len == 24 + 2) {
		memset(resp, 'A', cap - 2);
		resp[cap - 2] = 0x90;
		resp[cap - 1] = 0x00;
		*resp_len = cap;
	}
}

/* Replaces the answers to one instruction (only with class cla, unless 0) and to every GET
 * RESPONSE by a canned answer. */
struct canned {
	uint8_t cla, ins;
	size_t len;
	uint8_t answer[VCARD_RESP_MAX];
};

static void hook_canned(struct test_card *tc, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                        size_t *resp_len, size_t cap)
{
	const struct canned *c = tc->hook_data;

	if ((is_cmd(cmd, cmd_len, c->ins, -1, -1) && (c->cla == 0 || cmd[0] == c->cla)) ||
	    is_cmd(cmd, cmd_len, 0xC0, -1, -1))
		set_answer(resp, resp_len, c->answer, c->len);
}

static void set_canned(struct test_card *tc, struct canned *c, uint8_t cla, uint8_t ins,
                       const uint8_t *answer, size_t len)
{
	assert_true(len <= sizeof c->answer);
	c->cla = cla;
	c->ins = ins;
	c->len = len;
	memcpy(c->answer, answer, len);
	tc->hook = hook_canned;
	tc->hook_data = c;
}

static void test_truncated_answers(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_truncate_first;
	f->tc->hook_data = (void *)(uintptr_t)1;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
	assert_null(f->card);
	f->tc->hook_data = (void *)(uintptr_t)0;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
	assert_null(f->card);
}

/* The card opened with the slot `empty` read as empty and the three others there, each one
 * exact DER certificate. */
static void assert_slot_empty(const struct p11u_card *card, enum p11u_cert_slot empty)
{
	const struct p11u_card_info *info = p11u_card_info(card);

	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		const struct p11u_card_cert *cert = &info->certs[slot];
		const unsigned char *p = cert->der;
		X509 *x509;

		if (slot == (int)empty) {
			assert_null(cert->der);
			assert_int_equal(cert->len, 0);
			continue;
		}
		assert_non_null(cert->der);
		x509 = d2i_X509(NULL, &p, (long)cert->len);
		assert_non_null(x509);
		assert_ptr_equal(p, cert->der + cert->len);
		X509_free(x509);
	}
}

/* Both keys work, except the one whose certificate slot is `empty` (refused, nothing sent). */
static void assert_keys(struct fixture *f, enum p11u_cert_slot empty)
{
	uint8_t cryptogram[256] = {0}, plain[256];
	size_t plain_len = sizeof plain;
	unsigned long apdus;

	cryptogram[255] = 0x02; /* raw RSA: any block below the modulus */
	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	apdus = f->tc->apdus;
	assert_int_equal(sign(f), empty == P11U_CERT_SIGNATURE ? P11U_CARD_E_ARGS : P11U_CARD_OK);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    sizeof cryptogram, plain, &plain_len),
	                 empty == P11U_CERT_ENCRYPTION ? P11U_CARD_E_ARGS : P11U_CARD_OK);
	if (empty == P11U_CERT_ENCRYPTION)
		assert_int_equal(f->tc->apdus - apdus, 2); /* MSE SET + PSO of the signature */
	else
		assert_int_equal(plain_len, sizeof plain);
}

/* A slot whose content is not one certificate is read as empty: the card and its other
 * certificates stay. */
static void test_cert_header_checked(void **state)
{
	struct fixture *f = *state;
	static const uint8_t headers[][4] = {
	    {0x30, 0x82, 0x06, 0xFD}, /* 0x701 bytes: one more than the slot holds */
	    {0x30, 0x82, 0x07, 0x00}, /* 0x704 bytes */
	    {0x30, 0x82, 0xFF, 0xFF}, /* 64 KiB */
	    {0x30, 0x81, 0x80, 0x30}, /* short form: not a certificate of this profile */
	    {0x31, 0x82, 0x03, 0x00}, /* not a SEQUENCE */
	    {0x30, 0x82, 0x00, 0x00}, /* empty SEQUENCE: not a certificate */
	    {0x30, 0x82, 0x02, 0x00}, /* shorter than the certificate: DER does not parse */
	};

	f->tc->hook = hook_cert_header;
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		f->tc->hook_data = (void *)headers[i];
		assert_int_equal(open_card(f), P11U_CARD_OK);
		assert_slot_empty(f->card, P11U_CERT_ENCRYPTION);
		assert_keys(f, P11U_CERT_ENCRYPTION);
		assert_int_equal(f->tc->depth, 0);
		p11u_card_free(f->card);
		f->card = NULL;
	}
}

/* A certificate followed by other bytes inside its declared length is not one exact DER
 * certificate. */
static void test_cert_trailing_bytes(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_cert_length_plus_two;
	assert_int_equal(open_card(f), P11U_CARD_OK);
	assert_slot_empty(f->card, P11U_CERT_ENCRYPTION);
	assert_keys(f, P11U_CERT_ENCRYPTION);
}

/* A CA slot of junk (p11unlock-vcard create --corrupt-cert-slot): the holder keeps the card,
 * the other certificates and both keys. */
static void test_junk_ca_slot(const char *template_name, enum p11u_cert_slot junk)
{
	struct test_card *tc = test_card_load(dir, template_name, "card.state", false);
	struct fixture f = {.tc = tc};

	assert_int_equal(open_card(&f), P11U_CARD_OK);
	assert_slot_empty(f.card, junk);
	assert_keys(&f, junk);
	p11u_card_free(f.card);
	assert_int_equal(tc->depth, 0);
	test_card_free(tc);
}

static void test_junk_root_ca_slot(void **state)
{
	(void)state;
	test_junk_ca_slot("junk-root.state", P11U_CERT_ROOT_CA);
}

static void test_junk_issuing_ca_slot(void **state)
{
	(void)state;
	test_junk_ca_slot("junk-issuing.state", P11U_CERT_ISSUING_CA);
}

/* Only content is forgiven: the card going away, or an error status, while the junk slot is
 * read still fails the open. */
static void test_junk_slot_card_errors_still_fail(void **state)
{
	struct test_card *tc = test_card_load(dir, "junk-root.state", "card.state", false);
	struct fixture f = {.tc = tc};

	(void)state;
	tc->hook = hook_removed_in_root_slot;
	assert_int_equal(open_card(&f), P11U_CARD_E_REMOVED);
	assert_null(f.card);
	assert_int_equal(tc->depth, 0);
	test_card_free(tc);

	tc = test_card_load(dir, "junk-root.state", "card.state", false);
	f.tc = tc;
	tc->hook = hook_root_slot_6a82;
	assert_int_equal(open_card(&f), P11U_CARD_E_UNRECOGNIZED); /* 6A82: not this profile */
	assert_null(f.card);
	assert_int_equal(tc->depth, 0);
	test_card_free(tc);
}

static void test_read_binary_without_data(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_read_binary_no_data;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_card_number_not_text(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_bad_text;
	f->tc->hook_data = (void *)(uintptr_t)16;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_card_type_not_text(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_bad_text;
	f->tc->hook_data = (void *)(uintptr_t)24;
	assert_int_equal(open_card(f), P11U_CARD_E_UNRECOGNIZED);
}

static void test_wrong_le_forever(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_read_binary_6c;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_oversized_answer(void **state)
{
	struct fixture *f = *state;

	f->tc->hook = hook_oversized;
	assert_int_equal(open_card(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_verify_strange_status(void **state)
{
	struct fixture *f = *state;
	static const uint8_t too_many_tries[] = {0x63, 0xC9}, unknown[] = {0x6F, 0x00},
	                     data_and_ok[] = {0x01, 0x02, 0x90, 0x00};
	struct p11u_secret_state st;
	struct canned c;
	int tries = 77;

	set_canned(f->tc, &c, 0, 0x20, too_many_tries, sizeof too_many_tries);
	assert_int_equal(
	    p11u_card_verify(f->card, P11U_SECRET_PIN, (const uint8_t *)PIN, 6, &tries),
	    P11U_CARD_E_BAD_RESPONSE);
	assert_int_equal(tries, 77);
	assert_int_equal(p11u_card_secret_state(f->card, P11U_SECRET_PIN, &st),
	                 P11U_CARD_E_BAD_RESPONSE);
	set_canned(f->tc, &c, 0, 0x20, unknown, sizeof unknown);
	assert_int_equal(verify_pin(f), P11U_CARD_E_BAD_RESPONSE);
	/* VERIFY expects no data. */
	set_canned(f->tc, &c, 0, 0x20, data_and_ok, sizeof data_and_ok);
	assert_int_equal(verify_pin(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_sign_bad_answers(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ok_no_data[] = {0x90, 0x00}, one_more[] = {0xAA, 0x61, 0x01},
	                     announce_forever[] = {0x61, 0x05};
	uint8_t short_sig[257];
	struct canned c;

	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	/* Success without the signature. */
	set_canned(f->tc, &c, 0, 0x2A, ok_no_data, sizeof ok_no_data);
	assert_int_equal(sign(f), P11U_CARD_E_BAD_RESPONSE);
	/* A signature one byte short. */
	memset(short_sig, 0x11, 255);
	short_sig[255] = 0x90;
	short_sig[256] = 0x00;
	set_canned(f->tc, &c, 0, 0x2A, short_sig, 257);
	assert_int_equal(sign(f), P11U_CARD_E_BAD_RESPONSE);
	/* One byte at a time, for ever: the round trips are bounded. */
	set_canned(f->tc, &c, 0, 0x2A, one_more, sizeof one_more);
	assert_int_equal(sign(f), P11U_CARD_E_BAD_RESPONSE);
	/* Announces data, never delivers. */
	set_canned(f->tc, &c, 0, 0x2A, announce_forever, sizeof announce_forever);
	assert_int_equal(sign(f), P11U_CARD_E_BAD_RESPONSE);
}

static void test_decipher_bad_answers(void **state)
{
	struct fixture *f = *state;
	static const uint8_t segment_with_data[] = {0x01, 0x90, 0x00},
	                     chain_broken[] = {0x68, 0x83};
	uint8_t cryptogram[256] = {0}, plain[512], short_plain[257];
	size_t p_len = sizeof plain;
	struct canned c;

	cryptogram[255] = 0x02;
	memset(short_plain, 0x22, 255);
	short_plain[255] = 0x90;
	short_plain[256] = 0x00;
	assert_int_equal(verify_pin(f), P11U_CARD_OK);
	/* The first, chained segment (257 bytes of data) answered with data, or "chain broken". */
	set_canned(f->tc, &c, 0x90, 0x2A, segment_with_data, sizeof segment_with_data);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    256, plain, &p_len),
	                 P11U_CARD_E_BAD_RESPONSE);
	set_canned(f->tc, &c, 0x90, 0x2A, chain_broken, sizeof chain_broken);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    256, plain, &p_len),
	                 P11U_CARD_E_BAD_RESPONSE);
	/* Raw RSA gives exactly the modulus size: 255 bytes is wrong. */
	set_canned(f->tc, &c, 0x80, 0x2A, short_plain, sizeof short_plain);
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_RAW, cryptogram,
	                                    256, plain, &p_len),
	                 P11U_CARD_E_BAD_RESPONSE);
	/* PKCS#1: 255 bytes is longer than the padding allows. */
	assert_int_equal(p11u_card_decipher(f->card, P11U_KEY_ENCRYPTION, P11U_RSA_PKCS1,
	                                    cryptogram, 256, plain, &p_len),
	                 P11U_CARD_E_BAD_RESPONSE);
	assert_int_equal(p_len, sizeof plain);
}

static void test_random_short_answer(void **state)
{
	struct fixture *f = *state;
	static const uint8_t three[] = {0x01, 0x02, 0x03, 0x90, 0x00};
	uint8_t rnd[16];
	struct canned c;

	set_canned(f->tc, &c, 0, 0x84, three, sizeof three);
	assert_int_equal(p11u_card_random(f->card, rnd, sizeof rnd), P11U_CARD_E_BAD_RESPONSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_removed_mid_sign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_during_open, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_before_sign, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_before_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_mid_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_read_only_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_during_open_retried, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_answers, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_header_checked, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_trailing_bytes, setup_loaded, teardown),
	    cmocka_unit_test(test_junk_root_ca_slot),
	    cmocka_unit_test(test_junk_issuing_ca_slot),
	    cmocka_unit_test(test_junk_slot_card_errors_still_fail),
	    cmocka_unit_test_setup_teardown(test_read_binary_without_data, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_card_number_not_text, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_card_type_not_text, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_le_forever, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_answer, setup_loaded, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_strange_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_bad_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decipher_bad_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_short_answer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
