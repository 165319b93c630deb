/* Mechanisms and operations through the real card layer and a virtual card,
 * in-process: every signature verifies with OpenSSL against the certificate's
 * public key, decryption round-trips with OpenSSL's encryption, digests equal
 * OpenSSL's, the card's signatures verify and the module's encryption decrypts
 * on the card, and the size-query / error rules of crypto.h hold exactly. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card-fixture.h"
#include "pkcs11/crypto.h"
#include "pkcs11/object.h"

#define MODULUS_BYTES 256 /* the fixture's 2048-bit keys */

struct state {
	struct card_fixture fx;
	struct p11u_object_table table;
	const struct p11u_object *sign_key, *keyx_key, *sign_pub, *keyx_pub, *sign_cert;
	EVP_PKEY *sign_pkey, *keyx_pkey; /* from the certificates on the card */
};

static const uint8_t message[] = "p11unlock signs this message for the unit test";

static const struct p11u_object *find_object(struct state *st, CK_OBJECT_CLASS class,
                                             const char *id)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &class, sizeof(class)},
	    {CKA_ID, (void *)id, strlen(id)},
	};

	for (size_t i = 0; i < st->table.count; i++) {
		if (p11u_object_matches(&st->table.objects[i], tmpl, 2))
			return &st->table.objects[i];
	}
	return NULL;
}

static EVP_PKEY *cert_pkey(const struct p11u_card_info *info, enum p11u_cert_slot slot)
{
	const unsigned char *p = info->certs[slot].der;
	X509 *x509 = d2i_X509(NULL, &p, (long)info->certs[slot].len);
	EVP_PKEY *pkey = x509 ? X509_get_pubkey(x509) : NULL;

	X509_free(x509);
	return pkey;
}

static int setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));
	struct p11u_object_options opts = {.private_keys = true, .status_object = true};
	const struct p11u_card_info *info;

	if (st == NULL || card_fixture_open(&st->fx, NULL) != 0)
		return -1;
	info = p11u_card_info(st->fx.card);
	if (p11u_objects_build(info, &opts, &st->table) != CKR_OK)
		return -1;
	st->sign_key = find_object(st, CKO_PRIVATE_KEY, "SIGN");
	st->keyx_key = find_object(st, CKO_PRIVATE_KEY, "KEYX");
	st->sign_pub = find_object(st, CKO_PUBLIC_KEY, "SIGN");
	st->keyx_pub = find_object(st, CKO_PUBLIC_KEY, "KEYX");
	st->sign_cert = find_object(st, CKO_CERTIFICATE, "SIGN");
	st->sign_pkey = cert_pkey(info, P11U_CERT_SIGNATURE);
	st->keyx_pkey = cert_pkey(info, P11U_CERT_ENCRYPTION);
	if (!st->sign_key || !st->keyx_key || !st->sign_pub || !st->keyx_pub || !st->sign_cert ||
	    !st->sign_pkey || !st->keyx_pkey)
		return -1;
	if (p11u_card_verify(st->fx.card, P11U_SECRET_PIN, (const uint8_t *)"123456", 6, NULL) !=
	    P11U_CARD_OK)
		return -1;
	*ctx = st;
	return 0;
}

static int teardown(void **ctx)
{
	struct state *st = *ctx;

	EVP_PKEY_free(st->sign_pkey);
	EVP_PKEY_free(st->keyx_pkey);
	p11u_objects_free(&st->table);
	card_fixture_close(&st->fx);
	free(st);
	return 0;
}

/* ---- helpers ---- */

static CK_RV sign(void **ctx, CK_MECHANISM *mech, const uint8_t *data, size_t len, uint8_t *sig,
                  CK_ULONG *sig_len)
{
	struct state *st = *ctx;
	struct p11u_op op = {0};
	enum p11u_card_rv card_rv = P11U_CARD_E_COMM;
	CK_RV rv;

	rv = p11u_op_sign_init(&op, mech, st->sign_key);
	if (rv != CKR_OK)
		return rv;
	*sig_len = MODULUS_BYTES;
	rv = p11u_op_sign(&op, st->fx.card, data, len, sig, sig_len, &card_rv);
	assert_int_equal(op.kind, P11U_OP_NONE);
	if (rv == CKR_OK)
		assert_int_equal(card_rv, P11U_CARD_OK);
	return rv;
}

static CK_RV decrypt(void **ctx, CK_MECHANISM *mech, const uint8_t *in, size_t in_len, uint8_t *out,
                     CK_ULONG *out_len)
{
	struct state *st = *ctx;
	struct p11u_op op = {0};
	CK_RV rv;

	rv = p11u_op_decrypt_init(&op, mech, st->keyx_key);
	if (rv != CKR_OK)
		return rv;
	rv = p11u_op_decrypt(&op, st->fx.card, in, in_len, out, out_len, NULL);
	assert_int_equal(op.kind, P11U_OP_NONE);
	return rv;
}

/* OpenSSL's public-key operation on a signature or for an encryption. */
static EVP_PKEY_CTX *pkey_ctx(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	assert_non_null(pctx);
	return pctx;
}

static void assert_pkcs1_signature(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *sig,
                                   size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();

	assert_int_equal(sig_len, MODULUS_BYTES);
	assert_int_equal(
	    EVP_DigestVerifyInit_ex(mctx, NULL, EVP_MD_get0_name(md), NULL, NULL, pkey, NULL), 1);
	assert_int_equal(EVP_DigestVerify(mctx, sig, sig_len, message, sizeof(message)), 1);
	EVP_MD_CTX_free(mctx);
}

static void assert_pss_signature(EVP_PKEY *pkey, const EVP_MD *md, const EVP_MD *mgf1_md,
                                 int salt_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(sig_len, MODULUS_BYTES);
	assert_int_equal(
	    EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, pkey, NULL), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, mgf1_md), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len), 1);
	assert_int_equal(EVP_DigestVerify(mctx, sig, sig_len, message, sizeof(message)), 1);
	EVP_MD_CTX_free(mctx);
}

/* The public-key operation on a signature: what the card's private key was applied to. */
static size_t recover(EVP_PKEY *pkey, int padding, const uint8_t *sig, size_t sig_len, uint8_t *out)
{
	EVP_PKEY_CTX *pctx = pkey_ctx(pkey);
	size_t out_len = MODULUS_BYTES;

	assert_int_equal(EVP_PKEY_verify_recover_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
	assert_int_equal(EVP_PKEY_verify_recover(pctx, out, &out_len, sig, sig_len), 1);
	EVP_PKEY_CTX_free(pctx);
	return out_len;
}

/* Encrypts with the encryption certificate's key: PKCS#1 v1.5, OAEP (md, label) or raw. */
static size_t encrypt(void **ctx, int padding, const EVP_MD *oaep_md, const char *label,
                      const uint8_t *in, size_t in_len, uint8_t *out)
{
	struct state *st = *ctx;
	EVP_PKEY_CTX *pctx = pkey_ctx(st->keyx_pkey);
	size_t out_len = MODULUS_BYTES;

	assert_int_equal(EVP_PKEY_encrypt_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
	if (oaep_md != NULL) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(pctx, oaep_md), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, oaep_md), 1);
	}
	if (label != NULL) {
		void *copy = OPENSSL_strdup(label);
		assert_int_equal(EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, copy, (int)strlen(label)),
		                 1);
	}
	assert_int_equal(EVP_PKEY_encrypt(pctx, out, &out_len, in, in_len), 1);
	assert_int_equal(out_len, MODULUS_BYTES);
	EVP_PKEY_CTX_free(pctx);
	return out_len;
}

/* ---- mechanism table ---- */

static void test_mechanism_list(void **ctx)
{
	static const CK_MECHANISM_TYPE expected[] = {
	    CKM_RSA_PKCS,
	    CKM_RSA_X_509,
	    CKM_RSA_PKCS_OAEP,
	    CKM_SHA1_RSA_PKCS,
	    CKM_SHA224_RSA_PKCS,
	    CKM_SHA256_RSA_PKCS,
	    CKM_SHA384_RSA_PKCS,
	    CKM_SHA512_RSA_PKCS,
	    CKM_RSA_PKCS_PSS,
	    CKM_SHA1_RSA_PKCS_PSS,
	    CKM_SHA224_RSA_PKCS_PSS,
	    CKM_SHA256_RSA_PKCS_PSS,
	    CKM_SHA384_RSA_PKCS_PSS,
	    CKM_SHA512_RSA_PKCS_PSS,
	    CKM_SHA_1,
	    CKM_SHA224,
	    CKM_SHA256,
	    CKM_SHA384,
	    CKM_SHA512,
	};
	CK_MECHANISM_TYPE list[32];
	CK_ULONG count = 0;

	(void)ctx;
	assert_int_equal(p11u_mechanism_list(NULL, &count), CKR_OK);
	assert_int_equal(count, 19);
	count = 3;
	assert_int_equal(p11u_mechanism_list(list, &count), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(count, 19);
	count = 32;
	assert_int_equal(p11u_mechanism_list(list, &count), CKR_OK);
	assert_int_equal(count, 19);
	assert_memory_equal(list, expected, sizeof(expected));
	assert_int_equal(p11u_mechanism_list(list, NULL), CKR_ARGUMENTS_BAD);
}

static void test_mechanism_info(void **ctx)
{
	CK_MECHANISM_INFO info;

	(void)ctx;
	assert_int_equal(p11u_mechanism_info(CKM_RSA_PKCS, 1024, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_DECRYPT | CKF_ENCRYPT);
	assert_int_equal(info.ulMinKeySize, 1024);
	assert_int_equal(info.ulMaxKeySize, 2048);
	assert_int_equal(p11u_mechanism_info(CKM_RSA_X_509, 2048, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_DECRYPT | CKF_ENCRYPT);
	assert_int_equal(p11u_mechanism_info(CKM_RSA_PKCS_OAEP, 2048, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_HW | CKF_DECRYPT | CKF_ENCRYPT);
	assert_int_equal(p11u_mechanism_info(CKM_SHA384_RSA_PKCS, 2048, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_HW | CKF_SIGN | CKF_VERIFY);
	assert_int_equal(p11u_mechanism_info(CKM_SHA256_RSA_PKCS_PSS, 2048, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_HW | CKF_SIGN | CKF_VERIFY);
	assert_int_equal(info.ulMinKeySize, 2048);
	assert_int_equal(p11u_mechanism_info(CKM_SHA512, 1024, 2048, &info), CKR_OK);
	assert_int_equal(info.flags, CKF_DIGEST);
	assert_int_equal(info.ulMinKeySize, 0);
	assert_int_equal(info.ulMaxKeySize, 0);
	assert_int_equal(p11u_mechanism_info(CKM_MD5, 1024, 2048, &info), CKR_MECHANISM_INVALID);
	assert_int_equal(p11u_mechanism_info(CKM_RSA_PKCS_KEY_PAIR_GEN, 1024, 2048, &info),
	                 CKR_MECHANISM_INVALID);
}

/* ---- signatures ---- */

static const struct {
	CK_MECHANISM_TYPE pkcs1, pss, digest;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const EVP_MD *(*md)(void);
} hashes[] = {
    {CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1},
    {CKM_SHA224_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, CKG_MGF1_SHA224, EVP_sha224},
    {CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256},
    {CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, EVP_sha384},
    {CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, EVP_sha512},
};

#define N_HASHES (sizeof(hashes) / sizeof(hashes[0]))

static void test_sign_hash_pkcs1(void **ctx)
{
	struct state *st = *ctx;
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	for (size_t i = 0; i < N_HASHES; i++) {
		CK_MECHANISM mech = {hashes[i].pkcs1, NULL, 0};
		assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len), CKR_OK);
		assert_pkcs1_signature(st->sign_pkey, hashes[i].md(), sig, sig_len);
	}
}

static void test_sign_hash_pss(void **ctx)
{
	struct state *st = *ctx;
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	for (size_t i = 0; i < N_HASHES; i++) {
		const EVP_MD *md = hashes[i].md();
		CK_RSA_PKCS_PSS_PARAMS params = {hashes[i].digest, hashes[i].mgf,
		                                 (CK_ULONG)EVP_MD_get_size(md)};
		CK_MECHANISM mech = {hashes[i].pss, &params, sizeof(params)};

		assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len), CKR_OK);
		assert_pss_signature(st->sign_pkey, md, md, EVP_MD_get_size(md), sig, sig_len);
	}
}

/* MGF1 with another hash than the message, and no salt (deterministic PSS). */
static void test_sign_pss_other_mgf_no_salt(void **ctx)
{
	struct state *st = *ctx;
	CK_RSA_PKCS_PSS_PARAMS params = {CKM_SHA256, CKG_MGF1_SHA1, 0};
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS_PSS, &params, sizeof(params)};
	uint8_t sig1[MODULUS_BYTES], sig2[MODULUS_BYTES];
	CK_ULONG sig_len;

	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig1, &sig_len), CKR_OK);
	assert_pss_signature(st->sign_pkey, EVP_sha256(), EVP_sha1(), 0, sig1, sig_len);
	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig2, &sig_len), CKR_OK);
	assert_memory_equal(sig1, sig2, MODULUS_BYTES);
}

/* CKM_RSA_PKCS_PSS signs the caller's hash. */
static void test_sign_pss_prehashed(void **ctx)
{
	struct state *st = *ctx;
	CK_RSA_PKCS_PSS_PARAMS params = {CKM_SHA384, CKG_MGF1_SHA384, 48};
	CK_MECHANISM mech = {CKM_RSA_PKCS_PSS, &params, sizeof(params)};
	uint8_t hash[48], sig[MODULUS_BYTES];
	CK_ULONG sig_len;
	EVP_PKEY_CTX *pctx;

	assert_true(EVP_Digest(message, sizeof(message), hash, NULL, EVP_sha384(), NULL));
	assert_int_equal(sign(ctx, &mech, hash, sizeof(hash), sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, MODULUS_BYTES);

	pctx = pkey_ctx(st->sign_pkey);
	assert_int_equal(EVP_PKEY_verify_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha384()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48), 1);
	assert_int_equal(EVP_PKEY_verify(pctx, sig, sig_len, hash, sizeof(hash)), 1);
	EVP_PKEY_CTX_free(pctx);

	/* the input must be exactly one hash */
	assert_int_equal(sign(ctx, &mech, hash, sizeof(hash) - 1, sig, &sig_len),
	                 CKR_DATA_LEN_RANGE);
	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len),
	                 CKR_DATA_LEN_RANGE);
}

static void test_pss_params_invalid(void **ctx)
{
	struct state *st = *ctx;
	CK_RSA_PKCS_PSS_PARAMS good = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_RSA_PKCS_PSS_PARAMS params;
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS_PSS, &params, sizeof(params)};
	struct p11u_op op = {0};
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	/* hashAlg must be the mechanism's hash */
	params = good;
	params.hashAlg = CKM_SHA_1;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(op.kind, P11U_OP_NONE);
	/* unknown hash or MGF */
	params = good;
	params.mgf = 0x99;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	mech.mechanism = CKM_RSA_PKCS_PSS;
	params = good;
	params.hashAlg = CKM_MD5;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	/* a salt longer than emLen - hLen - 2 = 256 - 32 - 2 */
	params = good;
	params.sLen = 223;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	/* the longest salt that fits still signs */
	params.sLen = 222;
	mech.mechanism = CKM_SHA256_RSA_PKCS_PSS;
	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len), CKR_OK);
	assert_pss_signature(st->sign_pkey, EVP_sha256(), EVP_sha256(), 222, sig, sig_len);
	/* no parameters, or parameters of the wrong size */
	mech.pParameter = NULL;
	mech.ulParameterLen = 0;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	mech.pParameter = &params;
	mech.ulParameterLen = sizeof(params) - 1;
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(op.kind, P11U_OP_NONE);
}

/* CKM_RSA_PKCS: the card pads the caller's DigestInfo (PKCS#1 v1.5, block type 1). */
static void test_sign_rsa_pkcs(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	uint8_t data[MODULUS_BYTES], sig[MODULUS_BYTES], recovered[MODULUS_BYTES];
	CK_ULONG sig_len;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(sign(ctx, &mech, data, 35, sig, &sig_len), CKR_OK);
	assert_int_equal(recover(st->sign_pkey, RSA_PKCS1_PADDING, sig, sig_len, recovered), 35);
	assert_memory_equal(recovered, data, 35);

	/* at most modulus - 11 bytes */
	assert_int_equal(sign(ctx, &mech, data, MODULUS_BYTES - 11, sig, &sig_len), CKR_OK);
	assert_int_equal(recover(st->sign_pkey, RSA_PKCS1_PADDING, sig, sig_len, recovered),
	                 MODULUS_BYTES - 11);
	assert_memory_equal(recovered, data, MODULUS_BYTES - 11);
	assert_int_equal(sign(ctx, &mech, data, MODULUS_BYTES - 10, sig, &sig_len),
	                 CKR_DATA_LEN_RANGE);
	assert_int_equal(sign(ctx, &mech, data, 0, sig, &sig_len), CKR_DATA_LEN_RANGE);
}

/* CKM_RSA_X_509: raw RSA on the input, zero-padded on the left to the modulus size. */
static void test_sign_rsa_x509(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_RSA_X_509, NULL, 0};
	uint8_t data[MODULUS_BYTES + 1], sig[MODULUS_BYTES], recovered[MODULUS_BYTES];
	uint8_t expected[MODULUS_BYTES] = {0};
	CK_ULONG sig_len;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 5);
	memcpy(expected + MODULUS_BYTES - 100, data, 100);
	assert_int_equal(sign(ctx, &mech, data, 100, sig, &sig_len), CKR_OK);
	assert_int_equal(recover(st->sign_pkey, RSA_NO_PADDING, sig, sig_len, recovered),
	                 MODULUS_BYTES);
	assert_memory_equal(recovered, expected, MODULUS_BYTES);

	/* a full block below the modulus */
	data[0] = 0x00;
	assert_int_equal(sign(ctx, &mech, data, MODULUS_BYTES, sig, &sig_len), CKR_OK);
	assert_int_equal(recover(st->sign_pkey, RSA_NO_PADDING, sig, sig_len, recovered),
	                 MODULUS_BYTES);
	assert_memory_equal(recovered, data, MODULUS_BYTES);

	/* longer than the modulus; or as long but not below it */
	assert_int_equal(sign(ctx, &mech, data, MODULUS_BYTES + 1, sig, &sig_len),
	                 CKR_DATA_LEN_RANGE);
	memset(data, 0xFF, MODULUS_BYTES);
	assert_int_equal(sign(ctx, &mech, data, MODULUS_BYTES, sig, &sig_len), CKR_DATA_INVALID);
}

/* Size query and a buffer too small keep the operation, and consume no input. */
static void test_sign_size_query(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len = 0;

	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_OK);
	assert_int_equal(
	    p11u_op_sign(&op, st->fx.card, message, sizeof(message), NULL, &sig_len, NULL), CKR_OK);
	assert_int_equal(sig_len, MODULUS_BYTES);
	assert_int_equal(op.kind, P11U_OP_SIGN);
	sig_len = MODULUS_BYTES - 1;
	assert_int_equal(
	    p11u_op_sign(&op, st->fx.card, message, sizeof(message), sig, &sig_len, NULL),
	    CKR_BUFFER_TOO_SMALL);
	assert_int_equal(sig_len, MODULUS_BYTES);
	assert_int_equal(op.kind, P11U_OP_SIGN);
	/* nothing is written past *out_len: a buffer of exactly the size works */
	assert_int_equal(
	    p11u_op_sign(&op, st->fx.card, message, sizeof(message), sig, &sig_len, NULL), CKR_OK);
	assert_int_equal(op.kind, P11U_OP_NONE);
	assert_pkcs1_signature(st->sign_pkey, EVP_sha256(), sig, sig_len);

	/* the same for C_SignFinal */
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_OK);
	assert_int_equal(p11u_op_update(&op, message, sizeof(message)), CKR_OK);
	assert_int_equal(p11u_op_sign_final(&op, st->fx.card, NULL, &sig_len, NULL), CKR_OK);
	assert_int_equal(sig_len, MODULUS_BYTES);
	sig_len = 1;
	assert_int_equal(p11u_op_sign_final(&op, st->fx.card, sig, &sig_len, NULL),
	                 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(sig_len, MODULUS_BYTES);
	assert_int_equal(op.kind, P11U_OP_SIGN);
	assert_int_equal(p11u_op_sign_final(&op, st->fx.card, sig, &sig_len, NULL), CKR_OK);
	assert_int_equal(op.kind, P11U_OP_NONE);
	assert_pkcs1_signature(st->sign_pkey, EVP_sha256(), sig, sig_len);
}

/* Multi-part equals single-part (PKCS#1 v1.5 signatures are deterministic). */
static void assert_multi_part_equal(void **ctx, CK_MECHANISM_TYPE type, const uint8_t *data,
                                    size_t len)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {type, NULL, 0};
	struct p11u_op op = {0};
	uint8_t single[MODULUS_BYTES], multi[MODULUS_BYTES];
	CK_ULONG single_len, multi_len = sizeof(multi);

	assert_int_equal(sign(ctx, &mech, data, len, single, &single_len), CKR_OK);
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_OK);
	assert_int_equal(p11u_op_update(&op, data, 5), CKR_OK);
	assert_true(op.multi_part);
	assert_int_equal(p11u_op_update(&op, data + 5, 0), CKR_OK);
	assert_int_equal(p11u_op_update(&op, data + 5, 10), CKR_OK);
	assert_int_equal(p11u_op_update(&op, data + 15, len - 15), CKR_OK);
	assert_int_equal(p11u_op_sign_final(&op, st->fx.card, multi, &multi_len, NULL), CKR_OK);
	assert_int_equal(multi_len, single_len);
	assert_memory_equal(multi, single, single_len);
}

static void test_sign_multi_part(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	uint8_t data[MODULUS_BYTES] = {0};

	for (size_t i = 1; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3);
	assert_multi_part_equal(ctx, CKM_SHA1_RSA_PKCS, message, sizeof(message));
	assert_multi_part_equal(ctx, CKM_SHA512_RSA_PKCS, message, sizeof(message));
	assert_multi_part_equal(ctx, CKM_RSA_PKCS, data, 35);
	assert_multi_part_equal(ctx, CKM_RSA_X_509, data, MODULUS_BYTES);

	/* buffered input beyond what the mechanism takes ends the operation */
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_OK);
	assert_int_equal(p11u_op_update(&op, data, 200), CKR_OK);
	assert_int_equal(p11u_op_update(&op, data, 46), CKR_DATA_LEN_RANGE);
	assert_int_equal(op.kind, P11U_OP_NONE);
}

static void test_key_checks(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
	CK_MECHANISM sha256_rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};

	assert_int_equal(p11u_op_sign_init(&op, &rsa, st->keyx_key),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11u_op_decrypt_init(&op, &rsa, st->sign_key),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11u_op_sign_init(&op, &rsa, st->sign_pub), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11u_op_sign_init(&op, &rsa, st->sign_cert), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(p11u_op_sign_init(&op, &sha256, st->sign_key), CKR_MECHANISM_INVALID);
	assert_int_equal(p11u_op_decrypt_init(&op, &sha256_rsa, st->keyx_key),
	                 CKR_MECHANISM_INVALID);
	assert_int_equal(p11u_op_digest_init(&op, &rsa), CKR_MECHANISM_INVALID);
	assert_int_equal(p11u_op_sign_init(&op, NULL, st->sign_key), CKR_ARGUMENTS_BAD);
	assert_int_equal(op.kind, P11U_OP_NONE);

	assert_int_equal(p11u_op_sign_init(&op, &rsa, st->sign_key), CKR_OK);
	assert_int_equal(p11u_op_sign_init(&op, &rsa, st->sign_key), CKR_OPERATION_ACTIVE);
	assert_int_equal(op.kind, P11U_OP_SIGN);
	p11u_op_release(&op);
	assert_int_equal(op.kind, P11U_OP_NONE);
	assert_int_equal(p11u_op_update(&op, message, 1), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(p11u_op_sign_final(&op, st->fx.card, NULL, &(CK_ULONG){0}, NULL),
	                 CKR_OPERATION_NOT_INITIALIZED);
}

/* ---- decryption ---- */

static const uint8_t secret[] = "a session key, or anything secret";

static void test_decrypt_pkcs1(void **ctx)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	uint8_t cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = sizeof(plain);

	encrypt(ctx, RSA_PKCS1_PADDING, NULL, NULL, secret, sizeof(secret), cryptogram);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len), CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));

	/* wrong length: refused before any card I/O */
	plain_len = sizeof(plain);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES - 1, plain, &plain_len),
	                 CKR_ENCRYPTED_DATA_LEN_RANGE);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES + 1, plain, &plain_len),
	                 CKR_ENCRYPTED_DATA_LEN_RANGE);
}

/* A cryptogram whose plaintext has a signature's padding (block type 1), not type 2. */
static void test_decrypt_pkcs1_bad_padding(void **ctx)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	uint8_t block[MODULUS_BYTES], cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = sizeof(plain);

	memset(block, 0xFF, sizeof(block));
	block[0] = 0x00;
	block[1] = 0x01;
	block[MODULUS_BYTES - sizeof(secret) - 1] = 0x00;
	memcpy(block + MODULUS_BYTES - sizeof(secret), secret, sizeof(secret));
	encrypt(ctx, RSA_NO_PADDING, NULL, NULL, block, sizeof(block), cryptogram);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len),
	                 CKR_ENCRYPTED_DATA_INVALID);
}

static void assert_oaep_round_trip(void **ctx, CK_MECHANISM_TYPE hash, CK_RSA_PKCS_MGF_TYPE mgf,
                                   const EVP_MD *md, const char *label)
{
	CK_RSA_PKCS_OAEP_PARAMS params = {hash, mgf, CKZ_DATA_SPECIFIED, (void *)label,
	                                  label ? strlen(label) : 0};
	CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
	uint8_t cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = sizeof(plain);

	encrypt(ctx, RSA_PKCS1_OAEP_PADDING, md, label, secret, sizeof(secret), cryptogram);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len), CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
}

static void test_decrypt_oaep(void **ctx)
{
	CK_RSA_PKCS_OAEP_PARAMS params = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, "other",
	                                  5};
	CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
	uint8_t cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = sizeof(plain);

	assert_oaep_round_trip(ctx, CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1(), NULL);
	assert_oaep_round_trip(ctx, CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), NULL);
	assert_oaep_round_trip(ctx, CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256(), "label");

	/* the wrong label, or the wrong hash: invalid padding */
	encrypt(ctx, RSA_PKCS1_OAEP_PADDING, EVP_sha256(), "label", secret, sizeof(secret),
	        cryptogram);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len),
	                 CKR_ENCRYPTED_DATA_INVALID);
	params.pSourceData = "label";
	params.hashAlg = CKM_SHA_1;
	params.mgf = CKG_MGF1_SHA1;
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len),
	                 CKR_ENCRYPTED_DATA_INVALID);
}

static void test_oaep_params_invalid(void **ctx)
{
	struct state *st = *ctx;
	CK_RSA_PKCS_OAEP_PARAMS params = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
	struct p11u_op op = {0};

	params.hashAlg = CKM_MD5;
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key),
	                 CKR_MECHANISM_PARAM_INVALID);
	params.hashAlg = CKM_SHA256;
	params.mgf = 0;
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key),
	                 CKR_MECHANISM_PARAM_INVALID);
	params.mgf = CKG_MGF1_SHA256;
	params.source = 2;
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key),
	                 CKR_MECHANISM_PARAM_INVALID);
	params.source = CKZ_DATA_SPECIFIED;
	params.ulSourceDataLen = 4; /* with no data */
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key),
	                 CKR_MECHANISM_PARAM_INVALID);
	mech.pParameter = NULL;
	mech.ulParameterLen = 0;
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key),
	                 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(op.kind, P11U_OP_NONE);

	/* an unset source with no label is taken as the empty label */
	params = (CK_RSA_PKCS_OAEP_PARAMS){CKM_SHA_1, CKG_MGF1_SHA1, 0, NULL, 0};
	mech.pParameter = &params;
	mech.ulParameterLen = sizeof(params);
	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key), CKR_OK);
	p11u_op_release(&op);
}

static void test_decrypt_x509(void **ctx)
{
	CK_MECHANISM mech = {CKM_RSA_X_509, NULL, 0};
	uint8_t block[MODULUS_BYTES] = {0}, cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = sizeof(plain);

	/* leading zero bytes stay: the result is a block of the modulus size */
	memcpy(block + 2, secret, sizeof(secret));
	encrypt(ctx, RSA_NO_PADDING, NULL, NULL, block, sizeof(block), cryptogram);
	assert_int_equal(decrypt(ctx, &mech, cryptogram, MODULUS_BYTES, plain, &plain_len), CKR_OK);
	assert_int_equal(plain_len, MODULUS_BYTES);
	assert_memory_equal(plain, block, MODULUS_BYTES);
}

/* Size query: the largest plaintext; too small a buffer: the exact length, operation kept. */
static void test_decrypt_size_query(void **ctx)
{
	struct state *st = *ctx;
	CK_RSA_PKCS_OAEP_PARAMS params = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM oaep = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	uint8_t cryptogram[MODULUS_BYTES], plain[MODULUS_BYTES];
	CK_ULONG plain_len = 0;

	encrypt(ctx, RSA_PKCS1_PADDING, NULL, NULL, secret, sizeof(secret), cryptogram);
	assert_int_equal(p11u_op_decrypt_init(&op, &pkcs1, st->keyx_key), CKR_OK);
	assert_int_equal(
	    p11u_op_decrypt(&op, st->fx.card, cryptogram, MODULUS_BYTES, NULL, &plain_len, NULL),
	    CKR_OK);
	assert_int_equal(plain_len, MODULUS_BYTES - 11);
	assert_int_equal(op.kind, P11U_OP_DECRYPT);
	plain_len = sizeof(secret) - 1;
	memset(plain, 0xA5, sizeof(plain));
	assert_int_equal(
	    p11u_op_decrypt(&op, st->fx.card, cryptogram, MODULUS_BYTES, plain, &plain_len, NULL),
	    CKR_BUFFER_TOO_SMALL);
	assert_int_equal(plain_len, sizeof(secret));
	assert_int_equal(plain[0], 0xA5); /* nothing written */
	assert_int_equal(op.kind, P11U_OP_DECRYPT);
	assert_int_equal(
	    p11u_op_decrypt(&op, st->fx.card, cryptogram, MODULUS_BYTES, plain, &plain_len, NULL),
	    CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
	assert_int_equal(op.kind, P11U_OP_NONE);

	assert_int_equal(p11u_op_decrypt_init(&op, &oaep, st->keyx_key), CKR_OK);
	assert_int_equal(
	    p11u_op_decrypt(&op, st->fx.card, cryptogram, MODULUS_BYTES, NULL, &plain_len, NULL),
	    CKR_OK);
	assert_int_equal(plain_len, MODULUS_BYTES - 2 * 32 - 2);
	p11u_op_release(&op);
}

static void test_decrypt_single_part_only(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};

	assert_int_equal(p11u_op_decrypt_init(&op, &mech, st->keyx_key), CKR_OK);
	assert_int_equal(p11u_op_update(&op, secret, sizeof(secret)), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(op.kind, P11U_OP_NONE);
}

/* ---- verification and encryption with the public keys (software) ---- */

static CK_RV verify(void **ctx, CK_MECHANISM *mech, const uint8_t *data, size_t len,
                    const uint8_t *sig, CK_ULONG sig_len)
{
	struct state *st = *ctx;
	struct p11u_op op = {0};
	CK_RV rv;

	rv = p11u_op_verify_init(&op, mech, st->sign_pub);
	if (rv != CKR_OK)
		return rv;
	rv = p11u_op_verify(&op, data, len, sig, sig_len);
	assert_int_equal(op.kind, P11U_OP_NONE);
	return rv;
}

/* The card signs; the signature verifies, and no longer with one byte flipped or other data. */
static void assert_card_signature_verifies(void **ctx, CK_MECHANISM *mech, const uint8_t *data,
                                           size_t len)
{
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	assert_int_equal(sign(ctx, mech, data, len, sig, &sig_len), CKR_OK);
	assert_int_equal(verify(ctx, mech, data, len, sig, sig_len), CKR_OK);
	sig[MODULUS_BYTES / 2] ^= 0x01;
	assert_int_equal(verify(ctx, mech, data, len, sig, sig_len), CKR_SIGNATURE_INVALID);
	sig[MODULUS_BYTES / 2] ^= 0x01;
	assert_int_equal(verify(ctx, mech, data, len - 1, sig, sig_len), CKR_SIGNATURE_INVALID);
	/* a signature of another length is refused on its length alone */
	assert_int_equal(verify(ctx, mech, data, len, sig, sig_len - 1), CKR_SIGNATURE_LEN_RANGE);
}

static void test_verify_card_signatures(void **ctx)
{
	CK_RSA_PKCS_PSS_PARAMS pss_params = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_RSA_PKCS_PSS_PARAMS prehashed_params = {CKM_SHA384, CKG_MGF1_SHA384, 48};
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	uint8_t hash[48], sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	for (size_t i = 0; i < N_HASHES; i++) {
		mech.mechanism = hashes[i].pkcs1;
		assert_card_signature_verifies(ctx, &mech, message, sizeof(message));
	}
	mech.mechanism = CKM_RSA_PKCS;
	assert_card_signature_verifies(ctx, &mech, message, 35);
	mech.mechanism = CKM_RSA_X_509;
	assert_card_signature_verifies(ctx, &mech, message, sizeof(message));

	mech = (CK_MECHANISM){CKM_SHA256_RSA_PKCS_PSS, &pss_params, sizeof(pss_params)};
	assert_card_signature_verifies(ctx, &mech, message, sizeof(message));
	/* CKM_RSA_PKCS_PSS verifies the caller's hash (one byte less is not a hash) */
	assert_true(EVP_Digest(message, sizeof(message), hash, NULL, EVP_sha384(), NULL));
	mech = (CK_MECHANISM){CKM_RSA_PKCS_PSS, &prehashed_params, sizeof(prehashed_params)};
	assert_int_equal(sign(ctx, &mech, hash, sizeof(hash), sig, &sig_len), CKR_OK);
	assert_int_equal(verify(ctx, &mech, hash, sizeof(hash), sig, sig_len), CKR_OK);
	assert_int_equal(verify(ctx, &mech, hash, sizeof(hash) - 1, sig, sig_len),
	                 CKR_DATA_LEN_RANGE);
	/* another salt length than the signature's */
	prehashed_params.sLen = 20;
	assert_int_equal(verify(ctx, &mech, hash, sizeof(hash), sig, sig_len),
	                 CKR_SIGNATURE_INVALID);
}

/* C_VerifyUpdate / C_VerifyFinal: the same answer as single-part. */
static void test_verify_multi_part(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len;

	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len), CKR_OK);
	assert_int_equal(p11u_op_verify_init(&op, &mech, st->sign_pub), CKR_OK);
	assert_int_equal(p11u_op_update(&op, message, 10), CKR_OK);
	assert_int_equal(p11u_op_update(&op, message + 10, sizeof(message) - 10), CKR_OK);
	assert_int_equal(op.kind, P11U_OP_VERIFY);
	assert_int_equal(p11u_op_verify_final(&op, sig, sig_len), CKR_OK);
	assert_int_equal(op.kind, P11U_OP_NONE);

	sig[0] ^= 0x80;
	assert_int_equal(p11u_op_verify_init(&op, &mech, st->sign_pub), CKR_OK);
	assert_int_equal(p11u_op_update(&op, message, sizeof(message)), CKR_OK);
	assert_int_equal(p11u_op_verify_final(&op, sig, sig_len), CKR_SIGNATURE_INVALID);
	assert_int_equal(op.kind, P11U_OP_NONE);
	assert_int_equal(p11u_op_verify_final(&op, sig, sig_len), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_public_key_checks(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM sha256_rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_MECHANISM oaep = {CKM_RSA_PKCS_OAEP, NULL, 0};
	struct p11u_op op = {0};

	/* CKA_VERIFY / CKA_ENCRYPT follow the certificate's key usage */
	assert_int_equal(p11u_op_verify_init(&op, &rsa, st->keyx_pub),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11u_op_encrypt_init(&op, &rsa, st->sign_pub),
	                 CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11u_op_verify_init(&op, &rsa, st->sign_key), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11u_op_encrypt_init(&op, &rsa, st->keyx_key), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11u_op_verify_init(&op, &rsa, st->sign_cert), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(p11u_op_verify_init(&op, &oaep, st->sign_pub), CKR_MECHANISM_INVALID);
	assert_int_equal(p11u_op_encrypt_init(&op, &sha256_rsa, st->keyx_pub),
	                 CKR_MECHANISM_INVALID);
	/* OAEP needs its parameters */
	assert_int_equal(p11u_op_encrypt_init(&op, &oaep, st->keyx_pub),
	                 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(op.kind, P11U_OP_NONE);

	assert_int_equal(p11u_op_verify_init(&op, &rsa, st->sign_pub), CKR_OK);
	assert_int_equal(p11u_op_verify_init(&op, &rsa, st->sign_pub), CKR_OPERATION_ACTIVE);
	assert_int_equal(op.kind, P11U_OP_VERIFY);
	p11u_op_release(&op);
	assert_int_equal(op.kind, P11U_OP_NONE);
}

/* Encrypts with the module (the public key object), returns what the card decrypts. */
static CK_RV encrypt_then_card_decrypt(void **ctx, CK_MECHANISM *mech, const uint8_t *in,
                                       size_t in_len, uint8_t *plain, CK_ULONG *plain_len)
{
	struct state *st = *ctx;
	struct p11u_op op = {0};
	uint8_t cryptogram[MODULUS_BYTES];
	CK_ULONG cryptogram_len = sizeof(cryptogram);
	CK_RV rv;

	assert_int_equal(p11u_op_encrypt_init(&op, mech, st->keyx_pub), CKR_OK);
	rv = p11u_op_encrypt(&op, in, in_len, cryptogram, &cryptogram_len);
	assert_int_equal(op.kind, P11U_OP_NONE);
	if (rv != CKR_OK)
		return rv;
	assert_int_equal(cryptogram_len, MODULUS_BYTES);
	*plain_len = MODULUS_BYTES;
	return decrypt(ctx, mech, cryptogram, cryptogram_len, plain, plain_len);
}

static void test_encrypt_round_trip(void **ctx)
{
	CK_RSA_PKCS_OAEP_PARAMS params = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, "label",
	                                  5};
	CK_MECHANISM oaep = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};
	uint8_t data[MODULUS_BYTES] = {0}, plain[MODULUS_BYTES];
	CK_ULONG plain_len;

	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &pkcs1, secret, sizeof(secret), plain, &plain_len),
	    CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));

	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &oaep, secret, sizeof(secret), plain, &plain_len),
	    CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
	params = (CK_RSA_PKCS_OAEP_PARAMS){CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &oaep, secret, sizeof(secret), plain, &plain_len),
	    CKR_OK);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));

	/* raw RSA: the input zero-padded on the left to the modulus size */
	memcpy(data + MODULUS_BYTES - sizeof(secret), secret, sizeof(secret));
	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &x509, secret, sizeof(secret), plain, &plain_len),
	    CKR_OK);
	assert_int_equal(plain_len, MODULUS_BYTES);
	assert_memory_equal(plain, data, MODULUS_BYTES);

	/* input longer than the mechanism takes; a raw block not below the modulus */
	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &pkcs1, data, MODULUS_BYTES - 10, plain, &plain_len),
	    CKR_DATA_LEN_RANGE);
	assert_int_equal(encrypt_then_card_decrypt(ctx, &oaep, data, MODULUS_BYTES - 2 * 20 - 1,
	                                           plain, &plain_len),
	                 CKR_DATA_LEN_RANGE);
	memset(data, 0xFF, sizeof(data));
	assert_int_equal(
	    encrypt_then_card_decrypt(ctx, &x509, data, MODULUS_BYTES, plain, &plain_len),
	    CKR_DATA_INVALID);
}

/* Size query and a buffer too small keep the operation; encryption is single-part. */
static void test_encrypt_size_query(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	uint8_t cryptogram[MODULUS_BYTES];
	CK_ULONG len = 0;

	assert_int_equal(p11u_op_encrypt_init(&op, &mech, st->keyx_pub), CKR_OK);
	assert_int_equal(p11u_op_encrypt(&op, secret, sizeof(secret), NULL, &len), CKR_OK);
	assert_int_equal(len, MODULUS_BYTES);
	len = MODULUS_BYTES - 1;
	assert_int_equal(p11u_op_encrypt(&op, secret, sizeof(secret), cryptogram, &len),
	                 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, MODULUS_BYTES);
	assert_int_equal(op.kind, P11U_OP_ENCRYPT);
	assert_int_equal(p11u_op_encrypt(&op, secret, sizeof(secret), cryptogram, &len), CKR_OK);
	assert_int_equal(len, MODULUS_BYTES);
	assert_int_equal(op.kind, P11U_OP_NONE);

	assert_int_equal(p11u_op_encrypt_init(&op, &mech, st->keyx_pub), CKR_OK);
	assert_int_equal(p11u_op_update(&op, secret, sizeof(secret)), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(op.kind, P11U_OP_NONE);
	assert_int_equal(p11u_op_encrypt(&op, secret, sizeof(secret), cryptogram, &len),
	                 CKR_OPERATION_NOT_INITIALIZED);
}

/* ---- digests ---- */

static void test_digests(void **ctx)
{
	uint8_t expected[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
	unsigned int expected_len;
	CK_ULONG out_len;

	(void)ctx;
	for (size_t i = 0; i < N_HASHES; i++) {
		CK_MECHANISM mech = {hashes[i].digest, NULL, 0};
		struct p11u_op op = {0};

		assert_true(EVP_Digest(message, sizeof(message), expected, &expected_len,
		                       hashes[i].md(), NULL));

		/* single-part, with a size query and a buffer too small first */
		assert_int_equal(p11u_op_digest_init(&op, &mech), CKR_OK);
		assert_int_equal(p11u_op_digest(&op, message, sizeof(message), NULL, &out_len),
		                 CKR_OK);
		assert_int_equal(out_len, expected_len);
		out_len = expected_len - 1;
		assert_int_equal(p11u_op_digest(&op, message, sizeof(message), out, &out_len),
		                 CKR_BUFFER_TOO_SMALL);
		assert_int_equal(out_len, expected_len);
		assert_int_equal(op.kind, P11U_OP_DIGEST);
		assert_int_equal(p11u_op_digest(&op, message, sizeof(message), out, &out_len),
		                 CKR_OK);
		assert_int_equal(out_len, expected_len);
		assert_memory_equal(out, expected, expected_len);
		assert_int_equal(op.kind, P11U_OP_NONE);

		/* multi-part */
		assert_int_equal(p11u_op_digest_init(&op, &mech), CKR_OK);
		assert_int_equal(p11u_op_update(&op, message, 7), CKR_OK);
		assert_int_equal(p11u_op_update(&op, message + 7, sizeof(message) - 7), CKR_OK);
		out_len = sizeof(out);
		assert_int_equal(p11u_op_digest_final(&op, out, &out_len), CKR_OK);
		assert_int_equal(out_len, expected_len);
		assert_memory_equal(out, expected, expected_len);
		assert_int_equal(op.kind, P11U_OP_NONE);
	}
}

/* ---- the card's state ---- */

/* A card reset by someone else: the card refuses, the caller learns why through card_rv. */
/* ---- single-part and multi-part calls do not mix (PKCS#11 2.40 section 5.2) ---- */

/* One operation kind, driven through its single-part call, C_*Update and C_*Final. */
struct mixing_case {
	const char *name;
	CK_RV (*init)(struct state *st, struct p11u_op *op);
	/* out == NULL: a size query; verification has none (then NULL here). */
	CK_RV (*single)
	(struct state *st, struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
	CK_RV (*final)(struct state *st, struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
	bool has_multi_part; /* RSA encryption and decryption are single-part only */
	bool has_size_query;
};

static uint8_t card_signature[MODULUS_BYTES];  /* of message, SHA256-RSA-PKCS */
static uint8_t keyx_cryptogram[MODULUS_BYTES]; /* secret for the encryption key, RSA-PKCS */

static CK_RV digest_init(struct state *st, struct p11u_op *op)
{
	CK_MECHANISM mech = {CKM_SHA256, NULL, 0};

	return p11u_op_digest_init(op, &mech);
}

static CK_RV digest_single(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                           CK_ULONG_PTR out_len)
{
	return p11u_op_digest(op, message, sizeof(message), out, out_len);
}

static CK_RV digest_final(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                          CK_ULONG_PTR out_len)
{
	return p11u_op_digest_final(op, out, out_len);
}

static CK_RV sign_init(struct state *st, struct p11u_op *op)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};

	return p11u_op_sign_init(op, &mech, st->sign_key);
}

static CK_RV sign_single(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len)
{
	return p11u_op_sign(op, st->fx.card, message, sizeof(message), out, out_len, NULL);
}

static CK_RV sign_final(struct state *st, struct p11u_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return p11u_op_sign_final(op, st->fx.card, out, out_len, NULL);
}

static CK_RV verify_init(struct state *st, struct p11u_op *op)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};

	return p11u_op_verify_init(op, &mech, st->sign_pub);
}

static CK_RV verify_single(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                           CK_ULONG_PTR out_len)
{
	return p11u_op_verify(op, message, sizeof(message), card_signature, MODULUS_BYTES);
}

static CK_RV verify_final(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                          CK_ULONG_PTR out_len)
{
	return p11u_op_verify_final(op, card_signature, MODULUS_BYTES);
}

static CK_RV decrypt_init(struct state *st, struct p11u_op *op)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};

	return p11u_op_decrypt_init(op, &mech, st->keyx_key);
}

static CK_RV decrypt_single(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len)
{
	return p11u_op_decrypt(op, st->fx.card, keyx_cryptogram, MODULUS_BYTES, out, out_len, NULL);
}

static CK_RV cipher_final(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                          CK_ULONG_PTR out_len)
{
	return p11u_op_cipher_final(op);
}

static CK_RV encrypt_init(struct state *st, struct p11u_op *op)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};

	return p11u_op_encrypt_init(op, &mech, st->keyx_pub);
}

static CK_RV encrypt_single(struct state *st, struct p11u_op *op, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len)
{
	return p11u_op_encrypt(op, secret, sizeof(secret), out, out_len);
}

static const struct mixing_case mixing_cases[] = {
    {"digest", digest_init, digest_single, digest_final, true, true},
    {"sign", sign_init, sign_single, sign_final, true, true},
    {"verify", verify_init, verify_single, verify_final, true, false},
    {"decrypt", decrypt_init, decrypt_single, cipher_final, false, true},
    {"encrypt", encrypt_init, encrypt_single, cipher_final, false, true},
};

static void test_single_and_multi_part_do_not_mix(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM sha256_rsa = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_ULONG len = MODULUS_BYTES;
	uint8_t out[MODULUS_BYTES];

	assert_int_equal(sign(ctx, &sha256_rsa, message, sizeof(message), card_signature, &len),
	                 CKR_OK);
	{
		struct p11u_op op = {0};

		assert_int_equal(encrypt_init(st, &op), CKR_OK);
		len = MODULUS_BYTES;
		assert_int_equal(encrypt_single(st, &op, keyx_cryptogram, &len), CKR_OK);
	}
	for (size_t i = 0; i < sizeof(mixing_cases) / sizeof(mixing_cases[0]); i++) {
		const struct mixing_case *c = &mixing_cases[i];
		struct p11u_op op = {0};

		print_message("%s\n", c->name);
		if (c->has_multi_part) {
			/* After C_*Update, the single-part call is refused and the operation goes
			 * on: C_*Final completes it. */
			assert_int_equal(c->init(st, &op), CKR_OK);
			assert_int_equal(p11u_op_update(&op, message, sizeof(message)), CKR_OK);
			len = sizeof(out);
			assert_int_equal(c->single(st, &op, out, &len), CKR_OPERATION_ACTIVE);
			assert_int_equal(op.kind != P11U_OP_NONE, true);
			len = sizeof(out);
			assert_int_equal(c->final(st, &op, out, &len), CKR_OK);
			assert_int_equal(op.kind, P11U_OP_NONE);
		}
		if (c->has_size_query) {
			/* After a single-part size answer, C_*Update and C_*Final are refused and
			 * the single-part call completes the operation. */
			assert_int_equal(c->init(st, &op), CKR_OK);
			len = 0;
			assert_int_equal(c->single(st, &op, NULL, &len), CKR_OK);
			assert_true(len > 0);
			assert_int_equal(p11u_op_update(&op, message, sizeof(message)),
			                 CKR_OPERATION_ACTIVE);
			len = sizeof(out);
			assert_int_equal(c->final(st, &op, out, &len), CKR_OPERATION_ACTIVE);
			assert_int_equal(op.kind != P11U_OP_NONE, true);
			len = sizeof(out);
			assert_int_equal(c->single(st, &op, out, &len), CKR_OK);
			assert_int_equal(op.kind, P11U_OP_NONE);
		}
	}
}

static void test_not_logged_in(void **ctx)
{
	struct state *st = *ctx;
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	enum p11u_card_rv card_rv = P11U_CARD_OK;
	uint8_t sig[MODULUS_BYTES];
	CK_ULONG sig_len = sizeof(sig);

	vcard_reset(st->fx.vcard);
	assert_int_equal(p11u_op_sign_init(&op, &mech, st->sign_key), CKR_OK);
	assert_int_equal(
	    p11u_op_sign(&op, st->fx.card, message, sizeof(message), sig, &sig_len, &card_rv),
	    CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(card_rv, P11U_CARD_E_NOT_VERIFIED);
	assert_int_equal(op.kind, P11U_OP_NONE);

	assert_int_equal(
	    p11u_card_verify(st->fx.card, P11U_SECRET_PIN, (const uint8_t *)"123456", 6, NULL),
	    P11U_CARD_OK);
	assert_int_equal(sign(ctx, &mech, message, sizeof(message), sig, &sig_len), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mechanism_list),
	    cmocka_unit_test(test_mechanism_info),
	    cmocka_unit_test(test_sign_hash_pkcs1),
	    cmocka_unit_test(test_sign_hash_pss),
	    cmocka_unit_test(test_sign_pss_other_mgf_no_salt),
	    cmocka_unit_test(test_sign_pss_prehashed),
	    cmocka_unit_test(test_pss_params_invalid),
	    cmocka_unit_test(test_sign_rsa_pkcs),
	    cmocka_unit_test(test_sign_rsa_x509),
	    cmocka_unit_test(test_sign_size_query),
	    cmocka_unit_test(test_sign_multi_part),
	    cmocka_unit_test(test_key_checks),
	    cmocka_unit_test(test_decrypt_pkcs1),
	    cmocka_unit_test(test_decrypt_pkcs1_bad_padding),
	    cmocka_unit_test(test_decrypt_oaep),
	    cmocka_unit_test(test_oaep_params_invalid),
	    cmocka_unit_test(test_decrypt_x509),
	    cmocka_unit_test(test_decrypt_size_query),
	    cmocka_unit_test(test_decrypt_single_part_only),
	    cmocka_unit_test(test_verify_card_signatures),
	    cmocka_unit_test(test_verify_multi_part),
	    cmocka_unit_test(test_public_key_checks),
	    cmocka_unit_test(test_encrypt_round_trip),
	    cmocka_unit_test(test_encrypt_size_query),
	    cmocka_unit_test(test_digests),
	    cmocka_unit_test(test_single_and_multi_part_do_not_mix),
	    cmocka_unit_test(test_not_logged_in),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
