/* The fuzz input as a card's script: what a card (and its reader) answers, one record per
 * reader operation, in the order the code under test asks.  Shared by the fake PC/SC reader
 * (fake-reader.c, for the whole module) and the card-layer targets.
 *
 * Record format (every operation that consumes one):
 *   k                      k < 0xF0: the operation succeeds; k >= 0xF0: it fails with
 *                          fuzz_script_errors[(k - 0xF0) % 6] (P11U_IO_NO_CARD, _REMOVED,
 *                          _RESET, _BUFFER, _ERROR, _TIMEOUT)
 *   k atr_len atr...       connect: the ATR (atr_len % 34 bytes, P11U_ATR_MAX is 33)
 *   k len_hi len_lo resp.. transmit: the whole response, data + SW1 SW2 (a response longer
 *                          than the caller's buffer is P11U_IO_BUFFER; cut short by the end
 *                          of the input, it is a short answer)
 *   k (k >= 0xF0 only)     begin (transaction), check (SCardStatus): an event record.  When
 *                          the next byte is not one (k < 0xF0, or the input ran out), the
 *                          operation succeeds and consumes nothing, so seeds hold card
 *                          answers only, and the fuzzer may put an event before any call.
 * An input that runs out is a card taken out: the next connect or transmit fails as removed.
 *
 * Recording: with a recorder set, each operation is answered by the recorder (the virtual
 * card, tests/fuzz/gen-seeds.c) and written out in this format, so a seed replays exactly the
 * session it was recorded from. */
#ifndef P11U_FUZZ_SCRIPT_H
#define P11U_FUZZ_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/transport.h"

enum fuzz_op {
	FUZZ_OP_CONNECT,
	FUZZ_OP_BEGIN,
	FUZZ_OP_TRANSMIT,
	FUZZ_OP_CHECK,
};

#define FUZZ_SCRIPT_ERROR_BASE 0xF0
#define FUZZ_SCRIPT_N_ERRORS   6
extern const enum p11u_io_rv fuzz_script_errors[FUZZ_SCRIPT_N_ERRORS];

/* Answers an operation while recording: *io, and for connect and transmit the bytes
 * (out holds *out_len bytes on input, the answer's length on output). */
typedef void (*fuzz_recorder_fn)(void *ctx, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                                 enum p11u_io_rv *io, uint8_t *out, size_t *out_len);

struct fuzz_script {
	const uint8_t *data;
	size_t size;
	size_t pos;
	/* Recording instead of replaying. */
	fuzz_recorder_fn recorder;
	void *recorder_ctx;
	uint8_t *recorded; /* malloc'ed, grows */
	size_t recorded_len;
	size_t recorded_cap;
};

void fuzz_script_init(struct fuzz_script *s, const uint8_t *data, size_t size);
void fuzz_script_record(struct fuzz_script *s, fuzz_recorder_fn fn, void *ctx);
/* Frees what recording allocated. */
void fuzz_script_free(struct fuzz_script *s);

/* The next record for op.  False when the input ran out (never for begin and check).  For connect
 * and transmit, out receives the bytes (at most out_cap; the rest of a longer record is
 * skipped) and *out_len their count; *longer is set when the record held more than out_cap. */
bool fuzz_script_next(struct fuzz_script *s, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                      enum p11u_io_rv *io, uint8_t *out, size_t out_cap, size_t *out_len,
                      bool *longer);

/* Which cards a command may reach.  The card layer sends the test profile's security commands
 * only to a card with "P11UVCARD" in its ATR's historical bytes, a first-generation HiCOS card's
 * (the protected VERIFY, raw RSA) only to one with "CHTMOICA" or "CHTGPKIJ" there, and anything
 * else reads files.  So a command of a class needs its mark anywhere in the ATR. */
enum fuzz_cmd_class {
	FUZZ_CMD_READ,         /* SELECT, READ BINARY, READ RECORD, GET RESPONSE: any card */
	FUZZ_CMD_TEST_PROFILE, /* VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, MSE, PSO,
	                          GET CHALLENGE: the test card only */
	FUZZ_CMD_GEN1,         /* 8C 20 protected VERIFY, 80 EA / 80 C1 raw RSA: gen1 only */
	FUZZ_CMD_UNKNOWN,      /* nothing the card layer sends */
};
enum fuzz_cmd_class fuzz_command_class(const uint8_t *cmd, size_t len);
bool fuzz_atr_has_test_mark(const uint8_t *atr, size_t len);
bool fuzz_atr_has_hicos_mark(const uint8_t *atr, size_t len);
/* A well-formed short command APDU (cases 1-4, Lc 1-255) as the card layer encodes them. */
bool fuzz_command_well_formed(const uint8_t *cmd, size_t len);

/* A label or a name from a card, in a buffer of size bytes: terminated, valid UTF-8, and made
 * safe to show (no control, C1 or bidi override character).  Fails the oracle otherwise. */
void fuzz_check_label(const char *label, size_t size, const char *what);

/* Prints the message and aborts: an oracle of a fuzz target failed. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__VA_ARGS__);                                                    \
	} while (0)

#endif
