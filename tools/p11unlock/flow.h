/* The tool's commands: the card list, one card's status, the lock release with
 * the user code (the steps of the card issuer's web form) and the PIN change. */
#ifndef P11UNLOCK_TOOL_FLOW_H
#define P11UNLOCK_TOOL_FLOW_H

#include <stdbool.h>

#include "prompt.h"
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

struct tool {
	struct module module;
	struct prompt prompt;
	struct card_selector selector;
	bool json;
	bool yes;           /* skip the ordinary confirmation (never the last-try one) */
	bool last_try;      /* allow spending the user code's last try */
	bool foreign_token; /* allow SO login on tokens of other modules */
};

int command_list(struct tool *tool);
int command_status(struct tool *tool);
int command_unlock(struct tool *tool);
int command_change_pin(struct tool *tool);

#endif
