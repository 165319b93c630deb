/* errors.c: the card-result mapping and the CKR name table (sorted, searched with bsearch). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs11/errors.h"

static void test_table_sorted(void **state)
{
	assert_true(p11u_ckr_table_sorted());
}

static void test_names(void **state)
{
	assert_string_equal(p11u_ckr_name(CKR_OK), "CKR_OK");
	assert_string_equal(p11u_ckr_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
	assert_string_equal(p11u_ckr_name(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
	assert_string_equal(p11u_ckr_name(CKR_DEVICE_REMOVED), "CKR_DEVICE_REMOVED");
	assert_string_equal(p11u_ckr_name(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
	assert_string_equal(p11u_ckr_name(CKR_SESSION_READ_ONLY_EXISTS),
	                    "CKR_SESSION_READ_ONLY_EXISTS");
	assert_string_equal(p11u_ckr_name(0x4242), "CKR_(unknown)");
	assert_string_equal(p11u_ckr_name(CKR_VENDOR_DEFINED | 7), "CKR_VENDOR_DEFINED");
}

static void test_card_mapping(void **state)
{
	static const struct {
		enum p11u_card_rv card;
		CK_RV ckr;
	} map[] = {
	    {P11U_CARD_OK, CKR_OK},
	    {P11U_CARD_E_SECRET_INCORRECT, CKR_PIN_INCORRECT},
	    {P11U_CARD_E_SECRET_BLOCKED, CKR_PIN_LOCKED},
	    {P11U_CARD_E_SECRET_FORMAT, CKR_PIN_INCORRECT},
	    {P11U_CARD_E_NOT_VERIFIED, CKR_USER_NOT_LOGGED_IN},
	    {P11U_CARD_E_NOT_SUPPORTED, CKR_FUNCTION_NOT_SUPPORTED},
	    {P11U_CARD_E_UNRECOGNIZED, CKR_DEVICE_ERROR},
	    {P11U_CARD_E_REMOVED, CKR_DEVICE_REMOVED},
	    {P11U_CARD_E_RESET, CKR_USER_NOT_LOGGED_IN},
	    {P11U_CARD_E_DATA_LEN, CKR_DATA_LEN_RANGE},
	    {P11U_CARD_E_BAD_RESPONSE, CKR_DEVICE_ERROR},
	    {P11U_CARD_E_COMM, CKR_DEVICE_ERROR},
	    {P11U_CARD_E_TIMEOUT, CKR_DEVICE_ERROR},
	    {P11U_CARD_E_ARGS, CKR_ARGUMENTS_BAD},
	    {P11U_CARD_E_NO_MEMORY, CKR_HOST_MEMORY},
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		assert_int_equal(p11u_ckr_from_card(map[i].card), map[i].ckr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_sorted),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_card_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
