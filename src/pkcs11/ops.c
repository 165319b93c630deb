/* Mechanisms and the sign / decrypt / digest / verify / encrypt / random entry points: session
 * bookkeeping (CKR_OPERATION_ACTIVE / CKR_OPERATION_NOT_INITIALIZED, login, key handles) around
 * the operations of crypto.h, and the reaction to a removed or reset card.
 *
 * Each session has one operation slot per kind (sign, decrypt, digest, verify, encrypt), so a
 * digest may run next to a signature.  Private-key operations need the user logged in, at *Init
 * and again at each later step (a reset or C_Logout in between ends them with
 * CKR_USER_NOT_LOGGED_IN).  Verification and encryption use the public keys in software: no
 * login, no card I/O. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pkcs11/front.h"

/* --- mechanisms ------------------------------------------------------------------------- */

/* Tokens without usable keys (read-only HiCOS tokens, the user-code token) offer the software
 * digests only. */
static bool mechanism_needs_key(CK_MECHANISM_TYPE type)
{
	CK_MECHANISM_INFO info;

	if (p11u_mechanism_info(type, 0, 0, &info) != CKR_OK)
		return true;
	return (info.flags & CKF_DIGEST) == 0;
}

static CK_RV token_for_mechanisms(struct p11u_module *m, CK_SLOT_ID slot_id,
                                  struct p11u_slot **slot, bool *with_keys)
{
	bool uc;
	CK_RV rv = p11u_slot_lookup(m, slot_id, slot, &uc);

	if (rv == CKR_OK)
		rv = p11u_token_usable(*slot, uc);
	if (rv != CKR_OK)
		return rv;
	*with_keys = !uc && p11u_token_has_keys(*slot);
	return CKR_OK;
}

CK_RV p11u_mechanisms_list(struct p11u_module *m, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE_PTR list,
                           CK_ULONG_PTR count)
{
	CK_MECHANISM_TYPE *all;
	CK_ULONG n = 0, kept = 0;
	struct p11u_slot *slot;
	bool with_keys;
	CK_RV rv;

	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = token_for_mechanisms(m, slot_id, &slot, &with_keys);
	if (rv == CKR_OK)
		rv = p11u_mechanism_list(NULL, &n);
	if (rv != CKR_OK)
		return rv;
	all = calloc(n + 1, sizeof *all);
	if (all == NULL)
		return CKR_HOST_MEMORY;
	rv = p11u_mechanism_list(all, &n);
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		if (with_keys || !mechanism_needs_key(all[i]))
			all[kept++] = all[i];
	if (rv == CKR_OK) {
		if (list != NULL && *count < kept)
			rv = CKR_BUFFER_TOO_SMALL;
		else if (list != NULL)
			memcpy(list, all, kept * sizeof *list);
		*count = kept;
	}
	free(all);
	return rv;
}

CK_RV p11u_mechanisms_info(struct p11u_module *m, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type,
                           CK_MECHANISM_INFO_PTR info)
{
	CK_ULONG min_bits = 0, max_bits = 0;
	struct p11u_slot *slot;
	bool with_keys;
	CK_RV rv;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = token_for_mechanisms(m, slot_id, &slot, &with_keys);
	if (rv != CKR_OK)
		return rv;
	if (!with_keys && mechanism_needs_key(type))
		return CKR_MECHANISM_INVALID;
	/* Key sizes: those of the card's keys. */
	for (size_t i = 0; i < slot->objects.count; i++) {
		CK_ULONG bits = slot->objects.objects[i].modulus_bits;
		if (bits == 0)
			continue;
		if (min_bits == 0 || bits < min_bits)
			min_bits = bits;
		if (bits > max_bits)
			max_bits = bits;
	}
	return p11u_mechanism_info(type, min_bits, max_bits, info);
}

/* --- helpers ---------------------------------------------------------------------------- */

/* After an operation that reached the card: removal and resets take precedence over what the
 * operation itself returned. */
static CK_RV card_op_result(struct p11u_module *m, struct p11u_session *s, CK_RV rv,
                            enum p11u_card_rv crv)
{
	switch (crv) {
	case P11U_CARD_E_REMOVED:
	case P11U_CARD_E_RESET:
	case P11U_CARD_E_NOT_VERIFIED:
		return p11u_token_card_result(m, s->slot, crv);
	default:
		return rv;
	}
}

/* A private-key operation may go on: initialized, and the user still logged in. */
static CK_RV private_op_continues(const struct p11u_session *s, struct p11u_op *op)
{
	if (op->kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!p11u_token_user_logged_in(s->slot)) {
		p11u_op_release(op);
		return CKR_USER_NOT_LOGGED_IN;
	}
	return CKR_OK;
}

/* Ends the operation on any error except a size answer. */
static CK_RV end_on_error(struct p11u_op *op, CK_RV rv)
{
	if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
		p11u_op_release(op);
	return rv;
}

/* C_*Update of an operation that needs no login (digest, verify, encrypt). */
static CK_RV software_op_update(struct p11u_op *op, const CK_BYTE *part, CK_ULONG len)
{
	if (op->kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (part == NULL && len != 0)
		return end_on_error(op, CKR_ARGUMENTS_BAD);
	return end_on_error(op, p11u_op_update(op, part, len));
}

static CK_RV key_op_init(struct p11u_session *s, struct p11u_op *op, const CK_MECHANISM *mech,
                         CK_OBJECT_HANDLE key, const char *what,
                         CK_RV (*init)(struct p11u_op *, const CK_MECHANISM *,
                                       const struct p11u_object *))
{
	const struct p11u_object *obj;
	CK_RV rv;

	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (op->kind != P11U_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if (s->uc)
		return CKR_KEY_HANDLE_INVALID;
	rv = p11u_token_require_security_ops(s->slot, what);
	if (rv != CKR_OK)
		return rv;
	obj = p11u_objects_by_handle(&s->slot->objects, key);
	if (obj == NULL)
		return CKR_KEY_HANDLE_INVALID;
	if (obj->is_private && !p11u_token_user_logged_in(s->slot))
		return CKR_USER_NOT_LOGGED_IN;
	rv = init(op, mech, obj);
	if (rv != CKR_OK)
		p11u_op_release(op);
	return rv;
}

/* --- sign ------------------------------------------------------------------------------- */

CK_RV p11u_sign_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	return key_op_init(s, &s->sign, mech, key, "C_SignInit", p11u_op_sign_init);
}

CK_RV p11u_sign(struct p11u_module *m, struct p11u_session *s, const CK_BYTE *data, CK_ULONG len,
                CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	enum p11u_card_rv crv = P11U_CARD_OK;
	CK_RV rv = private_op_continues(s, &s->sign);

	if (rv != CKR_OK)
		return rv;
	if ((data == NULL && len != 0) || sig_len == NULL)
		return end_on_error(&s->sign, CKR_ARGUMENTS_BAD);
	rv = p11u_op_sign(&s->sign, s->slot->card, data, len, sig, sig_len, &crv);
	return card_op_result(m, s, rv, crv);
}

CK_RV p11u_sign_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len)
{
	CK_RV rv = private_op_continues(s, &s->sign);

	if (rv != CKR_OK)
		return rv;
	if (part == NULL && len != 0)
		return end_on_error(&s->sign, CKR_ARGUMENTS_BAD);
	return end_on_error(&s->sign, p11u_op_update(&s->sign, part, len));
}

CK_RV p11u_sign_final(struct p11u_module *m, struct p11u_session *s, CK_BYTE_PTR sig,
                      CK_ULONG_PTR sig_len)
{
	enum p11u_card_rv crv = P11U_CARD_OK;
	CK_RV rv = private_op_continues(s, &s->sign);

	if (rv != CKR_OK)
		return rv;
	if (sig_len == NULL)
		return end_on_error(&s->sign, CKR_ARGUMENTS_BAD);
	rv = p11u_op_sign_final(&s->sign, s->slot->card, sig, sig_len, &crv);
	return card_op_result(m, s, rv, crv);
}

/* --- decrypt ---------------------------------------------------------------------------- */

CK_RV p11u_decrypt_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	return key_op_init(s, &s->decrypt, mech, key, "C_DecryptInit", p11u_op_decrypt_init);
}

CK_RV p11u_decrypt(struct p11u_module *m, struct p11u_session *s, const CK_BYTE *in,
                   CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	enum p11u_card_rv crv = P11U_CARD_OK;
	CK_RV rv = private_op_continues(s, &s->decrypt);

	if (rv != CKR_OK)
		return rv;
	if ((in == NULL && in_len != 0) || out_len == NULL)
		return end_on_error(&s->decrypt, CKR_ARGUMENTS_BAD);
	rv = p11u_op_decrypt(&s->decrypt, s->slot->card, in, in_len, out, out_len, &crv);
	return card_op_result(m, s, rv, crv);
}

/* RSA decryption is single-part: crypto.h ends the operation with CKR_FUNCTION_NOT_SUPPORTED. */
CK_RV p11u_decrypt_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len)
{
	CK_RV rv = private_op_continues(s, &s->decrypt);

	if (rv != CKR_OK)
		return rv;
	return end_on_error(&s->decrypt, p11u_op_update(&s->decrypt, part, len));
}

CK_RV p11u_decrypt_final(struct p11u_session *s)
{
	return p11u_op_cipher_final(&s->decrypt);
}

/* --- digest (software; any token) -------------------------------------------------------- */

CK_RV p11u_digest_init(struct p11u_session *s, const CK_MECHANISM *mech)
{
	CK_RV rv;

	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (s->digest.kind != P11U_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	rv = p11u_op_digest_init(&s->digest, mech);
	if (rv != CKR_OK)
		p11u_op_release(&s->digest);
	return rv;
}

CK_RV p11u_digest(struct p11u_session *s, const CK_BYTE *data, CK_ULONG len, CK_BYTE_PTR out,
                  CK_ULONG_PTR out_len)
{
	if (s->digest.kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if ((data == NULL && len != 0) || out_len == NULL)
		return end_on_error(&s->digest, CKR_ARGUMENTS_BAD);
	return p11u_op_digest(&s->digest, data, len, out, out_len);
}

CK_RV p11u_digest_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len)
{
	return software_op_update(&s->digest, part, len);
}

CK_RV p11u_digest_final(struct p11u_session *s, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	if (s->digest.kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (out_len == NULL)
		return end_on_error(&s->digest, CKR_ARGUMENTS_BAD);
	return p11u_op_digest_final(&s->digest, out, out_len);
}

/* --- verify and encrypt (public keys, software; no login) --------------------------------- */

CK_RV p11u_verify_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	return key_op_init(s, &s->verify, mech, key, "C_VerifyInit", p11u_op_verify_init);
}

CK_RV p11u_verify(struct p11u_session *s, const CK_BYTE *data, CK_ULONG len, const CK_BYTE *sig,
                  CK_ULONG sig_len)
{
	if (s->verify.kind == P11U_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (data == NULL && len != 0)
		return end_on_error(&s->verify, CKR_ARGUMENTS_BAD);
	return p11u_op_verify(&s->verify, data, len, sig, sig_len);
}

CK_RV p11u_verify_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len)
{
	return software_op_update(&s->verify, part, len);
}

CK_RV p11u_verify_final(struct p11u_session *s, const CK_BYTE *sig, CK_ULONG sig_len)
{
	return p11u_op_verify_final(&s->verify, sig, sig_len);
}

CK_RV p11u_encrypt_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	return key_op_init(s, &s->encrypt, mech, key, "C_EncryptInit", p11u_op_encrypt_init);
}

CK_RV p11u_encrypt(struct p11u_session *s, const CK_BYTE *in, CK_ULONG in_len, CK_BYTE_PTR out,
                   CK_ULONG_PTR out_len)
{
	return p11u_op_encrypt(&s->encrypt, in, in_len, out, out_len);
}

/* RSA encryption is single-part, like decryption. */
CK_RV p11u_encrypt_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len)
{
	return software_op_update(&s->encrypt, part, len);
}

CK_RV p11u_encrypt_final(struct p11u_session *s)
{
	return p11u_op_cipher_final(&s->encrypt);
}

/* --- random ------------------------------------------------------------------------------ */

/* The token shows CKF_RNG: the card token of a test card (GET CHALLENGE). */
static bool token_has_rng(const struct p11u_session *s)
{
	return !s->uc && s->slot->state == P11U_TOKEN_FULL;
}

CK_RV p11u_seed_random(struct p11u_session *s, const CK_BYTE *seed, CK_ULONG len)
{
	if (seed == NULL && len != 0)
		return CKR_ARGUMENTS_BAD;
	/* CKR_RANDOM_NO_RNG ranks above CKR_RANDOM_SEED_NOT_SUPPORTED (PKCS#11 2.40 5.1.5). */
	if (!token_has_rng(s))
		return CKR_RANDOM_NO_RNG;
	return CKR_RANDOM_SEED_NOT_SUPPORTED; /* the card's generator takes no seed */
}

CK_RV p11u_generate_random(struct p11u_module *m, struct p11u_session *s, CK_BYTE_PTR out,
                           CK_ULONG len)
{
	enum p11u_card_rv crv;

	if (out == NULL && len != 0)
		return CKR_ARGUMENTS_BAD;
	if (!token_has_rng(s))
		return CKR_RANDOM_NO_RNG;
	if (len == 0)
		return CKR_OK;
	crv = p11u_card_random(s->slot->card, out, len);
	if (crv == P11U_CARD_E_RESET) {
		/* GET CHALLENGE needs no login: after noting the reset, ask again. */
		p11u_token_card_result(m, s->slot, crv);
		crv = p11u_card_random(s->slot->card, out, len);
	}
	return p11u_token_card_result(m, s->slot, crv);
}
