/* What the public traces show of a first-generation HiCOS card's security commands, and nothing
 * more (docs/card-profile.md, "Real cards"):
 *
 * - the protected VERIFY: select 3F00/5030/0810; the PIN padded with FF to 10 bytes; a random
 *   8-byte IV; two-key 3DES-CBC under the 16 ASCII bytes "CHTTL8f0HiCardV2"; MAC = the last
 *   block of 3DES-CBC(IV, PIN10 || 06 x6); cryptogram = 3DES-CBC(IV, PIN10 || MAC || 06 x6);
 *   8C 20 00 01 20 || IV || cryptogram.  9000 right, 63Cx wrong (x left), 6983 blocked; any
 *   other answer is an error, never a reason to send anything again;
 * - raw RSA-2048 with a key reference: select 0810, 80 EA 82 <ref> 80 || first 128 bytes
 *   (9000), 80 EA 02 <ref> 80 || last 128 bytes (result bytes 0-127), 80 C1 00 80 80 (bytes
 *   128-255).
 *
 * One VERIFY per call, only for the PIN, only once p11u_card_enable_real_login() allowed it.
 * The block carries the PIN under a public key: it is wiped after use and the trace hides it. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "card/card-int.h"
#include "common/log.h"

#define DES_BLOCK 8
#define IV_LEN    DES_BLOCK
#define PAD_LEN   6
#define MAC_IN    (P11U_HICOS_PIN_BLOCK + PAD_LEN)                   /* 16 */
#define CRYPT_IN  (P11U_HICOS_PIN_BLOCK + DES_BLOCK + PAD_LEN)       /* 24 */

/* Two-key 3DES-CBC of in (a whole number of blocks, no padding added) into out. */
static bool des_ede_cbc(const uint8_t iv[IV_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t key[] = P11U_HICOS_DES_KEY;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, tail = 0;
	bool ok;

	ok = ctx != NULL && sizeof key - 1 == 16 && len % DES_BLOCK == 0 && len <= INT32_MAX &&
	     EVP_EncryptInit_ex(ctx, EVP_des_ede_cbc(), NULL, key, iv) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(ctx, out + n, &tail) == 1 && (size_t)(n + tail) == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

bool p11u_hicos_verify_data(const uint8_t *pin, size_t pin_len, const uint8_t iv[8],
                            uint8_t out[P11U_HICOS_VERIFY_LC])
{
	uint8_t mac_in[MAC_IN], mac_out[MAC_IN], plain[CRYPT_IN];
	bool ok;

	if (pin == NULL || pin_len == 0 || pin_len > P11U_HICOS_PIN_BLOCK)
		return false;
	memset(mac_in, P11U_HICOS_PIN_PAD, P11U_HICOS_PIN_BLOCK);
	memcpy(mac_in, pin, pin_len);
	memset(mac_in + P11U_HICOS_PIN_BLOCK, P11U_HICOS_DES_PAD, PAD_LEN);
	ok = des_ede_cbc(iv, mac_in, sizeof mac_in, mac_out);
	if (ok) {
		memcpy(plain, mac_in, P11U_HICOS_PIN_BLOCK);
		memcpy(plain + P11U_HICOS_PIN_BLOCK, mac_out + MAC_IN - DES_BLOCK, DES_BLOCK);
		memset(plain + P11U_HICOS_PIN_BLOCK + DES_BLOCK, P11U_HICOS_DES_PAD, PAD_LEN);
		memcpy(out, iv, IV_LEN);
		ok = des_ede_cbc(iv, plain, sizeof plain, out + IV_LEN);
	}
	OPENSSL_cleanse(mac_in, sizeof mac_in);
	OPENSSL_cleanse(mac_out, sizeof mac_out);
	OPENSSL_cleanse(plain, sizeof plain);
	if (!ok)
		OPENSSL_cleanse(out, P11U_HICOS_VERIFY_LC);
	return ok;
}

/* The answer to the protected VERIFY: 9000, 63Cx or 6983; anything else is an error. */
static enum p11u_card_rv verify_result(uint16_t sw, int *tries_left)
{
	if (sw == 0x9000)
		return P11U_CARD_OK;
	if ((sw & 0xFFF0) == 0x63C0) {
		if (tries_left != NULL)
			*tries_left = sw & 0x0F;
		return P11U_CARD_E_SECRET_INCORRECT;
	}
	if (sw == 0x6983) {
		if (tries_left != NULL)
			*tries_left = 0;
		return P11U_CARD_E_SECRET_BLOCKED;
	}
	P11U_DEBUG(P11U_LOG_CARD, "protected VERIFY: status word %04X, an error (not retried)", sw);
	return P11U_CARD_E_BAD_RESPONSE;
}

enum p11u_card_rv p11u_gen1_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left)
{
	uint8_t iv[IV_LEN], data[P11U_HICOS_VERIFY_LC];
	size_t resp_len;
	uint16_t sw = 0;
	enum p11u_card_rv rv;

	if (which != P11U_SECRET_PIN || !card->real_login) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "protected VERIFY refused without card I/O: %s (hicos_login = yes in "
		           "p11unlock.conf enables the PIN login of first-generation cards)",
		           which != P11U_SECRET_PIN ? "only the PIN has one" : "login not enabled");
		return P11U_CARD_E_NOT_SUPPORTED;
	}
	if (RAND_bytes(iv, sizeof iv) != 1 || !p11u_hicos_verify_data(secret, len, iv, data))
		return P11U_CARD_E_NO_MEMORY;
	rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, P11U_FID_KEY_FILE);
	if (rv == P11U_CARD_OK) {
		const struct p11u_apdu apdu = {
		    .cla = P11U_HICOS_CLA_PROTECTED,
		    .ins = P11U_INS_VERIFY,
		    .p2 = P11U_HICOS_VERIFY_P2,
		    .data = data,
		    .data_len = sizeof data,
		    .raw_sw = true,
		};
		rv = p11u_apdu_exchange(card, &apdu, NULL, 0, &resp_len, &sw);
	}
	OPENSSL_cleanse(data, sizeof data);
	return rv == P11U_CARD_OK ? verify_result(sw, tries_left) : rv;
}

/* One of the EA / C1 commands; *got receives the response length (resp may be NULL). */
static enum p11u_card_rv rsa_command(struct p11u_card *card, const struct p11u_apdu *apdu,
                                     uint8_t *resp, size_t cap, size_t *got)
{
	uint16_t sw;
	enum p11u_card_rv rv = p11u_apdu_exchange(card, apdu, resp, cap, got, &sw);

	if (rv == P11U_CARD_OK)
		rv = p11u_sw_to_rv(sw, P11U_CMD_KEY, NULL);
	if (rv == P11U_CARD_OK && *got != (resp != NULL ? P11U_HICOS_RSA_HALF : 0)) {
		P11U_DEBUG(P11U_LOG_CARD, "raw RSA: %zu bytes where %d were expected", *got,
		           resp != NULL ? P11U_HICOS_RSA_HALF : 0);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	return rv;
}

/* Raw RSA-2048 with key reference ref over in (256 bytes) into out (256 bytes). */
static enum p11u_card_rv gen1_rsa(struct p11u_card *card, enum p11u_keyref ref, const uint8_t *in,
                                  uint8_t *out, bool secret)
{
	const struct p11u_apdu first = {
	    .cla = P11U_CLA,
	    .ins = P11U_HICOS_INS_RSA,
	    .p1 = P11U_HICOS_RSA_P1_FIRST,
	    .p2 = (uint8_t)ref,
	    .data = in,
	    .data_len = P11U_HICOS_RSA_HALF,
	};
	const struct p11u_apdu last = {
	    .cla = P11U_CLA,
	    .ins = P11U_HICOS_INS_RSA,
	    .p1 = P11U_HICOS_RSA_P1_LAST,
	    .p2 = (uint8_t)ref,
	    .data = in + P11U_HICOS_RSA_HALF,
	    .data_len = P11U_HICOS_RSA_HALF,
	    .le = P11U_HICOS_RSA_HALF,
	    .omit_le = true,
	    .secret_response = secret,
	};
	const struct p11u_apdu rest = {
	    .cla = P11U_CLA,
	    .ins = P11U_HICOS_INS_RSA_REST,
	    .p2 = P11U_HICOS_RSA_HALF,
	    .le = P11U_HICOS_RSA_HALF,
	    .secret_response = secret,
	};
	size_t got = 0;
	enum p11u_card_rv rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, P11U_FID_KEY_FILE);

	if (rv == P11U_CARD_OK)
		rv = rsa_command(card, &first, NULL, 0, &got);
	if (rv == P11U_CARD_OK)
		rv = rsa_command(card, &last, out, P11U_HICOS_RSA_HALF, &got);
	if (rv == P11U_CARD_OK)
		rv = rsa_command(card, &rest, out + P11U_HICOS_RSA_HALF, P11U_HICOS_RSA_HALF, &got);
	if (rv != P11U_CARD_OK)
		OPENSSL_cleanse(out, P11U_HICOS_RSA_BYTES);
	return rv;
}

/* card.c checked the input against the key; gen1 computes raw RSA-2048 only. */
static enum p11u_card_rv rsa_args(const struct p11u_card *card, enum p11u_keyref key,
                                  enum p11u_rsa_alg alg, size_t in_len, size_t out_cap)
{
	const struct p11u_card_key *k = p11u_card_key(card, key);

	if (alg != P11U_RSA_RAW || k == NULL || k->size != P11U_HICOS_RSA_BYTES ||
	    in_len != P11U_HICOS_RSA_BYTES || out_cap < P11U_HICOS_RSA_BYTES)
		return P11U_CARD_E_ARGS;
	return P11U_CARD_OK;
}

enum p11u_card_rv p11u_gen1_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len)
{
	enum p11u_card_rv rv = rsa_args(card, key, alg, in_len, *out_len);

	if (rv == P11U_CARD_OK)
		rv = gen1_rsa(card, key, in, out, false);
	if (rv == P11U_CARD_OK)
		*out_len = P11U_HICOS_RSA_BYTES;
	return rv;
}

enum p11u_card_rv p11u_gen1_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len)
{
	uint8_t plain[P11U_HICOS_RSA_BYTES];
	enum p11u_card_rv rv = rsa_args(card, key, alg, in_len, P11U_HICOS_RSA_BYTES);

	if (rv == P11U_CARD_OK && *out_len < P11U_HICOS_RSA_BYTES) {
		*out_len = P11U_HICOS_RSA_BYTES;
		return P11U_CARD_E_ARGS;
	}
	if (rv == P11U_CARD_OK)
		rv = gen1_rsa(card, key, in, plain, true);
	if (rv == P11U_CARD_OK) {
		memcpy(out, plain, sizeof plain);
		*out_len = sizeof plain;
	}
	OPENSSL_cleanse(plain, sizeof plain);
	return rv;
}
