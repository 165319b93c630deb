/* The one mapping from card-layer results to CK_RV. */
#ifndef P11U_PKCS11_ERRORS_H
#define P11U_PKCS11_ERRORS_H

#include <stdbool.h>

#include <p11-kit/pkcs11.h>

#include "card/card.h"

/* P11U_CARD_E_SECRET_INCORRECT -> CKR_PIN_INCORRECT, _BLOCKED -> CKR_PIN_LOCKED,
 * _SECRET_FORMAT -> CKR_PIN_INCORRECT (login) -- callers that need CKR_PIN_LEN_RANGE /
 * CKR_PIN_INVALID for a new PIN check the format themselves first, _NOT_VERIFIED ->
 * CKR_USER_NOT_LOGGED_IN, _NOT_SUPPORTED -> CKR_FUNCTION_NOT_SUPPORTED, _REMOVED ->
 * CKR_DEVICE_REMOVED, _RESET -> CKR_USER_NOT_LOGGED_IN, _DATA_LEN -> CKR_DATA_LEN_RANGE,
 * _BAD_RESPONSE/_COMM/_UNRECOGNIZED -> CKR_DEVICE_ERROR, _ARGS -> CKR_ARGUMENTS_BAD,
 * _NO_MEMORY -> CKR_HOST_MEMORY. */
CK_RV p11u_ckr_from_card(enum p11u_card_rv rv);

/* "CKR_PIN_INCORRECT" etc., for debug logs. */
const char *p11u_ckr_name(CK_RV rv);

/* For the unit test: the name table is sorted by value (p11u_ckr_name() bsearches it). */
bool p11u_ckr_table_sorted(void);

#endif
