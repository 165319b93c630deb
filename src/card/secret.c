/* Secrets: the profile's format rules, and the test card's VERIFY, CHANGE
 * REFERENCE DATA and RESET RETRY COUNTER.  Secret bytes only ever live in the
 * caller's buffer and in bounded stack buffers that are wiped after sending;
 * nothing here logs them (the APDU trace masks these commands' data). */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "card/card-int.h"
#include "common/log.h"

/* len || secret, twice: the data of CHANGE REFERENCE DATA and RESET RETRY COUNTER. */
#define SECRET_PAIR_MAX (2 + P11U_USER_CODE_MAX + P11U_PIN_MAX)

bool p11u_secret_format_ok(enum p11u_secret which, const uint8_t *secret, size_t len)
{
	size_t min, max;

	switch (which) {
	case P11U_SECRET_PIN:
		min = P11U_PIN_MIN;
		max = P11U_PIN_MAX;
		break;
	case P11U_SECRET_USER_CODE:
		min = P11U_USER_CODE_MIN;
		max = P11U_USER_CODE_MAX;
		break;
	default:
		return false;
	}
	if (secret == NULL || len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (secret[i] < 0x21 || secret[i] > 0x7E)
			return false;
	return true;
}

/* Sends a command whose data (if any) is secret; returns the mapped status word. */
static enum p11u_card_rv send_secret_command(struct p11u_card *card, uint8_t ins, uint8_t ref,
                                             const uint8_t *data, size_t data_len, int *tries_left)
{
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA,
	    .ins = ins,
	    .p2 = ref,
	    .data = data,
	    .data_len = data_len,
	};

	return p11u_apdu_command(card, &apdu, P11U_CMD_SECRET, tries_left);
}

enum p11u_card_rv p11u_test_secret_state(struct p11u_card *card, enum p11u_secret which,
                                         struct p11u_secret_state *state)
{
	int tries = P11U_TRIES_MAX;
	enum p11u_card_rv rv;

	/* VERIFY without data reports without cost: 9000 (verified in this card session; a
	 * verified PIN has its counter back at the maximum), 63Cx or 6983. */
	rv = send_secret_command(card, P11U_INS_VERIFY, (uint8_t)which, NULL, 0, &tries);
	switch (rv) {
	case P11U_CARD_OK:
		state->tries_left = P11U_TRIES_MAX;
		state->verified = which == P11U_SECRET_PIN; /* a user code grants nothing */
		return P11U_CARD_OK;
	case P11U_CARD_E_SECRET_INCORRECT:
	case P11U_CARD_E_SECRET_BLOCKED:
		state->tries_left = tries;
		state->verified = false;
		return P11U_CARD_OK;
	default:
		return rv;
	}
}

enum p11u_card_rv p11u_test_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left)
{
	uint8_t data[P11U_USER_CODE_MAX];
	enum p11u_card_rv rv;

	if (len > sizeof data)
		return P11U_CARD_E_SECRET_FORMAT;
	memcpy(data, secret, len);
	rv = send_secret_command(card, P11U_INS_VERIFY, (uint8_t)which, data, len, tries_left);
	OPENSSL_cleanse(data, sizeof data);
	return rv;
}

/* Builds `len a || a || len b || b` into out (SECRET_PAIR_MAX bytes); returns its length. */
static size_t build_pair(uint8_t *out, const uint8_t *a, size_t a_len, const uint8_t *b,
                         size_t b_len)
{
	size_t n = 0;

	out[n++] = (uint8_t)a_len;
	memcpy(out + n, a, a_len);
	n += a_len;
	out[n++] = (uint8_t)b_len;
	memcpy(out + n, b, b_len);
	return n + b_len;
}

static enum p11u_card_rv send_secret_pair(struct p11u_card *card, uint8_t ins, const uint8_t *a,
                                          size_t a_len, const uint8_t *b, size_t b_len,
                                          int *tries_left)
{
	uint8_t data[SECRET_PAIR_MAX];
	size_t len;
	enum p11u_card_rv rv;

	if (a_len > P11U_USER_CODE_MAX || b_len > P11U_PIN_MAX)
		return P11U_CARD_E_SECRET_FORMAT;
	len = build_pair(data, a, a_len, b, b_len);
	rv = send_secret_command(card, ins, P11U_SECRET_PIN, data, len, tries_left);
	OPENSSL_cleanse(data, sizeof data);
	return rv;
}

enum p11u_card_rv p11u_test_change_pin(struct p11u_card *card, const uint8_t *old_pin,
                                       size_t old_len, const uint8_t *new_pin, size_t new_len,
                                       int *tries_left)
{
	return send_secret_pair(card, P11U_INS_CHANGE_REF, old_pin, old_len, new_pin, new_len,
	                        tries_left);
}

enum p11u_card_rv p11u_test_reset_pin(struct p11u_card *card, const uint8_t *user_code,
                                      size_t uc_len, const uint8_t *new_pin, size_t new_len,
                                      int *tries_left)
{
	return send_secret_pair(card, P11U_INS_RESET_COUNTER, user_code, uc_len, new_pin, new_len,
	                        tries_left);
}
