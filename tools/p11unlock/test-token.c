/* Token classification, counters (status object text, flags), card selection,
 * and the card as the tool shows it: text in both languages and JSON. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "report.h"
#include "test-lang.h"
#include "text.h"
#include "token.h"

static void pad(CK_UTF8CHAR *field, size_t size, const char *value)
{
	assert_true(strlen(value) <= size);
	memset(field, ' ', size);
	memcpy(field, value, strlen(value));
}

#define PAD(field, value) pad((field), sizeof(field), (value))

static CK_TOKEN_INFO token_info(const char *label, const char *manufacturer, const char *model,
                                const char *serial)
{
	CK_TOKEN_INFO info;

	memset(&info, 0, sizeof(info));
	PAD(info.label, label);
	PAD(info.manufacturerID, manufacturer);
	PAD(info.model, model);
	PAD(info.serialNumber, serial);
	return info;
}

static void test_padded_copy(void **state)
{
	CK_UTF8CHAR field[8];
	char out[9], small[4];

	(void)state;
	memcpy(field, "P11U V1 ", 8);
	padded_copy(out, sizeof(out), field, sizeof(field));
	assert_string_equal(out, "P11U V1");
	memcpy(field, "ABCDEFGH", 8);
	padded_copy(out, sizeof(out), field, sizeof(field));
	assert_string_equal(out, "ABCDEFGH");
	padded_copy(small, sizeof(small), field, sizeof(field));
	assert_string_equal(small, "ABC");
	memcpy(field, "AB\0     ", 8);
	padded_copy(out, sizeof(out), field, sizeof(field));
	assert_string_equal(out, "AB");
}

static void test_token_classes(void **state)
{
	CK_TOKEN_INFO card =
	    token_info("憑證測試中心 1349", "p11unlock", "P11U V1", "XC00000000091349");
	CK_TOKEN_INFO user_code =
	    token_info("用戶代碼 XC00000000091349", "p11unlock", "User code", "XC00000000091349");
	/* Either mark is enough. */
	CK_TOKEN_INFO user_code_model =
	    token_info("XC00000000091349", "p11unlock", "User code", "XC00000000091349");
	CK_TOKEN_INFO user_code_label =
	    token_info("用戶代碼 XC00000000091349", "p11unlock", "UC", "XC00000000091349");
	CK_TOKEN_INFO hicos =
	    token_info("王小明 1349", "p11unlock", "CHT V32N", "TP03000000001349");
	CK_TOKEN_INFO gen2 =
	    token_info("王小明 1349", "p11unlock", "HiCOS GPPKI", "TP03000000001349");
	CK_TOKEN_INFO foreign = token_info("PIV Card", "piv_II", "PKCS#15 emulated", "00000001");
	CK_TOKEN_INFO foreign_label = token_info("用戶代碼 1", "OpenSC", "PKCS#15", "1");

	(void)state;
	assert_false(token_is_user_code(&card));
	assert_true(token_is_user_code(&user_code));
	assert_true(token_is_user_code(&user_code_model));
	assert_true(token_is_user_code(&user_code_label));
	assert_false(token_is_user_code(&hicos));
	/* Only our module's tokens are user-code tokens, whatever another module's label says. */
	assert_false(token_is_user_code(&foreign_label));
	assert_int_equal(card_kind_of(&card), CARD_P11UNLOCK);
	assert_int_equal(card_kind_of(&hicos), CARD_HICOS);
	assert_int_equal(card_kind_of(&gen2), CARD_HICOS);
	assert_int_equal(card_kind_of(&foreign), CARD_FOREIGN);
	assert_int_equal(card_kind_of(&foreign_label), CARD_FOREIGN);
}

static void test_status_value(void **state)
{
	const char *ok = "pin_tries=2 user_code_tries=3";
	int pin = -1, user_code = -1;

	(void)state;
	assert_true(status_value_parse(ok, strlen(ok), &pin, &user_code));
	assert_int_equal(pin, 2);
	assert_int_equal(user_code, 3);
	assert_true(status_value_parse("user_code_tries=0 pin_tries=0", 29, &pin, &user_code));
	assert_int_equal(pin, 0);
	assert_int_equal(user_code, 0);
	/* Keys a later module may add are skipped. */
	assert_true(
	    status_value_parse("pin_tries=1 max=3 user_code_tries=1", 35, &pin, &user_code));
	assert_int_equal(pin, 1);
	assert_int_equal(user_code, 1);
	/* The length given, not a NUL, ends the value. */
	assert_true(status_value_parse("pin_tries=3 user_code_tries=3xyz", 29, &pin, &user_code));
	assert_false(status_value_parse("pin_tries=3", 11, &pin, &user_code));
	assert_false(status_value_parse("pin_tries=3 user_code_tries=", 28, &pin, &user_code));
	assert_false(status_value_parse("pin_tries=-1 user_code_tries=3", 30, &pin, &user_code));
	assert_false(status_value_parse("pin_tries=100 user_code_tries=3", 31, &pin, &user_code));
	assert_false(
	    status_value_parse("pin_tries=3 pin_tries=3 user_code_tries=3", 41, &pin, &user_code));
	assert_false(status_value_parse("pin_tries 3 user_code_tries=3", 29, &pin, &user_code));
	assert_false(status_value_parse("", 0, &pin, &user_code));
}

static void test_tries(void **state)
{
	struct tries tries;

	(void)state;
	tries_from_count(3, &tries);
	assert_int_equal(tries.state, TRIES_OK);
	assert_int_equal(tries.left, 3);
	tries_from_count(2, &tries);
	assert_int_equal(tries.state, TRIES_LOW);
	tries_from_count(1, &tries);
	assert_int_equal(tries.state, TRIES_FINAL);
	tries_from_count(0, &tries);
	assert_int_equal(tries.state, TRIES_LOCKED);
	assert_int_equal(tries.left, 0);

	tries_from_flags(0, false, &tries);
	assert_int_equal(tries.state, TRIES_OK);
	assert_int_equal(tries.left, -1);
	tries_from_flags(CKF_USER_PIN_COUNT_LOW, false, &tries);
	assert_int_equal(tries.state, TRIES_LOW);
	assert_int_equal(tries.left, -1);
	tries_from_flags(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY, false, &tries);
	assert_int_equal(tries.state, TRIES_FINAL);
	assert_int_equal(tries.left, 1);
	tries_from_flags(CKF_USER_PIN_LOCKED, false, &tries);
	assert_int_equal(tries.state, TRIES_LOCKED);
	/* The SO flags are the user code's; the user flags do not count for it. */
	tries_from_flags(CKF_USER_PIN_LOCKED, true, &tries);
	assert_int_equal(tries.state, TRIES_OK);
	tries_from_flags(CKF_SO_PIN_FINAL_TRY, true, &tries);
	assert_int_equal(tries.state, TRIES_FINAL);
	tries_from_flags(CKF_SO_PIN_LOCKED | CKF_SO_PIN_COUNT_LOW, true, &tries);
	assert_int_equal(tries.state, TRIES_LOCKED);
}

static const char *tries_string(int left, bool exact, bool is_pin)
{
	static char *text;
	struct tries tries;

	tries_from_count(left, &tries);
	if (!exact)
		tries.left = tries.state == TRIES_LOCKED ? 0 : tries.state == TRIES_FINAL ? 1 : -1;
	free(text);
	text = tries_text(&tries, is_pin);
	return text;
}

static void test_tries_text(void **state)
{
	(void)state;
	assert_true(test_lang_set("en"));
	assert_string_equal(tries_string(3, true, true), "OK");
	assert_string_equal(tries_string(2, true, true), "2 tries left");
	assert_string_equal(tries_string(1, true, true), "1 try left");
	assert_string_equal(tries_string(0, true, true), "locked");
	assert_string_equal(tries_string(3, true, false), "3 tries left");
	assert_string_equal(tries_string(0, true, false), "blocked");
	assert_string_equal(tries_string(3, false, false), "OK");
	assert_string_equal(tries_string(2, false, false), "fewer tries left");
	assert_string_equal(tries_string(1, false, false), "1 try left");
	if (!test_lang_set("zh_TW"))
		skip();
	assert_string_equal(tries_string(3, true, true), "正常");
	assert_string_equal(tries_string(2, true, true), "剩餘 2 次");
	assert_string_equal(tries_string(0, true, true), "已鎖卡");
	assert_string_equal(tries_string(3, true, false), "剩餘 3 次");
	assert_string_equal(tries_string(0, true, false), "已鎖定");
	assert_string_equal(tries_string(2, false, false), "剩餘次數減少");
	test_lang_set("en");
}

static char *capture(void (*write)(FILE *, const void *), const void *arg)
{
	char *data = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&data, &len);

	assert_non_null(out);
	write(out, arg);
	fclose(out);
	return data;
}

static void write_json(FILE *out, const void *arg)
{
	json_write_string(out, arg);
}

static void assert_sanitized(const char *in, const char *expected)
{
	char *text = strdup(in);

	assert_non_null(text);
	text_sanitize(text);
	assert_string_equal(text, expected);
	free(text);
}

static void assert_json(const char *in, const char *expected)
{
	char *out = capture(write_json, in);

	assert_string_equal(out, expected);
	free(out);
}

static void test_text_sanitizing(void **state)
{
	(void)state;
	assert_sanitized("C=TW,O=組織及團體", "C=TW,O=組織及團體");
	assert_sanitized("a\033[2Jb\x7f\n", "a?[2Jb??");
	assert_sanitized("a\xc2\x9b"
	                 "b",
	                 "a?b"); /* C1 control U+009B */
	assert_sanitized("a\xff\xc3"
	                 "zb",
	                 "a??zb");                    /* invalid bytes */
	assert_sanitized("\xe7\xb5", "??");           /* cut sequence */
	assert_sanitized("\xc0\xaf", "??");           /* overlong '/' */
	assert_sanitized("\xed\xa0\x80", "???");      /* surrogate */
	assert_sanitized("\xf4\x90\x80\x80", "????"); /* beyond U+10FFFF */
	assert_sanitized("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	/* Marks that would show the text in another order: RLO (U+202E) ... PDF (U+202C),
	 * RLI (U+2067), LRM (U+200E), ALM (U+061C), LINE SEPARATOR (U+2028). */
	assert_sanitized("XC\u202e94310000\u202c", "XC?94310000?");
	assert_sanitized("\u2067a\u200eb\u061cc\u2028", "?a?b?c?");
	/* Their neighbours stay: ZWJ (U+200D), NNBSP (U+202F), WORD JOINER (U+2060). */
	assert_sanitized("a\u200db\u202fc\u2060", "a\u200db\u202fc\u2060");
	assert_json("O=\"A\\B\"\n", "\"O=\\\"A\\\\B\\\"\\u000a\"");
	assert_json("組織\xff", "\"組織\\ufffd\"");
}

static void test_selection(void **state)
{
	struct card card;
	struct card_selector selector;
	P11KitUri *uri = p11_kit_uri_new();

	(void)state;
	memset(&card, 0, sizeof(card));
	card.slot = 4;
	card.token_info = token_info("XCA 1349", "p11unlock", "P11U V1", "XC00000000091349");
	strcpy(card.serial, "XC00000000091349");
	memset(&selector, 0, sizeof(selector));
	assert_false(card_selector_any(&selector));
	assert_true(card_selected(&selector, &card));
	selector.serial = "XC00000000091349";
	assert_true(card_selected(&selector, &card));
	selector.serial = "XC00000000091350";
	assert_false(card_selected(&selector, &card));
	selector.serial = NULL;
	selector.by_slot = true;
	selector.slot = 4;
	assert_true(card_selected(&selector, &card));
	selector.slot = 5;
	assert_false(card_selected(&selector, &card));
	selector.by_slot = false;
	assert_int_equal(p11_kit_uri_parse("pkcs11:serial=XC00000000091349;model=P11U%20V1",
	                                   P11_KIT_URI_FOR_TOKEN, uri),
	                 P11_KIT_URI_OK);
	selector.uri = uri;
	assert_true(card_selector_any(&selector));
	assert_true(card_selected(&selector, &card));
	assert_int_equal(
	    p11_kit_uri_parse("pkcs11:serial=XC00000000091350", P11_KIT_URI_FOR_TOKEN, uri),
	    P11_KIT_URI_OK);
	assert_false(card_selected(&selector, &card));
	p11_kit_uri_free(uri);
}

static time_t utc(int year, int month, int day)
{
	struct tm tm = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day};

	return timegm(&tm);
}

static struct card locked_card(void)
{
	struct card card;

	memset(&card, 0, sizeof(card));
	card.slot = 0;
	strcpy(card.reader, "Virtual PCD 00 00");
	strcpy(card.serial, "XC00000000091349");
	strcpy(card.label, "憑證測試中心 1349");
	strcpy(card.model, "P11U V1");
	strcpy(card.manufacturer, "p11unlock");
	card.kind = CARD_P11UNLOCK;
	tries_from_count(0, &card.pin);
	tries_from_count(3, &card.user_code);
	card.tries_source = TRIES_FROM_STATUS_OBJECT;
	card.has_cert = true;
	card.cert.holder = strdup("C=TW,O=組織及團體憑證管理中心憑證測試中心");
	card.cert.ca = CA_XCA;
	card.cert.not_before = utc(2015, 9, 1);
	card.cert.not_after = utc(2021, 9, 1); /* long expired: flagged */
	return card;
}

static void write_card_text(FILE *out, const void *card)
{
	report_card_text(out, 1, card, true);
}

/* What a holder sees without --verbose: no slot number, no card type. */
static void write_card_text_plain(FILE *out, const void *card)
{
	report_card_text(out, 1, card, false);
}

static void write_card_json(FILE *out, const void *card)
{
	report_card_json(out, card);
}

static void test_card_text(void **state)
{
	struct card card = locked_card();
	char *out;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(test_lang_set("en"));
	out = capture(write_card_text, &card);
	assert_string_equal(out, "[1] Card number: XC00000000091349\n"
	                         "    Reader: Virtual PCD 00 00 (slot 0)\n"
	                         "    Card type: P11U V1\n"
	                         "    Holder: C=TW,O=組織及團體憑證管理中心憑證測試中心\n"
	                         "    Validity: 2015-09-01 – 2021-09-01 (expired)\n"
	                         "    PIN: locked\n"
	                         "    User code: 3 tries left\n");
	free(out);
	if (test_lang_set("zh_TW")) {
		out = capture(write_card_text, &card);
		assert_string_equal(out, "[1] 卡號：XC00000000091349\n"
		                         "    讀卡機：Virtual PCD 00 00（插槽 0）\n"
		                         "    卡片類型：P11U V1\n"
		                         "    持卡人：C=TW,O=組織及團體憑證管理中心憑證測試中心\n"
		                         "    有效期限：自2015年9月1日 至 2021年9月1日（已過期）\n"
		                         "    PIN碼：已鎖卡\n"
		                         "    用戶代碼：剩餘 3 次\n");
		free(out);
		test_lang_set("en");
	}
	cert_facts_clear(&card.cert);
}

static void test_card_text_plain(void **state)
{
	struct card card = locked_card();
	char *out;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(test_lang_set("en"));
	out = capture(write_card_text_plain, &card);
	assert_string_equal(out, "[1] Card number: XC00000000091349\n"
	                         "    Reader: Virtual PCD 00 00\n"
	                         "    Holder: C=TW,O=組織及團體憑證管理中心憑證測試中心\n"
	                         "    Validity: 2015-09-01 – 2021-09-01 (expired)\n"
	                         "    PIN: locked\n"
	                         "    User code: 3 tries left\n");
	free(out);
	if (test_lang_set("zh_TW")) {
		out = capture(write_card_text_plain, &card);
		assert_string_equal(out, "[1] 卡號：XC00000000091349\n"
		                         "    讀卡機：Virtual PCD 00 00\n"
		                         "    持卡人：C=TW,O=組織及團體憑證管理中心憑證測試中心\n"
		                         "    有效期限：自2015年9月1日 至 2021年9月1日（已過期）\n"
		                         "    PIN碼：已鎖卡\n"
		                         "    用戶代碼：剩餘 3 次\n");
		free(out);
		test_lang_set("en");
	}
	cert_facts_clear(&card.cert);
}

static void test_card_text_hicos(void **state)
{
	struct card card = locked_card();
	char *out;

	(void)state;
	assert_true(test_lang_set("en"));
	card.kind = CARD_HICOS;
	strcpy(card.model, "CHT V32N");
	card.cert.not_after = utc(2099, 1, 1);
	out = capture(write_card_text, &card);
	assert_string_equal(out, "[1] Card number: XC00000000091349\n"
	                         "    Reader: Virtual PCD 00 00 (slot 0)\n"
	                         "    Card type: CHT V32N\n"
	                         "    Holder: C=TW,O=組織及團體憑證管理中心憑證測試中心\n"
	                         "    Validity: 2015-09-01 – 2099-01-01\n"
	                         "    Read-only card: its lock is released by the CA, not by this "
	                         "tool.\n");
	free(out);
	/* A first-generation card the module keeps read-only (hicos_login = no), then one it logs
	 * in to. */
	card.hicos_login_off = true;
	out = capture(write_card_text, &card);
	assert_non_null(strstr(out,
	                       "    Read-only card: its lock is released by the CA, not by this "
	                       "tool.\n    PIN login, signing and decryption are off: "
	                       "hicos_login = yes in p11unlock.conf turns them on (see the "
	                       "README).\n"));
	free(out);
	card.hicos_login_off = false;
	card.token_info.flags |= CKF_LOGIN_REQUIRED;
	out = capture(write_card_text, &card);
	assert_non_null(
	    strstr(out, "    Validity: 2015-09-01 – 2099-01-01\n    Real HiCOS card: its lock is "
	                "released by the CA, not by this tool.\n"));
	free(out);
	cert_facts_clear(&card.cert);
}

static void test_card_json(void **state)
{
	struct card card = locked_card();
	char *out;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	out = capture(write_card_json, &card);
	assert_string_equal(out, "{\"slot\":0,\"reader\":\"Virtual PCD 00 00\","
	                         "\"card_number\":\"XC00000000091349\","
	                         "\"label\":\"憑證測試中心 1349\","
	                         "\"card_type\":\"P11U V1\",\"manufacturer\":\"p11unlock\","
	                         "\"kind\":\"p11unlock\","
	                         "\"holder\":\"C=TW,O=組織及團體憑證管理中心憑證測試中心\","
	                         "\"not_before\":\"2015-09-01\",\"not_after\":\"2021-09-01\","
	                         "\"expired\":true,\"ca\":\"XCA\","
	                         "\"pin\":{\"state\":\"locked\",\"tries_left\":0},"
	                         "\"user_code\":{\"state\":\"ok\",\"tries_left\":3},"
	                         "\"tries_source\":\"status_object\"}");
	free(out);
	cert_facts_clear(&card.cert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_padded_copy),     cmocka_unit_test(test_token_classes),
	    cmocka_unit_test(test_status_value),    cmocka_unit_test(test_tries),
	    cmocka_unit_test(test_tries_text),      cmocka_unit_test(test_text_sanitizing),
	    cmocka_unit_test(test_selection),       cmocka_unit_test(test_card_text),
	    cmocka_unit_test(test_card_text_plain), cmocka_unit_test(test_card_text_hicos),
	    cmocka_unit_test(test_card_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
