/* fuzz-sw: the status-word table (p11u_sw_to_rv for every command kind), the APDU exchange
 * (p11u_apdu_exchange: chaining of long command data, GET RESPONSE after 61xx, the resend
 * after 6Cxx) against a card answering from the input, and the APDU trace formatting of every
 * command and answer (secrets never shown).
 *
 * Input: SW1 SW2 | INS P1 P2 | data length (2) | Le (2) | response capacity (2) | flags |
 * trace line size | card script of transmit records (fuzz-script.h).  flags: bit 0 the
 * response is secret (PSO DECIPHER), bit 1 p11u_apdu_command instead of p11u_apdu_exchange,
 * bits 2-3 the command kind. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "card/card-int.h"
#include "fuzz-script.h"

#define HEADER_LEN     13
#define DATA_LEN_RANGE (P11U_APDU_CHAIN_MAX + 64) /* a little over the limit */
#define LE_RANGE       (P11U_APDU_LE_MAX + 4)
#define CAP_RANGE      600
#define ROUNDS_MAX     (64 * (P11U_APDU_CHAIN_MAX / P11U_APDU_DATA_MAX + 1)) /* per segment */

static const enum p11u_cmd_kind kinds[] = {P11U_CMD_FILE, P11U_CMD_SECRET, P11U_CMD_KEY,
                                           P11U_CMD_OTHER};

/* What the exchange must do, checked command by command. */
struct model {
	struct fuzz_script script;
	const struct p11u_apdu *apdu;
	size_t trace_size;
	size_t sent;    /* command data sent so far */
	bool last_sent; /* the segment without the chaining bit went out */
	unsigned rounds;
	uint8_t prev[5 + P11U_APDU_DATA_MAX + 1];
	size_t prev_len;
	bool have_prev_sw;
	uint8_t prev_sw1, prev_sw2;
	size_t prev_data;
};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Whether s shows a hex dump ("HH HH") from index from on. */
static bool hex_pair_after(const char *s, size_t from)
{
	size_t len = strlen(s);

	for (size_t i = from; i + 5 <= len; i++)
		if (is_hex(s[i]) && is_hex(s[i + 1]) && s[i + 2] == ' ' && is_hex(s[i + 3]) &&
		    is_hex(s[i + 4]))
			return true;
	return false;
}

/* The trace of a command: bounded, and the data of secret commands never shown. */
static void trace_command(const uint8_t *cmd, size_t len, size_t size)
{
	char *line = malloc(size);
	uint8_t even = len > 1 ? cmd[1] & 0xFE : 0;

	FUZZ_CHECK(line != NULL, "out of memory");
	memset(line, 'x', size);
	p11u_apdu_format_command(cmd, len, line, size);
	FUZZ_CHECK(memchr(line, '\0', size) != NULL, "command trace not terminated");
	/* After "CLA INS P1 P2" (11 characters) no hex dump for VERIFY, CHANGE REFERENCE DATA
	 * and RESET RETRY COUNTER. */
	if (len > 5 && (even == P11U_INS_VERIFY || even == P11U_INS_CHANGE_REF ||
	                even == P11U_INS_RESET_COUNTER))
		FUZZ_CHECK(strlen(line) <= 11 || !hex_pair_after(line, 11),
		           "secret command data in the trace: %s", line);
	free(line);
}

static void trace_response(const uint8_t *resp, size_t len, bool redact, size_t size)
{
	char *line = malloc(size);

	FUZZ_CHECK(line != NULL, "out of memory");
	memset(line, 'x', size);
	p11u_apdu_format_response(resp, len, redact, line, size);
	FUZZ_CHECK(memchr(line, '\0', size) != NULL, "response trace not terminated");
	if (redact && len > 2) {
		const char *data = strstr(line, "data=");
		/* "data=<hidden>", or the start of it before a cut ("..."). */
		FUZZ_CHECK(data == NULL || !is_hex(data[5]),
		           "secret response data in the trace: %s", line);
	}
	free(line);
}

static bool is_get_response(const struct model *m, const uint8_t *cmd, size_t len)
{
	return m->have_prev_sw && m->prev_sw1 == 0x61 && len == 5 && cmd[0] == 0x00 &&
	       cmd[1] == P11U_INS_GET_RESPONSE && cmd[2] == 0 && cmd[3] == 0 &&
	       cmd[4] == m->prev_sw2;
}

static bool is_resend(const struct model *m, const uint8_t *cmd, size_t len)
{
	return m->have_prev_sw && m->prev_sw1 == 0x6C && m->prev_data == 0 && len == m->prev_len &&
	       memcmp(cmd, m->prev, len - 1) == 0 && cmd[len - 1] == m->prev_sw2;
}

static void check_segment(struct model *m, const uint8_t *cmd, size_t len)
{
	const struct p11u_apdu *a = m->apdu;
	size_t lc = len > 5 ? cmd[4] : 0;
	bool chained = cmd[0] == (a->cla | P11U_CLA_CHAINING_BIT);

	FUZZ_CHECK(!m->last_sent, "a new command after the last segment");
	FUZZ_CHECK(cmd[1] == a->ins && cmd[2] == a->p1 && cmd[3] == a->p2,
	           "segment with another header");
	FUZZ_CHECK(m->sent + lc <= a->data_len &&
	               (lc == 0 || memcmp(cmd + 5, a->data + m->sent, lc) == 0),
	           "segment data is not the next part of the command data");
	m->sent += lc;
	if (chained) {
		FUZZ_CHECK(lc == P11U_APDU_DATA_MAX && len == 5 + lc,
		           "a chained segment of %zu bytes or with Le", lc);
		return;
	}
	FUZZ_CHECK(cmd[0] == a->cla, "CLA %02X", cmd[0]);
	FUZZ_CHECK(m->sent == a->data_len, "last segment leaves %zu bytes unsent",
	           a->data_len - m->sent);
	if (a->le > 0)
		FUZZ_CHECK(len == (lc > 0 ? 6 + lc : 5) &&
		               cmd[len - 1] == (a->le == P11U_APDU_LE_MAX ? 0 : a->le),
		           "Le not encoded");
	else
		FUZZ_CHECK(len == (lc > 0 ? 5 + lc : 4), "Le without one asked");
	m->last_sent = true;
}

static enum p11u_io_rv model_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                      size_t *resp_len)
{
	struct model *m = ctx;
	enum p11u_io_rv io;
	size_t n;
	bool longer;

	FUZZ_CHECK(fuzz_command_well_formed(cmd, cmd_len), "malformed command (%zu bytes)",
	           cmd_len);
	FUZZ_CHECK(++m->rounds <= ROUNDS_MAX, "%u round trips", m->rounds);
	trace_command(cmd, cmd_len, m->trace_size);
	if (is_get_response(m, cmd, cmd_len) || is_resend(m, cmd, cmd_len))
		FUZZ_CHECK(m->last_sent && m->apdu->le > 0,
		           "GET RESPONSE or resend for a command without Le");
	else
		check_segment(m, cmd, cmd_len);
	memcpy(m->prev, cmd, cmd_len);
	m->prev_len = cmd_len;
	m->have_prev_sw = false;
	if (!fuzz_script_next(&m->script, FUZZ_OP_TRANSMIT, cmd, cmd_len, &io, resp, *resp_len, &n,
	                      &longer))
		return P11U_IO_REMOVED;
	if (io != P11U_IO_OK)
		return io;
	if (longer)
		return P11U_IO_BUFFER;
	*resp_len = n;
	if (n >= 2) {
		m->have_prev_sw = true;
		m->prev_sw1 = resp[n - 2];
		m->prev_sw2 = resp[n - 1];
		m->prev_data = n - 2;
		trace_response(resp, n, m->apdu->secret_response, m->trace_size);
	}
	return P11U_IO_OK;
}

static void status_words(uint16_t sw)
{
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		int tries = 77;
		enum p11u_card_rv rv = p11u_sw_to_rv(sw, kinds[k], &tries);

		FUZZ_CHECK(rv == P11U_CARD_OK || rv == P11U_CARD_E_SECRET_INCORRECT ||
		               rv == P11U_CARD_E_SECRET_BLOCKED ||
		               rv == P11U_CARD_E_SECRET_FORMAT || rv == P11U_CARD_E_NOT_VERIFIED ||
		               rv == P11U_CARD_E_DATA_LEN || rv == P11U_CARD_E_UNRECOGNIZED ||
		               rv == P11U_CARD_E_BAD_RESPONSE,
		           "SW %04X: result %d", sw, (int)rv);
		FUZZ_CHECK((sw == 0x9000) == (rv == P11U_CARD_OK), "SW %04X: result %d", sw,
		           (int)rv);
		if (rv == P11U_CARD_E_SECRET_INCORRECT)
			FUZZ_CHECK(kinds[k] == P11U_CMD_SECRET && (sw & 0xFFF0) == 0x63C0 &&
			               tries == (sw & 0x0F) && tries <= P11U_TRIES_MAX,
			           "SW %04X: %d tries left", sw, tries);
		else if (rv == P11U_CARD_E_SECRET_BLOCKED)
			FUZZ_CHECK(sw == 0x6983 && tries == 0, "SW %04X: blocked", sw);
		else
			FUZZ_CHECK(tries == 77, "SW %04X: tries set to %d", sw, tries);
		FUZZ_CHECK(p11u_sw_to_rv(sw, kinds[k], NULL) == rv, "SW %04X: unstable", sw);
	}
}

static size_t be16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct p11u_card card;
	struct p11u_apdu apdu;
	uint8_t cmd_data[DATA_LEN_RANGE], *resp;
	size_t resp_cap, resp_len = 12345;
	uint16_t sw = 0x1234;
	int tries = 77;
	enum p11u_card_rv rv;

	if (size < HEADER_LEN)
		return 0;
	status_words((uint16_t)be16(data));
	memset(&apdu, 0, sizeof apdu);
	/* Every command of the profile has CLA 0x80; C0 would read as GET RESPONSE. */
	apdu.cla = P11U_CLA;
	apdu.ins = data[2] == P11U_INS_GET_RESPONSE ? 0x00 : data[2];
	apdu.p1 = data[3];
	apdu.p2 = data[4];
	apdu.data_len = be16(data + 5) % DATA_LEN_RANGE;
	apdu.le = be16(data + 7) % LE_RANGE;
	resp_cap = be16(data + 9) % CAP_RANGE;
	apdu.secret_response = data[11] & 1;
	for (size_t i = 0; i < apdu.data_len; i++)
		cmd_data[i] = (uint8_t)(i * 7 + data[2]);
	apdu.data = apdu.data_len > 0 ? cmd_data : NULL;

	memset(&m, 0, sizeof m);
	fuzz_script_init(&m.script, data + HEADER_LEN, size - HEADER_LEN);
	m.apdu = &apdu;
	m.trace_size = (size_t)data[12] * 4 + 1;
	memset(&card, 0, sizeof card);
	card.transport = &(const struct p11u_transport){.ctx = &m, .transmit = model_transmit};
	resp = malloc(resp_cap > 0 ? resp_cap : 1);
	FUZZ_CHECK(resp != NULL, "out of memory");

	if (data[11] & 2) {
		rv = p11u_apdu_command(&card, &apdu, kinds[(data[11] >> 2) & 3], &tries);
		FUZZ_CHECK(tries == 77 || (tries >= 0 && tries <= P11U_TRIES_MAX), "%d tries",
		           tries);
	} else {
		rv = p11u_apdu_exchange(&card, &apdu, resp_cap > 0 ? resp : NULL, resp_cap,
		                        &resp_len, &sw);
		FUZZ_CHECK(rv >= P11U_CARD_OK && rv <= P11U_CARD_E_NO_MEMORY, "result %d", (int)rv);
		if (apdu.data_len > P11U_APDU_CHAIN_MAX || apdu.le > P11U_APDU_LE_MAX)
			FUZZ_CHECK(rv == P11U_CARD_E_ARGS && m.rounds == 0,
			           "an impossible command was sent");
		if (rv == P11U_CARD_OK) {
			FUZZ_CHECK(resp_len <= resp_cap, "%zu response bytes for %zu", resp_len,
			           resp_cap);
			FUZZ_CHECK((sw >> 8) != 0x61, "SW %04X returned", sw);
			FUZZ_CHECK(m.last_sent || sw != 0x9000,
			           "success before the last segment went out");
		}
	}
	free(resp);
	/* Any bytes, as a command trace line. */
	trace_command(data + HEADER_LEN, size - HEADER_LEN, m.trace_size);
	return 0;
}
