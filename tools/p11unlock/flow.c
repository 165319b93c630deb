#include "config.h"

#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "messages.h"
#include "p11unlock/p11unlock.h"
#include "report.h"
#include "secret.h"
#include "steps.h"
#include "text.h"

/* Room for a visible answer (a card number, y/n, yes/是); a longer line is an unclear answer. */
#define ANSWER_SIZE 64

/* Prints text and a newline, and frees the text. */
static void say(FILE *out, char *text)
{
	fputs(text, out);
	fputc('\n', out);
	fflush(out);
	free(text);
}

static void heading(const char *text)
{
	printf("\n%s\n", text);
	fflush(stdout);
}

/* Says a release note (steps.h) where a terminal shows it, frees its text, returns its exit
 * code. */
static int say_note(struct release_note *note)
{
	say(note->error ? stderr : stdout, note->text);
	note->text = NULL;
	return note->exit_code;
}

/* A visible answer (card number, confirmation); frees the prompt. */
static enum line_rv ask_line(const struct tool *tool, char *prompt, char *buf, size_t size)
{
	size_t len;
	enum line_rv rv = prompt_read(&tool->prompt, prompt, false, buf, size, &len);

	free(prompt);
	return rv;
}

/* A yes/no question, asked again until the answer is clear; frees the question.  false: no, or
 * the end of the input. */
static bool ask_yes_no(const struct tool *tool, char *question)
{
	char answer[ANSWER_SIZE];
	bool yes = false;

	for (;;) {
		size_t len;
		enum line_rv rv =
		    prompt_read(&tool->prompt, question, false, answer, sizeof(answer), &len);
		enum answer parsed;

		if (rv == LINE_EOF || rv == LINE_ERROR)
			break;
		parsed = rv == LINE_OK ? answer_parse(answer) : ANSWER_UNCLEAR;
		if (parsed != ANSWER_UNCLEAR) {
			yes = parsed == ANSWER_YES;
			break;
		}
		say(stdout, msg_answer_yes_or_no());
	}
	free(question);
	return yes;
}

/* The form's 偵測卡片 button: true when the holder pressed Enter. */
static bool ask_detect_again(const struct tool *tool)
{
	char answer[ANSWER_SIZE];
	enum line_rv rv = ask_line(tool, msg_detect_again_prompt(), answer, sizeof(answer));

	return rv == LINE_OK || rv == LINE_TOO_LONG;
}

/* Step 1: the cards.  Says why when there are none and, with offer_again on a terminal, asks
 * to detect them again (a card or a reader put in meanwhile).  Returns the exit code. */
static int detect(const struct tool *tool, struct card_list *list, bool offer_again)
{
	for (;;) {
		CK_RV rv = cards_detect(&tool->module, tool->selector.serial, list);
		enum detect_result result = detect_classify(rv, list);

		if (result == DETECT_OK)
			return EXIT_TOOL_OK;
		say(stderr, msg_detect_problem(result, rv, list, module_display_name(&tool->module),
		                               module_conf_path()));
		if (!offer_again || !tool->prompt.interactive || !detect_retry_helps(result) ||
		    !ask_detect_again(tool))
			return detect_exit(result);
		card_list_free(list);
	}
}

/* The number a card has in the list shown (its index + 1), among the cards the selection allows. */
static int ask_card_number(const struct tool *tool, const struct card_list *list, size_t *chosen)
{
	char answer[ANSWER_SIZE];

	for (;;) {
		char *end;
		unsigned long n;
		enum line_rv rv =
		    ask_line(tool, msg_choose_card_prompt(list->count), answer, sizeof(answer));

		if (rv == LINE_EOF || rv == LINE_ERROR)
			return EXIT_TOOL_USAGE;
		n = strtoul(answer, &end, 10);
		if (rv == LINE_OK && answer[0] >= '0' && answer[0] <= '9' && *end == '\0' &&
		    n >= 1 && n <= list->count &&
		    card_selected(&tool->selector, &list->cards[n - 1])) {
			*chosen = n - 1;
			return EXIT_TOOL_OK;
		}
		say(stdout, msg_choose_card_again());
	}
}

static size_t count_matches(const struct tool *tool, const struct card_list *list, size_t *match)
{
	size_t n = 0;

	for (size_t i = 0; i < list->count; i++) {
		if (card_selected(&tool->selector, &list->cards[i])) {
			*match = i;
			n++;
		}
	}
	return n;
}

/* Step 2: the card the selection names, the only card, or the holder's choice. */
static int choose(const struct tool *tool, struct card_list *list, struct card **card)
{
	size_t match = 0;
	size_t n_matches = count_matches(tool, list, &match);
	int rc;

	if (n_matches == 0) {
		say(stderr, msg_no_card_matches());
		return EXIT_TOOL_NO_CARD;
	}
	if (n_matches > 1 && !tool->prompt.interactive) {
		say(stderr, msg_several_cards());
		return EXIT_TOOL_USAGE;
	}
	rc = n_matches > 1 ? ask_card_number(tool, list, &match) : EXIT_TOOL_OK;
	if (rc == EXIT_TOOL_OK)
		*card = &list->cards[match];
	return rc;
}

/* The checks of step 2 that need no secret: who may unlock this card at all. */
static int check_unlockable(const struct tool *tool, const struct card *card)
{
	switch (card->kind) {
	case CARD_HICOS:
		say(stderr, msg_hicos_refusal(card));
		return EXIT_TOOL_NOT_HANDLED;
	case CARD_FOREIGN:
		if (tool->foreign_token)
			break;
		say(stderr, msg_foreign_refusal(card));
		return EXIT_TOOL_NOT_HANDLED;
	case CARD_P11UNLOCK:
		break;
	}
	if (card->user_code.state == TRIES_LOCKED) {
		say(stderr, msg_blocked(card));
		return EXIT_TOOL_BLOCKED;
	}
	return EXIT_TOOL_OK;
}

/* Step 3, one answer: asked again on a terminal until it passes the local checks. */
static int ask_secret(const struct tool *tool, enum secret_field field, bool hidden,
                      struct secret *secret)
{
	char *prompt = secret_prompt(field);
	int rc = EXIT_TOOL_USAGE;

	for (;;) {
		enum secret_problem problem;
		enum line_rv rv = prompt_read(&tool->prompt, prompt, hidden, secret->value,
		                              sizeof(secret->value), &secret->len);

		if (rv == LINE_EOF || rv == LINE_ERROR)
			problem = SECRET_END_OF_INPUT;
		else if (rv == LINE_TOO_LONG)
			problem = SECRET_TOO_LONG;
		else
			problem = secret_check(field, secret->value, secret->len);
		if (problem == SECRET_OK) {
			rc = EXIT_TOOL_OK;
			break;
		}
		secret_wipe(secret);
		say(stderr, secret_problem_message(field, problem));
		if (!tool->prompt.interactive || problem == SECRET_END_OF_INPUT)
			break;
	}
	free(prompt);
	return rc;
}

/* The new PIN twice; on a terminal both are asked again when they differ.  Echoed on a
 * terminal only with --show-new-pin. */
static int ask_new_pin(const struct tool *tool, struct secret *new_pin, struct secret *again)
{
	bool hidden = !tool->show_new_pin;
	char *prompt = secret_prompt(SECRET_FIELD_NEW_PIN_AGAIN);
	int rc;

	for (;;) {
		enum secret_problem problem = SECRET_MISMATCH;
		enum line_rv rv;

		rc = ask_secret(tool, SECRET_FIELD_NEW_PIN, hidden, new_pin);
		if (rc != EXIT_TOOL_OK)
			break;
		rv = prompt_read(&tool->prompt, prompt, hidden, again->value, sizeof(again->value),
		                 &again->len);
		if (rv == LINE_OK && secret_equal(new_pin, again))
			break;
		if (rv == LINE_EOF || rv == LINE_ERROR)
			problem = SECRET_END_OF_INPUT;
		secret_wipe(new_pin);
		secret_wipe(again);
		say(stderr, secret_problem_message(SECRET_FIELD_NEW_PIN_AGAIN, problem));
		rc = EXIT_TOOL_USAGE;
		if (!tool->prompt.interactive || problem == SECRET_END_OF_INPUT)
			break;
	}
	free(prompt);
	return rc;
}

/* Step 3: the user code (or the current PIN), then the new PIN twice; the second new PIN is
 * wiped at once, it was only compared. */
static int ask_secrets(const struct tool *tool, enum secret_field first_field,
                       struct secret secrets[SECRETS_HELD])
{
	int rc = ask_secret(tool, first_field, true, &secrets[0]);

	if (rc == EXIT_TOOL_OK)
		rc = ask_new_pin(tool, &secrets[1], &secrets[2]);
	secret_wipe(&secrets[2]);
	return rc;
}

/* The card chosen answers no more, before any secret was sent to it: says so (nothing was
 * sent), returns the exit code. */
static int report_lost_before_secret(const struct card *card, CK_RV rv, const char *function)
{
	struct release_note note;

	release_note_lost(card, rv, function, &note);
	return say_note(&note);
}

/* Step 2's end: every secret from here on goes through a session opened on this card. */
static int bind_card(const struct tool *tool, struct card *card)
{
	CK_RV rv = card_bind(&tool->module, card);

	return rv == CKR_OK ? EXIT_TOOL_OK : report_lost_before_secret(card, rv, "C_OpenSession");
}

/* The counters read again through the bound session: EXIT_TOOL_OK, or the exit code of a card
 * that changed (said) or counters that cannot be read (said). */
static int refresh_tries(const struct tool *tool, struct card *card)
{
	CK_RV rv = card_refresh_tries(&tool->module, card);

	return rv == CKR_OK ? EXIT_TOOL_OK : report_lost_before_secret(card, rv, NULL);
}

/* The last try of a secret: spent only with --last-try or a typed "yes" (or 是). */
static int confirm_last_try(const struct tool *tool)
{
	char answer[ANSWER_SIZE];

	if (tool->last_try)
		return EXIT_TOOL_OK;
	if (!tool->prompt.interactive) {
		say(stderr, msg_last_try_refused());
		return EXIT_TOOL_NOT_CONFIRMED;
	}
	if (ask_line(tool, msg_last_try_prompt(), answer, sizeof(answer)) == LINE_OK &&
	    answer_confirms_last_try(answer))
		return EXIT_TOOL_OK;
	say(stderr, msg_not_confirmed());
	return EXIT_TOOL_NOT_CONFIRMED;
}

/* Step 4: the tries left, read again now, and the confirmations they call for (the ordinary
 * one only when ask_ordinary: not after the holder chose to type the user code again). */
static int confirm_tries(const struct tool *tool, struct card *card, bool ask_ordinary)
{
	int rc = refresh_tries(tool, card);

	if (rc != EXIT_TOOL_OK)
		return rc;
	say(stdout, msg_user_code_tries(card));
	switch (release_gate_of(card)) {
	case RELEASE_BLOCKED:
		say(stderr, msg_blocked(card));
		return EXIT_TOOL_BLOCKED;
	case RELEASE_LAST_TRY:
		say(stderr, msg_last_try_warning(card));
		return confirm_last_try(tool);
	case RELEASE_GO:
		break;
	}
	if (!tool->prompt.interactive || tool->yes || !ask_ordinary)
		return EXIT_TOOL_OK;
	if (ask_yes_no(tool, msg_unlock_question(card)))
		return EXIT_TOOL_OK;
	say(stderr, msg_not_confirmed());
	return EXIT_TOOL_NOT_CONFIRMED;
}

/* What a PIN operation's answer means for the holder: said, and the exit code returned.
 * pin_change: --change-pin (whose login is the current PIN's). */
static int report_pin_result(const struct tool *tool, struct card *card, CK_RV rv,
                             enum pin_stage stage, bool pin_change)
{
	struct release_note note;

	release_note_of(&tool->module, card, rv, stage, pin_change, &note);
	return say_note(&note);
}

int command_list(struct tool *tool)
{
	struct card_list list;
	int rc = detect(tool, &list, false);

	if (tool->json && rc != EXIT_TOOL_OTHER)
		report_list_json(stdout, &list);
	else if (rc == EXIT_TOOL_OK)
		report_list_text(stdout, &list, tool->verbose);
	card_list_free(&list);
	return rc;
}

int command_status(struct tool *tool)
{
	struct card_list list;
	struct card *card = NULL;
	int rc = detect(tool, &list, false);

	if (rc == EXIT_TOOL_OK && list.count > 1 && !card_selector_any(&tool->selector) &&
	    tool->prompt.interactive && !tool->json)
		report_list_text(stdout, &list, tool->verbose);
	if (rc == EXIT_TOOL_OK)
		rc = choose(tool, &list, &card);
	if (rc == EXIT_TOOL_OK && tool->json) {
		report_card_json(stdout, card);
		fputc('\n', stdout);
	} else if (rc == EXIT_TOOL_OK) {
		report_card_text(stdout, (size_t)(card - list.cards) + 1, card, tool->verbose);
	}
	card_list_free(&list);
	return rc;
}

/* Steps 1 and 2: the cards listed, one chosen; with headings when the command shows its steps.
 * On a terminal, no card (or none the selection names) offers to detect them again. */
static int detect_and_choose(const struct tool *tool, struct card_list *list, bool headings,
                             struct card **card)
{
	size_t match;
	int rc;

	if (headings)
		heading(_("Step 1: detect the cards"));
	for (;;) {
		rc = detect(tool, list, true);
		if (rc != EXIT_TOOL_OK)
			return rc;
		if (count_matches(tool, list, &match) > 0 || !tool->prompt.interactive)
			break;
		say(stderr, msg_no_card_matches());
		if (!ask_detect_again(tool))
			return EXIT_TOOL_NO_CARD;
		card_list_free(list);
	}
	report_list_text(stdout, list, tool->verbose);
	if (headings)
		heading(_("Step 2: choose the card"));
	rc = choose(tool, list, card);
	if (rc == EXIT_TOOL_OK) /* before the questions: a script reading the output sees which */
		say(stdout, msg_card_chosen(*card));
	return rc;
}

/* Steps 4 and 5 once: the count shown (and confirmed), then the release with that count; asked
 * again when another program spent a try meanwhile (the module then sent nothing). */
static int release(const struct tool *tool, struct card *card, const struct secret *secrets,
                   bool ask_ordinary, CK_RV *rv, enum pin_stage *stage)
{
	for (int round = 0;; round++) {
		int rc;

		heading(_("Step 4: user code tries left"));
		rc = confirm_tries(tool, card, ask_ordinary);
		if (rc != EXIT_TOOL_OK)
			return rc;

		heading(_("Step 5: release the lock"));
		secrets_interrupt_message(msg_interrupted_card_working());
		*rv = card_reset_pin(&tool->module, card, &secrets[0], &secrets[1], stage);
		secrets_interrupt_message(*stage == PIN_STAGE_SESSION
		                              ? msg_interrupted_nothing_sent()
		                              : msg_interrupted_nothing_more());
		if (*rv != P11UNLOCK_CKR_TRIES_CHANGED || round == RELEASE_TRIES_CHANGED_ROUNDS)
			return EXIT_TOOL_OK;
		say(stderr, msg_tries_changed());
	}
}

/* A wrong user code said (with the tries left, read again); true when the holder wants to type
 * it again: only when the count could be read and a try is left. */
static bool retry_offered(const struct tool *tool, struct card *card, CK_RV rv,
                          enum pin_stage stage)
{
	struct release_note note;

	release_note_of(&tool->module, card, rv, stage, false, &note);
	say_note(&note);
	return note.tries_read && card->user_code.state != TRIES_LOCKED &&
	       ask_yes_no(tool, msg_retry_question());
}

static int unlock_steps(struct tool *tool, struct card_list *list, struct secret *secrets)
{
	struct card *card = NULL;
	enum pin_stage stage = PIN_STAGE_SESSION;
	CK_RV rv = CKR_OK;
	bool ask_ordinary = true;
	int rc;

	secrets_interrupt_message(msg_interrupted_nothing_sent());
	rc = detect_and_choose(tool, list, true, &card);
	if (rc == EXIT_TOOL_OK)
		rc = check_unlockable(tool, card);
	if (rc == EXIT_TOOL_OK)
		rc = bind_card(tool, card);
	if (rc != EXIT_TOOL_OK)
		return rc;
	if (card->pin.state != TRIES_LOCKED)
		say(stdout, msg_pin_not_locked());

	heading(_("Step 3: user code and new PIN"));
	say(stdout, msg_notes(card));
	if (tool->prompt.interactive)
		say(stdout, msg_typing_hidden(tool->show_new_pin));
	rc = ask_secrets(tool, SECRET_FIELD_USER_CODE, secrets);
	for (; rc == EXIT_TOOL_OK; ask_ordinary = false) {
		rc = release(tool, card, secrets, ask_ordinary, &rv, &stage);
		if (rc != EXIT_TOOL_OK || rv != CKR_PIN_INCORRECT || !tool->prompt.interactive)
			break;
		/* The form's 重新輸入: the user code again, in the same run, on a terminal. */
		if (!retry_offered(tool, card, rv, stage))
			return EXIT_TOOL_WRONG_SECRET;
		secret_wipe(&secrets[0]);
		rc = ask_secret(tool, SECRET_FIELD_USER_CODE, true, &secrets[0]);
	}
	secrets_release();
	if (rc != EXIT_TOOL_OK)
		return rc;
	return report_pin_result(tool, card, rv, stage, false);
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

/* The PIN's count as the holder sees it before the change: locked ends here, one left warns.
 * confirm: the count changed after the holder saw it, so the last try needs a yes. */
static int check_pin_tries(const struct tool *tool, const struct card *card, bool confirm)
{
	if (card->pin.state == TRIES_LOCKED) {
		say(stderr, msg_pin_locked());
		return EXIT_TOOL_BLOCKED;
	}
	if (card->pin.state != TRIES_FINAL)
		return EXIT_TOOL_OK;
	say(stderr, msg_pin_final_try_warning());
	return confirm ? confirm_last_try(tool) : EXIT_TOOL_OK;
}

static int change_pin_steps(struct tool *tool, struct card_list *list, struct secret *secrets)
{
	struct card *card = NULL;
	enum pin_stage stage = PIN_STAGE_SESSION;
	CK_RV rv = CKR_OK;
	int rc;

	secrets_interrupt_message(msg_interrupted_nothing_sent());
	rc = detect_and_choose(tool, list, false, &card);
	if (rc != EXIT_TOOL_OK)
		return rc;
	if (card->kind == CARD_HICOS) {
		say(stderr, msg_hicos_refusal(card));
		return EXIT_TOOL_NOT_HANDLED;
	}
	rc = check_pin_tries(tool, card, false);
	if (rc == EXIT_TOOL_OK)
		rc = bind_card(tool, card);
	if (rc == EXIT_TOOL_OK && tool->prompt.interactive)
		say(stdout, msg_typing_hidden(tool->show_new_pin));
	if (rc == EXIT_TOOL_OK)
		rc = ask_secrets(tool, SECRET_FIELD_CURRENT_PIN, secrets);
	for (int round = 0; rc == EXIT_TOOL_OK; round++) {
		secrets_interrupt_message(msg_interrupted_card_working());
		rv = card_change_pin(&tool->module, card, &secrets[0], &secrets[1], &stage);
		secrets_interrupt_message(stage == PIN_STAGE_SESSION
		                              ? msg_interrupted_nothing_sent()
		                              : msg_interrupted_nothing_more());
		if (rv != P11UNLOCK_CKR_TRIES_CHANGED || round == RELEASE_TRIES_CHANGED_ROUNDS)
			break;
		say(stderr, msg_tries_changed());
		rc = refresh_tries(tool, card);
		if (rc == EXIT_TOOL_OK) {
			say(stdout, msg_pin_tries(card));
			rc = check_pin_tries(tool, card, true);
		}
	}
	secrets_release();
	if (rc != EXIT_TOOL_OK)
		return rc;
	return report_pin_result(tool, card, rv, stage, true);
}

int command_change_pin(struct tool *tool)
{
	return with_secrets(tool, change_pin_steps);
}
