/* Internal interfaces of the PKCS#11 front, file by file.
 *
 * A PKCS#11 call goes: module.c (the entry point: enter, one call, leave) -> the file that
 * implements it (slot.c, token.c, session.c, login.c, find.c, ops.c) -> the card layer
 * (card/card.h) or the object and crypto layer (object.h, crypto.h).
 *
 * Locking (call.c).  Two kinds of lock, so that one card never holds up another reader or a
 * call that needs no card:
 * - the module lock guards every structure below and is held by a call from enter to leave,
 *   except while it talks to a reader (the slot's transport gives it up around each PC/SC
 *   call) and while C_WaitForSlotEvent waits;
 * - each slot has a card lock: whoever works with the card (card I/O, the card and
 *   connection objects, logins, the slot's sessions being used) holds it, taken with
 *   p11u_slot_claim() (waiting without the module lock, at most twice card_timeout) or
 *   p11u_slot_try_claim().  The module lock is never waited for the other way round.
 * A slot's state is changed only by a holder of both locks, so it may be read under either. */
#ifndef P11U_PKCS11_FRONT_H
#define P11U_PKCS11_FRONT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "card/card.h"
#include "p11unlock/p11unlock.h"
#include "pcsc/reader.h"
#include "pkcs11/conf.h"
#include "pkcs11/crypto.h"
#include "pkcs11/object.h"

/* Token field sizes and PIN lengths advertised in CK_TOKEN_INFO.  ulMaxPinLen covers the user
 * code (SO login), which is longer than the PIN. */
#define P11U_TOKEN_MIN_PIN_LEN P11U_PIN_MIN
#define P11U_TOKEN_MAX_PIN_LEN P11U_USER_CODE_MAX

/* ------------------------------------------------------------------------------------------
 * Slots and tokens (slot.c: readers, presence, card insertion, slot events;
 * token.c: token info, retry counters, login state of a token)
 * ------------------------------------------------------------------------------------------ */

enum p11u_token_state {
	P11U_TOKEN_NONE,         /* no card, or a card that gets no token (test card while
	                            allow_test_cards is off) */
	P11U_TOKEN_UNRECOGNIZED, /* a card that is not one of ours, or a mute card */
	P11U_TOKEN_READ_ONLY,    /* real HiCOS card: certificates and public keys only */
	P11U_TOKEN_FULL,         /* p11unlock test card */
	P11U_TOKEN_HICOS,        /* first-generation HiCOS card with hicos_login = yes: PIN login,
	                            signing, decryption; no PIN management, no free counters */
	P11U_TOKEN_STALLED,      /* a card that stopped answering within card_timeout: no token
	                            until it answers again or is taken out (CKR_DEVICE_ERROR) */
};

enum p11u_login {
	P11U_LOGIN_NONE,
	P11U_LOGIN_USER,    /* PIN verified on the card by this module */
	P11U_LOGIN_SO,      /* user code verified on the card, kept for C_InitPIN */
	P11U_LOGIN_UNBLOCK, /* opensc_unblock_styles: CKU_CONTEXT_SPECIFIC user code kept for
	                       C_SetPIN */
};

/* A secret kept for the length of one login (wiped with OPENSSL_cleanse). */
struct p11u_secret_buf {
	uint8_t bytes[P11U_USER_CODE_MAX];
	size_t len;
};

struct p11u_counters {
	bool known;
	bool at_open; /* the reading made when the card was opened (token.c) */
	int pin_tries;
	int user_code_tries;
	struct timespec read_at; /* CLOCK_MONOTONIC */
};

/* One PC/SC reader and its two slots: 2n shows the card token, 2n+1 the user-code token. */
struct p11u_slot {
	char *reader_name;
	CK_SLOT_ID card_slot_id; /* 2n */
	bool listed;             /* in the latest reader list */

	/* The card lock (see the top of this file) and who holds it. */
	pthread_mutex_t io_lock;
	pthread_t io_owner;
	bool io_owned;
	/* What the card layer talks through: the connection's transport, called without the
	 * module lock. */
	struct p11u_transport transport;

	/* Presence: pcscd's event counter and whether a card was in the reader when this slot
	 * last looked (a change of either is an insertion or a removal). */
	bool have_event_count;
	unsigned event_count;
	bool card_in_reader;
	struct p11u_reader *conn; /* kept open while a card of ours is present */
	/* The card of a new insertion is being read (by the holder of the card lock): it is in
	 * the reader, its token is not ready yet.  The slot shows it as present meanwhile. */
	bool reading;
	bool read_queued; /* a thread was started to read the card (slot.c, read_others_at_once) */
	/* The card number read alone (P11U_GetCardNumber) for the insertion with this event count:
	 * the card is not read further until its token is needed. */
	bool have_peek;
	unsigned peek_event_count;
	char peek_number[17];
	struct p11u_card *card;
	const struct p11u_card_info *info;
	enum p11u_token_state state;
	/* A p11unlock test card refused a token (allow_test_cards off): its number and type for
	 * P11U_GetCardInfo, until it leaves the reader. */
	bool withheld;
	char withheld_number[17];
	char withheld_type[25];

	/* Generations: a new value for each token that appears, 0 while there is none.  Sessions
	 * remember the generation they were opened on; a mismatch means the token went away. */
	unsigned long card_gen;
	unsigned long uc_gen;

	struct p11u_object_table objects; /* built once per insertion */
	char label[33];                   /* card token label, UTF-8, NUL-terminated */
	struct p11u_counters counters;

	enum p11u_login card_login;
	bool uc_login;                      /* user-code token: format checked, code not kept */
	struct p11u_secret_buf card_secret; /* SO or UNBLOCK login */

	/* C_WaitForSlotEvent: the generations last reported. */
	unsigned long reported_card_gen;
	unsigned long reported_uc_gen;
	/* The card in the reader at C_Initialize, by pcscd's event counter then: that insertion
	 * is no slot event, whichever call reads it first. */
	bool start_card;
	unsigned start_event_count;
};

/* ------------------------------------------------------------------------------------------
 * Sessions (session.c)
 * ------------------------------------------------------------------------------------------ */

struct p11u_find {
	bool active;
	CK_OBJECT_HANDLE *handles;
	size_t count;
	size_t next;
};

struct p11u_session {
	CK_SESSION_HANDLE handle;
	struct p11u_slot *slot;
	bool uc;                 /* opened on the user-code slot */
	unsigned long token_gen; /* the token it was opened on */
	bool rw;
	struct p11u_op sign;
	struct p11u_op decrypt;
	struct p11u_op digest;
	struct p11u_op verify;
	struct p11u_op encrypt;
	struct p11u_find find;
};

/* ------------------------------------------------------------------------------------------
 * The module (call.c)
 * ------------------------------------------------------------------------------------------ */

struct p11u_module {
	struct p11u_config config;
	struct p11u_pcsc *pcsc; /* NULL while pcscd is unreachable (retried on each slot list) */

	struct p11u_slot **slots; /* index n = slots 2n and 2n+1; never shrinks */
	size_t n_slots;
	CK_SLOT_ID *slot_list; /* answer of the last C_GetSlotList(pSlotList = NULL) */
	CK_ULONG slot_list_len;
	bool slot_list_token_present;

	struct p11u_session **sessions;
	size_t n_sessions;
	size_t sessions_cap;

	unsigned long generation; /* source of token generations */

	bool finalizing;  /* C_Finalize waits for the calls under way to leave */
	unsigned calls;   /* calls between enter and leave */
	unsigned waiters; /* of which C_WaitForSlotEvent calls waiting without the lock */
};

struct p11u_call {
	const char *name;
	struct p11u_module *m;
	CK_SESSION_HANDLE handle;     /* for the log line */
	struct p11u_session *session; /* set by p11u_enter_session() */
	struct p11u_slot *slot;       /* set by p11u_enter_slot() */
	bool uc;                      /* ... and whether its ID is the user-code slot */
	struct p11u_slot *claimed;    /* the slot whose card lock this call holds */
	bool locked;
	bool counted; /* in m->calls */
};

CK_RV p11u_initialize(CK_VOID_PTR init_args);
CK_RV p11u_finalize(CK_VOID_PTR reserved);
CK_RV p11u_get_info(CK_INFO_PTR info, CK_BYTE cryptoki_major, CK_BYTE cryptoki_minor);

/* Every entry point: enter (initialized in this process, lock), do one thing, leave (unlock,
 * log the result under P11U_LOG_CALL).  p11u_leave() must be called whatever enter returned. */
CK_RV p11u_enter(struct p11u_call *call, const char *name);
/* p11u_enter() plus the session lookup and its slot's card lock (CKR_SESSION_HANDLE_INVALID,
 * or CKR_DEVICE_REMOVED once when its token went away). */
CK_RV p11u_enter_session(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle);
/* The same without waiting for the card lock, for calls that need no card (C_GetSessionInfo):
 * a slot in use by another call is not brought up to date. */
CK_RV p11u_enter_session_nowait(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle);
/* p11u_enter() plus the slot lookup (call->slot, call->uc) and its card lock. */
CK_RV p11u_enter_slot(struct p11u_call *call, const char *name, CK_SLOT_ID id);
CK_RV p11u_leave(struct p11u_call *call, CK_RV rv);
/* An entry point this module does not implement: enter, return refusal, leave. */
CK_RV p11u_refuse(const char *name, CK_RV refusal);

/* C_WaitForSlotEvent only: give up the lock while waiting; resume returns
 * CKR_CRYPTOKI_NOT_INITIALIZED when C_Finalize ran meanwhile (the lock is held again either
 * way, so p11u_leave() stays the single exit). */
void p11u_call_suspend(struct p11u_call *call);
CK_RV p11u_call_resume(struct p11u_call *call);

/* The card lock of a slot for the rest of the call (released by p11u_leave).  claim waits,
 * without the module lock, at most twice card_timeout (then CKR_DEVICE_ERROR); try_claim does
 * not wait.  A call holds one slot's card lock at most. */
CK_RV p11u_slot_claim(struct p11u_call *call, struct p11u_slot *slot);
bool p11u_slot_try_claim(struct p11u_call *call, struct p11u_slot *slot);
/* Waits for the slot's card lock the way p11u_slot_claim does, without recording it in a
 * call (the caller releases io_lock itself); false after twice card_timeout. */
bool p11u_card_lock_wait(struct p11u_module *m, struct p11u_slot *slot);
/* Whether the calling thread holds the slot's card lock. */
bool p11u_slot_owned(const struct p11u_slot *slot);
/* The module lock, for the slot transport only: it gives the lock up around PC/SC calls. */
void p11u_module_unlock(void);
void p11u_module_lock(void);

/* ------------------------------------------------------------------------------------------
 * slot.c
 * ------------------------------------------------------------------------------------------ */

/* At C_Initialize: a slot pair for each reader pcscd lists, and which readers hold a card
 * (pcscd only, no card I/O). */
void p11u_slots_enumerate(struct p11u_module *m);
CK_RV p11u_slots_get_list(struct p11u_module *m, bool token_present, CK_SLOT_ID_PTR list,
                          CK_ULONG_PTR count);
CK_RV p11u_slot_get_info(struct p11u_module *m, CK_SLOT_ID id, CK_SLOT_INFO_PTR info);
/* Slot by ID, brought up to date (p11u_slot_sync); a card another call is reading is waited
 * for, as the caller needs its token (CKR_DEVICE_ERROR after twice card_timeout). */
CK_RV p11u_slot_lookup(struct p11u_module *m, CK_SLOT_ID id, struct p11u_slot **slot, bool *uc);
/* P11U_GetCardNumber: the number of the card in the slot; a card no call has read yet is asked
 * for it alone (p11u_card_read_number) and not read further until its token is needed. */
CK_RV p11u_slot_card_number(struct p11u_call *call, CK_SLOT_ID id, char number[17]);
/* Slot by ID, as it is (no pcscd or card I/O). */
CK_RV p11u_slot_by_id(struct p11u_module *m, CK_SLOT_ID id, struct p11u_slot **slot, bool *uc);
/* Notices insertion and removal (from the reader monitor's report; pcscd is asked only when
 * it disagrees, and then a reset by another process is noticed too; otherwise the next command
 * to the card reports a reset): no card I/O, except reading a newly inserted card once
 * (p11u_card_open + objects).  A slot whose card lock another call holds is left as it is:
 * that call notices changes itself. */
void p11u_slot_sync(struct p11u_module *m, struct p11u_slot *slot);
/* Forgets the card: objects, logins and secrets; its sessions become stale. */
void p11u_slot_drop_card(struct p11u_module *m, struct p11u_slot *slot);
/* The card stopped answering within card_timeout: forgets it like a removal, and shows it as
 * not answering (P11U_TOKEN_STALLED) until it answers again or is taken out. */
void p11u_slot_stalled(struct p11u_module *m, struct p11u_slot *slot);
void p11u_slots_free(struct p11u_module *m);
/* In a forked child: wipes the secrets kept for logins of the parent, touching nothing else. */
void p11u_slots_wipe_secrets(struct p11u_module *m);
bool p11u_token_present(const struct p11u_slot *slot, bool uc);
unsigned long p11u_token_gen(const struct p11u_slot *slot, bool uc);
CK_RV p11u_wait_for_slot_event(struct p11u_call *call, CK_FLAGS flags, CK_SLOT_ID_PTR slot_id);

/* ------------------------------------------------------------------------------------------
 * token.c
 * ------------------------------------------------------------------------------------------ */

/* Blank-padded copy of UTF-8 text into a fixed PKCS#11 field, cut on a character boundary. */
void p11u_pad(CK_UTF8CHAR *field, size_t size, const char *text);

/* At insertion: label (holder and end of the card number) and the first counter reading. */
void p11u_token_setup(struct p11u_module *m, struct p11u_slot *slot);
CK_RV p11u_token_get_info(struct p11u_call *call, CK_SLOT_ID slot_id, CK_TOKEN_INFO_PTR info);
/* How old a counter reading may be (the card's answer to this module, learnt from an empty
 * VERIFY or any PIN command): P11U_COUNTERS_NOW always asks the card. */
enum p11u_counters_age {
	P11U_COUNTERS_NOW,
	P11U_COUNTERS_FRESH, /* the reading made when the card was opened, under 0.25 s: the
	                        status object, P11U_GetTriesLeft */
	P11U_COUNTERS_SHORT_LIVED, /* under 1 s: C_GetTokenInfo's flags */
};
/* Reads both counters from the card (no cost) unless the last reading is young enough. */
CK_RV p11u_token_refresh_counters(struct p11u_module *m, struct p11u_slot *slot,
                                  enum p11u_counters_age age);
/* Records counters learnt from a PIN operation (-1 = unchanged); shows or hides the
 * user-code token. */
void p11u_token_set_counters(struct p11u_module *m, struct p11u_slot *slot, int pin_tries,
                             int user_code_tries);
/* Side effects of a card result: removal drops the card, a reset or a lost verification drops
 * the logins.  Returns the CK_RV for it. */
CK_RV p11u_token_card_result(struct p11u_module *m, struct p11u_slot *slot,
                             enum p11u_card_rv card_rv);
/* Ends the login of one token and wipes its secret. */
void p11u_token_logout(struct p11u_module *m, struct p11u_slot *slot, bool uc);
bool p11u_token_user_logged_in(const struct p11u_slot *slot);
/* Whether the token of a slot can be used: CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED,
 * CKR_DEVICE_ERROR (card not answering) or CKR_OK. */
CK_RV p11u_token_usable(const struct p11u_slot *slot, bool uc);
/* CKR_FUNCTION_NOT_SUPPORTED (with a P11U_LOG_CARD line) unless the card gets security
 * operations: a test card, or a first-generation card with hicos_login = yes. */
CK_RV p11u_token_require_security_ops(const struct p11u_slot *slot, const char *what);
/* The same for PIN management (C_SetPIN, SO login, C_InitPIN, counters read without cost):
 * the test card only. */
CK_RV p11u_token_require_pin_management(const struct p11u_slot *slot, const char *what);
/* Whether the token's private keys may be used once logged in (test card, gen1 login). */
bool p11u_token_has_keys(const struct p11u_slot *slot);
/* The status object's CKA_VALUE, read fresh from the card. */
CK_RV p11u_token_status_value(struct p11u_module *m, struct p11u_slot *slot, char *out,
                              size_t out_size);
/* The vendor interface (include/p11unlock/p11unlock.h). */
CK_RV p11u_token_tries_left(struct p11u_call *call, CK_SLOT_ID slot_id, CK_ULONG_PTR pin_tries,
                            CK_ULONG_PTR user_code_tries);
CK_RV p11u_token_card_info(struct p11u_module *m, CK_SLOT_ID slot_id, P11UNLOCK_CARD_INFO *info);

/* ------------------------------------------------------------------------------------------
 * session.c
 * ------------------------------------------------------------------------------------------ */

CK_RV p11u_session_open(struct p11u_module *m, CK_SLOT_ID slot_id, CK_FLAGS flags,
                        CK_SESSION_HANDLE_PTR handle);
CK_RV p11u_session_close(struct p11u_module *m, struct p11u_session *s);
CK_RV p11u_session_close_all(struct p11u_module *m, struct p11u_slot *slot, bool uc);
CK_RV p11u_session_get_info(struct p11u_module *m, struct p11u_session *s,
                            CK_SESSION_INFO_PTR info);
/* The session with this handle, NULL when there is none (no check of its token). */
struct p11u_session *p11u_session_find(const struct p11u_module *m, CK_SESSION_HANDLE handle);
/* CKR_OK for a session whose token is still there; else CKR_DEVICE_REMOVED, and the session is
 * forgotten (when remove is set: only a holder of its slot's card lock may). */
CK_RV p11u_session_check_live(struct p11u_module *m, struct p11u_session *s, bool remove);
/* Live sessions on one token (stale ones of an earlier card are not counted). */
CK_ULONG p11u_sessions_count(const struct p11u_module *m, const struct p11u_slot *slot, bool uc,
                             bool rw_only);
/* Ends the private-key operations of a token's sessions (logout, lost login). */
void p11u_sessions_end_private_ops(struct p11u_module *m, const struct p11u_slot *slot);
void p11u_sessions_free(struct p11u_module *m);

/* ------------------------------------------------------------------------------------------
 * login.c: C_Login, C_Logout, C_SetPIN, C_InitPIN (PIN, SO / user code, user-code token)
 * ------------------------------------------------------------------------------------------ */

CK_RV p11u_login(struct p11u_module *m, struct p11u_session *s, CK_USER_TYPE user_type,
                 const CK_UTF8CHAR *pin, CK_ULONG pin_len);
/* P11U_Login of the vendor interface: the VERIFY only when the card's counter is tries_seen. */
CK_RV p11u_login_expected(struct p11u_module *m, struct p11u_session *s, CK_USER_TYPE user_type,
                          const CK_UTF8CHAR *pin, CK_ULONG pin_len, CK_ULONG tries_seen,
                          CK_ULONG_PTR tries_now);
CK_RV p11u_logout(struct p11u_module *m, struct p11u_session *s);
CK_RV p11u_set_pin(struct p11u_module *m, struct p11u_session *s, const CK_UTF8CHAR *old_pin,
                   CK_ULONG old_len, const CK_UTF8CHAR *new_pin, CK_ULONG new_len);
CK_RV p11u_init_pin(struct p11u_module *m, struct p11u_session *s, const CK_UTF8CHAR *pin,
                    CK_ULONG pin_len);

/* ------------------------------------------------------------------------------------------
 * find.c: searches and attributes, served from the object table
 * ------------------------------------------------------------------------------------------ */

/* The object if the session may see it (private objects only while the user is logged in). */
const struct p11u_object *p11u_visible_object(const struct p11u_session *s,
                                              CK_OBJECT_HANDLE handle);
CK_RV p11u_find_init(struct p11u_module *m, struct p11u_session *s, const CK_ATTRIBUTE *tmpl,
                     CK_ULONG count);
CK_RV p11u_find_next(struct p11u_session *s, CK_OBJECT_HANDLE_PTR handles, CK_ULONG max,
                     CK_ULONG_PTR count);
CK_RV p11u_find_final(struct p11u_session *s);
void p11u_find_release(struct p11u_find *find);
CK_RV p11u_get_attribute_value(struct p11u_module *m, struct p11u_session *s,
                               CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
CK_RV p11u_get_object_size(struct p11u_session *s, CK_OBJECT_HANDLE handle, CK_ULONG_PTR size);
/* C_CreateObject, C_CopyObject, C_DestroyObject, C_SetAttributeValue: the token's objects are
 * fixed (see find.c for the return codes chosen). */
CK_RV p11u_object_create_refused(struct p11u_session *s);
CK_RV p11u_object_change_refused(struct p11u_session *s, CK_OBJECT_HANDLE handle);

/* ------------------------------------------------------------------------------------------
 * ops.c: mechanisms, sign, decrypt, digest, verify, encrypt, random (bookkeeping around
 * crypto.h)
 * ------------------------------------------------------------------------------------------ */

CK_RV p11u_mechanisms_list(struct p11u_module *m, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE_PTR list,
                           CK_ULONG_PTR count);
CK_RV p11u_mechanisms_info(struct p11u_module *m, CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type,
                           CK_MECHANISM_INFO_PTR info);

CK_RV p11u_sign_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV p11u_sign(struct p11u_module *m, struct p11u_session *s, const CK_BYTE *data, CK_ULONG len,
                CK_BYTE_PTR sig, CK_ULONG_PTR sig_len);
CK_RV p11u_sign_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len);
CK_RV p11u_sign_final(struct p11u_module *m, struct p11u_session *s, CK_BYTE_PTR sig,
                      CK_ULONG_PTR sig_len);

CK_RV p11u_decrypt_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV p11u_decrypt(struct p11u_module *m, struct p11u_session *s, const CK_BYTE *in,
                   CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV p11u_decrypt_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len);
CK_RV p11u_decrypt_final(struct p11u_session *s);

CK_RV p11u_digest_init(struct p11u_session *s, const CK_MECHANISM *mech);
CK_RV p11u_digest(struct p11u_session *s, const CK_BYTE *data, CK_ULONG len, CK_BYTE_PTR out,
                  CK_ULONG_PTR out_len);
CK_RV p11u_digest_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len);
CK_RV p11u_digest_final(struct p11u_session *s, CK_BYTE_PTR out, CK_ULONG_PTR out_len);

CK_RV p11u_verify_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV p11u_verify(struct p11u_session *s, const CK_BYTE *data, CK_ULONG len, const CK_BYTE *sig,
                  CK_ULONG sig_len);
CK_RV p11u_verify_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len);
CK_RV p11u_verify_final(struct p11u_session *s, const CK_BYTE *sig, CK_ULONG sig_len);

CK_RV p11u_encrypt_init(struct p11u_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV p11u_encrypt(struct p11u_session *s, const CK_BYTE *in, CK_ULONG in_len, CK_BYTE_PTR out,
                   CK_ULONG_PTR out_len);
CK_RV p11u_encrypt_update(struct p11u_session *s, const CK_BYTE *part, CK_ULONG len);
CK_RV p11u_encrypt_final(struct p11u_session *s);

CK_RV p11u_seed_random(struct p11u_session *s, const CK_BYTE *seed, CK_ULONG len);
CK_RV p11u_generate_random(struct p11u_module *m, struct p11u_session *s, CK_BYTE_PTR out,
                           CK_ULONG len);

#endif
