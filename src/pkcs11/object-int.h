/* Inside the object layer: attribute lists under construction, the table builder and the adders
 * that object.c (the fixed layout of the test card) and object-dir.c (a real card's directory
 * records) share.  Not for the rest of the front, which includes pkcs11/object.h. */
#ifndef P11U_PKCS11_OBJECT_INT_H
#define P11U_PKCS11_OBJECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "pkcs11/object.h"

/* An object's attribute list while it is built.  A failed list (out of memory) is dropped. */
struct p11u_attr_list {
	CK_ATTRIBUTE *attrs;
	size_t count;
	size_t capacity;
	bool failed;
};

void p11u_attr_add(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const void *value,
                   size_t len);
void p11u_attr_add_bool(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, bool value);
void p11u_attr_add_ulong(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, CK_ULONG value);
void p11u_attr_add_string(struct p11u_attr_list *list, CK_ATTRIBUTE_TYPE type, const char *value);
/* The attributes every object of a token has (class, token, private, not modifiable, label). */
void p11u_attr_add_common(struct p11u_attr_list *list, CK_OBJECT_CLASS class, bool is_private,
                          const char *label);

/* A table being filled: room for capacity objects. */
struct p11u_object_builder {
	struct p11u_object_table *table;
	size_t capacity;
	bool failed;
};

/* Moves the list into the next object of the table, with proto's handle and flags. */
void p11u_object_add(struct p11u_object_builder *builder, struct p11u_attr_list *list,
                     const struct p11u_object *proto);

/* What an object built from the card's data is called. */
struct p11u_object_name {
	CK_OBJECT_HANDLE handle;
	const uint8_t *id; /* CKA_ID */
	size_t id_len;
	const char *label; /* CKA_LABEL */
};

/* What a key may do (CKA_SIGN / CKA_VERIFY, CKA_DECRYPT / CKA_ENCRYPT, CKA_UNWRAP / CKA_WRAP). */
struct p11u_key_functions {
	bool sign;
	bool decrypt;
	bool unwrap;
};

/* A certificate object; false (nothing added) when der is not a usable certificate. */
bool p11u_object_add_certificate(struct p11u_object_builder *builder,
                                 const struct p11u_object_name *name, bool authority,
                                 const uint8_t *der, size_t len);
/* An RSA key object (private: its value stays on the card); subject may be NULL. */
void p11u_object_add_key(struct p11u_object_builder *builder, const struct p11u_object_name *name,
                         bool is_private, const EVP_PKEY *pkey, const X509_NAME *subject,
                         struct p11u_key_functions usage, enum p11u_keyref keyref);

/* object-dir.c: how many objects the directory records can give, and building them. */
size_t p11u_objects_dir_count(const struct p11u_card_dir *dir);
void p11u_objects_build_dir(struct p11u_object_builder *builder, const struct p11u_card_dir *dir,
                            const struct p11u_object_options *opts);

#endif
