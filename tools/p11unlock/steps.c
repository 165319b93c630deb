#include "config.h"

#include "steps.h"

#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "text.h"

#ifndef P11U_MODULE_PATH
#define P11U_MODULE_PATH "p11unlock-pkcs11.so"
#endif
#ifndef P11U_SYSCONFDIR
#define P11U_SYSCONFDIR "/etc"
#endif

char *module_path_choose(const char *given)
{
	const char *from_env = getenv("P11UNLOCK_MODULE");
	const char *path = P11U_MODULE_PATH;
	char *absolute;

	if (given != NULL)
		path = given;
	else if (from_env != NULL && from_env[0] != '\0')
		path = from_env;
	if (path[0] != '/' && strchr(path, '/') != NULL &&
	    (absolute = realpath(path, NULL)) != NULL)
		return absolute;
	return strdup(path);
}

const char *module_display_name(const struct module *module)
{
	return module->description[0] != '\0' ? module->description : module->manufacturer;
}

const char *module_conf_path(void)
{
	const char *env = getenv("P11UNLOCK_CONF");

	return env != NULL && env[0] != '\0' ? env : P11U_SYSCONFDIR "/p11unlock.conf";
}

enum release_gate release_gate_of(const struct card *card)
{
	switch (card->user_code.state) {
	case TRIES_LOCKED:
		return RELEASE_BLOCKED;
	case TRIES_FINAL:
		return RELEASE_LAST_TRY;
	case TRIES_OK:
	case TRIES_LOW:
		break;
	}
	return RELEASE_GO;
}

void release_note_clear(struct release_note *note)
{
	free(note->text);
	note->text = NULL;
}

static void note_set(struct release_note *note, char *text, int exit_code, bool error,
                     enum pin_result result)
{
	note->text = text;
	note->exit_code = exit_code;
	note->error = error;
	note->result = result;
	note->tries_read = false;
}

void release_note_lost(const struct card *card, CK_RV rv, const char *function,
                       struct release_note *note)
{
	bool gone = card_gone(rv);

	if (gone || rv == CKR_DEVICE_ERROR)
		note_set(note, msg_card_lost(card, gone, REACHED_NOTHING, false),
		         gone ? EXIT_TOOL_NO_CARD : EXIT_TOOL_OTHER, true,
		         gone ? PIN_RESULT_CARD_GONE : PIN_RESULT_CARD_SILENT);
	else
		note_set(note,
		         function == NULL ? msg_counters_unreadable(rv)
		                          : msg_pkcs11_failed(function, rv),
		         EXIT_TOOL_OTHER, true, PIN_RESULT_FAILED);
}

/* A wrong secret: the tries left now, read from the card again (-1 when they cannot be). */
static char *wrong_secret(const struct module *module, struct card *card, bool pin, bool *read)
{
	struct tries unknown = {TRIES_LOW, -1};

	*read = card_refresh_tries(module, card) == CKR_OK;
	return msg_wrong_secret(card, pin,
	                        *read ? (pin ? &card->pin : &card->user_code) : &unknown);
}

static const char *failed_function(enum pin_stage stage, bool pin_change)
{
	switch (stage) {
	case PIN_STAGE_SESSION:
		return "C_OpenSession";
	case PIN_STAGE_LOGIN:
		return "C_Login";
	case PIN_STAGE_CHANGE:
		break;
	}
	return pin_change ? "C_SetPIN" : "C_InitPIN";
}

void release_note_of(const struct module *module, struct card *card, CK_RV rv, enum pin_stage stage,
                     bool pin_change, struct release_note *note)
{
	enum pin_result result = pin_result_of(rv, stage, card->kind);
	bool read = false;
	char *text = NULL;

	switch (result) {
	case PIN_RESULT_OK:
		text = pin_change ? msg_pin_changed() : msg_unlocked();
		break;
	case PIN_RESULT_WRONG_SECRET:
		text = wrong_secret(module, card, pin_change, &read);
		break;
	case PIN_RESULT_BLOCKED:
		text = pin_change ? msg_pin_locked() : msg_blocked(card);
		break;
	case PIN_RESULT_TRIES_CHANGED:
		text = msg_tries_keep_changing();
		break;
	case PIN_RESULT_CARD_GONE:
	case PIN_RESULT_CARD_SILENT:
		text = msg_card_lost(card, result == PIN_RESULT_CARD_GONE, reached_at(stage),
		                     pin_change);
		break;
	case PIN_RESULT_NOT_HANDLED:
		text = msg_hicos_refusal(card);
		break;
	case PIN_RESULT_NEW_PIN_REFUSED:
		text = msg_new_pin_refused(rv);
		break;
	case PIN_RESULT_FAILED:
		text = msg_pkcs11_failed(failed_function(stage, pin_change), rv);
		break;
	}
	note_set(note, text, pin_result_exit(result), result != PIN_RESULT_OK, result);
	note->tries_read = read;
}
