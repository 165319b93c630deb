#include "config.h"

#include "outcome.h"

#include "p11unlock/p11unlock.h"

enum detect_result detect_classify(CK_RV rv, const struct card_list *list)
{
	if (rv != CKR_OK)
		return DETECT_ERROR;
	if (list->slots == 0)
		return DETECT_NO_READER;
	/* Cards passed over for another number: the selection's refusal says why. */
	if (list->count > 0 || list->passed_over > 0)
		return DETECT_OK;
	if (list->n_withheld > 0)
		return DETECT_TEST_CARDS_OFF;
	if (list->unrecognized > 0)
		return DETECT_UNRECOGNIZED;
	return DETECT_NO_CARD;
}

int detect_exit(enum detect_result result)
{
	switch (result) {
	case DETECT_OK:
		return EXIT_TOOL_OK;
	case DETECT_ERROR:
		return EXIT_TOOL_OTHER;
	case DETECT_NO_READER:
	case DETECT_TEST_CARDS_OFF:
	case DETECT_UNRECOGNIZED:
	case DETECT_NO_CARD:
		break;
	}
	return EXIT_TOOL_NO_CARD;
}

bool detect_retry_helps(enum detect_result result)
{
	return result != DETECT_OK && result != DETECT_ERROR;
}

bool card_gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_SLOT_ID_INVALID;
}

enum reached reached_at(enum pin_stage stage)
{
	switch (stage) {
	case PIN_STAGE_SESSION:
		return REACHED_NOTHING;
	case PIN_STAGE_LOGIN:
		return REACHED_MAYBE;
	case PIN_STAGE_CHANGE:
		break;
	}
	return REACHED_SECRET_ACCEPTED;
}

enum pin_result pin_result_of(CK_RV rv, enum pin_stage stage, enum card_kind kind)
{
	switch (rv) {
	case CKR_OK:
		return PIN_RESULT_OK;
	case CKR_PIN_INCORRECT:
		return PIN_RESULT_WRONG_SECRET;
	case CKR_PIN_LOCKED:
		return PIN_RESULT_BLOCKED;
	case P11UNLOCK_CKR_TRIES_CHANGED:
		return PIN_RESULT_TRIES_CHANGED;
	case CKR_DEVICE_ERROR:
		return PIN_RESULT_CARD_SILENT;
	case CKR_FUNCTION_NOT_SUPPORTED:
		/* Our module's answer for a real HiCOS card, whatever its model says. */
		if (stage == PIN_STAGE_LOGIN && kind != CARD_FOREIGN)
			return PIN_RESULT_NOT_HANDLED;
		break;
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		if (stage == PIN_STAGE_CHANGE)
			return PIN_RESULT_NEW_PIN_REFUSED;
		break;
	default:
		if (card_gone(rv))
			return PIN_RESULT_CARD_GONE;
		break;
	}
	return PIN_RESULT_FAILED;
}

int pin_result_exit(enum pin_result result)
{
	switch (result) {
	case PIN_RESULT_OK:
		return EXIT_TOOL_OK;
	case PIN_RESULT_WRONG_SECRET:
		return EXIT_TOOL_WRONG_SECRET;
	case PIN_RESULT_BLOCKED:
		return EXIT_TOOL_BLOCKED;
	case PIN_RESULT_CARD_GONE:
		return EXIT_TOOL_NO_CARD;
	case PIN_RESULT_NOT_HANDLED:
		return EXIT_TOOL_NOT_HANDLED;
	case PIN_RESULT_NEW_PIN_REFUSED:
		return EXIT_TOOL_USAGE;
	case PIN_RESULT_TRIES_CHANGED:
	case PIN_RESULT_CARD_SILENT:
	case PIN_RESULT_FAILED:
		break;
	}
	return EXIT_TOOL_OTHER;
}
