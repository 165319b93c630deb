/* The card script of a fuzz input (see fuzz-script.h). */
#include "config.h"

#include "fuzz-script.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "pcsc/reader.h"

const enum p11u_io_rv fuzz_script_errors[FUZZ_SCRIPT_N_ERRORS] = {
    P11U_IO_NO_CARD, P11U_IO_REMOVED, P11U_IO_RESET, P11U_IO_BUFFER, P11U_IO_ERROR, P11U_IO_TIMEOUT,
};

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz oracle failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzz_script_init(struct fuzz_script *s, const uint8_t *data, size_t size)
{
	memset(s, 0, sizeof *s);
	s->data = data;
	s->size = size;
}

void fuzz_script_record(struct fuzz_script *s, fuzz_recorder_fn fn, void *ctx)
{
	s->recorder = fn;
	s->recorder_ctx = ctx;
}

void fuzz_script_free(struct fuzz_script *s)
{
	free(s->recorded);
	s->recorded = NULL;
	s->recorded_len = s->recorded_cap = 0;
}

static void put(struct fuzz_script *s, const uint8_t *bytes, size_t n)
{
	if (s->recorded_len + n > s->recorded_cap) {
		size_t cap = s->recorded_cap * 2 + n + 256;
		uint8_t *grown = realloc(s->recorded, cap);

		FUZZ_CHECK(grown != NULL, "out of memory while recording");
		s->recorded = grown;
		s->recorded_cap = cap;
	}
	memcpy(s->recorded + s->recorded_len, bytes, n);
	s->recorded_len += n;
}

static uint8_t error_code(enum p11u_io_rv io)
{
	for (size_t i = 0; i < FUZZ_SCRIPT_N_ERRORS; i++)
		if (fuzz_script_errors[i] == io)
			return (uint8_t)(FUZZ_SCRIPT_ERROR_BASE + i);
	fuzz_fail("recorder answered transport result %d, which has no record", (int)io);
}

/* Asks the recorder and writes its answer as a record. */
static void record(struct fuzz_script *s, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                   enum p11u_io_rv *io, uint8_t *out, size_t out_cap, size_t *out_len)
{
	size_t n = out_cap;
	uint8_t k;

	*io = P11U_IO_OK;
	s->recorder(s->recorder_ctx, op, cmd, cmd_len, io, out, &n);
	if ((op == FUZZ_OP_BEGIN || op == FUZZ_OP_CHECK) && *io == P11U_IO_OK)
		return; /* no record: success is what a missing event record means */
	k = *io == P11U_IO_OK ? 0x00 : error_code(*io);
	put(s, &k, 1);
	if (*io != P11U_IO_OK)
		return;
	if (op == FUZZ_OP_CONNECT) {
		uint8_t len = (uint8_t)n;

		FUZZ_CHECK(n <= P11U_ATR_MAX, "recorded ATR of %zu bytes", n);
		put(s, &len, 1);
		put(s, out, n);
		*out_len = n;
	} else if (op == FUZZ_OP_TRANSMIT) {
		uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n};

		FUZZ_CHECK(n <= out_cap, "recorded answer of %zu bytes", n);
		put(s, len, 2);
		put(s, out, n);
		*out_len = n;
	}
}

static size_t take(struct fuzz_script *s, size_t n)
{
	size_t left = s->size - s->pos;

	if (n > left)
		n = left;
	s->pos += n;
	return n;
}

static bool next_record(struct fuzz_script *s, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                        enum p11u_io_rv *io, uint8_t *out, size_t out_cap, size_t *out_len,
                        bool *longer)
{
	size_t len = 0, start;
	uint8_t k;

	*out_len = 0;
	*longer = false;
	if (s->recorder != NULL) {
		record(s, op, cmd, cmd_len, io, out, out_cap, out_len);
		return true;
	}
	if (op == FUZZ_OP_BEGIN || op == FUZZ_OP_CHECK) {
		/* An event record, or nothing at all: the call succeeds. */
		*io = P11U_IO_OK;
		if (s->pos < s->size && s->data[s->pos] >= FUZZ_SCRIPT_ERROR_BASE)
			*io = fuzz_script_errors[(s->data[s->pos++] - FUZZ_SCRIPT_ERROR_BASE) %
			                         FUZZ_SCRIPT_N_ERRORS];
		return true;
	}
	if (s->pos >= s->size)
		return false;
	k = s->data[s->pos++];
	if (k >= FUZZ_SCRIPT_ERROR_BASE) {
		*io = fuzz_script_errors[(k - FUZZ_SCRIPT_ERROR_BASE) % FUZZ_SCRIPT_N_ERRORS];
		return true;
	}
	*io = P11U_IO_OK;
	if (op == FUZZ_OP_CONNECT) {
		if (s->pos < s->size)
			len = s->data[s->pos++] % (P11U_ATR_MAX + 1);
	} else {
		if (s->pos + 2 <= s->size)
			len = (size_t)s->data[s->pos] << 8 | s->data[s->pos + 1];
		take(s, 2);
	}
	start = s->pos;
	len = take(s, len);
	if (len > out_cap) {
		*longer = true;
		len = out_cap;
	}
	memcpy(out, s->data + start, len);
	*out_len = len;
	return true;
}

/* FUZZ_LOG=1: every record as it is played, to follow a reproduced finding. */
static void trace(const struct fuzz_script *s, enum fuzz_op op, size_t at, bool more,
                  enum p11u_io_rv io, size_t len)
{
	static const char *const names[] = {"connect", "begin", "transmit", "check"};
	static int enabled = -1;

	if (enabled < 0)
		enabled = getenv("FUZZ_LOG") != NULL;
	if (!enabled)
		return;
	if (more)
		fprintf(stderr, "card script @%zu/%zu: %s -> io %d, %zu bytes\n", at, s->size,
		        names[op], (int)io, len);
	else
		fprintf(stderr, "card script @%zu/%zu: %s -> end of the script\n", at, s->size,
		        names[op]);
}

bool fuzz_script_next(struct fuzz_script *s, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                      enum p11u_io_rv *io, uint8_t *out, size_t out_cap, size_t *out_len,
                      bool *longer)
{
	size_t at = s->pos;
	bool more = next_record(s, op, cmd, cmd_len, io, out, out_cap, out_len, longer);

	trace(s, op, at, more, more ? *io : P11U_IO_OK, *out_len);
	return more;
}

bool fuzz_atr_has_test_mark(const uint8_t *atr, size_t len)
{
	static const char mark[] = "P11UVCARD";

	return atr != NULL && memmem(atr, len, mark, sizeof mark - 1) != NULL;
}

bool fuzz_atr_has_hicos_mark(const uint8_t *atr, size_t len)
{
	static const char *const marks[] = {"CHTMOICA", "CHTGPKIJ"};

	for (size_t i = 0; atr != NULL && i < sizeof marks / sizeof marks[0]; i++)
		if (memmem(atr, len, marks[i], strlen(marks[i])) != NULL)
			return true;
	return false;
}

enum fuzz_cmd_class fuzz_command_class(const uint8_t *cmd, size_t len)
{
	if (len < 4)
		return FUZZ_CMD_UNKNOWN;
	if ((cmd[0] == 0x8C && cmd[1] == 0x20) || cmd[1] == 0xEA || cmd[1] == 0xC1)
		return FUZZ_CMD_GEN1;
	switch (cmd[1]) {
	case 0xA4: /* SELECT */
	case 0xB0: /* READ BINARY */
	case 0xB2: /* READ RECORD */
	case 0xC0: /* GET RESPONSE */
		return FUZZ_CMD_READ;
	case 0x20: /* VERIFY */
	case 0x24: /* CHANGE REFERENCE DATA */
	case 0x2C: /* RESET RETRY COUNTER */
	case 0x22: /* MSE */
	case 0x2A: /* PSO */
	case 0x84: /* GET CHALLENGE */
		return FUZZ_CMD_TEST_PROFILE;
	default:
		return FUZZ_CMD_UNKNOWN;
	}
}

bool fuzz_command_well_formed(const uint8_t *cmd, size_t len)
{
	if (cmd == NULL || len < 4)
		return false;
	if (len == 4 || len == 5)
		return true;
	return cmd[4] != 0 && (len == 5u + cmd[4] || len == 6u + cmd[4]);
}

void fuzz_check_label(const char *label, size_t size, const char *what)
{
	size_t len = strnlen(label, size), i = 0;

	FUZZ_CHECK(len < size, "%s: label not terminated", what);
	while (i < len) {
		uint32_t cp = 0;
		size_t n = p11u_utf8_decode((const unsigned char *)label + i, len - i, &cp);

		FUZZ_CHECK(n > 0 && cp >= 0x20 && (cp < 0x7F || cp > 0x9F) && cp != 0x202E,
		           "%s: label not sanitized at byte %zu", what, i);
		i += n;
	}
}
