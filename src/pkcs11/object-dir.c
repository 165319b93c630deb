/* A real card's objects from its directory records (struct p11u_card_dir, which the card layer
 * read from the card's PrKDF, PuKDF, CDF and DODF): CKA_ID, CKA_LABEL, what each key may do and
 * its key reference come from the card, not from the test card's fixed layout.  Handles follow
 * the records: certificates, keys, data objects.  A record that cannot become an object (a key
 * without a public key, a private key on a read-only token) is skipped. */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "common/log.h"
#include "pkcs11/object-int.h"

size_t p11u_objects_dir_count(const struct p11u_card_dir *dir)
{
	return dir->n_certs + dir->n_keys + dir->n_data;
}

/* The name of a record's object, with a label when the card gave none. */
static struct p11u_object_name dir_name(const struct p11u_dir_name *name, CK_OBJECT_HANDLE handle,
                                        const char *fallback_label)
{
	return (struct p11u_object_name){
	    .handle = handle,
	    .id = name->id,
	    .id_len = name->id_len,
	    .label = name->label[0] != '\0' ? name->label : fallback_label,
	};
}

/* An RSA public key from its modulus and exponent (big-endian). */
static EVP_PKEY *rsa_public_key(const struct p11u_dir_key *key)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(key->modulus, (int)key->modulus_len, NULL);
	BIGNUM *e = BN_bin2bn(key->exponent, (int)key->exponent_len, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;

	bool ok;

	ERR_set_mark();
	ok = bld != NULL && n != NULL && e != NULL && ctx != NULL &&
	     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	     (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
	if (!ok) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_pop_to_mark();
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* The certificate with the key's identifier, parsed (NULL: none). */
static X509 *cert_of_key(const struct p11u_card_dir *dir, const struct p11u_dir_key *key)
{
	for (size_t i = 0; i < dir->n_certs; i++) {
		const struct p11u_dir_cert *cert = &dir->certs[i];
		const unsigned char *p = cert->der;

		if (cert->name.id_len == key->name.id_len &&
		    memcmp(cert->name.id, key->name.id, key->name.id_len) == 0) {
			X509 *x509;
			ERR_set_mark();
			x509 = d2i_X509(NULL, &p, (long)cert->len);
			ERR_pop_to_mark();
			return x509;
		}
	}
	return NULL;
}

/* PKCS#15 usage flags as PKCS#11 attributes: a private key signs (sign, signRecover,
 * nonRepudiation), decrypts and unwraps; its public key verifies, encrypts and wraps (flags of
 * either side accepted: cards write either). */
static struct p11u_key_functions usage_of(const struct p11u_dir_key *key)
{
	const unsigned u = key->usage;
	const unsigned sign = P11U_USAGE_SIGN | P11U_USAGE_SIGN_RECOVER | P11U_USAGE_NON_REPUDIATION;

	if (key->is_private)
		return (struct p11u_key_functions){
		    .sign = (u & sign) != 0,
		    .decrypt = (u & P11U_USAGE_DECRYPT) != 0,
		    .unwrap = (u & P11U_USAGE_UNWRAP) != 0,
		};
	return (struct p11u_key_functions){
	    .sign = (u & (sign | P11U_USAGE_VERIFY | P11U_USAGE_VERIFY_RECOVER)) != 0,
	    .decrypt = (u & (P11U_USAGE_ENCRYPT | P11U_USAGE_DECRYPT)) != 0,
	    .unwrap = (u & (P11U_USAGE_WRAP | P11U_USAGE_UNWRAP)) != 0,
	};
}

static void add_dir_key(struct p11u_object_builder *builder, const struct p11u_card_dir *dir,
                        const struct p11u_dir_key *key, CK_OBJECT_HANDLE handle)
{
	const struct p11u_object_name name =
	    dir_name(&key->name, handle, key->is_private ? "Private key" : "Public key");
	EVP_PKEY *pkey;
	X509 *cert;

	if (key->modulus == NULL) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: key record %lu has no public key, skipped",
		           handle);
		return;
	}
	pkey = rsa_public_key(key);
	if (pkey == NULL) {
		P11U_DEBUG(P11U_LOG_CARD, "objects: key record %lu is not an RSA key, skipped",
		           handle);
		return;
	}
	cert = cert_of_key(dir, key);
	p11u_object_add_key(builder, &name, key->is_private, pkey,
	                    cert != NULL ? X509_get_subject_name(cert) : NULL, usage_of(key),
	                    (enum p11u_keyref)key->keyref);
	X509_free(cert);
	EVP_PKEY_free(pkey);
}

static void add_dir_data(struct p11u_object_builder *builder, const struct p11u_dir_data *data,
                         CK_OBJECT_HANDLE handle)
{
	struct p11u_attr_list list = {0};
	const struct p11u_object_name name = dir_name(&data->name, handle, "Data object");

	p11u_attr_add_common(&list, CKO_DATA, false, name.label);
	p11u_attr_add_string(&list, CKA_APPLICATION, data->application);
	p11u_attr_add(&list, CKA_OBJECT_ID, NULL, 0);
	p11u_attr_add(&list, CKA_VALUE, data->value, data->len);
	p11u_object_add(builder, &list,
	                &(struct p11u_object){.handle = handle, .class = CKO_DATA});
}

void p11u_objects_build_dir(struct p11u_object_builder *builder, const struct p11u_card_dir *dir,
                            const struct p11u_object_options *opts)
{
	CK_OBJECT_HANDLE handle = 1;

	for (size_t i = 0; i < dir->n_certs; i++, handle++) {
		const struct p11u_dir_cert *cert = &dir->certs[i];
		const struct p11u_object_name name = dir_name(&cert->name, handle, "Certificate");

		if (!p11u_object_add_certificate(builder, &name, cert->authority, cert->der,
		                                 cert->len))
			P11U_DEBUG(P11U_LOG_CARD, "objects: certificate %zu does not parse, skipped",
			           i);
	}
	for (size_t i = 0; i < dir->n_keys; i++, handle++)
		if (!dir->keys[i].is_private || opts->private_keys)
			add_dir_key(builder, dir, &dir->keys[i], handle);
	for (size_t i = 0; i < dir->n_data; i++, handle++)
		add_dir_data(builder, &dir->data[i], handle);
}
