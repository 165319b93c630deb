/* Every question and message of the unlock and PIN-change steps (messages.h), and the
 * prompts and checks of the secrets (secret.h), formatted with sample arguments in English and
 * in Traditional Chinese: each is compared whole with the text a holder must see (a fixed-size
 * buffer once cut the Chinese unlock question before its "？[y/N]"), and printed as TAP
 * diagnostics, so the log shows every message of the tool in both languages.  Then the
 * messages that carry text from elsewhere (reader names, paths) with very long values: nothing
 * is cut at any length.  And the answers the questions accept. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <p11-kit/p11-kit.h>

#include "i18n.h"
#include "messages.h"
#include "p11unlock/p11unlock.h"
#include "prompt.h"
#include "secret.h"
#include "test-lang.h"
#include "text.h"

static struct card sample;  /* a locked test card of the XCA */
static struct card hicos;   /* a real HiCOS card */
static struct card foreign; /* another module's token */
static struct withheld_card withheld = {"Virtual PCD 00 00", "XC00000000091349", "P11U V1"};

static void setup_cards(void)
{
	memset(&sample, 0, sizeof(sample));
	strcpy(sample.reader, "Virtual PCD 00 00");
	strcpy(sample.serial, "XC00000000091349");
	strcpy(sample.label, "憑證測試中心 1349");
	strcpy(sample.model, "P11U V1");
	strcpy(sample.manufacturer, "p11unlock");
	sample.kind = CARD_P11UNLOCK;
	tries_from_count(0, &sample.pin);
	tries_from_count(3, &sample.user_code);
	sample.has_cert = true;
	sample.cert.ca = CA_XCA;
	hicos = sample;
	strcpy(hicos.serial, "TP03000000001349");
	strcpy(hicos.model, "CHT V32N");
	hicos.kind = CARD_HICOS;
	foreign = sample;
	strcpy(foreign.label, "PIV Card");
	strcpy(foreign.manufacturer, "OpenSC");
	foreign.kind = CARD_FOREIGN;
	foreign.has_cert = false;
}

/* --- the messages, each made by a function without arguments ---------------------------------- */

static char *detect_no_reader(void)
{
	struct card_list list = {0};

	return msg_detect_problem(DETECT_NO_READER, CKR_OK, &list, "p11unlock",
	                          "/etc/p11unlock.conf");
}

static char *detect_no_card(void)
{
	struct card_list list = {0};

	list.slots = 4;
	return msg_detect_problem(DETECT_NO_CARD, CKR_OK, &list, "p11unlock",
	                          "/etc/p11unlock.conf");
}

static char *detect_unrecognized(void)
{
	struct card_list list = {0};

	list.slots = 2;
	list.unrecognized = 2;
	return msg_detect_problem(DETECT_UNRECOGNIZED, CKR_OK, &list, "OpenSC smartcard framework",
	                          "/etc/p11unlock.conf");
}

static char *detect_test_cards_off(void)
{
	struct card_list list = {0};

	list.slots = 4;
	list.withheld = &withheld;
	list.n_withheld = 1;
	return msg_detect_problem(DETECT_TEST_CARDS_OFF, CKR_OK, &list, "p11unlock",
	                          "/etc/p11unlock.conf");
}

static char *detect_error(void)
{
	struct card_list list = {0};

	return msg_detect_problem(DETECT_ERROR, CKR_GENERAL_ERROR, &list, "p11unlock",
	                          "/etc/p11unlock.conf");
}

static char *choose_prompt(void)
{
	return msg_choose_card_prompt(2);
}

static char *card_chosen(void)
{
	return msg_card_chosen(&sample);
}

static char *hicos_refusal(void)
{
	return msg_hicos_refusal(&hicos);
}

static char *foreign_refusal(void)
{
	return msg_foreign_refusal(&foreign);
}

static char *blocked(void)
{
	return msg_blocked(&sample);
}

static char *foreign_blocked(void)
{
	return msg_blocked(&foreign);
}

static char *notes(void)
{
	return msg_notes(&sample);
}

static char *notes_unknown_ca(void)
{
	return msg_notes(&foreign);
}

static char *typing_hidden(void)
{
	return msg_typing_hidden(false);
}

static char *typing_hidden_new_pin_shown(void)
{
	return msg_typing_hidden(true);
}

static char *user_code_tries(void)
{
	return msg_user_code_tries(&sample);
}

static char *so_pin_tries(void)
{
	return msg_user_code_tries(&foreign);
}

static char *pin_tries(void)
{
	return msg_pin_tries(&sample);
}

static char *last_try_warning(void)
{
	return msg_last_try_warning(&sample);
}

static char *unlock_question(void)
{
	return msg_unlock_question(&sample);
}

static char *wrong_user_code(int left)
{
	struct tries tries;

	tries_from_count(left, &tries);
	return msg_wrong_secret(&sample, false, &tries);
}

static char *wrong_user_code_2(void)
{
	return wrong_user_code(2);
}

static char *wrong_user_code_1(void)
{
	return wrong_user_code(1);
}

static char *wrong_user_code_0(void)
{
	return wrong_user_code(0);
}

static char *wrong_user_code_unknown(void)
{
	struct tries tries = {TRIES_LOW, -1};

	return msg_wrong_secret(&sample, false, &tries);
}

static char *wrong_pin_2(void)
{
	struct tries tries;

	tries_from_count(2, &tries);
	return msg_wrong_secret(&sample, true, &tries);
}

static char *wrong_pin_0(void)
{
	struct tries tries;

	tries_from_count(0, &tries);
	return msg_wrong_secret(&sample, true, &tries);
}

static char *removed_before(void)
{
	return msg_card_lost(&sample, true, REACHED_NOTHING, false);
}

static char *removed_at_login(void)
{
	return msg_card_lost(&sample, true, REACHED_MAYBE, false);
}

static char *removed_at_login_pin(void)
{
	return msg_card_lost(&sample, true, REACHED_MAYBE, true);
}

static char *removed_at_init_pin(void)
{
	return msg_card_lost(&sample, true, REACHED_SECRET_ACCEPTED, false);
}

static char *removed_at_set_pin(void)
{
	return msg_card_lost(&sample, true, REACHED_SECRET_ACCEPTED, true);
}

static char *silent_before(void)
{
	return msg_card_lost(&sample, false, REACHED_NOTHING, false);
}

static char *silent_at_login(void)
{
	return msg_card_lost(&sample, false, REACHED_MAYBE, false);
}

static char *new_pin_refused(void)
{
	return msg_new_pin_refused(CKR_PIN_LEN_RANGE);
}

static char *pkcs11_failed(void)
{
	return msg_pkcs11_failed("C_Login", CKR_GENERAL_ERROR);
}

static char *counters_unreadable(void)
{
	return msg_counters_unreadable(CKR_GENERAL_ERROR);
}

static char *interrupted_nothing_sent(void)
{
	return xstrdup(msg_interrupted_nothing_sent());
}

static char *interrupted_card_working(void)
{
	return xstrdup(msg_interrupted_card_working());
}

static char *interrupted_nothing_more(void)
{
	return xstrdup(msg_interrupted_nothing_more());
}

static char *prompt_user_code(void)
{
	return secret_prompt(SECRET_FIELD_USER_CODE);
}

static char *prompt_current_pin(void)
{
	return secret_prompt(SECRET_FIELD_CURRENT_PIN);
}

static char *prompt_new_pin(void)
{
	return secret_prompt(SECRET_FIELD_NEW_PIN);
}

static char *prompt_new_pin_again(void)
{
	return secret_prompt(SECRET_FIELD_NEW_PIN_AGAIN);
}

static char *user_code_too_long(void)
{
	return secret_problem_message(SECRET_FIELD_USER_CODE, SECRET_TOO_LONG);
}

static char *new_pin_not_printable(void)
{
	return secret_problem_message(SECRET_FIELD_NEW_PIN, SECRET_NOT_PRINTABLE);
}

static char *pins_differ(void)
{
	return secret_problem_message(SECRET_FIELD_NEW_PIN_AGAIN, SECRET_MISMATCH);
}

static char *new_pin_again_ended(void)
{
	return secret_problem_message(SECRET_FIELD_NEW_PIN_AGAIN, SECRET_END_OF_INPUT);
}

#define XCA_EN "the Organizations and Groups Certification Authority (XCA)"
#define XCA_ZH "組織及團體憑證管理中心"
#define RESET_HINT_EN                                                                              \
	"Only " XCA_EN " can reset the user code: bring the card to one of its offices or follow " \
	"its web page. This tool cannot reset the user code.\n"                                    \
	"After that reset, run p11unlock again with the new user code."
#define RESET_HINT_ZH                                                                                                 \
	"用戶代碼只能由" XCA_ZH                                                                                       \
	"重設：請攜帶卡片臨櫃辦理，或依其網站說明辦理。本工具無法重設用戶代碼。\n" \
	"重設後，請以新的用戶代碼再次執行 p11unlock。"
#define CASE_EN                                                                                    \
	"The user code is case-sensitive: check capital and small letters. When no tries are "     \
	"left, "                                                                                   \
	"the card cannot be unlocked until " XCA_EN " resets the user code."
#define CASE_ZH                                                                                                                    \
	"用戶代碼區分英文大小寫，請確認大小寫是否正確。剩餘次數用完後，卡片將無法解鎖，直" \
	"到" XCA_ZH "重設用戶代碼為止。"

/* en and zh: the text expected (NULL: printed only).  "@E@" in them stands for p11-kit's text
 * for the error rv, which p11-kit translates itself. */
struct message_case {
	const char *name;
	char *(*make)(void);
	const char *en;
	const char *zh;
	CK_RV rv;
};

/* rv only where it matters. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct message_case cases[] = {
    /* step 1 */
    {"no reader", detect_no_reader, "No smart card reader found.", "找不到讀卡機。"},
    {"no card", detect_no_card, "No card found: insert your card into the reader.",
     "找不到卡片：請將卡片插入讀卡機。"},
    {"cards not recognized", detect_unrecognized,
     "2 cards are present but not recognized by OpenSC smartcard framework.",
     "有 2 張卡片無法被 OpenSC smartcard framework 辨識。"},
    {"test cards switched off", detect_test_cards_off,
     "Card XC00000000091349 in reader \"Virtual PCD 00 00\" is a p11unlock test card (P11U V1). "
     "Test cards are switched off: the module gives them no token unless allow_test_cards = yes "
     "is set in /etc/p11unlock.conf.",
     "讀卡機「Virtual PCD 00 00」中的卡片 XC00000000091349 是 p11unlock 測試卡（P11U "
     "V1）。測試卡目前停用：除非在 /etc/p11unlock.conf 中設定 allow_test_cards = "
     "yes，模組不會為測試卡提供憑證載具。"},
    {"cannot list", detect_error, "Cannot list the cards: @E@", "無法列出卡片：@E@",
     CKR_GENERAL_ERROR},
    {"detect again", msg_detect_again_prompt,
     "Press Enter to detect the cards again (Ctrl-C to quit): ",
     "請按 Enter 重新偵測卡片（按 Ctrl-C 結束）："},
    /* step 2 */
    {"choose a card", choose_prompt, "Choose a card [1-2]: ", "請選擇卡片 [1-2]："},
    {"choose again", msg_choose_card_again,
     "Please enter the number of one of the cards listed above.",
     "請輸入上方所列其中一張卡片的編號。"},
    {"no card matches", msg_no_card_matches, "No card matches --serial, --slot or --token.",
     "沒有符合 --serial、--slot 或 --token 的卡片。"},
    {"several cards", msg_several_cards,
     "Several cards are present: choose one with --serial, --slot or --token.",
     "讀卡機中有多張卡片：請以 --serial、--slot 或 --token 指定其中一張。"},
    {"card chosen", card_chosen, "Card XC00000000091349 is chosen.",
     "已選擇卡片 XC00000000091349。"},
    {"real HiCOS card", hicos_refusal,
     "Card TP03000000001349 is a real HiCOS card. Its lock is released through the web page or "
     "an office of " XCA_EN ".\nThis tool does not touch real cards: their PIN reset commands "
     "are not public, and a command the card does not expect could cost you a try.\nThe CA's "
     "web page: https://xca.nat.gov.tw/",
     "卡片 TP03000000001349 是正式的 HiCOS 卡片，鎖卡須透過" XCA_ZH
     "的網站或臨櫃辦理解除。\n本工具不處理正式卡片：這類卡片的重設PIN碼指令並未公開，送出卡片不預"
     "期的指令可能耗用您的嘗試次數。\n憑證管理中心網站：https://xca.nat.gov.tw/"},
    {"foreign token", foreign_refusal,
     "Token \"PIV Card\" belongs to another PKCS#11 module (OpenSC). Its SO PIN may be a PIV PUK "
     "or the security officer PIN of an HSM, with other consequences than a user code: this "
     "tool logs in as SO there only with --foreign-token.",
     "憑證載具「PIV Card」屬於其他 PKCS#11 模組（OpenSC）。其 SO PIN碼可能是 PIV 卡的 PUK "
     "或硬體安全模組的管理者 PIN碼，後果與用戶代碼不同：本工具只在加上 --foreign-token 時才以 "
     "SO 身分登入。"},
    {"user code blocked", blocked,
     "The user code of card XC00000000091349 is blocked: no tries are left.\n" RESET_HINT_EN,
     "卡片 XC00000000091349 的用戶代碼已鎖定，已無剩餘次數。\n" RESET_HINT_ZH},
    {"SO PIN locked", foreign_blocked,
     "The SO PIN of token \"PIV Card\" is locked: no tries are left.",
     "憑證載具「PIV Card」的 SO PIN碼已鎖定，已無剩餘次數。"},
    {"PIN not locked", msg_pin_not_locked,
     "The PIN of this card is not locked: these steps set a new PIN (for a forgotten PIN).",
     "此卡片的PIN碼未鎖卡：以下步驟將設定新的PIN碼（適用於忘記PIN碼）。"},
    /* step 3 */
    {"notes", notes,
     "Notes:\n"
     "  1. Do not use the \"Unlock PIN\" function of another program on this card: it can ruin "
     "the card.\n"
     "  2. Keep your PIN secret: do not tell it to anyone, and do not keep it with the card.\n"
     "  3. If you forgot the user code, " XCA_EN " must reset it first.",
     "注意事項：\n"
     "  1. 請勿對這張卡片使用其他程式的「解PIN碼鎖」功能，以免造成卡片損毀。\n"
     "  2. 請妥善保管您的PIN碼，切勿告知他人，也不要與卡片放在一起。\n"
     "  3. 若忘記用戶代碼，須先由" XCA_ZH "重設用戶代碼。"},
    {"notes, CA unknown", notes_unknown_ca, NULL, NULL},
    {"typing hidden", typing_hidden,
     "What you type is not shown on the screen: type each answer and press Enter. To see the "
     "new PIN as you type it, run p11unlock --show-new-pin.",
     "輸入的內容不會顯示在螢幕上：請輸入每個回答後按 Enter。若要在輸入新PIN碼時看到所輸入的內容"
     "，請執行 p11unlock --show-new-pin。"},
    {"typing hidden, new PIN shown", typing_hidden_new_pin_shown,
     "What you type for the user code is not shown on the screen; the new PIN is shown as you "
     "type it (--show-new-pin).",
     "輸入用戶代碼時，螢幕上不會顯示所輸入的內容；輸入新PIN碼時會顯示（--show-new-pin）。"},
    {"user code prompt", prompt_user_code,
     "User code (6-10 characters): ", "用戶代碼（6 至 10 個字元）："},
    {"current PIN prompt", prompt_current_pin, "Current PIN: ", "目前的PIN碼："},
    {"new PIN prompt", prompt_new_pin, "New PIN (6-8 characters): ", "新PIN碼（6 至 8 個字元）："},
    {"new PIN again prompt", prompt_new_pin_again, "New PIN again: ", "再次輸入新PIN碼："},
    {"user code too long", user_code_too_long,
     "User code: too long, it must have 6 to 10 characters.",
     "用戶代碼：太長，長度須為 6 至 10 個字元。"},
    {"new PIN not printable", new_pin_not_printable,
     "New PIN: only letters, digits and ASCII symbols are allowed.",
     "新PIN碼：只能使用英文字母、數字及半形符號。"},
    {"PINs differ", pins_differ, "The two new PINs differ.", "兩次輸入的新PIN碼不一致。"},
    {"input ended", new_pin_again_ended, "New PIN (again): the input ended before an answer.",
     "確認新PIN碼：輸入已結束，未取得回答。"},
    /* step 4 */
    {"user code tries", user_code_tries, "User code: 3 tries left", "用戶代碼：剩餘 3 次"},
    {"SO PIN tries", so_pin_tries, "SO PIN: 3 tries left", "SO PIN碼：剩餘 3 次"},
    {"PIN tries", pin_tries, "PIN: locked", "PIN碼：已鎖卡"},
    {"last try warning", last_try_warning,
     "Warning: the user code has one try left. If this user code is wrong, the card cannot be "
     "unlocked until " XCA_EN " resets the user code.",
     "警告：用戶代碼只剩 1 次機會。若這次的用戶代碼錯誤，卡片將無法解鎖，直到" XCA_ZH
     "重設用戶代碼為止。"},
    {"last try refused", msg_last_try_refused,
     "Refused: the last try of the user code is used only with --last-try. Nothing was sent to "
     "the card.",
     "已拒絕：用戶代碼的最後一次機會只有加上 --last-try 才會使用。沒有對卡片送出任何指令。"},
    {"last try question", msg_last_try_prompt,
     "Type \"yes\" to use the last try: ", "請輸入 yes 或「是」以使用最後一次機會："},
    {"not confirmed", msg_not_confirmed, "Not confirmed: nothing was sent to the card.",
     "未確認：沒有對卡片送出任何指令。"},
    {"unlock question", unlock_question,
     "Unlock card XC00000000091349 and set the new PIN now? [y/N] ",
     "現在解除卡片 XC00000000091349 的鎖卡並設定新PIN碼？[是(y)/否(N)] "},
    {"yes or no", msg_answer_yes_or_no, "Please answer y (yes) or n (no).",
     "請回答「是」(y) 或「否」(n)。"},
    {"PIN final try", msg_pin_final_try_warning,
     "Warning: the PIN has one try left; a wrong PIN locks the card.",
     "警告：PIN碼只剩 1 次機會，輸入錯誤將會鎖卡。"},
    {"tries changed", msg_tries_changed,
     "The number of tries left changed while you answered (another program used the card). "
     "Nothing was sent to the card; here is the new count.",
     "您回答期間剩餘次數有所變動（有其他程式使用了這張卡片）。沒有對卡片送出任何指令；以下是最"
     "新的剩餘次數。"},
    {"tries keep changing", msg_tries_keep_changing,
     "The card's tries keep changing while you answer: another program is using the card. "
     "Nothing was sent to it.",
     "您回答期間卡片的剩餘次數一再變動：有其他程式正在使用這張卡片。沒有對卡片送出任何指令。"},
    /* step 5 */
    {"unlocked", msg_unlocked, "Card unlocked and PIN reset", "鎖卡解碼/重設PIN碼成功"},
    {"PIN changed", msg_pin_changed, "PIN changed", "PIN碼變更成功"},
    {"wrong user code, 2 left", wrong_user_code_2, "Wrong user code: 2 tries left.\n" CASE_EN,
     "用戶代碼錯誤，剩餘 2 次機會。\n" CASE_ZH},
    {"wrong user code, 1 left", wrong_user_code_1, "Wrong user code: 1 try left.\n" CASE_EN,
     "用戶代碼錯誤，剩餘 1 次機會。\n" CASE_ZH},
    {"wrong user code, none left", wrong_user_code_0,
     "Wrong user code (user code: blocked).\n" RESET_HINT_EN,
     "用戶代碼錯誤（用戶代碼：已鎖定）。\n" RESET_HINT_ZH},
    {"wrong user code, count unknown", wrong_user_code_unknown,
     "Wrong user code (user code: fewer tries left).\n" CASE_EN,
     "用戶代碼錯誤（用戶代碼：剩餘次數減少）。\n" CASE_ZH},
    {"retry question", msg_retry_question, "Type the user code again? [y/N] ",
     "要重新輸入用戶代碼嗎？[是(y)/否(N)] "},
    {"wrong PIN, 2 left", wrong_pin_2, "Wrong PIN: 2 tries left.", "PIN碼錯誤，剩餘 2 次機會。"},
    {"wrong PIN, locked", wrong_pin_0,
     "Wrong PIN (PIN: locked).\nRun p11unlock with the user code to release the lock.",
     "PIN碼錯誤（PIN碼：已鎖卡）。\n請以用戶代碼執行 p11unlock 解除鎖卡。"},
    {"PIN locked", msg_pin_locked,
     "The PIN is locked: run p11unlock with the user code to release the lock.",
     "PIN碼已鎖卡：請以用戶代碼執行 p11unlock 解除鎖卡。"},
    {"removed before any secret", removed_before,
     "Card XC00000000091349 was removed or replaced after you chose it. Nothing was sent to any "
     "card. Insert your card and run p11unlock again.",
     "卡片 XC00000000091349 在您選擇之後已被移除或更換。沒有對任何卡片送出任何指令。請插入您的"
     "卡片後再執行一次 p11unlock。"},
    {"removed while the user code was checked", removed_at_login,
     "Card XC00000000091349 was removed while it was working. The user code you typed may have "
     "reached the card: insert it and check its tries left with p11unlock --status before you "
     "try again.",
     "卡片 XC00000000091349 在作業進行中被移除。您輸入的用戶代碼可能已送到卡片：請插入卡片，在"
     "再試一次之前先以 p11unlock --status 查看剩餘次數。"},
    {"removed while the PIN was checked", removed_at_login_pin,
     "Card XC00000000091349 was removed while it was working. The PIN you typed may have "
     "reached the card: insert it and check its tries left with p11unlock --status before you "
     "try again.",
     "卡片 XC00000000091349 在作業進行中被移除。您輸入的PIN碼可能已送到卡片：請插入卡片，在再試"
     "一次之前先以 p11unlock --status 查看剩餘次數。"},
    {"removed while the new PIN was set", removed_at_init_pin,
     "Card XC00000000091349 was removed while it was working. The user code was correct, but "
     "the new PIN may not be set: insert the card and check it with p11unlock --status; if its "
     "PIN is still locked, run p11unlock again.",
     "卡片 XC00000000091349 在作業進行中被移除。用戶代碼正確，但新PIN碼可能尚未設定：請插入卡片"
     "，以 p11unlock --status 查看；若PIN碼仍為鎖卡狀態，請再執行一次 p11unlock。"},
    {"removed while the PIN was changed", removed_at_set_pin,
     "Card XC00000000091349 was removed while it was working. The current PIN was correct, but "
     "the new PIN may not be set: insert the card and check it with p11unlock --status.",
     "卡片 XC00000000091349 在作業進行中被移除。目前的PIN碼正確，但新PIN碼可能尚未設定：請插入"
     "卡片，以 p11unlock --status 查看。"},
    {"silent before any secret", silent_before,
     "Card XC00000000091349 did not answer in time. Nothing was sent to any card. Insert your "
     "card and run p11unlock again.",
     "卡片 XC00000000091349 未在時限內回應。沒有對任何卡片送出任何指令。請插入您的卡片後再執行一"
     "次 p11unlock。"},
    {"silent while the user code was checked", silent_at_login,
     "Card XC00000000091349 did not answer in time. The user code you typed may have reached "
     "the card: insert it and check its tries left with p11unlock --status before you try "
     "again.",
     "卡片 XC00000000091349 未在時限內回應。您輸入的用戶代碼可能已送到卡片：請插入卡片，在再試"
     "一次之前先以 p11unlock --status 查看剩餘次數。"},
    {"new PIN refused", new_pin_refused, "The card refused the new PIN: @E@",
     "卡片不接受新的PIN碼：@E@", CKR_PIN_LEN_RANGE},
    {"PKCS#11 call failed", pkcs11_failed, "C_Login failed: @E@ (0x00000005)",
     "C_Login 失敗：@E@（0x00000005）", CKR_GENERAL_ERROR},
    {"counters unreadable", counters_unreadable, "Cannot read the card's counters: @E@",
     "無法讀取卡片的剩餘次數：@E@", CKR_GENERAL_ERROR},
    {"Ctrl-C before step 5", interrupted_nothing_sent, "Interrupted: nothing was sent to the card.",
     "已中斷：沒有對卡片送出任何指令。"},
    {"Ctrl-C during step 5", interrupted_card_working,
     "Interrupted while the card was working: what you typed may have reached it. Check its "
     "tries left with p11unlock --status.",
     "已在卡片作業進行中中斷：您輸入的內容可能已送到卡片。請以 p11unlock --status 查看剩餘次數。"},
    {"Ctrl-C after a wrong user code", interrupted_nothing_more,
     "Interrupted: nothing more was sent to the card.", "已中斷：沒有再對卡片送出任何指令。"},
};
#pragma GCC diagnostic pop

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* The text as TAP diagnostics, one "# " line per line. */
static void print_text(const char *lang, const char *name, const char *text)
{
	const char *line = text;

	printf("# [%s] %s:\n", lang, name);
	for (;;) {
		size_t n = strcspn(line, "\n");

		printf("#     %.*s\n", (int)n, line);
		if (line[n] == '\0')
			break;
		line += n + 1;
	}
}

/* The text expected, "@E@" replaced by p11-kit's text for rv (in the current language).  A new
 * string, or NULL. */
static char *expected_text(const char *expected, CK_RV rv)
{
	const char *mark = expected != NULL ? strstr(expected, "@E@") : NULL;

	if (expected == NULL)
		return NULL;
	if (mark == NULL)
		return xstrdup(expected);
	return xasprintf("%.*s%s%s", (int)(mark - expected), expected, p11_kit_strerror(rv),
	                 mark + 3);
}

static void check_language(const char *lang)
{
	bool zh = strcmp(lang, "zh_TW") == 0;

	for (size_t i = 0; i < N_CASES; i++) {
		char *text = cases[i].make();
		char *expected = expected_text(zh ? cases[i].zh : cases[i].en, cases[i].rv);

		print_text(lang, cases[i].name, text);
		if (expected != NULL && strcmp(text, expected) != 0) {
			print_message("%s [%s]:\n got      \"%s\"\n expected \"%s\"\n",
			              cases[i].name, lang, text, expected);
			fail();
		}
		/* Chinese text really is Chinese: a translation missing from the catalog would
		 * leave the English. */
		if (zh && cases[i].en != NULL && strcmp(cases[i].en, cases[i].zh) != 0)
			assert_string_not_equal(text, cases[i].en);
		free(expected);
		free(text);
	}
}

static void test_messages_en(void **state)
{
	(void)state;
	setup_cards();
	assert_true(test_lang_set("en"));
	check_language("en");
}

static void test_messages_zh(void **state)
{
	(void)state;
	setup_cards();
	if (!test_lang_set("zh_TW"))
		skip();
	check_language("zh_TW");
	test_lang_set("en");
}

/* Text from elsewhere (a module's name, the configuration path) of any length comes out whole,
 * with the rest of the message after it, in both languages. */
static void check_long_values(bool zh)
{
	char name[700], path[3000];
	struct card_list list = {0};
	char *text, *expected;

	memset(name, 'M', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	list.slots = 1;
	list.withheld = &withheld;
	list.n_withheld = 1;
	text = msg_detect_problem(DETECT_TEST_CARDS_OFF, CKR_OK, &list, name, path);
	expected =
	    zh ? xasprintf("讀卡機「Virtual PCD 00 00」中的卡片 XC00000000091349 是 p11unlock "
	                   "測試卡（P11U V1）。測試卡目前停用：除非在 %s 中設定 "
	                   "allow_test_cards = yes，模組不會為測試卡提供憑證載具。",
	                   path)
	       : xasprintf("Card XC00000000091349 in reader \"Virtual PCD 00 00\" is a "
	                   "p11unlock test card (P11U V1). Test cards are switched off: the "
	                   "module gives them no token unless allow_test_cards = yes is set "
	                   "in %s.",
	                   path);
	assert_string_equal(text, expected);
	free(text);
	free(expected);
	list.n_withheld = 0;
	list.unrecognized = 1;
	text = msg_detect_problem(DETECT_UNRECOGNIZED, CKR_OK, &list, name, path);
	expected = zh ? xasprintf("有 1 張卡片無法被 %s 辨識。", name)
	              : xasprintf("1 card is present but not recognized by %s.", name);
	assert_string_equal(text, expected);
	free(text);
	free(expected);
}

static void test_long_values(void **state)
{
	(void)state;
	setup_cards();
	assert_true(test_lang_set("en"));
	check_long_values(false);
	if (!test_lang_set("zh_TW"))
		skip();
	check_long_values(true);
	test_lang_set("en");
}

static void test_answers(void **state)
{
	(void)state;
	for (const char *const *yes =
	         (const char *const[]){"y", "Y", "yes", "YES", "Yes", "是", " y ", "是 ", NULL};
	     *yes != NULL; yes++)
		assert_int_equal(answer_parse(*yes), ANSWER_YES);
	for (const char *const *no =
	         (const char *const[]){"n", "N", "no", "NO", "否", "", "  ", " 否", NULL};
	     *no != NULL; no++)
		assert_int_equal(answer_parse(*no), ANSWER_NO);
	for (const char *const *unclear =
	         (const char *const[]){"ye", "yess", "是的", "x", "1", "y es", "不", NULL};
	     *unclear != NULL; unclear++)
		assert_int_equal(answer_parse(*unclear), ANSWER_UNCLEAR);
	/* The last try takes the whole word. */
	assert_true(answer_confirms_last_try("yes"));
	assert_true(answer_confirms_last_try("YES"));
	assert_true(answer_confirms_last_try("是"));
	assert_true(answer_confirms_last_try(" yes "));
	assert_false(answer_confirms_last_try("y"));
	assert_false(answer_confirms_last_try(""));
	assert_false(answer_confirms_last_try("no"));
	assert_false(answer_confirms_last_try("否"));
	assert_false(answer_confirms_last_try("yes!"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages_en),
	    cmocka_unit_test(test_messages_zh),
	    cmocka_unit_test(test_long_values),
	    cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
