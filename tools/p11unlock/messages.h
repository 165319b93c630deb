/* Every question and message of the unlock and PIN-change steps, in the current language, as
 * a new string (never cut, whatever the language: free it), without a final newline.  Kept
 * apart from the printing so that a window can show the same text for the same decision
 * (outcome.h); test-messages prints each of them in both languages. */
#ifndef P11UNLOCK_TOOL_MESSAGES_H
#define P11UNLOCK_TOOL_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "outcome.h"
#include "token.h"

/* Which program shows the messages: the few that say what to do next name p11unlock's
 * commands on a terminal, and the window's own controls in the window. */
enum front_end {
	FRONT_END_TERMINAL,
	FRONT_END_WINDOW,
};

void messages_front_end(enum front_end which);

/* The card's CA (as named in ca_display_name()). */
enum ca_id card_ca(const struct card *card);

/* --- step 1: detection -------------------------------------------------------------------- */

/* Why there is no card to work on (result other than DETECT_OK); module_name names the module
 * (for DETECT_UNRECOGNIZED); conf_path is the module's configuration file (for
 * DETECT_TEST_CARDS_OFF). */
char *msg_detect_problem(enum detect_result result, CK_RV rv, const struct card_list *list,
                         const char *module_name, const char *conf_path);
/* The form's 偵測卡片 button, on a terminal. */
char *msg_detect_again_prompt(void);

/* --- step 2: the card ----------------------------------------------------------------------- */

char *msg_choose_card_prompt(size_t count);
char *msg_choose_card_again(void);
char *msg_no_card_matches(void);
char *msg_several_cards(void);
char *msg_card_chosen(const struct card *card);
char *msg_hicos_refusal(const struct card *card);
char *msg_foreign_refusal(const struct card *card);
/* The user code (a foreign token's SO PIN) has no tries left, with who resets it. */
char *msg_blocked(const struct card *card);
char *msg_user_code_reset_hint(const struct card *card);
char *msg_pin_not_locked(void);

/* --- step 3: the secrets ------------------------------------------------------------------- */

/* The form's 注意事項, shown before the secrets are asked for. */
char *msg_notes(const struct card *card);
/* On a terminal: the typing is not shown (show_new_pin: except the new PIN's). */
char *msg_typing_hidden(bool show_new_pin);

/* --- step 4: the count of tries and the confirmations --------------------------------------- */

/* "User code: 3 tries left" (a foreign token: "SO PIN: ..."). */
char *msg_user_code_tries(const struct card *card);
char *msg_pin_tries(const struct card *card);
char *msg_last_try_warning(const struct card *card);
char *msg_last_try_refused(void);
char *msg_last_try_prompt(void);
char *msg_not_confirmed(void);
char *msg_unlock_question(const struct card *card);
/* A yes/no question answered with something else. */
char *msg_answer_yes_or_no(void);
char *msg_pin_final_try_warning(void);
char *msg_tries_changed(void);
char *msg_tries_keep_changing(void);

/* --- step 5: the card's answer --------------------------------------------------------------- */

char *msg_unlocked(void);
char *msg_pin_changed(void);
/* A wrong user code (pin: the current PIN of --change-pin) and the tries left now (the card
 * read again; -1 when unknown): the count, and for the user code that it is case-sensitive
 * and what happens when no tries are left. */
char *msg_wrong_secret(const struct card *card, bool pin, const struct tries *now);
/* The form's 重新輸入, on a terminal after a wrong user code. */
char *msg_retry_question(void);
char *msg_pin_locked(void);
char *msg_pin_locked_now(void);
/* The card removed or replaced (gone) or silent (CKR_DEVICE_ERROR) during an operation, and
 * what had reached it.  pin_change: --change-pin (the current PIN instead of the user code). */
char *msg_card_lost(const struct card *card, bool gone, enum reached reached, bool pin_change);
char *msg_new_pin_refused(CK_RV rv);
char *msg_pkcs11_failed(const char *function, CK_RV rv);
char *msg_counters_unreadable(CK_RV rv);

/* What Ctrl-C (or another signal that ends the tool) says while secrets are held. */
const char *msg_interrupted_nothing_sent(void);
const char *msg_interrupted_card_working(void);
const char *msg_interrupted_nothing_more(void);

#endif
