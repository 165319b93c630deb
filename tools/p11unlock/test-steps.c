/* The steps the command-line tool and the window share (steps.h): what the tries left allow,
 * what a card lost before any secret moved means, and what each answer of the module to the
 * release means (message, exit code, where it is shown), compared whole in English; a wrong
 * user code reads the counters again through the module (a fake one here: the counters cannot
 * be read, and the message says the count is unknown); the window's words for what to do next;
 * the module named and configured as the environment says. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "messages.h"
#include "p11unlock/p11unlock.h"
#include "steps.h"
#include "test-lang.h"

static struct card card;

static void setup_card(int user_code_left)
{
	memset(&card, 0, sizeof(card));
	strcpy(card.serial, "XC00000000091349");
	card.kind = CARD_P11UNLOCK;
	tries_from_count(0, &card.pin);
	tries_from_count(user_code_left, &card.user_code);
	card.has_cert = true;
	card.cert.ca = CA_XCA;
}

static void test_gate(void **state)
{
	setup_card(3);
	assert_int_equal(release_gate_of(&card), RELEASE_GO);
	setup_card(2);
	assert_int_equal(release_gate_of(&card), RELEASE_GO);
	setup_card(1);
	assert_int_equal(release_gate_of(&card), RELEASE_LAST_TRY);
	setup_card(0);
	assert_int_equal(release_gate_of(&card), RELEASE_BLOCKED);
	/* Only the token's flags known: the final-try flag is enough to ask first. */
	tries_from_flags(CKF_SO_PIN_FINAL_TRY, true, &card.user_code);
	assert_int_equal(release_gate_of(&card), RELEASE_LAST_TRY);
	tries_from_flags(CKF_SO_PIN_COUNT_LOW, true, &card.user_code);
	assert_int_equal(release_gate_of(&card), RELEASE_GO);
}

static void assert_note(const struct release_note *note, const char *text, int exit_code,
                        bool error, enum pin_result result)
{
	assert_string_equal(note->text, text);
	assert_int_equal(note->exit_code, exit_code);
	assert_int_equal(note->error, error);
	assert_int_equal(note->result, result);
}

static void test_lost_before_secret(void **state)
{
	struct release_note note;

	assert_true(test_lang_set("en"));
	setup_card(3);
	release_note_lost(&card, CKR_DEVICE_REMOVED, "C_OpenSession", &note);
	assert_note(&note,
	            "Card XC00000000091349 was removed or replaced after you chose it. Nothing was "
	            "sent to any card. Insert your card and run p11unlock again.",
	            EXIT_TOOL_NO_CARD, true, PIN_RESULT_CARD_GONE);
	release_note_clear(&note);
	assert_null(note.text);
	release_note_lost(&card, CKR_FUNCTION_FAILED, "C_OpenSession", &note);
	assert_note(&note, "C_OpenSession failed: The operation failed (0x00000006)",
	            EXIT_TOOL_OTHER, true, PIN_RESULT_FAILED);
	release_note_clear(&note);
	release_note_lost(&card, CKR_FUNCTION_FAILED, NULL, &note);
	assert_note(&note, "Cannot read the card's counters: The operation failed", EXIT_TOOL_OTHER,
	            true, PIN_RESULT_FAILED);
	release_note_clear(&note);
}

/* A module whose token cannot be read: the counters after a wrong user code stay unknown. */
static CK_RV token_gone(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	return CKR_DEVICE_REMOVED;
}

static void test_release_answers(void **state)
{
	CK_FUNCTION_LIST functions = {.C_GetTokenInfo = token_gone};
	struct module module = {.functions = &functions};
	struct release_note note;

	assert_true(test_lang_set("en"));
	setup_card(3);
	release_note_of(&module, &card, CKR_OK, PIN_STAGE_CHANGE, false, &note);
	assert_note(&note, "Card unlocked and PIN reset", EXIT_TOOL_OK, false, PIN_RESULT_OK);
	release_note_clear(&note);

	release_note_of(&module, &card, CKR_PIN_INCORRECT, PIN_STAGE_LOGIN, false, &note);
	assert_int_equal(note.exit_code, EXIT_TOOL_WRONG_SECRET);
	assert_false(note.tries_read);
	assert_non_null(strstr(note.text, "Wrong user code"));
	assert_non_null(strstr(note.text, "case-sensitive"));
	release_note_clear(&note);

	release_note_of(&module, &card, P11UNLOCK_CKR_TRIES_CHANGED, PIN_STAGE_LOGIN, false, &note);
	assert_note(&note,
	            "The card's tries keep changing while you answer: another program is using "
	            "the card. Nothing was sent to it.",
	            EXIT_TOOL_OTHER, true, PIN_RESULT_TRIES_CHANGED);
	release_note_clear(&note);

	/* The card removed: what had reached it depends on the stage. */
	release_note_of(&module, &card, CKR_DEVICE_REMOVED, PIN_STAGE_SESSION, false, &note);
	assert_int_equal(note.exit_code, EXIT_TOOL_NO_CARD);
	assert_non_null(strstr(note.text, "Nothing was sent to any card."));
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_DEVICE_REMOVED, PIN_STAGE_LOGIN, false, &note);
	assert_non_null(strstr(note.text, "The user code you typed may have reached the card"));
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_SESSION_HANDLE_INVALID, PIN_STAGE_CHANGE, false, &note);
	assert_non_null(
	    strstr(note.text, "The user code was correct, but the new PIN may not be set"));
	release_note_clear(&note);

	release_note_of(&module, &card, CKR_PIN_LEN_RANGE, PIN_STAGE_CHANGE, false, &note);
	assert_int_equal(note.exit_code, EXIT_TOOL_USAGE);
	assert_int_equal(note.result, PIN_RESULT_NEW_PIN_REFUSED);
	release_note_clear(&note);

	release_note_of(&module, &card, CKR_GENERAL_ERROR, PIN_STAGE_CHANGE, false, &note);
	assert_note(&note, "C_InitPIN failed: Internal error (0x00000005)", EXIT_TOOL_OTHER, true,
	            PIN_RESULT_FAILED);
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_GENERAL_ERROR, PIN_STAGE_CHANGE, true, &note);
	assert_note(&note, "C_SetPIN failed: Internal error (0x00000005)", EXIT_TOOL_OTHER, true,
	            PIN_RESULT_FAILED);
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_OK, PIN_STAGE_CHANGE, true, &note);
	assert_note(&note, "PIN changed", EXIT_TOOL_OK, false, PIN_RESULT_OK);
	release_note_clear(&note);
}

/* The window names its own controls where the terminal names p11unlock's commands. */
static void test_window_words(void **state)
{
	CK_FUNCTION_LIST functions = {.C_GetTokenInfo = token_gone};
	struct module module = {.functions = &functions};
	struct release_note note;

	assert_true(test_lang_set("en"));
	setup_card(3);
	messages_front_end(FRONT_END_WINDOW);
	release_note_lost(&card, CKR_DEVICE_REMOVED, "C_OpenSession", &note);
	assert_string_equal(note.text, "Card XC00000000091349 was removed or replaced after you "
	                               "chose it. Nothing was sent to any card. Insert your card "
	                               "and try again.");
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_DEVICE_REMOVED, PIN_STAGE_LOGIN, false, &note);
	assert_string_equal(note.text,
	                    "Card XC00000000091349 was removed while it was working. The "
	                    "user code you typed may have reached the card: insert it "
	                    "and look at its tries left in this window before you try "
	                    "again.");
	release_note_clear(&note);
	release_note_of(&module, &card, CKR_DEVICE_REMOVED, PIN_STAGE_CHANGE, false, &note);
	assert_string_equal(note.text,
	                    "Card XC00000000091349 was removed while it was working. The "
	                    "user code was correct, but the new PIN may not be set: "
	                    "insert the card; if this window shows its PIN still "
	                    "locked, release it again.");
	release_note_clear(&note);
	if (test_lang_set("zh_TW")) {
		release_note_lost(&card, CKR_DEVICE_REMOVED, "C_OpenSession", &note);
		assert_string_equal(note.text,
		                    "卡片 XC00000000091349 在您選擇之後已被移除或更換。"
		                    "沒有對任何卡片送出任何指令。請插入您的卡片後再試一次。");
		release_note_clear(&note);
	}
	messages_front_end(FRONT_END_TERMINAL);
	assert_true(test_lang_set("en"));
	release_note_lost(&card, CKR_DEVICE_REMOVED, "C_OpenSession", &note);
	assert_non_null(strstr(note.text, "Insert your card and run p11unlock again."));
	release_note_clear(&note);
}

static void test_module_setup(void **state)
{
	struct module module;
	char *path;

	memset(&module, 0, sizeof(module));
	strcpy(module.manufacturer, "OpenSC Project");
	assert_string_equal(module_display_name(&module), "OpenSC Project");
	strcpy(module.description, "OpenSC smartcard framework");
	assert_string_equal(module_display_name(&module), "OpenSC smartcard framework");

	setenv("P11UNLOCK_CONF", "/tmp/p11unlock-test.conf", 1);
	assert_string_equal(module_conf_path(), "/tmp/p11unlock-test.conf");
	unsetenv("P11UNLOCK_CONF");
	assert_string_equal(module_conf_path(), P11U_SYSCONFDIR "/p11unlock.conf");

	setenv("P11UNLOCK_MODULE", "opensc-pkcs11.so", 1);
	path = module_path_choose(NULL);
	assert_string_equal(path, "opensc-pkcs11.so"); /* a bare name is p11-kit's to find */
	free(path);
	path = module_path_choose("/usr/lib/given.so");
	assert_string_equal(path, "/usr/lib/given.so"); /* --module first */
	free(path);
	unsetenv("P11UNLOCK_MODULE");
	path = module_path_choose(NULL);
	assert_string_equal(path, P11U_MODULE_PATH);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gate),
	    cmocka_unit_test(test_lost_before_secret),
	    cmocka_unit_test(test_release_answers),
	    cmocka_unit_test(test_window_words),
	    cmocka_unit_test(test_module_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
