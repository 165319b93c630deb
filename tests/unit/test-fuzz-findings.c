/* Regressions of what the fuzz targets (tests/fuzz) found, one test per finding, each on the
 * smallest layer that shows it.  The inputs that found them are in tests/fuzz/corpus/<target>/
 * as finding-*. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include "card/card.h"
#include "pkcs11/crypto.h"
#include "pkcs11/object.h"

/* An RSA public key with an even modulus (2048 bits), which OpenSSL cannot compute with. */
static EVP_PKEY *even_modulus_key(void)
{
	unsigned char n_bytes[256];
	BIGNUM *n, *e;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;

	memset(n_bytes, 0xC5, sizeof n_bytes);
	n_bytes[sizeof n_bytes - 1] = 0x12;
	n = BN_bin2bn(n_bytes, sizeof n_bytes, NULL);
	e = BN_new();
	assert_non_null(bld);
	assert_non_null(ctx);
	assert_true(n != NULL && e != NULL && BN_set_word(e, 65537));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* A certificate for key with the key usage of the card's encryption certificate, signed by a
 * throwaway key (the module does not check certificate signatures).  Returns its DER. */
static size_t encryption_certificate(EVP_PKEY *key, uint8_t **der)
{
	EVP_PKEY *signer = EVP_EC_gen("P-256");
	X509 *x509 = X509_new();
	X509_NAME *name;
	X509_EXTENSION *usage;
	int len;

	assert_non_null(signer);
	assert_non_null(x509);
	assert_true(X509_set_version(x509, X509_VERSION_3));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x509), 1));
	name = X509_get_subject_name(x509);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                                       (const unsigned char *)"even modulus", -1, -1, 0));
	assert_true(X509_set_issuer_name(x509, name));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x509), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x509), 86400));
	assert_true(X509_set_pubkey(x509, key));
	usage = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
	                            "critical,keyEncipherment,dataEncipherment");
	assert_non_null(usage);
	assert_true(X509_add_ext(x509, usage, -1));
	X509_EXTENSION_free(usage);
	assert_true(X509_sign(x509, signer, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509(x509, der);
	assert_true(len > 0);
	X509_free(x509);
	EVP_PKEY_free(signer);
	return (size_t)len;
}

/* fuzz-module: C_Encrypt with the public key of a card certificate whose RSA modulus is even
 * returned CKR_GENERAL_ERROR ("the library is in an unrecoverable state") for what is the
 * card's bad data; now CKR_FUNCTION_FAILED. */
static void test_encrypt_with_unusable_card_key(void **state)
{
	static const uint8_t message[] = "secret";
	struct p11u_card_info info;
	const struct p11u_object_options opts = {.private_keys = true, .status_object = false};
	struct p11u_object_table table = {0};
	const struct p11u_object *pub = NULL;
	CK_MECHANISM pkcs1 = {CKM_RSA_PKCS, NULL, 0};
	struct p11u_op op = {0};
	EVP_PKEY *key = even_modulus_key();
	uint8_t *der, out[256];
	CK_ULONG out_len = sizeof out;

	(void)state;
	memset(&info, 0, sizeof info);
	info.kind = P11U_CARD_KIND_TEST;
	strcpy(info.card_type, "P11U V1");
	strcpy(info.card_number, "XC00000000091349");
	info.certs[P11U_CERT_ENCRYPTION].len = encryption_certificate(key, &der);
	info.certs[P11U_CERT_ENCRYPTION].der = der;

	assert_int_equal(p11u_objects_build(&info, &opts, &table), CKR_OK);
	for (size_t i = 0; i < table.count; i++)
		if (table.objects[i].class == CKO_PUBLIC_KEY)
			pub = &table.objects[i];
	assert_non_null(pub);
	assert_int_equal(p11u_op_encrypt_init(&op, &pkcs1, pub), CKR_OK);
	assert_int_equal(p11u_op_encrypt(&op, message, sizeof message - 1, out, &out_len),
	                 CKR_FUNCTION_FAILED);
	assert_int_equal(op.kind, P11U_OP_NONE);

	p11u_objects_free(&table);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encrypt_with_unusable_card_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
