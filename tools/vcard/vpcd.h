/* Serves a virtual card to a vsmartcard vpcd reader (TCP: 2-byte big-endian
 * length + payload; 1-byte payloads are control codes: 0 power off, 1 power on,
 * 2 reset, 4 get ATR). */
#ifndef P11U_VCARD_VPCD_H
#define P11U_VCARD_VPCD_H

#include <stdint.h>
#include <stdio.h>

#include "vcard/vcard.h"

struct vcard_serve_opts {
	const char *host;    /* default "127.0.0.1" */
	int port;            /* default 35963 (vpcd's default) */
	unsigned latency_us; /* delay before each response */
	unsigned long
	    remove_after; /* 0 = never; else drop off the reader right after the N-th APDU */
	/* With remove_after: stay this long after the N-th APDU.  An APDU then fails (the
	 * connection is dropped under it and made again at once) while the presence poll still
	 * finds the card: pcscd sees the removal late, as on a loaded machine. */
	unsigned slow_removal_ms;
	FILE *log;        /* NULL = no log; one line per APDU, secrets redacted */
};

/* Connects to vpcd (retrying while it is not up yet) and serves APDUs until SIGTERM/SIGINT
 * (clean exit: card removed), until remove_after, or until vpcd closes.
 * Returns 0 on a clean exit, non-zero on an error (message on stderr). */
int vcard_serve(struct vcard *card, const struct vcard_serve_opts *opts);

#endif
