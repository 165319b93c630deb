/* Token objects built from a virtual card's certificates, read through the real
 * card layer: every attribute's exact value, the C_GetAttributeValue rules of
 * PKCS#11 2.40 section 5.7, template matching and the status object. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "card-fixture.h"
#include "pkcs11/object.h"

/* The fixed handles object.c gives each object. */
enum {
	H_SIGN_CERT = 1,
	H_SIGN_PUB,
	H_SIGN_PRIV,
	H_KEYX_CERT,
	H_KEYX_PUB,
	H_KEYX_PRIV,
	H_CA_CERT,
	H_ROOT_CERT,
	H_STATUS,
};

struct state {
	struct card_fixture fx;
	struct p11u_object_table table;                    /* private keys and status object */
	X509 *sign_cert, *keyx_cert, *ca_cert, *root_cert; /* as the virtual card exported them */
};

static const struct p11u_object_options all_objects = {.private_keys = true, .status_object = true};

static int setup(void **ctx)
{
	struct state *st = calloc(1, sizeof(*st));
	struct vcard_params params = {
	    .not_before = "2025-09-01",
	    .not_after = "2031-09-01",
	    .key_bits = 2048,
	};

	if (st == NULL || card_fixture_open(&st->fx, &params) != 0)
		return -1;
	st->sign_cert = card_fixture_exported_cert(&st->fx, "signature");
	st->keyx_cert = card_fixture_exported_cert(&st->fx, "encryption");
	st->ca_cert = card_fixture_exported_cert(&st->fx, "issuing-ca");
	st->root_cert = card_fixture_exported_cert(&st->fx, "root-ca");
	if (!st->sign_cert || !st->keyx_cert || !st->ca_cert || !st->root_cert)
		return -1;
	if (p11u_objects_build(p11u_card_info(st->fx.card), &all_objects, &st->table) != CKR_OK)
		return -1;
	*ctx = st;
	return 0;
}

static int teardown(void **ctx)
{
	struct state *st = *ctx;

	p11u_objects_free(&st->table);
	X509_free(st->sign_cert);
	X509_free(st->keyx_cert);
	X509_free(st->ca_cert);
	X509_free(st->root_cert);
	card_fixture_close(&st->fx);
	free(st);
	return 0;
}

static const struct p11u_object *object(void **ctx, CK_OBJECT_HANDLE handle)
{
	struct state *st = *ctx;
	const struct p11u_object *obj = p11u_objects_by_handle(&st->table, handle);

	assert_non_null(obj);
	assert_int_equal(obj->handle, handle);
	return obj;
}

/* ---- exact attribute checks ---- */

static void assert_attr_bytes(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type,
                              const void *value, size_t len)
{
	uint8_t buf[4096];
	CK_ATTRIBUTE attr = {type, buf, sizeof(buf)};

	assert_int_equal(p11u_object_get_attributes(obj, &attr, 1, NULL), CKR_OK);
	assert_int_equal(attr.ulValueLen, len);
	if (len > 0)
		assert_memory_equal(buf, value, len);
}

static void assert_attr_bool(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type, bool value)
{
	CK_BBOOL expected = value ? CK_TRUE : CK_FALSE;
	assert_attr_bytes(obj, type, &expected, sizeof(expected));
}

static void assert_attr_ulong(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type, CK_ULONG value)
{
	assert_attr_bytes(obj, type, &value, sizeof(value));
}

static void assert_attr_string(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type,
                               const char *value)
{
	assert_attr_bytes(obj, type, value, strlen(value));
}

static void assert_attr_date(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type,
                             const char *yyyymmdd)
{
	assert_attr_bytes(obj, type, yyyymmdd, 8);
}

static void assert_attr_sensitive(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type)
{
	uint8_t buf[512];
	CK_ATTRIBUTE with_buffer = {type, buf, sizeof(buf)};
	CK_ATTRIBUTE length_query = {type, NULL, 0};

	assert_int_equal(p11u_object_get_attributes(obj, &with_buffer, 1, NULL),
	                 CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(with_buffer.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(p11u_object_get_attributes(obj, &length_query, 1, NULL),
	                 CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(length_query.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

static void assert_attr_invalid(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE attr = {type, NULL, 0};

	assert_int_equal(p11u_object_get_attributes(obj, &attr, 1, NULL),
	                 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(attr.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

/* The DER an OpenSSL i2d function gives for the exported certificate. */
#define assert_attr_i2d(obj, type, i2d, value)                                                     \
	do {                                                                                       \
		unsigned char *der_ = NULL;                                                        \
		int len_ = i2d(value, &der_);                                                      \
		assert_true(len_ > 0);                                                             \
		assert_attr_bytes(obj, type, der_, (size_t)len_);                                  \
		OPENSSL_free(der_);                                                                \
	} while (0)

static void assert_common(const struct p11u_object *obj, CK_OBJECT_CLASS class, bool is_private,
                          const char *label)
{
	assert_int_equal(obj->class, class);
	assert_int_equal(obj->is_private, is_private);
	assert_attr_ulong(obj, CKA_CLASS, class);
	assert_attr_bool(obj, CKA_TOKEN, true);
	assert_attr_bool(obj, CKA_PRIVATE, is_private);
	assert_attr_bool(obj, CKA_MODIFIABLE, false);
	assert_attr_bool(obj, CKA_COPYABLE, false);
	assert_attr_bool(obj, CKA_DESTROYABLE, false);
	assert_attr_string(obj, CKA_LABEL, label);
}

static void assert_certificate(const struct p11u_object *obj, X509 *cert, const char *label,
                               const char *id, CK_ULONG category)
{
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	unsigned char sha1[EVP_MAX_MD_SIZE];

	assert_true(der_len > 0);
	assert_common(obj, CKO_CERTIFICATE, false, label);
	assert_false(obj->is_status);
	assert_attr_ulong(obj, CKA_CERTIFICATE_TYPE, CKC_X_509);
	assert_attr_ulong(obj, CKA_CERTIFICATE_CATEGORY, category);
	assert_attr_bool(obj, CKA_TRUSTED, false);
	assert_attr_string(obj, CKA_ID, id);
	assert_attr_bytes(obj, CKA_VALUE, der, (size_t)der_len);
	assert_attr_i2d(obj, CKA_SUBJECT, i2d_X509_NAME, X509_get_subject_name(cert));
	assert_attr_i2d(obj, CKA_ISSUER, i2d_X509_NAME, X509_get_issuer_name(cert));
	assert_attr_i2d(obj, CKA_SERIAL_NUMBER, i2d_ASN1_INTEGER, X509_get0_serialNumber(cert));
	assert_attr_i2d(obj, CKA_PUBLIC_KEY_INFO, i2d_PUBKEY, X509_get0_pubkey(cert));
	assert_attr_date(obj, CKA_START_DATE, "20250901");
	assert_attr_date(obj, CKA_END_DATE, "20310901");
	assert_true(EVP_Digest(der, (size_t)der_len, sha1, NULL, EVP_sha1(), NULL));
	assert_attr_bytes(obj, CKA_CHECK_VALUE, sha1, 3);
	assert_attr_bytes(obj, CKA_URL, "", 0);
	assert_attr_bytes(obj, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, "", 0);
	assert_attr_bytes(obj, CKA_HASH_OF_ISSUER_PUBLIC_KEY, "", 0);
	assert_attr_ulong(obj, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
	assert_attr_invalid(obj, CKA_MODULUS);
	assert_true(p11u_object_size(obj) >= (CK_ULONG)der_len);
	OPENSSL_free(der);
}

static void assert_rsa_key(const struct p11u_object *obj, X509 *cert, const char *id,
                           enum p11u_keyref keyref)
{
	static const uint8_t f4[] = {0x01, 0x00, 0x01};
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	BIGNUM *n = NULL;
	uint8_t modulus[256];

	assert_true(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n));
	assert_int_equal(BN_bn2binpad(n, modulus, sizeof(modulus)), sizeof(modulus));
	BN_free(n);

	assert_int_equal(obj->keyref, keyref);
	assert_int_equal(obj->modulus_bits, 2048);
	assert_attr_ulong(obj, CKA_KEY_TYPE, CKK_RSA);
	assert_attr_string(obj, CKA_ID, id);
	assert_attr_bytes(obj, CKA_MODULUS, modulus, sizeof(modulus));
	assert_attr_ulong(obj, CKA_MODULUS_BITS, 2048);
	assert_attr_bytes(obj, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
	assert_attr_i2d(obj, CKA_SUBJECT, i2d_X509_NAME, X509_get_subject_name(cert));
	assert_attr_i2d(obj, CKA_PUBLIC_KEY_INFO, i2d_PUBKEY, pkey);
	assert_attr_bytes(obj, CKA_START_DATE, "", 0);
	assert_attr_bytes(obj, CKA_END_DATE, "", 0);
	assert_attr_bool(obj, CKA_LOCAL, false);
	assert_attr_bool(obj, CKA_DERIVE, false);
	assert_attr_ulong(obj, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	assert_attr_invalid(obj, CKA_VALUE);
	assert_attr_invalid(obj, CKA_CERTIFICATE_TYPE);
}

/* Key usages: signature key signs only, encryption key decrypts and unwraps only. */
struct usage {
	bool sign, decrypt, unwrap;
};

static void assert_public_key(const struct p11u_object *obj, X509 *cert, const char *label,
                              const char *id, enum p11u_keyref keyref, struct usage usage)
{
	assert_common(obj, CKO_PUBLIC_KEY, false, label);
	assert_rsa_key(obj, cert, id, keyref);
	assert_attr_bool(obj, CKA_VERIFY, usage.sign);
	assert_attr_bool(obj, CKA_ENCRYPT, usage.decrypt);
	assert_attr_bool(obj, CKA_WRAP, usage.unwrap);
	assert_attr_bool(obj, CKA_VERIFY_RECOVER, false);
	assert_attr_bool(obj, CKA_TRUSTED, false);
	assert_attr_invalid(obj, CKA_SIGN);
	assert_attr_invalid(obj, CKA_SENSITIVE);
	assert_attr_invalid(obj, CKA_PRIVATE_EXPONENT);
}

static void assert_private_key(const struct p11u_object *obj, X509 *cert, const char *label,
                               const char *id, enum p11u_keyref keyref, struct usage usage)
{
	assert_common(obj, CKO_PRIVATE_KEY, true, label);
	assert_rsa_key(obj, cert, id, keyref);
	assert_attr_bool(obj, CKA_SIGN, usage.sign);
	assert_attr_bool(obj, CKA_DECRYPT, usage.decrypt);
	assert_attr_bool(obj, CKA_UNWRAP, usage.unwrap);
	assert_attr_bool(obj, CKA_SIGN_RECOVER, false);
	assert_attr_bool(obj, CKA_SENSITIVE, true);
	assert_attr_bool(obj, CKA_EXTRACTABLE, false);
	assert_attr_bool(obj, CKA_ALWAYS_SENSITIVE, true);
	assert_attr_bool(obj, CKA_NEVER_EXTRACTABLE, true);
	assert_attr_bool(obj, CKA_WRAP_WITH_TRUSTED, false);
	assert_attr_bool(obj, CKA_ALWAYS_AUTHENTICATE, false);
	assert_attr_sensitive(obj, CKA_PRIVATE_EXPONENT);
	assert_attr_sensitive(obj, CKA_PRIME_1);
	assert_attr_sensitive(obj, CKA_PRIME_2);
	assert_attr_sensitive(obj, CKA_EXPONENT_1);
	assert_attr_sensitive(obj, CKA_EXPONENT_2);
	assert_attr_sensitive(obj, CKA_COEFFICIENT);
	assert_attr_invalid(obj, CKA_VERIFY);
}

static const struct usage signing = {.sign = true};
static const struct usage encrypting = {.decrypt = true, .unwrap = true};

/* ---- tests ---- */

static void test_handles(void **ctx)
{
	struct state *st = *ctx;

	assert_int_equal(st->table.count, 9);
	for (size_t i = 0; i < st->table.count; i++)
		assert_int_equal(st->table.objects[i].handle, i + 1);
	assert_null(p11u_objects_by_handle(&st->table, 0));
	assert_null(p11u_objects_by_handle(&st->table, 10));
}

static void test_signature_objects(void **ctx)
{
	struct state *st = *ctx;

	assert_certificate(object(ctx, H_SIGN_CERT), st->sign_cert, "Signature certificate", "SIGN",
	                   1);
	assert_public_key(object(ctx, H_SIGN_PUB), st->sign_cert, "Signature key", "SIGN",
	                  P11U_KEY_SIGNATURE, signing);
	assert_private_key(object(ctx, H_SIGN_PRIV), st->sign_cert, "Signature key", "SIGN",
	                   P11U_KEY_SIGNATURE, signing);
}

static void test_encryption_objects(void **ctx)
{
	struct state *st = *ctx;

	assert_certificate(object(ctx, H_KEYX_CERT), st->keyx_cert, "Encryption certificate",
	                   "KEYX", 1);
	assert_public_key(object(ctx, H_KEYX_PUB), st->keyx_cert, "Encryption key", "KEYX",
	                  P11U_KEY_ENCRYPTION, encrypting);
	assert_private_key(object(ctx, H_KEYX_PRIV), st->keyx_cert, "Encryption key", "KEYX",
	                   P11U_KEY_ENCRYPTION, encrypting);
}

static void test_ca_certificates(void **ctx)
{
	struct state *st = *ctx;

	assert_certificate(object(ctx, H_CA_CERT), st->ca_cert, "Issuing CA certificate", "CACert",
	                   2);
	assert_certificate(object(ctx, H_ROOT_CERT), st->root_cert, "Root CA certificate",
	                   "ROOTCACert", 2);
}

static void test_status_object(void **ctx)
{
	const struct p11u_object *obj = object(ctx, H_STATUS);
	char value[64];
	CK_ATTRIBUTE attr = {CKA_VALUE, value, sizeof(value)};

	assert_true(obj->is_status);
	assert_common(obj, CKO_DATA, false, "PIN status");
	assert_attr_string(obj, CKA_APPLICATION, "p11unlock");
	assert_attr_bytes(obj, CKA_OBJECT_ID, "", 0);

	p11u_status_value(2, 3, value, sizeof(value));
	assert_string_equal(value, "pin_tries=2 user_code_tries=3");

	/* CKA_VALUE is the caller's text, whatever it is at the time of the call */
	assert_int_equal(p11u_object_get_attributes(obj, &attr, 1, "pin_tries=2 user_code_tries=3"),
	                 CKR_OK);
	assert_int_equal(attr.ulValueLen, strlen("pin_tries=2 user_code_tries=3"));
	assert_memory_equal(value, "pin_tries=2 user_code_tries=3", attr.ulValueLen);
	attr.ulValueLen = sizeof(value);
	assert_int_equal(p11u_object_get_attributes(obj, &attr, 1, "pin_tries=0 user_code_tries=1"),
	                 CKR_OK);
	assert_memory_equal(value, "pin_tries=0 user_code_tries=1", attr.ulValueLen);
	/* other objects ignore it */
	assert_attr_invalid(object(ctx, H_SIGN_PUB), CKA_APPLICATION);
}

static void test_status_value_format(void **ctx)
{
	char small[10];
	char value[64];

	(void)ctx;
	p11u_status_value(0, 0, value, sizeof(value));
	assert_string_equal(value, "pin_tries=0 user_code_tries=0");
	p11u_status_value(3, 3, small, sizeof(small));
	assert_string_equal(small, "pin_tries");
}

/* Section 5.7: one call, one result per attribute, every attribute processed. */
static void test_get_attribute_rules(void **ctx)
{
	const struct p11u_object *priv = object(ctx, H_SIGN_PRIV);
	char label[32];
	uint8_t small[8];
	CK_OBJECT_CLASS class_value;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_LABEL, NULL, 0},                /* length query */
	    {CKA_PRIVATE_EXPONENT, NULL, 0},     /* sensitive */
	    {CKA_MODULUS, small, sizeof(small)}, /* too small */
	    {CKA_VALUE, label, sizeof(label)},   /* not an attribute of a key */
	};

	assert_int_equal(p11u_object_get_attributes(priv, tmpl, 4, NULL),
	                 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(tmpl[0].ulValueLen, strlen("Signature key"));
	assert_int_equal(tmpl[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(tmpl[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(tmpl[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	/* the last error is returned; valid attributes next to it are still copied */
	memset(label, 0, sizeof(label));
	tmpl[0] = (CK_ATTRIBUTE){CKA_LABEL, label, sizeof(label)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, small, sizeof(small)};
	tmpl[2] = (CK_ATTRIBUTE){CKA_CLASS, small, sizeof(small)};
	tmpl[3] = (CK_ATTRIBUTE){CKA_MODULUS, small, sizeof(small)};
	assert_int_equal(p11u_object_get_attributes(priv, tmpl, 4, NULL), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(tmpl[0].ulValueLen, strlen("Signature key"));
	assert_memory_equal(label, "Signature key", strlen("Signature key"));
	assert_int_equal(tmpl[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(tmpl[2].ulValueLen, sizeof(CK_OBJECT_CLASS));
	memcpy(&class_value, small, sizeof(class_value));
	assert_int_equal(class_value, CKO_PRIVATE_KEY);
	assert_int_equal(tmpl[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	tmpl[0] = (CK_ATTRIBUTE){CKA_MODULUS, small, sizeof(small)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_LABEL, label, sizeof(label)};
	tmpl[2] = (CK_ATTRIBUTE){CKA_PRIME_1, NULL, 0};
	assert_int_equal(p11u_object_get_attributes(priv, tmpl, 3, NULL), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(tmpl[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(tmpl[1].ulValueLen, strlen("Signature key"));
	assert_int_equal(tmpl[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	/* a buffer of exactly the length is enough */
	tmpl[0] = (CK_ATTRIBUTE){CKA_LABEL, label, strlen("Signature key")};
	assert_int_equal(p11u_object_get_attributes(priv, tmpl, 1, NULL), CKR_OK);
	assert_int_equal(tmpl[0].ulValueLen, strlen("Signature key"));
	tmpl[0].ulValueLen = strlen("Signature key") - 1;
	assert_int_equal(p11u_object_get_attributes(priv, tmpl, 1, NULL), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(tmpl[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	/* an empty template asks nothing */
	assert_int_equal(p11u_object_get_attributes(priv, NULL, 0, NULL), CKR_OK);
}

/* Handles of the objects a template matches, in table order. */
static size_t find(void **ctx, CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *found)
{
	struct state *st = *ctx;
	size_t n = 0;

	for (size_t i = 0; i < st->table.count; i++) {
		if (p11u_object_matches(&st->table.objects[i], tmpl, count))
			found[n++] = st->table.objects[i].handle;
	}
	return n;
}

static void test_find(void **ctx)
{
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, cert_class = CKO_CERTIFICATE;
	CK_OBJECT_CLASS data_class = CKO_DATA;
	CK_ULONG short_class = CKO_CERTIFICATE;
	CK_BBOOL yes = CK_TRUE;
	CK_OBJECT_HANDLE found[16];
	CK_ATTRIBUTE tmpl[2];

	assert_int_equal(find(ctx, NULL, 0, found), 9);

	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &priv_class, sizeof(priv_class)};
	assert_int_equal(find(ctx, tmpl, 1, found), 2);
	assert_int_equal(found[0], H_SIGN_PRIV);
	assert_int_equal(found[1], H_KEYX_PRIV);

	tmpl[1] = (CK_ATTRIBUTE){CKA_ID, "KEYX", 4};
	assert_int_equal(find(ctx, tmpl, 2, found), 1);
	assert_int_equal(found[0], H_KEYX_PRIV);

	assert_int_equal(find(ctx, tmpl + 1, 1, found), 3);
	assert_int_equal(found[0], H_KEYX_CERT);
	assert_int_equal(found[1], H_KEYX_PUB);
	assert_int_equal(found[2], H_KEYX_PRIV);

	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cert_class, sizeof(cert_class)};
	assert_int_equal(find(ctx, tmpl, 1, found), 4);
	tmpl[1] = (CK_ATTRIBUTE){CKA_ID, "ROOTCACert", 10};
	assert_int_equal(find(ctx, tmpl, 2, found), 1);
	assert_int_equal(found[0], H_ROOT_CERT);

	tmpl[0] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
	assert_int_equal(find(ctx, tmpl, 1, found), 1);
	assert_int_equal(found[0], H_SIGN_PRIV);

	/* exact bytes: a prefix, a different length or a sensitive attribute never matches */
	tmpl[0] = (CK_ATTRIBUTE){CKA_LABEL, "Signature", 9};
	assert_int_equal(find(ctx, tmpl, 1, found), 0);
	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &short_class, sizeof(short_class) - 1};
	assert_int_equal(find(ctx, tmpl, 1, found), 0);
	tmpl[0] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, "", 0};
	assert_int_equal(find(ctx, tmpl, 1, found), 0);
	tmpl[0] = (CK_ATTRIBUTE){CKA_LABEL, NULL, 13};
	assert_int_equal(find(ctx, tmpl, 1, found), 0);

	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &data_class, sizeof(data_class)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_APPLICATION, "p11unlock", 9};
	assert_int_equal(find(ctx, tmpl, 2, found), 1);
	assert_int_equal(found[0], H_STATUS);
	/* the status object's value changes: it is never a search criterion */
	tmpl[1] = (CK_ATTRIBUTE){CKA_VALUE, "", 0};
	assert_int_equal(find(ctx, tmpl, 2, found), 0);
}

/* A real HiCOS card's token: no private keys, no status object; the others keep their handles. */
static void test_public_only(void **ctx)
{
	struct state *st = *ctx;
	struct p11u_object_options opts = {.private_keys = false, .status_object = false};
	static const CK_OBJECT_HANDLE expected[] = {H_SIGN_CERT, H_SIGN_PUB, H_KEYX_CERT,
	                                            H_KEYX_PUB,  H_CA_CERT,  H_ROOT_CERT};
	struct p11u_object_table table;

	assert_int_equal(p11u_objects_build(p11u_card_info(st->fx.card), &opts, &table), CKR_OK);
	assert_int_equal(table.count, 6);
	for (size_t i = 0; i < table.count; i++) {
		assert_int_equal(table.objects[i].handle, expected[i]);
		assert_false(table.objects[i].is_private);
	}
	p11u_objects_free(&table);
	assert_null(table.objects);
	assert_int_equal(table.count, 0);
}

/* Empty slots are skipped, and so is a slot whose certificate does not parse. */
static void test_empty_and_bad_slots(void **ctx)
{
	struct state *st = *ctx;
	struct p11u_card_info info = *p11u_card_info(st->fx.card);
	uint8_t garbage[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00};
	struct p11u_object_table table;

	info.certs[P11U_CERT_ENCRYPTION] = (struct p11u_card_cert){NULL, 0};
	info.certs[P11U_CERT_ROOT_CA] = (struct p11u_card_cert){garbage, sizeof(garbage)};
	assert_int_equal(p11u_objects_build(&info, &all_objects, &table), CKR_OK);
	assert_int_equal(table.count, 5);
	assert_non_null(p11u_objects_by_handle(&table, H_SIGN_PRIV));
	assert_null(p11u_objects_by_handle(&table, H_KEYX_CERT));
	assert_null(p11u_objects_by_handle(&table, H_KEYX_PRIV));
	assert_non_null(p11u_objects_by_handle(&table, H_CA_CERT));
	assert_null(p11u_objects_by_handle(&table, H_ROOT_CERT));
	assert_non_null(p11u_objects_by_handle(&table, H_STATUS));
	p11u_objects_free(&table);
}

static void test_object_size(void **ctx)
{
	const struct p11u_object *priv = object(ctx, H_SIGN_PRIV);
	const struct p11u_object *status = object(ctx, H_STATUS);

	/* at least the modulus, and nothing for the sensitive parts */
	assert_true(p11u_object_size(priv) > 256);
	assert_true(p11u_object_size(priv) < 4096);
	assert_true(p11u_object_size(status) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handles),
	    cmocka_unit_test(test_signature_objects),
	    cmocka_unit_test(test_encryption_objects),
	    cmocka_unit_test(test_ca_certificates),
	    cmocka_unit_test(test_status_object),
	    cmocka_unit_test(test_status_value_format),
	    cmocka_unit_test(test_get_attribute_rules),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_public_only),
	    cmocka_unit_test(test_empty_and_bad_slots),
	    cmocka_unit_test(test_object_size),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
