/* Sessions: the session table, C_OpenSession / C_CloseSession / C_CloseAllSessions /
 * C_GetSessionInfo, and the lookup every session call starts with.
 *
 * Handles count up from 1 for the life of the process and are never reused.  A session
 * belongs to one token generation (struct p11u_slot): when that token goes away (card removed
 * or swapped, user-code token gone after a release) the next call on the session returns
 * CKR_DEVICE_REMOVED and forgets it, as does a call that sees the card go in its middle
 * (p11u_leave); later calls get CKR_SESSION_HANDLE_INVALID.  Login state
 * lives in the token (PKCS#11: shared by all sessions of a token), not here. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pkcs11/front.h"

/* Survives C_Finalize / C_Initialize, so an old handle never names a new session. */
static CK_SESSION_HANDLE next_handle = 1;

static bool session_is_live(const struct p11u_session *s)
{
	return p11u_token_gen(s->slot, s->uc) == s->token_gen;
}

static void session_free(struct p11u_session *s)
{
	p11u_op_release(&s->sign);
	p11u_op_release(&s->decrypt);
	p11u_op_release(&s->digest);
	p11u_op_release(&s->verify);
	p11u_op_release(&s->encrypt);
	p11u_find_release(&s->find);
	free(s);
}

/* Removes the session at index i (the table's order does not matter). */
static void session_remove(struct p11u_module *m, size_t i)
{
	session_free(m->sessions[i]);
	m->sessions[i] = m->sessions[--m->n_sessions];
}

CK_ULONG p11u_sessions_count(const struct p11u_module *m, const struct p11u_slot *slot, bool uc,
                             bool rw_only)
{
	CK_ULONG n = 0;

	for (size_t i = 0; i < m->n_sessions; i++) {
		const struct p11u_session *s = m->sessions[i];
		if (s->slot == slot && s->uc == uc && session_is_live(s) && (s->rw || !rw_only))
			n++;
	}
	return n;
}

/* PKCS#11: closing the last session of a token logs its user out. */
static void logout_if_last(struct p11u_module *m, struct p11u_slot *slot, bool uc)
{
	if (p11u_sessions_count(m, slot, uc, false) == 0)
		p11u_token_logout(m, slot, uc);
}

CK_RV p11u_session_open(struct p11u_module *m, CK_SLOT_ID slot_id, CK_FLAGS flags,
                        CK_SESSION_HANDLE_PTR handle)
{
	struct p11u_session *s;
	struct p11u_slot *slot;
	bool uc;
	CK_RV rv;

	if (handle == NULL)
		return CKR_ARGUMENTS_BAD;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	rv = p11u_slot_lookup(m, slot_id, &slot, &uc);
	if (rv == CKR_OK)
		rv = p11u_token_usable(slot, uc);
	if (rv != CKR_OK)
		return rv;
	if (!(flags & CKF_RW_SESSION) && !uc && slot->card_login == P11U_LOGIN_SO)
		return CKR_SESSION_READ_WRITE_SO_EXISTS;

	if (m->n_sessions == m->sessions_cap) {
		size_t cap = m->sessions_cap ? 2 * m->sessions_cap : 8;
		struct p11u_session **grown = realloc(m->sessions, cap * sizeof *grown);
		if (grown == NULL)
			return CKR_HOST_MEMORY;
		m->sessions = grown;
		m->sessions_cap = cap;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return CKR_HOST_MEMORY;
	s->handle = next_handle++;
	if (next_handle == CK_INVALID_HANDLE)
		next_handle = 1;
	s->slot = slot;
	s->uc = uc;
	s->token_gen = p11u_token_gen(slot, uc);
	s->rw = (flags & CKF_RW_SESSION) != 0;
	m->sessions[m->n_sessions++] = s;
	*handle = s->handle;
	P11U_DEBUG(P11U_LOG_CALL, "C_OpenSession: slot %lu, %s, session %lu", slot_id,
	           s->rw ? "R/W" : "R/O", s->handle);
	return CKR_OK;
}

static size_t session_index(const struct p11u_module *m, const struct p11u_session *s)
{
	for (size_t i = 0; i < m->n_sessions; i++)
		if (m->sessions[i] == s)
			return i;
	return m->n_sessions;
}

CK_RV p11u_session_close(struct p11u_module *m, struct p11u_session *s)
{
	struct p11u_slot *slot = s->slot;
	bool uc = s->uc;

	session_remove(m, session_index(m, s));
	logout_if_last(m, slot, uc);
	return CKR_OK;
}

CK_RV p11u_session_close_all(struct p11u_module *m, struct p11u_slot *slot, bool uc)
{
	for (size_t i = 0; i < m->n_sessions;) {
		if (m->sessions[i]->slot == slot && m->sessions[i]->uc == uc)
			session_remove(m, i);
		else
			i++;
	}
	p11u_token_logout(m, slot, uc);
	return CKR_OK;
}

struct p11u_session *p11u_session_find(const struct p11u_module *m, CK_SESSION_HANDLE handle)
{
	for (size_t i = 0; i < m->n_sessions; i++)
		if (m->sessions[i]->handle == handle)
			return m->sessions[i];
	return NULL;
}

CK_RV p11u_session_check_live(struct p11u_module *m, struct p11u_session *s, bool remove)
{
	if (session_is_live(s))
		return CKR_OK;
	/* Another call may be using it: only the holder of the card lock frees it. */
	if (remove)
		session_remove(m, session_index(m, s));
	return CKR_DEVICE_REMOVED;
}

static CK_STATE session_state(const struct p11u_session *s)
{
	enum p11u_login login = s->slot->card_login;

	if (s->uc)
		login = s->slot->uc_login ? P11U_LOGIN_USER : P11U_LOGIN_NONE;
	switch (login) {
	case P11U_LOGIN_USER:
		return s->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	case P11U_LOGIN_SO:
		return CKS_RW_SO_FUNCTIONS;
	case P11U_LOGIN_NONE:
	case P11U_LOGIN_UNBLOCK:
		break;
	}
	return s->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
}

CK_RV p11u_session_get_info(struct p11u_module *m, struct p11u_session *s, CK_SESSION_INFO_PTR info)
{
	(void)m;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof *info);
	info->slotID = s->slot->card_slot_id + (s->uc ? 1 : 0);
	info->state = session_state(s);
	info->flags = CKF_SERIAL_SESSION | (s->rw ? CKF_RW_SESSION : 0);
	info->ulDeviceError = 0;
	return CKR_OK;
}

void p11u_sessions_end_private_ops(struct p11u_module *m, const struct p11u_slot *slot)
{
	for (size_t i = 0; i < m->n_sessions; i++) {
		struct p11u_session *s = m->sessions[i];
		if (s->slot == slot && !s->uc) {
			p11u_op_release(&s->sign);
			p11u_op_release(&s->decrypt);
		}
	}
}

void p11u_sessions_free(struct p11u_module *m)
{
	while (m->n_sessions > 0)
		session_remove(m, m->n_sessions - 1);
	free(m->sessions);
	m->sessions = NULL;
	m->sessions_cap = 0;
}
