/* APDU trace lines.  The data of commands carrying secrets (VERIFY, CHANGE
 * REFERENCE DATA, RESET RETRY COUNTER) and of responses carrying plaintext are
 * never written out: only their lengths. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "card/card-int.h"

/* A bounded output line: once full it ends in "..." and later text is dropped. */
struct line {
	char *buf;
	size_t size;
	size_t len;
	bool full;
};

static void put(struct line *line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct line *line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (line->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line->buf + line->len, line->size - line->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < line->size - line->len) {
		line->len += (size_t)n;
		return;
	}
	line->full = true;
	if (line->size >= 4)
		memcpy(line->buf + line->size - 4, "...", 4);
}

static void put_hex(struct line *line, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len && !line->full; i++)
		put(line, "%s%02X", i > 0 ? " " : "", data[i]);
}

/* The instructions whose command data is a secret (odd variants included). */
static bool ins_carries_secret(uint8_t ins)
{
	uint8_t even = ins & 0xFE;

	return even == P11U_INS_VERIFY || even == P11U_INS_CHANGE_REF ||
	       even == P11U_INS_RESET_COUNTER;
}

static unsigned le_value(uint8_t le)
{
	return le == 0 ? P11U_APDU_LE_MAX : le;
}

void p11u_apdu_format_command(const uint8_t *apdu, size_t len, char *out, size_t out_size)
{
	struct line line = {out, out_size, 0, false};
	bool secret;
	size_t lc;

	if (out == NULL || out_size == 0)
		return;
	out[0] = '\0';
	if (apdu == NULL || len < 4) {
		put(&line, "malformed command (%zu bytes)", len);
		return;
	}
	secret = ins_carries_secret(apdu[1]);
	put(&line, "%02X %02X %02X %02X", apdu[0], apdu[1], apdu[2], apdu[3]);
	if (len == 4)
		return;
	if (len == 5) {
		put(&line, " Le=%u", le_value(apdu[4]));
		return;
	}
	lc = apdu[4];
	if (lc == 0 || (len != 5 + lc && len != 6 + lc)) {
		put(&line, " malformed body (%zu bytes)", len - 4);
		if (!secret) {
			put(&line, ": ");
			put_hex(&line, apdu + 4, len - 4);
		}
		return;
	}
	put(&line, " Lc=%zu", lc);
	if (secret) {
		put(&line, " data=<%zu bytes hidden>", lc);
	} else {
		put(&line, " data=");
		put_hex(&line, apdu + 5, lc);
	}
	if (len == 6 + lc)
		put(&line, " Le=%u", le_value(apdu[5 + lc]));
}

void p11u_apdu_format_response(const uint8_t *resp, size_t len, bool redact, char *out,
                               size_t out_size)
{
	struct line line = {out, out_size, 0, false};
	size_t n;

	if (out == NULL || out_size == 0)
		return;
	out[0] = '\0';
	if (resp == NULL || len < 2) {
		put(&line, "malformed response (%zu bytes)", len);
		return;
	}
	n = len - 2;
	put(&line, "SW=%02X%02X len=%zu", resp[n], resp[n + 1], n);
	if (n == 0)
		return;
	if (redact) {
		put(&line, " data=<hidden>");
	} else {
		put(&line, " data=");
		put_hex(&line, resp, n);
	}
}
