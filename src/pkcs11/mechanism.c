#include "config.h"

#include "pkcs11/mechanism.h"

#include <string.h>

#include "pkcs11/crypto.h"

/* The RSA mechanisms carry CKF_HW: the private-key step runs on the card (pkcs11-tool --test
 * skips signature mechanisms without it).  Verification and encryption with the public keys
 * run in software. */
#define RSA_SIGN    (CKF_HW | CKF_SIGN | CKF_VERIFY)
#define RSA_DECRYPT (CKF_HW | CKF_DECRYPT | CKF_ENCRYPT)

static const struct p11u_mechanism mechanisms[] = {
    {CKM_RSA_PKCS, P11U_MECH_RSA_PKCS, RSA_SIGN | RSA_DECRYPT, 0},
    {CKM_RSA_X_509, P11U_MECH_RSA_X_509, RSA_SIGN | RSA_DECRYPT, 0},
    {CKM_RSA_PKCS_OAEP, P11U_MECH_RSA_OAEP, RSA_DECRYPT, 0},
    {CKM_SHA1_RSA_PKCS, P11U_MECH_HASH_RSA_PKCS, RSA_SIGN, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS, P11U_MECH_HASH_RSA_PKCS, RSA_SIGN, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS, P11U_MECH_HASH_RSA_PKCS, RSA_SIGN, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS, P11U_MECH_HASH_RSA_PKCS, RSA_SIGN, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS, P11U_MECH_HASH_RSA_PKCS, RSA_SIGN, CKM_SHA512},
    {CKM_RSA_PKCS_PSS, P11U_MECH_RSA_PSS, RSA_SIGN, 0},
    {CKM_SHA1_RSA_PKCS_PSS, P11U_MECH_HASH_RSA_PSS, RSA_SIGN, CKM_SHA_1},
    {CKM_SHA224_RSA_PKCS_PSS, P11U_MECH_HASH_RSA_PSS, RSA_SIGN, CKM_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, P11U_MECH_HASH_RSA_PSS, RSA_SIGN, CKM_SHA256},
    {CKM_SHA384_RSA_PKCS_PSS, P11U_MECH_HASH_RSA_PSS, RSA_SIGN, CKM_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, P11U_MECH_HASH_RSA_PSS, RSA_SIGN, CKM_SHA512},
    {CKM_SHA_1, P11U_MECH_DIGEST, CKF_DIGEST, CKM_SHA_1},
    {CKM_SHA224, P11U_MECH_DIGEST, CKF_DIGEST, CKM_SHA224},
    {CKM_SHA256, P11U_MECH_DIGEST, CKF_DIGEST, CKM_SHA256},
    {CKM_SHA384, P11U_MECH_DIGEST, CKF_DIGEST, CKM_SHA384},
    {CKM_SHA512, P11U_MECH_DIGEST, CKF_DIGEST, CKM_SHA512},
};

#define N_MECHANISMS (sizeof(mechanisms) / sizeof(mechanisms[0]))

static const struct p11u_hash hashes[] = {
    {CKM_SHA_1, CKG_MGF1_SHA1, EVP_sha1},      {CKM_SHA224, CKG_MGF1_SHA224, EVP_sha224},
    {CKM_SHA256, CKG_MGF1_SHA256, EVP_sha256}, {CKM_SHA384, CKG_MGF1_SHA384, EVP_sha384},
    {CKM_SHA512, CKG_MGF1_SHA512, EVP_sha512},
};

#define N_HASHES (sizeof(hashes) / sizeof(hashes[0]))

const struct p11u_mechanism *p11u_mechanism_find(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < N_MECHANISMS; i++) {
		if (mechanisms[i].type == type)
			return &mechanisms[i];
	}
	return NULL;
}

const struct p11u_hash *p11u_hash_by_digest(CK_MECHANISM_TYPE digest)
{
	for (size_t i = 0; i < N_HASHES; i++) {
		if (hashes[i].digest == digest)
			return &hashes[i];
	}
	return NULL;
}

const struct p11u_hash *p11u_hash_by_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
	for (size_t i = 0; i < N_HASHES; i++) {
		if (hashes[i].mgf == mgf)
			return &hashes[i];
	}
	return NULL;
}

CK_RV p11u_mechanism_list(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (list == NULL) {
		*count = N_MECHANISMS;
		return CKR_OK;
	}
	if (*count < N_MECHANISMS) {
		*count = N_MECHANISMS;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (size_t i = 0; i < N_MECHANISMS; i++)
		list[i] = mechanisms[i].type;
	*count = N_MECHANISMS;
	return CKR_OK;
}

CK_RV p11u_mechanism_info(CK_MECHANISM_TYPE type, CK_ULONG min_key_bits, CK_ULONG max_key_bits,
                          CK_MECHANISM_INFO_PTR info)
{
	const struct p11u_mechanism *mech = p11u_mechanism_find(type);

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	memset(info, 0, sizeof(*info));
	info->flags = mech->flags;
	if (mech->kind != P11U_MECH_DIGEST) {
		info->ulMinKeySize = min_key_bits;
		info->ulMaxKeySize = max_key_bits;
	}
	return CKR_OK;
}
