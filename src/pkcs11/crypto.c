#include "config.h"

#include "pkcs11/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pkcs11/errors.h"
#include "pkcs11/mechanism.h"
#include "pkcs11/rsa-padding.h"

/* Key sizes this code handles (the bounds keep every size computation below positive). */
#define MODULUS_BITS_MIN  512
#define MODULUS_BITS_MAX  4096
#define MODULUS_BYTES_MAX (MODULUS_BITS_MAX / 8)

/* PKCS#1 v1.5 needs at least 11 bytes of padding around the data. */
#define PKCS1_PADDING_MIN 11

static const struct p11u_mechanism *op_mechanism(const struct p11u_op *op)
{
	return p11u_mechanism_find(op->mechanism);
}

/* Card results in the operation's terms.  Input lengths are checked here before any card
 * I/O, so a length the card layer or the card refuses (6A80) means a value that does not fit
 * the key: a raw block not below the modulus, or a cryptogram whose padding is wrong. */
static CK_RV ckr_from_card_op(enum p11u_card_rv rv, enum p11u_op_kind kind)
{
	if (rv == P11U_CARD_E_DATA_LEN)
		return kind == P11U_OP_DECRYPT ? CKR_ENCRYPTED_DATA_INVALID : CKR_DATA_INVALID;
	return p11u_ckr_from_card(rv);
}

/* Size query (out == NULL) or a buffer too small: answers through *out_len and *rv, and the
 * operation stays active.  Returns false when the output fits. */
static bool output_size_answered(CK_ULONG needed, CK_BYTE_PTR out, CK_ULONG_PTR out_len, CK_RV *rv)
{
	if (out != NULL && *out_len >= needed)
		return false;
	*rv = out == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
	*out_len = needed;
	return true;
}

/* ---- operation set-up ---- */

/* PKCS#11 2.40 section 5.2: a single-part call cannot end an operation that C_*Update began,
 * and once a single-part call has answered a size query, C_*Update and C_*Final cannot take the
 * operation over.  Either refusal leaves the operation as it was. */
static CK_RV single_part_allowed(const struct p11u_op *op)
{
	return op->multi_part ? CKR_OPERATION_ACTIVE : CKR_OK;
}

static CK_RV multi_part_allowed(const struct p11u_op *op)
{
	return op->single_part ? CKR_OPERATION_ACTIVE : CKR_OK;
}

/* A single-part call's size answer: the operation stays, single-part. */
static bool single_part_size_answered(struct p11u_op *op, CK_ULONG needed, CK_BYTE_PTR out,
                                      CK_ULONG_PTR out_len, CK_RV *rv)
{
	if (!output_size_answered(needed, out, out_len, rv))
		return false;
	op->single_part = true;
	return true;
}

static bool key_allows(const struct p11u_object *key, CK_ATTRIBUTE_TYPE usage)
{
	CK_BBOOL value = CK_FALSE;
	CK_ATTRIBUTE attr = {usage, &value, sizeof(value)};

	return p11u_object_get_attributes(key, &attr, 1, NULL) == CKR_OK &&
	       attr.ulValueLen == sizeof(value) && value == CK_TRUE;
}

/* The card's private keys sign and decrypt; their public keys verify and encrypt (in software). */
static bool kind_uses_public_key(enum p11u_op_kind kind)
{
	return kind == P11U_OP_VERIFY || kind == P11U_OP_ENCRYPT;
}

/* The key checks of the *Init functions: the class the operation needs (the other key of the
 * pair is CKR_KEY_TYPE_INCONSISTENT), its usage attribute (CKA_SIGN, CKA_DECRYPT, CKA_VERIFY,
 * CKA_ENCRYPT) and a modulus size this code handles. */
static CK_RV check_key(const struct p11u_object *key, enum p11u_op_kind kind,
                       CK_ATTRIBUTE_TYPE usage)
{
	const CK_OBJECT_CLASS wanted =
	    kind_uses_public_key(kind) ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY;
	const CK_OBJECT_CLASS other = kind_uses_public_key(kind) ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;

	if (key->class == other)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (key->class != wanted)
		return CKR_KEY_HANDLE_INVALID;
	if (!key_allows(key, usage))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (key->modulus_bits < MODULUS_BITS_MIN || key->modulus_bits > MODULUS_BITS_MAX)
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

static void op_start(struct p11u_op *op, enum p11u_op_kind kind, CK_MECHANISM_TYPE mechanism,
                     const struct p11u_object *key)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->mechanism = mechanism;
	if (key != NULL) {
		op->keyref = key->keyref;
		op->modulus_bits = key->modulus_bits;
		op->modulus_bytes = (key->modulus_bits + 7) / 8;
	}
}

/* The public key as OpenSSL's, from the object's CKA_PUBLIC_KEY_INFO (the certificate's
 * SubjectPublicKeyInfo), checked to be the RSA key of the object's size. */
static CK_RV op_load_public_key(struct p11u_op *op, const struct p11u_object *key)
{
	const unsigned char *der;

	for (size_t i = 0; i < key->n_attrs; i++) {
		if (key->attrs[i].type != CKA_PUBLIC_KEY_INFO ||
		    key->attrs[i].ulValueLen > LONG_MAX)
			continue;
		der = key->attrs[i].pValue;
		op->pkey = d2i_PUBKEY(NULL, &der, (long)key->attrs[i].ulValueLen);
		break;
	}
	if (op->pkey == NULL || !EVP_PKEY_is_a(op->pkey, "RSA") ||
	    (CK_ULONG)EVP_PKEY_get_bits(op->pkey) != key->modulus_bits)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

static CK_RV op_start_hash(struct p11u_op *op, const EVP_MD *md)
{
	op->md_ctx = EVP_MD_CTX_new();
	if (op->md_ctx == NULL)
		return CKR_HOST_MEMORY;
	if (!EVP_DigestInit_ex(op->md_ctx, md, NULL))
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

/* Room for input buffered until the final call (never more than the modulus size). */
static CK_RV op_start_buffer(struct p11u_op *op)
{
	op->buffer = malloc(op->modulus_bytes);
	return op->buffer != NULL ? CKR_OK : CKR_HOST_MEMORY;
}

static CK_RV op_set_pss(struct p11u_op *op, const CK_MECHANISM *mech,
                        const struct p11u_mechanism *m)
{
	const CK_RSA_PKCS_PSS_PARAMS *params = mech->pParameter;
	const struct p11u_hash *hash, *mgf;
	size_t hash_len, em_len;

	if (params == NULL || mech->ulParameterLen != sizeof(*params))
		return CKR_MECHANISM_PARAM_INVALID;
	hash = p11u_hash_by_digest(params->hashAlg);
	mgf = p11u_hash_by_mgf(params->mgf);
	if (hash == NULL || mgf == NULL || (m->hash != 0 && params->hashAlg != m->hash))
		return CKR_MECHANISM_PARAM_INVALID;
	/* EMSA-PSS: emLen = ceil((modBits - 1) / 8) must hold hash, salt and two more bytes. */
	hash_len = (size_t)EVP_MD_get_size(hash->md());
	em_len = (op->modulus_bits - 1 + 7) / 8;
	if (em_len < hash_len + 2 || params->sLen > em_len - hash_len - 2)
		return CKR_MECHANISM_PARAM_INVALID;
	op->pss_md = hash->md();
	op->pss_mgf1_md = mgf->md();
	op->pss_salt_len = params->sLen;
	return CKR_OK;
}

static CK_RV op_set_oaep(struct p11u_op *op, const CK_MECHANISM *mech)
{
	const CK_RSA_PKCS_OAEP_PARAMS *params = mech->pParameter;
	const struct p11u_hash *hash, *mgf;
	size_t hash_len;

	if (params == NULL || mech->ulParameterLen != sizeof(*params))
		return CKR_MECHANISM_PARAM_INVALID;
	hash = p11u_hash_by_digest(params->hashAlg);
	mgf = p11u_hash_by_mgf(params->mgf);
	if (hash == NULL || mgf == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	/* CKZ_DATA_SPECIFIED is the only source; some callers leave it 0 for an empty label. */
	if (params->source != CKZ_DATA_SPECIFIED &&
	    !(params->source == 0 && params->ulSourceDataLen == 0))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((params->pSourceData == NULL && params->ulSourceDataLen > 0) ||
	    params->ulSourceDataLen > INT_MAX)
		return CKR_MECHANISM_PARAM_INVALID;
	hash_len = (size_t)EVP_MD_get_size(hash->md());
	if (op->modulus_bytes < 2 * hash_len + 2)
		return CKR_MECHANISM_PARAM_INVALID;

	op->oaep_md = hash->md();
	op->pss_mgf1_md = mgf->md();
	if (params->ulSourceDataLen > 0) {
		op->oaep_label = malloc(params->ulSourceDataLen);
		if (op->oaep_label == NULL)
			return CKR_HOST_MEMORY;
		memcpy(op->oaep_label, params->pSourceData, params->ulSourceDataLen);
		op->oaep_label_len = params->ulSourceDataLen;
	}
	return CKR_OK;
}

/* The checks every key *Init shares: arguments, no active operation, a mechanism of the table
 * that can do this (flag), and a key of the right class that allows it (usage).  On CKR_OK the
 * operation is started (with the public key loaded for verify / encrypt) and *out names the
 * mechanism. */
static CK_RV op_start_key(struct p11u_op *op, const CK_MECHANISM *mech,
                          const struct p11u_object *key, enum p11u_op_kind kind, CK_FLAGS flag,
                          CK_ATTRIBUTE_TYPE usage, const struct p11u_mechanism **out)
{
	const struct p11u_mechanism *m;
	CK_RV rv;

	if (op == NULL || mech == NULL || key == NULL)
		return CKR_ARGUMENTS_BAD;
	if (op->kind != P11U_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	m = p11u_mechanism_find(mech->mechanism);
	if (m == NULL || !(m->flags & flag))
		return CKR_MECHANISM_INVALID;
	rv = check_key(key, kind, usage);
	if (rv != CKR_OK)
		return rv;
	op_start(op, kind, m->type, key);
	if (kind_uses_public_key(kind)) {
		rv = op_load_public_key(op, key);
		if (rv != CKR_OK) {
			p11u_op_release(op);
			return rv;
		}
	}
	*out = m;
	return CKR_OK;
}

/* C_SignInit and C_VerifyInit: the same mechanisms, parameters and input handling. */
static CK_RV op_signature_init(struct p11u_op *op, const CK_MECHANISM *mech,
                               const struct p11u_object *key, enum p11u_op_kind kind, CK_FLAGS flag,
                               CK_ATTRIBUTE_TYPE usage)
{
	const struct p11u_mechanism *m;
	CK_RV rv = op_start_key(op, mech, key, kind, flag, usage, &m);

	if (rv != CKR_OK)
		return rv;
	switch (m->kind) {
	case P11U_MECH_RSA_PKCS:
	case P11U_MECH_RSA_X_509:
		rv = op_start_buffer(op);
		break;
	case P11U_MECH_HASH_RSA_PKCS:
		rv = op_start_hash(op, p11u_hash_by_digest(m->hash)->md());
		break;
	case P11U_MECH_RSA_PSS:
		rv = op_set_pss(op, mech, m);
		if (rv == CKR_OK)
			rv = op_start_buffer(op);
		break;
	case P11U_MECH_HASH_RSA_PSS:
		rv = op_set_pss(op, mech, m);
		if (rv == CKR_OK)
			rv = op_start_hash(op, op->pss_md);
		break;
	default:
		rv = CKR_MECHANISM_INVALID;
		break;
	}
	if (rv != CKR_OK)
		p11u_op_release(op);
	return rv;
}

CK_RV p11u_op_sign_init(struct p11u_op *op, const CK_MECHANISM *mech, const struct p11u_object *key)
{
	return op_signature_init(op, mech, key, P11U_OP_SIGN, CKF_SIGN, CKA_SIGN);
}

CK_RV p11u_op_verify_init(struct p11u_op *op, const CK_MECHANISM *mech,
                          const struct p11u_object *key)
{
	return op_signature_init(op, mech, key, P11U_OP_VERIFY, CKF_VERIFY, CKA_VERIFY);
}

/* C_DecryptInit and C_EncryptInit: the same mechanisms and parameters. */
static CK_RV op_cipher_init(struct p11u_op *op, const CK_MECHANISM *mech,
                            const struct p11u_object *key, enum p11u_op_kind kind, CK_FLAGS flag,
                            CK_ATTRIBUTE_TYPE usage)
{
	const struct p11u_mechanism *m;
	CK_RV rv = op_start_key(op, mech, key, kind, flag, usage, &m);

	if (rv != CKR_OK)
		return rv;
	if (m->kind == P11U_MECH_RSA_OAEP)
		rv = op_set_oaep(op, mech);
	if (rv != CKR_OK)
		p11u_op_release(op);
	return rv;
}

CK_RV p11u_op_decrypt_init(struct p11u_op *op, const CK_MECHANISM *mech,
                           const struct p11u_object *key)
{
	return op_cipher_init(op, mech, key, P11U_OP_DECRYPT, CKF_DECRYPT, CKA_DECRYPT);
}

CK_RV p11u_op_encrypt_init(struct p11u_op *op, const CK_MECHANISM *mech,
                           const struct p11u_object *key)
{
	return op_cipher_init(op, mech, key, P11U_OP_ENCRYPT, CKF_ENCRYPT, CKA_ENCRYPT);
}

CK_RV p11u_op_digest_init(struct p11u_op *op, const CK_MECHANISM *mech)
{
	const struct p11u_mechanism *m;
	CK_RV rv;

	if (op == NULL || mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (op->kind != P11U_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	m = p11u_mechanism_find(mech->mechanism);
	if (m == NULL || m->kind != P11U_MECH_DIGEST)
		return CKR_MECHANISM_INVALID;

	op_start(op, P11U_OP_DIGEST, m->type, NULL);
	rv = op_start_hash(op, p11u_hash_by_digest(m->hash)->md());
	if (rv != CKR_OK)
		p11u_op_release(op);
	return rv;
}

/* ---- input ---- */

/* How much raw input a buffering mechanism takes. */
static size_t op_input_max(const struct p11u_op *op)
{
	switch (op_mechanism(op)->kind) {
	case P11U_MECH_RSA_PKCS:
		return op->modulus_bytes - PKCS1_PADDING_MIN;
	case P11U_MECH_RSA_PSS:
		return (size_t)EVP_MD_get_size(op->pss_md);
	default:
		return op->modulus_bytes;
	}
}

static CK_RV op_feed(struct p11u_op *op, const uint8_t *data, CK_ULONG len)
{
	if (data == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (op->md_ctx != NULL)
		return EVP_DigestUpdate(op->md_ctx, data, len) ? CKR_OK : CKR_GENERAL_ERROR;
	if (len > op_input_max(op) - op->buffer_len)
		return CKR_DATA_LEN_RANGE;
	if (len > 0) {
		memcpy(op->buffer + op->buffer_len, data, len);
		op->buffer_len += len;
	}
	return CKR_OK;
}

CK_RV p11u_op_update(struct p11u_op *op, const uint8_t *data, CK_ULONG len)
{
	CK_RV rv;

	if (op == NULL || op->kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = multi_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	if (op->kind == P11U_OP_DECRYPT || op->kind == P11U_OP_ENCRYPT) {
		p11u_op_release(op);
		return CKR_FUNCTION_NOT_SUPPORTED;
	}
	op->multi_part = true;
	rv = op_feed(op, data, len);
	if (rv != CKR_OK)
		p11u_op_release(op);
	return rv;
}

/* ---- signing ---- */

/* The DER DigestInfo of RFC 8017 section 9.2.  OpenSSL's X509_SIG is exactly that ASN.1
 * type (an AlgorithmIdentifier and an OCTET STRING), so the encoding comes from OpenSSL's
 * DER encoder and the hash's OID table rather than from hand-kept byte prefixes. */
static CK_RV digest_info_encode(const EVP_MD *md, const uint8_t *hash, unsigned int hash_len,
                                uint8_t *out, size_t out_size, size_t *out_len)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *digest;
	unsigned char *der = NULL;
	int len = -1;
	CK_RV rv = CKR_OK;

	if (sig != NULL) {
		X509_SIG_getm(sig, &alg, &digest);
		if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) &&
		    ASN1_OCTET_STRING_set(digest, hash, (int)hash_len))
			len = i2d_X509_SIG(sig, &der);
	}
	if (len <= 0)
		rv = CKR_HOST_MEMORY;
	else if ((size_t)len > out_size)
		rv = CKR_KEY_SIZE_RANGE; /* the modulus is too small for this hash */
	else
		memcpy(out, der, (size_t)len);
	*out_len = len > 0 ? (size_t)len : 0;
	OPENSSL_free(der);
	X509_SIG_free(sig);
	return rv;
}

/* PSS: the message hash, computed here (hashing mechanisms) or the caller's (CKM_RSA_PKCS_PSS).
 * mhash holds EVP_MAX_MD_SIZE bytes. */
static CK_RV pss_message_hash(struct p11u_op *op, uint8_t *mhash, size_t *mhash_len)
{
	unsigned int len = 0;

	if (op->md_ctx != NULL) {
		if (!EVP_DigestFinal_ex(op->md_ctx, mhash, &len))
			return CKR_GENERAL_ERROR;
		*mhash_len = len;
	} else {
		/* op_feed kept the input within the hash size */
		memcpy(mhash, op->buffer, op->buffer_len);
		*mhash_len = op->buffer_len;
	}
	if (*mhash_len != (size_t)EVP_MD_get_size(op->pss_md))
		return CKR_DATA_LEN_RANGE;
	return CKR_OK;
}

static CK_RV pss_encode(struct p11u_op *op, uint8_t *block, size_t *block_len)
{
	uint8_t mhash[EVP_MAX_MD_SIZE];
	size_t mhash_len = 0;
	CK_RV rv = pss_message_hash(op, mhash, &mhash_len);

	if (rv != CKR_OK)
		return rv;
	if (!p11u_pss_encode(block, op->modulus_bytes, op->modulus_bits, mhash, op->pss_md,
	                     op->pss_mgf1_md, op->pss_salt_len))
		return CKR_GENERAL_ERROR;
	*block_len = op->modulus_bytes;
	return CKR_OK;
}

/* Raw RSA takes a block of the modulus size: the data (at most that long), zero-padded on the
 * left.  block holds MODULUS_BYTES_MAX bytes. */
static void raw_block(const struct p11u_op *op, const uint8_t *data, size_t len, uint8_t *block)
{
	memset(block, 0, op->modulus_bytes - len);
	if (len > 0)
		memcpy(block + op->modulus_bytes - len, data, len);
}

/* What the card signs, and how: block holds MODULUS_BYTES_MAX bytes. */
static CK_RV sign_input(struct p11u_op *op, uint8_t *block, size_t *block_len,
                        enum p11u_rsa_alg *alg)
{
	uint8_t hash[EVP_MAX_MD_SIZE];
	unsigned int hash_len = 0;

	switch (op_mechanism(op)->kind) {
	case P11U_MECH_RSA_PKCS:
		/* op_feed kept the input within modulus_bytes - 11 */
		if (op->buffer_len == 0)
			return CKR_DATA_LEN_RANGE;
		memcpy(block, op->buffer, op->buffer_len);
		*block_len = op->buffer_len;
		*alg = P11U_RSA_PKCS1;
		return CKR_OK;
	case P11U_MECH_RSA_X_509:
		raw_block(op, op->buffer, op->buffer_len, block);
		*block_len = op->modulus_bytes;
		*alg = P11U_RSA_RAW;
		return CKR_OK;
	case P11U_MECH_HASH_RSA_PKCS:
		*alg = P11U_RSA_PKCS1;
		if (!EVP_DigestFinal_ex(op->md_ctx, hash, &hash_len))
			return CKR_GENERAL_ERROR;
		return digest_info_encode(EVP_MD_CTX_get0_md(op->md_ctx), hash, hash_len, block,
		                          op->modulus_bytes - PKCS1_PADDING_MIN, block_len);
	case P11U_MECH_RSA_PSS:
	case P11U_MECH_HASH_RSA_PSS:
		*alg = P11U_RSA_RAW;
		return pss_encode(op, block, block_len);
	default:
		return CKR_MECHANISM_INVALID;
	}
}

/* The card's signature, as exactly modulus_bytes bytes (RFC 8017 I2OSP). */
static CK_RV card_sign(struct p11u_op *op, struct p11u_card *card, enum p11u_rsa_alg alg,
                       const uint8_t *block, size_t block_len, CK_BYTE_PTR out,
                       CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv)
{
	uint8_t sig[MODULUS_BYTES_MAX], padded[MODULUS_BYTES_MAX];
	size_t sig_len = sizeof(sig);
	enum p11u_card_rv crv;

	if (alg == P11U_RSA_PKCS1 && !p11u_card_pads_pkcs1(card)) {
		/* A card of raw RSA only (gen1): the PKCS#1 v1.5 block is made here. */
		if (!p11u_pkcs1_type1_encode(padded, op->modulus_bytes, block, block_len))
			return CKR_DATA_LEN_RANGE;
		block = padded;
		block_len = op->modulus_bytes;
		alg = P11U_RSA_RAW;
	}
	crv = p11u_card_sign(card, op->keyref, alg, block, block_len, sig, &sig_len);
	OPENSSL_cleanse(padded, sizeof(padded));
	if (card_rv != NULL)
		*card_rv = crv;
	if (crv != P11U_CARD_OK)
		return ckr_from_card_op(crv, P11U_OP_SIGN);
	if (sig_len == 0 || sig_len > op->modulus_bytes)
		return CKR_DEVICE_ERROR;
	memset(out, 0, op->modulus_bytes - sig_len);
	memcpy(out + op->modulus_bytes - sig_len, sig, sig_len);
	*out_len = op->modulus_bytes;
	return CKR_OK;
}

/* The signature over what the operation was fed (size answers handled by the caller). */
static CK_RV sign_finish(struct p11u_op *op, struct p11u_card *card, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv)
{
	uint8_t block[MODULUS_BYTES_MAX];
	size_t block_len = 0;
	enum p11u_rsa_alg alg = P11U_RSA_RAW;
	CK_RV rv;

	rv = sign_input(op, block, &block_len, &alg);
	if (rv == CKR_OK)
		rv = card_sign(op, card, alg, block, block_len, out, out_len, card_rv);
	OPENSSL_cleanse(block, sizeof(block));
	p11u_op_release(op);
	return rv;
}

/* The checks both signing calls start with: CKR_OK to go on, else the answer. */
static CK_RV sign_call(struct p11u_op *op, struct p11u_card *card, CK_ULONG_PTR out_len,
                       enum p11u_card_rv *card_rv, bool single_part)
{
	CK_RV rv;

	if (card_rv != NULL)
		*card_rv = P11U_CARD_OK;
	if (op == NULL || op->kind != P11U_OP_SIGN)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = single_part ? single_part_allowed(op) : multi_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	if (out_len == NULL || card == NULL) {
		p11u_op_release(op);
		return CKR_ARGUMENTS_BAD;
	}
	return CKR_OK;
}

CK_RV p11u_op_sign_final(struct p11u_op *op, struct p11u_card *card, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv)
{
	CK_RV rv = sign_call(op, card, out_len, card_rv, false);

	if (rv != CKR_OK || output_size_answered(op->modulus_bytes, out, out_len, &rv))
		return rv;
	return sign_finish(op, card, out, out_len, card_rv);
}

CK_RV p11u_op_sign(struct p11u_op *op, struct p11u_card *card, const uint8_t *data, CK_ULONG len,
                   CK_BYTE_PTR out, CK_ULONG_PTR out_len, enum p11u_card_rv *card_rv)
{
	CK_RV rv = sign_call(op, card, out_len, card_rv, true);

	if (rv != CKR_OK || single_part_size_answered(op, op->modulus_bytes, out, out_len, &rv))
		return rv;
	rv = op_feed(op, data, len);
	if (rv != CKR_OK) {
		p11u_op_release(op);
		return rv;
	}
	return sign_finish(op, card, out, out_len, card_rv);
}

/* ---- decryption ---- */

/* The largest plaintext of the mechanism: what decryption can produce (the answer to a size
 * query), what encryption takes. */
static size_t plaintext_max(const struct p11u_op *op)
{
	switch (op_mechanism(op)->kind) {
	case P11U_MECH_RSA_PKCS:
		return op->modulus_bytes - PKCS1_PADDING_MIN;
	case P11U_MECH_RSA_OAEP:
		return op->modulus_bytes - 2 * (size_t)EVP_MD_get_size(op->oaep_md) - 2;
	default:
		return op->modulus_bytes;
	}
}

/* The card deciphers (PKCS#1 v1.5 on the card, or raw with OAEP decoding here) into plain,
 * which holds MODULUS_BYTES_MAX bytes; the caller wipes it. */
static CK_RV card_decrypt(struct p11u_op *op, struct p11u_card *card, const uint8_t *in,
                          uint8_t *plain, size_t *plain_len, enum p11u_card_rv *card_rv)
{
	const enum p11u_mech_kind kind = op_mechanism(op)->kind;
	/* PKCS#1 v1.5 on the card, unless it computes raw RSA only (gen1): then decoded here. */
	const enum p11u_rsa_alg alg = kind == P11U_MECH_RSA_PKCS && p11u_card_pads_pkcs1(card)
	                                  ? P11U_RSA_PKCS1
	                                  : P11U_RSA_RAW;
	uint8_t block[MODULUS_BYTES_MAX];
	size_t block_len = sizeof(block);
	enum p11u_card_rv crv;
	CK_RV rv = CKR_OK;
	int len;

	crv = p11u_card_decipher(card, op->keyref, alg, in, op->modulus_bytes, block, &block_len);
	if (card_rv != NULL)
		*card_rv = crv;
	if (crv != P11U_CARD_OK)
		rv = ckr_from_card_op(crv, P11U_OP_DECRYPT);
	else if (alg == P11U_RSA_PKCS1 && block_len > plaintext_max(op))
		rv = CKR_DEVICE_ERROR;
	else if (alg == P11U_RSA_RAW && block_len > op->modulus_bytes)
		rv = CKR_DEVICE_ERROR;

	if (rv == CKR_OK && alg == P11U_RSA_PKCS1) {
		memcpy(plain, block, block_len);
		*plain_len = block_len;
	} else if (rv == CKR_OK) {
		/* the raw result as a block of the modulus size */
		memmove(block + op->modulus_bytes - block_len, block, block_len);
		memset(block, 0, op->modulus_bytes - block_len);
		if (kind == P11U_MECH_RSA_X_509) {
			memcpy(plain, block, op->modulus_bytes);
			*plain_len = op->modulus_bytes;
		} else if (kind == P11U_MECH_RSA_PKCS) {
			len = p11u_pkcs1_type2_decode(plain, MODULUS_BYTES_MAX, block,
			                              op->modulus_bytes);
			if (len < 0)
				rv = CKR_ENCRYPTED_DATA_INVALID;
			else
				*plain_len = (size_t)len;
		} else {
			len = p11u_oaep_decode(plain, MODULUS_BYTES_MAX, block, op->modulus_bytes,
			                       op->oaep_label, op->oaep_label_len, op->oaep_md,
			                       op->pss_mgf1_md);
			if (len < 0)
				rv = CKR_ENCRYPTED_DATA_INVALID;
			else
				*plain_len = (size_t)len;
		}
	}
	OPENSSL_cleanse(block, sizeof(block));
	return rv;
}

CK_RV p11u_op_decrypt(struct p11u_op *op, struct p11u_card *card, const uint8_t *in,
                      CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len,
                      enum p11u_card_rv *card_rv)
{
	uint8_t plain[MODULUS_BYTES_MAX];
	size_t plain_len = 0;
	CK_RV rv;

	if (card_rv != NULL)
		*card_rv = P11U_CARD_OK;
	if (op == NULL || op->kind != P11U_OP_DECRYPT)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = single_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	if (out_len == NULL || in == NULL || card == NULL) {
		p11u_op_release(op);
		return CKR_ARGUMENTS_BAD;
	}
	if (in_len != op->modulus_bytes) {
		p11u_op_release(op);
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	}
	/* The exact length is known only after deciphering: a size query gets the largest. */
	if (out == NULL) {
		*out_len = plaintext_max(op);
		op->single_part = true;
		return CKR_OK;
	}

	rv = card_decrypt(op, card, in, plain, &plain_len, card_rv);
	if (rv == CKR_OK && !single_part_size_answered(op, plain_len, out, out_len, &rv)) {
		memcpy(out, plain, plain_len);
		*out_len = plain_len;
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	if (rv != CKR_BUFFER_TOO_SMALL)
		p11u_op_release(op);
	return rv;
}

/* ---- public-key operations: verification and encryption in software ---- */

/* An OpenSSL context on the operation's public key, set up by init (EVP_PKEY_verify_init or
 * EVP_PKEY_encrypt_init) with the mechanism's padding and parameters; NULL on failure. */
static EVP_PKEY_CTX *public_key_ctx(const struct p11u_op *op, int (*init)(EVP_PKEY_CTX *))
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, op->pkey, NULL);
	unsigned char *label;
	bool ok = pctx != NULL && init(pctx) == 1;

	switch (op_mechanism(op)->kind) {
	case P11U_MECH_RSA_PKCS:
	case P11U_MECH_HASH_RSA_PKCS:
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
		break;
	case P11U_MECH_RSA_X_509:
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) == 1;
		break;
	case P11U_MECH_RSA_PSS:
	case P11U_MECH_HASH_RSA_PSS:
		/* op_set_pss bounded the salt length by the modulus size */
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(pctx, op->pss_md) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, op->pss_mgf1_md) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)op->pss_salt_len) == 1;
		break;
	case P11U_MECH_RSA_OAEP:
		ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_oaep_md(pctx, op->oaep_md) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, op->pss_mgf1_md) == 1;
		if (ok && op->oaep_label_len > 0) {
			/* on success the context owns the copy (op_set_oaep bounded the length) */
			label = OPENSSL_memdup(op->oaep_label, op->oaep_label_len);
			ok = label != NULL && EVP_PKEY_CTX_set0_rsa_oaep_label(
			                          pctx, label, (int)op->oaep_label_len) == 1;
			if (!ok)
				OPENSSL_free(label);
		}
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	return pctx;
}

/* What EVP_PKEY_verify compares with the signature's public-key result: the block the card
 * signs (sign_input), or for PSS the message hash.  block holds MODULUS_BYTES_MAX bytes. */
static CK_RV verify_input(struct p11u_op *op, uint8_t *block, size_t *block_len)
{
	enum p11u_rsa_alg alg;

	switch (op_mechanism(op)->kind) {
	case P11U_MECH_RSA_PSS:
	case P11U_MECH_HASH_RSA_PSS:
		return pss_message_hash(op, block, block_len);
	default:
		return sign_input(op, block, block_len, &alg);
	}
}

/* The signature against what the operation was fed; ends the operation. */
static CK_RV verify_finish(struct p11u_op *op, const uint8_t *sig, CK_ULONG sig_len)
{
	uint8_t block[MODULUS_BYTES_MAX];
	size_t block_len = 0;
	EVP_PKEY_CTX *pctx;
	CK_RV rv;

	if (sig == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else if (sig_len != op->modulus_bytes)
		rv = CKR_SIGNATURE_LEN_RANGE;
	else
		rv = verify_input(op, block, &block_len);
	if (rv == CKR_OK) {
		pctx = public_key_ctx(op, EVP_PKEY_verify_init);
		if (pctx == NULL)
			rv = CKR_GENERAL_ERROR;
		else if (EVP_PKEY_verify(pctx, sig, sig_len, block, block_len) != 1)
			rv = CKR_SIGNATURE_INVALID;
		EVP_PKEY_CTX_free(pctx);
		/* a wrong signature is an answer, not an error for the application's OpenSSL */
		ERR_clear_error();
	}
	p11u_op_release(op);
	return rv;
}

CK_RV p11u_op_verify_final(struct p11u_op *op, const uint8_t *sig, CK_ULONG sig_len)
{
	if (op == NULL || op->kind != P11U_OP_VERIFY)
		return CKR_OPERATION_NOT_INITIALIZED;
	return verify_finish(op, sig, sig_len);
}

CK_RV p11u_op_verify(struct p11u_op *op, const uint8_t *data, CK_ULONG len, const uint8_t *sig,
                     CK_ULONG sig_len)
{
	CK_RV rv;

	if (op == NULL || op->kind != P11U_OP_VERIFY)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = single_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	rv = op_feed(op, data, len);
	if (rv != CKR_OK) {
		p11u_op_release(op);
		return rv;
	}
	return verify_finish(op, sig, sig_len);
}

CK_RV p11u_op_encrypt(struct p11u_op *op, const uint8_t *in, CK_ULONG in_len, CK_BYTE_PTR out,
                      CK_ULONG_PTR out_len)
{
	static const uint8_t empty[1];
	uint8_t block[MODULUS_BYTES_MAX];
	enum p11u_mech_kind kind;
	size_t len;
	EVP_PKEY_CTX *pctx;
	CK_RV rv;

	if (op == NULL || op->kind != P11U_OP_ENCRYPT)
		return CKR_OPERATION_NOT_INITIALIZED;
	kind = op_mechanism(op)->kind;
	if (out_len == NULL || (in == NULL && in_len > 0)) {
		p11u_op_release(op);
		return CKR_ARGUMENTS_BAD;
	}
	if (in_len > plaintext_max(op)) {
		p11u_op_release(op);
		return CKR_DATA_LEN_RANGE;
	}
	if (single_part_size_answered(op, op->modulus_bytes, out, out_len, &rv))
		return rv;
	if (kind == P11U_MECH_RSA_X_509) {
		raw_block(op, in, in_len, block);
		in = block;
		in_len = op->modulus_bytes;
	} else if (in == NULL) {
		in = empty;
	}

	len = *out_len;
	pctx = public_key_ctx(op, EVP_PKEY_encrypt_init);
	if (pctx == NULL)
		rv = CKR_GENERAL_ERROR;
	else if (EVP_PKEY_encrypt(pctx, out, &len, in, in_len) != 1)
		/* raw RSA refuses a block not below the modulus; otherwise the key, which comes
		 * from the card's certificate, is one OpenSSL cannot use (an even modulus) */
		rv = kind == P11U_MECH_RSA_X_509 ? CKR_DATA_INVALID : CKR_FUNCTION_FAILED;
	else
		rv = CKR_OK;
	if (rv == CKR_OK)
		*out_len = len;
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	OPENSSL_cleanse(block, sizeof(block));
	p11u_op_release(op);
	return rv;
}

/* ---- digests ---- */

/* The digest of what the operation was fed; ends the operation.  The size answers come first. */
static CK_RV digest_finish(struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	unsigned int len = 0;
	CK_RV rv;

	rv = EVP_DigestFinal_ex(op->md_ctx, out, &len) ? CKR_OK : CKR_GENERAL_ERROR;
	if (rv == CKR_OK)
		*out_len = len;
	p11u_op_release(op);
	return rv;
}

/* The checks both digest calls start with: CKR_OK to go on, else the answer (a missing length
 * ends the operation; a size query or a short buffer consumes no input). */
static CK_RV digest_call(struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len,
                         bool single_part)
{
	CK_ULONG size;
	CK_RV rv;

	if (op == NULL || op->kind != P11U_OP_DIGEST)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = single_part ? single_part_allowed(op) : multi_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	if (out_len == NULL) {
		p11u_op_release(op);
		return CKR_ARGUMENTS_BAD;
	}
	size = (CK_ULONG)EVP_MD_CTX_get_size(op->md_ctx);
	if (single_part ? single_part_size_answered(op, size, out, out_len, &rv)
	                : output_size_answered(size, out, out_len, &rv))
		return rv;
	return CKR_OK;
}

CK_RV p11u_op_digest_final(struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	CK_RV rv = digest_call(op, out, out_len, false);

	if (rv != CKR_OK || out == NULL)
		return rv;
	return digest_finish(op, out, out_len);
}

CK_RV p11u_op_digest(struct p11u_op *op, const uint8_t *data, CK_ULONG len, CK_BYTE_PTR out,
                     CK_ULONG_PTR out_len)
{
	CK_RV rv = digest_call(op, out, out_len, true);

	if (rv != CKR_OK || out == NULL)
		return rv;
	rv = op_feed(op, data, len);
	if (rv != CKR_OK) {
		p11u_op_release(op);
		return rv;
	}
	return digest_finish(op, out, out_len);
}

CK_RV p11u_op_cipher_final(struct p11u_op *op)
{
	CK_RV rv;

	if (op == NULL || op->kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = multi_part_allowed(op);
	if (rv != CKR_OK)
		return rv;
	p11u_op_release(op);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

void p11u_op_release(struct p11u_op *op)
{
	if (op == NULL)
		return;
	EVP_MD_CTX_free(op->md_ctx);
	EVP_PKEY_free(op->pkey);
	if (op->buffer != NULL) {
		OPENSSL_cleanse(op->buffer, op->buffer_len);
		free(op->buffer);
	}
	free(op->oaep_label);
	memset(op, 0, sizeof(*op));
}
