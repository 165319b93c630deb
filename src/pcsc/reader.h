/* Reader transport over PCSC-lite: contexts, reader lists, presence, one
 * shared connection per reader (kept open: pcscd powers off a card nobody is
 * connected to, which silently clears a login), transactions and reconnects.
 * Nothing here knows about the card profile. */
#ifndef P11U_PCSC_READER_H
#define P11U_PCSC_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/transport.h"

#define P11U_ATR_MAX 33

struct p11u_pcsc;   /* a PC/SC context for listing, presence and waiting */
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
void p11u_pcsc_close(struct p11u_pcsc *pcsc);

/* Current reader names as a NULL-terminated array (no readers: an empty array, P11U_IO_OK).
 * Free with p11u_pcsc_free_names(). */
enum p11u_io_rv p11u_pcsc_list_readers(struct p11u_pcsc *pcsc, char ***names);
void p11u_pcsc_free_names(char **names);

/* Presence without card I/O (SCardGetStatusChange with timeout 0). */
enum p11u_io_rv p11u_pcsc_reader_state(struct p11u_pcsc *pcsc, const char *reader,
                                       struct p11u_reader_state *state);

/* Blocks until a reader in the list changes state, the reader list changes, timeout_ms passes
 * (P11U_IO_OK in every case), or p11u_pcsc_cancel() is called (P11U_IO_NO_CARD is never
 * returned here; a cancel returns P11U_IO_ERROR).  Uses its own PC/SC context so other calls
 * are not held up. */
enum p11u_io_rv p11u_pcsc_wait_change(struct p11u_pcsc *pcsc, const char *const *readers,
                                      size_t n_readers, unsigned timeout_ms);
/* Wakes a blocked p11u_pcsc_wait_change() from another thread. */
void p11u_pcsc_cancel(struct p11u_pcsc *pcsc);

/* Shared-mode connection (T=0 or T=1, whatever the ATR offers).  P11U_IO_NO_CARD without a card. */
enum p11u_io_rv p11u_reader_connect(struct p11u_pcsc *pcsc, const char *reader,
                                    struct p11u_reader **out);
/* Leaves the card as it is (SCARD_LEAVE_CARD). */
void p11u_reader_disconnect(struct p11u_reader *reader);

/* The transport for the card layer.  transmit/begin report P11U_IO_RESET once after another
 * process reset the card (the connection is re-established before returning) and
 * P11U_IO_REMOVED when the card went away. */
const struct p11u_transport *p11u_reader_transport(struct p11u_reader *reader);

const uint8_t *p11u_reader_atr(const struct p11u_reader *reader, size_t *len);

/* Cheap check (SCardStatus, no card I/O) whether the connected card is still the same card:
 * P11U_IO_OK, P11U_IO_REMOVED or P11U_IO_RESET. */
enum p11u_io_rv p11u_reader_check(struct p11u_reader *reader);

#endif
