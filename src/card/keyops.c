/* The test card's key commands: MSE SET + PSO COMPUTE DIGITAL SIGNATURE / PSO
 * DECIPHER, and GET CHALLENGE.  Inputs were checked against the key's modulus
 * before the transaction (card.c); answers are checked here. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "card/card-int.h"
#include "common/log.h"

/* GET CHALLENGE bytes per command. */
#define CHALLENGE_CHUNK P11U_APDU_LE_MAX

static size_t le_for(size_t expected)
{
	return expected < P11U_APDU_LE_MAX ? expected : P11U_APDU_LE_MAX;
}

/* MSE SET: which key and which algorithm the next PSO uses. */
static enum p11u_card_rv mse_set(struct p11u_card *card, uint8_t template_tag, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg)
{
	const uint8_t crt[] = {P11U_MSE_TAG_KEYREF, 1, (uint8_t)key,
	                       P11U_MSE_TAG_ALG,    1, (uint8_t)alg};
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA,
	    .ins = P11U_INS_MSE,
	    .p1 = P11U_MSE_P1_SET,
	    .p2 = template_tag,
	    .data = crt,
	    .data_len = sizeof crt,
	};

	return p11u_apdu_command(card, &apdu, P11U_CMD_KEY, NULL);
}

/* Sends a PSO and maps its status word; *got is the response length. */
static enum p11u_card_rv pso(struct p11u_card *card, const struct p11u_apdu *apdu, uint8_t *out,
                             size_t out_cap, size_t *got)
{
	uint16_t sw;
	enum p11u_card_rv rv;

	rv = p11u_apdu_exchange(card, apdu, out, out_cap, got, &sw);
	if (rv != P11U_CARD_OK)
		return rv;
	return p11u_sw_to_rv(sw, P11U_CMD_KEY, NULL);
}

enum p11u_card_rv p11u_test_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len)
{
	const struct p11u_card_key *k = p11u_card_key(card, key);
	size_t got = 0;
	enum p11u_card_rv rv;

	if (k == NULL || *out_len < k->size)
		return P11U_CARD_E_ARGS;
	rv = mse_set(card, P11U_MSE_P2_SIGN, key, alg);
	if (rv != P11U_CARD_OK)
		return rv;
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA,
	    .ins = P11U_INS_PSO,
	    .p1 = P11U_PSO_P1_SIGN,
	    .p2 = P11U_PSO_P2_SIGN,
	    .data = in,
	    .data_len = in_len,
	    .le = le_for(k->size),
	};
	rv = pso(card, &apdu, out, k->size, &got);
	if (rv == P11U_CARD_OK && got != k->size) {
		P11U_DEBUG(P11U_LOG_CARD, "signature of %zu bytes for a %zu-byte modulus", got,
		           k->size);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	if (rv != P11U_CARD_OK)
		return rv;
	*out_len = got;
	return P11U_CARD_OK;
}

/* The plaintext's length must fit what the algorithm can produce. */
static bool plaintext_len_ok(enum p11u_rsa_alg alg, size_t len, size_t modulus)
{
	if (alg == P11U_RSA_RAW)
		return len == modulus;
	return len + 11 <= modulus;
}

enum p11u_card_rv p11u_test_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len)
{
	const struct p11u_card_key *k = p11u_card_key(card, key);
	uint8_t data[1 + P11U_MODULUS_MAX];
	uint8_t plain[P11U_MODULUS_MAX];
	size_t got = 0;
	enum p11u_card_rv rv;

	if (k == NULL || in_len != k->size)
		return P11U_CARD_E_ARGS;
	rv = mse_set(card, P11U_MSE_P2_DECIPHER, key, alg);
	if (rv != P11U_CARD_OK)
		return rv;
	/* Padding indicator, then the cryptogram: 257 bytes for RSA-2048, so chained. */
	data[0] = P11U_DECIPHER_PAD;
	memcpy(data + 1, in, in_len);
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA,
	    .ins = P11U_INS_PSO,
	    .p1 = P11U_PSO_P1_DECIPHER,
	    .p2 = P11U_PSO_P2_DECIPHER,
	    .data = data,
	    .data_len = 1 + in_len,
	    .le = le_for(k->size),
	    .secret_response = true,
	};
	rv = pso(card, &apdu, plain, k->size, &got);
	if (rv == P11U_CARD_OK && !plaintext_len_ok(alg, got, k->size)) {
		P11U_DEBUG(P11U_LOG_CARD, "plaintext of %zu bytes for a %zu-byte modulus", got,
		           k->size);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	if (rv == P11U_CARD_OK && got > *out_len) {
		*out_len = got;
		rv = P11U_CARD_E_ARGS;
	} else if (rv == P11U_CARD_OK) {
		memcpy(out, plain, got);
		*out_len = got;
	}
	OPENSSL_cleanse(plain, sizeof plain);
	OPENSSL_cleanse(data, sizeof data);
	return rv;
}

enum p11u_card_rv p11u_test_random(struct p11u_card *card, uint8_t *out, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < CHALLENGE_CHUNK ? len - done : CHALLENGE_CHUNK, got;
		const struct p11u_apdu apdu = {
		    .cla = P11U_CLA,
		    .ins = P11U_INS_GET_CHALLENGE,
		    .le = chunk,
		};
		uint16_t sw;
		enum p11u_card_rv rv;

		rv = p11u_apdu_exchange(card, &apdu, out + done, chunk, &got, &sw);
		if (rv == P11U_CARD_OK)
			rv = p11u_sw_to_rv(sw, P11U_CMD_OTHER, NULL);
		if (rv == P11U_CARD_OK && got != chunk) {
			P11U_DEBUG(P11U_LOG_CARD, "GET CHALLENGE: %zu bytes for %zu asked", got,
			           chunk);
			rv = P11U_CARD_E_BAD_RESPONSE;
		}
		if (rv != P11U_CARD_OK)
			return rv;
		done += got;
	}
	return P11U_CARD_OK;
}
