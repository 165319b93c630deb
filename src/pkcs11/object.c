#include "config.h"

#include "pkcs11/object.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/log.h"

/* Every object has a fixed handle, whatever else the card holds: a handle seen in a
 * debug log always names the same object, and a later card with an empty slot does
 * not shift the others. */
enum {
	HANDLE_SIGNATURE_CERT = 1,
	HANDLE_SIGNATURE_PUBLIC_KEY,
	HANDLE_SIGNATURE_PRIVATE_KEY,
	HANDLE_ENCRYPTION_CERT,
	HANDLE_ENCRYPTION_PUBLIC_KEY,
	HANDLE_ENCRYPTION_PRIVATE_KEY,
	HANDLE_ISSUING_CA_CERT,
	HANDLE_ROOT_CA_CERT,
	HANDLE_STATUS,
	HANDLE_LAST = HANDLE_STATUS
};

/* What each certificate slot becomes. */
struct slot_desc {
	enum p11u_cert_slot slot;
	const char *id; /* CKA_ID, as real cards use */
	const char *cert_label;
	const char *key_label; /* NULL: a CA certificate, no keys */
	enum p11u_keyref keyref;
	CK_OBJECT_HANDLE cert_handle; /* the keys follow: public, then private */
};

static const struct slot_desc slot_descs[] = {
    {P11U_CERT_SIGNATURE, "SIGN", "Signature certificate", "Signature key", P11U_KEY_SIGNATURE,
     HANDLE_SIGNATURE_CERT},
    {P11U_CERT_ENCRYPTION, "KEYX", "Encryption certificate", "Encryption key", P11U_KEY_ENCRYPTION,
     HANDLE_ENCRYPTION_CERT},
    {P11U_CERT_ISSUING_CA, "CACert", "Issuing CA certificate", NULL, 0, HANDLE_ISSUING_CA_CERT},
    {P11U_CERT_ROOT_CA, "ROOTCACert", "Root CA certificate", NULL, 0, HANDLE_ROOT_CA_CERT},
};

#define STATUS_APPLICATION "p11unlock"
#define STATUS_LABEL       "PIN status"

/* CKA_CERTIFICATE_CATEGORY values (PKCS#11 2.40 section 4.6.2). */
#define CERT_CATEGORY_TOKEN_USER 1
#define CERT_CATEGORY_AUTHORITY  2

/* ---- attribute lists under construction ---- */

struct attr_list {
	CK_ATTRIBUTE *attrs;
	size_t count;
	size_t capacity;
	bool failed; /* out of memory: the list is dropped */
};

static void attrs_free(CK_ATTRIBUTE *attrs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(attrs[i].pValue);
	free(attrs);
}

static bool attr_list_reserve(struct attr_list *list)
{
	if (list->count < list->capacity)
		return true;
	size_t capacity = list->capacity ? list->capacity * 2 : 32;
	CK_ATTRIBUTE *attrs = realloc(list->attrs, capacity * sizeof(*attrs));
	if (attrs == NULL)
		return false;
	list->attrs = attrs;
	list->capacity = capacity;
	return true;
}

static void attr_add(struct attr_list *list, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
	void *copy = NULL;

	if (list->failed)
		return;
	if (!attr_list_reserve(list)) {
		list->failed = true;
		return;
	}
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL) {
			list->failed = true;
			return;
		}
		memcpy(copy, value, len);
	}
	list->attrs[list->count++] = (CK_ATTRIBUTE){type, copy, len};
}

static void attr_add_bool(struct attr_list *list, CK_ATTRIBUTE_TYPE type, bool value)
{
	CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
	attr_add(list, type, &b, sizeof(b));
}

static void attr_add_ulong(struct attr_list *list, CK_ATTRIBUTE_TYPE type, CK_ULONG value)
{
	attr_add(list, type, &value, sizeof(value));
}

static void attr_add_string(struct attr_list *list, CK_ATTRIBUTE_TYPE type, const char *value)
{
	attr_add(list, type, value, strlen(value));
}

/* Private key material: the attribute exists, its value never leaves the card. */
static void attr_add_sensitive(struct attr_list *list, CK_ATTRIBUTE_TYPE type)
{
	if (list->failed)
		return;
	if (!attr_list_reserve(list)) {
		list->failed = true;
		return;
	}
	list->attrs[list->count++] = (CK_ATTRIBUTE){type, NULL, CK_UNAVAILABLE_INFORMATION};
}

static bool attr_is_sensitive(const CK_ATTRIBUTE *attr)
{
	return attr->pValue == NULL && attr->ulValueLen == CK_UNAVAILABLE_INFORMATION;
}

/* Takes the result of an OpenSSL i2d_* call (len, der) and frees der. */
static void attr_add_der(struct attr_list *list, CK_ATTRIBUTE_TYPE type, unsigned char *der,
                         int len)
{
	if (der == NULL || len <= 0)
		list->failed = true;
	else
		attr_add(list, type, der, (size_t)len);
	OPENSSL_free(der);
}

static void attr_add_bignum(struct attr_list *list, CK_ATTRIBUTE_TYPE type, const EVP_PKEY *pkey,
                            const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char *bytes = NULL;
	int len;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn)) {
		list->failed = true;
		return;
	}
	len = BN_num_bytes(bn);
	bytes = OPENSSL_malloc(len > 0 ? (size_t)len : 1);
	if (bytes != NULL)
		len = BN_bn2bin(bn, bytes);
	attr_add_der(list, type, bytes, len);
	BN_free(bn);
}

/* CK_DATE from an X.509 time: "YYYYMMDD" in ASCII. */
static void attr_add_date(struct attr_list *list, CK_ATTRIBUTE_TYPE type, const ASN1_TIME *time)
{
	struct tm tm;
	char text[32];
	CK_DATE date;

	if (time == NULL || !ASN1_TIME_to_tm(time, &tm) ||
	    snprintf(text, sizeof(text), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
	             tm.tm_mday) != 8) {
		list->failed = true;
		return;
	}
	memcpy(date.year, text, 4);
	memcpy(date.month, text + 4, 2);
	memcpy(date.day, text + 6, 2);
	attr_add(list, type, &date, sizeof(date));
}

/* ---- objects ---- */

struct object_builder {
	struct p11u_object_table *table;
	bool failed;
};

/* The attributes every object of this token has. */
static void attr_add_common(struct attr_list *list, CK_OBJECT_CLASS class, bool is_private,
                            const char *label)
{
	attr_add_ulong(list, CKA_CLASS, class);
	attr_add_bool(list, CKA_TOKEN, true);
	attr_add_bool(list, CKA_PRIVATE, is_private);
	attr_add_bool(list, CKA_MODIFIABLE, false);
	attr_add_bool(list, CKA_COPYABLE, false);
	attr_add_bool(list, CKA_DESTROYABLE, false);
	attr_add_string(list, CKA_LABEL, label);
}

/* Moves the list into the next object of the table (the table has room for every handle). */
static void object_add(struct object_builder *builder, struct attr_list *list,
                       const struct p11u_object *proto)
{
	struct p11u_object *obj;

	if (list->failed) {
		attrs_free(list->attrs, list->count);
		builder->failed = true;
		return;
	}
	obj = &builder->table->objects[builder->table->count++];
	*obj = *proto;
	obj->attrs = list->attrs;
	obj->n_attrs = list->count;
}

/* A parsed certificate slot. */
struct cert {
	X509 *x509;
	EVP_PKEY *pkey;     /* owned by x509 */
	const uint8_t *der; /* the certificate's exact DER */
	size_t der_len;
	uint32_t key_usage; /* X509v3 KU_* bits; UINT32_MAX without the extension */
};

static bool cert_parse(const struct p11u_card_cert *slot_cert, struct cert *cert)
{
	const unsigned char *p = slot_cert->der;
	struct tm tm;
	bool ok;

	if (slot_cert->len > LONG_MAX)
		return false;
	/* A bad certificate is logged and skipped: leave OpenSSL's error queue, which may be the
	 * application's, as it was. */
	ERR_set_mark();
	cert->x509 = d2i_X509(NULL, &p, (long)slot_cert->len);
	ok = cert->x509 != NULL && (cert->pkey = X509_get0_pubkey(cert->x509)) != NULL &&
	     /* d2i does not check the text of the times CKA_START_DATE / END_DATE need */
	     ASN1_TIME_to_tm(X509_get0_notBefore(cert->x509), &tm) &&
	     ASN1_TIME_to_tm(X509_get0_notAfter(cert->x509), &tm);
	ERR_pop_to_mark();
	if (!ok) {
		X509_free(cert->x509);
		return false;
	}
	/* The slot may be longer than the certificate: CKA_VALUE is what d2i consumed. */
	cert->der = slot_cert->der;
	cert->der_len = (size_t)(p - slot_cert->der);
	cert->key_usage = X509_get_key_usage(cert->x509);
	return true;
}

static void attr_add_public_key_info(struct attr_list *list, const struct cert *cert)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(cert->pkey, &der);
	attr_add_der(list, CKA_PUBLIC_KEY_INFO, der, len);
}

static void attr_add_subject(struct attr_list *list, const struct cert *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(X509_get_subject_name(cert->x509), &der);
	attr_add_der(list, CKA_SUBJECT, der, len);
}

/* CKA_CHECK_VALUE of a certificate: the first three bytes of the SHA-1 of CKA_VALUE. */
static void attr_add_check_value(struct attr_list *list, const struct cert *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(cert->der, cert->der_len, md, &md_len, EVP_sha1(), NULL) || md_len < 3) {
		list->failed = true;
		return;
	}
	attr_add(list, CKA_CHECK_VALUE, md, 3);
}

static void add_certificate(struct object_builder *builder, const struct slot_desc *desc,
                            const struct cert *cert)
{
	struct attr_list list = {0};
	unsigned char *der = NULL;
	int len;

	attr_add_common(&list, CKO_CERTIFICATE, false, desc->cert_label);
	attr_add_ulong(&list, CKA_CERTIFICATE_TYPE, CKC_X_509);
	attr_add_bool(&list, CKA_TRUSTED, false);
	attr_add_ulong(&list, CKA_CERTIFICATE_CATEGORY,
	               desc->key_label ? CERT_CATEGORY_TOKEN_USER : CERT_CATEGORY_AUTHORITY);
	attr_add_check_value(&list, cert);
	attr_add_date(&list, CKA_START_DATE, X509_get0_notBefore(cert->x509));
	attr_add_date(&list, CKA_END_DATE, X509_get0_notAfter(cert->x509));
	attr_add_public_key_info(&list, cert);
	attr_add_subject(&list, cert);
	attr_add_string(&list, CKA_ID, desc->id);
	len = i2d_X509_NAME(X509_get_issuer_name(cert->x509), &der);
	attr_add_der(&list, CKA_ISSUER, der, len);
	der = NULL;
	len = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert->x509), &der);
	attr_add_der(&list, CKA_SERIAL_NUMBER, der, len);
	attr_add(&list, CKA_VALUE, cert->der, cert->der_len);
	attr_add(&list, CKA_URL, NULL, 0);
	attr_add(&list, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, NULL, 0);
	attr_add(&list, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0);
	attr_add_ulong(&list, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);

	object_add(builder, &list,
	           &(struct p11u_object){.handle = desc->cert_handle, .class = CKO_CERTIFICATE});
}

/* What a key may do: the slot's role, narrowed by the certificate's key usage. */
struct key_usage {
	bool sign;
	bool decrypt;
	bool unwrap;
};

static struct key_usage key_usage_of(const struct slot_desc *desc, const struct cert *cert)
{
	uint32_t ku = cert->key_usage;
	struct key_usage usage = {false, false, false};

	if (desc->keyref == P11U_KEY_SIGNATURE) {
		usage.sign = (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
	} else {
		usage.decrypt = (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT)) != 0;
		usage.unwrap = (ku & KU_KEY_ENCIPHERMENT) != 0;
	}
	return usage;
}

/* Attributes public and private RSA keys share. */
static void attr_add_key_common(struct attr_list *list, const struct slot_desc *desc,
                                const struct cert *cert)
{
	attr_add_ulong(list, CKA_KEY_TYPE, CKK_RSA);
	attr_add_string(list, CKA_ID, desc->id);
	attr_add(list, CKA_START_DATE, NULL, 0);
	attr_add(list, CKA_END_DATE, NULL, 0);
	attr_add_bool(list, CKA_DERIVE, false);
	attr_add_bool(list, CKA_LOCAL, false);
	attr_add_ulong(list, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	attr_add_subject(list, cert);
	attr_add_public_key_info(list, cert);
	attr_add_bignum(list, CKA_MODULUS, cert->pkey, OSSL_PKEY_PARAM_RSA_N);
	attr_add_ulong(list, CKA_MODULUS_BITS, (CK_ULONG)EVP_PKEY_get_bits(cert->pkey));
	attr_add_bignum(list, CKA_PUBLIC_EXPONENT, cert->pkey, OSSL_PKEY_PARAM_RSA_E);
}

static void add_public_key(struct object_builder *builder, const struct slot_desc *desc,
                           const struct cert *cert, struct key_usage usage)
{
	struct attr_list list = {0};

	attr_add_common(&list, CKO_PUBLIC_KEY, false, desc->key_label);
	attr_add_key_common(&list, desc, cert);
	attr_add_bool(&list, CKA_ENCRYPT, usage.decrypt);
	attr_add_bool(&list, CKA_VERIFY, usage.sign);
	attr_add_bool(&list, CKA_VERIFY_RECOVER, false);
	attr_add_bool(&list, CKA_WRAP, usage.unwrap);
	attr_add_bool(&list, CKA_TRUSTED, false);

	object_add(builder, &list,
	           &(struct p11u_object){.handle = desc->cert_handle + 1,
	                                 .class = CKO_PUBLIC_KEY,
	                                 .keyref = desc->keyref,
	                                 .modulus_bits = (CK_ULONG)EVP_PKEY_get_bits(cert->pkey)});
}

static void add_private_key(struct object_builder *builder, const struct slot_desc *desc,
                            const struct cert *cert, struct key_usage usage)
{
	static const CK_ATTRIBUTE_TYPE secret_parts[] = {
	    CKA_PRIVATE_EXPONENT, CKA_PRIME_1,    CKA_PRIME_2,
	    CKA_EXPONENT_1,       CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	struct attr_list list = {0};

	attr_add_common(&list, CKO_PRIVATE_KEY, true, desc->key_label);
	attr_add_key_common(&list, desc, cert);
	attr_add_bool(&list, CKA_SENSITIVE, true);
	attr_add_bool(&list, CKA_DECRYPT, usage.decrypt);
	attr_add_bool(&list, CKA_SIGN, usage.sign);
	attr_add_bool(&list, CKA_SIGN_RECOVER, false);
	attr_add_bool(&list, CKA_UNWRAP, usage.unwrap);
	attr_add_bool(&list, CKA_EXTRACTABLE, false);
	attr_add_bool(&list, CKA_ALWAYS_SENSITIVE, true);
	attr_add_bool(&list, CKA_NEVER_EXTRACTABLE, true);
	attr_add_bool(&list, CKA_WRAP_WITH_TRUSTED, false);
	attr_add_bool(&list, CKA_ALWAYS_AUTHENTICATE, false);
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		attr_add_sensitive(&list, secret_parts[i]);

	object_add(builder, &list,
	           &(struct p11u_object){.handle = desc->cert_handle + 2,
	                                 .class = CKO_PRIVATE_KEY,
	                                 .is_private = true,
	                                 .keyref = desc->keyref,
	                                 .modulus_bits = (CK_ULONG)EVP_PKEY_get_bits(cert->pkey)});
}

static void add_status_object(struct object_builder *builder)
{
	struct attr_list list = {0};

	attr_add_common(&list, CKO_DATA, false, STATUS_LABEL);
	attr_add_string(&list, CKA_APPLICATION, STATUS_APPLICATION);
	attr_add(&list, CKA_OBJECT_ID, NULL, 0);
	/* CKA_VALUE is not stored: p11u_object_get_attributes serves the caller's fresh text. */

	object_add(
	    builder, &list,
	    &(struct p11u_object){.handle = HANDLE_STATUS, .class = CKO_DATA, .is_status = true});
}

static void add_slot_objects(struct object_builder *builder, const struct slot_desc *desc,
                             const struct p11u_card_cert *slot_cert,
                             const struct p11u_object_options *opts)
{
	struct cert cert = {0};

	if (slot_cert->der == NULL || slot_cert->len == 0)
		return;
	if (!cert_parse(slot_cert, &cert)) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: %s does not parse, skipped", desc->cert_label);
		return;
	}
	if (desc->key_label != NULL && EVP_PKEY_get_base_id(cert.pkey) != EVP_PKEY_RSA) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: %s has no RSA key, skipped", desc->cert_label);
		X509_free(cert.x509);
		return;
	}

	add_certificate(builder, desc, &cert);
	if (desc->key_label != NULL) {
		struct key_usage usage = key_usage_of(desc, &cert);
		add_public_key(builder, desc, &cert, usage);
		if (opts->private_keys)
			add_private_key(builder, desc, &cert, usage);
	}
	X509_free(cert.x509);
}

CK_RV p11u_objects_build(const struct p11u_card_info *info, const struct p11u_object_options *opts,
                         struct p11u_object_table *table)
{
	struct object_builder builder = {.table = table};

	if (info == NULL || opts == NULL || table == NULL)
		return CKR_ARGUMENTS_BAD;
	table->count = 0;
	table->objects = calloc(HANDLE_LAST, sizeof(*table->objects));
	if (table->objects == NULL)
		return CKR_HOST_MEMORY;

	for (size_t i = 0; i < sizeof(slot_descs) / sizeof(slot_descs[0]); i++)
		add_slot_objects(&builder, &slot_descs[i], &info->certs[slot_descs[i].slot], opts);
	if (opts->status_object)
		add_status_object(&builder);

	if (builder.failed) {
		p11u_objects_free(table);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

void p11u_objects_free(struct p11u_object_table *table)
{
	if (table == NULL)
		return;
	for (size_t i = 0; i < table->count; i++)
		attrs_free(table->objects[i].attrs, table->objects[i].n_attrs);
	free(table->objects);
	table->objects = NULL;
	table->count = 0;
}

const struct p11u_object *p11u_objects_by_handle(const struct p11u_object_table *table,
                                                 CK_OBJECT_HANDLE handle)
{
	if (table == NULL)
		return NULL;
	for (size_t i = 0; i < table->count; i++) {
		if (table->objects[i].handle == handle)
			return &table->objects[i];
	}
	return NULL;
}

static const CK_ATTRIBUTE *object_attr(const struct p11u_object *obj, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < obj->n_attrs; i++) {
		if (obj->attrs[i].type == type)
			return &obj->attrs[i];
	}
	return NULL;
}

bool p11u_object_matches(const struct p11u_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	for (CK_ULONG i = 0; i < count; i++) {
		const CK_ATTRIBUTE *attr = object_attr(obj, tmpl[i].type);

		/* The status object's CKA_VALUE is not stored, so it never matches. */
		if (attr == NULL || attr_is_sensitive(attr))
			return false;
		if (attr->ulValueLen != tmpl[i].ulValueLen)
			return false;
		if (attr->ulValueLen > 0 &&
		    (tmpl[i].pValue == NULL ||
		     memcmp(attr->pValue, tmpl[i].pValue, attr->ulValueLen)))
			return false;
	}
	return true;
}

/* One attribute of C_GetAttributeValue: copies value/len into *out per section 5.7. */
static CK_RV get_one(CK_ATTRIBUTE *out, const void *value, CK_ULONG len)
{
	if (out->pValue == NULL) {
		out->ulValueLen = len;
		return CKR_OK;
	}
	if (out->ulValueLen < len) {
		out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (len > 0)
		memcpy(out->pValue, value, len);
	out->ulValueLen = len;
	return CKR_OK;
}

CK_RV p11u_object_get_attributes(const struct p11u_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG count,
                                 const char *status_value)
{
	CK_RV result = CKR_OK;

	for (CK_ULONG i = 0; i < count; i++) {
		CK_ATTRIBUTE *out = &tmpl[i];
		const CK_ATTRIBUTE *attr;
		CK_RV rv;

		if (obj->is_status && out->type == CKA_VALUE) {
			const char *text = status_value ? status_value : "";
			rv = get_one(out, text, strlen(text));
		} else if ((attr = object_attr(obj, out->type)) == NULL) {
			out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (attr_is_sensitive(attr)) {
			out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
		} else {
			rv = get_one(out, attr->pValue, attr->ulValueLen);
		}
		if (rv != CKR_OK)
			result = rv;
	}
	return result;
}

CK_ULONG p11u_object_size(const struct p11u_object *obj)
{
	CK_ULONG size = 0;

	for (size_t i = 0; i < obj->n_attrs; i++) {
		if (!attr_is_sensitive(&obj->attrs[i]))
			size += sizeof(CK_ATTRIBUTE) + obj->attrs[i].ulValueLen;
	}
	return size;
}

void p11u_status_value(int pin_tries, int user_code_tries, char *out, size_t out_size)
{
	if (out == NULL || out_size == 0)
		return;
	snprintf(out, out_size, "pin_tries=%d user_code_tries=%d", pin_tries, user_code_tries);
}
