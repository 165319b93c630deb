/* Token objects, built once per card insertion from the card layer's neutral
 * records (struct p11u_card_info) and served from memory: attributes, template
 * matching and sizes.  No card I/O here; the status object's CKA_VALUE is
 * passed in by the caller, who reads it fresh from the card. */
#ifndef P11U_PKCS11_OBJECT_H
#define P11U_PKCS11_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "card/card.h"

struct p11u_object {
	CK_OBJECT_HANDLE handle; /* stable for one card insertion, never 0 */
	CK_OBJECT_CLASS class;
	bool is_private; /* CKA_PRIVATE: visible only to a logged-in user */
	bool is_status;  /* the "PIN status" CKO_DATA object: CKA_VALUE comes from the caller */
	enum p11u_keyref keyref; /* keys: the card key they stand for */
	CK_ULONG modulus_bits;   /* keys: RSA modulus size */
	CK_ATTRIBUTE *attrs;     /* owned copies of every attribute value */
	size_t n_attrs;
};

struct p11u_object_table {
	struct p11u_object *objects;
	size_t count;
};

/* What the token offers (a real HiCOS card: certificates and public keys only). */
struct p11u_object_options {
	bool private_keys;  /* build CKO_PRIVATE_KEY objects */
	bool status_object; /* build the "PIN status" CKO_DATA object */
};

/* Builds the objects of one card: per key pair (signature "SIGN", encryption "KEYX") a certificate,
 * a public key and (options) a private key; the CA certificates as authority certificates
 * ("CACert", "ROOTCACert"); and (options) the status object.  Empty slots are skipped; a slot
 * whose certificate does not parse is skipped with a debug log line. */
CK_RV p11u_objects_build(const struct p11u_card_info *info, const struct p11u_object_options *opts,
                         struct p11u_object_table *table);
void p11u_objects_free(struct p11u_object_table *table);

const struct p11u_object *p11u_objects_by_handle(const struct p11u_object_table *table,
                                                 CK_OBJECT_HANDLE handle);

/* True when every attribute of the template is present with an equal value (an empty template
 * matches everything).  The status object matches on CKA_VALUE never (it changes). */
bool p11u_object_matches(const struct p11u_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* C_GetAttributeValue semantics, attribute by attribute (PKCS#11 2.40 section 5.7):
 * unknown type -> ulValueLen = CK_UNAVAILABLE_INFORMATION, CKR_ATTRIBUTE_TYPE_INVALID;
 * sensitive (private key material) -> CK_UNAVAILABLE_INFORMATION, CKR_ATTRIBUTE_SENSITIVE;
 * pValue NULL -> length only; buffer too small -> CK_UNAVAILABLE_INFORMATION, CKR_BUFFER_TOO_SMALL.
 * Every attribute is processed; the return value is the last error (or CKR_OK).
 * status_value: the current status text for the status object (ignored for other objects). */
CK_RV p11u_object_get_attributes(const struct p11u_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG count,
                                 const char *status_value);

/* Approximate size in bytes (C_GetObjectSize). */
CK_ULONG p11u_object_size(const struct p11u_object *obj);

/* The status object's CKA_VALUE text for the given counters: "pin_tries=N user_code_tries=M". */
void p11u_status_value(int pin_tries, int user_code_tries, char *out, size_t out_size);

#endif
