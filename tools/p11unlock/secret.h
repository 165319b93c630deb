/* The secrets the tool asks for and the checks made on them before any card
 * I/O (the card profile's rules: a user code is 6-10, a PIN 6-8 printable
 * ASCII characters 0x21-0x7E).  A failed check never costs a try. */
#ifndef P11UNLOCK_TOOL_SECRET_H
#define P11UNLOCK_TOOL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_USER_CODE_MIN 6
#define SECRET_USER_CODE_MAX 10
#define SECRET_PIN_MIN       6
#define SECRET_PIN_MAX       8

/* Room for the longest valid secret and enough more to tell "too long". */
#define SECRET_BUF_SIZE 64

enum secret_field {
	SECRET_FIELD_USER_CODE,
	SECRET_FIELD_CURRENT_PIN,
	SECRET_FIELD_NEW_PIN,
	SECRET_FIELD_NEW_PIN_AGAIN, /* only compared with the new PIN */
};

enum secret_problem {
	SECRET_OK = 0,
	SECRET_BLANK,         /* empty, or only spaces and tabs */
	SECRET_SPACE,         /* contains a space */
	SECRET_NOT_PRINTABLE, /* a byte outside 0x21-0x7E (control, non-ASCII) */
	SECRET_TOO_SHORT,
	SECRET_TOO_LONG,
	SECRET_END_OF_INPUT, /* the input ended before an answer */
	SECRET_MISMATCH,     /* the two new PINs differ */
};

/* A secret as typed.  Lives in the area secrets_hold() hands out and is wiped by
 * secret_wipe() as soon as it is no longer needed. */
struct secret {
	char value[SECRET_BUF_SIZE];
	size_t len;
};

/* How many secrets a command asks for at most: a user code or the current PIN, then the
 * new PIN twice. */
#define SECRETS_HELD 3

/* The one area for a command's secrets (SECRETS_HELD of them): locked in memory (best
 * effort), and wiped when a fatal signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE)
 * arrives before secrets_release(), before the signal takes its course.  Signals that
 * were ignored stay ignored. */
struct secret *secrets_hold(void);

/* Wipes the area and gives the signals back their previous actions. */
void secrets_release(void);

/* What the handler of those signals says on stderr before the process ends: where the command
 * stands (nothing sent yet, the card at work, ...), already translated and kept by the caller
 * until it is replaced (gettext's strings are).  NULL: nothing. */
void secrets_interrupt_message(const char *text);

void secret_field_limits(enum secret_field field, size_t *min, size_t *max);

/* The local checks, in this order: blank, spaces, characters, length. */
enum secret_problem secret_check(enum secret_field field, const char *value, size_t len);

/* True when the two secrets are equal (length and bytes). */
bool secret_equal(const struct secret *a, const struct secret *b);

/* The message for a problem, in the current language, e.g.
 * "New PIN: too short, it must have 6 to 8 characters."  A new string (free it); "" for
 * SECRET_OK. */
char *secret_problem_message(enum secret_field field, enum secret_problem problem);

/* The prompt for a field, e.g. "User code (6-10 characters): ".  A new string (free it). */
char *secret_prompt(enum secret_field field);

void secret_wipe(struct secret *secret);

#endif
