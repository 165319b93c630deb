/* The mechanism table (data) and the hash algorithms the mechanisms use.
 * Internal to crypto.c and mechanism.c; the module uses crypto.h. */
#ifndef P11U_PKCS11_MECHANISM_H
#define P11U_PKCS11_MECHANISM_H

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

/* How a mechanism runs. */
enum p11u_mech_kind {
	P11U_MECH_DIGEST,    /* software hash */
	P11U_MECH_RSA_PKCS,  /* caller's DigestInfo, PKCS#1 v1.5 on the card; decrypt likewise */
	P11U_MECH_RSA_X_509, /* raw RSA on the card */
	P11U_MECH_HASH_RSA_PKCS, /* software hash and DigestInfo, PKCS#1 v1.5 on the card */
	P11U_MECH_RSA_PSS,       /* caller's hash, PSS encoding, raw RSA on the card */
	P11U_MECH_HASH_RSA_PSS,  /* software hash, PSS encoding, raw RSA on the card */
	P11U_MECH_RSA_OAEP,      /* raw RSA decipher on the card, OAEP decoding */
};

struct p11u_mechanism {
	CK_MECHANISM_TYPE type;
	enum p11u_mech_kind kind;
	CK_FLAGS flags;
	CK_MECHANISM_TYPE hash; /* the digest mechanism of hashing kinds, else 0 */
};

struct p11u_hash {
	CK_MECHANISM_TYPE digest; /* CKM_SHA256 ... */
	CK_RSA_PKCS_MGF_TYPE mgf; /* CKG_MGF1_SHA256 ... */
	const EVP_MD *(*md)(void);
};

const struct p11u_mechanism *p11u_mechanism_find(CK_MECHANISM_TYPE type);
const struct p11u_hash *p11u_hash_by_digest(CK_MECHANISM_TYPE digest);
const struct p11u_hash *p11u_hash_by_mgf(CK_RSA_PKCS_MGF_TYPE mgf);

#endif
