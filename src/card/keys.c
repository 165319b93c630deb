/* The card's certificates as parsed facts: every stored certificate must be
 * well-formed DER, and the two key certificates give the RSA modulus each key
 * reference works with (to check input lengths before any card I/O). */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "card/card-int.h"
#include "common/log.h"

/* Smallest modulus worth a key operation (bytes). */
#define MODULUS_MIN 64

static enum p11u_cert_slot slot_of_key(enum p11u_keyref key)
{
	return key == P11U_KEY_SIGNATURE ? P11U_CERT_SIGNATURE : P11U_CERT_ENCRYPTION;
}

/* The modulus of an RSA certificate; key->size stays 0 for anything else. */
static void load_modulus(X509 *x509, struct p11u_card_key *key, enum p11u_cert_slot slot)
{
	EVP_PKEY *pkey = X509_get0_pubkey(x509);
	BIGNUM *n = NULL;
	int bytes;

	key->size = 0;
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)) {
		P11U_DEBUG(P11U_LOG_CARD, "certificate slot %d: no RSA public key", (int)slot);
		return;
	}
	bytes = BN_num_bytes(n);
	if (bytes >= MODULUS_MIN && bytes <= P11U_MODULUS_MAX &&
	    BN_bn2binpad(n, key->modulus, bytes) == bytes)
		key->size = (size_t)bytes;
	else
		P11U_DEBUG(P11U_LOG_CARD, "certificate slot %d: unusable modulus (%d bytes)",
		           (int)slot, bytes);
	BN_free(n);
}

enum p11u_card_rv p11u_keys_load(struct p11u_card *card)
{
	memset(card->keys, 0, sizeof card->keys);
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		const struct p11u_card_cert *cert = &card->info.certs[slot];
		const unsigned char *p = cert->der;
		X509 *x509;

		if (cert->der == NULL)
			continue;
		x509 = d2i_X509(NULL, &p, (long)cert->len);
		if (x509 == NULL || p != cert->der + cert->len) {
			P11U_DEBUG(P11U_LOG_CARD, "certificate slot %d: not a DER certificate",
			           slot);
			X509_free(x509);
			return P11U_CARD_E_BAD_RESPONSE;
		}
		if (slot == P11U_CERT_SIGNATURE)
			load_modulus(x509, &card->keys[0], P11U_CERT_SIGNATURE);
		else if (slot == P11U_CERT_ENCRYPTION)
			load_modulus(x509, &card->keys[1], P11U_CERT_ENCRYPTION);
		X509_free(x509);
	}
	return P11U_CARD_OK;
}

const struct p11u_card_key *p11u_card_key(const struct p11u_card *card, enum p11u_keyref key)
{
	const struct p11u_card_key *k;

	if (key != P11U_KEY_SIGNATURE && key != P11U_KEY_ENCRYPTION)
		return NULL;
	k = &card->keys[key == P11U_KEY_SIGNATURE ? 0 : 1];
	if (k->size == 0) {
		P11U_DEBUG(P11U_LOG_CARD, "key reference %d: no usable certificate in slot %d",
		           (int)key, (int)slot_of_key(key));
		return NULL;
	}
	return k;
}

/* A block for raw RSA must be exactly the modulus size and below the modulus. */
static bool below_modulus(const struct p11u_card_key *key, const uint8_t *in, size_t in_len)
{
	return in_len == key->size && memcmp(in, key->modulus, key->size) < 0;
}

enum p11u_card_rv p11u_keys_check_input(const struct p11u_card_key *key, bool sign,
                                        enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len)
{
	bool ok;

	if (sign && alg == P11U_RSA_PKCS1)
		/* A DigestInfo, padded on the card: at least 11 bytes of padding must fit. */
		ok = in_len > 0 && in_len + 11 <= key->size;
	else
		ok = below_modulus(key, in, in_len);
	if (!ok)
		P11U_DEBUG(P11U_LOG_CARD, "input of %zu bytes does not fit a %zu-bit key", in_len,
		           key->size * 8);
	return ok ? P11U_CARD_OK : P11U_CARD_E_DATA_LEN;
}
