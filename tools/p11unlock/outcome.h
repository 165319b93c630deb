/* What the flow's events mean, decided without printing: which detection result it is, what
 * a PIN operation's answer means for the holder, what reached the card, which exit status
 * follows.  The command-line tool prints the messages of messages.h for them; a window can
 * show the same messages for the same decisions. */
#ifndef P11UNLOCK_TOOL_OUTCOME_H
#define P11UNLOCK_TOOL_OUTCOME_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "token.h"

/* Exit codes (documented in --help and p11unlock(1)). */
enum tool_exit {
	EXIT_TOOL_OK = 0,
	EXIT_TOOL_OTHER = 1,         /* the module does not load, a PKCS#11 call fails */
	EXIT_TOOL_USAGE = 2,         /* bad option, or an answer that failed the local checks */
	EXIT_TOOL_WRONG_SECRET = 3,  /* wrong user code (or wrong current PIN with --change-pin) */
	EXIT_TOOL_BLOCKED = 4,       /* user code blocked (or PIN locked with --change-pin) */
	EXIT_TOOL_NOT_CONFIRMED = 5, /* the last user-code try (or the unlock) not confirmed */
	EXIT_TOOL_NO_CARD = 6,     /* no reader, no card, none matching the selection, or removed */
	EXIT_TOOL_NOT_HANDLED = 7, /* real HiCOS card; foreign token without --foreign-token */
};

/* Step 1: what the detection found. */
enum detect_result {
	DETECT_OK,             /* at least one card token */
	DETECT_ERROR,          /* the module could not list its slots */
	DETECT_NO_READER,      /* no slot at all */
	DETECT_TEST_CARDS_OFF, /* only test cards the module withholds (allow_test_cards = no) */
	DETECT_UNRECOGNIZED,   /* cards present, none the module recognizes */
	DETECT_NO_CARD,        /* readers, no card */
};

enum detect_result detect_classify(CK_RV rv, const struct card_list *list);
int detect_exit(enum detect_result result);
/* Whether detecting again can help (a card or a reader may be put in meanwhile). */
bool detect_retry_helps(enum detect_result result);

/* The module's answer for a card that left the reader or was replaced. */
bool card_gone(CK_RV rv);

/* What had reached the card when a PIN operation stopped. */
enum reached {
	REACHED_NOTHING,         /* stopped before any secret was sent (the session stage) */
	REACHED_MAYBE,           /* stopped while the card checked the secret: it may have got it */
	REACHED_SECRET_ACCEPTED, /* the user code (current PIN) was accepted; stopped while the new
	                            PIN was being set: it may or may not be set */
};

enum reached reached_at(enum pin_stage stage);

/* Step 5: what the module's answer to the release (or the PIN change) means. */
enum pin_result {
	PIN_RESULT_OK,
	PIN_RESULT_WRONG_SECRET,  /* CKR_PIN_INCORRECT: a try is spent */
	PIN_RESULT_BLOCKED,       /* CKR_PIN_LOCKED */
	PIN_RESULT_TRIES_CHANGED, /* another program spent a try meanwhile: nothing was sent */
	PIN_RESULT_CARD_GONE,     /* removed or replaced: see reached_at() */
	PIN_RESULT_CARD_SILENT,   /* CKR_DEVICE_ERROR: the card did not answer in time */
	PIN_RESULT_NOT_HANDLED,   /* a real HiCOS card (the module refuses the login) */
	PIN_RESULT_NEW_PIN_REFUSED,
	PIN_RESULT_FAILED, /* another PKCS#11 error */
};

enum pin_result pin_result_of(CK_RV rv, enum pin_stage stage, enum card_kind kind);
int pin_result_exit(enum pin_result result);

#endif
