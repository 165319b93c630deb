/* The tool's commands: the card list, one card's status, the lock release with
 * the user code (the steps of the card issuer's web form) and the PIN change. */
#ifndef P11UNLOCK_TOOL_FLOW_H
#define P11UNLOCK_TOOL_FLOW_H

#include <stdbool.h>

#include "outcome.h"
#include "prompt.h"
#include "token.h"

struct tool {
	struct module module;
	struct prompt prompt;
	struct card_selector selector;
	bool json;
	bool yes;           /* skip the ordinary confirmation (never the last-try one) */
	bool last_try;      /* allow spending the user code's last try */
	bool foreign_token; /* allow SO login on tokens of other modules */
	bool verbose;       /* slot numbers and card types in the card list */
	bool show_new_pin;  /* the new PIN echoed as it is typed (the form's eye button) */
};

int command_list(struct tool *tool);
int command_status(struct tool *tool);
int command_unlock(struct tool *tool);
int command_change_pin(struct tool *tool);

#endif
