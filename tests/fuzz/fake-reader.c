/* The PC/SC transport of src/pcsc/reader.h, faked for the fuzz targets (see fake-reader.h).
 * Results outside what the real transport can return for an operation are mapped onto ones it
 * can (src/pcsc/reader.c), so that a finding is a bug of the module, not of the fake. */
#include "config.h"

#include "fake-reader.h"

#include <stdlib.h>
#include <string.h>

#include "pcsc/reader.h"

struct p11u_pcsc {
	unsigned cancel_gen;
};

struct p11u_reader {
	struct p11u_transport transport;
	uint8_t atr[P11U_ATR_MAX];
	size_t atr_len;
	bool test_mark;  /* the ATR may name a test card: its security commands allowed */
	bool hicos_mark; /* the ATR may name a gen1 card: its security commands allowed */
	bool gone;       /* its card was taken out: the connection stays broken */
	bool stalled;    /* a call passed its deadline; pcscd has not returned yet */
	bool in_tx;
	int uc_tries; /* the user code's counter as last read in this transaction, or -1 */
};

/* Connections the module may hold at once (it keeps one per reader). */
#define MAX_CONNS 4

static struct {
	struct fuzz_script *script;
	bool removed;         /* taken out; the next presence query sees it */
	bool empty;           /* the reader is empty */
	unsigned event_count; /* pcscd's counter: changes on every insertion and removal */
	unsigned n_pcsc;
	struct p11u_reader *conns[MAX_CONNS];
	bool guard_last_try;
} world;

void fake_reader_start(struct fuzz_script *script)
{
	FUZZ_CHECK(world.n_pcsc == 0, "a PC/SC context outlived the last session");
	for (size_t i = 0; i < MAX_CONNS; i++)
		FUZZ_CHECK(world.conns[i] == NULL, "a connection outlived the last session");
	memset(&world, 0, sizeof world);
	world.script = script;
	world.event_count = 1;
}

void fake_reader_check_idle(const char *after_call)
{
	for (size_t i = 0; i < MAX_CONNS; i++)
		FUZZ_CHECK(world.conns[i] == NULL || !world.conns[i]->in_tx,
		           "a PC/SC transaction is still open after %s: other processes are locked "
		           "out of the card",
		           after_call);
}

void fake_reader_guard_last_try(bool on)
{
	world.guard_last_try = on;
}

void fake_reader_finish(void)
{
	FUZZ_CHECK(world.n_pcsc == 0, "C_Finalize left %u PC/SC contexts open", world.n_pcsc);
	for (size_t i = 0; i < MAX_CONNS; i++)
		FUZZ_CHECK(world.conns[i] == NULL, "C_Finalize left a card connection open");
	world.script = NULL;
}

static bool script_has_more(void)
{
	const struct fuzz_script *s = world.script;

	return s != NULL && (s->recorder != NULL || s->pos < s->size);
}

/* The card left: every connection to it stays broken; presence shows it at the next query. */
static void card_gone(void)
{
	world.removed = true;
	for (size_t i = 0; i < MAX_CONNS; i++) {
		if (world.conns[i] != NULL) {
			world.conns[i]->gone = true;
			world.conns[i]->in_tx = false;
		}
	}
}

/* The next record for an operation on conn, with the side effects of its result. */
static enum p11u_io_rv next(struct p11u_reader *conn, enum fuzz_op op, const uint8_t *cmd,
                            size_t cmd_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	enum p11u_io_rv io;
	bool longer;

	*out_len = 0;
	if (conn->gone)
		return P11U_IO_REMOVED;
	if (conn->stalled)
		return P11U_IO_TIMEOUT;
	if (world.script == NULL || !fuzz_script_next(world.script, op, cmd, cmd_len, &io, out,
	                                              out_cap, out_len, &longer)) {
		card_gone(); /* the script ran out: the card is taken out */
		return P11U_IO_REMOVED;
	}
	if (io == P11U_IO_OK && longer)
		io = P11U_IO_BUFFER;
	/* What the real transport cannot return here. */
	if (io == P11U_IO_NO_CARD)
		io = P11U_IO_REMOVED;
	if (io == P11U_IO_BUFFER && op != FUZZ_OP_TRANSMIT)
		io = P11U_IO_ERROR;
	switch (io) {
	case P11U_IO_REMOVED:
		card_gone();
		break;
	case P11U_IO_RESET:
		conn->in_tx = false; /* the reconnection ended it */
		break;
	case P11U_IO_TIMEOUT:
		conn->stalled = true;
		break;
	default:
		break;
	}
	return io;
}

/* ---- contexts, reader lists, presence --------------------------------------------------- */

enum p11u_io_rv p11u_pcsc_open(struct p11u_pcsc **out)
{
	*out = calloc(1, sizeof **out);
	if (*out == NULL)
		return P11U_IO_ERROR;
	world.n_pcsc++;
	return P11U_IO_OK;
}

void p11u_pcsc_close(struct p11u_pcsc *pcsc)
{
	if (pcsc == NULL)
		return;
	world.n_pcsc--;
	free(pcsc);
}

enum p11u_io_rv p11u_pcsc_list_readers(struct p11u_pcsc *pcsc, char ***names)
{
	(void)pcsc;
	*names = calloc(2, sizeof **names);
	if (*names == NULL)
		return P11U_IO_ERROR;
	(*names)[0] = strdup(FAKE_READER_NAME);
	if ((*names)[0] == NULL) {
		free(*names);
		*names = NULL;
		return P11U_IO_ERROR;
	}
	return P11U_IO_OK;
}

void p11u_pcsc_free_names(char **names)
{
	if (names == NULL)
		return;
	for (char **p = names; *p != NULL; p++)
		free(*p);
	free(names);
}

enum p11u_io_rv p11u_pcsc_reader_state(struct p11u_pcsc *pcsc, const char *reader,
                                       struct p11u_reader_state *state)
{
	(void)pcsc;
	memset(state, 0, sizeof *state);
	if (strcmp(reader, FAKE_READER_NAME) != 0)
		return P11U_IO_ERROR;
	if (world.removed) {
		world.removed = false;
		world.empty = true;
		world.event_count++;
	} else if (world.empty && script_has_more()) {
		/* Another card: the rest of the script is its session. */
		world.empty = false;
		world.event_count++;
	}
	state->present = !world.empty;
	state->event_count = world.event_count;
	return P11U_IO_OK;
}

/* No monitor thread here: the module asks for presence each time (p11u_pcsc_reader_state),
 * which is where the script's removals and new cards happen. */
enum p11u_io_rv p11u_pcsc_known_state(struct p11u_pcsc *pcsc, const char *reader,
                                      struct p11u_reader_state *state)
{
	(void)pcsc;
	(void)reader;
	memset(state, 0, sizeof *state);
	return P11U_IO_ERROR;
}

enum p11u_io_rv p11u_pcsc_known_readers(struct p11u_pcsc *pcsc, char ***names)
{
	(void)pcsc;
	*names = NULL;
	return P11U_IO_ERROR;
}

unsigned p11u_pcsc_cancel_gen(struct p11u_pcsc *pcsc)
{
	return pcsc->cancel_gen;
}

/* Nothing ever changes while the fake waits: the wait times out at once. */
enum p11u_io_rv p11u_pcsc_wait_change(struct p11u_pcsc *pcsc, unsigned since_gen,
                                      const char *const *readers, size_t n_readers,
                                      unsigned timeout_ms)
{
	(void)readers;
	(void)n_readers;
	(void)timeout_ms;
	return pcsc->cancel_gen != since_gen ? P11U_IO_ERROR : P11U_IO_OK;
}

void p11u_pcsc_cancel(struct p11u_pcsc *pcsc)
{
	pcsc->cancel_gen++;
}

/* ---- a connection ----------------------------------------------------------------------- */

/* The user code's counter as the card layer reads an answer to an empty VERIFY of reference 2
 * (a command without Le: exactly a status word, 61xx counting as success). */
static int user_code_tries(const uint8_t *cmd, size_t cmd_len, const uint8_t *resp, size_t len)
{
	if (cmd_len != 4 || cmd[1] != 0x20 || cmd[3] != 0x02 || len != 2)
		return -1;
	if (resp[0] == 0x90 && resp[1] == 0x00)
		return 3;
	if (resp[0] == 0x61)
		return 3;
	if (resp[0] == 0x63 && (resp[1] & 0xF0) == 0xC0 && (resp[1] & 0x0F) <= 3)
		return resp[1] & 0x0F;
	if (resp[0] == 0x69 && resp[1] == 0x83)
		return 0;
	return -1;
}

static enum p11u_io_rv fake_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                     size_t *resp_len)
{
	struct p11u_reader *conn = ctx;
	size_t n;
	enum p11u_io_rv io;

	FUZZ_CHECK(resp != NULL && resp_len != NULL && *resp_len >= 2,
	           "transmit without room for a status word");
	FUZZ_CHECK(fuzz_command_well_formed(cmd, cmd_len), "malformed command APDU (%zu bytes)",
	           cmd_len);
	switch (fuzz_command_class(cmd, cmd_len)) {
	case FUZZ_CMD_READ:
		break;
	case FUZZ_CMD_TEST_PROFILE:
		FUZZ_CHECK(conn->test_mark,
		           "test-profile command %02X %02X sent to a card whose ATR has no "
		           "P11UVCARD mark",
		           cmd[0], cmd[1]);
		break;
	case FUZZ_CMD_GEN1:
		FUZZ_CHECK(conn->hicos_mark,
		           "gen1 command %02X %02X sent to a card whose ATR has no CHT mark",
		           cmd[0], cmd[1]);
		break;
	case FUZZ_CMD_UNKNOWN:
		fuzz_fail("command %02X %02X is outside every card profile", cmd[0], cmd[1]);
	}
	FUZZ_CHECK(!world.guard_last_try || cmd[1] != 0x2C || (conn->in_tx && conn->uc_tries >= 2),
	           "RESET RETRY COUNTER without two user-code tries left read in its transaction "
	           "(counter %d): the last try spent implicitly",
	           conn->in_tx ? conn->uc_tries : -1);
	io = next(conn, FUZZ_OP_TRANSMIT, cmd, cmd_len, resp, *resp_len, &n);
	if (io == P11U_IO_OK) {
		*resp_len = n;
		if (cmd_len == 4 && cmd[1] == 0x20 && cmd[3] == 0x02)
			conn->uc_tries = user_code_tries(cmd, cmd_len, resp, n);
	}
	return io;
}

static enum p11u_io_rv fake_begin(void *ctx)
{
	struct p11u_reader *conn = ctx;
	size_t n;
	enum p11u_io_rv io;

	FUZZ_CHECK(!conn->in_tx, "nested PC/SC transaction");
	io = next(conn, FUZZ_OP_BEGIN, NULL, 0, NULL, 0, &n);
	if (io == P11U_IO_OK) {
		conn->in_tx = true;
		conn->uc_tries = -1; /* another process may have spent tries before */
	}
	return io;
}

static enum p11u_io_rv fake_end(void *ctx)
{
	struct p11u_reader *conn = ctx;

	conn->in_tx = false;
	if (conn->gone)
		return P11U_IO_REMOVED;
	/* A stalled connection ends the transaction when pcscd returns (reader.c). */
	return conn->stalled ? P11U_IO_TIMEOUT : P11U_IO_OK;
}

enum p11u_io_rv p11u_reader_connect(const char *reader, unsigned timeout_ms,
                                    struct p11u_reader **out)
{
	struct p11u_reader probe = {0}, *conn;
	size_t slot, n;
	enum p11u_io_rv io;

	(void)timeout_ms;
	*out = NULL;
	if (strcmp(reader, FAKE_READER_NAME) != 0)
		return P11U_IO_ERROR;
	if (world.empty || world.removed)
		return P11U_IO_NO_CARD;
	for (slot = 0; slot < MAX_CONNS && world.conns[slot] != NULL; slot++)
		;
	FUZZ_CHECK(slot < MAX_CONNS, "more than %d connections to one reader", MAX_CONNS);
	io = next(&probe, FUZZ_OP_CONNECT, NULL, 0, probe.atr, sizeof probe.atr, &n);
	if (io == P11U_IO_REMOVED)
		return P11U_IO_NO_CARD; /* what SCardConnect says for a card that left */
	if (io == P11U_IO_RESET || io == P11U_IO_BUFFER)
		io = P11U_IO_ERROR;
	if (io != P11U_IO_OK)
		return io;
	conn = calloc(1, sizeof *conn);
	if (conn == NULL)
		return P11U_IO_ERROR;
	memcpy(conn->atr, probe.atr, n);
	conn->atr_len = n;
	conn->test_mark = fuzz_atr_has_test_mark(conn->atr, conn->atr_len);
	conn->hicos_mark = fuzz_atr_has_hicos_mark(conn->atr, conn->atr_len);
	conn->transport.ctx = conn;
	conn->transport.transmit = fake_transmit;
	conn->transport.begin = fake_begin;
	conn->transport.end = fake_end;
	world.conns[slot] = conn;
	*out = conn;
	return P11U_IO_OK;
}

void p11u_reader_disconnect(struct p11u_reader *reader)
{
	if (reader == NULL)
		return;
	for (size_t i = 0; i < MAX_CONNS; i++)
		if (world.conns[i] == reader)
			world.conns[i] = NULL;
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
	size_t n;
	enum p11u_io_rv io = next(reader, FUZZ_OP_CHECK, NULL, 0, NULL, 0, &n);

	return io == P11U_IO_BUFFER ? P11U_IO_ERROR : io;
}

bool p11u_reader_stalled(struct p11u_reader *reader)
{
	bool stalled = reader->stalled;

	/* Asked once, pcscd returns: the connection works again. */
	reader->stalled = false;
	return stalled;
}
