/* C_Login, C_Logout, C_SetPIN and C_InitPIN: the PIN, the user code, and the unlock paths.
 *
 * Card token
 * - CKU_USER: VERIFY of the PIN.  A PIN that cannot be valid (length, characters) returns
 *   CKR_PIN_INCORRECT without card I/O (NSS understands nothing else).  C_Logout is honoured
 *   by the module: the card keeps the PIN verified until reset (the profile has no "unverify"),
 *   but private objects and key operations are refused until the next C_Login, which verifies
 *   on the card again.
 * - CKU_SO: VERIFY of the user code (costs a try when wrong), kept in memory for this login
 *   only; C_InitPIN(new PIN) then sends RESET RETRY COUNTER with both.  Changing the user code
 *   is not offered (the CA keeps it): C_SetPIN in an SO session returns
 *   CKR_FUNCTION_NOT_SUPPORTED.
 * - C_SetPIN(old, new) in a user or public R/W session: CHANGE REFERENCE DATA.  A new PIN of
 *   the wrong length gives CKR_PIN_LEN_RANGE, bad characters CKR_PIN_INVALID, before any I/O.
 * - opensc_unblock_styles (off by default): C_SetPIN(user code, new PIN) in a session nobody is
 *   logged in to releases a locked PIN (lock check and reset in one PC/SC transaction; an
 *   unlocked card gets an ordinary PIN change), and C_Login(CKU_CONTEXT_SPECIFIC, user code)
 *   followed by C_SetPIN(-, new PIN) does the same.  The second is outside the PKCS#11 rules
 *   (CKU_CONTEXT_SPECIFIC is meant for re-authenticating a key operation); it exists because
 *   OpenSC's pkcs11-tool --unlock-pin --login-type context-specific speaks it.
 *
 * User-code token (Firefox's Change Password on a locked card): C_Login(CKU_USER, code) only
 * checks the format, with no card I/O, so the many generic PIN prompts cost nothing; the code
 * is not kept, since C_SetPIN(code, new PIN) brings it again and spends at most one try, as one
 * RESET RETRY COUNTER.
 *
 * The last user-code try is never spent implicitly: the user-code token and both OpenSC styles
 * refuse with one try left (CKR_FUNCTION_REJECTED: refused by the token's rule; with none left
 * CKR_PIN_LOCKED), without card I/O when the counters already say so.  Only an explicit SO
 * login (or `p11unlock --last-try`, which uses it) may spend it.
 *
 * The vendor interface's P11U_Login is C_Login with the count the holder saw: the counter is
 * read in the VERIFY's own PC/SC transaction, and nothing is sent unless it is that count (so a
 * try another process spent meanwhile never turns the holder's try into an unseen last one).
 *
 * A first-generation HiCOS card (hicos_login = yes) gets CKU_USER only: one protected VERIFY per
 * C_Login, never repeated, none once its last answer said the PIN is blocked.  Its SO login,
 * C_SetPIN, C_InitPIN and P11U_Login are refused with CKR_FUNCTION_NOT_SUPPORTED before any
 * card I/O: no such command of real cards is public, and its counter cannot be read for free.
 *
 * Secrets are copied into bounded buffers, wiped with OPENSSL_cleanse, and never logged. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "p11unlock/p11unlock.h"
#include "pkcs11/front.h"

static const char *secret_name(enum p11u_secret which)
{
	return which == P11U_SECRET_PIN ? "PIN" : "user code";
}

/* The local format check (no card I/O); logs the length only. */
static bool format_ok(const struct p11u_slot *slot, enum p11u_secret which,
                      const CK_UTF8CHAR *secret, CK_ULONG len, const char *what)
{
	if (secret != NULL && p11u_secret_format_ok(which, secret, len))
		return true;
	P11U_DEBUG(P11U_LOG_CARD, "reader %s: %s: %s of length %lu cannot be valid; no card I/O",
	           slot->reader_name, what, secret_name(which), len);
	return false;
}

/* A new PIN: CKR_PIN_LEN_RANGE / CKR_PIN_INVALID before anything reaches the card. */
static CK_RV check_new_pin(const CK_UTF8CHAR *pin, CK_ULONG len)
{
	if (len < P11U_PIN_MIN || len > P11U_PIN_MAX)
		return CKR_PIN_LEN_RANGE;
	if (pin == NULL || !p11u_secret_format_ok(P11U_SECRET_PIN, pin, len))
		return CKR_PIN_INVALID;
	return CKR_OK;
}

static void keep_secret(struct p11u_secret_buf *buf, const CK_UTF8CHAR *secret, CK_ULONG len)
{
	/* The format check bounded len to P11U_USER_CODE_MAX. */
	OPENSSL_cleanse(buf, sizeof *buf);
	memcpy(buf->bytes, secret, len);
	buf->len = len;
}

/* Maps the card's answer to a secret check and records the counter it reveals. */
static CK_RV secret_result(struct p11u_module *m, struct p11u_slot *slot, enum p11u_secret which,
                           enum p11u_card_rv crv, int tries_left)
{
	bool pin = which == P11U_SECRET_PIN;

	switch (crv) {
	case P11U_CARD_OK:
		return CKR_OK;
	case P11U_CARD_E_SECRET_INCORRECT:
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: wrong %s, %d tries left", slot->reader_name,
		           secret_name(which), tries_left);
		if (tries_left >= 0)
			p11u_token_set_counters(m, slot, pin ? tries_left : -1,
			                        pin ? -1 : tries_left);
		else
			p11u_token_refresh_counters(m, slot, P11U_COUNTERS_NOW);
		return CKR_PIN_INCORRECT;
	case P11U_CARD_E_SECRET_BLOCKED:
		p11u_token_set_counters(m, slot, pin ? 0 : -1, pin ? -1 : 0);
		return CKR_PIN_LOCKED;
	default:
		return p11u_token_card_result(m, slot, crv);
	}
}

/* VERIFY, sent once more if the first attempt met a reset made by another process (a reset
 * is reported before the command is transmitted, so no try was spent).  A first-generation
 * card's protected VERIFY is never sent twice for one login: the reset is the answer. */
static enum p11u_card_rv verify(struct p11u_module *m, struct p11u_slot *slot,
                                enum p11u_secret which, const CK_UTF8CHAR *secret, CK_ULONG len,
                                int *tries_left)
{
	enum p11u_card_rv crv = p11u_card_verify(slot->card, which, secret, len, tries_left);

	if (crv == P11U_CARD_E_RESET && slot->state == P11U_TOKEN_FULL) {
		p11u_token_card_result(m, slot, crv);
		crv = p11u_card_verify(slot->card, which, secret, len, tries_left);
	}
	return crv;
}

/* Records a counter reading of one secret. */
static void set_counter(struct p11u_module *m, struct p11u_slot *slot, enum p11u_secret which,
                        int tries)
{
	bool pin = which == P11U_SECRET_PIN;

	p11u_token_set_counters(m, slot, pin ? tries : -1, pin ? -1 : tries);
}

/* In the caller's transaction: the secret's counter, and whether it is the count the holder
 * saw (CKR_OK), or not (P11UNLOCK_CKR_TRIES_CHANGED; CKR_PIN_LOCKED at 0). */
static CK_RV expect_tries(struct p11u_module *m, struct p11u_slot *slot, enum p11u_secret which,
                          int expected, int *tries_now)
{
	struct p11u_secret_state st;
	enum p11u_card_rv crv = p11u_card_secret_state(slot->card, which, &st);

	if (crv != P11U_CARD_OK)
		return p11u_token_card_result(m, slot, crv);
	*tries_now = st.tries_left;
	set_counter(m, slot, which, st.tries_left);
	if (st.tries_left == expected)
		return CKR_OK;
	P11U_DEBUG(P11U_LOG_CARD,
	           "reader %s: %s has %d tries left, the holder saw %d: nothing sent",
	           slot->reader_name, secret_name(which), st.tries_left, expected);
	return st.tries_left == 0 ? CKR_PIN_LOCKED : P11UNLOCK_CKR_TRIES_CHANGED;
}

/* The count a P11U_Login reports when the card went away before its VERIFY was sent. */
#define TRIES_NOTHING_SENT (-2)

/* The counter check and the VERIFY in one PC/SC transaction.  A reset by another process
 * (reported before anything is sent) ends the transaction: both run once more.  *tries_now is
 * TRIES_NOTHING_SENT until the VERIFY may have left. */
static CK_RV verify_expected(struct p11u_module *m, struct p11u_slot *slot, enum p11u_secret which,
                             const CK_UTF8CHAR *secret, CK_ULONG len, int expected, int *tries_now)
{
	enum p11u_card_rv crv = P11U_CARD_OK;
	CK_RV rv = CKR_OK;

	*tries_now = TRIES_NOTHING_SENT;
	for (int attempt = 0; attempt < 2; attempt++) {
		crv = p11u_card_begin(slot->card);
		if (crv == P11U_CARD_OK) {
			rv = expect_tries(m, slot, which, expected, tries_now);
			if (rv == CKR_OK) {
				*tries_now = -1; /* from here on the secret may reach the card */
				crv = p11u_card_verify(slot->card, which, secret, len, tries_now);
			}
			if (slot->card != NULL) /* a removal met by expect_tries drops the card */
				p11u_card_end(slot->card);
		}
		if (rv != CKR_OK || crv != P11U_CARD_E_RESET)
			break;
		p11u_token_card_result(m, slot, crv);
	}
	if (rv != CKR_OK)
		return rv;
	return crv == P11U_CARD_OK ? CKR_OK : secret_result(m, slot, which, crv, *tries_now);
}

/* VERIFY of a login, with the holder's count when expected >= 0 (P11U_Login). */
static CK_RV verify_login(struct p11u_module *m, struct p11u_slot *slot, enum p11u_secret which,
                          const CK_UTF8CHAR *secret, CK_ULONG len, int expected, int *tries_now)
{
	enum p11u_card_rv crv;

	if (expected >= 0)
		return verify_expected(m, slot, which, secret, len, expected, tries_now);
	crv = verify(m, slot, which, secret, len, tries_now);
	return crv == P11U_CARD_OK ? CKR_OK : secret_result(m, slot, which, crv, *tries_now);
}

static CK_RV login_user(struct p11u_module *m, struct p11u_slot *slot, const CK_UTF8CHAR *pin,
                        CK_ULONG len, int expected, int *tries_now)
{
	CK_RV rv;

	if (slot->card_login == P11U_LOGIN_USER)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (slot->card_login != P11U_LOGIN_NONE)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	if (!format_ok(slot, P11U_SECRET_PIN, pin, len, "C_Login"))
		return CKR_PIN_INCORRECT;
	if (slot->state == P11U_TOKEN_HICOS && slot->counters.known &&
	    slot->counters.pin_tries == 0) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "reader %s: the card said its PIN is blocked: nothing sent",
		           slot->reader_name);
		return CKR_PIN_LOCKED;
	}
	rv = verify_login(m, slot, P11U_SECRET_PIN, pin, len, expected, tries_now);
	if (rv != CKR_OK)
		return rv;
	slot->card_login = P11U_LOGIN_USER;
	p11u_token_set_counters(m, slot, P11U_TRIES_MAX, -1);
	return CKR_OK;
}

static CK_RV login_so(struct p11u_module *m, struct p11u_slot *slot, const CK_UTF8CHAR *code,
                      CK_ULONG len, int expected, int *tries_now)
{
	CK_RV rv;

	if (slot->card_login == P11U_LOGIN_SO)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (slot->card_login != P11U_LOGIN_NONE)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	/* PKCS#11: no SO login while the token has read-only sessions (NSS keeps one open). */
	if (p11u_sessions_count(m, slot, false, false) != p11u_sessions_count(m, slot, false, true))
		return CKR_SESSION_READ_ONLY_EXISTS;
	if (!format_ok(slot, P11U_SECRET_USER_CODE, code, len, "C_Login(CKU_SO)"))
		return CKR_PIN_INCORRECT;
	rv = verify_login(m, slot, P11U_SECRET_USER_CODE, code, len, expected, tries_now);
	if (rv != CKR_OK)
		return rv;
	keep_secret(&slot->card_secret, code, len);
	slot->card_login = P11U_LOGIN_SO;
	p11u_token_set_counters(m, slot, -1, P11U_TRIES_MAX);
	return CKR_OK;
}

static CK_RV login_context_specific(struct p11u_module *m, struct p11u_slot *slot,
                                    const CK_UTF8CHAR *code, CK_ULONG len)
{
	/* No key here needs CKA_ALWAYS_AUTHENTICATE: without the OpenSC style there is
	 * nothing to re-authenticate. */
	if (!m->config.opensc_unblock_styles || slot->card_login == P11U_LOGIN_USER)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (slot->card_login != P11U_LOGIN_NONE)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	if (!format_ok(slot, P11U_SECRET_USER_CODE, code, len, "C_Login(CKU_CONTEXT_SPECIFIC)"))
		return CKR_PIN_INCORRECT;
	keep_secret(&slot->card_secret, code, len);
	slot->card_login = P11U_LOGIN_UNBLOCK;
	return CKR_OK;
}

static CK_RV login_user_code_token(struct p11u_slot *slot, CK_USER_TYPE user_type,
                                   const CK_UTF8CHAR *code, CK_ULONG len)
{
	if (user_type != CKU_USER)
		return CKR_USER_TYPE_INVALID;
	if (slot->uc_login)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (slot->counters.user_code_tries == 0)
		return CKR_PIN_LOCKED;
	if (!format_ok(slot, P11U_SECRET_USER_CODE, code, len, "C_Login(user-code token)"))
		return CKR_PIN_INCORRECT;
	slot->uc_login = true;
	return CKR_OK;
}

/* The checks every login starts with. */
static CK_RV login_args(CK_USER_TYPE user_type, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	if (pin == NULL && pin_len != 0)
		return CKR_ARGUMENTS_BAD;
	if (user_type != CKU_USER && user_type != CKU_SO && user_type != CKU_CONTEXT_SPECIFIC)
		return CKR_USER_TYPE_INVALID;
	return CKR_OK;
}

CK_RV p11u_login(struct p11u_module *m, struct p11u_session *s, CK_USER_TYPE user_type,
                 const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	struct p11u_slot *slot = s->slot;
	int tries = -1;
	CK_RV rv = login_args(user_type, pin, pin_len);

	if (rv != CKR_OK)
		return rv;
	if (s->uc)
		return login_user_code_token(slot, user_type, pin, pin_len);
	rv = p11u_token_require_security_ops(slot, "C_Login");
	if (rv == CKR_OK && user_type != CKU_USER)
		rv = p11u_token_require_pin_management(slot, "C_Login as SO or context-specific");
	if (rv != CKR_OK)
		return rv;
	switch (user_type) {
	case CKU_USER:
		return login_user(m, slot, pin, pin_len, -1, &tries);
	case CKU_SO:
		return login_so(m, slot, pin, pin_len, -1, &tries);
	default:
		return login_context_specific(m, slot, pin, pin_len);
	}
}

CK_RV p11u_login_expected(struct p11u_module *m, struct p11u_session *s, CK_USER_TYPE user_type,
                          const CK_UTF8CHAR *pin, CK_ULONG pin_len, CK_ULONG tries_seen,
                          CK_ULONG_PTR tries_now)
{
	struct p11u_slot *slot = s->slot;
	int tries = -1;
	CK_RV rv = login_args(user_type, pin, pin_len);

	if (rv == CKR_OK &&
	    (user_type == CKU_CONTEXT_SPECIFIC || tries_seen < 1 || tries_seen > P11U_TRIES_MAX))
		rv = CKR_ARGUMENTS_BAD;
	if (rv != CKR_OK)
		return rv;
	if (s->uc)
		return CKR_FUNCTION_NOT_SUPPORTED;
	rv = p11u_token_require_pin_management(slot, "P11U_Login");
	if (rv != CKR_OK)
		return rv;
	if (user_type == CKU_USER)
		rv = login_user(m, slot, pin, pin_len, (int)tries_seen, &tries);
	else
		rv = login_so(m, slot, pin, pin_len, (int)tries_seen, &tries);
	if (rv == CKR_OK)
		tries = P11U_TRIES_MAX;
	if (tries_now != NULL && tries >= 0)
		*tries_now = (CK_ULONG)tries;
	else if (tries_now != NULL && rv == CKR_DEVICE_REMOVED && tries == TRIES_NOTHING_SENT)
		*tries_now = CK_UNAVAILABLE_INFORMATION;
	return rv;
}

CK_RV p11u_logout(struct p11u_module *m, struct p11u_session *s)
{
	struct p11u_slot *slot = s->slot;

	if (s->uc ? !slot->uc_login : slot->card_login == P11U_LOGIN_NONE)
		return CKR_USER_NOT_LOGGED_IN;
	p11u_token_logout(m, slot, s->uc);
	return CKR_OK;
}

static CK_RV change_pin(struct p11u_module *m, struct p11u_slot *slot, const CK_UTF8CHAR *old_pin,
                        CK_ULONG old_len, const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	int tries = -1;
	enum p11u_card_rv crv;
	CK_RV rv = check_new_pin(new_pin, new_len);

	if (rv != CKR_OK)
		return rv;
	if (!format_ok(slot, P11U_SECRET_PIN, old_pin, old_len, "C_SetPIN"))
		return CKR_PIN_INCORRECT;
	crv = p11u_card_change_pin(slot->card, old_pin, old_len, new_pin, new_len, &tries);
	if (crv != P11U_CARD_OK)
		return secret_result(m, slot, P11U_SECRET_PIN, crv, tries);
	P11U_DEBUG(P11U_LOG_CARD, "reader %s: PIN changed", slot->reader_name);
	p11u_token_set_counters(m, slot, P11U_TRIES_MAX, -1);
	return CKR_OK;
}

static CK_RV refuse_last_try(const struct p11u_slot *slot, int user_code_tries)
{
	if (user_code_tries <= 0)
		return CKR_PIN_LOCKED;
	P11U_DEBUG(P11U_LOG_CARD,
	           "reader %s: one user-code try left: refused (only an explicit SO login or "
	           "`p11unlock --last-try` may spend it)",
	           slot->reader_name);
	return CKR_FUNCTION_REJECTED;
}

/* RESET RETRY COUNTER with a user code and a new PIN.  keep_last_try: refuse when the user
 * code has one try left (checked in the same transaction as the reset). */
static CK_RV reset_pin(struct p11u_module *m, struct p11u_slot *slot, const CK_UTF8CHAR *code,
                       CK_ULONG code_len, const CK_UTF8CHAR *new_pin, CK_ULONG new_len,
                       bool keep_last_try)
{
	struct p11u_secret_state uc;
	int tries = -1;
	enum p11u_card_rv crv;
	CK_RV rv = check_new_pin(new_pin, new_len);

	if (rv != CKR_OK)
		return rv;
	if (!format_ok(slot, P11U_SECRET_USER_CODE, code, code_len, "PIN reset"))
		return CKR_PIN_INCORRECT;
	if (keep_last_try && slot->counters.known && slot->counters.user_code_tries <= 1)
		return refuse_last_try(slot, slot->counters.user_code_tries);

	crv = p11u_card_begin(slot->card);
	if (crv != P11U_CARD_OK)
		return p11u_token_card_result(m, slot, crv);
	if (keep_last_try) {
		crv = p11u_card_secret_state(slot->card, P11U_SECRET_USER_CODE, &uc);
		if (crv == P11U_CARD_OK && uc.tries_left <= 1) {
			p11u_card_end(slot->card);
			p11u_token_set_counters(m, slot, -1, uc.tries_left);
			return refuse_last_try(slot, uc.tries_left);
		}
	}
	if (crv == P11U_CARD_OK)
		crv = p11u_card_reset_pin(slot->card, code, code_len, new_pin, new_len, &tries);
	p11u_card_end(slot->card);
	if (crv != P11U_CARD_OK)
		return secret_result(m, slot, P11U_SECRET_USER_CODE, crv, tries);
	P11U_DEBUG(P11U_LOG_CARD, "reader %s: PIN reset with the user code", slot->reader_name);
	p11u_token_set_counters(m, slot, P11U_TRIES_MAX, P11U_TRIES_MAX);
	return CKR_OK;
}

/* opensc_unblock_styles, nobody logged in: a user code releases a locked PIN; otherwise this
 * is an ordinary PIN change.  The lock check and the command share one transaction. */
static CK_RV set_pin_unlogged_opensc(struct p11u_module *m, struct p11u_slot *slot,
                                     const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                                     const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	struct p11u_secret_state pin;
	enum p11u_card_rv crv = p11u_card_begin(slot->card);
	CK_RV rv;

	if (crv != P11U_CARD_OK)
		return p11u_token_card_result(m, slot, crv);
	crv = p11u_card_secret_state(slot->card, P11U_SECRET_PIN, &pin);
	if (crv != P11U_CARD_OK) {
		p11u_card_end(slot->card);
		return p11u_token_card_result(m, slot, crv);
	}
	if (pin.tries_left == 0)
		rv = reset_pin(m, slot, old_pin, old_len, new_pin, new_len, true);
	else
		rv = change_pin(m, slot, old_pin, old_len, new_pin, new_len);
	/* reset_pin/change_pin may have dropped a removed card. */
	if (slot->card != NULL)
		p11u_card_end(slot->card);
	return rv;
}

CK_RV p11u_set_pin(struct p11u_module *m, struct p11u_session *s, const CK_UTF8CHAR *old_pin,
                   CK_ULONG old_len, const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	struct p11u_slot *slot = s->slot;
	CK_RV rv;

	if ((old_pin == NULL && old_len != 0) || (new_pin == NULL && new_len != 0))
		return CKR_ARGUMENTS_BAD;
	if (!s->rw)
		return CKR_SESSION_READ_ONLY;
	if (s->uc)
		return reset_pin(m, slot, old_pin, old_len, new_pin, new_len, true);
	rv = p11u_token_require_pin_management(slot, "C_SetPIN");
	if (rv != CKR_OK)
		return rv;
	switch (slot->card_login) {
	case P11U_LOGIN_SO:
		P11U_DEBUG(P11U_LOG_CARD,
		           "C_SetPIN as SO refused: the user code is kept by the CA");
		return CKR_FUNCTION_NOT_SUPPORTED;
	case P11U_LOGIN_UNBLOCK:
		rv = reset_pin(m, slot, slot->card_secret.bytes, slot->card_secret.len, new_pin,
		               new_len, true);
		if (rv != CKR_PIN_LEN_RANGE && rv != CKR_PIN_INVALID)
			p11u_token_logout(m, slot, false); /* one use per context-specific login */
		return rv;
	case P11U_LOGIN_USER:
		return change_pin(m, slot, old_pin, old_len, new_pin, new_len);
	case P11U_LOGIN_NONE:
		break;
	}
	if (m->config.opensc_unblock_styles)
		return set_pin_unlogged_opensc(m, slot, old_pin, old_len, new_pin, new_len);
	return change_pin(m, slot, old_pin, old_len, new_pin, new_len);
}

CK_RV p11u_init_pin(struct p11u_module *m, struct p11u_session *s, const CK_UTF8CHAR *pin,
                    CK_ULONG pin_len)
{
	struct p11u_slot *slot = s->slot;
	CK_RV rv;

	if (pin == NULL && pin_len != 0)
		return CKR_ARGUMENTS_BAD;
	if (s->uc)
		return CKR_USER_NOT_LOGGED_IN; /* nobody is SO on the user-code token */
	rv = p11u_token_require_pin_management(slot, "C_InitPIN");
	if (rv != CKR_OK)
		return rv;
	if (!s->rw)
		return CKR_SESSION_READ_ONLY;
	if (slot->card_login != P11U_LOGIN_SO)
		return CKR_USER_NOT_LOGGED_IN;
	/* The user code was verified at C_Login(CKU_SO); the reset checks it again. */
	return reset_pin(m, slot, slot->card_secret.bytes, slot->card_secret.len, pin, pin_len,
	                 false);
}
