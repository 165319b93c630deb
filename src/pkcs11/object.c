/* Token objects: the fixed layout of the test card (certificate slots of EF 08F2) and the
 * attribute lists, adders and lookups every layout shares (object-int.h); object-dir.c builds
 * a real card's objects from its directory records. */
#include "config.h"

#include "pkcs11/object.h"
#include "pkcs11/object-int.h"

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

static void attrs_free(CK_ATTRIBUTE *attrs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(attrs[i].pValue);
	free(attrs);
}

static bool attr_list_reserve(struct p11u_attr_list *list)
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

void p11u_attr_add(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
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

void p11u_attr_add_bool(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, bool value)
{
	CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
	p11u_attr_add(list, type, &b, sizeof(b));
}

void p11u_attr_add_ulong(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, CK_ULONG value)
{
	p11u_attr_add(list, type, &value, sizeof(value));
}

void p11u_attr_add_string(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const char *value)
{
	p11u_attr_add(list, type, value, strlen(value));
}

/* Private key material: the attribute exists, its value never leaves the card. */
static void attr_add_sensitive(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type)
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
static void attr_add_der(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, unsigned char *der,
                         int len)
{
	if (der == NULL || len <= 0)
		list->failed = true;
	else
		p11u_attr_add(list, type, der, (size_t)len);
	OPENSSL_free(der);
}

static void attr_add_bignum(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const EVP_PKEY *pkey,
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
static void attr_add_date(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const ASN1_TIME *time)
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
	p11u_attr_add(list, type, &date, sizeof(date));
}

/* ---- objects ---- */

/* The attributes every object of this token has. */
void p11u_attr_add_common(struct p11u_attr_list *list, CK_OBJECT_CLASS class, bool is_private,
                          const char *label)
{
	p11u_attr_add_ulong(list, CKA_CLASS, class);
	p11u_attr_add_bool(list, CKA_TOKEN, true);
	p11u_attr_add_bool(list, CKA_PRIVATE, is_private);
	p11u_attr_add_bool(list, CKA_MODIFIABLE, false);
	p11u_attr_add_bool(list, CKA_COPYABLE, false);
	p11u_attr_add_bool(list, CKA_DESTROYABLE, false);
	p11u_attr_add_string(list, CKA_LABEL, label);
}

void p11u_object_add(struct p11u_object_builder *builder, struct p11u_attr_list *list,
                     const struct p11u_object *proto)
{
	struct p11u_object *obj;

	if (list->failed || builder->table->count >= builder->capacity) {
		attrs_free(list->attrs, list->count);
		builder->failed = true;
		return;
	}
	obj = &builder->table->objects[builder->table->count++];
	*obj = *proto;
	obj->attrs = list->attrs;
	obj->n_attrs = list->count;
}

/* A parsed certificate. */
struct cert {
	X509 *x509;
	EVP_PKEY *pkey;     /* owned by x509 */
	const uint8_t *der; /* the certificate's exact DER */
	size_t der_len;
	uint32_t key_usage; /* X509v3 KU_* bits; UINT32_MAX without the extension */
};

static bool cert_parse(const uint8_t *der, size_t len, struct cert *cert)
{
	const unsigned char *p = der;
	struct tm tm;
	bool ok;

	if (der == NULL || len == 0 || len > LONG_MAX)
		return false;
	/* A bad certificate is logged and skipped: leave OpenSSL's error queue, which may be the
	 * application's, as it was. */
	ERR_set_mark();
	cert->x509 = d2i_X509(NULL, &p, (long)len);
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
	cert->der = der;
	cert->der_len = (size_t)(p - der);
	cert->key_usage = X509_get_key_usage(cert->x509);
	return true;
}

static void attr_add_public_key_info(struct p11u_attr_list *list, const EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pkey, &der);
	attr_add_der(list, CKA_PUBLIC_KEY_INFO, der, len);
}

/* CKA_SUBJECT: the DER name, or empty without one. */
static void attr_add_subject(struct p11u_attr_list *list, const X509_NAME *subject)
{
	unsigned char *der = NULL;
	int len;

	if (subject == NULL) {
		p11u_attr_add(list, CKA_SUBJECT, NULL, 0);
		return;
	}
	len = i2d_X509_NAME(subject, &der);
	attr_add_der(list, CKA_SUBJECT, der, len);
}

/* CKA_CHECK_VALUE of a certificate: the first three bytes of the SHA-1 of CKA_VALUE. */
static void attr_add_check_value(struct p11u_attr_list *list, const struct cert *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(cert->der, cert->der_len, md, &md_len, EVP_sha1(), NULL) || md_len < 3) {
		list->failed = true;
		return;
	}
	p11u_attr_add(list, CKA_CHECK_VALUE, md, 3);
}

static void add_certificate(struct p11u_object_builder *builder,
                            const struct p11u_object_name *name, bool authority,
                            const struct cert *cert)
{
	struct p11u_attr_list list = {0};
	unsigned char *der = NULL;
	int len;

	p11u_attr_add_common(&list, CKO_CERTIFICATE, false, name->label);
	p11u_attr_add_ulong(&list, CKA_CERTIFICATE_TYPE, CKC_X_509);
	p11u_attr_add_bool(&list, CKA_TRUSTED, false);
	p11u_attr_add_ulong(&list, CKA_CERTIFICATE_CATEGORY,
	                    authority ? CERT_CATEGORY_AUTHORITY : CERT_CATEGORY_TOKEN_USER);
	attr_add_check_value(&list, cert);
	attr_add_date(&list, CKA_START_DATE, X509_get0_notBefore(cert->x509));
	attr_add_date(&list, CKA_END_DATE, X509_get0_notAfter(cert->x509));
	attr_add_public_key_info(&list, cert->pkey);
	attr_add_subject(&list, X509_get_subject_name(cert->x509));
	p11u_attr_add(&list, CKA_ID, name->id, name->id_len);
	len = i2d_X509_NAME(X509_get_issuer_name(cert->x509), &der);
	attr_add_der(&list, CKA_ISSUER, der, len);
	der = NULL;
	len = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert->x509), &der);
	attr_add_der(&list, CKA_SERIAL_NUMBER, der, len);
	p11u_attr_add(&list, CKA_VALUE, cert->der, cert->der_len);
	p11u_attr_add(&list, CKA_URL, NULL, 0);
	p11u_attr_add(&list, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, NULL, 0);
	p11u_attr_add(&list, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0);
	p11u_attr_add_ulong(&list, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);

	p11u_object_add(builder, &list,
	                &(struct p11u_object){.handle = name->handle, .class = CKO_CERTIFICATE});
}

bool p11u_object_add_certificate(struct p11u_object_builder *builder,
                                 const struct p11u_object_name *name, bool authority,
                                 const uint8_t *der, size_t len)
{
	struct cert cert = {0};

	if (!cert_parse(der, len, &cert))
		return false;
	add_certificate(builder, name, authority, &cert);
	X509_free(cert.x509);
	return true;
}

/* What a fixed-layout key may do: the slot's role, narrowed by the certificate's key usage. */
static struct p11u_key_functions key_usage_of(const struct slot_desc *desc, const struct cert *cert)
{
	uint32_t ku = cert->key_usage;
	struct p11u_key_functions usage = {false, false, false};

	if (desc->keyref == P11U_KEY_SIGNATURE) {
		usage.sign = (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
	} else {
		usage.decrypt = (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT)) != 0;
		usage.unwrap = (ku & KU_KEY_ENCIPHERMENT) != 0;
	}
	return usage;
}

/* Attributes public and private RSA keys share. */
static void attr_add_key_common(struct p11u_attr_list *list, const struct p11u_object_name *name,
                                const EVP_PKEY *pkey, const X509_NAME *subject)
{
	p11u_attr_add_ulong(list, CKA_KEY_TYPE, CKK_RSA);
	p11u_attr_add(list, CKA_ID, name->id, name->id_len);
	p11u_attr_add(list, CKA_START_DATE, NULL, 0);
	p11u_attr_add(list, CKA_END_DATE, NULL, 0);
	p11u_attr_add_bool(list, CKA_DERIVE, false);
	p11u_attr_add_bool(list, CKA_LOCAL, false);
	p11u_attr_add_ulong(list, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	attr_add_subject(list, subject);
	attr_add_public_key_info(list, pkey);
	attr_add_bignum(list, CKA_MODULUS, pkey, OSSL_PKEY_PARAM_RSA_N);
	p11u_attr_add_ulong(list, CKA_MODULUS_BITS, (CK_ULONG)EVP_PKEY_get_bits(pkey));
	attr_add_bignum(list, CKA_PUBLIC_EXPONENT, pkey, OSSL_PKEY_PARAM_RSA_E);
}

static void add_public_key(struct p11u_object_builder *builder,
                           const struct p11u_object_name *name, const EVP_PKEY *pkey,
                           const X509_NAME *subject, struct p11u_key_functions usage,
                           enum p11u_keyref keyref)
{
	struct p11u_attr_list list = {0};

	p11u_attr_add_common(&list, CKO_PUBLIC_KEY, false, name->label);
	attr_add_key_common(&list, name, pkey, subject);
	p11u_attr_add_bool(&list, CKA_ENCRYPT, usage.decrypt);
	p11u_attr_add_bool(&list, CKA_VERIFY, usage.sign);
	p11u_attr_add_bool(&list, CKA_VERIFY_RECOVER, false);
	p11u_attr_add_bool(&list, CKA_WRAP, usage.unwrap);
	p11u_attr_add_bool(&list, CKA_TRUSTED, false);

	p11u_object_add(builder, &list,
	                &(struct p11u_object){.handle = name->handle,
	                                      .class = CKO_PUBLIC_KEY,
	                                      .keyref = keyref,
	                                      .modulus_bits = (CK_ULONG)EVP_PKEY_get_bits(pkey)});
}

static void add_private_key(struct p11u_object_builder *builder,
                            const struct p11u_object_name *name, const EVP_PKEY *pkey,
                            const X509_NAME *subject, struct p11u_key_functions usage,
                            enum p11u_keyref keyref)
{
	static const CK_ATTRIBUTE_TYPE secret_parts[] = {
	    CKA_PRIVATE_EXPONENT, CKA_PRIME_1,    CKA_PRIME_2,
	    CKA_EXPONENT_1,       CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	struct p11u_attr_list list = {0};

	p11u_attr_add_common(&list, CKO_PRIVATE_KEY, true, name->label);
	attr_add_key_common(&list, name, pkey, subject);
	p11u_attr_add_bool(&list, CKA_SENSITIVE, true);
	p11u_attr_add_bool(&list, CKA_DECRYPT, usage.decrypt);
	p11u_attr_add_bool(&list, CKA_SIGN, usage.sign);
	p11u_attr_add_bool(&list, CKA_SIGN_RECOVER, false);
	p11u_attr_add_bool(&list, CKA_UNWRAP, usage.unwrap);
	p11u_attr_add_bool(&list, CKA_EXTRACTABLE, false);
	p11u_attr_add_bool(&list, CKA_ALWAYS_SENSITIVE, true);
	p11u_attr_add_bool(&list, CKA_NEVER_EXTRACTABLE, true);
	p11u_attr_add_bool(&list, CKA_WRAP_WITH_TRUSTED, false);
	p11u_attr_add_bool(&list, CKA_ALWAYS_AUTHENTICATE, false);
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		attr_add_sensitive(&list, secret_parts[i]);

	p11u_object_add(builder, &list,
	                &(struct p11u_object){.handle = name->handle,
	                                      .class = CKO_PRIVATE_KEY,
	                                      .is_private = true,
	                                      .keyref = keyref,
	                                      .modulus_bits = (CK_ULONG)EVP_PKEY_get_bits(pkey)});
}

void p11u_object_add_key(struct p11u_object_builder *builder, const struct p11u_object_name *name,
                         bool is_private, const EVP_PKEY *pkey, const X509_NAME *subject,
                         struct p11u_key_functions usage, enum p11u_keyref keyref)
{
	if (is_private)
		add_private_key(builder, name, pkey, subject, usage, keyref);
	else
		add_public_key(builder, name, pkey, subject, usage, keyref);
}

static void add_status_object(struct p11u_object_builder *builder)
{
	struct p11u_attr_list list = {0};

	p11u_attr_add_common(&list, CKO_DATA, false, STATUS_LABEL);
	p11u_attr_add_string(&list, CKA_APPLICATION, STATUS_APPLICATION);
	p11u_attr_add(&list, CKA_OBJECT_ID, NULL, 0);
	/* CKA_VALUE is not stored: p11u_object_get_attributes serves the caller's fresh text. */

	p11u_object_add(
	    builder, &list,
	    &(struct p11u_object){.handle = HANDLE_STATUS, .class = CKO_DATA, .is_status = true});
}

/* The name of the object at offset `which` (0 certificate, 1 public key, 2 private key) of a
 * fixed-layout slot. */
static struct p11u_object_name slot_name(const struct slot_desc *desc, int which)
{
	return (struct p11u_object_name){
	    .handle = desc->cert_handle + (CK_OBJECT_HANDLE)which,
	    .id = (const uint8_t *)desc->id,
	    .id_len = strlen(desc->id),
	    .label = which == 0 ? desc->cert_label : desc->key_label,
	};
}

static void add_slot_objects(struct p11u_object_builder *builder, const struct slot_desc *desc,
                             const struct p11u_card_cert *slot_cert,
                             const struct p11u_object_options *opts)
{
	struct cert cert = {0};

	if (slot_cert->der == NULL || slot_cert->len == 0)
		return;
	if (!cert_parse(slot_cert->der, slot_cert->len, &cert)) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: %s does not parse, skipped", desc->cert_label);
		return;
	}
	if (desc->key_label != NULL && EVP_PKEY_get_base_id(cert.pkey) != EVP_PKEY_RSA) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: %s has no RSA key, skipped", desc->cert_label);
		X509_free(cert.x509);
		return;
	}

	struct p11u_object_name name = slot_name(desc, 0);
	add_certificate(builder, &name, desc->key_label == NULL, &cert);
	if (desc->key_label != NULL) {
		struct p11u_key_functions usage = key_usage_of(desc, &cert);
		const X509_NAME *subject = X509_get_subject_name(cert.x509);

		name = slot_name(desc, 1);
		add_public_key(builder, &name, cert.pkey, subject, usage, desc->keyref);
		name = slot_name(desc, 2);
		if (opts->private_keys)
			add_private_key(builder, &name, cert.pkey, subject, usage, desc->keyref);
	}
	X509_free(cert.x509);
}

/* The objects of the fixed layout: the four slots, then the status object. */
static void build_fixed(struct p11u_object_builder *builder, const struct p11u_card_info *info,
                        const struct p11u_object_options *opts)
{
	for (size_t i = 0; i < sizeof(slot_descs) / sizeof(slot_descs[0]); i++)
		add_slot_objects(builder, &slot_descs[i], &info->certs[slot_descs[i].slot], opts);
	if (opts->status_object)
		add_status_object(builder);
}

CK_RV p11u_objects_build(const struct p11u_card_info *info, const struct p11u_object_options *opts,
                         struct p11u_object_table *table)
{
	struct p11u_object_builder builder = {.table = table};

	if (info == NULL || opts == NULL || table == NULL)
		return CKR_ARGUMENTS_BAD;
	table->count = 0;
	builder.capacity = info->dir != NULL ? p11u_objects_dir_count(info->dir) : HANDLE_LAST;
	table->objects = calloc(builder.capacity > 0 ? builder.capacity : 1, sizeof(*table->objects));
	if (table->objects == NULL)
		return CKR_HOST_MEMORY;

	if (info->dir != NULL)
		p11u_objects_build_dir(&builder, info->dir, opts);
	else
		build_fixed(&builder, info, opts);

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
