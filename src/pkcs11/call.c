/* The call boundary: module state, C_Initialize / C_Finalize, locking, and the one enter/leave
 * pair every entry point goes through.
 *
 * Locking (see front.h): the module lock is held from enter to leave, except around PC/SC
 * calls (the slot transport, slot.c) and while C_WaitForSlotEvent waits.  It is a pthread
 * mutex, or the application's mutex callbacks when it passes them without CKF_OS_LOCKING_OK.
 * A slot's card lock is always a pthread mutex: pcsc-lite takes pthread mutexes in every call
 * anyway, so an application that cannot have OS locks cannot use a reader at all.
 *
 * C_Finalize wakes C_WaitForSlotEvent and waits for every call under way to leave; a call
 * talking to a stalled reader leaves within card_timeout (src/pcsc/reader.h).
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

/* How long C_Finalize sleeps between checks that the calls under way have left. */
#define FINALIZE_POLL_NS (5 * 1000 * 1000L)

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* This process's ID, kept up to date by the fork handler: every call compares it with the
 * initializing process's, and getpid() is a system call (a third of a C_GetSessionInfo). */
static atomic_int current_pid;

/* In a forked child, which runs one thread from here on: no lock is taken (the parent's may
 * have been held at the fork), and only the secrets are touched. */
static void wipe_secrets_in_child(void)
{
	atomic_store(&current_pid, (int)getpid());
	if (atomic_load(&state.phase) == PHASE_READY)
		p11u_slots_wipe_secrets(&state.module);
}

/* glibc drops the handler when the module is unloaded (dlclose). */
static void register_atfork(void)
{
	atomic_store(&current_pid, (int)getpid());
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
	 * (modutil -libparameters), and OpenSC and p11-kit ignore it too.  Nor is
	 * CKF_LIBRARY_CANT_CREATE_OS_THREADS: NSS sets it in every call, and the I/O threads of
	 * the connections are the module's own (docs/conformance.md). */
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
	p11u_slots_enumerate(&state.module);
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
	return atomic_load(&state.phase) == PHASE_READY && state.pid == atomic_load(&current_pid);
}

void p11u_module_unlock(void)
{
	state.lock_ops.unlock(state.mutex);
}

void p11u_module_lock(void)
{
	state.lock_ops.lock(state.mutex);
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
	call->m->calls++;
	call->counted = true;
	return CKR_OK;
}

/* The session of the handle, with its slot synced (claimed or not), and live. */
static CK_RV enter_session(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle,
                           bool claim)
{
	struct p11u_session *s;
	CK_RV rv = p11u_enter(call, name);

	call->handle = handle;
	if (rv != CKR_OK)
		return rv;
	s = p11u_session_find(call->m, handle);
	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	if (claim || p11u_slot_try_claim(call, s->slot)) {
		rv = p11u_slot_claim(call, s->slot);
		if (rv != CKR_OK)
			return rv;
		/* Another call may have closed it while this one waited for the card. */
		s = p11u_session_find(call->m, handle);
		if (s == NULL)
			return CKR_SESSION_HANDLE_INVALID;
		p11u_slot_sync(call->m, s->slot);
	}
	rv = p11u_session_check_live(call->m, s, call->claimed == s->slot);
	if (rv == CKR_OK)
		call->session = s;
	return rv;
}

CK_RV p11u_enter_session(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle)
{
	return enter_session(call, name, handle, true);
}

CK_RV p11u_enter_session_nowait(struct p11u_call *call, const char *name, CK_SESSION_HANDLE handle)
{
	return enter_session(call, name, handle, false);
}

CK_RV p11u_enter_slot(struct p11u_call *call, const char *name, CK_SLOT_ID id)
{
	CK_RV rv = p11u_enter(call, name);

	if (rv == CKR_OK)
		rv = p11u_slot_by_id(call->m, id, &call->slot, &call->uc);
	if (rv == CKR_OK)
		rv = p11u_slot_claim(call, call->slot);
	if (rv == CKR_OK)
		p11u_slot_sync(call->m, call->slot);
	return rv;
}

bool p11u_slot_owned(const struct p11u_slot *slot)
{
	return slot->io_owned && pthread_equal(slot->io_owner, pthread_self());
}

static void take_card_lock(struct p11u_call *call, struct p11u_slot *slot)
{
	slot->io_owner = pthread_self();
	slot->io_owned = true;
	call->claimed = slot;
}

bool p11u_slot_try_claim(struct p11u_call *call, struct p11u_slot *slot)
{
	if (call->claimed != NULL)
		return call->claimed == slot;
	if (pthread_mutex_trylock(&slot->io_lock) != 0)
		return false;
	take_card_lock(call, slot);
	return true;
}

bool p11u_card_lock_wait(struct p11u_module *m, struct p11u_slot *slot)
{
	struct timespec deadline;
	int err;

	/* Another call works with this card: wait for it without holding up the others.  Its
	 * PC/SC calls end within card_timeout each, so twice that is already a stalled card. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2 * (time_t)m->config.card_timeout;
	p11u_module_unlock();
	err = pthread_mutex_clocklock(&slot->io_lock, CLOCK_MONOTONIC, &deadline);
	p11u_module_lock();
	if (err != 0) {
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: busy for over %u s: giving up",
		           slot->reader_name, 2 * m->config.card_timeout);
		return false;
	}
	return true;
}

CK_RV p11u_slot_claim(struct p11u_call *call, struct p11u_slot *slot)
{
	struct p11u_module *m = call->m;

	if (call->claimed != NULL)
		return call->claimed == slot ? CKR_OK : CKR_GENERAL_ERROR;
	if (pthread_mutex_trylock(&slot->io_lock) == 0) {
		take_card_lock(call, slot);
		return CKR_OK;
	}
	if (!p11u_card_lock_wait(m, slot))
		return CKR_DEVICE_ERROR;
	take_card_lock(call, slot);
	/* C_Finalize may have begun meanwhile (p11u_leave releases the card lock). */
	return m->finalizing ? CKR_CRYPTOKI_NOT_INITIALIZED : CKR_OK;
}

static void release_card_lock(struct p11u_call *call)
{
	struct p11u_slot *slot = call->claimed;

	if (slot == NULL)
		return;
	slot->io_owned = false;
	pthread_mutex_unlock(&slot->io_lock);
	call->claimed = NULL;
}

CK_RV p11u_leave(struct p11u_call *call, CK_RV rv)
{
	/* A call that found its card gone ends its session, whether the removal was known before the
	 * call (p11u_session_check_live) or seen in the middle of it: later calls on the handle get
	 * CKR_SESSION_HANDLE_INVALID, not an answer that depends on when pcscd saw the removal. */
	if (rv == CKR_DEVICE_REMOVED && call->locked && call->session != NULL &&
	    call->claimed == call->session->slot) {
		p11u_session_close(call->m, call->session);
		call->session = NULL;
	}
	if (call->locked) {
		release_card_lock(call);
		if (call->counted)
			call->m->calls--;
		call->counted = false;
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
	/* Wake C_WaitForSlotEvent, and let every call under way leave (they need the lock to do
	 * so).  This call counts itself. */
	while (m->calls > 1) {
		if (m->waiters > 0 && m->pcsc != NULL)
			p11u_pcsc_cancel(m->pcsc);
		state.lock_ops.unlock(state.mutex);
		sleep_ns(FINALIZE_POLL_NS);
		state.lock_ops.lock(state.mutex);
	}
	p11u_sessions_free(m);
	p11u_slots_free(m);
	p11u_pcsc_close(m->pcsc);
	memset(m, 0, sizeof *m);
	call.counted = false; /* the module's counters are gone */
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
