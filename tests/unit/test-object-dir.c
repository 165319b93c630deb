/* A first-generation card's token objects, built from the directory records the card layer read
 * (IDs, labels, usage and key references from the card, not from the test card's fixed
 * layout), and its private-key operations: the card computes raw RSA only, so the module pads
 * on the host (PKCS#1 v1.5, PSS) and unpads (PKCS#1 v1.5 in constant time, OAEP).  Signatures
 * are checked by OpenSSL against the card's certificate, decryptions round-trip. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "card-fixture.h"
#include "pkcs11/crypto.h"
#include "pkcs11/object.h"

static const uint8_t message[] = "a message signed by a first-generation card";

struct state {
	struct card_fixture fx;
	struct p11u_object_table table;
	EVP_PKEY *sign_pkey, *keyx_pkey;
};

static const struct p11u_object *find(const struct state *st, CK_OBJECT_CLASS class,
                                      const char *id)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &class, sizeof class},
	    {CKA_ID, (void *)id, strlen(id)},
	};

	for (size_t i = 0; i < st->table.count; i++)
		if (p11u_object_matches(&st->table.objects[i], tmpl, 2))
			return &st->table.objects[i];
	return NULL;
}

static EVP_PKEY *dir_cert_key(const struct p11u_card_info *info, size_t i)
{
	const unsigned char *p = info->dir->certs[i].der;
	X509 *x509 = d2i_X509(NULL, &p, (long)info->dir->certs[i].len);
	EVP_PKEY *key = x509 != NULL ? X509_get_pubkey(x509) : NULL;

	X509_free(x509);
	return key;
}

static int setup(void **ctx)
{
	struct state *st = calloc(1, sizeof *st);
	const struct vcard_params params = {.variant = VCARD_VARIANT_GEN1};
	const struct p11u_object_options opts = {.private_keys = true, .status_object = false};

	if (st == NULL || card_fixture_open(&st->fx, &params) != 0)
		return -1;
	p11u_card_enable_real_login(st->fx.card, true);
	if (p11u_objects_build(p11u_card_info(st->fx.card), &opts, &st->table) != CKR_OK ||
	    p11u_card_verify(st->fx.card, P11U_SECRET_PIN, (const uint8_t *)"123456", 6, NULL) !=
	        P11U_CARD_OK)
		return -1;
	/* The CDF lists SIGN, KEYX, CACert, ROOTCACert. */
	st->sign_pkey = dir_cert_key(p11u_card_info(st->fx.card), 0);
	st->keyx_pkey = dir_cert_key(p11u_card_info(st->fx.card), 1);
	*ctx = st;
	return st->sign_pkey != NULL && st->keyx_pkey != NULL ? 0 : -1;
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

static void assert_attr(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type, const void *value,
                        size_t len)
{
	uint8_t buf[512];
	CK_ATTRIBUTE attr = {type, buf, sizeof buf};

	assert_int_equal(p11u_object_get_attributes(obj, &attr, 1, NULL), CKR_OK);
	assert_int_equal(attr.ulValueLen, len);
	assert_memory_equal(buf, value, len);
}

static void assert_bool(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type, bool value)
{
	CK_BBOOL b = value ? CK_TRUE : CK_FALSE;

	assert_attr(obj, type, &b, sizeof b);
}

static void test_objects_from_directory(void **ctx)
{
	struct state *st = *ctx;
	const CK_ULONG user = 1, authority = 2;
	const struct p11u_object *obj;

	assert_int_equal(st->table.count, 4 + 2 + 2 + 1);
	for (size_t i = 0; i < st->table.count; i++)
		assert_int_equal(st->table.objects[i].handle, i + 1);

	obj = find(st, CKO_CERTIFICATE, "SIGN");
	assert_non_null(obj);
	assert_attr(obj, CKA_LABEL, "HiCOS signature certificate", 27);
	assert_attr(obj, CKA_CERTIFICATE_CATEGORY, &user, sizeof user);
	assert_attr(find(st, CKO_CERTIFICATE, "ROOTCACert"), CKA_CERTIFICATE_CATEGORY, &authority,
	            sizeof authority);
	assert_attr(find(st, CKO_CERTIFICATE, "CACert"), CKA_LABEL, "HiCOS issuing CA certificate",
	            28);

	obj = find(st, CKO_PRIVATE_KEY, "SIGN");
	assert_non_null(obj);
	assert_true(obj->is_private);
	assert_int_equal(obj->keyref, 0x01);
	assert_int_equal(obj->modulus_bits, 2048);
	assert_attr(obj, CKA_LABEL, "HiCOS signature key", 19);
	assert_bool(obj, CKA_SIGN, true);
	assert_bool(obj, CKA_DECRYPT, false);
	obj = find(st, CKO_PRIVATE_KEY, "KEYX");
	assert_int_equal(obj->keyref, 0x05);
	assert_bool(obj, CKA_SIGN, false);
	assert_bool(obj, CKA_DECRYPT, true);
	assert_bool(obj, CKA_UNWRAP, true);
	obj = find(st, CKO_PUBLIC_KEY, "SIGN");
	assert_bool(obj, CKA_VERIFY, true);
	assert_bool(obj, CKA_ENCRYPT, false);
	obj = find(st, CKO_PUBLIC_KEY, "KEYX");
	assert_bool(obj, CKA_ENCRYPT, true);
	assert_bool(obj, CKA_WRAP, true);

	const CK_OBJECT_CLASS data = CKO_DATA;
	CK_ATTRIBUTE by_class = {CKA_CLASS, (void *)&data, sizeof data};
	for (size_t i = 0; i < st->table.count; i++)
		if (p11u_object_matches(&st->table.objects[i], &by_class, 1)) {
			assert_attr(&st->table.objects[i], CKA_APPLICATION, "p11unlock-vcard", 15);
			assert_attr(&st->table.objects[i], CKA_VALUE,
			            "p11unlock-vcard XC00000000091349", 32);
			assert_false(st->table.objects[i].is_status);
		}
}

/* A read-only token (no login): no private keys, nothing else changes. */
static void test_read_only_objects(void **ctx)
{
	struct state *st = *ctx;
	const struct p11u_object_options opts = {.private_keys = false, .status_object = false};
	struct p11u_object_table table;

	assert_int_equal(p11u_objects_build(p11u_card_info(st->fx.card), &opts, &table), CKR_OK);
	assert_int_equal(table.count, 7);
	for (size_t i = 0; i < table.count; i++)
		assert_int_not_equal(table.objects[i].class, CKO_PRIVATE_KEY);
	p11u_objects_free(&table);
}

static CK_RV sign(struct state *st, CK_MECHANISM *mech, const uint8_t *data, size_t len,
                  uint8_t *sig, CK_ULONG *sig_len)
{
	struct p11u_op op = {0};
	CK_RV rv = p11u_op_sign_init(&op, mech, find(st, CKO_PRIVATE_KEY, "SIGN"));

	if (rv != CKR_OK)
		return rv;
	*sig_len = 256;
	return p11u_op_sign(&op, st->fx.card, data, len, sig, sig_len, NULL);
}

static void verify_with(EVP_PKEY *key, const EVP_MD *md, bool pss, const uint8_t *sig)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL,
	                                         key, NULL),
	                 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestVerify(mctx, sig, 256, message, sizeof message), 1);
	EVP_MD_CTX_free(mctx);
}

/* RSA-PKCS over a DigestInfo, SHA256-RSA-PKCS and SHA256-RSA-PKCS-PSS: padded here, raw RSA
 * on the card. */
static void test_sign_padded_on_host(void **ctx)
{
	static const uint8_t sha256_prefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                        0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                        0x01, 0x05, 0x00, 0x04, 0x20};
	struct state *st = *ctx;
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0}, sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_MECHANISM sha256_pss = {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof pss};
	uint8_t digest_info[sizeof sha256_prefix + 32], sig[256];
	unsigned int md_len = 32;
	CK_ULONG sig_len;

	memcpy(digest_info, sha256_prefix, sizeof sha256_prefix);
	assert_true(EVP_Digest(message, sizeof message, digest_info + sizeof sha256_prefix, &md_len,
	                       EVP_sha256(), NULL));
	assert_int_equal(sign(st, &pkcs1, digest_info, sizeof digest_info, sig, &sig_len), CKR_OK);
	verify_with(st->sign_pkey, EVP_sha256(), false, sig);
	assert_int_equal(sign(st, &sha256, message, sizeof message, sig, &sig_len), CKR_OK);
	verify_with(st->sign_pkey, EVP_sha256(), false, sig);
	assert_int_equal(sign(st, &sha256_pss, message, sizeof message, sig, &sig_len), CKR_OK);
	verify_with(st->sign_pkey, EVP_sha256(), true, sig);
}

static CK_RV decrypt(struct state *st, CK_MECHANISM *mech, const uint8_t *in, uint8_t *out,
                     CK_ULONG *out_len)
{
	struct p11u_op op = {0};
	CK_RV rv = p11u_op_decrypt_init(&op, mech, find(st, CKO_PRIVATE_KEY, "KEYX"));

	if (rv != CKR_OK)
		return rv;
	*out_len = 256;
	return p11u_op_decrypt(&op, st->fx.card, in, 256, out, out_len, NULL);
}

static void encrypt_with(EVP_PKEY *key, int padding, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t out_len = 256;

	assert_int_equal(EVP_PKEY_encrypt_init(pctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, padding), 1);
	if (padding == RSA_PKCS1_OAEP_PADDING) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
	}
	assert_int_equal(EVP_PKEY_encrypt(pctx, out, &out_len, in, len), 1);
	EVP_PKEY_CTX_free(pctx);
}

static void test_decrypt_unpadded_on_host(void **ctx)
{
	static const uint8_t secret[] = "a session key of some thirty-two";
	struct state *st = *ctx;
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0}, oaep_mech = {CKM_RSA_PKCS_OAEP, &oaep,
	                                                             sizeof oaep};
	uint8_t cryptogram[256], plain[256];
	CK_ULONG len;

	encrypt_with(st->keyx_pkey, RSA_PKCS1_PADDING, secret, sizeof secret, cryptogram);
	assert_int_equal(decrypt(st, &pkcs1, cryptogram, plain, &len), CKR_OK);
	assert_int_equal(len, sizeof secret);
	assert_memory_equal(plain, secret, sizeof secret);
	encrypt_with(st->keyx_pkey, RSA_PKCS1_OAEP_PADDING, secret, sizeof secret, cryptogram);
	assert_int_equal(decrypt(st, &oaep_mech, cryptogram, plain, &len), CKR_OK);
	assert_int_equal(len, sizeof secret);
	assert_memory_equal(plain, secret, sizeof secret);
	/* An OAEP cryptogram taken for PKCS#1 v1.5: its padding is refused. */
	assert_int_equal(decrypt(st, &pkcs1, cryptogram, plain, &len), CKR_ENCRYPTED_DATA_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_objects_from_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_objects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sign_padded_on_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decrypt_unpadded_on_host, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
