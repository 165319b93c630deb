/* p11unlock vendor extension to PKCS#11.
 *
 * The module p11unlock-pkcs11.so offers, next to the standard "PKCS 11" interfaces, an
 * interface named "Vendor P11UNLOCK" through C_GetInterface() (PKCS#11 3.0):
 *
 *     P11UNLOCK_C_GetInterface get_interface = dlsym(module, "C_GetInterface");
 *     P11UNLOCK_INTERFACE *iface;
 *     CK_VERSION version = {P11UNLOCK_VERSION_MAJOR, P11UNLOCK_VERSION_MINOR};
 *     rv = get_interface((CK_UTF8CHAR *)P11UNLOCK_INTERFACE_NAME, &version, &iface, 0);
 *     const P11UNLOCK_FUNCTION_LIST *p11u = iface->pFunctionList;
 *
 * Version 1.1 adds P11U_Login; the module offers the interface as 1.1 and, for callers that ask
 * for exactly that version, as 1.0.
 *
 * P11UNLOCK_INTERFACE has the layout of PKCS#11 3.0's CK_INTERFACE, so this header also works
 * with a 2.40 pkcs11.h (Debian 12's p11-kit).  Call the module's C_Initialize() first, as for
 * any PKCS#11 function.  Both slots of a reader (the card slot and the user-code slot) name
 * the same card.
 *
 * p11-kit's proxy and remoting forward no vendor interface; through them, read the token's
 * "PIN status" data object (CKA_APPLICATION "p11unlock"), whose CKA_VALUE is
 * "pin_tries=N user_code_tries=M". */
#ifndef P11UNLOCK_P11UNLOCK_H
#define P11UNLOCK_P11UNLOCK_H

#ifndef CKR_OK
#include <p11-kit/pkcs11.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define P11UNLOCK_INTERFACE_NAME "Vendor P11UNLOCK"
#define P11UNLOCK_VERSION_MAJOR  1
#define P11UNLOCK_VERSION_MINOR  2

/* P11U_Login: the card's counter is not the count the caller gave (nothing was sent). */
#define P11UNLOCK_CKR_TRIES_CHANGED (CKR_VENDOR_DEFINED | 0x7075UL)

/* P11UNLOCK_CARD_INFO.kind */
#define P11UNLOCK_CARD_TEST  1UL /* p11unlock test card ("P11U V1"): full token */
#define P11UNLOCK_CARD_HICOS 2UL /* a "CHT V..N" card type without the ATR of a real card: read-only
                                    token from the fixed layout of EF 08F2 */
/* A p11unlock test card that gets no token because allow_test_cards is off (card_number and
 * card_type filled; the card receives nothing).  P11U_GetCardInfo answers it for the reader's
 * card slot until the card leaves the reader. */
#define P11UNLOCK_CARD_TEST_DISABLED 3UL
/* A first-generation HiCOS card ("CHT V..N" and its ATR): objects from its directory files;
 * PIN login, signing and decryption with hicos_login = yes in p11unlock.conf, else read-only.
 * Never PIN change or unlock (the CA releases its lock). */
#define P11UNLOCK_CARD_HICOS_GEN1 4UL
/* A second-generation HiCOS card (the GPPKI applet; card_type "HiCOS GPPKI"): read-only. */
#define P11UNLOCK_CARD_HICOS_GEN2 5UL

/* Version of the P11UNLOCK_CARD_INFO layout; the module fills the structure's version field,
 * and later versions only append fields. */
#define P11UNLOCK_CARD_INFO_VERSION_MAJOR 1
#define P11UNLOCK_CARD_INFO_VERSION_MINOR 0

typedef struct P11UNLOCK_CARD_INFO {
	CK_VERSION version;          /* layout version, see above */
	CK_ULONG kind;               /* P11UNLOCK_CARD_* */
	CK_UTF8CHAR card_number[17]; /* e.g. "XC00000000091349", NUL-terminated */
	CK_UTF8CHAR card_type[25];   /* e.g. "P11U V1" or "CHT V32N", NUL-terminated */
} P11UNLOCK_CARD_INFO;

/* Exact tries left (0..3) of the card's PIN and user code, read from the card without cost
 * (an empty VERIFY); within 0.25 s of the card's opening, the reading made then (a program that
 * opens a card and asks for its counts at once reads them once; P11U_Login checks the count
 * again in the same transaction as the VERIFY).  CKR_TOKEN_NOT_PRESENT without a card, CKR_FUNCTION_NOT_SUPPORTED for a
 * real HiCOS card (no free counter reading of real cards is public; a gen1 token's flags show
 * the count of its last VERIFY answer), CKR_DEVICE_ERROR for a card that does
 * not answer (card_timeout), CKR_SLOT_ID_INVALID for an unknown slot. */
typedef CK_RV (*P11UNLOCK_GetTriesLeft)(CK_SLOT_ID slot, CK_ULONG_PTR pin_tries,
                                        CK_ULONG_PTR user_code_tries);

/* The card's number and type (read once at insertion, which a first call after the insertion
 * may do).  CKR_TOKEN_NOT_PRESENT without a recognized card; a test card while allow_test_cards
 * is off: CKR_OK, kind P11UNLOCK_CARD_TEST_DISABLED (there is no token). */
typedef CK_RV (*P11UNLOCK_GetCardInfo)(CK_SLOT_ID slot, P11UNLOCK_CARD_INFO *info);

/* C_Login that spends a try only where the holder saw the count (added in 1.1).  For CKU_USER
 * (the PIN) or CKU_SO (the user code): inside one PC/SC transaction, the module reads that
 * secret's tries left from the card and sends the VERIFY only when they equal tries_seen (1 to
 * 3: the count the application showed the holder, and for 1, the holder's confirmation of the
 * last try).  Otherwise nothing is sent: P11UNLOCK_CKR_TRIES_CHANGED (or CKR_PIN_LOCKED at 0).
 * *tries_now (may be NULL) receives the card's count: the count found on
 * P11UNLOCK_CKR_TRIES_CHANGED and CKR_PIN_LOCKED, what is left after CKR_PIN_INCORRECT, 3 after
 * CKR_OK.  The session binds the secret to the card it was opened on: a card taken out or
 * swapped gives CKR_DEVICE_REMOVED and receives nothing.  From 1.2, CKR_DEVICE_REMOVED with
 * *tries_now = CK_UNAVAILABLE_INFORMATION says the card went away before the VERIFY was sent
 * (nothing reached it); otherwise the VERIFY may have reached it.  Other results as C_Login;
 * CKR_FUNCTION_NOT_SUPPORTED on the user-code token (its login spends no try). */
typedef CK_RV (*P11UNLOCK_Login)(CK_SESSION_HANDLE session, CK_USER_TYPE user_type,
                                 CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_ULONG tries_seen,
                                 CK_ULONG_PTR tries_now);

/* The number of the card in a slot (added in 1.2), for a program looking for one card among
 * several: a card no call has read yet is asked for its number alone (SELECT and READ BINARY
 * of EF 0903, which cost no try on any card) and nothing else of it is read until its token is
 * needed; the number is kept for that insertion, so reading the card later does not ask again.
 * number receives up to 16 characters and a NUL.  Either slot of a reader names its card.
 * CKR_TOKEN_NOT_PRESENT without a card, CKR_TOKEN_NOT_RECOGNIZED for a card without a card
 * number, CKR_DEVICE_ERROR for a card that does not answer, CKR_SLOT_ID_INVALID. */
typedef CK_RV (*P11UNLOCK_GetCardNumber)(CK_SLOT_ID slot, CK_UTF8CHAR_PTR number);

/* PKCS#11 3.0's CK_INTERFACE and C_GetInterface, under names of their own. */
typedef struct P11UNLOCK_INTERFACE {
	CK_CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} P11UNLOCK_INTERFACE;
typedef CK_RV (*P11UNLOCK_C_GetInterface)(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                          P11UNLOCK_INTERFACE **ppInterface, CK_FLAGS flags);

typedef struct P11UNLOCK_FUNCTION_LIST {
	CK_VERSION version; /* P11UNLOCK_VERSION_MAJOR.P11UNLOCK_VERSION_MINOR */
	P11UNLOCK_GetTriesLeft P11U_GetTriesLeft;
	P11UNLOCK_GetCardInfo P11U_GetCardInfo;
	P11UNLOCK_Login P11U_Login;                 /* 1.1 */
	P11UNLOCK_GetCardNumber P11U_GetCardNumber; /* 1.2 */
} P11UNLOCK_FUNCTION_LIST;

#ifdef __cplusplus
}
#endif

#endif
