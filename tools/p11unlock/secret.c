#include "config.h"

#include "secret.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "i18n.h"

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

void secret_problem_message(enum secret_field field, enum secret_problem problem, char *out,
                            size_t size)
{
	const char *label = field_label(field);
	size_t min, max;

	secret_field_limits(field, &min, &max);
	switch (problem) {
	case SECRET_OK:
		out[0] = '\0';
		return;
	case SECRET_BLANK:
		snprintf(out, size, _("%s: must not be empty."), label);
		return;
	case SECRET_SPACE:
		snprintf(out, size, _("%s: must not contain spaces."), label);
		return;
	case SECRET_NOT_PRINTABLE:
		snprintf(out, size, _("%s: only letters, digits and ASCII symbols are allowed."),
		         label);
		return;
	case SECRET_TOO_SHORT:
		snprintf(out, size, _("%1$s: too short, it must have %2$d to %3$d characters."),
		         label, (int)min, (int)max);
		return;
	case SECRET_TOO_LONG:
		snprintf(out, size, _("%1$s: too long, it must have %2$d to %3$d characters."),
		         label, (int)min, (int)max);
		return;
	case SECRET_END_OF_INPUT:
		snprintf(out, size, _("%s: the input ended before an answer."), label);
		return;
	case SECRET_MISMATCH:
		snprintf(out, size, "%s", _("The two new PINs differ."));
		return;
	}
}

void secret_prompt(enum secret_field field, char *out, size_t size)
{
	size_t min, max;

	secret_field_limits(field, &min, &max);
	switch (field) {
	case SECRET_FIELD_USER_CODE:
		snprintf(out, size, _("User code (%d-%d characters): "), (int)min, (int)max);
		return;
	case SECRET_FIELD_CURRENT_PIN:
		snprintf(out, size, "%s", _("Current PIN: "));
		return;
	case SECRET_FIELD_NEW_PIN:
		snprintf(out, size, _("New PIN (%d-%d characters): "), (int)min, (int)max);
		return;
	case SECRET_FIELD_NEW_PIN_AGAIN:
		snprintf(out, size, "%s", _("New PIN again: "));
		return;
	}
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

/* Wipes, then lets the signal do what it did before (usually: end the process).  The raised
 * signal is delivered when this handler returns. */
static void wipe_and_reraise(int sig)
{
	OPENSSL_cleanse(held, sizeof(held));
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
	OPENSSL_cleanse(held, sizeof(held));
	for (size_t i = 0; i < N_WIPE_SIGNALS; i++) {
		if (installed[i])
			sigaction(wipe_signals[i], &previous[i], NULL);
		installed[i] = false;
	}
	munlock(held, sizeof(held));
}
