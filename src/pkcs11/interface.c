/* How applications find the entry points: C_GetFunctionList (the PKCS#11 2.40 list, which
 * p11-kit uses), C_GetInterfaceList / C_GetInterface (PKCS#11 3.0), and the vendor interface
 * "Vendor P11UNLOCK" (include/p11unlock/p11unlock.h).
 *
 * Interfaces, in C_GetInterfaceList order:
 *   "PKCS 11" 3.0  the default (tools such as pkcs11-tool 0.23 assume 3.0); its 3.0-only
 *                  functions return CKR_FUNCTION_NOT_SUPPORTED, and its C_GetInfo says 3.0
 *   "PKCS 11" 2.40 the same module as C_GetFunctionList returns
 *   "Vendor P11UNLOCK" 1.1, and 1.0 for callers that ask for exactly that version
 * C_GetInterface matches a requested version exactly. */
#include "config.h"

#include <string.h>

#include "common/log.h"
#include "pkcs11/errors.h"
#include "pkcs11/front.h"
#include "pkcs11/pkcs11-compat.h"

/* --- the 3.0-only functions ------------------------------------------------------------- */

static CK_RV C_GetInfo_3_0(CK_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, "C_GetInfo");

	if (rv == CKR_OK)
		rv = p11u_get_info(pInfo, 3, 0);
	return p11u_leave(&call, rv);
}

static CK_RV C_LoginUser_3_0(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                             CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
                             CK_ULONG ulUsernameLen)
{
	return p11u_refuse("C_LoginUser", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV C_SessionCancel_3_0(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
	return p11u_refuse("C_SessionCancel", CKR_FUNCTION_NOT_SUPPORTED);
}

/* Message-based functions: the same few shapes; the name is only for the log. */
static CK_RV message_init_3_0(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                              CK_OBJECT_HANDLE hKey)
{
	return p11u_refuse("C_Message*Init", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV message_final_3_0(CK_SESSION_HANDLE hSession)
{
	return p11u_refuse("C_Message*Final", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV crypt_message_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                               CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                               CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pIn, CK_ULONG ulInLen,
                               CK_BYTE_PTR pOut, CK_ULONG_PTR pulOutLen)
{
	return p11u_refuse("C_EncryptMessage/C_DecryptMessage", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV crypt_message_begin_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                     CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                     CK_ULONG ulAssociatedDataLen)
{
	return p11u_refuse("C_*cryptMessageBegin", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV crypt_message_next_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                    CK_ULONG ulParameterLen, CK_BYTE_PTR pInPart,
                                    CK_ULONG ulInPartLen, CK_BYTE_PTR pOutPart,
                                    CK_ULONG_PTR pulOutPartLen, CK_FLAGS flags)
{
	return p11u_refuse("C_*cryptMessageNext", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV sign_message_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                              CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                              CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return p11u_refuse("C_SignMessage*", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV message_begin_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                               CK_ULONG ulParameterLen)
{
	return p11u_refuse("C_*MessageBegin", CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV verify_message_3_0(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return p11u_refuse("C_VerifyMessage*", CKR_FUNCTION_NOT_SUPPORTED);
}

/* --- function lists ------------------------------------------------------------------------ */

/* The 2.40 members, in specification order, after the version; getinfo differs by list. */
#define P11U_FUNCTIONS_2_40(getinfo)                                                               \
	C_Initialize, C_Finalize, getinfo, C_GetFunctionList, C_GetSlotList, C_GetSlotInfo,        \
	    C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN,        \
	    C_SetPIN, C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,         \
	    C_GetOperationState, C_SetOperationState, C_Login, C_Logout, C_CreateObject,           \
	    C_CopyObject, C_DestroyObject, C_GetObjectSize, C_GetAttributeValue,                   \
	    C_SetAttributeValue, C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal,             \
	    C_EncryptInit, C_Encrypt, C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt,   \
	    C_DecryptUpdate, C_DecryptFinal, C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey,  \
	    C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate, C_SignFinal, C_SignRecoverInit,       \
	    C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal,                  \
	    C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate, C_DecryptDigestUpdate,    \
	    C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey, C_GenerateKeyPair,          \
	    C_WrapKey, C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom,                   \
	    C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent

static CK_FUNCTION_LIST function_list_2_40 = {
    {2, 40},
    P11U_FUNCTIONS_2_40(C_GetInfo),
};

static CK_FUNCTION_LIST_3_0 function_list_3_0 = {
    {3, 0},
    P11U_FUNCTIONS_2_40(C_GetInfo_3_0),
    C_GetInterfaceList,
    C_GetInterface,
    C_LoginUser_3_0,
    C_SessionCancel_3_0,
    message_init_3_0,        /* C_MessageEncryptInit */
    crypt_message_3_0,       /* C_EncryptMessage */
    crypt_message_begin_3_0, /* C_EncryptMessageBegin */
    crypt_message_next_3_0,  /* C_EncryptMessageNext */
    message_final_3_0,       /* C_MessageEncryptFinal */
    message_init_3_0,        /* C_MessageDecryptInit */
    crypt_message_3_0,       /* C_DecryptMessage */
    crypt_message_begin_3_0, /* C_DecryptMessageBegin */
    crypt_message_next_3_0,  /* C_DecryptMessageNext */
    message_final_3_0,       /* C_MessageDecryptFinal */
    message_init_3_0,        /* C_MessageSignInit */
    sign_message_3_0,        /* C_SignMessage */
    message_begin_3_0,       /* C_SignMessageBegin */
    sign_message_3_0,        /* C_SignMessageNext */
    message_final_3_0,       /* C_MessageSignFinal */
    message_init_3_0,        /* C_MessageVerifyInit */
    verify_message_3_0,      /* C_VerifyMessage */
    message_begin_3_0,       /* C_VerifyMessageBegin */
    verify_message_3_0,      /* C_VerifyMessageNext */
    message_final_3_0,       /* C_MessageVerifyFinal */
};

/* --- the vendor interface ------------------------------------------------------------------ */

static CK_RV vendor_get_tries_left(CK_SLOT_ID slot, CK_ULONG_PTR pin_tries,
                                   CK_ULONG_PTR user_code_tries)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, "P11U_GetTriesLeft");

	if (rv == CKR_OK)
		rv = p11u_token_tries_left(&call, slot, pin_tries, user_code_tries);
	return p11u_leave(&call, rv);
}

static CK_RV vendor_get_card_info(CK_SLOT_ID slot, P11UNLOCK_CARD_INFO *info)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, "P11U_GetCardInfo");

	if (rv == CKR_OK)
		rv = p11u_token_card_info(call.m, slot, info);
	return p11u_leave(&call, rv);
}

static CK_RV vendor_login(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_UTF8CHAR_PTR pin,
                          CK_ULONG pin_len, CK_ULONG tries_seen, CK_ULONG_PTR tries_now)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, "P11U_Login", session);

	if (rv == CKR_OK)
		rv = p11u_login_expected(call.m, call.session, user_type, pin, pin_len, tries_seen,
		                         tries_now);
	return p11u_leave(&call, rv);
}

static CK_RV vendor_get_card_number(CK_SLOT_ID slot, CK_UTF8CHAR_PTR number)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, "P11U_GetCardNumber");

	if (rv == CKR_OK && number == NULL)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = p11u_slot_card_number(&call, slot, (char *)number);
	return p11u_leave(&call, rv);
}

/* A 1.0 or 1.1 caller reads the first members only. */
#define P11U_VENDOR_FUNCTIONS                                                                      \
	vendor_get_tries_left, vendor_get_card_info, vendor_login, vendor_get_card_number

static P11UNLOCK_FUNCTION_LIST vendor_list = {
    {P11UNLOCK_VERSION_MAJOR, P11UNLOCK_VERSION_MINOR},
    P11U_VENDOR_FUNCTIONS,
};

static P11UNLOCK_FUNCTION_LIST vendor_list_1_1 = {
    {1, 1},
    P11U_VENDOR_FUNCTIONS,
};

static P11UNLOCK_FUNCTION_LIST vendor_list_1_0 = {
    {1, 0},
    P11U_VENDOR_FUNCTIONS,
};

/* --- interfaces ---------------------------------------------------------------------------- */

static CK_INTERFACE interfaces[] = {
    {(CK_CHAR *)"PKCS 11", &function_list_3_0, 0},
    {(CK_CHAR *)"PKCS 11", &function_list_2_40, 0},
    {(CK_CHAR *)P11UNLOCK_INTERFACE_NAME, &vendor_list, 0},
    {(CK_CHAR *)P11UNLOCK_INTERFACE_NAME, &vendor_list_1_1, 0},
    {(CK_CHAR *)P11UNLOCK_INTERFACE_NAME, &vendor_list_1_0, 0},
};

#define N_INTERFACES (sizeof interfaces / sizeof interfaces[0])

/* Every function list starts with its version (PKCS#11 3.0 section 3.6). */
static const CK_VERSION *interface_version(const CK_INTERFACE *iface)
{
	return (const CK_VERSION *)iface->pFunctionList;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	CK_RV rv = CKR_OK;

	if (ppFunctionList == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		*ppFunctionList = &function_list_2_40;
	P11U_DEBUG(P11U_LOG_CALL, "C_GetFunctionList: %s", p11u_ckr_name(rv));
	return rv;
}

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	CK_RV rv = CKR_OK;

	if (pulCount == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (pInterfacesList == NULL) {
		*pulCount = N_INTERFACES;
	} else if (*pulCount < N_INTERFACES) {
		*pulCount = N_INTERFACES;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		memcpy(pInterfacesList, interfaces, sizeof interfaces);
		*pulCount = N_INTERFACES;
	}
	P11U_DEBUG(P11U_LOG_CALL, "C_GetInterfaceList: %s", p11u_ckr_name(rv));
	return rv;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
	CK_RV rv = CKR_ARGUMENTS_BAD; /* also: no interface matches */

	if (ppInterface != NULL) {
		for (size_t i = 0; i < N_INTERFACES; i++) {
			const CK_VERSION *version = interface_version(&interfaces[i]);

			if (pInterfaceName != NULL &&
			    strcmp((const char *)pInterfaceName,
			           (const char *)interfaces[i].pInterfaceName) != 0)
				continue;
			if (pVersion != NULL && (pVersion->major != version->major ||
			                         pVersion->minor != version->minor))
				continue;
			if ((interfaces[i].flags & flags) != flags)
				continue;
			*ppInterface = &interfaces[i];
			rv = CKR_OK;
			break;
		}
	}
	P11U_DEBUG(P11U_LOG_CALL, "C_GetInterface(%s, %s): %s",
	           pInterfaceName != NULL ? (const char *)pInterfaceName : "default",
	           pVersion != NULL ? "exact version" : "any version",
	           rv == CKR_OK ? "CKR_OK" : "CKR_ARGUMENTS_BAD (no such interface)");
	return rv;
}
