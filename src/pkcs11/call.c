/* The call boundary: module state, C_Initialize / C_Finalize, locking, and the one enter/leave
 * pair every entry point goes through.
 *
 * Locking: one module lock, held for the whole of a call (card I/O included: the card does
 * one thing at a time anyway).  It is a pthread mutex, or the application's mutex callbacks
 * when it passes them without CKF_OS_LOCKING_OK.  C_WaitForSlotEvent drops it while waiting
 * (p11u_call_suspend); C_Finalize wakes such a waiter and waits for it to leave.
 *
 * Fork: the process that called C_Initialize is recorded; in a child that did not call
 * C_Initialize itself every call returns CKR_CRYPTOKI_NOT_INITIALIZED, and a C_Initialize
 * there starts afresh, leaving the parent's PC/SC handles alone.  The child's copy of a kept
 * secret (an SO login's user code) is wiped as the child starts (pthread_atfork). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "pkcs11/errors.h"
#include "pkcs11/front.h"

enum phase {
	PHASE_UNINITIALIZED = 0,
	PHASE_BUSY, /* inside C_Initialize or the end of C_Finalize */
	PHASE_READY,
};

struct lock_ops {
	CK_CREATEMUTEX create;
	CK_DESTROYMUTEX destroy;
	CK_LOCKMUTEX lock;
	CK_UNLOCKMUTEX unlock;
};

static struct {
	atomic_int phase;
	pid_t pid; /* the process that initialized */
	struct lock_ops lock_ops;
	void *mutex;
	struct p11u_module module;
} state;

/* How long C_Finalize sleeps between checks that a woken C_WaitForSlotEvent has left. */
#define FINALIZE_POLL_NS (5 * 1000 * 1000L)

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a forked child, which runs one thread from here on: no lock is taken (the parent's may
 * have been held at the fork), and only the secrets are touched. */
static void wipe_secrets_in_child(void)
{
	if (atomic_load(&state.phase) == PHASE_READY)
		p11u_slots_wipe_secrets(&state.module);
}

/* glibc drops the handler when the module is unloaded (dlclose). */
static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, wipe_secrets_in_child);
}

static CK_RV os_create_mutex(CK_VOID_PTR_PTR mutex)
{
	pthread_mutex_t *m = malloc(sizeof *m);

	if (m == NULL)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init(m, NULL) != 0) {
		free(m);
		return CKR_GENERAL_ERROR;
	}
	*mutex = m;
	return CKR_OK;
}

static CK_RV os_destroy_mutex(CK_VOID_PTR mutex)
{
	pthread_mutex_destroy(mutex);
	free(mutex);
	return CKR_OK;
}

static CK_RV os_lock_mutex(CK_VOID_PTR mutex)
{
	return pthread_mutex_lock(mutex) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}

static CK_RV os_unlock_mutex(CK_VOID_PTR mutex)
{
	return pthread_mutex_unlock(mutex) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static const struct lock_ops os_lock_ops = {
    os_create_mutex,
    os_destroy_mutex,
    os_lock_mutex,
    os_unlock_mutex,
};

/* PKCS#11 2.40 section 5.4 (C_Initialize): the four cases of CK_C_INITIALIZE_ARGS.
 * OS locking is chosen whenever it is allowed, and also when the application says it does not
 * use threads at all (a mutex nobody contends costs nothing).  The application's callbacks are
 * used only when it supplies them without CKF_OS_LOCKING_OK; so CKR_CANT_LOCK never arises. */
static CK_RV choose_lock_ops(const CK_C_INITIALIZE_ARGS *args, struct lock_ops *ops)
{
	int callbacks;

	*ops = os_lock_ops;
	if (args == NULL)
		return CKR_OK;
	/* pReserved is not checked: NSS passes a module's library parameters there
	 * (modutil -libparameters), and OpenSC and p11-kit ignore it too. */
	callbacks = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
	            (args->LockMutex != NULL) + (args->UnlockMutex != NULL);
	if (callbacks != 0 && callbacks != 4)
		return CKR_ARGUMENTS_BAD;
	if (callbacks == 4 && !(args->flags & CKF_OS_LOCKING_OK)) {
		ops->create = args->CreateMutex;
		ops->destroy = args->DestroyMutex;
		ops->lock = args->LockMutex;
		ops->unlock = args->UnlockMutex;
	}
	return CKR_OK;
}

static const char *lock_kind(const struct lock_ops *ops)
{
	return ops->create == os_create_mutex ? "OS" : "application";
}

CK_RV p11u_initialize(CK_VOID_PTR init_args)
{
	struct lock_ops ops;
	void *mutex = NULL;
	CK_RV rv;

	rv = choose_lock_ops(init_args, &ops);
	if (rv != CKR_OK)
		goto out;
	pthread_once(&atfork_once, register_atfork);
	if (atomic_load(&state.phase) == PHASE_READY && state.pid != getpid()) {
		/* A forked child inherited the parent's state.  Its PC/SC handles and mutex are
		 * the parent's: forget them (the memory is leaked on purpose) and start over. */
		memset(&state.module, 0, sizeof state.module);
		state.mutex = NULL;
		atomic_store(&state.phase, PHASE_UNINITIALIZED);
	}
	int expected = PHASE_UNINITIALIZED;
	if (!atomic_compare_exchange_strong(&state.phase, &expected, PHASE_BUSY)) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out;
	}
	rv = ops.create(&mutex);
	if (rv != CKR_OK) {
		atomic_store(&state.phase, PHASE_UNINITIALIZED);
		goto out;
	}
	memset(&state.module, 0, sizeof state.module);
	p11u_config_load(&state.module.config);
	/* pcscd may be absent now and started later: slot listing retries. */
	if (p11u_pcsc_open(&state.module.pcsc) != P11U_IO_OK)
		P11U_DEBUG(P11U_LOG_PCSC, "pcscd not reachable yet; no slots until it is");
	state.lock_ops = ops;
	state.mutex = mutex;
	state.pid = getpid();
	atomic_store(&state.phase, PHASE_READY);
	P11U_DEBUG(P11U_LOG_CALL, "C_Initialize: %s locking", lock_kind(&ops));
out:
	P11U_DEBUG(P11U_LOG_CALL, "C_Initialize: %s", p11u_ckr_name(rv));
	return rv;
}

static bool initialized_here(void)
{
	return atomic_load(&state.phase) == PHASE_READY && state.pid == getpid();
}

CK_RV p11u_enter(struct p11u_call *call, const char *name)
{
	memset(call, 0, sizeof *call);
	call->name = name;
	if (!initialized_here())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (state.lock_ops.lock(state.mutex) != CKR_OK)
		return CKR_GENERAL_ERROR;
	call->locked = true;
	/* C_Finalize may have started while we waited for the lock. */
	if (!initialized_here() || state.module.finalizing)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	call->m = &state.module;
	return CKR_OK;
}

CK_RV p11u_enter_session(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle)
{
	CK_RV rv = p11u_enter(call, name);

	call->handle = handle;
	if (rv == CKR_OK)
		rv = p11u_session_lookup(call->m, handle, &call->session);
	return rv;
}

CK_RV p11u_leave(struct p11u_call *call, CK_RV rv)
{
	if (call->locked) {
		state.lock_ops.unlock(state.mutex);
		call->locked = false;
	}
	if (call->handle != CK_INVALID_HANDLE)
		P11U_DEBUG(P11U_LOG_CALL, "%s(session %lu): %s", call->name, call->handle,
		           p11u_ckr_name(rv));
	else
		P11U_DEBUG(P11U_LOG_CALL, "%s: %s", call->name, p11u_ckr_name(rv));
	return rv;
}

CK_RV p11u_refuse(const char *name, CK_RV refusal)
{
	struct p11u_call call;
	CK_RV rv = p11u_enter(&call, name);

	return p11u_leave(&call, rv == CKR_OK ? refusal : rv);
}

void p11u_call_suspend(struct p11u_call *call)
{
	call->m->waiters++;
	state.lock_ops.unlock(state.mutex);
	call->locked = false;
}

CK_RV p11u_call_resume(struct p11u_call *call)
{
	if (state.lock_ops.lock(state.mutex) != CKR_OK)
		return CKR_GENERAL_ERROR;
	call->locked = true;
	call->m->waiters--;
	return call->m->finalizing ? CKR_CRYPTOKI_NOT_INITIALIZED : CKR_OK;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

CK_RV p11u_finalize(CK_VOID_PTR reserved)
{
	struct p11u_call call;
	struct p11u_module *m;
	CK_RV rv = p11u_enter(&call, "C_Finalize");

	if (rv == CKR_OK && reserved != NULL)
		rv = CKR_ARGUMENTS_BAD;
	if (rv != CKR_OK)
		return p11u_leave(&call, rv);

	m = call.m;
	m->finalizing = true;
	/* Wake C_WaitForSlotEvent and let it leave (it needs the lock to do so). */
	while (m->waiters > 0) {
		if (m->pcsc != NULL)
			p11u_pcsc_cancel(m->pcsc);
		state.lock_ops.unlock(state.mutex);
		sleep_ns(FINALIZE_POLL_NS);
		state.lock_ops.lock(state.mutex);
	}
	p11u_sessions_free(m);
	p11u_slots_free(m);
	p11u_pcsc_close(m->pcsc);
	memset(m, 0, sizeof *m);
	atomic_store(&state.phase, PHASE_BUSY);

	void *mutex = state.mutex;
	p11u_leave(&call, CKR_OK);
	state.lock_ops.destroy(mutex);
	state.mutex = NULL;
	atomic_store(&state.phase, PHASE_UNINITIALIZED);
	return CKR_OK;
}

CK_RV p11u_get_info(CK_INFO_PTR info, CK_BYTE cryptoki_major, CK_BYTE cryptoki_minor)
{
	unsigned major = 0, minor = 0;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof *info);
	info->cryptokiVersion.major = cryptoki_major;
	info->cryptokiVersion.minor = cryptoki_minor;
	p11u_pad(info->manufacturerID, sizeof info->manufacturerID, "p11unlock");
	info->flags = 0;
	p11u_pad(info->libraryDescription, sizeof info->libraryDescription,
	         "p11unlock PKCS#11 module");
	if (sscanf(PACKAGE_VERSION, "%u.%u", &major, &minor) == 2 && major < 256 && minor < 256) {
		info->libraryVersion.major = (CK_BYTE)major;
		info->libraryVersion.minor = (CK_BYTE)minor;
	}
	return CKR_OK;
}
