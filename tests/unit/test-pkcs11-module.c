/* The module's call boundary in-process, without pcscd (PCSCLITE_CSOCK_NAME points nowhere):
 * C_Initialize arguments and locking choices, C_Finalize, fork, function lists and
 * interfaces, C_GetInfo, an empty slot list, and C_Finalize waking C_WaitForSlotEvent. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "p11unlock/p11unlock.h"
#include "pkcs11/pkcs11-compat.h"

/* Application mutex callbacks that count their use. */
static int app_created, app_locked;

static CK_RV app_create(CK_VOID_PTR_PTR mutex)
{
	pthread_mutex_t *m = malloc(sizeof *m);
	pthread_mutex_init(m, NULL);
	*mutex = m;
	app_created++;
	return CKR_OK;
}

static CK_RV app_destroy(CK_VOID_PTR mutex)
{
	pthread_mutex_destroy(mutex);
	free(mutex);
	return CKR_OK;
}

static CK_RV app_lock(CK_VOID_PTR mutex)
{
	app_locked++;
	return pthread_mutex_lock(mutex) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}

static CK_RV app_unlock(CK_VOID_PTR mutex)
{
	return pthread_mutex_unlock(mutex) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static void test_not_initialized(void **state)
{
	CK_INFO info;
	CK_ULONG count;

	assert_int_equal(C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &count), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_initialize_args(void **state)
{
	CK_C_INITIALIZE_ARGS args;
	int reserved;

	/* NSS's library parameters arrive in pReserved: accepted and ignored. */
	memset(&args, 0, sizeof args);
	args.pReserved = "configdir='sql:/tmp' certPrefix='' keyPrefix=''";
	assert_int_equal(C_Initialize(&args), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);

	memset(&args, 0, sizeof args);
	args.CreateMutex = app_create; /* some callbacks but not all */
	assert_int_equal(C_Initialize(&args), CKR_ARGUMENTS_BAD);

	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(C_Initialize(&args), CKR_OK);
	assert_int_equal(C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(C_Finalize(&reserved), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_application_locking(void **state)
{
	CK_C_INITIALIZE_ARGS args = {app_create, app_destroy, app_lock, app_unlock, 0, NULL};
	CK_INFO info;

	app_created = app_locked = 0;
	assert_int_equal(C_Initialize(&args), CKR_OK);
	assert_int_equal(app_created, 1);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	assert_true(app_locked >= 1);
	assert_int_equal(C_Finalize(NULL), CKR_OK);

	/* With CKF_OS_LOCKING_OK the module may use its own locks: it does. */
	args.flags = CKF_OS_LOCKING_OK;
	app_created = app_locked = 0;
	assert_int_equal(C_Initialize(&args), CKR_OK);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	assert_int_equal(app_created, 0);
	assert_int_equal(app_locked, 0);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_info(void **state)
{
	CK_INFO info;
	CK_FUNCTION_LIST_PTR list;
	CK_INTERFACE_PTR iface;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.major, 2);
	assert_int_equal(info.cryptokiVersion.minor, 40);
	assert_memory_equal(info.manufacturerID, "p11unlock                       ", 32);
	assert_memory_equal(info.libraryDescription, "p11unlock PKCS#11 module        ", 32);
	assert_int_equal(info.flags, 0);
	assert_int_equal(C_GetInfo(NULL), CKR_ARGUMENTS_BAD);

	assert_int_equal(C_GetFunctionList(&list), CKR_OK);
	assert_int_equal(list->C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.minor, 40);

	/* Through the 3.0 list, C_GetInfo says 3.0. */
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
	assert_int_equal(((CK_FUNCTION_LIST_3_0 *)iface->pFunctionList)->C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.major, 3);
	assert_int_equal(info.cryptokiVersion.minor, 0);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_interfaces(void **state)
{
	CK_INTERFACE list[6];
	CK_ULONG count = 0;
	CK_INTERFACE_PTR iface;
	CK_VERSION v240 = {2, 40}, v30 = {3, 0}, v220 = {2, 20}, v10 = {1, 0}, v11 = {1, 1},
	           v12 = {1, 2};
	CK_FUNCTION_LIST_PTR fl;

	assert_int_equal(C_GetInterfaceList(NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterfaceList(NULL, &count), CKR_OK);
	assert_int_equal(count, 5);
	count = 4;
	assert_int_equal(C_GetInterfaceList(list, &count), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(count, 5);
	count = 6;
	assert_int_equal(C_GetInterfaceList(list, &count), CKR_OK);
	assert_int_equal(count, 5);
	assert_string_equal((char *)list[0].pInterfaceName, "PKCS 11");
	assert_int_equal(((CK_VERSION *)list[0].pFunctionList)->major, 3);
	assert_string_equal((char *)list[1].pInterfaceName, "PKCS 11");
	assert_int_equal(((CK_VERSION *)list[1].pFunctionList)->minor, 40);
	assert_string_equal((char *)list[2].pInterfaceName, P11UNLOCK_INTERFACE_NAME);
	assert_int_equal(((CK_VERSION *)list[2].pFunctionList)->minor, 2);
	assert_string_equal((char *)list[3].pInterfaceName, P11UNLOCK_INTERFACE_NAME);
	assert_int_equal(((CK_VERSION *)list[3].pFunctionList)->minor, 1);
	assert_string_equal((char *)list[4].pInterfaceName, P11UNLOCK_INTERFACE_NAME);
	assert_int_equal(((CK_VERSION *)list[4].pFunctionList)->minor, 0);

	/* Default: 3.0. */
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
	assert_int_equal(((CK_VERSION *)iface->pFunctionList)->major, 3);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &v30, &iface, 0), CKR_OK);
	assert_int_equal(((CK_VERSION *)iface->pFunctionList)->major, 3);
	/* 2.40 is the list C_GetFunctionList returns. */
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &v240, &iface, 0), CKR_OK);
	assert_int_equal(C_GetFunctionList(&fl), CKR_OK);
	assert_ptr_equal(iface->pFunctionList, fl);
	/* Versions match exactly; unknown names and flags do not match. */
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)"PKCS 11", &v220, &iface, 0),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)"PKCS 12", NULL, &iface, 0),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(
	    C_GetInterface((CK_UTF8CHAR *)"PKCS 11", NULL, &iface, CKF_INTERFACE_FORK_SAFE),
	    CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);

	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)P11UNLOCK_INTERFACE_NAME, &v10, &iface, 0),
	                 CKR_OK);
	const P11UNLOCK_FUNCTION_LIST *vendor = iface->pFunctionList;
	assert_int_equal(vendor->version.major, P11UNLOCK_VERSION_MAJOR);
	CK_ULONG pin_tries, uc_tries;
	P11UNLOCK_CARD_INFO card;
	assert_int_equal(vendor->P11U_GetTriesLeft(0, &pin_tries, &uc_tries),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(vendor->P11U_GetTriesLeft(0, &pin_tries, &uc_tries), CKR_SLOT_ID_INVALID);
	assert_int_equal(vendor->P11U_GetCardInfo(0, &card), CKR_SLOT_ID_INVALID);
	/* 1.1 adds P11U_Login, which takes a session like C_Login. */
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)P11UNLOCK_INTERFACE_NAME, &v11, &iface, 0),
	                 CKR_OK);
	vendor = iface->pFunctionList;
	assert_int_equal(vendor->version.minor, 1);
	assert_int_equal(vendor->P11U_Login(1, CKU_SO, (CK_UTF8CHAR_PTR) "Ab12cd34", 8, 3, NULL),
	                 CKR_SESSION_HANDLE_INVALID);
	/* 1.2 adds P11U_GetCardNumber. */
	assert_int_equal(C_GetInterface((CK_UTF8CHAR *)P11UNLOCK_INTERFACE_NAME, &v12, &iface, 0),
	                 CKR_OK);
	vendor = iface->pFunctionList;
	assert_int_equal(vendor->version.minor, 2);
	CK_UTF8CHAR number[17];
	assert_int_equal(vendor->P11U_GetCardNumber(0, number), CKR_SLOT_ID_INVALID);
	assert_int_equal(vendor->P11U_GetCardNumber(0, NULL), CKR_ARGUMENTS_BAD);

	/* 3.0-only functions are not supported. */
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
	CK_FUNCTION_LIST_3_0 *f30 = iface->pFunctionList;
	assert_int_equal(f30->C_LoginUser(1, CKU_USER, NULL, 0, NULL, 0),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f30->C_SessionCancel(1, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(f30->C_MessageSignInit(1, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_ptr_equal(f30->C_GetInterface, C_GetInterface);
	assert_ptr_equal(f30->C_Sign, C_Sign);
	assert_ptr_equal(f30->C_WaitForSlotEvent, C_WaitForSlotEvent);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_no_readers(void **state)
{
	CK_ULONG count = 99;
	CK_SLOT_ID slots[2];
	CK_SLOT_INFO sinfo;
	CK_SESSION_HANDLE session;
	CK_SESSION_INFO info;
	CK_SLOT_ID slot;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
	assert_int_equal(count, 0);
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
	assert_int_equal(count, 0);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetSlotInfo(0, &sinfo), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &session),
	                 CKR_SLOT_ID_INVALID);
	assert_int_equal(C_OpenSession(0, 0, NULL, NULL, &session),
	                 CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(C_GetSessionInfo(1, &info), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_Login(1, CKU_USER, (CK_UTF8CHAR *)"123456", 6),
	                 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_NO_EVENT);
	assert_int_equal(C_EncryptInit(1, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetFunctionStatus(1), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

/* Argument checks that come before any slot or session lookup, and the functions the module
 * does not offer, answered the same with or without a card. */
static void test_arguments(void **state)
{
	CK_SLOT_ID slot;
	CK_MECHANISM_INFO minfo;
	CK_ULONG count;
	int reserved;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotInfo(0, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetTokenInfo(0, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, &reserved), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetMechanismList(0, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetMechanismList(0, NULL, &count), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_GetMechanismInfo(0, CKM_RSA_PKCS, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetMechanismInfo(0, CKM_RSA_PKCS, &minfo), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_CloseAllSessions(0), CKR_SLOT_ID_INVALID);
	/* The card is personalized by its issuer; state saving, key management, signature
	 * recovery and parallel functions are not offered. */
	assert_int_equal(C_InitToken(0, (CK_UTF8CHAR *)"123456", 6, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(C_GetOperationState(1, NULL, &count), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(C_GenerateKeyPair(1, NULL, NULL, 0, NULL, 0, NULL, NULL),
	                 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(C_VerifyRecoverInit(1, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(C_CancelFunction(1), CKR_FUNCTION_NOT_PARALLEL);
	/* Session functions check the handle first. */
	assert_int_equal(C_SeedRandom(1, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_VerifyInit(1, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_CloseSession(1), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_FindObjectsInit(1, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	/* After C_Finalize even the refusals say so. */
	assert_int_equal(C_InitToken(0, NULL, 0, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_fork(void **state)
{
	CK_ULONG count;
	pid_t pid;
	int status;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child did not call C_Initialize: nothing works until it does. */
		int fail = 0;
		fail |= C_GetSlotList(CK_FALSE, NULL, &count) != CKR_CRYPTOKI_NOT_INITIALIZED;
		fail |= C_Finalize(NULL) != CKR_CRYPTOKI_NOT_INITIALIZED;
		fail |= C_Initialize(NULL) != CKR_OK;
		fail |= C_GetSlotList(CK_FALSE, NULL, &count) != CKR_OK;
		fail |= C_Finalize(NULL) != CKR_OK;
		_exit(fail ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent is untouched. */
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void *wait_thread(void *arg)
{
	CK_SLOT_ID slot;
	CK_RV *rv = arg;

	*rv = C_WaitForSlotEvent(0, &slot, NULL);
	return NULL;
}

static void test_finalize_wakes_wait(void **state)
{
	pthread_t thread;
	CK_RV wait_rv = 0xFFFF;
	struct timespec pause = {0, 300 * 1000 * 1000L};
	CK_ULONG count;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
	assert_int_equal(pthread_create(&thread, NULL, wait_thread, &wait_rv), 0);
	nanosleep(&pause, NULL);
	assert_int_equal(wait_rv, 0xFFFF); /* still blocked */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(wait_rv, CKR_CRYPTOKI_NOT_INITIALIZED);
	/* NSS initializes again right away. */
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &count), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_initialized),     cmocka_unit_test(test_initialize_args),
	    cmocka_unit_test(test_application_locking), cmocka_unit_test(test_info),
	    cmocka_unit_test(test_interfaces),          cmocka_unit_test(test_no_readers),
	    cmocka_unit_test(test_arguments),           cmocka_unit_test(test_fork),
	    cmocka_unit_test(test_finalize_wakes_wait),
	};

	/* No pcscd: the client library finds no socket here. */
	setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/p11unlock-test/pcscd.comm", 1);
	unsetenv("P11UNLOCK_CONF");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
