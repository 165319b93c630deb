/* Reader transport over PCSC-lite (see reader.h).
 *
 * Two PC/SC contexts per p11u_pcsc: pcsc-lite holds a context's lock for the
 * whole of a blocking SCardGetStatusChange(), so waits get a context of their
 * own and listing, presence and card I/O never queue behind a wait.
 *
 * A wait compares each reader with the state the previous wait returned on
 * (or, for a reader never waited on, the state first seen by a presence
 * query): a change that happens between two waits wakes the next one at once
 * instead of being lost.  p11u_pcsc_close() must not run while a thread waits
 * (cancel and join it first).
 *
 * One p11u_reader is used by one thread at a time (the caller serializes; the
 * PKCS#11 front holds its slot lock around card work). */
#include "config.h"

#include "pcsc/reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "common/log.h"

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
 * reader's presence every 400 ms); see error_or_removed(). */
#define REMOVAL_SETTLE_MS 1000

/* pcscd's per-reader event counter, in the upper 16 bits of a reader state. */
#define EVENT_COUNT_MASK ((DWORD)0xFFFF0000)

/* Last reader state a wait started from, per reader name: the next wait compares against
 * it, so a change that happens between two waits is not lost. */
struct seen_state {
	char *name;
	DWORD state;
};

struct p11u_pcsc {
	SCARDCONTEXT ctx;      /* listing, presence, connections */
	SCARDCONTEXT wait_ctx; /* p11u_pcsc_wait_change() only */

	pthread_mutex_t lock; /* protects everything below */
	pthread_cond_t wait_done;
	bool waiting;
	bool cancel_pending;
	struct seen_state seen[READERS_MAX + 1]; /* + the PnP pseudo reader */
	size_t n_seen;
};

struct p11u_reader {
	struct p11u_pcsc *pcsc;
	char *name;
	SCARDHANDLE handle;
	DWORD protocol;
	uint8_t atr[P11U_ATR_MAX];
	size_t atr_len;
	struct p11u_transport transport;
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
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &pcsc->wait_ctx);
	log_call("SCardEstablishContext", "wait", rv);
	if (rv != SCARD_S_SUCCESS) {
		SCardReleaseContext(pcsc->ctx);
		free(pcsc);
		return P11U_IO_ERROR;
	}
	pthread_mutex_init(&pcsc->lock, NULL);
	pthread_cond_init(&pcsc->wait_done, NULL);
	*out = pcsc;
	return P11U_IO_OK;
}

void p11u_pcsc_close(struct p11u_pcsc *pcsc)
{
	if (pcsc == NULL)
		return;
	log_call("SCardReleaseContext", NULL, SCardReleaseContext(pcsc->ctx));
	log_call("SCardReleaseContext", "wait", SCardReleaseContext(pcsc->wait_ctx));
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

enum p11u_io_rv p11u_pcsc_list_readers(struct p11u_pcsc *pcsc, char ***names)
{
	DWORD len = 0;
	char *buf = NULL;
	LONG rv;

	*names = NULL;
	/* The list can grow between the size query and the read: try again a few times. */
	for (int attempt = 0; attempt < 3; attempt++) {
		rv = SCardListReaders(pcsc->ctx, NULL, NULL, &len);
		if (rv == SCARD_S_SUCCESS && len > 0) {
			free(buf);
			buf = malloc(len);
			if (buf == NULL)
				return P11U_IO_ERROR;
			rv = SCardListReaders(pcsc->ctx, NULL, buf, &len);
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
	if (rs.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
		return P11U_IO_ERROR;

	state->present = (rs.dwEventState & SCARD_STATE_PRESENT) != 0;
	state->mute = (rs.dwEventState & SCARD_STATE_MUTE) != 0;
	state->event_count = (unsigned)((rs.dwEventState >> 16) & 0xFFFF);
	if (state->present && rs.cbAtr <= sizeof state->atr) {
		memcpy(state->atr, rs.rgbAtr, rs.cbAtr);
		state->atr_len = rs.cbAtr;
	}
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: state 0x%lX present=%d mute=%d events=%u", reader,
	           (unsigned long)rs.dwEventState, state->present, state->mute, state->event_count);

	pthread_mutex_lock(&pcsc->lock);
	remember_state(pcsc, reader, rs.dwEventState, true);
	pthread_mutex_unlock(&pcsc->lock);
	return P11U_IO_OK;
}

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

enum wait_outcome {
	WAIT_TIMEOUT,
	WAIT_CHANGED,      /* a reader's state differs from rs[].dwCurrentState */
	WAIT_LIST_CHANGED, /* a reader of the list is gone (the states were not filled in) */
};

/* One SCardGetStatusChange() on the wait context. */
static enum p11u_io_rv wait_once(struct p11u_pcsc *pcsc, SCARD_READERSTATE *rs, size_t n,
                                 DWORD timeout, enum wait_outcome *outcome)
{
	LONG rv = SCardGetStatusChange(pcsc->wait_ctx, timeout, rs, (DWORD)n);

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

/* The wait itself, between the cancel bookkeeping of p11u_pcsc_wait_change(). */
static enum p11u_io_rv wait_for_change(struct p11u_pcsc *pcsc, SCARD_READERSTATE *rs, size_t n,
                                       unsigned timeout_ms)
{
	enum wait_outcome outcome = WAIT_TIMEOUT;
	enum p11u_io_rv io;
	bool all_known;

	load_baseline(pcsc, rs, n, &all_known);
	if (!all_known) {
		/* Readers never seen get their current state as baseline; the others keep theirs
		 * (a change since the last wait must still wake this one). */
		io = wait_once(pcsc, rs, n, 0, &outcome);
		if (io != P11U_IO_OK || outcome == WAIT_LIST_CHANGED)
			return io;
		save_baseline(pcsc, rs, n, true);
		load_baseline(pcsc, rs, n, &all_known);
	}
	/* INFINITE is UINT32_MAX, so UINT_MAX waits for ever. */
	io = wait_once(pcsc, rs, n, (DWORD)timeout_ms, &outcome);
	if (io == P11U_IO_OK && outcome == WAIT_CHANGED)
		save_baseline(pcsc, rs, n, false);
	return io;
}

enum p11u_io_rv p11u_pcsc_wait_change(struct p11u_pcsc *pcsc, const char *const *readers,
                                      size_t n_readers, unsigned timeout_ms)
{
	SCARD_READERSTATE rs[READERS_MAX + 1];
	enum p11u_io_rv io;

	if (n_readers > READERS_MAX)
		return P11U_IO_ERROR;
	memset(rs, 0, sizeof rs);
	for (size_t i = 0; i < n_readers; i++)
		rs[i].szReader = readers[i];
	/* The PnP pseudo reader wakes the wait when a reader is added or removed. */
	rs[n_readers].szReader = PNP_NOTIFICATION;

	pthread_mutex_lock(&pcsc->lock);
	if (pcsc->cancel_pending) {
		/* A cancel that came before the wait is not lost. */
		pcsc->cancel_pending = false;
		pthread_mutex_unlock(&pcsc->lock);
		return P11U_IO_ERROR;
	}
	pcsc->waiting = true;
	pthread_mutex_unlock(&pcsc->lock);

	io = wait_for_change(pcsc, rs, n_readers + 1, timeout_ms);

	pthread_mutex_lock(&pcsc->lock);
	pcsc->waiting = false;
	if (pcsc->cancel_pending) {
		pcsc->cancel_pending = false;
		io = P11U_IO_ERROR;
	}
	pthread_cond_broadcast(&pcsc->wait_done);
	pthread_mutex_unlock(&pcsc->lock);
	return io;
}

void p11u_pcsc_cancel(struct p11u_pcsc *pcsc)
{
	pthread_mutex_lock(&pcsc->lock);
	pcsc->cancel_pending = true;
	/* pcsc-lite ignores SCardCancel() until the wait is actually blocked in the daemon:
	 * repeat it until the waiting thread has left. */
	while (pcsc->waiting) {
		struct timespec deadline;

		log_call("SCardCancel", "wait", SCardCancel(pcsc->wait_ctx));
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += CANCEL_RETRY_NS;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pcsc->wait_done, &pcsc->lock, &deadline);
	}
	pthread_mutex_unlock(&pcsc->lock);
}

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
	memcpy(reader->atr, atr, atr_len);
	reader->atr_len = atr_len;
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
	enum p11u_io_rv io = read_status(reader);
	if (io != P11U_IO_OK)
		return io == P11U_IO_RESET ? P11U_IO_ERROR : io;
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: card was reset by someone else; reconnected",
	           reader->name);
	return P11U_IO_RESET;
}

/* The reader's state as pcscd reports it; false when pcscd cannot say (reader or service
 * gone). */
static bool query_reader(struct p11u_reader *reader, DWORD timeout_ms, SCARD_READERSTATE *rs)
{
	LONG rv = SCardGetStatusChange(reader->pcsc->ctx, timeout_ms, rs, 1);

	log_call("SCardGetStatusChange", reader->name, rv);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return false;
	return !(rs->dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE));
}

/* A command failed with a communication error: was the card pulled out under it?  pcscd
 * answers a transmit to a card that just left with such an error (SCARD_E_NOT_TRANSACTED,
 * SCARD_E_COMM_DATA_LOST, ...) before its presence poll has seen the removal, so this waits a
 * little for the poll: a card gone, or gone and back (the event counter moved), is
 * P11U_IO_REMOVED; a card still there is a real P11U_IO_ERROR. */
static enum p11u_io_rv error_or_removed(struct p11u_reader *reader)
{
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
		if (!query_reader(reader, REMOVAL_SETTLE_MS, &rs))
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

static enum p11u_io_rv reader_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                       size_t *resp_len)
{
	struct p11u_reader *reader = ctx;
	const SCARD_IO_REQUEST *pci;
	DWORD len;
	LONG rv;

	if (cmd == NULL || resp == NULL || resp_len == NULL || cmd_len < 4 ||
	    cmd_len > COMMAND_MAX || *resp_len < 2)
		return P11U_IO_ERROR;
	pci = reader->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	len = *resp_len > RESPONSE_MAX ? RESPONSE_MAX : (DWORD)*resp_len;
	rv = SCardTransmit(reader->handle, pci, cmd, (DWORD)cmd_len, NULL, resp, &len);
	if (rv != SCARD_S_SUCCESS) {
		/* Successful transmits are in the APDU trace; only failures are logged here. */
		log_call("SCardTransmit", reader->name, rv);
		return handle_rv(reader, rv);
	}
	if (len > *resp_len || len < 2)
		return P11U_IO_ERROR;
	*resp_len = len;
	return P11U_IO_OK;
}

static enum p11u_io_rv reader_begin(void *ctx)
{
	struct p11u_reader *reader = ctx;
	LONG rv = SCardBeginTransaction(reader->handle);

	log_call("SCardBeginTransaction", reader->name, rv);
	return handle_rv(reader, rv);
}

static enum p11u_io_rv reader_end(void *ctx)
{
	struct p11u_reader *reader = ctx;
	LONG rv = SCardEndTransaction(reader->handle, SCARD_LEAVE_CARD);

	log_call("SCardEndTransaction", reader->name, rv);
	/* No reconnect here: pcscd keeps reporting the reset until we reconnect, so the next
	 * begin or transmit sees it and reports it to the card layer. */
	return io_rv_from_pcsc(rv);
}

enum p11u_io_rv p11u_reader_connect(struct p11u_pcsc *pcsc, const char *name,
                                    struct p11u_reader **out)
{
	struct p11u_reader *reader;
	enum p11u_io_rv io;
	LONG rv;

	*out = NULL;
	reader = calloc(1, sizeof *reader);
	if (reader == NULL)
		return P11U_IO_ERROR;
	reader->name = strdup(name);
	if (reader->name == NULL) {
		free(reader);
		return P11U_IO_ERROR;
	}
	reader->pcsc = pcsc;
	rv =
	    SCardConnect(pcsc->ctx, name, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                 &reader->handle, &reader->protocol);
	log_call("SCardConnect", name, rv);
	if (rv != SCARD_S_SUCCESS) {
		free(reader->name);
		free(reader);
		if (rv == SCARD_E_NO_SMARTCARD || rv == SCARD_W_REMOVED_CARD)
			return P11U_IO_NO_CARD;
		return P11U_IO_ERROR;
	}
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: connected, T=%d", name,
	           reader->protocol == SCARD_PROTOCOL_T0 ? 0 : 1);
	io = read_status(reader);
	if (io != P11U_IO_OK) {
		p11u_reader_disconnect(reader);
		return io == P11U_IO_REMOVED ? P11U_IO_NO_CARD : P11U_IO_ERROR;
	}
	reader->transport.ctx = reader;
	reader->transport.transmit = reader_transmit;
	reader->transport.begin = reader_begin;
	reader->transport.end = reader_end;
	*out = reader;
	return P11U_IO_OK;
}

void p11u_reader_disconnect(struct p11u_reader *reader)
{
	if (reader == NULL)
		return;
	log_call("SCardDisconnect", reader->name,
	         SCardDisconnect(reader->handle, SCARD_LEAVE_CARD));
	free(reader->name);
	free(reader);
}

const struct p11u_transport *p11u_reader_transport(struct p11u_reader *reader)
{
	return &reader->transport;
}

const uint8_t *p11u_reader_atr(const struct p11u_reader *reader, size_t *len)
{
	*len = reader->atr_len;
	return reader->atr;
}

enum p11u_io_rv p11u_reader_check(struct p11u_reader *reader)
{
	enum p11u_io_rv io = read_status(reader);

	if (io == P11U_IO_RESET)
		return reconnect_after_reset(reader);
	if (io == P11U_IO_BUFFER)
		return P11U_IO_ERROR;
	return io;
}
