/* Reader transport over PCSC-lite: contexts, reader lists, presence, one
 * shared connection per reader (kept open: pcscd powers off a card nobody is
 * connected to, which silently clears a login), transactions and reconnects.
 * Nothing here knows about the card profile.
 *
 * Threads.  pcsc-lite serializes the calls on one context, and a thread that
 * waits for a busy context does so holding the library's global lock, so one
 * slow call on a shared context stalls every PC/SC call of the process.  Hence
 * one context per use: p11u_pcsc's own context for listing and presence (its
 * caller serializes), one context per blocking wait, and one context and one
 * I/O thread per connection.
 *
 * Deadlines.  Every call on a connection runs on its I/O thread while the
 * caller waits at most the connection's timeout.  A card that stops answering
 * after its ATR (or a driver that never returns) then costs the caller
 * P11U_IO_TIMEOUT, not a frozen thread: the I/O thread stays in pcscd until
 * pcscd returns, and meanwhile the connection answers P11U_IO_TIMEOUT at once
 * (p11u_reader_stalled() is true).  When pcscd does return, a transaction the
 * abandoned call left open is ended, and the connection works again. */
#ifndef P11U_PCSC_READER_H
#define P11U_PCSC_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/transport.h"

#define P11U_ATR_MAX 33

struct p11u_pcsc;   /* a PC/SC context for listing and presence, and the blocking waits */
struct p11u_reader; /* one open connection to the card in one reader */

struct p11u_reader_state {
	bool present;         /* a card is in the reader */
	bool mute;            /* present but unresponsive (no ATR) */
	unsigned event_count; /* pcscd's per-reader event counter (changes on insert/remove) */
	uint8_t atr[P11U_ATR_MAX];
	size_t atr_len;
};

/* P11U_IO_ERROR when pcscd is not reachable. */
enum p11u_io_rv p11u_pcsc_open(struct p11u_pcsc **out);
/* No wait may be running (cancel them and let them return first). */
void p11u_pcsc_close(struct p11u_pcsc *pcsc);

/* Current reader names as a NULL-terminated array (no readers: an empty array, P11U_IO_OK).
 * Free with p11u_pcsc_free_names().  Listing and presence share one context: one thread at a
 * time. */
enum p11u_io_rv p11u_pcsc_list_readers(struct p11u_pcsc *pcsc, char ***names);
void p11u_pcsc_free_names(char **names);

/* Presence from memory: p11u_pcsc_open() starts a monitor thread that follows pcscd's reader
 * list and reader states (SCardGetStatusChange with the last known states, on its own
 * context).  P11U_IO_ERROR while it has no report (starting up, pcscd gone, a reader it has
 * not seen yet): ask pcscd then (p11u_pcsc_reader_state, p11u_pcsc_list_readers).  A report
 * may lag pcscd by the moment the thread takes to wake: a caller that finds it disagreeing
 * with what it knows asks pcscd. */
enum p11u_io_rv p11u_pcsc_known_state(struct p11u_pcsc *pcsc, const char *reader,
                                      struct p11u_reader_state *state);
enum p11u_io_rv p11u_pcsc_known_readers(struct p11u_pcsc *pcsc, char ***names);

/* Presence without card I/O (SCardGetStatusChange with timeout 0). */
enum p11u_io_rv p11u_pcsc_reader_state(struct p11u_pcsc *pcsc, const char *reader,
                                       struct p11u_reader_state *state);

/* The cancel generation: read it before deciding to wait, pass it to the wait. */
unsigned p11u_pcsc_cancel_gen(struct p11u_pcsc *pcsc);

/* Blocks until a reader in the list changes state, the reader list changes, timeout_ms passes
 * (P11U_IO_OK in every case), or p11u_pcsc_cancel() is called after since_gen was read
 * (P11U_IO_ERROR, at once if the cancel came before the wait began).  Any number of threads may
 * wait at once: each wait has a context of its own. */
enum p11u_io_rv p11u_pcsc_wait_change(struct p11u_pcsc *pcsc, unsigned since_gen,
                                      const char *const *readers, size_t n_readers,
                                      unsigned timeout_ms);
/* Wakes every blocked p11u_pcsc_wait_change() at once, from any thread, and returns when all
 * of them have left pcscd. */
void p11u_pcsc_cancel(struct p11u_pcsc *pcsc);

/* Shared-mode connection (T=0 or T=1, whatever the ATR offers) on a context and I/O thread of
 * its own; every later call on it waits at most timeout_ms.  P11U_IO_NO_CARD without a card,
 * P11U_IO_TIMEOUT when pcscd did not answer in time. */
enum p11u_io_rv p11u_reader_connect(const char *reader, unsigned timeout_ms,
                                    struct p11u_reader **out);
/* Leaves the card as it is (SCARD_LEAVE_CARD).  Never waits for pcscd: a stalled connection is
 * closed by its I/O thread when pcscd returns. */
void p11u_reader_disconnect(struct p11u_reader *reader);

/* The transport for the card layer.  transmit/begin report P11U_IO_RESET once after another
 * process reset the card (the connection is re-established before returning),
 * P11U_IO_REMOVED when the card went away, P11U_IO_TIMEOUT past the deadline. */
const struct p11u_transport *p11u_reader_transport(struct p11u_reader *reader);

const uint8_t *p11u_reader_atr(const struct p11u_reader *reader, size_t *len);

/* Cheap check (SCardStatus, no card I/O) whether the connected card is still the same card:
 * P11U_IO_OK, P11U_IO_REMOVED, P11U_IO_RESET, or P11U_IO_TIMEOUT while stalled. */
enum p11u_io_rv p11u_reader_check(struct p11u_reader *reader);

/* A call that passed its deadline is still in pcscd: the connection refuses other calls. */
bool p11u_reader_stalled(struct p11u_reader *reader);

#endif
