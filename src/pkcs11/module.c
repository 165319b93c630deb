/* The PKCS#11 2.40 entry points, exported by p11unlock-pkcs11.so.
 *
 * Each one is thin: p11u_enter() or p11u_enter_session() (initialized in this process, module
 * lock, session lookup), one call into the file that implements it, p11u_leave() (unlock, log
 * the result).  Where a call ends up:
 *   slots, C_WaitForSlotEvent ........ slot.c      token info ..................... token.c
 *   sessions ......................... session.c   login, PINs, unlock ............ login.c
 *   objects, search, attributes ...... find.c      mechanisms, sign, verify, ... ops.c
 *   C_Initialize / C_Finalize ........ call.c      function lists, interfaces ..... interface.c
 * Functions the module does not implement answer through p11u_refuse(). */
#include "config.h"

#include "pkcs11/front.h"

/* --- general ------------------------------------------------------------------------------ */

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
	return p11u_initialize(pInitArgs);
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
	return p11u_finalize(pReserved);
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_get_info(pInfo, 2, 40);
	return p11u_leave(&call, rv);
}

/* --- slots and tokens --------------------------------------------------------------------- */

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_slots_get_list(call.m, tokenPresent != CK_FALSE, pSlotList, pulCount);
	return p11u_leave(&call, rv);
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_slot_get_info(call.m, slotID, pInfo);
	return p11u_leave(&call, rv);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_token_get_info(&call, slotID, pInfo);
	return p11u_leave(&call, rv);
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = pReserved == NULL ? p11u_wait_for_slot_event(&call, flags, pSlot)
		                       : CKR_ARGUMENTS_BAD;
	return p11u_leave(&call, rv);
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_mechanisms_list(call.m, slotID, pMechanismList, pulCount);
	return p11u_leave(&call, rv);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	if (rv == CKR_OK)
		rv = p11u_mechanisms_info(call.m, slotID, type, pInfo);
	return p11u_leave(&call, rv);
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
	/* The card is personalized by its issuer. */
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

/* --- PINs and login ----------------------------------------------------------------------- */

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_init_pin(call.m, call.session, pPin, ulPinLen);
	return p11u_leave(&call, rv);
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_set_pin(call.m, call.session, pOldPin, ulOldLen, pNewPin, ulNewLen);
	return p11u_leave(&call, rv);
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_login(call.m, call.session, userType, pPin, ulPinLen);
	return p11u_leave(&call, rv);
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_logout(call.m, call.session);
	return p11u_leave(&call, rv);
}

/* --- sessions ----------------------------------------------------------------------------- */

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, __func__);

	/* Notify callbacks are optional (PKCS#11 2.40 5.16); none are made. */
	if (rv == CKR_OK)
		rv = p11u_session_open(call.m, slotID, flags, phSession);
	return p11u_leave(&call, rv);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_session_close(call.m, call.session);
	return p11u_leave(&call, rv);
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_slot(&call, __func__, slotID);

	if (rv == CKR_OK)
		rv = p11u_session_close_all(call.m, call.slot, call.uc);
	return p11u_leave(&call, rv);
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session_nowait(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_session_get_info(call.m, call.session, pInfo);
	return p11u_leave(&call, rv);
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
                          CK_OBJECT_HANDLE hAuthenticationKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_PARALLEL);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_PARALLEL);
}

/* --- objects ------------------------------------------------------------------------------ */

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_object_create_refused(call.session);
	return p11u_leave(&call, rv);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                   CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_object_change_refused(call.session, hObject);
	return p11u_leave(&call, rv);
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_object_change_refused(call.session, hObject);
	return p11u_leave(&call, rv);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_object_change_refused(call.session, hObject);
	return p11u_leave(&call, rv);
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_get_object_size(call.session, hObject, pulSize);
	return p11u_leave(&call, rv);
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_get_attribute_value(call.m, call.session, hObject, pTemplate, ulCount);
	return p11u_leave(&call, rv);
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_find_init(call.m, call.session, pTemplate, ulCount);
	return p11u_leave(&call, rv);
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_find_next(call.session, phObject, ulMaxObjectCount, pulObjectCount);
	return p11u_leave(&call, rv);
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_find_final(call.session);
	return p11u_leave(&call, rv);
}

/* --- decryption --------------------------------------------------------------------------- */

CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_decrypt_init(call.session, pMechanism, hKey);
	return p11u_leave(&call, rv);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_decrypt(call.m, call.session, pEncryptedData, ulEncryptedDataLen, pData,
		                  pulDataLen);
	return p11u_leave(&call, rv);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                      CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_decrypt_update(call.session, pEncryptedPart, ulEncryptedPartLen);
	return p11u_leave(&call, rv);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_decrypt_final(call.session);
	return p11u_leave(&call, rv);
}

/* --- digests ------------------------------------------------------------------------------ */

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_digest_init(call.session, pMechanism);
	return p11u_leave(&call, rv);
}

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_digest(call.session, pData, ulDataLen, pDigest, pulDigestLen);
	return p11u_leave(&call, rv);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_digest_update(call.session, pPart, ulPartLen);
	return p11u_leave(&call, rv);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	/* The card's keys are not extractable. */
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_digest_final(call.session, pDigest, pulDigestLen);
	return p11u_leave(&call, rv);
}

/* --- signatures --------------------------------------------------------------------------- */

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_sign_init(call.session, pMechanism, hKey);
	return p11u_leave(&call, rv);
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_sign(call.m, call.session, pData, ulDataLen, pSignature, pulSignatureLen);
	return p11u_leave(&call, rv);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_sign_update(call.session, pPart, ulPartLen);
	return p11u_leave(&call, rv);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_sign_final(call.m, call.session, pSignature, pulSignatureLen);
	return p11u_leave(&call, rv);
}

/* --- verification and encryption (the public keys, in software) ------------------------- */

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_verify_init(call.session, pMechanism, hKey);
	return p11u_leave(&call, rv);
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_verify(call.session, pData, ulDataLen, pSignature, ulSignatureLen);
	return p11u_leave(&call, rv);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_verify_update(call.session, pPart, ulPartLen);
	return p11u_leave(&call, rv);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_verify_final(call.session, pSignature, ulSignatureLen);
	return p11u_leave(&call, rv);
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_encrypt_init(call.session, pMechanism, hKey);
	return p11u_leave(&call, rv);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_encrypt(call.session, pData, ulDataLen, pEncryptedData,
		                  pulEncryptedDataLen);
	return p11u_leave(&call, rv);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_encrypt_update(call.session, pPart, ulPartLen);
	return p11u_leave(&call, rv);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_encrypt_final(call.session);
	return p11u_leave(&call, rv);
}

/* --- random numbers ----------------------------------------------------------------------- */

CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_seed_random(call.session, pSeed, ulSeedLen);
	return p11u_leave(&call, rv);
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter_session(&call, __func__, hSession);

	if (rv == CKR_OK)
		rv = p11u_generate_random(call.m, call.session, RandomData, ulRandomLen);
	return p11u_leave(&call, rv);
}

/* --- not offered: recovery, key management, dual functions ------------------------------- *
 * The card's keys are made by its issuer. */

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_OBJECT_HANDLE hKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                          CK_OBJECT_HANDLE hKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
                      CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                            CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                          CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                            CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                CK_ULONG_PTR pulWrappedKeyLen)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
                  CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
	return p11u_refuse(__func__, CKR_FUNCTION_NOT_SUPPORTED);
}
