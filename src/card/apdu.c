/* The APDU layer: encodes short APDUs, chains long command data, fetches
 * long or T=0 responses (61xx, 6Cxx), traces every command and response, and
 * maps status words to card results through one table. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "card/card-int.h"
#include "common/log.h"

/* Wire buffers: CLA INS P1 P2 Lc data Le; response data + SW1 SW2. */
#define COMMAND_WIRE_MAX  (5 + P11U_APDU_DATA_MAX + 1)
#define RESPONSE_WIRE_MAX (P11U_APDU_LE_MAX + 2)
/* Round trips one command may take (GET RESPONSE, 6Cxx resend): bounds a card that keeps
 * announcing more data. */
#define EXCHANGE_ROUNDS_MAX 64
/* Enough for a full 255-byte command in hex. */
#define TRACE_LINE_MAX 900

enum p11u_card_rv p11u_card_rv_from_io(enum p11u_io_rv io)
{
	switch (io) {
	case P11U_IO_OK:
		return P11U_CARD_OK;
	case P11U_IO_NO_CARD:
	case P11U_IO_REMOVED:
		return P11U_CARD_E_REMOVED;
	case P11U_IO_RESET:
		return P11U_CARD_E_RESET;
	case P11U_IO_BUFFER:
		return P11U_CARD_E_BAD_RESPONSE;
	case P11U_IO_TIMEOUT:
		return P11U_CARD_E_TIMEOUT;
	case P11U_IO_ERROR:
		break;
	}
	return P11U_CARD_E_COMM;
}

/* Status words, in one table.  A rule applies to the command kinds in its mask; the first
 * match wins; anything not listed is an unexpected answer.  6282 and 6B00 (end of file,
 * offset beyond the end) are read-path conditions that files.c handles before mapping. */
static const struct sw_rule {
	uint16_t sw, mask;
	unsigned kinds;
	enum p11u_card_rv rv;
	const char *meaning;
} sw_rules[] = {
    {0x9000, 0xFFFF, ~0u, P11U_CARD_OK, "success"},
    {0x63C0, 0xFFF0, P11U_CMD_SECRET, P11U_CARD_E_SECRET_INCORRECT,
     "wrong secret (tries left in the low nibble)"},
    {0x6983, 0xFFFF, P11U_CMD_SECRET, P11U_CARD_E_SECRET_BLOCKED, "secret blocked"},
    {0x6700, 0xFFFF, P11U_CMD_SECRET, P11U_CARD_E_SECRET_FORMAT, "secret length outside the rules"},
    {0x6A80, 0xFFFF, P11U_CMD_SECRET, P11U_CARD_E_SECRET_FORMAT,
     "secret characters outside the rules"},
    {0x6982, 0xFFFF, P11U_CMD_KEY, P11U_CARD_E_NOT_VERIFIED,
     "PIN not verified in this card session"},
    {0x6700, 0xFFFF, P11U_CMD_KEY, P11U_CARD_E_DATA_LEN, "input length wrong for the key"},
    {0x6A80, 0xFFFF, P11U_CMD_KEY, P11U_CARD_E_DATA_LEN, "input not valid for the key"},
    {0x6A82, 0xFFFF, P11U_CMD_FILE, P11U_CARD_E_UNRECOGNIZED,
     "file not found: not a card of this profile"},
    {0x6A86, 0xFFFF, ~0u, P11U_CARD_E_UNRECOGNIZED,
     "P1/P2 not supported: not a card of this profile"},
    {0x6D00, 0xFFFF, ~0u, P11U_CARD_E_UNRECOGNIZED,
     "instruction not supported: not a card of this profile"},
    {0x6E00, 0xFFFF, ~0u, P11U_CARD_E_UNRECOGNIZED,
     "class not supported: not a card of this profile"},
};

enum p11u_card_rv p11u_sw_to_rv(uint16_t sw, enum p11u_cmd_kind kind, int *tries_left)
{
	const struct sw_rule *rule = NULL;

	for (size_t i = 0; i < sizeof sw_rules / sizeof sw_rules[0]; i++) {
		if ((sw & sw_rules[i].mask) == sw_rules[i].sw && (sw_rules[i].kinds & kind)) {
			rule = &sw_rules[i];
			break;
		}
	}
	if (rule == NULL) {
		P11U_DEBUG(P11U_LOG_CARD, "status word %04X: unexpected answer", sw);
		return P11U_CARD_E_BAD_RESPONSE;
	}
	if (rule->rv == P11U_CARD_E_SECRET_INCORRECT) {
		int left = sw & 0x0F;
		if (left > P11U_TRIES_MAX) {
			P11U_DEBUG(P11U_LOG_CARD,
			           "status word %04X: more tries than the profile allows", sw);
			return P11U_CARD_E_BAD_RESPONSE;
		}
		if (tries_left != NULL)
			*tries_left = left;
	} else if (rule->rv == P11U_CARD_E_SECRET_BLOCKED && tries_left != NULL) {
		*tries_left = 0;
	}
	if (rule->rv != P11U_CARD_OK)
		P11U_DEBUG(P11U_LOG_CARD, "status word %04X: %s", sw, rule->meaning);
	return rule->rv;
}

static size_t encode(uint8_t *wire, uint8_t cla, const struct p11u_apdu *apdu, const uint8_t *data,
                     size_t data_len, size_t le)
{
	size_t n = 0;

	wire[n++] = cla;
	wire[n++] = apdu->ins;
	wire[n++] = apdu->p1;
	wire[n++] = apdu->p2;
	if (data_len > 0) {
		wire[n++] = (uint8_t)data_len;
		memcpy(wire + n, data, data_len);
		n += data_len;
	}
	if (le > 0)
		wire[n++] = le == P11U_APDU_LE_MAX ? 0 : (uint8_t)le;
	return n;
}

/* One command out, one response in, both traced.  *raw_len is at least 2 on success. */
static enum p11u_card_rv round_trip(struct p11u_card *card, const uint8_t *cmd, size_t cmd_len,
                                    uint8_t *raw, size_t *raw_len, bool redact)
{
	char line[TRACE_LINE_MAX];
	enum p11u_io_rv io;

	if (p11u_log_enabled(P11U_LOG_APDU)) {
		p11u_apdu_format_command(cmd, cmd_len, line, sizeof line);
		p11u_log(P11U_LOG_APDU, "> %s", line);
	}
	*raw_len = RESPONSE_WIRE_MAX;
	io = card->transport->transmit(card->transport->ctx, cmd, cmd_len, raw, raw_len);
	if (io != P11U_IO_OK) {
		P11U_DEBUG(P11U_LOG_APDU, "< transport result %d", (int)io);
		return p11u_card_rv_from_io(io);
	}
	if (*raw_len < 2 || *raw_len > RESPONSE_WIRE_MAX) {
		P11U_DEBUG(P11U_LOG_APDU, "< malformed response (%zu bytes)", *raw_len);
		return P11U_CARD_E_BAD_RESPONSE;
	}
	if (p11u_log_enabled(P11U_LOG_APDU)) {
		p11u_apdu_format_response(raw, *raw_len, redact, line, sizeof line);
		p11u_log(P11U_LOG_APDU, "< %s", line);
	}
	return P11U_CARD_OK;
}

/* How one encoded command's answer is gathered. */
struct collect_mode {
	bool fetch;  /* response data expected: 61xx is followed by GET RESPONSE */
	bool resend; /* 6Cxx (T=0, wrong Le) is followed by the same command with the card's Le */
	bool raw_sw; /* the first status word as it is: nothing fetched, nothing resent */
	bool redact; /* the response data is plaintext */
};

/* The mode of a command's last (or only) segment. */
static struct collect_mode collect_mode_of(const struct p11u_apdu *apdu)
{
	struct collect_mode mode = {false, false, apdu->raw_sw, apdu->secret_response};

	if (!apdu->raw_sw && apdu->le > 0) {
		mode.fetch = true;
		mode.resend = !apdu->omit_le; /* a resend would have to add an Le byte */
	}
	return mode;
}

/* Sends one encoded command and gathers its whole response: 61xx is followed by GET
 * RESPONSE, 6Cxx (T=0, wrong Le) by the same command with the card's Le, once.  A command
 * expecting no data: a 61xx to it is success and nothing is fetched (unless raw_sw). */
static enum p11u_card_rv collect(struct p11u_card *card, uint8_t *wire, size_t wire_len,
                                 struct collect_mode mode, uint8_t *resp, size_t resp_cap,
                                 size_t *resp_len, uint16_t *sw)
{
	uint8_t raw[RESPONSE_WIRE_MAX];
	uint8_t get_response[5] = {P11U_CLA_GET_RESPONSE, P11U_INS_GET_RESPONSE, 0, 0, 0};
	uint8_t *cmd = wire;
	size_t cmd_len = wire_len, total = 0, raw_len = 0;
	bool resent = false;
	enum p11u_card_rv rv = P11U_CARD_E_BAD_RESPONSE;

	for (int round = 0; round < EXCHANGE_ROUNDS_MAX; round++) {
		rv = round_trip(card, cmd, cmd_len, raw, &raw_len, mode.redact);
		if (rv != P11U_CARD_OK)
			break;
		size_t n = raw_len - 2;
		uint8_t sw1 = raw[n], sw2 = raw[n + 1];

		if (sw1 == 0x6C && n == 0 && mode.resend && !resent) {
			cmd[cmd_len - 1] = sw2;
			resent = true;
			continue;
		}
		if (n > resp_cap - total) {
			P11U_DEBUG(P11U_LOG_CARD, "response longer than expected (over %zu bytes)",
			           resp_cap);
			rv = P11U_CARD_E_BAD_RESPONSE;
			break;
		}
		if (n > 0) {
			memcpy(resp + total, raw, n);
			total += n;
		}
		if (sw1 == 0x61 && mode.fetch) {
			get_response[4] = sw2;
			cmd = get_response;
			cmd_len = sizeof get_response;
			resent = false;
			continue;
		}
		*sw = sw1 == 0x61 && !mode.raw_sw ? 0x9000 : (uint16_t)(sw1 << 8 | sw2);
		*resp_len = total;
		OPENSSL_cleanse(raw, sizeof raw);
		return P11U_CARD_OK;
	}
	if (rv == P11U_CARD_OK) {
		P11U_DEBUG(P11U_LOG_CARD, "no final status word after %d round trips",
		           EXCHANGE_ROUNDS_MAX);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	OPENSSL_cleanse(raw, sizeof raw);
	if (total > 0)
		OPENSSL_cleanse(resp, total);
	return rv;
}

enum p11u_card_rv p11u_apdu_exchange(struct p11u_card *card, const struct p11u_apdu *apdu,
                                     uint8_t *resp, size_t resp_cap, size_t *resp_len, uint16_t *sw)
{
	uint8_t wire[COMMAND_WIRE_MAX];
	size_t off = 0, wire_len, seg_len = 0;
	enum p11u_card_rv rv;

	*resp_len = 0;
	*sw = 0;
	if (apdu->data_len > P11U_APDU_CHAIN_MAX || apdu->le > P11U_APDU_LE_MAX ||
	    (apdu->data_len > 0 && apdu->data == NULL) || (resp_cap > 0 && resp == NULL))
		return P11U_CARD_E_ARGS;

	/* Every segment but the last: chaining bit, no Le, answered 9000 without data. */
	while (apdu->data_len - off > P11U_APDU_DATA_MAX) {
		const struct collect_mode segment = {false, false, false, apdu->secret_response};

		wire_len = encode(wire, apdu->cla | P11U_CLA_CHAINING_BIT, apdu, apdu->data + off,
		                  P11U_APDU_DATA_MAX, 0);
		rv = collect(card, wire, wire_len, segment, NULL, 0, &seg_len, sw);
		OPENSSL_cleanse(wire, sizeof wire);
		if (rv != P11U_CARD_OK || *sw != 0x9000)
			return rv; /* the caller maps the status word that ended the chain */
		off += P11U_APDU_DATA_MAX;
	}
	wire_len = encode(wire, apdu->cla, apdu, apdu->data_len > 0 ? apdu->data + off : NULL,
	                  apdu->data_len - off, apdu->omit_le ? 0 : apdu->le);
	rv = collect(card, wire, wire_len, collect_mode_of(apdu), resp, resp_cap, resp_len, sw);
	OPENSSL_cleanse(wire, sizeof wire);
	return rv;
}

enum p11u_card_rv p11u_apdu_command(struct p11u_card *card, const struct p11u_apdu *apdu,
                                    enum p11u_cmd_kind kind, int *tries_left)
{
	size_t len;
	uint16_t sw;
	enum p11u_card_rv rv;

	rv = p11u_apdu_exchange(card, apdu, NULL, 0, &len, &sw);
	if (rv != P11U_CARD_OK)
		return rv;
	return p11u_sw_to_rv(sw, kind, tries_left);
}
