/* The one thing the card layer needs from a reader: send an APDU, group APDUs
 * into a transaction.  src/pcsc implements it over PCSC-lite; the unit tests
 * implement it over the virtual card's APDU library, in-process. */
#ifndef P11U_TRANSPORT_H
#define P11U_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Transport results.  Every function returns one of these. */
enum p11u_io_rv {
	P11U_IO_OK = 0,
	P11U_IO_NO_CARD, /* no card in the reader */
	P11U_IO_REMOVED, /* the card went away (or was swapped) */
	P11U_IO_RESET,   /* the card was reset by someone else: security state is gone.
	                    The transport has already reconnected; retrying is allowed. */
	P11U_IO_BUFFER,  /* response larger than the caller's buffer */
	P11U_IO_ERROR,   /* anything else (reader gone, service gone, protocol) */
	P11U_IO_TIMEOUT, /* the reader did not answer within the deadline: the command may
	                    still be under way, and the reader takes no other until it ends */
};

struct p11u_transport {
	void *ctx;
	/* Sends one command APDU, receives data + SW1 SW2.  *resp_len is the
	 * buffer size on input and the response length on output. */
	enum p11u_io_rv (*transmit)(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
	                            size_t *resp_len);
	/* Exclusive access for a multi-APDU step (SCardBeginTransaction). */
	enum p11u_io_rv (*begin)(void *ctx);
	enum p11u_io_rv (*end)(void *ctx);
};

#endif
