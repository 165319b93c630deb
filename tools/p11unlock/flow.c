#include "config.h"

#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <p11-kit/p11-kit.h>

#include "i18n.h"
#include "p11unlock/p11unlock.h"
#include "report.h"
#include "secret.h"
#include "text.h"

static void heading(const char *text)
{
	printf("\n%s\n", text);
	fflush(stdout);
}

/* Detects the cards.  Prints why when there are none; returns the exit code. */
static int detect(const struct tool *tool, struct card_list *list)
{
	CK_RV rv = cards_detect(&tool->module, list);

	if (rv != CKR_OK) {
		fprintf(stderr, _("Cannot list the cards: %s\n"), p11_kit_strerror(rv));
		return EXIT_TOOL_OTHER;
	}
	if (list->slots == 0) {
		fprintf(stderr, "%s\n", _("No smart card reader found."));
		return EXIT_TOOL_NO_CARD;
	}
	if (list->count == 0 && list->unrecognized > 0) {
		fprintf(stderr,
		        ngettext("%zu card is present but not recognized by %s.\n",
		                 "%zu cards are present but not recognized by %s.\n",
		                 (unsigned long)list->unrecognized),
		        list->unrecognized,
		        tool->module.description[0] != '\0' ? tool->module.description
		                                            : tool->module.manufacturer);
		return EXIT_TOOL_NO_CARD;
	}
	if (list->count == 0) {
		fprintf(stderr, "%s\n", _("No card found: insert your card into the reader."));
		return EXIT_TOOL_NO_CARD;
	}
	return EXIT_TOOL_OK;
}

/* A visible answer (card number, confirmation). */
static enum line_rv ask_line(const struct tool *tool, const char *text, char *buf, size_t size)
{
	size_t len;

	return prompt_read(&tool->prompt, text, false, buf, size, &len);
}

/* The number a card has in the list shown (its index + 1), among the cards the selection allows. */
static int ask_card_number(const struct tool *tool, const struct card_list *list, size_t *chosen)
{
	char prompt[128], answer[32];

	snprintf(prompt, sizeof(prompt), _("Choose a card [1-%zu]: "), list->count);
	for (;;) {
		char *end;
		unsigned long n;

		if (ask_line(tool, prompt, answer, sizeof(answer)) != LINE_OK)
			return EXIT_TOOL_USAGE;
		n = strtoul(answer, &end, 10);
		if (answer[0] >= '0' && answer[0] <= '9' && *end == '\0' && n >= 1 &&
		    n <= list->count && card_selected(&tool->selector, &list->cards[n - 1])) {
			*chosen = n - 1;
			return EXIT_TOOL_OK;
		}
		printf(_("Please enter the number of one of the cards listed above.\n"));
	}
}

/* Step 2: the card the selection names, the only card, or the holder's choice. */
static int choose(const struct tool *tool, struct card_list *list, struct card **card)
{
	size_t n_matches = 0, match = 0;
	int rc;

	for (size_t i = 0; i < list->count; i++) {
		if (card_selected(&tool->selector, &list->cards[i])) {
			match = i;
			n_matches++;
		}
	}
	if (n_matches == 0) {
		fprintf(stderr, "%s\n", _("No card matches --serial, --slot or --token."));
		return EXIT_TOOL_NO_CARD;
	}
	if (n_matches > 1 && !tool->prompt.interactive) {
		fprintf(
		    stderr, "%s\n",
		    _("Several cards are present: choose one with --serial, --slot or --token."));
		return EXIT_TOOL_USAGE;
	}
	rc = n_matches > 1 ? ask_card_number(tool, list, &match) : EXIT_TOOL_OK;
	if (rc == EXIT_TOOL_OK)
		*card = &list->cards[match];
	return rc;
}

static void print_hicos_refusal(const struct card *card)
{
	enum ca_id ca = card->has_cert ? card->cert.ca : CA_UNKNOWN;

	fprintf(
	    stderr,
	    _("Card %s is a real HiCOS card. Its lock is released through the web page or an "
	      "office of %s.\nThis tool does not touch real cards: their PIN reset commands are "
	      "not public, and a command the card does not expect could cost you a try.\n"),
	    card->serial, ca_display_name(ca));
}

static void print_user_code_reset_hint(const struct card *card)
{
	enum ca_id ca = card->has_cert ? card->cert.ca : CA_UNKNOWN;

	fprintf(stderr,
	        _("Only %s can reset the user code: bring the card to one of its offices or follow "
	          "its web page. This tool cannot reset the user code.\nAfter that reset, run "
	          "p11unlock again with the new user code.\n"),
	        ca_display_name(ca));
}

static void print_blocked(const struct card *card)
{
	if (card->kind == CARD_FOREIGN) {
		/* Another module's SO PIN: its owner, not a CA, knows how to reset it. */
		fprintf(stderr, _("The SO PIN of token \"%s\" is locked: no tries are left.\n"),
		        card->label);
		return;
	}
	fprintf(stderr, _("The user code of card %s is blocked: no tries are left.\n"),
	        card->serial);
	print_user_code_reset_hint(card);
}

/* The checks of step 2 that need no secret: who may unlock this card at all. */
static int check_unlockable(const struct tool *tool, const struct card *card)
{
	switch (card->kind) {
	case CARD_HICOS:
		print_hicos_refusal(card);
		return EXIT_TOOL_NOT_HANDLED;
	case CARD_FOREIGN:
		if (tool->foreign_token)
			break;
		fprintf(
		    stderr,
		    _("Token \"%s\" belongs to another PKCS#11 module (%s). Its SO PIN may be a "
		      "PIV PUK or the security officer PIN of an HSM, with other consequences "
		      "than a user code: this tool logs in as SO there only with "
		      "--foreign-token.\n"),
		    card->label, card->manufacturer);
		return EXIT_TOOL_NOT_HANDLED;
	case CARD_P11UNLOCK:
		break;
	}
	if (card->user_code.state == TRIES_LOCKED) {
		print_blocked(card);
		return EXIT_TOOL_BLOCKED;
	}
	return EXIT_TOOL_OK;
}

/* Step 3, one answer: asked again on a terminal until it passes the local checks. */
static int ask_secret(const struct tool *tool, enum secret_field field, struct secret *secret)
{
	char prompt[128], message[256];

	secret_prompt(field, prompt, sizeof(prompt));
	for (;;) {
		enum secret_problem problem;
		enum line_rv rv = prompt_read(&tool->prompt, prompt, true, secret->value,
		                              sizeof(secret->value), &secret->len);

		if (rv == LINE_EOF || rv == LINE_ERROR)
			problem = SECRET_END_OF_INPUT;
		else if (rv == LINE_TOO_LONG)
			problem = SECRET_TOO_LONG;
		else
			problem = secret_check(field, secret->value, secret->len);
		if (problem == SECRET_OK)
			return EXIT_TOOL_OK;
		secret_wipe(secret);
		secret_problem_message(field, problem, message, sizeof(message));
		fprintf(stderr, "%s\n", message);
		if (!tool->prompt.interactive || problem == SECRET_END_OF_INPUT)
			return EXIT_TOOL_USAGE;
	}
}

/* The new PIN twice; on a terminal both are asked again when they differ. */
static int ask_new_pin(const struct tool *tool, struct secret *new_pin, struct secret *again)
{
	char prompt[128], message[256];

	secret_prompt(SECRET_FIELD_NEW_PIN_AGAIN, prompt, sizeof(prompt));
	for (;;) {
		enum secret_problem problem = SECRET_MISMATCH;
		enum line_rv rv;
		int rc = ask_secret(tool, SECRET_FIELD_NEW_PIN, new_pin);

		if (rc != EXIT_TOOL_OK)
			return rc;
		rv = prompt_read(&tool->prompt, prompt, true, again->value, sizeof(again->value),
		                 &again->len);
		if (rv == LINE_OK && secret_equal(new_pin, again))
			return EXIT_TOOL_OK;
		if (rv == LINE_EOF || rv == LINE_ERROR)
			problem = SECRET_END_OF_INPUT;
		secret_wipe(new_pin);
		secret_wipe(again);
		secret_problem_message(SECRET_FIELD_NEW_PIN_AGAIN, problem, message,
		                       sizeof(message));
		fprintf(stderr, "%s\n", message);
		if (!tool->prompt.interactive || problem == SECRET_END_OF_INPUT)
			return EXIT_TOOL_USAGE;
	}
}

/* Step 3: the user code (or the current PIN), then the new PIN twice; the second new PIN is
 * wiped at once, it was only compared. */
static int ask_secrets(const struct tool *tool, enum secret_field first_field,
                       struct secret secrets[SECRETS_HELD])
{
	int rc = ask_secret(tool, first_field, &secrets[0]);

	if (rc == EXIT_TOOL_OK)
		rc = ask_new_pin(tool, &secrets[1], &secrets[2]);
	secret_wipe(&secrets[2]);
	return rc;
}

static bool answer_is_yes(const char *answer)
{
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

static bool card_gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_SLOT_ID_INVALID;
}

static int report_pkcs11_failure(const char *function, CK_RV rv);

/* The card chosen left the reader (or another took its place) before a secret was sent. */
static int report_card_changed(const struct card *card)
{
	fprintf(stderr,
	        _("Card %s was removed or replaced after you chose it. Nothing was sent to the "
	          "card now in the reader. Insert your card and run p11unlock again.\n"),
	        card->serial);
	return EXIT_TOOL_NO_CARD;
}

/* Step 2's end: every secret from here on goes through a session opened on this card. */
static int bind_card(const struct tool *tool, struct card *card)
{
	CK_RV rv = card_bind(&tool->module, card);

	if (rv == CKR_OK)
		return EXIT_TOOL_OK;
	if (card_gone(rv))
		return report_card_changed(card);
	return report_pkcs11_failure("C_OpenSession", rv);
}

/* The counters read again through the bound session: EXIT_TOOL_OK, or the exit code of a card
 * that changed (said) or counters that cannot be read (said). */
static int refresh_tries(const struct tool *tool, struct card *card)
{
	CK_RV rv = card_refresh_tries(&tool->module, card);

	if (rv == CKR_OK)
		return EXIT_TOOL_OK;
	if (card_gone(rv))
		return report_card_changed(card);
	fprintf(stderr, _("Cannot read the card's counters: %s\n"), p11_kit_strerror(rv));
	return EXIT_TOOL_OTHER;
}

/* The last try of a secret: spent only with --last-try or a typed "yes".  kind_text says whose
 * last try it is (already translated). */
static int confirm_last_try(const struct tool *tool)
{
	char answer[16];

	if (tool->last_try)
		return EXIT_TOOL_OK;
	if (!tool->prompt.interactive) {
		fprintf(stderr, "%s\n",
		        _("Refused: the last try of the user code is used only with "
		          "--last-try. Nothing was sent to the card."));
		return EXIT_TOOL_NOT_CONFIRMED;
	}
	/* TRANSLATORS: keep "yes" as it is: the holder must type that word. */
	if (ask_line(tool, _("Type \"yes\" to use the last try: "), answer, sizeof(answer)) ==
	        LINE_OK &&
	    strcmp(answer, "yes") == 0)
		return EXIT_TOOL_OK;
	fprintf(stderr, "%s\n", _("Not confirmed: nothing was sent to the card."));
	return EXIT_TOOL_NOT_CONFIRMED;
}

/* Step 4: the tries left, read again now, and the confirmations they call for. */
static int confirm_tries(const struct tool *tool, struct card *card)
{
	char text[64], answer[16];
	int rc = refresh_tries(tool, card);

	if (rc != EXIT_TOOL_OK)
		return rc;
	tries_text(&card->user_code, false, text, sizeof(text));
	printf("%s%s\n", card->kind == CARD_FOREIGN ? _("SO PIN: ") : _("User code: "), text);
	if (card->user_code.state == TRIES_LOCKED) {
		print_blocked(card);
		return EXIT_TOOL_BLOCKED;
	}
	if (card->user_code.state == TRIES_FINAL) {
		fprintf(
		    stderr,
		    _("Warning: the user code has one try left. If this user code is wrong, the "
		      "card cannot be unlocked until %s resets the user code.\n"),
		    ca_display_name(card->has_cert ? card->cert.ca : CA_UNKNOWN));
		return confirm_last_try(tool);
	}
	if (!tool->prompt.interactive || tool->yes)
		return EXIT_TOOL_OK;
	snprintf(text, sizeof(text), _("Unlock card %s and set the new PIN now? [y/N] "),
	         card->serial);
	if (ask_line(tool, text, answer, sizeof(answer)) == LINE_OK && answer_is_yes(answer))
		return EXIT_TOOL_OK;
	fprintf(stderr, "%s\n", _("Not confirmed: nothing was sent to the card."));
	return EXIT_TOOL_NOT_CONFIRMED;
}

static int report_pkcs11_failure(const char *function, CK_RV rv)
{
	if (card_gone(rv)) {
		fprintf(stderr, "%s\n", _("The card was removed before the operation ended."));
		return EXIT_TOOL_NO_CARD;
	}
	fprintf(stderr, _("%s failed: %s (0x%08lx)\n"), function, p11_kit_strerror(rv),
	        (unsigned long)rv);
	return EXIT_TOOL_OTHER;
}

static void print_tries_after_failure(const struct tool *tool, struct card *card, bool pin)
{
	struct tries *tries = pin ? &card->pin : &card->user_code;
	char text[64];

	if (card_refresh_tries(&tool->module, card) != CKR_OK)
		return;
	if (tries->left >= 0 && tries->state != TRIES_LOCKED) {
		fprintf(stderr,
		        pin ? ngettext("Wrong PIN: %d try left.\n", "Wrong PIN: %d tries left.\n",
		                       (unsigned long)tries->left)
		            : ngettext("Wrong user code: %d try left.\n",
		                       "Wrong user code: %d tries left.\n",
		                       (unsigned long)tries->left),
		        tries->left);
		return;
	}
	tries_text(tries, pin, text, sizeof(text));
	fprintf(stderr, pin ? _("Wrong PIN (PIN: %s).\n") : _("Wrong user code (user code: %s).\n"),
	        text);
}

/* What a PIN operation's failure means for the holder, past the wrong-secret cases each
 * command tells in its own words.  Returns -1 for "no special meaning". */
static int common_failure(struct card *card, CK_RV rv, enum pin_stage stage)
{
	switch (rv) {
	case CKR_FUNCTION_NOT_SUPPORTED:
		if (stage != PIN_STAGE_LOGIN || card->kind == CARD_FOREIGN)
			break;
		/* Our module's answer for a real HiCOS card, whatever its model says. */
		print_hicos_refusal(card);
		return EXIT_TOOL_NOT_HANDLED;
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		fprintf(stderr, _("The card refused the new PIN: %s\n"), p11_kit_strerror(rv));
		return EXIT_TOOL_USAGE;
	default:
		break;
	}
	return -1;
}

static int pin_operation_failure(struct card *card, CK_RV rv, enum pin_stage stage,
                                 const char *change_function)
{
	int rc = common_failure(card, rv, stage);

	if (rc >= 0)
		return rc;
	if (stage == PIN_STAGE_SESSION && card_gone(rv))
		return report_card_changed(card);
	if (rv == P11UNLOCK_CKR_TRIES_CHANGED) {
		fprintf(stderr, "%s\n",
		        _("The card's tries keep changing while you answer: another program is "
		          "using the card. Nothing was sent to it."));
		return EXIT_TOOL_OTHER;
	}
	return report_pkcs11_failure(stage == PIN_STAGE_SESSION ? "C_OpenSession"
	                             : stage == PIN_STAGE_LOGIN ? "C_Login"
	                                                        : change_function,
	                             rv);
}

/* Step 5's answer from the module. */
static int reset_result(const struct tool *tool, struct card *card, CK_RV rv, enum pin_stage stage)
{
	switch (rv) {
	case CKR_OK:
		printf("%s\n", _("Card unlocked and PIN reset"));
		return EXIT_TOOL_OK;
	case CKR_PIN_INCORRECT:
		print_tries_after_failure(tool, card, false);
		if (card->user_code.state == TRIES_LOCKED)
			print_user_code_reset_hint(card);
		return EXIT_TOOL_WRONG_SECRET;
	case CKR_PIN_LOCKED:
		print_blocked(card);
		return EXIT_TOOL_BLOCKED;
	default:
		return pin_operation_failure(card, rv, stage, "C_InitPIN");
	}
}

int command_list(struct tool *tool)
{
	struct card_list list;
	int rc = detect(tool, &list);

	if (tool->json && rc != EXIT_TOOL_OTHER)
		report_list_json(stdout, &list);
	else if (rc == EXIT_TOOL_OK)
		report_list_text(stdout, &list);
	card_list_free(&list);
	return rc;
}

int command_status(struct tool *tool)
{
	struct card_list list;
	struct card *card = NULL;
	int rc = detect(tool, &list);

	if (rc == EXIT_TOOL_OK && list.count > 1 && !card_selector_any(&tool->selector) &&
	    tool->prompt.interactive && !tool->json)
		report_list_text(stdout, &list);
	if (rc == EXIT_TOOL_OK)
		rc = choose(tool, &list, &card);
	if (rc == EXIT_TOOL_OK && tool->json) {
		report_card_json(stdout, card);
		fputc('\n', stdout);
	} else if (rc == EXIT_TOOL_OK) {
		report_card_text(stdout, (size_t)(card - list.cards) + 1, card);
	}
	card_list_free(&list);
	return rc;
}

/* Steps 1 and 2: the cards listed, one chosen; with headings when the command shows its steps. */
static int detect_and_choose(const struct tool *tool, struct card_list *list, bool headings,
                             struct card **card)
{
	int rc;

	if (headings)
		heading(_("Step 1: detect the cards"));
	rc = detect(tool, list);
	if (rc != EXIT_TOOL_OK)
		return rc;
	report_list_text(stdout, list);
	if (headings)
		heading(_("Step 2: choose the card"));
	rc = choose(tool, list, card);
	if (rc == EXIT_TOOL_OK) {
		printf(_("Card %s is chosen.\n"), (*card)->serial);
		/* Before the questions: a script reading the output sees which card it is. */
		fflush(stdout);
	}
	return rc;
}

/* How often the counters may change between the question and the card before the tool gives
 * up (each change asks again). */
#define TRIES_CHANGED_ROUNDS 3

/* Another program spent a try while the holder answered: the module sent nothing. */
static void print_tries_changed(void)
{
	fprintf(stderr, "%s\n",
	        _("The number of tries left changed while you answered (another program used "
	          "the card). Nothing was sent to the card; here is the new count."));
}

static int unlock_steps(struct tool *tool, struct card_list *list, struct secret *secrets)
{
	struct card *card = NULL;
	enum pin_stage stage;
	CK_RV rv;
	int rc = detect_and_choose(tool, list, true, &card);

	if (rc == EXIT_TOOL_OK)
		rc = check_unlockable(tool, card);
	if (rc == EXIT_TOOL_OK)
		rc = bind_card(tool, card);
	if (rc != EXIT_TOOL_OK)
		return rc;
	if (card->pin.state != TRIES_LOCKED)
		printf("%s\n", _("The PIN of this card is not locked: these steps set a new PIN "
		                 "(for a forgotten PIN)."));

	heading(_("Step 3: user code and new PIN"));
	rc = ask_secrets(tool, SECRET_FIELD_USER_CODE, secrets);
	if (rc != EXIT_TOOL_OK)
		return rc;

	for (int round = 0;; round++) {
		heading(_("Step 4: user code tries left"));
		rc = confirm_tries(tool, card);
		if (rc != EXIT_TOOL_OK)
			return rc;

		heading(_("Step 5: release the lock"));
		rv = card_reset_pin(&tool->module, card, &secrets[0], &secrets[1], &stage);
		if (rv != P11UNLOCK_CKR_TRIES_CHANGED || round == TRIES_CHANGED_ROUNDS)
			break;
		print_tries_changed();
	}
	secrets_release();
	return reset_result(tool, card, rv, stage);
}

/* Runs a command's steps with its secrets held (see secrets_hold()), and always releases
 * them, however the steps end. */
static int with_secrets(struct tool *tool,
                        int (*steps)(struct tool *, struct card_list *, struct secret *))
{
	struct card_list list;
	int rc;

	memset(&list, 0, sizeof(list));
	rc = steps(tool, &list, secrets_hold());
	secrets_release();
	cards_unbind(&tool->module, &list);
	card_list_free(&list);
	return rc;
}

int command_unlock(struct tool *tool)
{
	return with_secrets(tool, unlock_steps);
}

static void print_pin_locked(void)
{
	fprintf(stderr, "%s\n",
	        _("The PIN is locked: run p11unlock with the user code to release the lock."));
}

static int change_pin_result(const struct tool *tool, struct card *card, CK_RV rv,
                             enum pin_stage stage)
{
	switch (rv) {
	case CKR_OK:
		printf("%s\n", _("PIN changed"));
		return EXIT_TOOL_OK;
	case CKR_PIN_INCORRECT:
		print_tries_after_failure(tool, card, true);
		if (card->pin.state == TRIES_LOCKED)
			fprintf(stderr, "%s\n",
			        _("Run p11unlock with the user code to release the lock."));
		return EXIT_TOOL_WRONG_SECRET;
	case CKR_PIN_LOCKED:
		print_pin_locked();
		return EXIT_TOOL_BLOCKED;
	default:
		return pin_operation_failure(card, rv, stage, "C_SetPIN");
	}
}

/* The PIN's count as the holder sees it before the change: locked ends here, one left warns.
 * confirm: the count changed after the holder saw it, so the last try needs a yes. */
static int check_pin_tries(const struct tool *tool, const struct card *card, bool confirm)
{
	if (card->pin.state == TRIES_LOCKED) {
		print_pin_locked();
		return EXIT_TOOL_BLOCKED;
	}
	if (card->pin.state != TRIES_FINAL)
		return EXIT_TOOL_OK;
	fprintf(stderr, "%s\n",
	        _("Warning: the PIN has one try left; a wrong PIN locks the card."));
	return confirm ? confirm_last_try(tool) : EXIT_TOOL_OK;
}

static int change_pin_steps(struct tool *tool, struct card_list *list, struct secret *secrets)
{
	struct card *card = NULL;
	enum pin_stage stage;
	CK_RV rv;
	int rc = detect_and_choose(tool, list, false, &card);

	if (rc != EXIT_TOOL_OK)
		return rc;
	if (card->kind == CARD_HICOS) {
		print_hicos_refusal(card);
		return EXIT_TOOL_NOT_HANDLED;
	}
	rc = check_pin_tries(tool, card, false);
	if (rc == EXIT_TOOL_OK)
		rc = bind_card(tool, card);
	if (rc == EXIT_TOOL_OK)
		rc = ask_secrets(tool, SECRET_FIELD_CURRENT_PIN, secrets);
	for (int round = 0; rc == EXIT_TOOL_OK; round++) {
		rv = card_change_pin(&tool->module, card, &secrets[0], &secrets[1], &stage);
		if (rv != P11UNLOCK_CKR_TRIES_CHANGED || round == TRIES_CHANGED_ROUNDS)
			break;
		print_tries_changed();
		rc = refresh_tries(tool, card);
		if (rc == EXIT_TOOL_OK) {
			char text[64];

			tries_text(&card->pin, true, text, sizeof(text));
			printf("%s%s\n", _("PIN: "), text);
			rc = check_pin_tries(tool, card, true);
		}
	}
	secrets_release();
	if (rc != EXIT_TOOL_OK)
		return rc;
	return change_pin_result(tool, card, rv, stage);
}

int command_change_pin(struct tool *tool)
{
	return with_secrets(tool, change_pin_steps);
}
