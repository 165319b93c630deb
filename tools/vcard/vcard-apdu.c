/* Command APDUs: parsing, class and instruction checks, command chaining,
 * response data (61xx / GET RESPONSE, T=0 behaviour), and the file commands
 * SELECT and READ BINARY.  The security and crypto commands are in
 * vcard-security.c.  docs/card-profile.md is the specification. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "vcard/vcard-internal.h"

#define CLA_PLAIN        0x80
#define CLA_CHAINED      0x90 /* command chaining: every segment but the last */
#define CLA_ISO          0x00 /* only for GET RESPONSE */
#define INS_GET_RESPONSE 0xC0

size_t vcard_respond_sw(uint8_t *resp, uint16_t sw)
{
	resp[0] = (uint8_t)(sw >> 8);
	resp[1] = (uint8_t)(sw & 0xff);
	return 2;
}

/* 61xx: xx bytes are waiting, 00 for 256 or more. */
static uint16_t sw_bytes_remaining(size_t n)
{
	return (uint16_t)(SW_BYTES_REMAINING | (n >= VCARD_SHORT_LE_MAX ? 0 : n));
}

static void pending_drop(struct vcard_session *s)
{
	OPENSSL_cleanse(&s->pending, sizeof(s->pending));
}

static bool pending_active(const struct vcard_session *s)
{
	return s->pending.off < s->pending.len;
}

/* Returns the next n waiting bytes, with 61xx while more wait, else 9000. */
static size_t pending_deliver(struct vcard *card, size_t n, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	size_t remaining;

	memcpy(resp, s->pending.data + s->pending.off, n);
	s->pending.off += n;
	remaining = s->pending.len - s->pending.off;
	if (remaining == 0) {
		pending_drop(s);
		return n + vcard_respond_sw(resp + n, SW_OK);
	}
	return n + vcard_respond_sw(resp + n, sw_bytes_remaining(remaining));
}

size_t vcard_respond_data(struct vcard *card, const uint8_t *data, size_t len, uint16_t sw,
                          bool secret, uint8_t *resp)
{
	struct vcard_session *s = &card->session;

	if (len == 0)
		return vcard_respond_sw(resp, sw);
	if (!card->t0 && len <= VCARD_SHORT_LE_MAX) {
		memcpy(resp, data, len);
		return len + vcard_respond_sw(resp + len, sw);
	}
	if (len > sizeof(s->pending.data))
		return vcard_respond_sw(resp,
		                        SW_MEMORY_FAILURE); /* cannot happen: callers bound it */
	pending_drop(s);
	memcpy(s->pending.data, data, len);
	s->pending.len = len;
	s->pending.secret = secret;
	/* T=0: every response with data is announced and fetched with GET RESPONSE. */
	if (card->t0)
		return vcard_respond_sw(resp, sw_bytes_remaining(len));
	return pending_deliver(card, VCARD_SHORT_LE_MAX, resp);
}

/* Parses a short APDU (ISO 7816-3 cases 1-4).  Extended length is not supported. */
static uint16_t parse_apdu(const uint8_t *apdu, size_t len, struct vcard_apdu *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 4)
		return SW_WRONG_LENGTH;
	a->cla = apdu[0];
	a->ins = apdu[1];
	a->p1 = apdu[2];
	a->p2 = apdu[3];
	if (len == 4)
		return 0; /* case 1 */
	if (len == 5) {
		a->has_le = true; /* case 2 */
		a->le = apdu[4] ? apdu[4] : VCARD_SHORT_LE_MAX;
		return 0;
	}
	if (apdu[4] == 0)
		return SW_WRONG_LENGTH; /* extended length */
	a->lc = apdu[4];
	a->data = apdu + 5;
	if (len == 5 + a->lc)
		return 0; /* case 3 */
	if (len == 6 + a->lc) {
		a->has_le = true; /* case 4 */
		a->le = apdu[5 + a->lc] ? apdu[5 + a->lc] : VCARD_SHORT_LE_MAX;
		return 0;
	}
	a->lc = 0;
	a->data = NULL;
	return SW_WRONG_LENGTH;
}

/* Files. */

#define ALL_VARIANTS (1u << VCARD_VARIANT_TEST | 1u << VCARD_VARIANT_GEN1 | 1u << VCARD_VARIANT_GEN2)
#define REAL_CARDS   (1u << VCARD_VARIANT_GEN1 | 1u << VCARD_VARIANT_GEN2)

static const struct file_def {
	enum vcard_file id;
	uint16_t fid;
	enum vcard_file parent;
	bool is_df;
	unsigned variants; /* bit n: enum vcard_variant n has it */
} files[] = {
    {VCARD_FILE_MF, 0x3F00, VCARD_FILE_NONE, true,
     1u << VCARD_VARIANT_TEST | 1u << VCARD_VARIANT_GEN1},
    {VCARD_FILE_DF_INFO, 0x0900, VCARD_FILE_MF, true, ALL_VARIANTS},
    {VCARD_FILE_DF_PKI, 0x5030, VCARD_FILE_MF, true, ALL_VARIANTS},
    {VCARD_FILE_EF_CARD_TYPE, 0x0905, VCARD_FILE_DF_INFO, false, ALL_VARIANTS},
    {VCARD_FILE_EF_CARD_NUMBER, 0x0903, VCARD_FILE_DF_INFO, false, ALL_VARIANTS},
    {VCARD_FILE_EF_CERT_STORE, 0x08F2, VCARD_FILE_DF_PKI, false, ALL_VARIANTS},
    {VCARD_FILE_EF_KEYS, 0x0810, VCARD_FILE_DF_PKI, false, REAL_CARDS},
    {VCARD_FILE_EF_PUBKEYS, 0x0811, VCARD_FILE_DF_PKI, false, REAL_CARDS},
};

/* The file a FID names from the current DF: the MF and the DFs below it from
 * anywhere, an EF only from its own DF. */
static const struct file_def *file_find(const struct vcard *card, uint16_t fid)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct file_def *f = &files[i];

		if (f->fid != fid || !(f->variants & (1u << card->data.variant)))
			continue;
		if (f->is_df || f->parent == card->session.current_df)
			return f;
	}
	return NULL;
}

static const uint8_t *file_content(const struct vcard *card, enum vcard_file ef, size_t *size)
{
	const struct vcard_dir_file *dir = &card->data.dir_files[card->session.current_dir_file];

	switch (ef) {
	case VCARD_FILE_EF_CARD_TYPE:
		*size = sizeof(card->data.card_type);
		return card->data.card_type;
	case VCARD_FILE_EF_CARD_NUMBER:
		*size = sizeof(card->data.card_number);
		return card->data.card_number;
	case VCARD_FILE_EF_CERT_STORE:
		*size = sizeof(card->data.cert_store);
		return card->data.cert_store;
	case VCARD_FILE_EF_DIR:
		*size = dir->len;
		return dir->data;
	default:
		*size = 0;
		return NULL;
	}
}

uint16_t vcard_select_fid(struct vcard *card, uint16_t fid)
{
	struct vcard_session *s = &card->session;
	const struct file_def *f = file_find(card, fid);
	int dir = vcard_dir_file_index(&card->data, fid);

	if (!f && dir >= 0 && s->current_df == VCARD_FILE_DF_PKI) {
		s->current_ef = VCARD_FILE_EF_DIR;
		s->current_dir_file = (size_t)dir;
		return SW_OK;
	}
	if (!f)
		return SW_FILE_NOT_FOUND;
	if (f->is_df) {
		s->current_df = f->id;
		s->current_ef = VCARD_FILE_NONE;
	} else {
		s->current_ef = f->id;
	}
	return SW_OK;
}

static size_t cmd_select(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	if (a->p1 != 0x00 || a->p2 != 0x00)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 2)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	return vcard_respond_sw(resp, vcard_select_fid(card, (uint16_t)(a->data[0] << 8 | a->data[1])));
}

size_t vcard_read_binary(struct vcard *card, const struct vcard_apdu *a, size_t le_max,
                         uint8_t *resp)
{
	const uint8_t *content;
	size_t size, offset, avail;

	if (a->p1 & 0x80)
		return vcard_respond_sw(resp,
		                        SW_WRONG_P1P2); /* short EF identifiers: not supported */
	if (a->lc != 0 || !a->has_le || a->le > le_max)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (card->session.current_ef == VCARD_FILE_EF_KEYS ||
	    card->session.current_ef == VCARD_FILE_EF_PUBKEYS)
		return vcard_respond_sw(resp, SW_NOT_ALLOWED); /* record files */
	content = file_content(card, card->session.current_ef, &size);
	if (!content)
		return vcard_respond_sw(resp, SW_FILE_NOT_FOUND); /* no current EF */
	offset = (size_t)a->p1 << 8 | a->p2;
	if (offset >= size)
		return vcard_respond_sw(resp, SW_WRONG_OFFSET);
	avail = size - offset;
	if (a->le <= avail)
		return vcard_respond_data(card, content + offset, a->le, SW_OK, false, resp);
	/* The read hits the end of the file.  A T=0 card asks for the exact length. */
	if (card->t0)
		return vcard_respond_sw(resp, (uint16_t)(SW_WRONG_LE | avail));
	return vcard_respond_data(card, content + offset, avail, SW_END_OF_FILE, false, resp);
}

static size_t cmd_read_binary(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	return vcard_read_binary(card, a, VCARD_SHORT_LE_MAX, resp);
}

size_t vcard_cmd_get_response(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	size_t remaining, avail;

	if (a->p1 != 0x00 || a->p2 != 0x00)
		return vcard_respond_sw(resp, SW_WRONG_P1P2);
	if (a->lc != 0 || !a->has_le)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	if (!pending_active(s))
		return vcard_respond_sw(resp, SW_NO_RESPONSE_DATA);
	remaining = s->pending.len - s->pending.off;
	avail = remaining < VCARD_SHORT_LE_MAX ? remaining : VCARD_SHORT_LE_MAX;
	if (card->t0 && a->le != avail)
		return vcard_respond_sw(resp, (uint16_t)(SW_WRONG_LE | (avail & 0xff)));
	return pending_deliver(card, a->le < avail ? a->le : avail, resp);
}

/* Instructions. */

static const struct command {
	uint8_t ins;
	bool chainable; /* takes command data, so CLA 0x90 is allowed */
	size_t (*run)(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp);
} commands[] = {
    {0xA4, true, cmd_select},
    {0xB0, false, cmd_read_binary},
    {0xC0, false, vcard_cmd_get_response},
    {0x20, true, vcard_cmd_verify},
    {0x24, true, vcard_cmd_change_reference_data},
    {0x2C, true, vcard_cmd_reset_retry_counter},
    {0x22, true, vcard_cmd_mse},
    {0x2A, true, vcard_cmd_pso},
    {0x84, false, vcard_cmd_get_challenge},
};

static const struct command *command_find(uint8_t ins)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].ins == ins)
			return &commands[i];
	return NULL;
}

static bool class_ok(const struct vcard_apdu *a, const struct command *cmd)
{
	if (a->cla == CLA_PLAIN)
		return true;
	if (a->cla == CLA_CHAINED)
		return cmd == NULL || cmd->chainable;
	return a->cla == CLA_ISO && a->ins == INS_GET_RESPONSE;
}

static bool is_get_response(const struct vcard_apdu *a)
{
	return a->ins == INS_GET_RESPONSE && (a->cla == CLA_PLAIN || a->cla == CLA_ISO);
}

/* Whether a log must hide this command's data and its response: commands carrying
 * secrets, PSO DECIPHER (its answer is plaintext) and the GET RESPONSE fetching it.
 * Decided from the raw bytes, so a malformed or refused command is hidden too. */
static bool command_is_secret(const struct vcard *card, const uint8_t *apdu, size_t len)
{
	if (len < 2)
		return false;
	switch (apdu[1]) {
	case 0x20: /* VERIFY */
	case 0x24: /* CHANGE REFERENCE DATA */
	case 0x2C: /* RESET RETRY COUNTER */
		return true;
	case 0x2A: /* PSO DECIPHER */
		return len >= 4 && apdu[2] == 0x80 && apdu[3] == 0x86;
	case INS_GET_RESPONSE:
		return pending_active(&card->session) && card->session.pending.secret;
	case 0xEA: /* gen1 raw RSA: its result may be plaintext */
	case 0xC1:
		return card->data.variant == VCARD_VARIANT_GEN1;
	default:
		return false;
	}
}

/* Chaining. */

static bool same_header(const struct vcard_apdu *a, uint8_t ins, uint8_t p1, uint8_t p2)
{
	return a->ins == ins && a->p1 == p1 && a->p2 == p2;
}

static void chain_drop(struct vcard_session *s)
{
	OPENSSL_cleanse(&s->chain, sizeof(s->chain));
}

/* Another command arrived while a chain was running: drop the chain and remember its
 * header, so that its next segment is answered 6883 instead of being taken for a new
 * command. */
static void chain_break(struct vcard_session *s)
{
	s->broken.valid = true;
	s->broken.ins = s->chain.ins;
	s->broken.p1 = s->chain.p1;
	s->broken.p2 = s->chain.p2;
	chain_drop(s);
}

static size_t chain_start(struct vcard *card, const struct vcard_apdu *a, uint8_t *resp)
{
	struct vcard_session *s = &card->session;

	if (a->lc == 0 || a->has_le)
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	s->chain.active = true;
	s->chain.ins = a->ins;
	s->chain.p1 = a->p1;
	s->chain.p2 = a->p2;
	memcpy(s->chain.data, a->data, a->lc);
	s->chain.len = a->lc;
	return vcard_respond_sw(resp, SW_OK);
}

static size_t chain_continue(struct vcard *card, const struct vcard_apdu *a,
                             const struct command *cmd, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	struct vcard_apdu whole;
	size_t n;

	if ((a->cla == CLA_CHAINED && (a->lc == 0 || a->has_le)) ||
	    s->chain.len + a->lc > VCARD_CHAIN_MAX) {
		chain_drop(s);
		return vcard_respond_sw(resp, SW_WRONG_LENGTH);
	}
	if (a->lc > 0)
		memcpy(s->chain.data + s->chain.len, a->data, a->lc);
	s->chain.len += a->lc;
	if (a->cla == CLA_CHAINED)
		return vcard_respond_sw(resp, SW_OK);

	/* The last segment: run the whole command. */
	whole = *a;
	whole.data = s->chain.data;
	whole.lc = s->chain.len;
	s->chain.active = false;
	n = cmd->run(card, &whole, resp);
	chain_drop(s);
	return n;
}

/* Picks up changes another process made to the state file (status, reset-user-code). */
static void refresh_from_state_file(struct vcard *card)
{
	struct vcard_data fresh;
	char err[512];

	if (!vcard_file_changed(card->state_path, &card->file_id))
		return;
	if (vcard_data_load(&fresh, card->state_path, &card->file_id, err, sizeof(err)) != 0) {
		fprintf(stderr,
		        "p11unlock-vcard: state file changed but cannot be read, "
		        "keeping the card's memory: %s\n",
		        err);
		return;
	}
	if (strcmp(fresh.pin, card->data.pin) != 0)
		card->session.pin_verified = false;
	if (strcmp(fresh.user_code, card->data.user_code) != 0)
		card->session.user_code_verified = false;
	vcard_data_clear(&card->data);
	card->data = fresh;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
}

size_t vcard_process(struct vcard *card, const uint8_t *apdu, size_t apdu_len, uint8_t *resp)
{
	struct vcard_session *s = &card->session;
	const struct command *cmd;
	struct vcard_apdu a;
	struct vcard_chain_header broken = s->broken;
	bool continues;
	uint16_t sw;

	refresh_from_state_file(card);
	card->last_secret = command_is_secret(card, apdu, apdu_len);
	s->broken.valid = false; /* it concerns this command only */

	sw = parse_apdu(apdu, apdu_len, &a);
	continues = s->chain.active && sw == 0 && (a.cla == CLA_PLAIN || a.cla == CLA_CHAINED) &&
	            same_header(&a, s->chain.ins, s->chain.p1, s->chain.p2);
	if (s->chain.active && !continues)
		chain_break(s);
	if (sw != 0 || !is_get_response(&a))
		pending_drop(s);
	if (sw != 0)
		return vcard_respond_sw(resp, sw);
	if (card->data.variant != VCARD_VARIANT_TEST)
		return vcard_hicos_command(card, &a, resp);

	cmd = command_find(a.ins);
	if (!class_ok(&a, cmd))
		return vcard_respond_sw(resp, SW_CLA_NOT_SUPPORTED);
	if (!cmd)
		return vcard_respond_sw(resp, SW_INS_NOT_SUPPORTED);
	if (continues)
		return chain_continue(card, &a, cmd, resp);
	if (broken.valid && same_header(&a, broken.ins, broken.p1, broken.p2))
		return vcard_respond_sw(resp, SW_LAST_OF_CHAIN_EXPECTED);
	if (a.cla == CLA_CHAINED)
		return chain_start(card, &a, resp);
	return cmd->run(card, &a, resp);
}
