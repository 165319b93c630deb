/* The card's keys as parsed facts: the modulus each key reference works with (to check input
 * lengths before any card I/O).  For the fixed layout every stored certificate must be
 * well-formed DER and the two key certificates give the keys 0x01 and 0x02; a real card's
 * directory files name its keys (hicos-read.c adds them). */
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

bool p11u_keys_add(struct p11u_card *card, int ref, const uint8_t *modulus, size_t len)
{
	struct p11u_card_key *key;

	while (len > 0 && modulus[0] == 0) {
		modulus++;
		len--;
	}
	if (card->n_keys >= P11U_CARD_KEYS_MAX || len < MODULUS_MIN || len > P11U_MODULUS_MAX) {
		P11U_DEBUG(P11U_LOG_CARD, "key reference %d: unusable modulus (%zu bytes)", ref, len);
		return false;
	}
	key = &card->keys[card->n_keys++];
	key->ref = ref;
	key->size = len;
	memcpy(key->modulus, modulus, len);
	return true;
}

/* The modulus of an RSA certificate as key reference ref; nothing for anything else. */
static void load_modulus(struct p11u_card *card, X509 *x509, enum p11u_keyref ref)
{
	EVP_PKEY *pkey = X509_get0_pubkey(x509);
	uint8_t modulus[P11U_MODULUS_MAX];
	BIGNUM *n = NULL;
	int bytes;

	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)) {
		P11U_DEBUG(P11U_LOG_CARD, "key reference %d: no RSA public key", (int)ref);
		return;
	}
	bytes = BN_num_bytes(n);
	if (bytes > 0 && bytes <= P11U_MODULUS_MAX && BN_bn2binpad(n, modulus, bytes) == bytes)
		p11u_keys_add(card, (int)ref, modulus, (size_t)bytes);
	else
		P11U_DEBUG(P11U_LOG_CARD, "key reference %d: unusable modulus (%d bytes)", (int)ref,
		           bytes);
	BN_free(n);
}

enum p11u_card_rv p11u_keys_load(struct p11u_card *card)
{
	if (card->dir != NULL)
		return P11U_CARD_OK; /* the directory files named the keys (hicos-read.c) */
	card->n_keys = 0;
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
			load_modulus(card, x509, P11U_KEY_SIGNATURE);
		else if (slot == P11U_CERT_ENCRYPTION)
			load_modulus(card, x509, P11U_KEY_ENCRYPTION);
		X509_free(x509);
	}
	return P11U_CARD_OK;
}

const struct p11u_card_key *p11u_card_key(const struct p11u_card *card, enum p11u_keyref key)
{
	for (size_t i = 0; i < card->n_keys; i++)
		if (card->keys[i].ref == (int)key && card->keys[i].size > 0)
			return &card->keys[i];
	P11U_DEBUG(P11U_LOG_CARD, "key reference %d: no usable public key", (int)key);
	return NULL;
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
