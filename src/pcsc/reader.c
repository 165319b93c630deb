/* Reader transport over PCSC-lite (see reader.h for the thread and deadline model).
 *
 * A wait compares each reader with the state the previous wait returned on
 * (or, for a reader never waited on, the state first seen by a presence
 * query): a change that happens between two waits wakes the next one at once
 * instead of being lost.
 *
 * One p11u_reader has one owner at a time (the PKCS#11 front holds its slot's
 * lock around card work); its PC/SC context and handle are touched by its I/O
 * thread only. */
#include "config.h"

#include "pcsc/reader.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "common/log.h"
#include "common/thread.h"

#define PNP_NOTIFICATION "\\\\?PnP?\\Notification"

/* pcscd serves at most this many readers (PCSCLITE_MAX_READERS_CONTEXTS). */
#define READERS_MAX 16

/* Short APDUs only: header + Lc + 255 data bytes + Le; response 256 data bytes + SW. */
#define COMMAND_MAX  261
#define RESPONSE_MAX 258

/* How often p11u_pcsc_cancel() re-sends SCardCancel() while a wait has not yet reached the
 * point where pcsc-lite accepts a cancel (SCardCancel is a no-op before that). */
#define CANCEL_RETRY_NS (20 * 1000 * 1000L)

/* How long a failed command waits for pcscd to notice that the card left (pcscd polls a
 * reader's presence every 400 ms, later on a loaded machine); see error_or_removed().  Never
 * more than half the connection's deadline. */
#define REMOVAL_SETTLE_MS 5000

/* pcscd's per-reader event counter, in the upper 16 bits of a reader state. */
#define EVENT_COUNT_MASK ((DWORD)0xFFFF0000)

/* Last reader state a wait started from, per reader name: the next wait compares against
 * it, so a change that happens between two waits is not lost. */
struct seen_state {
	char *name;
	DWORD state;
};

/* A context for blocking waits, kept for the next wait when done. */
struct wait_ctx {
	SCARDCONTEXT ctx;
	bool waiting; /* inside SCardGetStatusChange: p11u_pcsc_cancel() must wake it */
	struct wait_ctx *next;
};

/* The monitor: a thread that follows pcscd's reader list and every reader's state
 * (SCardGetStatusChange with the last known states, on a context of its own), so that
 * presence is read from memory.  Its fields are under the p11u_pcsc lock. */
struct monitor {
	pthread_t thread;
	bool started;
	bool stopping;
	bool done;    /* the thread has left its loop */
	bool in_wait; /* inside SCardGetStatusChange: a stop must cancel it */
	SCARDCONTEXT ctx;
	bool have_ctx;
	pthread_cond_t wake; /* a stop, for the thread's back-off; its exit, for the stopper */
	/* pcscd's latest report: valid while the thread is connected and has one. */
	bool valid;
	char **names;
	struct p11u_reader_state states[READERS_MAX];
	size_t n;
};

struct p11u_pcsc {
	SCARDCONTEXT ctx; /* listing and presence */
	struct monitor monitor;

	pthread_mutex_t lock; /* protects everything below */
	pthread_cond_t wait_done;
	unsigned cancel_gen;
	struct wait_ctx *waits;                  /* every wait context, busy or idle */
	struct seen_state seen[READERS_MAX + 1]; /* + the PnP pseudo reader */
	size_t n_seen;
};

enum job_kind {
	JOB_CONNECT,
	JOB_TRANSMIT,
	JOB_BEGIN,
	JOB_END,
	JOB_STATUS,
};

struct p11u_reader {
	char *name;
	unsigned timeout_ms;
	pthread_t thread;
	struct p11u_transport transport;

	pthread_mutex_t lock; /* protects the job and the flags below */
	pthread_cond_t cond;
	enum job_kind kind;
	bool posted;    /* a job waits for the I/O thread */
	bool running;   /* the I/O thread is in pcscd with it */
	bool done;      /* its result is in result / resp */
	bool abandoned; /* its caller passed the deadline and left */
	bool released;  /* the owner disconnected: the thread closes the connection */
	bool closed;    /* ... and has done so */
	bool self_free; /* the owner did not wait for that: the thread frees the reader */
	enum p11u_io_rv result;
	uint8_t cmd[COMMAND_MAX];
	size_t cmd_len;
	uint8_t resp[RESPONSE_MAX];
	size_t resp_len; /* capacity when posted, length when done */
	uint8_t atr[P11U_ATR_MAX];
	size_t atr_len;

	/* The I/O thread's own. */
	SCARDCONTEXT ctx;
	bool have_ctx;
	SCARDHANDLE handle;
	bool connected;
	DWORD protocol;
	bool in_transaction;
};

static void log_call(const char *call, const char *reader, LONG rv)
{
	P11U_DEBUG(P11U_LOG_PCSC, "%s(%s): %s (0x%08lX)", call, reader != NULL ? reader : "",
	           pcsc_stringify_error(rv), (unsigned long)rv);
}

/* The one mapping from PC/SC results to transport results.  SCARD_W_RESET_CARD is mapped by
 * the callers: they reconnect first. */
static enum p11u_io_rv io_rv_from_pcsc(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return P11U_IO_OK;
	case SCARD_W_RESET_CARD:
		return P11U_IO_RESET;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
		return P11U_IO_REMOVED;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return P11U_IO_BUFFER;
	default:
		/* SCARD_E_NO_SERVICE, SCARD_E_READER_UNAVAILABLE, SCARD_E_UNKNOWN_READER,
		 * SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR, protocol errors, ... */
		return P11U_IO_ERROR;
	}
}

/* An absolute CLOCK_MONOTONIC time ms or ns from now. */
static struct timespec deadline_in(long long ms, long ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L + ns;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

/* ---- the context for listing and presence --------------------------------------------- */

static void monitor_start(struct p11u_pcsc *pcsc);
static void monitor_stop(struct p11u_pcsc *pcsc);

enum p11u_io_rv p11u_pcsc_open(struct p11u_pcsc **out)
{
	struct p11u_pcsc *pcsc;
	LONG rv;

	*out = NULL;
	pcsc = calloc(1, sizeof *pcsc);
	if (pcsc == NULL)
		return P11U_IO_ERROR;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &pcsc->ctx);
	log_call("SCardEstablishContext", NULL, rv);
	if (rv != SCARD_S_SUCCESS) {
		free(pcsc);
		return P11U_IO_ERROR;
	}
	pthread_mutex_init(&pcsc->lock, NULL);
	monotonic_cond_init(&pcsc->wait_done);
	monitor_start(pcsc);
	*out = pcsc;
	return P11U_IO_OK;
}

void p11u_pcsc_close(struct p11u_pcsc *pcsc)
{
	if (pcsc == NULL)
		return;
	monitor_stop(pcsc);
	log_call("SCardReleaseContext", NULL, SCardReleaseContext(pcsc->ctx));
	while (pcsc->waits != NULL) {
		struct wait_ctx *w = pcsc->waits;

		pcsc->waits = w->next;
		log_call("SCardReleaseContext", "wait", SCardReleaseContext(w->ctx));
		free(w);
	}
	for (size_t i = 0; i < pcsc->n_seen; i++)
		free(pcsc->seen[i].name);
	pthread_cond_destroy(&pcsc->wait_done);
	pthread_mutex_destroy(&pcsc->lock);
	free(pcsc);
}

void p11u_pcsc_free_names(char **names)
{
	if (names == NULL)
		return;
	for (char **p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

/* Splits a PC/SC multi-string ("a\0b\0\0", len bytes) into a NULL-terminated array. */
static char **split_multistring(const char *buf, size_t len)
{
	size_t count = 0;
	char **names;

	for (size_t i = 0; i < len && buf[i] != '\0'; i += strnlen(buf + i, len - i) + 1)
		count++;
	names = calloc(count + 1, sizeof *names);
	if (names == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len && buf[i] != '\0' && n < count; n++) {
		size_t l = strnlen(buf + i, len - i);
		names[n] = strndup(buf + i, l);
		if (names[n] == NULL) {
			p11u_pcsc_free_names(names);
			return NULL;
		}
		i += l + 1;
	}
	return names;
}

/* The reader list on a context. */
static enum p11u_io_rv list_readers_on(SCARDCONTEXT ctx, char ***names)
{
	DWORD len = 0;
	char *buf = NULL;
	LONG rv;

	*names = NULL;
	/* The list can grow between the size query and the read: try again a few times. */
	for (int attempt = 0; attempt < 3; attempt++) {
		rv = SCardListReaders(ctx, NULL, NULL, &len);
		if (rv == SCARD_S_SUCCESS && len > 0) {
			free(buf);
			buf = malloc(len);
			if (buf == NULL)
				return P11U_IO_ERROR;
			rv = SCardListReaders(ctx, NULL, buf, &len);
		}
		if (rv != SCARD_E_INSUFFICIENT_BUFFER)
			break;
	}
	log_call("SCardListReaders", NULL, rv);
	if (rv == SCARD_E_NO_READERS_AVAILABLE || (rv == SCARD_S_SUCCESS && buf == NULL)) {
		free(buf);
		*names = calloc(1, sizeof **names);
		return *names != NULL ? P11U_IO_OK : P11U_IO_ERROR;
	}
	if (rv != SCARD_S_SUCCESS) {
		free(buf);
		return P11U_IO_ERROR;
	}
	*names = split_multistring(buf, len);
	free(buf);
	return *names != NULL ? P11U_IO_OK : P11U_IO_ERROR;
}

enum p11u_io_rv p11u_pcsc_list_readers(struct p11u_pcsc *pcsc, char ***names)
{
	return list_readers_on(pcsc->ctx, names);
}

/* Looks up the state a reader was last seen in; called with pcsc->lock held. */
static struct seen_state *find_seen(struct p11u_pcsc *pcsc, const char *name)
{
	for (size_t i = 0; i < pcsc->n_seen; i++)
		if (strcmp(pcsc->seen[i].name, name) == 0)
			return &pcsc->seen[i];
	return NULL;
}

/* Records the state a reader is in; called with pcsc->lock held.  With only_new, an existing
 * record is kept (presence queries set the first baseline; waits move it). */
static void remember_state(struct p11u_pcsc *pcsc, const char *name, DWORD state, bool only_new)
{
	struct seen_state *seen = find_seen(pcsc, name);

	state &= ~(DWORD)SCARD_STATE_CHANGED;
	if (seen != NULL) {
		if (!only_new)
			seen->state = state;
		return;
	}
	if (pcsc->n_seen == sizeof pcsc->seen / sizeof pcsc->seen[0]) {
		/* Full: forget the oldest record (it is only a baseline). */
		free(pcsc->seen[0].name);
		memmove(&pcsc->seen[0], &pcsc->seen[1], (pcsc->n_seen - 1) * sizeof pcsc->seen[0]);
		pcsc->n_seen--;
	}
	char *copy = strdup(name);
	if (copy == NULL)
		return;
	pcsc->seen[pcsc->n_seen].name = copy;
	pcsc->seen[pcsc->n_seen].state = state;
	pcsc->n_seen++;
}

/* A reader's state as pcscd reported it; false for an unknown or unavailable reader. */
static bool state_from_pcsc(const SCARD_READERSTATE *rs, struct p11u_reader_state *state)
{
	memset(state, 0, sizeof *state);
	if (rs->dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
		return false;
	state->present = (rs->dwEventState & SCARD_STATE_PRESENT) != 0;
	state->mute = (rs->dwEventState & SCARD_STATE_MUTE) != 0;
	state->event_count = (unsigned)((rs->dwEventState >> 16) & 0xFFFF);
	if (state->present && rs->cbAtr <= sizeof state->atr) {
		memcpy(state->atr, rs->rgbAtr, rs->cbAtr);
		state->atr_len = rs->cbAtr;
	}
	return true;
}

enum p11u_io_rv p11u_pcsc_reader_state(struct p11u_pcsc *pcsc, const char *reader,
                                       struct p11u_reader_state *state)
{
	SCARD_READERSTATE rs;
	LONG rv;

	memset(state, 0, sizeof *state);
	memset(&rs, 0, sizeof rs);
	rs.szReader = reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	rv = SCardGetStatusChange(pcsc->ctx, 0, &rs, 1);
	log_call("SCardGetStatusChange", reader, rv);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return io_rv_from_pcsc(rv);
	if (!state_from_pcsc(&rs, state))
		return P11U_IO_ERROR;
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: state 0x%lX present=%d mute=%d events=%u", reader,
	           (unsigned long)rs.dwEventState, state->present, state->mute, state->event_count);

	pthread_mutex_lock(&pcsc->lock);
	remember_state(pcsc, reader, rs.dwEventState, true);
	pthread_mutex_unlock(&pcsc->lock);
	return P11U_IO_OK;
}

/* ---- the monitor: presence from reader events ------------------------------------------- */

/* How long the monitor waits before it tries pcscd again after losing it. */
#define MONITOR_RETRY_MS 200

/* Publishes what the monitor learnt (pcsc->lock held).  names is taken over. */
static void monitor_publish(struct monitor *mon, char **names, const SCARD_READERSTATE *rs,
                            size_t n)
{
	if (mon->names != names)
		p11u_pcsc_free_names(mon->names);
	mon->names = names;
	mon->n = n;
	mon->valid = true;
	for (size_t i = 0; i < n; i++)
		if (!state_from_pcsc(&rs[i], &mon->states[i]))
			mon->states[i].event_count = UINT_MAX; /* unknown: ask pcscd */
}

/* Forgets the report (pcsc->lock held): callers ask pcscd themselves meanwhile. */
static void monitor_invalidate(struct monitor *mon)
{
	p11u_pcsc_free_names(mon->names);
	mon->names = NULL;
	mon->n = 0;
	mon->valid = false;
}

/* Waits for a stop at most ms (pcsc->lock held); true when stopping. */
static bool monitor_pause(struct monitor *mon, pthread_mutex_t *lock, long ms)
{
	struct timespec deadline = deadline_in(ms, 0);

	while (!mon->stopping)
		if (pthread_cond_timedwait(&mon->wake, lock, &deadline) == ETIMEDOUT)
			break;
	return mon->stopping;
}

/* Drops the monitor's context after pcscd failed it (pcsc->lock held). */
static void monitor_drop_ctx(struct monitor *mon)
{
	if (mon->have_ctx)
		log_call("SCardReleaseContext", "monitor", SCardReleaseContext(mon->ctx));
	mon->have_ctx = false;
	monitor_invalidate(mon);
}

/* One round: (re)connect and list the readers when needed, then wait for pcscd to report a
 * change of any reader or of the list.  rs[] holds the states of the previous round.  False
 * when the monitor stops. */
static bool monitor_round(struct p11u_pcsc *pcsc, SCARD_READERSTATE *rs, char ***names, size_t *n,
                          bool *relist)
{
	struct monitor *mon = &pcsc->monitor;
	LONG rv;

	if (!mon->have_ctx) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &mon->ctx);
		mon->have_ctx = rv == SCARD_S_SUCCESS;
		if (!mon->have_ctx)
			return !monitor_pause(mon, &pcsc->lock, MONITOR_RETRY_MS);
		*relist = true;
	}
	if (*relist) {
		char **fresh = NULL;

		if (list_readers_on(mon->ctx, &fresh) != P11U_IO_OK) {
			monitor_drop_ctx(mon);
			return !monitor_pause(mon, &pcsc->lock, MONITOR_RETRY_MS);
		}
		if (*names != mon->names)
			p11u_pcsc_free_names(*names);
		*names = fresh;
		for (*n = 0; fresh[*n] != NULL && *n < READERS_MAX; (*n)++) {
			memset(&rs[*n], 0, sizeof rs[*n]);
			rs[*n].szReader = fresh[*n];
			rs[*n].dwCurrentState = SCARD_STATE_UNAWARE; /* answered at once */
		}
		memset(&rs[*n], 0, sizeof rs[*n]);
		rs[*n].szReader = PNP_NOTIFICATION;
		rs[*n].dwCurrentState = SCARD_STATE_UNAWARE;
		*relist = false;
	}
	mon->in_wait = true;
	pthread_mutex_unlock(&pcsc->lock);
	rv = SCardGetStatusChange(mon->ctx, INFINITE, rs, (DWORD)(*n + 1));
	pthread_mutex_lock(&pcsc->lock);
	mon->in_wait = false;
	if (mon->stopping)
		return false;
	switch (rv) {
	case SCARD_S_SUCCESS:
		for (size_t i = 0; i <= *n; i++)
			rs[i].dwCurrentState = rs[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		/* A reader came or went: list again (the new readers are answered at once). */
		if (rs[*n].dwEventState & SCARD_STATE_CHANGED)
			*relist = true;
		monitor_publish(mon, *names, rs, *n);
		P11U_DEBUG(P11U_LOG_PCSC, "monitor: reader states updated (%zu readers)", *n);
		return true;
	case SCARD_E_TIMEOUT:
		return true;
	case SCARD_E_UNKNOWN_READER:
		*relist = true;
		monitor_invalidate(mon);
		return true;
	default:
		/* pcscd gone (or restarted): connect again. */
		log_call("SCardGetStatusChange", "monitor", rv);
		if (*names == mon->names)
			*names = NULL;
		monitor_drop_ctx(mon);
		return !monitor_pause(mon, &pcsc->lock, MONITOR_RETRY_MS);
	}
}

static void *monitor_main(void *arg)
{
	struct p11u_pcsc *pcsc = arg;
	struct monitor *mon = &pcsc->monitor;
	SCARD_READERSTATE rs[READERS_MAX + 1];
	char **names = NULL;
	size_t n = 0;
	bool relist = true;

	pthread_mutex_lock(&pcsc->lock);
	while (!mon->stopping && monitor_round(pcsc, rs, &names, &n, &relist))
		;
	if (names != mon->names)
		p11u_pcsc_free_names(names);
	monitor_drop_ctx(mon);
	mon->done = true;
	pthread_cond_broadcast(&mon->wake);
	pthread_mutex_unlock(&pcsc->lock);
	return NULL;
}

/* Starts the monitor (pcsc->lock not held).  Without it, callers ask pcscd each time. */
static void monitor_start(struct p11u_pcsc *pcsc)
{
	struct monitor *mon = &pcsc->monitor;

	monotonic_cond_init(&mon->wake);
	mon->started = p11u_thread_start(&mon->thread, false, monitor_main, pcsc) == 0;
	if (!mon->started)
		P11U_DEBUG(P11U_LOG_PCSC, "monitor thread not started: presence asked each time");
}

/* Stops the monitor and waits for its thread. */
static void monitor_stop(struct p11u_pcsc *pcsc)
{
	struct monitor *mon = &pcsc->monitor;

	if (!mon->started)
		return;
	pthread_mutex_lock(&pcsc->lock);
	mon->stopping = true;
	pthread_cond_broadcast(&mon->wake);
	/* As for waits: SCardCancel is a no-op until the wait has reached pcscd. */
	while (!mon->done) {
		struct timespec deadline = deadline_in(0, CANCEL_RETRY_NS);

		if (mon->in_wait && mon->have_ctx)
			log_call("SCardCancel", "monitor", SCardCancel(mon->ctx));
		pthread_cond_timedwait(&mon->wake, &pcsc->lock, &deadline);
	}
	pthread_mutex_unlock(&pcsc->lock);
	pthread_join(mon->thread, NULL);
	pthread_cond_destroy(&mon->wake);
	mon->started = false;
}

enum p11u_io_rv p11u_pcsc_known_state(struct p11u_pcsc *pcsc, const char *reader,
                                      struct p11u_reader_state *state)
{
	enum p11u_io_rv io = P11U_IO_ERROR;

	pthread_mutex_lock(&pcsc->lock);
	for (size_t i = 0; pcsc->monitor.valid && i < pcsc->monitor.n; i++) {
		if (strcmp(pcsc->monitor.names[i], reader) == 0) {
			*state = pcsc->monitor.states[i];
			io = state->event_count == UINT_MAX ? P11U_IO_ERROR : P11U_IO_OK;
			break;
		}
	}
	pthread_mutex_unlock(&pcsc->lock);
	return io;
}

enum p11u_io_rv p11u_pcsc_known_readers(struct p11u_pcsc *pcsc, char ***names)
{
	enum p11u_io_rv io = P11U_IO_ERROR;

	*names = NULL;
	pthread_mutex_lock(&pcsc->lock);
	if (pcsc->monitor.valid) {
		size_t n = pcsc->monitor.n;

		*names = calloc(n + 1, sizeof **names);
		io = *names != NULL ? P11U_IO_OK : P11U_IO_ERROR;
		for (size_t i = 0; i < n && io == P11U_IO_OK; i++) {
			(*names)[i] = strdup(pcsc->monitor.names[i]);
			if ((*names)[i] == NULL)
				io = P11U_IO_ERROR;
		}
		if (io != P11U_IO_OK) {
			p11u_pcsc_free_names(*names);
			*names = NULL;
		}
	}
	pthread_mutex_unlock(&pcsc->lock);
	return io;
}

/* ---- waits ------------------------------------------------------------------------------ */

/* Fills the wait's reader states with the state each reader was last seen in (UNAWARE for a
 * reader never seen). */
static void load_baseline(struct p11u_pcsc *pcsc, SCARD_READERSTATE *rs, size_t n, bool *all_known)
{
	*all_known = true;
	pthread_mutex_lock(&pcsc->lock);
	for (size_t i = 0; i < n; i++) {
		struct seen_state *seen = find_seen(pcsc, rs[i].szReader);
		rs[i].dwCurrentState = seen != NULL ? seen->state : SCARD_STATE_UNAWARE;
		if (seen == NULL)
			*all_known = false;
	}
	pthread_mutex_unlock(&pcsc->lock);
}

/* Records the states a wait saw (only_new: for readers without a baseline only). */
static void save_baseline(struct p11u_pcsc *pcsc, const SCARD_READERSTATE *rs, size_t n,
                          bool only_new)
{
	pthread_mutex_lock(&pcsc->lock);
	for (size_t i = 0; i < n; i++)
		remember_state(pcsc, rs[i].szReader, rs[i].dwEventState, only_new);
	pthread_mutex_unlock(&pcsc->lock);
}

/* An idle wait context, or a new one; NULL when pcscd cannot give one. */
static struct wait_ctx *wait_ctx_take(struct p11u_pcsc *pcsc)
{
	struct wait_ctx *w;
	LONG rv;

	pthread_mutex_lock(&pcsc->lock);
	for (w = pcsc->waits; w != NULL; w = w->next) {
		if (!w->waiting) {
			w->waiting = true;
			break;
		}
	}
	pthread_mutex_unlock(&pcsc->lock);
	if (w != NULL)
		return w;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &w->ctx);
	log_call("SCardEstablishContext", "wait", rv);
	if (rv != SCARD_S_SUCCESS) {
		free(w);
		return NULL;
	}
	w->waiting = true;
	pthread_mutex_lock(&pcsc->lock);
	w->next = pcsc->waits;
	pcsc->waits = w;
	pthread_mutex_unlock(&pcsc->lock);
	return w;
}

enum wait_outcome {
	WAIT_TIMEOUT,
	WAIT_CHANGED,      /* a reader's state differs from rs[].dwCurrentState */
	WAIT_LIST_CHANGED, /* a reader of the list is gone (the states were not filled in) */
};

/* One SCardGetStatusChange() on the wait's context; P11U_IO_ERROR when cancelled. */
static enum p11u_io_rv wait_once(struct p11u_pcsc *pcsc, struct wait_ctx *w, unsigned since_gen,
                                 SCARD_READERSTATE *rs, size_t n, DWORD timeout,
                                 enum wait_outcome *outcome)
{
	bool cancelled;
	LONG rv;

	pthread_mutex_lock(&pcsc->lock);
	cancelled = pcsc->cancel_gen != since_gen;
	pthread_mutex_unlock(&pcsc->lock);
	if (cancelled)
		return P11U_IO_ERROR;
	rv = SCardGetStatusChange(w->ctx, timeout, rs, (DWORD)n);
	log_call("SCardGetStatusChange", "wait", rv);
	switch (rv) {
	case SCARD_S_SUCCESS:
		*outcome = WAIT_CHANGED;
		return P11U_IO_OK;
	case SCARD_E_TIMEOUT:
		*outcome = WAIT_TIMEOUT;
		return P11U_IO_OK;
	case SCARD_E_UNKNOWN_READER:
		*outcome = WAIT_LIST_CHANGED;
		return P11U_IO_OK;
	default:
		/* SCARD_E_CANCELLED (p11u_pcsc_cancel), SCARD_E_NO_SERVICE, ... */
		return P11U_IO_ERROR;
	}
}

/* The wait itself, on its own context. */
static enum p11u_io_rv wait_for_change(struct p11u_pcsc *pcsc, struct wait_ctx *w,
                                       unsigned since_gen, SCARD_READERSTATE *rs, size_t n,
                                       unsigned timeout_ms)
{
	enum wait_outcome outcome = WAIT_TIMEOUT;
	enum p11u_io_rv io;
	bool all_known;

	load_baseline(pcsc, rs, n, &all_known);
	if (!all_known) {
		/* Readers never seen get their current state as baseline; the others keep theirs
		 * (a change since the last wait must still wake this one). */
		io = wait_once(pcsc, w, since_gen, rs, n, 0, &outcome);
		if (io != P11U_IO_OK || outcome == WAIT_LIST_CHANGED)
			return io;
		save_baseline(pcsc, rs, n, true);
		load_baseline(pcsc, rs, n, &all_known);
	}
	/* INFINITE is UINT32_MAX, so UINT_MAX waits for ever. */
	io = wait_once(pcsc, w, since_gen, rs, n, (DWORD)timeout_ms, &outcome);
	if (io == P11U_IO_OK && outcome == WAIT_CHANGED)
		save_baseline(pcsc, rs, n, false);
	return io;
}

unsigned p11u_pcsc_cancel_gen(struct p11u_pcsc *pcsc)
{
	unsigned gen;

	pthread_mutex_lock(&pcsc->lock);
	gen = pcsc->cancel_gen;
	pthread_mutex_unlock(&pcsc->lock);
	return gen;
}

enum p11u_io_rv p11u_pcsc_wait_change(struct p11u_pcsc *pcsc, unsigned since_gen,
                                      const char *const *readers, size_t n_readers,
                                      unsigned timeout_ms)
{
	SCARD_READERSTATE rs[READERS_MAX + 1];
	struct wait_ctx *w;
	enum p11u_io_rv io;

	if (n_readers > READERS_MAX)
		return P11U_IO_ERROR;
	memset(rs, 0, sizeof rs);
	for (size_t i = 0; i < n_readers; i++)
		rs[i].szReader = readers[i];
	/* The PnP pseudo reader wakes the wait when a reader is added or removed. */
	rs[n_readers].szReader = PNP_NOTIFICATION;

	w = wait_ctx_take(pcsc);
	if (w == NULL)
		return P11U_IO_ERROR;
	io = wait_for_change(pcsc, w, since_gen, rs, n_readers + 1, timeout_ms);

	pthread_mutex_lock(&pcsc->lock);
	w->waiting = false;
	if (pcsc->cancel_gen != since_gen)
		io = P11U_IO_ERROR;
	pthread_cond_broadcast(&pcsc->wait_done);
	pthread_mutex_unlock(&pcsc->lock);
	return io;
}

static bool any_waiting(const struct p11u_pcsc *pcsc)
{
	for (const struct wait_ctx *w = pcsc->waits; w != NULL; w = w->next)
		if (w->waiting)
			return true;
	return false;
}

void p11u_pcsc_cancel(struct p11u_pcsc *pcsc)
{
	pthread_mutex_lock(&pcsc->lock);
	pcsc->cancel_gen++;
	/* pcsc-lite ignores SCardCancel() until the wait is actually blocked in the daemon:
	 * repeat it until every waiting thread has left.  SCardCancel needs no context lock. */
	while (any_waiting(pcsc)) {
		struct timespec deadline = deadline_in(0, CANCEL_RETRY_NS);

		for (struct wait_ctx *w = pcsc->waits; w != NULL; w = w->next)
			if (w->waiting)
				log_call("SCardCancel", "wait", SCardCancel(w->ctx));
		pthread_cond_timedwait(&pcsc->wait_done, &pcsc->lock, &deadline);
	}
	pthread_mutex_unlock(&pcsc->lock);
}

/* ---- a connection: what its I/O thread does --------------------------------------------- */

/* Refreshes the ATR and protocol of a connection (after connect and reconnect). */
static enum p11u_io_rv read_status(struct p11u_reader *reader)
{
	BYTE atr[MAX_ATR_SIZE];
	DWORD atr_len = sizeof atr, state = 0, protocol = 0, name_len = 0;
	LONG rv;

	rv = SCardStatus(reader->handle, NULL, &name_len, &state, &protocol, atr, &atr_len);
	log_call("SCardStatus", reader->name, rv);
	if (rv != SCARD_S_SUCCESS)
		return io_rv_from_pcsc(rv);
	if (state & SCARD_ABSENT)
		return P11U_IO_REMOVED;
	if (atr_len > sizeof reader->atr)
		return P11U_IO_ERROR;
	pthread_mutex_lock(&reader->lock);
	memcpy(reader->atr, atr, atr_len);
	reader->atr_len = atr_len;
	pthread_mutex_unlock(&reader->lock);
	return P11U_IO_OK;
}

/* After SCARD_W_RESET_CARD: re-establish the connection and report the reset once. */
static enum p11u_io_rv reconnect_after_reset(struct p11u_reader *reader)
{
	DWORD protocol = 0;
	LONG rv;

	rv = SCardReconnect(reader->handle, SCARD_SHARE_SHARED,
	                    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD, &protocol);
	log_call("SCardReconnect", reader->name, rv);
	if (rv != SCARD_S_SUCCESS) {
		enum p11u_io_rv io = io_rv_from_pcsc(rv);
		return io == P11U_IO_RESET ? P11U_IO_ERROR : io;
	}
	reader->protocol = protocol;
	reader->in_transaction = false; /* a reset ends every transaction */
	enum p11u_io_rv io = read_status(reader);
	if (io != P11U_IO_OK)
		return io == P11U_IO_RESET ? P11U_IO_ERROR : io;
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: card was reset by someone else; reconnected",
	           reader->name);
	return P11U_IO_RESET;
}

/* The reader's state as pcscd reports it, on the connection's own context; false when pcscd
 * cannot say (reader or service gone). */
static bool query_reader(struct p11u_reader *reader, DWORD timeout_ms, SCARD_READERSTATE *rs)
{
	LONG rv = SCardGetStatusChange(reader->ctx, timeout_ms, rs, 1);

	log_call("SCardGetStatusChange", reader->name, rv);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return false;
	return !(rs->dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE));
}

/* A command failed with a communication error: was the card pulled out under it?  pcscd
 * answers a transmit to a card that just left with such an error (SCARD_E_NOT_TRANSACTED,
 * SCARD_E_COMM_DATA_LOST, ...) before its presence poll has seen the removal, so this waits
 * for the poll (at most REMOVAL_SETTLE_MS, and half the deadline): a card gone, or gone and
 * back (the event counter moved), is P11U_IO_REMOVED; a card still there is a real
 * P11U_IO_ERROR.  The wait ends as soon as pcscd reports the change. */
static enum p11u_io_rv error_or_removed(struct p11u_reader *reader)
{
	DWORD settle_ms =
	    reader->timeout_ms / 2 < REMOVAL_SETTLE_MS ? reader->timeout_ms / 2 : REMOVAL_SETTLE_MS;
	SCARD_READERSTATE rs;
	DWORD first;

	memset(&rs, 0, sizeof rs);
	rs.szReader = reader->name;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if (!query_reader(reader, 0, &rs))
		return P11U_IO_ERROR;
	first = rs.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	if (first & SCARD_STATE_PRESENT) {
		rs.dwCurrentState = first;
		if (!query_reader(reader, settle_ms, &rs))
			return P11U_IO_ERROR;
	}
	if (!(rs.dwEventState & SCARD_STATE_PRESENT) ||
	    (rs.dwEventState & EVENT_COUNT_MASK) != (first & EVENT_COUNT_MASK)) {
		P11U_DEBUG(P11U_LOG_PCSC, "reader %s: the card left during the command",
		           reader->name);
		return P11U_IO_REMOVED;
	}
	return P11U_IO_ERROR;
}

/* Maps a result of a call on the connection: reconnects after a reset, and tells a card
 * pulled out mid-command from other communication errors. */
static enum p11u_io_rv handle_rv(struct p11u_reader *reader, LONG rv)
{
	enum p11u_io_rv io;

	if (rv == SCARD_W_RESET_CARD)
		return reconnect_after_reset(reader);
	io = io_rv_from_pcsc(rv);
	if (io == P11U_IO_ERROR)
		io = error_or_removed(reader);
	return io;
}

static enum p11u_io_rv do_connect(struct p11u_reader *reader)
{
	LONG rv;

	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &reader->ctx);
	log_call("SCardEstablishContext", reader->name, rv);
	if (rv != SCARD_S_SUCCESS)
		return P11U_IO_ERROR;
	reader->have_ctx = true;
	rv =
	    SCardConnect(reader->ctx, reader->name, SCARD_SHARE_SHARED,
	                 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &reader->handle, &reader->protocol);
	log_call("SCardConnect", reader->name, rv);
	if (rv == SCARD_E_NO_SMARTCARD || rv == SCARD_W_REMOVED_CARD)
		return P11U_IO_NO_CARD;
	if (rv != SCARD_S_SUCCESS)
		return P11U_IO_ERROR;
	reader->connected = true;
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: connected, T=%d", reader->name,
	           reader->protocol == SCARD_PROTOCOL_T0 ? 0 : 1);
	enum p11u_io_rv io = read_status(reader);
	return io == P11U_IO_REMOVED ? P11U_IO_NO_CARD : io == P11U_IO_OK ? io : P11U_IO_ERROR;
}

static enum p11u_io_rv do_transmit(struct p11u_reader *reader)
{
	const SCARD_IO_REQUEST *pci =
	    reader->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD len = (DWORD)reader->resp_len;
	LONG rv;

	rv = SCardTransmit(reader->handle, pci, reader->cmd, (DWORD)reader->cmd_len, NULL,
	                   reader->resp, &len);
	if (rv != SCARD_S_SUCCESS) {
		/* Successful transmits are in the APDU trace; only failures are logged here. */
		log_call("SCardTransmit", reader->name, rv);
		reader->resp_len = 0;
		return handle_rv(reader, rv);
	}
	if (len > reader->resp_len) {
		reader->resp_len = 0;
		return P11U_IO_ERROR;
	}
	if (len < 2) {
		/* No status word.  A driver may report a card that left under the command this
		 * way (vpcd: the card's connection closed before it answered). */
		P11U_DEBUG(P11U_LOG_PCSC, "reader %s: an answer of %lu bytes", reader->name,
		           (unsigned long)len);
		reader->resp_len = 0;
		return error_or_removed(reader);
	}
	reader->resp_len = len;
	return P11U_IO_OK;
}

static enum p11u_io_rv do_begin(struct p11u_reader *reader)
{
	LONG rv = SCardBeginTransaction(reader->handle);

	log_call("SCardBeginTransaction", reader->name, rv);
	if (rv == SCARD_S_SUCCESS)
		reader->in_transaction = true;
	return handle_rv(reader, rv);
}

static enum p11u_io_rv do_end(struct p11u_reader *reader)
{
	LONG rv = SCardEndTransaction(reader->handle, SCARD_LEAVE_CARD);

	log_call("SCardEndTransaction", reader->name, rv);
	reader->in_transaction = false;
	/* No reconnect here: pcscd keeps reporting the reset until we reconnect, so the next
	 * begin or transmit sees it and reports it to the card layer. */
	return io_rv_from_pcsc(rv);
}

static enum p11u_io_rv do_status(struct p11u_reader *reader)
{
	enum p11u_io_rv io = read_status(reader);

	if (io == P11U_IO_RESET)
		return reconnect_after_reset(reader);
	if (io == P11U_IO_BUFFER)
		return P11U_IO_ERROR;
	return io;
}

static enum p11u_io_rv run_job(struct p11u_reader *reader, enum job_kind kind)
{
	switch (kind) {
	case JOB_CONNECT:
		return do_connect(reader);
	case JOB_TRANSMIT:
		return do_transmit(reader);
	case JOB_BEGIN:
		return do_begin(reader);
	case JOB_END:
		return do_end(reader);
	case JOB_STATUS:
		return do_status(reader);
	}
	return P11U_IO_ERROR;
}

/* The command and the answer may hold a PIN or deciphered data. */
static void wipe_buffers(struct p11u_reader *reader)
{
	OPENSSL_cleanse(reader->cmd, sizeof reader->cmd);
	OPENSSL_cleanse(reader->resp, sizeof reader->resp);
	reader->cmd_len = 0;
	reader->resp_len = 0;
}

/* A job whose caller left came back: its result goes nowhere, and a transaction it leaves
 * open (a late begin, or a transmit inside one) would lock other processes out of the card. */
static void finish_abandoned(struct p11u_reader *reader)
{
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: a call that passed its deadline returned",
	           reader->name);
	wipe_buffers(reader);
	if (reader->connected && reader->in_transaction)
		do_end(reader);
}

static void close_connection(struct p11u_reader *reader)
{
	if (reader->connected)
		log_call("SCardDisconnect", reader->name,
		         SCardDisconnect(reader->handle, SCARD_LEAVE_CARD));
	if (reader->have_ctx)
		log_call("SCardReleaseContext", reader->name, SCardReleaseContext(reader->ctx));
	reader->connected = false;
	reader->have_ctx = false;
}

static void reader_free(struct p11u_reader *reader)
{
	wipe_buffers(reader);
	pthread_cond_destroy(&reader->cond);
	pthread_mutex_destroy(&reader->lock);
	free(reader->name);
	free(reader);
}

/* The I/O thread: one job at a time until the owner disconnects, then it closes the
 * connection.  It is detached; the reader is freed by the owner, or by the thread when the
 * owner did not wait for the close (a stalled connection). */
static void *io_thread(void *arg)
{
	struct p11u_reader *reader = arg;

	pthread_mutex_lock(&reader->lock);
	for (;;) {
		while (!reader->posted && !reader->released)
			pthread_cond_wait(&reader->cond, &reader->lock);
		if (reader->released)
			break;
		enum job_kind kind = reader->kind;
		reader->posted = false;
		reader->running = true;
		pthread_mutex_unlock(&reader->lock);

		enum p11u_io_rv io = run_job(reader, kind);

		pthread_mutex_lock(&reader->lock);
		reader->running = false;
		reader->result = io;
		if (reader->abandoned) {
			reader->abandoned = false;
			pthread_mutex_unlock(&reader->lock);
			finish_abandoned(reader);
			pthread_mutex_lock(&reader->lock);
		} else {
			reader->done = true;
			pthread_cond_broadcast(&reader->cond);
		}
	}
	pthread_mutex_unlock(&reader->lock);
	close_connection(reader);
	pthread_mutex_lock(&reader->lock);
	reader->closed = true;
	pthread_cond_broadcast(&reader->cond);
	bool self_free = reader->self_free;
	pthread_mutex_unlock(&reader->lock);
	if (self_free)
		reader_free(reader);
	return NULL;
}

/* ---- a connection: what its owner calls ------------------------------------------------ */

/* Hands one job to the I/O thread and waits for it, at most the deadline.  Called with
 * reader->lock held; the job's input is in place. */
static enum p11u_io_rv post_and_wait(struct p11u_reader *reader, enum job_kind kind)
{
	struct timespec deadline = deadline_in(reader->timeout_ms, 0);

	if (reader->posted || reader->running) {
		/* An earlier call passed its deadline and is still in pcscd. */
		return P11U_IO_TIMEOUT;
	}
	reader->kind = kind;
	reader->done = false;
	reader->posted = true;
	pthread_cond_broadcast(&reader->cond);
	while (!reader->done) {
		if (pthread_cond_timedwait(&reader->cond, &reader->lock, &deadline) == ETIMEDOUT &&
		    !reader->done) {
			reader->abandoned = true;
			P11U_DEBUG(P11U_LOG_PCSC,
			           "reader %s: no answer from pcscd within %u ms: the reader is "
			           "stalled until it returns",
			           reader->name, reader->timeout_ms);
			return P11U_IO_TIMEOUT;
		}
	}
	reader->done = false;
	return reader->result;
}

static enum p11u_io_rv reader_call(struct p11u_reader *reader, enum job_kind kind)
{
	enum p11u_io_rv io;

	pthread_mutex_lock(&reader->lock);
	io = post_and_wait(reader, kind);
	pthread_mutex_unlock(&reader->lock);
	return io;
}

static enum p11u_io_rv reader_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                       size_t *resp_len)
{
	struct p11u_reader *reader = ctx;
	enum p11u_io_rv io;

	if (cmd == NULL || resp == NULL || resp_len == NULL || cmd_len < 4 ||
	    cmd_len > COMMAND_MAX || *resp_len < 2)
		return P11U_IO_ERROR;
	pthread_mutex_lock(&reader->lock);
	if (reader->posted || reader->running) {
		pthread_mutex_unlock(&reader->lock);
		return P11U_IO_TIMEOUT;
	}
	/* The job owns copies: a caller that leaves at the deadline leaves no dangling
	 * buffer behind. */
	memcpy(reader->cmd, cmd, cmd_len);
	reader->cmd_len = cmd_len;
	reader->resp_len = *resp_len > RESPONSE_MAX ? RESPONSE_MAX : *resp_len;
	io = post_and_wait(reader, JOB_TRANSMIT);
	if (io == P11U_IO_OK) {
		memcpy(resp, reader->resp, reader->resp_len);
		*resp_len = reader->resp_len;
	}
	if (io != P11U_IO_TIMEOUT)
		wipe_buffers(reader);
	pthread_mutex_unlock(&reader->lock);
	return io;
}

static enum p11u_io_rv reader_begin(void *ctx)
{
	return reader_call(ctx, JOB_BEGIN);
}

static enum p11u_io_rv reader_end(void *ctx)
{
	return reader_call(ctx, JOB_END);
}

enum p11u_io_rv p11u_reader_connect(const char *name, unsigned timeout_ms, struct p11u_reader **out)
{
	struct p11u_reader *reader;
	enum p11u_io_rv io;

	*out = NULL;
	reader = calloc(1, sizeof *reader);
	if (reader == NULL)
		return P11U_IO_ERROR;
	reader->name = strdup(name);
	if (reader->name == NULL) {
		free(reader);
		return P11U_IO_ERROR;
	}
	reader->timeout_ms = timeout_ms;
	pthread_mutex_init(&reader->lock, NULL);
	monotonic_cond_init(&reader->cond);
	reader->transport.ctx = reader;
	reader->transport.transmit = reader_transmit;
	reader->transport.begin = reader_begin;
	reader->transport.end = reader_end;

	if (p11u_thread_start(&reader->thread, true, io_thread, reader) != 0) {
		reader_free(reader);
		return P11U_IO_ERROR;
	}
	io = reader_call(reader, JOB_CONNECT);
	if (io != P11U_IO_OK) {
		p11u_reader_disconnect(reader);
		return io;
	}
	*out = reader;
	return P11U_IO_OK;
}

void p11u_reader_disconnect(struct p11u_reader *reader)
{
	if (reader == NULL)
		return;
	pthread_mutex_lock(&reader->lock);
	/* A job posted but not taken yet is dropped; one in pcscd finishes first. */
	reader->posted = false;
	reader->released = true;
	pthread_cond_broadcast(&reader->cond);
	if (!reader->running) {
		/* Closing takes a moment; waiting for it leaves no thread behind at exit. */
		struct timespec deadline = deadline_in(reader->timeout_ms, 0);

		while (!reader->closed &&
		       pthread_cond_timedwait(&reader->cond, &reader->lock, &deadline) != ETIMEDOUT)
			;
	}
	if (reader->closed) {
		pthread_mutex_unlock(&reader->lock);
		reader_free(reader);
		return;
	}
	reader->self_free = true;
	pthread_mutex_unlock(&reader->lock);
}

const struct p11u_transport *p11u_reader_transport(struct p11u_reader *reader)
{
	return &reader->transport;
}

const uint8_t *p11u_reader_atr(const struct p11u_reader *reader, size_t *len)
{
	/* Written by the I/O thread only inside a job the owner waited for. */
	*len = reader->atr_len;
	return reader->atr;
}

enum p11u_io_rv p11u_reader_check(struct p11u_reader *reader)
{
	return reader_call(reader, JOB_STATUS);
}

bool p11u_reader_stalled(struct p11u_reader *reader)
{
	bool stalled;

	pthread_mutex_lock(&reader->lock);
	stalled = reader->posted || reader->running;
	pthread_mutex_unlock(&reader->lock);
	return stalled;
}
