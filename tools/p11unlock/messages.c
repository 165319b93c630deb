#include "config.h"

#include "messages.h"

#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>

#include "i18n.h"
#include "report.h"
#include "text.h"

enum ca_id card_ca(const struct card *card)
{
	return card->has_cert ? card->cert.ca : CA_UNKNOWN;
}

/* Two messages as one text: first, then second, with the separator of the language (a space in
 * English, none in Chinese).  Frees both. */
static char *join(char *first, char *second)
{
	/* TRANSLATORS: two sentences (or paragraphs) one after the other; zh_TW: "%1$s%2$s". */
	char *text = xasprintf(_("%1$s %2$s"), first, second);

	free(first);
	free(second);
	return text;
}

/* first, a new line, then second.  Frees both. */
static char *lines(char *first, char *second)
{
	char *text = xasprintf("%s\n%s", first, second);

	free(first);
	free(second);
	return text;
}

/* --- step 1 ----------------------------------------------------------------------------------- */

static char *withheld_text(const struct withheld_card *card, const char *conf_path)
{
	return xasprintf(_("Card %1$s in reader \"%2$s\" is a p11unlock test card (%3$s). Test "
	                   "cards are switched off: the module gives them no token unless "
	                   "allow_test_cards = yes is set in %4$s."),
	                 card->serial, card->reader, card->model, conf_path);
}

char *msg_detect_problem(enum detect_result result, CK_RV rv, const struct card_list *list,
                         const char *module_name, const char *conf_path)
{
	switch (result) {
	case DETECT_OK:
		break;
	case DETECT_ERROR:
		return text_chomp(
		    xasprintf(_("Cannot list the cards: %s\n"), p11_kit_strerror(rv)));
	case DETECT_NO_READER:
		return xstrdup(_("No smart card reader found."));
	case DETECT_TEST_CARDS_OFF: {
		char *text = withheld_text(&list->withheld[0], conf_path);

		for (size_t i = 1; i < list->n_withheld; i++)
			text = lines(text, withheld_text(&list->withheld[i], conf_path));
		return text;
	}
	case DETECT_UNRECOGNIZED:
		return text_chomp(
		    xasprintf(ngettext("%zu card is present but not recognized by %s.\n",
		                       "%zu cards are present but not recognized by %s.\n",
		                       (unsigned long)list->unrecognized),
		              list->unrecognized, module_name));
	case DETECT_NO_CARD:
		break;
	}
	return xstrdup(_("No card found: insert your card into the reader."));
}

char *msg_detect_again_prompt(void)
{
	return xstrdup(_("Press Enter to detect the cards again (Ctrl-C to quit): "));
}

/* --- step 2 ----------------------------------------------------------------------------------- */

char *msg_choose_card_prompt(size_t count)
{
	return xasprintf(_("Choose a card [1-%zu]: "), count);
}

char *msg_choose_card_again(void)
{
	return text_chomp(
	    xstrdup(_("Please enter the number of one of the cards listed above.\n")));
}

char *msg_no_card_matches(void)
{
	return xstrdup(_("No card matches --serial, --slot or --token."));
}

char *msg_several_cards(void)
{
	return xstrdup(
	    _("Several cards are present: choose one with --serial, --slot or --token."));
}

char *msg_card_chosen(const struct card *card)
{
	return text_chomp(xasprintf(_("Card %s is chosen.\n"), card->serial));
}

/* Instead of the release: where it happens (the site of the CA named by the certificate). */
char *msg_hicos_refusal(const struct card *card)
{
	const char *page = ca_web_page(card_ca(card));
	char *text = text_chomp(xasprintf(
	    _("Card %s is a real HiCOS card. Its lock is released through the web page or an "
	      "office of %s.\nThis tool does not touch real cards: their PIN reset commands are "
	      "not public, and a command the card does not expect could cost you a try.\n"),
	    card->serial, ca_display_name(card_ca(card))));

	if (page == NULL)
		return text;
	return lines(text, text_chomp(xasprintf(_("The CA's web page: %s\n"), page)));
}

char *msg_foreign_refusal(const struct card *card)
{
	return text_chomp(
	    xasprintf(_("Token \"%s\" belongs to another PKCS#11 module (%s). Its SO PIN may be a "
	                "PIV PUK or the security officer PIN of an HSM, with other consequences "
	                "than a user code: this tool logs in as SO there only with "
	                "--foreign-token.\n"),
	              card->label, card->manufacturer));
}

char *msg_user_code_reset_hint(const struct card *card)
{
	return text_chomp(xasprintf(
	    _("Only %s can reset the user code: bring the card to one of its offices or follow "
	      "its web page. This tool cannot reset the user code.\nAfter that reset, run "
	      "p11unlock again with the new user code.\n"),
	    ca_display_name(card_ca(card))));
}

char *msg_blocked(const struct card *card)
{
	if (card->kind ==
	    CARD_FOREIGN) /* another module's SO PIN: its owner knows how to reset it */
		return text_chomp(xasprintf(
		    _("The SO PIN of token \"%s\" is locked: no tries are left.\n"), card->label));
	return lines(
	    text_chomp(xasprintf(_("The user code of card %s is blocked: no tries are left.\n"),
	                         card->serial)),
	    msg_user_code_reset_hint(card));
}

char *msg_pin_not_locked(void)
{
	return xstrdup(_("The PIN of this card is not locked: these steps set a new PIN (for a "
	                 "forgotten PIN)."));
}

/* --- step 3 ----------------------------------------------------------------------------------- */

char *msg_notes(const struct card *card)
{
	/* TRANSLATORS: the card issuer's web form shows these notes (注意事項) above the user code
	 * field. */
	return xasprintf(
	    _("Notes:\n"
	      "  1. Do not use the \"Unlock PIN\" function of another program on this "
	      "card: it can ruin the card.\n"
	      "  2. Keep your PIN secret: do not tell it to anyone, and do not keep it "
	      "with the card.\n"
	      "  3. If you forgot the user code, %s must reset it first."),
	    ca_display_name(card_ca(card)));
}

char *msg_typing_hidden(bool show_new_pin)
{
	if (show_new_pin)
		return xstrdup(_("What you type for the user code is not shown on the screen; the "
		                 "new PIN is shown as you type it (--show-new-pin)."));
	return xstrdup(_("What you type is not shown on the screen: type each answer and press "
	                 "Enter. To see the new PIN as you type it, run p11unlock "
	                 "--show-new-pin."));
}

/* --- step 4 ----------------------------------------------------------------------------------- */

static char *labelled_tries(const char *label, const struct tries *tries, bool is_pin)
{
	char *count = tries_text(tries, is_pin);
	char *text = xasprintf("%s%s", label, count);

	free(count);
	return text;
}

char *msg_user_code_tries(const struct card *card)
{
	return labelled_tries(card->kind == CARD_FOREIGN ? _("SO PIN: ") : _("User code: "),
	                      &card->user_code, false);
}

char *msg_pin_tries(const struct card *card)
{
	return labelled_tries(_("PIN: "), &card->pin, true);
}

char *msg_last_try_warning(const struct card *card)
{
	return text_chomp(xasprintf(
	    _("Warning: the user code has one try left. If this user code is wrong, the card "
	      "cannot be unlocked until %s resets the user code.\n"),
	    ca_display_name(card_ca(card))));
}

char *msg_last_try_refused(void)
{
	return xstrdup(_("Refused: the last try of the user code is used only with --last-try. "
	                 "Nothing was sent to the card."));
}

char *msg_last_try_prompt(void)
{
	/* TRANSLATORS: keep "yes" as it is: the holder must type that word (or 是). */
	return xstrdup(_("Type \"yes\" to use the last try: "));
}

char *msg_not_confirmed(void)
{
	return xstrdup(_("Not confirmed: nothing was sent to the card."));
}

char *msg_unlock_question(const struct card *card)
{
	/* TRANSLATORS: y, yes, 是 answer yes; n, no, 否 or just Enter answer no. */
	return xasprintf(_("Unlock card %s and set the new PIN now? [y/N] "), card->serial);
}

char *msg_answer_yes_or_no(void)
{
	return xstrdup(_("Please answer y (yes) or n (no)."));
}

char *msg_pin_final_try_warning(void)
{
	return xstrdup(_("Warning: the PIN has one try left; a wrong PIN locks the card."));
}

char *msg_tries_changed(void)
{
	return xstrdup(_("The number of tries left changed while you answered (another program "
	                 "used the card). Nothing was sent to the card; here is the new count."));
}

char *msg_tries_keep_changing(void)
{
	return xstrdup(_("The card's tries keep changing while you answer: another program is "
	                 "using the card. Nothing was sent to it."));
}

/* --- step 5 ----------------------------------------------------------------------------------- */

char *msg_unlocked(void)
{
	return xstrdup(_("Card unlocked and PIN reset"));
}

char *msg_pin_changed(void)
{
	return xstrdup(_("PIN changed"));
}

char *msg_wrong_secret(const struct card *card, bool pin, const struct tries *now)
{
	char *text;

	if (now->left >= 0 && now->state != TRIES_LOCKED)
		text = text_chomp(xasprintf(
		    pin ? ngettext("Wrong PIN: %d try left.\n", "Wrong PIN: %d tries left.\n",
		                   (unsigned long)now->left)
		        : ngettext("Wrong user code: %d try left.\n",
		                   "Wrong user code: %d tries left.\n", (unsigned long)now->left),
		    now->left));
	else {
		char *count = tries_text(now, pin);

		text = text_chomp(xasprintf(pin ? _("Wrong PIN (PIN: %s).\n")
		                                : _("Wrong user code (user code: %s).\n"),
		                            count));
		free(count);
	}
	if (pin)
		return now->state == TRIES_LOCKED ? lines(text, msg_pin_locked_now()) : text;
	if (now->state == TRIES_LOCKED)
		return lines(text, msg_user_code_reset_hint(card));
	return lines(text, xasprintf(_("The user code is case-sensitive: check capital and small "
	                               "letters. When no tries are left, the card cannot be "
	                               "unlocked until %s resets the user code."),
	                             ca_display_name(card_ca(card))));
}

char *msg_retry_question(void)
{
	return xstrdup(_("Type the user code again? [y/N] "));
}

char *msg_pin_locked(void)
{
	return xstrdup(
	    _("The PIN is locked: run p11unlock with the user code to release the lock."));
}

char *msg_pin_locked_now(void)
{
	return xstrdup(_("Run p11unlock with the user code to release the lock."));
}

static char *lost_what(const struct card *card, bool gone, enum reached reached)
{
	if (!gone)
		return xasprintf(_("Card %s did not answer in time."), card->serial);
	if (reached == REACHED_NOTHING)
		return xasprintf(_("Card %s was removed or replaced after you chose it."),
		                 card->serial);
	return xasprintf(_("Card %s was removed while it was working."), card->serial);
}

/* The window's words for what to do next (its holder runs no command). */
static char *lost_reached_window(enum reached reached)
{
	switch (reached) {
	case REACHED_NOTHING:
		return xstrdup(_("Nothing was sent to any card. Insert your card and try again."));
	case REACHED_MAYBE:
		return xstrdup(_("The user code you typed may have reached the card: insert it and "
		                 "look at its tries left in this window before you try again."));
	case REACHED_SECRET_ACCEPTED:
		break;
	}
	return xstrdup(_("The user code was correct, but the new PIN may not be set: insert the "
	                 "card; if this window shows its PIN still locked, release it again."));
}

static enum front_end front_end = FRONT_END_TERMINAL;

void messages_front_end(enum front_end which)
{
	front_end = which;
}

static char *lost_reached(enum reached reached, bool pin_change)
{
	if (front_end == FRONT_END_WINDOW && !pin_change)
		return lost_reached_window(reached);
	switch (reached) {
	case REACHED_NOTHING:
		return xstrdup(_("Nothing was sent to any card. Insert your card and run p11unlock "
		                 "again."));
	case REACHED_MAYBE:
		return xstrdup(pin_change ? _("The PIN you typed may have reached the card: insert "
		                              "it and check its tries left with p11unlock --status "
		                              "before you try again.")
		                          : _("The user code you typed may have reached the card: "
		                              "insert it and check its tries left with p11unlock "
		                              "--status before you try again."));
	case REACHED_SECRET_ACCEPTED:
		break;
	}
	return xstrdup(pin_change ? _("The current PIN was correct, but the new PIN may not be "
	                              "set: insert the card and check it with p11unlock "
	                              "--status.")
	                          : _("The user code was correct, but the new PIN may not be set: "
	                              "insert the card and check it with p11unlock --status; if "
	                              "its PIN is still locked, run p11unlock again."));
}

char *msg_card_lost(const struct card *card, bool gone, enum reached reached, bool pin_change)
{
	return join(lost_what(card, gone, reached), lost_reached(reached, pin_change));
}

char *msg_new_pin_refused(CK_RV rv)
{
	return text_chomp(xasprintf(_("The card refused the new PIN: %s\n"), p11_kit_strerror(rv)));
}

char *msg_pkcs11_failed(const char *function, CK_RV rv)
{
	return text_chomp(xasprintf(_("%s failed: %s (0x%08lx)\n"), function, p11_kit_strerror(rv),
	                            (unsigned long)rv));
}

char *msg_counters_unreadable(CK_RV rv)
{
	return text_chomp(
	    xasprintf(_("Cannot read the card's counters: %s\n"), p11_kit_strerror(rv)));
}

const char *msg_interrupted_nothing_sent(void)
{
	return _("Interrupted: nothing was sent to the card.");
}

const char *msg_interrupted_card_working(void)
{
	return _("Interrupted while the card was working: what you typed may have reached it. "
	         "Check its tries left with p11unlock --status.");
}

const char *msg_interrupted_nothing_more(void)
{
	return _("Interrupted: nothing more was sent to the card.");
}
