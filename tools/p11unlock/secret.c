#include "config.h"

#include "secret.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "i18n.h"
#include "prompt.h"
#include "text.h"

void secret_field_limits(enum secret_field field, size_t *min, size_t *max)
{
	if (field == SECRET_FIELD_USER_CODE) {
		*min = SECRET_USER_CODE_MIN;
		*max = SECRET_USER_CODE_MAX;
	} else {
		*min = SECRET_PIN_MIN;
		*max = SECRET_PIN_MAX;
	}
}

static bool is_blank(const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (value[i] != ' ' && value[i] != '\t')
			return false;
	}
	return true;
}

enum secret_problem secret_check(enum secret_field field, const char *value, size_t len)
{
	size_t min, max;

	if (is_blank(value, len))
		return SECRET_BLANK;
	if (memchr(value, ' ', len) != NULL)
		return SECRET_SPACE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x21 || c > 0x7e)
			return SECRET_NOT_PRINTABLE;
	}
	secret_field_limits(field, &min, &max);
	if (len < min)
		return SECRET_TOO_SHORT;
	if (len > max)
		return SECRET_TOO_LONG;
	return SECRET_OK;
}

bool secret_equal(const struct secret *a, const struct secret *b)
{
	return a->len == b->len && CRYPTO_memcmp(a->value, b->value, a->len) == 0;
}

static const char *field_label(enum secret_field field)
{
	switch (field) {
	case SECRET_FIELD_USER_CODE:
		return _("User code");
	case SECRET_FIELD_CURRENT_PIN:
		return _("Current PIN");
	case SECRET_FIELD_NEW_PIN:
		return _("New PIN");
	case SECRET_FIELD_NEW_PIN_AGAIN:
		break;
	}
	return _("New PIN (again)");
}

char *secret_problem_message(enum secret_field field, enum secret_problem problem)
{
	const char *label = field_label(field);
	size_t min, max;

	secret_field_limits(field, &min, &max);
	switch (problem) {
	case SECRET_OK:
		break;
	case SECRET_BLANK:
		return xasprintf(_("%s: must not be empty."), label);
	case SECRET_SPACE:
		return xasprintf(_("%s: must not contain spaces."), label);
	case SECRET_NOT_PRINTABLE:
		return xasprintf(_("%s: only letters, digits and ASCII symbols are allowed."),
		                 label);
	case SECRET_TOO_SHORT:
		return xasprintf(_("%1$s: too short, it must have %2$d to %3$d characters."), label,
		                 (int)min, (int)max);
	case SECRET_TOO_LONG:
		return xasprintf(_("%1$s: too long, it must have %2$d to %3$d characters."), label,
		                 (int)min, (int)max);
	case SECRET_END_OF_INPUT:
		return xasprintf(_("%s: the input ended before an answer."), label);
	case SECRET_MISMATCH:
		return xstrdup(_("The two new PINs differ."));
	}
	return xstrdup("");
}

char *secret_prompt(enum secret_field field)
{
	size_t min, max;

	secret_field_limits(field, &min, &max);
	switch (field) {
	case SECRET_FIELD_USER_CODE:
		return xasprintf(_("User code (%d-%d characters): "), (int)min, (int)max);
	case SECRET_FIELD_CURRENT_PIN:
		return xstrdup(_("Current PIN: "));
	case SECRET_FIELD_NEW_PIN:
		return xasprintf(_("New PIN (%d-%d characters): "), (int)min, (int)max);
	case SECRET_FIELD_NEW_PIN_AGAIN:
		break;
	}
	return xstrdup(_("New PIN again: "));
}

void secret_wipe(struct secret *secret)
{
	OPENSSL_cleanse(secret, sizeof(*secret));
}

static struct secret held[SECRETS_HELD];

static const int wipe_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
#define N_WIPE_SIGNALS (sizeof(wipe_signals) / sizeof(wipe_signals[0]))
static struct sigaction previous[N_WIPE_SIGNALS];
static bool installed[N_WIPE_SIGNALS];
static const char *volatile interrupt_text;

void secrets_interrupt_message(const char *text)
{
	interrupt_text = text;
}

/* Wipes, says where the command stands, then lets the signal do what it did before (usually:
 * end the process).  The raised signal is delivered when this handler returns. */
static void wipe_and_reraise(int sig)
{
	const char *text = interrupt_text;

	OPENSSL_cleanse(held, sizeof(held));
	if (text != NULL) {
		prompt_end_line(); /* a visible question waiting for its answer */
		(void)!write(STDERR_FILENO, text, strlen(text));
		(void)!write(STDERR_FILENO, "\n", 1);
	}
	for (size_t i = 0; i < N_WIPE_SIGNALS; i++) {
		if (wipe_signals[i] == sig && installed[i]) {
			sigaction(sig, &previous[i], NULL);
			installed[i] = false;
		}
	}
	raise(sig);
}

struct secret *secrets_hold(void)
{
	struct sigaction action;

	mlock(held, sizeof(held));
	memset(&action, 0, sizeof(action));
	action.sa_handler = wipe_and_reraise;
	sigemptyset(&action.sa_mask);
	for (size_t i = 0; i < N_WIPE_SIGNALS; i++) {
		if (installed[i] || sigaction(wipe_signals[i], NULL, &previous[i]) != 0 ||
		    previous[i].sa_handler == SIG_IGN)
			continue;
		installed[i] = sigaction(wipe_signals[i], &action, NULL) == 0;
	}
	return held;
}

void secrets_release(void)
{
	interrupt_text = NULL;
	OPENSSL_cleanse(held, sizeof(held));
	for (size_t i = 0; i < N_WIPE_SIGNALS; i++) {
		if (installed[i])
			sigaction(wipe_signals[i], &previous[i], NULL);
		installed[i] = false;
	}
	munlock(held, sizeof(held));
}
