/* The PKCS#11 side of the tool: the module (loaded with p11-kit), the card
 * tokens it shows, their retry counters and the two PIN operations.
 *
 * Counters, best source first: the module's "PIN status" data object
 * (CKA_APPLICATION "p11unlock", value "pin_tries=N user_code_tries=M"),
 * which p11-kit's proxy and remoting forward; the "Vendor P11UNLOCK"
 * interface when the tool reaches the module's own symbols; else the token's
 * CKF_USER_PIN_* and CKF_SO_PIN_* flags, which every module may set. */
#ifndef P11UNLOCK_TOOL_TOKEN_H
#define P11UNLOCK_TOOL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "certinfo.h"
#include "secret.h"

/* The manufacturerID of our module's tokens. */
#define P11UNLOCK_MANUFACTURER "p11unlock"
/* Our module's user-code tokens (the token for Firefox while a card is locked) have this
 * model, and labels starting with this prefix. */
#define USER_CODE_TOKEN_MODEL        "User code"
#define USER_CODE_TOKEN_LABEL_PREFIX "用戶代碼"

struct module {
	CK_FUNCTION_LIST *functions;
	char manufacturer[33];
	char description[33];
	void *own_handle; /* our dlopen reference, for the vendor interface (NULL: none) */
	const void *vendor;
};

enum card_kind {
	CARD_P11UNLOCK, /* a card our module unlocks */
	CARD_HICOS,     /* a real HiCOS card: its lock is released at the CA */
	CARD_FOREIGN,   /* a token of another module: SO login only with --foreign-token */
};

enum tries_state {
	TRIES_OK,
	TRIES_LOW,   /* fewer than the maximum left */
	TRIES_FINAL, /* one try left */
	TRIES_LOCKED,
};

struct tries {
	enum tries_state state;
	int left; /* the exact count, or -1 when only the state is known (flags) */
};

enum tries_source {
	TRIES_FROM_STATUS_OBJECT,
	TRIES_FROM_VENDOR,
	TRIES_FROM_FLAGS,
};

struct card {
	CK_SLOT_ID slot;
	CK_TOKEN_INFO token_info;
	char reader[65];       /* slotDescription, trimmed */
	char label[33];        /* token label, trimmed */
	char serial[17];       /* serialNumber: the card number */
	char model[17];        /* the card type, e.g. "P11U V1" or "CHT V32N" */
	char manufacturer[33]; /* manufacturerID */
	enum card_kind kind;
	bool hicos_login_off; /* a first-generation card, read-only while hicos_login = no */
	struct tries pin;
	struct tries user_code; /* the SO PIN of other modules */
	enum tries_source tries_source;
	bool has_cert;
	struct cert_facts cert; /* the signature certificate */
	/* The R/W session opened on this card when the holder chose it (card_bind): every secret
	 * goes through it, so it reaches this card or none (the module makes a session stale when
	 * its card is taken out or swapped). */
	CK_SESSION_HANDLE session;
	bool bound;
};

/* A card in a reader that the module gives no token on purpose: a p11unlock test card while
 * the module's allow_test_cards is off (the module says so through P11U_GetCardInfo). */
struct withheld_card {
	char reader[65]; /* slotDescription, trimmed */
	char serial[17]; /* the card number */
	char model[25];  /* the card type, e.g. "P11U V1" */
};

struct card_list {
	struct card *cards;
	size_t count;
	size_t slots;                   /* every slot of the module (0: no reader) */
	size_t unrecognized;            /* tokens whose information could not be read */
	struct withheld_card *withheld; /* test cards without a token (allow_test_cards off) */
	size_t n_withheld;
	size_t passed_over; /* cards whose number is not the one looked for (only_serial) */
};

/* Loads (p11_kit_module_load) and initializes a module.  On failure prints why and
 * returns false. */
bool module_open(const char *path, struct module *module);
void module_close(struct module *module);

/* Every card token, user-code tokens left out.  With only_serial (--serial), a card whose number
 * the module gives alone (P11U_GetCardNumber) and that is another number is passed over
 * (counted in passed_over) without reading it further.  Returns CKR_OK or the failing call's
 * value. */
CK_RV cards_detect(const struct module *module, const char *only_serial, struct card_list *list);
void card_list_free(struct card_list *list);

/* Opens the session that binds the holder's secrets to the card chosen, and checks that the
 * token it was opened on is that card (serial).  CKR_DEVICE_REMOVED when it is not. */
CK_RV card_bind(const struct module *module, struct card *card);
void card_unbind(const struct module *module, struct card *card);
/* card_unbind() for every card of a list. */
void cards_unbind(const struct module *module, struct card_list *list);
/* Whether the bound session is still on the card chosen: CKR_OK, else the module's answer
 * (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID, ...).  No card I/O. */
CK_RV card_check_bound(const struct module *module, struct card *card);

/* Reads the token's flags and counters again (before a decision that costs a try), through
 * the bound session when there is one. */
CK_RV card_refresh_tries(const struct module *module, struct card *card);

/* Which card --serial / --slot / --token name (all given ones must match). */
struct card_selector {
	const char *serial;
	bool by_slot;
	CK_SLOT_ID slot;
	P11KitUri *uri;
};

bool card_selector_any(const struct card_selector *selector);
bool card_selected(const struct card_selector *selector, const struct card *card);

/* Where a PIN operation failed. */
enum pin_stage {
	PIN_STAGE_SESSION,
	PIN_STAGE_LOGIN,
	PIN_STAGE_CHANGE, /* C_InitPIN or C_SetPIN */
};

/* On the bound session: C_Login(CKU_SO, user code), C_InitPIN(new PIN), C_Logout.  The login
 * is P11U_Login with the count the holder saw (card->user_code.left) when the module offers
 * it: P11UNLOCK_CKR_TRIES_CHANGED, with nothing sent, when the card's count differs. */
CK_RV card_reset_pin(const struct module *module, struct card *card, const struct secret *user_code,
                     const struct secret *new_pin, enum pin_stage *stage);

/* On the bound session: C_Login(CKU_USER, current PIN) (P11U_Login with card->pin.left, as
 * above), C_SetPIN(current, new), C_Logout. */
CK_RV card_change_pin(const struct module *module, struct card *card,
                      const struct secret *current_pin, const struct secret *new_pin,
                      enum pin_stage *stage);

/* Pure helpers, exposed for the unit tests. */
bool token_is_user_code(const CK_TOKEN_INFO *info);
enum card_kind card_kind_of(const CK_TOKEN_INFO *info);
void tries_from_count(int left, struct tries *tries);
void tries_from_flags(CK_FLAGS flags, bool so, struct tries *tries);
bool status_value_parse(const char *value, size_t len, int *pin_tries, int *user_code_tries);
void padded_copy(char *out, size_t out_size, const CK_UTF8CHAR *in, size_t in_len);

#endif
