/* OpenSSL's RSA padding functions around the card's raw RSA.  They are deprecated
 * in OpenSSL 3.0 but remain its only public encoders and decoders that work apart
 * from a private key, so they are wrapped here: rsa-padding.c is the one file
 * compiled with OPENSSL_SUPPRESS_DEPRECATED.  Nothing here hand-writes padding. */
#ifndef P11U_PKCS11_RSA_PADDING_H
#define P11U_PKCS11_RSA_PADDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* EMSA-PSS-ENCODE (RFC 8017 section 9.1.1) of mhash (EVP_MD_get_size(md) bytes) for a
 * modulus of modulus_bits bits, with a random salt of salt_len bytes.  Writes
 * (modulus_bits + 7) / 8 bytes to em (em_size must be that).  False when the parameters do
 * not fit the modulus. */
bool p11u_pss_encode(uint8_t *em, size_t em_size, unsigned long modulus_bits, const uint8_t *mhash,
                     const EVP_MD *md, const EVP_MD *mgf1_md, size_t salt_len);

/* EME-OAEP decoding (RFC 8017 section 7.1.2, steps 3-4) of em, the raw RSA result of exactly
 * the modulus size, in constant time.  Writes the message to out (out_size >= em_len).
 * Returns the message length, or -1 when the encoding is invalid. */
int p11u_oaep_decode(uint8_t *out, size_t out_size, const uint8_t *em, size_t em_len,
                     const uint8_t *label, size_t label_len, const EVP_MD *md,
                     const EVP_MD *mgf1_md);

/* EMSA-PKCS1-v1_5 for a card that computes raw RSA only: the type-1 block (00 01 FF..FF 00 in)
 * of em_size bytes (the modulus size) around in (a DigestInfo, or the data of CKM_RSA_PKCS).
 * False when in does not fit with at least 8 bytes of padding. */
bool p11u_pkcs1_type1_encode(uint8_t *em, size_t em_size, const uint8_t *in, size_t in_len);

/* RSAES-PKCS1-v1_5 decoding (RFC 8017 section 7.2.2, step 3) of em, the raw RSA result of
 * exactly the modulus size, in constant time.  Writes the message to out (out_size >= em_len).
 * Returns the message length, or -1 when the encoding is invalid. */
int p11u_pkcs1_type2_decode(uint8_t *out, size_t out_size, const uint8_t *em, size_t em_len);

#endif
