#include "config.h"

#include "pkcs11/rsa-padding.h"

#include <limits.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

/* RSA_padding_add_PKCS1_PSS_mgf1 takes an RSA key only to read the modulus size (EMSA-PSS
 * depends on emBits = modBits - 1 alone).  The card holds the key, so this key carries just
 * that size: n = 2^(bits-1) + 1 has exactly modulus_bits bits. */
static RSA *rsa_of_size(unsigned long modulus_bits)
{
	RSA *rsa = RSA_new();
	BIGNUM *n = BN_new();
	BIGNUM *e = BN_new();

	if (rsa == NULL || n == NULL || e == NULL || !BN_set_bit(n, (int)modulus_bits - 1) ||
	    !BN_set_bit(n, 0) || !BN_set_word(e, RSA_F4) || !RSA_set0_key(rsa, n, e, NULL)) {
		RSA_free(rsa);
		BN_free(n);
		BN_free(e);
		return NULL;
	}
	return rsa;
}

bool p11u_pss_encode(uint8_t *em, size_t em_size, unsigned long modulus_bits, const uint8_t *mhash,
                     const EVP_MD *md, const EVP_MD *mgf1_md, size_t salt_len)
{
	RSA *rsa;
	bool ok;

	if (modulus_bits < 2 || modulus_bits > INT_MAX || em_size != (modulus_bits + 7) / 8 ||
	    salt_len > INT_MAX)
		return false;
	ERR_set_mark();
	rsa = rsa_of_size(modulus_bits);
	ok = rsa != NULL &&
	     RSA_padding_add_PKCS1_PSS_mgf1(rsa, em, mhash, md, mgf1_md, (int)salt_len) == 1;
	RSA_free(rsa);
	ERR_pop_to_mark();
	return ok;
}

int p11u_oaep_decode(uint8_t *out, size_t out_size, const uint8_t *em, size_t em_len,
                     const uint8_t *label, size_t label_len, const EVP_MD *md,
                     const EVP_MD *mgf1_md)
{
	int len;

	if (em_len > INT_MAX || out_size < em_len || label_len > INT_MAX)
		return -1;
	/* A failed check leaves an error on OpenSSL's queue: drop it, the caller reports it. */
	ERR_set_mark();
	len = RSA_padding_check_PKCS1_OAEP_mgf1(out, (int)em_len, em, (int)em_len, (int)em_len,
	                                        label, (int)label_len, md, mgf1_md);
	ERR_pop_to_mark();
	return len < 0 ? -1 : len;
}

bool p11u_pkcs1_type1_encode(uint8_t *em, size_t em_size, const uint8_t *in, size_t in_len)
{
	bool ok;

	if (em_size > INT_MAX || in_len > INT_MAX)
		return false;
	ERR_set_mark();
	ok = RSA_padding_add_PKCS1_type_1(em, (int)em_size, in, (int)in_len) == 1;
	ERR_pop_to_mark();
	return ok;
}

int p11u_pkcs1_type2_decode(uint8_t *out, size_t out_size, const uint8_t *em, size_t em_len)
{
	int len;

	if (em_len > INT_MAX || out_size < em_len)
		return -1;
	ERR_set_mark();
	len = RSA_padding_check_PKCS1_type_2(out, (int)em_len, em, (int)em_len, (int)em_len);
	ERR_pop_to_mark();
	return len < 0 ? -1 : len;
}
