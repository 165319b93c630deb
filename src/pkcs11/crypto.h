/* Mechanisms and cryptographic operations: the mechanism table, digests in
 * software, and RSA signing / decryption where the private-key step runs on
 * the card (PKCS#1 v1.5 on the card for CKM_RSA_PKCS, raw RSA on the card with
 * OpenSSL's padding functions around it for PSS, OAEP and CKM_RSA_X_509, and for
 * CKM_RSA_PKCS too on a card that computes raw RSA only: a first-generation HiCOS card).
 * Verification and encryption use the public key objects, in software (OpenSSL
 * EVP), with no card I/O.
 * Session bookkeeping (which operation is active, handle checks, login) stays
 * in session.c; this file only knows the operation itself. */
#ifndef P11U_PKCS11_CRYPTO_H
#define P11U_PKCS11_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "card/card.h"
#include "pkcs11/object.h"

enum p11u_op_kind {
	P11U_OP_NONE = 0,
	P11U_OP_SIGN,
	P11U_OP_DECRYPT,
	P11U_OP_DIGEST,
	P11U_OP_VERIFY,  /* with a public key, in software */
	P11U_OP_ENCRYPT, /* with a public key, in software */
};

/* One active operation of a session.  Zero-initialised = no operation. */
struct p11u_op {
	enum p11u_op_kind kind;
	CK_MECHANISM_TYPE mechanism;
	enum p11u_keyref keyref; /* key operations */
	CK_ULONG modulus_bytes;  /* key operations */
	CK_ULONG modulus_bits;   /* key operations (PSS encodes to modulus_bits - 1 bits) */
	EVP_PKEY *pkey;          /* verify / encrypt: the public key */
	const EVP_MD *pss_md;    /* PSS: the message hash (from the mechanism or its parameters) */
	const EVP_MD *pss_mgf1_md; /* PSS / OAEP parameters */
	CK_ULONG pss_salt_len;
	const EVP_MD *oaep_md;
	EVP_MD_CTX *md_ctx; /* hash-and-sign mechanisms and C_Digest* */
	uint8_t *buffer;    /* data buffered for single-part mechanisms */
	size_t buffer_len;
	bool multi_part;  /* C_*Update was called: no single-part call may end it */
	bool single_part; /* a single-part call answered a size query: no C_*Update or C_*Final */
	uint8_t *oaep_label;
	size_t oaep_label_len;
};

/* C_GetMechanismList / C_GetMechanismInfo (key sizes from the token's keys). */
CK_RV p11u_mechanism_list(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count);
CK_RV p11u_mechanism_info(CK_MECHANISM_TYPE type, CK_ULONG min_key_bits, CK_ULONG max_key_bits,
                          CK_MECHANISM_INFO_PTR info);

/* *Init: checks the mechanism and its parameters against the key (CKR_MECHANISM_INVALID,
 * CKR_MECHANISM_PARAM_INVALID, CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED). */
CK_RV p11u_op_sign_init(struct p11u_op *op, const CK_MECHANISM *mech,
                        const struct p11u_object *key);
CK_RV p11u_op_decrypt_init(struct p11u_op *op, const CK_MECHANISM *mech,
                           const struct p11u_object *key);
CK_RV p11u_op_verify_init(struct p11u_op *op, const CK_MECHANISM *mech,
                          const struct p11u_object *key);
CK_RV p11u_op_encrypt_init(struct p11u_op *op, const CK_MECHANISM *mech,
                           const struct p11u_object *key);
CK_RV p11u_op_digest_init(struct p11u_op *op, const CK_MECHANISM *mech);

/* Multi-part input.  Hash-and-sign mechanisms hash as they go; CKM_RSA_PKCS, CKM_RSA_X_509 and
 * CKM_RSA_PKCS_PSS (prehashed) buffer the data, up to what the mechanism takes (modulus - 11,
 * the modulus, the hash size; more: CKR_DATA_LEN_RANGE, op ended); decryption and encryption
 * are single-part only (CKR_FUNCTION_NOT_SUPPORTED, op ended). */
CK_RV p11u_op_update(struct p11u_op *op, const uint8_t *data, CK_ULONG len);

/* Single-part C_Sign / C_Digest: the whole input, then completion as below.  A size query or
 * CKR_BUFFER_TOO_SMALL consumes no input, so the caller repeats the call with the same data.
 *
 * PKCS#11 section 5.2: a single-part call after C_*Update, and C_*Update or C_*Final after a
 * single-part size answer, return CKR_OPERATION_ACTIVE and leave the operation as it was. */
CK_RV p11u_op_sign(struct p11u_op *op, struct p11u_card *card, const uint8_t *data, CK_ULONG len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv);
CK_RV p11u_op_digest(struct p11u_op *op, const uint8_t *data, CK_ULONG len, CK_BYTE_PTR out,
                     CK_ULONG_PTR out_len);

/* Completion.  Size query (out == NULL) or CKR_BUFFER_TOO_SMALL: *out_len set, operation stays
 * active.  Any other result ends the operation (p11u_op_release).  card_rv (may be NULL)
 * receives the card layer's last result so the caller can react to a removed or reset card. */
CK_RV p11u_op_sign_final(struct p11u_op *op, struct p11u_card *card, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv);
/* Single-part C_Decrypt (RSA decryption has no multi-part form). */
CK_RV p11u_op_decrypt(struct p11u_op *op, struct p11u_card *card, const uint8_t *in,
                      CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len,
                      enum p11u_card_rv *card_rv);
/* C_DecryptFinal / C_EncryptFinal: RSA has no multi-part form, so they end the operation with
 * CKR_FUNCTION_NOT_SUPPORTED (CKR_OPERATION_ACTIVE after a single-part size answer). */
CK_RV p11u_op_cipher_final(struct p11u_op *op);
CK_RV p11u_op_digest_final(struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len);

/* Verification: the whole input (C_Verify) or what C_VerifyUpdate fed, against the signature.
 * CKR_OK for a valid signature, CKR_SIGNATURE_LEN_RANGE when its length is not the modulus
 * size, CKR_SIGNATURE_INVALID otherwise.  Always ends the operation. */
CK_RV p11u_op_verify(struct p11u_op *op, const uint8_t *data, CK_ULONG len, const uint8_t *sig,
                     CK_ULONG sig_len);
CK_RV p11u_op_verify_final(struct p11u_op *op, const uint8_t *sig, CK_ULONG sig_len);

/* Single-part encryption, completed like the functions above (the output is always the
 * modulus size).  CKR_DATA_LEN_RANGE for input longer than the mechanism takes. */
CK_RV p11u_op_encrypt(struct p11u_op *op, const uint8_t *in, CK_ULONG in_len, CK_BYTE_PTR out,
                      CK_ULONG_PTR out_len);

void p11u_op_release(struct p11u_op *op);

#endif
