/* The steps both front ends share (the command-line tool and the window): which module they
 * load and how they name it, what the user code's tries left allow, the card that stopped answering
 * before any secret moved, and what the module's answer to the release (or the PIN change) means,
 * as a message of messages.h and an exit code.  Nothing is printed and nothing is asked here: each
 * front end shows the message and asks for the last-try confirmation its own way (a typed yes, a
 * dialog). */
#ifndef P11UNLOCK_TOOL_STEPS_H
#define P11UNLOCK_TOOL_STEPS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "outcome.h"
#include "token.h"

/* The module to load: given (--module), else $P11UNLOCK_MODULE, else ours.  A relative path
 * with a directory part is taken from the current directory (p11-kit would look in its module
 * directory); a bare file name is left to p11-kit ("opensc-pkcs11.so").  A new string, or NULL
 * when memory runs out. */
char *module_path_choose(const char *given);

/* The module's name in messages: its description, else its manufacturer. */
const char *module_display_name(const struct module *module);

/* The configuration file the p11unlock module reads: $P11UNLOCK_CONF, else the installed one. */
const char *module_conf_path(void);

/* What the user code's tries left (read just before) allow. */
enum release_gate {
	RELEASE_GO,
	RELEASE_LAST_TRY, /* one try left: only with the holder's explicit confirmation */
	RELEASE_BLOCKED,  /* none left: nothing may be sent */
};

enum release_gate release_gate_of(const struct card *card);

/* A message for the holder, with its exit code and where a terminal shows it. */
struct release_note {
	char *text; /* a new string: free it (release_note_clear) */
	int exit_code;
	bool error; /* stderr on a terminal, an error style in a window */
	enum pin_result result;
	bool tries_read; /* PIN_RESULT_WRONG_SECRET: the tries left were read again */
};

void release_note_clear(struct release_note *note);

/* Binding the card or reading its counters failed with rv before any secret was sent
 * (function: the call that failed, NULL for the counters). */
void release_note_lost(const struct card *card, CK_RV rv, const char *function,
                       struct release_note *note);

/* What the module's answer rv to the release (pin_change: to the PIN change) means.  After a
 * wrong secret the card's counters are read again (card I/O: not on a window's UI thread), so
 * the message says how many tries are left; card->user_code (card->pin) then holds them. */
void release_note_of(const struct module *module, struct card *card, CK_RV rv, enum pin_stage stage,
                     bool pin_change, struct release_note *note);

/* How often the counters may change between the question and the card before a front end
 * gives up (each change shows the new count and asks again). */
#define RELEASE_TRIES_CHANGED_ROUNDS 3

#endif
