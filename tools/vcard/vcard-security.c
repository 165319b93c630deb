/* Security and crypto commands: VERIFY, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER, MSE SET, PSO COMPUTE DIGITAL SIGNATURE, PSO DECIPHER, GET CHALLENGE.
 * These are our own (docs/card-profile.md): real HiCOS cards never get them.
 *
 * A wrong secret costs a try, and the decremented counter is in the state file
 * before the answer is produced: a card killed right after a wrong try cannot
 * forget it.  If the state file cannot be written the answer is 6581 (memory
 * failure) and the try stays counted in memory. */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "vcard/vcard-internal.h"

/* One secret: its value, its try counter, whether it is verified in this session. */
struct secret_ref {
	char *value;
	size_t max;
	int *tries;
	bool *verified;
};

static struct secret_ref secret_for(struct vcard *card, uint8_t ref)
{
	struct secret_ref sec;

	if (ref == VCARD_REF_PIN) {
		sec.value = card->data.pin;
		sec.max = VCARD_PIN_MAX;
		sec.tries = &card->data.pin_tries;
		sec.verified = &card->session.pin_verified;
	} else {
		sec.value = card->data.user_code;
		sec.max = VCARD_USER_CODE_MAX;
		sec.tries = &card->data.user_code_tries;
		sec.verified = &card->session.user_code_verified;
	}
	return sec;
}

static bool secret_matches(const struct secret_ref *sec, const uint8_t *given, size_t len)
{
	return strlen(sec->value) == len && CRYPTO_memcmp(sec->value, given, len) == 0;
}

static uint16_t sw_tries_left(int tries)
{
	return (uint16_t)(SW_TRIES_LEFT | (unsigned)tries);
}

/* A wrong secret: counted, persisted, answered 63Cx (63C0 on the last try).  The caller
 * has checked the formats and that the counter is not 0.  The try stays counted in
 * memory even if the state file cannot be written. */
static uint16_t secret_wrong(struct vcard *card, const struct secret_ref *sec)
{
	(*sec->tries)--;
	*sec->verified = false;
	if (vcard_persist(card) != 0)
		return SW_MEMORY_FAILURE;
	return sw_tries_left(*sec->tries);
}

/* Persists a change made to card->data after a right secret; on failure puts back
 * the data as it was before (saved by the caller) and answers 6581. */
static uint16_t commit_or_undo(struct vcard *card, const struct vcard_data *before)
{
	if (vcard_persist(card) == 0)
		return SW_OK;
	memcpy(&card->data, before, sizeof(*before));
	return SW_MEMORY_FAILURE;
}

/* A presented secret whose format was checked: blocked, wrong (counted and persisted first) or
 * right (counter back to the maximum, verified). */
static uint16_t check_secret(struct vcard *card, const struct secret_ref *sec, const uint8_t *given,
                             size_t len)
{
	struct vcard_data before;
	uint16_t sw = SW_OK;

	if (*sec->tries == 0)
		return SW_BLOCKED;
	if (!secret_matches(sec, given, len))
		return secret_wrong(card, sec);
	if (*sec->tries != VCARD_TRIES_MAX) {
		memcpy(&before, &card->data, sizeof(before));
		*sec->tries = VCARD_TRIES_MAX;
		sw = commit_or_undo(card, &before);
		OPENSSL_cleanse(&before, sizeof(before));
	}
	if (sw == SW_OK)
		*sec->verified = true;
	return sw;
}

uint16_t vcard_check_pin(struct vcard *card, const uint8_t *pin, size_t len)
{
	struct secret_ref sec = secret_for(card, VCARD_REF_PIN);

	return check_secret(card, &sec, pin, len);
}

size_t vcard_cmd_verify(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct secret_ref sec;
	uint16_t sw;

	if (a->p1 != 0x00 || (a->p2 != VCARD_REF_PIN && a->p2 != VCARD_REF_USER_CODE))
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	sec = secret_for(card, a->p2);
	if (a->lc == 0) {
		/* The state, without cost. */
		if (*sec.verified)
			return vcard_respond_sw(resp, SW_OK);
		if (*sec.tries == 0)
			return vcard_respond_sw(resp, SW_BLOCKED);
		return vcard_respond_sw(resp, sw_tries_left(*sec.tries));
	}
	if (!vcard_secret_format_ok(a->p2, a->data, a->lc, &sw))
		return vcard_respond_sw(resp, sw);
	return vcard_respond_sw(resp, check_secret(card, &sec, a->data, a->lc));
}

/* Data of CHANGE REFERENCE DATA and RESET RETRY COUNTER: len1 || first || len2 || second. */
static bool parse_two_secrets(const struct vcard_apdu *a, const uint8_t **first, size_t *first_len,
                              const uint8_t **second, size_t *second_len)
{
	if (a->lc < 2)
		return false;
	*first_len = a->data[0];
	if (1 + *first_len + 1 > a->lc)
		return false;
	*first = a->data + 1;
	*second_len = a->data[1 + *first_len];
	*second = a->data + 2 + *first_len;
	return 2 + *first_len + *second_len == a->lc;
}

static void set_pin(struct vcard *card, const uint8_t *pin, size_t len)
{
	OPENSSL_cleanse(card->data.pin, sizeof(card->data.pin));
	memcpy(card->data.pin, pin, len);
}

size_t vcard_cmd_change_reference_data(struct vcard *card, const struct vcard_apdu *a,
                                       uint8_t *resp)
{
	struct secret_ref pin = secret_for(card, VCARD_REF_PIN);
	const uint8_t *old_pin, *new_pin;
	struct vcard_data before;
	size_t old_len, new_len;
	uint16_t sw;

	if (a->p1 != 0x00 || a->p2 != VCARD_REF_PIN)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (!parse_two_secrets(a, &old_pin, &old_len, &new_pin, &new_len))
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	/* The new PIN's format first: a typo there must not cost a try. */
	if (!vcard_secret_format_ok(VCARD_REF_PIN, new_pin, new_len, &sw) ||
	    !vcard_secret_format_ok(VCARD_REF_PIN, old_pin, old_len, &sw))
		return vcard_respond_sw(resp, sw);
	if (*pin.tries == 0)
		return vcard_respond_sw(resp, SW_BLOCKED);
	if (!secret_matches(&pin, old_pin, old_len))
		return vcard_respond_sw(resp, secret_wrong(card, &pin));

	memcpy(&before, &card->data, sizeof(before));
	set_pin(card, new_pin, new_len);
	card->data.pin_tries = VCARD_TRIES_MAX;
	sw = commit_or_undo(card, &before);
	OPENSSL_cleanse(&before, sizeof(before));
	/* Changed and still verified (the holder just proved the old PIN). */
	*pin.verified = sw == SW_OK;
	return vcard_respond_sw(resp, sw);
}

size_t vcard_cmd_reset_retry_counter(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct secret_ref uc = secret_for(card, VCARD_REF_USER_CODE);
	const uint8_t *code, *new_pin;
	struct vcard_data before;
	size_t code_len, new_len;
	uint16_t sw;

	if (a->p1 != 0x00 || a->p2 != VCARD_REF_PIN)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (!parse_two_secrets(a, &code, &code_len, &new_pin, &new_len))
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	/* The new PIN's format first: a typo there must not cost a user-code try. */
	if (!vcard_secret_format_ok(VCARD_REF_PIN, new_pin, new_len, &sw) ||
	    !vcard_secret_format_ok(VCARD_REF_USER_CODE, code, code_len, &sw))
		return vcard_respond_sw(resp, sw);
	if (*uc.tries == 0)
		return vcard_respond_sw(resp, SW_BLOCKED);
	if (!secret_matches(&uc, code, code_len))
		return vcard_respond_sw(resp, secret_wrong(card, &uc));

	memcpy(&before, &card->data, sizeof(before));
	set_pin(card, new_pin, new_len);
	card->data.pin_tries = VCARD_TRIES_MAX;
	card->data.user_code_tries = VCARD_TRIES_MAX;
	sw = commit_or_undo(card, &before);
	OPENSSL_cleanse(&before, sizeof(before));
	if (sw == SW_OK) {
		/* A verification of the old PIN does not carry over to the new one. */
		card->session.pin_verified = false;
		card->session.user_code_verified = true;
	}
	return vcard_respond_sw(resp, sw);
}

/* MSE SET: 80 22 41 B6 (signing) / 41 B8 (deciphering), data 84 01 <key> 80 01 <alg>
 * (the two objects in either order). */
size_t vcard_cmd_mse(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_se se = {0};
	bool have_key = false, have_alg = false;
	uint8_t wanted_key;

	if (a->p1 != 0x41 || (a->p2 != 0xB6 && a->p2 != 0xB8))
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 6)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	for (size_t pos = 0; pos < 6; pos += 3) {
		uint8_t tag = a->data[pos], len = a->data[pos + 1], value = a->data[pos + 2];

		if (len != 1)
			return vcard_respond_sw(resp, SW_WRONG_DATA);
		if (tag == 0x84 && !have_key) {
			se.key = value;
			have_key = true;
		} else if (tag == 0x80 && !have_alg) {
			se.alg = value;
			have_alg = true;
		} else {
			return vcard_respond_sw(resp, SW_WRONG_DATA);
		}
	}
	/* Each key does what its certificate allows. */
	wanted_key = a->p2 == 0xB6 ? VCARD_KEY_SIGNATURE : VCARD_KEY_ENCRYPTION;
	if (se.key != wanted_key || (se.alg != VCARD_ALG_RAW && se.alg != VCARD_ALG_PKCS1))
		return vcard_respond_sw(resp, SW_WRONG_DATA);
	if (a->p2 == 0xB6)
		card->session.se_sign = se;
	else
		card->session.se_decipher = se;
	return vcard_respond_sw(resp, SW_OK);
}

static EVP_PKEY_CTX *rsa_ctx(EVP_PKEY *key, bool sign, uint8_t alg)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int padding = alg == VCARD_ALG_PKCS1 ? RSA_PKCS1_PADDING : RSA_NO_PADDING;

	if (!ctx)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_decrypt_init(ctx)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, padding) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
	/* OpenSSL 3.2+: a bad PKCS#1 padding is an error here, not random output. */
	if (!sign && padding == RSA_PKCS1_PADDING) {
		unsigned int off = 0;
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, &off),
		    OSSL_PARAM_construct_end(),
		};
		EVP_PKEY_CTX_set_params(ctx, params);
	}
#endif
	return ctx;
}

/* PSO COMPUTE DIGITAL SIGNATURE: PKCS#1 v1.5 over a DigestInfo (alg 02), or raw RSA over
 * a block of exactly the modulus size that is smaller than the modulus (alg 00). */
static size_t pso_sign(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t alg = card->session.se_sign.alg;
	EVP_PKEY *key = card->data.sign_key;
	size_t k = (size_t)EVP_PKEY_get_size(key), sig_len = VCARD_RESPONSE_MAX;
	uint8_t sig[VCARD_RESPONSE_MAX];
	EVP_PKEY_CTX *ctx;
	int ok;

	if (alg == VCARD_ALG_PKCS1 ? (a->lc == 0 || a->lc > k - 11) : a->lc != k)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	ctx = rsa_ctx(key, true, alg);
	if (!ctx)
		return vcard_respond_sw(resp, SW_MEMORY_FAILURE);
	ok = EVP_PKEY_sign(ctx, sig, &sig_len, a->data, a->lc) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) /* raw input not smaller than the modulus */
		return vcard_respond_sw(resp, SW_WRONG_DATA);
	return vcard_respond_data(card, sig, sig_len, SW_OK, false, resp);
}

/* PSO DECIPHER: data = 00 (padding indicator) || cryptogram of the modulus size. */
static size_t pso_decipher(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t alg = card->session.se_decipher.alg;
	EVP_PKEY *key = card->data.decrypt_key;
	size_t k = (size_t)EVP_PKEY_get_size(key), out_len = VCARD_RESPONSE_MAX, n;
	uint8_t out[VCARD_RESPONSE_MAX];
	EVP_PKEY_CTX *ctx;
	int ok;

	if (a->lc != 1 + k)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (a->data[0] != 0x00)
		return vcard_respond_sw(resp, SW_WRONG_DATA);
	ctx = rsa_ctx(key, false, alg);
	if (!ctx)
		return vcard_respond_sw(resp, SW_MEMORY_FAILURE);
	ok = EVP_PKEY_decrypt(ctx, out, &out_len, a->data + 1, k) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) { /* cryptogram not smaller than the modulus, or bad padding */
		OPENSSL_cleanse(out, sizeof(out));
		return vcard_respond_sw(resp, SW_WRONG_DATA);
	}
	n = vcard_respond_data(card, out, out_len, SW_OK, true, resp);
	OPENSSL_cleanse(out, sizeof(out));
	return n;
}

size_t vcard_cmd_pso(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	bool sign = a->p1 == 0x9E && a->p2 == 0x9A;
	bool decipher = a->p1 == 0x80 && a->p2 == 0x86;

	if (!sign && !decipher)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (!card->session.pin_verified)
		return vcard_respond_sw(resp, SW_SECURITY_NOT_SATISFIED);
	return sign ? pso_sign(card, a, resp) : pso_decipher(card, a, resp);
}

size_t vcard_cmd_get_challenge(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	uint8_t challenge[VCARD_SHORT_LE_MAX];

	if (a->p1 != 0x00 || a->p2 != 0x00)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 0 || !a->has_le)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (RAND_bytes(challenge, (int)a->le) != 1)
		return vcard_respond_sw(resp, SW_MEMORY_FAILURE);
	return vcard_respond_data(card, challenge, a->le, SW_OK, false, resp);
}
