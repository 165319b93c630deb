/* The card layer's public interface (card.h): argument and secret checks
 * before any I/O, the card kind's permission (operations table), and one PC/SC
 * transaction per operation.
 *
 * After a reset by someone else (transport P11U_IO_RESET): read-only steps run
 * once more; security operations return P11U_CARD_E_RESET, because the
 * verified PIN is gone and the caller must know.
 *
 * One p11u_card is used by one thread at a time (the caller serializes). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card/card-int.h"
#include "common/log.h"

static const char *const rv_names[] = {
    [P11U_CARD_OK] = "ok",
    [P11U_CARD_E_SECRET_INCORRECT] = "secret incorrect",
    [P11U_CARD_E_SECRET_BLOCKED] = "secret blocked",
    [P11U_CARD_E_SECRET_FORMAT] = "secret outside the format rules",
    [P11U_CARD_E_NOT_VERIFIED] = "PIN not verified",
    [P11U_CARD_E_NOT_SUPPORTED] = "not supported for this card kind",
    [P11U_CARD_E_UNRECOGNIZED] = "card not recognized",
    [P11U_CARD_E_REMOVED] = "card removed",
    [P11U_CARD_E_RESET] = "card reset by someone else",
    [P11U_CARD_E_DATA_LEN] = "input length wrong for the key",
    [P11U_CARD_E_BAD_RESPONSE] = "malformed or unexpected answer from the card",
    [P11U_CARD_E_COMM] = "transport error",
    [P11U_CARD_E_TIMEOUT] = "no answer within the deadline",
    [P11U_CARD_E_ARGS] = "bad arguments",
    [P11U_CARD_E_NO_MEMORY] = "out of memory",
};

const char *p11u_card_rv_str(enum p11u_card_rv rv)
{
	if ((size_t)rv < sizeof rv_names / sizeof rv_names[0] && rv_names[rv] != NULL)
		return rv_names[rv];
	return "unknown card result";
}

enum p11u_card_rv p11u_card_begin(struct p11u_card *card)
{
	enum p11u_io_rv io = P11U_IO_OK;

	if (card == NULL)
		return P11U_CARD_E_ARGS;
	if (card->tx_depth > 0) {
		card->tx_depth++;
		return P11U_CARD_OK;
	}
	if (card->transport->begin != NULL)
		io = card->transport->begin(card->transport->ctx);
	if (io != P11U_IO_OK) {
		/* The transaction is not held (after a reset: call again). */
		P11U_DEBUG(P11U_LOG_CARD, "begin transaction: transport result %d", (int)io);
		return p11u_card_rv_from_io(io);
	}
	card->tx_depth = 1;
	card->current_df = 0; /* another process may have moved the selection meanwhile */
	return P11U_CARD_OK;
}

void p11u_card_end(struct p11u_card *card)
{
	if (card == NULL || card->tx_depth == 0)
		return;
	if (--card->tx_depth > 0)
		return;
	if (card->transport->end != NULL) {
		enum p11u_io_rv io = card->transport->end(card->transport->ctx);
		if (io != P11U_IO_OK)
			P11U_DEBUG(P11U_LOG_CARD, "end transaction: transport result %d", (int)io);
	}
}

/* Whether a read-only step that just ended with rv runs once more. */
static bool read_again(enum p11u_card_rv rv, int attempt)
{
	if (rv != P11U_CARD_E_RESET || attempt > 0)
		return false;
	P11U_DEBUG(P11U_LOG_CARD, "card reset by someone else: reading again");
	return true;
}

static void free_certs(struct p11u_card *card)
{
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		free(card->info.certs[slot].der);
		card->info.certs[slot].der = NULL;
		card->info.certs[slot].len = 0;
	}
	p11u_hicos_dir_free(card->dir);
	card->dir = NULL;
	card->info.dir = NULL;
	card->info.from_cache = false;
	card->n_keys = 0;
}

/* Whether a card whose EF 0905 named no card of ours may be a gen2 card: it answered, but not
 * as a card of this profile (the transport's own failures end the identification). */
static bool may_be_gen2(enum p11u_card_rv rv)
{
	return rv == P11U_CARD_E_UNRECOGNIZED || rv == P11U_CARD_E_BAD_RESPONSE;
}

/* Which table the card gets: EF 0905 and the ATR, else the gen2 applet.  The first tries are
 * SELECT and READ BINARY of the test card's profile, the gen2 one a SELECT by AID: none of them
 * can cost a try on any card. */
static enum p11u_card_rv identify(struct p11u_card *card, const uint8_t *atr, size_t atr_len,
                                  char type[P11U_CARD_TYPE_LEN + 1])
{
	enum p11u_card_rv rv = p11u_files_read_card_type(card, type), gen2;

	if (rv == P11U_CARD_OK) {
		card->ops = p11u_profile_identify(atr, atr_len, type);
		if (card->ops != NULL)
			return P11U_CARD_OK;
		rv = P11U_CARD_E_UNRECOGNIZED;
	}
	if (!may_be_gen2(rv))
		return rv;
	gen2 = p11u_gen2_select_applet(card);
	if (gen2 != P11U_CARD_OK)
		return may_be_gen2(gen2) ? rv : gen2;
	P11U_DEBUG(P11U_LOG_CARD, "the GPPKI applet answers: %s", p11u_profile_gen2()->name);
	card->ops = p11u_profile_gen2();
	snprintf(type, P11U_CARD_TYPE_LEN + 1, "%s", P11U_GEN2_CARD_TYPE);
	return P11U_CARD_OK;
}

/* Identification and the public files, inside one transaction. */
static enum p11u_card_rv identify_and_read(struct p11u_card *card, const uint8_t *atr,
                                           size_t atr_len, const char *card_number)
{
	char type[P11U_CARD_TYPE_LEN + 1];
	const struct p11u_card_ops *ops;
	enum p11u_card_rv rv;

	free_certs(card);
	card->ops = NULL;
	card->short_paths = p11u_profile_atr_is_test(atr, atr_len);
	rv = identify(card, atr, atr_len, type);
	if (rv != P11U_CARD_OK)
		return rv;
	ops = card->ops;
	card->short_paths = ops->kind == P11U_CARD_KIND_TEST;
	card->info.kind = ops->kind;
	memcpy(card->info.card_type, type, sizeof card->info.card_type);
	/* Read for this insertion already (the fixed layout's read path does not ask again). */
	if (card_number != NULL)
		snprintf(card->info.card_number, sizeof card->info.card_number, "%s", card_number);
	rv = ops->read_public(card);
	if (rv != P11U_CARD_OK)
		return rv;
	return p11u_keys_load(card);
}

enum p11u_card_rv p11u_card_open(const struct p11u_transport *transport, const uint8_t *atr,
                                 size_t atr_len, struct p11u_card **out)
{
	return p11u_card_open_cached(transport, atr, atr_len, NULL, NULL, out);
}

enum p11u_card_rv p11u_card_open_cached(const struct p11u_transport *transport, const uint8_t *atr,
                                        size_t atr_len, const struct p11u_card_cache *cache,
                                        const char *card_number, struct p11u_card **out)
{
	struct p11u_card *card;
	enum p11u_card_rv rv;

	if (out == NULL)
		return P11U_CARD_E_ARGS;
	*out = NULL;
	if (transport == NULL || transport->transmit == NULL || (atr == NULL && atr_len > 0))
		return P11U_CARD_E_ARGS;
	card = calloc(1, sizeof *card);
	if (card == NULL)
		return P11U_CARD_E_NO_MEMORY;
	card->transport = transport;
	card->cache = cache;
	for (int attempt = 0;; attempt++) {
		rv = p11u_card_begin(card);
		if (rv == P11U_CARD_OK) {
			rv = identify_and_read(card, atr, atr_len, card_number);
			p11u_card_end(card);
		}
		if (!read_again(rv, attempt))
			break;
	}
	card->cache = NULL;
	if (rv != P11U_CARD_OK) {
		P11U_DEBUG(P11U_LOG_CARD, "open: %s", p11u_card_rv_str(rv));
		p11u_card_free(card);
		return rv;
	}
	P11U_DEBUG(P11U_LOG_CARD, "open: %s, card number %s", card->ops->name,
	           card->info.card_number);
	*out = card;
	return P11U_CARD_OK;
}

enum p11u_card_rv p11u_card_read_number(const struct p11u_transport *transport, const uint8_t *atr,
                                        size_t atr_len, char number[17])
{
	struct p11u_card card;
	enum p11u_card_rv rv;

	number[0] = '\0';
	if (transport == NULL || transport->transmit == NULL || (atr == NULL && atr_len > 0))
		return P11U_CARD_E_ARGS;
	memset(&card, 0, sizeof card);
	card.transport = transport;
	card.short_paths = p11u_profile_atr_is_test(atr, atr_len);
	for (int attempt = 0;; attempt++) {
		rv = p11u_card_begin(&card);
		if (rv == P11U_CARD_OK) {
			rv = p11u_files_read_card_number(&card);
			p11u_card_end(&card);
		}
		if (!read_again(rv, attempt))
			break;
	}
	if (rv == P11U_CARD_OK)
		snprintf(number, 17, "%s", card.info.card_number);
	P11U_DEBUG(P11U_LOG_CARD, "card number alone: %s",
	           rv == P11U_CARD_OK ? number : p11u_card_rv_str(rv));
	return rv;
}

void p11u_card_free(struct p11u_card *card)
{
	if (card == NULL)
		return;
	if (card->tx_depth > 0) {
		card->tx_depth = 1;
		p11u_card_end(card);
	}
	free_certs(card);
	free(card);
}

const struct p11u_card_info *p11u_card_info(const struct p11u_card *card)
{
	return card != NULL ? &card->info : NULL;
}

bool p11u_card_has_security_ops(const struct p11u_card *card)
{
	if (card == NULL || card->ops->verify == NULL)
		return false;
	if (card->ops->kind != P11U_CARD_KIND_GEN1)
		return true;
	/* gen1: once enabled, and with a key to use the login for. */
	return card->real_login && card->n_keys > 0;
}

bool p11u_card_pads_pkcs1(const struct p11u_card *card)
{
	return card != NULL && !card->ops->raw_rsa_only;
}

bool p11u_card_has_pin_management(const struct p11u_card *card)
{
	return card != NULL && card->ops->secret_state != NULL && card->ops->reset_pin != NULL;
}

void p11u_card_enable_real_login(struct p11u_card *card, bool enabled)
{
	if (card == NULL || card->ops->kind != P11U_CARD_KIND_GEN1)
		return;
	card->real_login = enabled;
	P11U_DEBUG(P11U_LOG_CARD, "first-generation card: PIN login %s",
	           enabled ? "enabled (hicos_login = yes)" : "off");
}

/* An operation this card kind does not get: refused here, nothing sent. */
static enum p11u_card_rv refuse(const struct p11u_card *card, const char *op)
{
	P11U_DEBUG(P11U_LOG_CARD,
	           "%s refused without card I/O: a %s (card type \"%s\") gets the read path only",
	           op, card->ops->name, card->info.card_type);
	return P11U_CARD_E_NOT_SUPPORTED;
}

/* gen1: the protected VERIFY is for the PIN, once enabled (hicos_login = yes). */
static enum p11u_card_rv refuse_real_login(const struct p11u_card *card, enum p11u_secret which)
{
	P11U_DEBUG(P11U_LOG_CARD,
	           "VERIFY refused without card I/O: a %s (card type \"%s\") gets the protected "
	           "VERIFY %s",
	           card->ops->name, card->info.card_type,
	           which != P11U_SECRET_PIN
	               ? "for its PIN only"
	               : "only with hicos_login = yes in p11unlock.conf (see the README)");
	return P11U_CARD_E_NOT_SUPPORTED;
}

static enum p11u_card_rv refuse_secret_format(const char *op, size_t len)
{
	P11U_DEBUG(P11U_LOG_CARD,
	           "%s refused without card I/O: a secret of %zu bytes outside the "
	           "profile's rules",
	           op, len);
	return P11U_CARD_E_SECRET_FORMAT;
}

static bool secret_ref_ok(enum p11u_secret which)
{
	return which == P11U_SECRET_PIN || which == P11U_SECRET_USER_CODE;
}

enum p11u_card_rv p11u_card_secret_state(struct p11u_card *card, enum p11u_secret which,
                                         struct p11u_secret_state *state)
{
	enum p11u_card_rv rv;

	if (card == NULL || state == NULL || !secret_ref_ok(which))
		return P11U_CARD_E_ARGS;
	if (card->ops->secret_state == NULL)
		return refuse(card, "secret state");
	for (int attempt = 0;; attempt++) {
		rv = p11u_card_begin(card);
		if (rv == P11U_CARD_OK) {
			rv = card->ops->secret_state(card, which, state);
			p11u_card_end(card);
		}
		if (!read_again(rv, attempt))
			return rv;
	}
}

enum p11u_card_rv p11u_card_verify(struct p11u_card *card, enum p11u_secret which,
                                   const uint8_t *secret, size_t len, int *tries_left)
{
	enum p11u_card_rv rv;

	if (card == NULL || !secret_ref_ok(which))
		return P11U_CARD_E_ARGS;
	if (card->ops->verify == NULL)
		return refuse(card, "VERIFY");
	if (card->ops->kind == P11U_CARD_KIND_GEN1 &&
	    (which != P11U_SECRET_PIN || !card->real_login))
		return refuse_real_login(card, which);
	if (!p11u_secret_format_ok(which, secret, len))
		return refuse_secret_format("VERIFY", len);
	rv = p11u_card_begin(card);
	if (rv != P11U_CARD_OK)
		return rv;
	rv = card->ops->verify(card, which, secret, len, tries_left);
	p11u_card_end(card);
	return rv;
}

enum p11u_card_rv p11u_card_change_pin(struct p11u_card *card, const uint8_t *old_pin,
                                       size_t old_len, const uint8_t *new_pin, size_t new_len,
                                       int *tries_left)
{
	enum p11u_card_rv rv;

	if (card == NULL)
		return P11U_CARD_E_ARGS;
	if (card->ops->change_pin == NULL)
		return refuse(card, "CHANGE REFERENCE DATA");
	if (!p11u_secret_format_ok(P11U_SECRET_PIN, new_pin, new_len))
		return refuse_secret_format("CHANGE REFERENCE DATA (new PIN)", new_len);
	if (!p11u_secret_format_ok(P11U_SECRET_PIN, old_pin, old_len))
		return refuse_secret_format("CHANGE REFERENCE DATA (old PIN)", old_len);
	rv = p11u_card_begin(card);
	if (rv != P11U_CARD_OK)
		return rv;
	rv = card->ops->change_pin(card, old_pin, old_len, new_pin, new_len, tries_left);
	p11u_card_end(card);
	return rv;
}

enum p11u_card_rv p11u_card_reset_pin(struct p11u_card *card, const uint8_t *user_code,
                                      size_t uc_len, const uint8_t *new_pin, size_t new_len,
                                      int *tries_left)
{
	enum p11u_card_rv rv;

	if (card == NULL)
		return P11U_CARD_E_ARGS;
	if (card->ops->reset_pin == NULL)
		return refuse(card, "RESET RETRY COUNTER");
	if (!p11u_secret_format_ok(P11U_SECRET_PIN, new_pin, new_len))
		return refuse_secret_format("RESET RETRY COUNTER (new PIN)", new_len);
	if (!p11u_secret_format_ok(P11U_SECRET_USER_CODE, user_code, uc_len))
		return refuse_secret_format("RESET RETRY COUNTER (user code)", uc_len);
	rv = p11u_card_begin(card);
	if (rv != P11U_CARD_OK)
		return rv;
	rv = card->ops->reset_pin(card, user_code, uc_len, new_pin, new_len, tries_left);
	p11u_card_end(card);
	return rv;
}

/* Checks shared by sign and decipher, before any I/O. */
static enum p11u_card_rv check_key_args(const struct p11u_card *card, enum p11u_keyref key,
                                        enum p11u_rsa_alg alg, bool sign, const uint8_t *in,
                                        size_t in_len, const uint8_t *out, const size_t *out_len)
{
	const struct p11u_card_key *k;

	if (in == NULL || out == NULL || out_len == NULL ||
	    (alg != P11U_RSA_RAW && alg != P11U_RSA_PKCS1) ||
	    (alg == P11U_RSA_PKCS1 && card->ops->raw_rsa_only))
		return P11U_CARD_E_ARGS;
	k = p11u_card_key(card, key);
	if (k == NULL)
		return P11U_CARD_E_ARGS;
	return p11u_keys_check_input(k, sign, alg, in, in_len);
}

enum p11u_card_rv p11u_card_sign(struct p11u_card *card, enum p11u_keyref key,
                                 enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                 uint8_t *out, size_t *out_len)
{
	enum p11u_card_rv rv;

	if (card == NULL)
		return P11U_CARD_E_ARGS;
	if (card->ops->sign == NULL)
		return refuse(card, "sign");
	rv = check_key_args(card, key, alg, true, in, in_len, out, out_len);
	if (rv != P11U_CARD_OK)
		return rv;
	/* The signature is exactly the modulus size. */
	if (*out_len < p11u_card_key(card, key)->size) {
		*out_len = p11u_card_key(card, key)->size;
		return P11U_CARD_E_ARGS;
	}
	rv = p11u_card_begin(card);
	if (rv != P11U_CARD_OK)
		return rv;
	rv = card->ops->sign(card, key, alg, in, in_len, out, out_len);
	p11u_card_end(card);
	return rv;
}

enum p11u_card_rv p11u_card_decipher(struct p11u_card *card, enum p11u_keyref key,
                                     enum p11u_rsa_alg alg, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t *out_len)
{
	enum p11u_card_rv rv;

	if (card == NULL)
		return P11U_CARD_E_ARGS;
	if (card->ops->decipher == NULL)
		return refuse(card, "decipher");
	rv = check_key_args(card, key, alg, false, in, in_len, out, out_len);
	if (rv != P11U_CARD_OK)
		return rv;
	/* The plaintext's length is known after deciphering: the buffer is checked then. */
	rv = p11u_card_begin(card);
	if (rv != P11U_CARD_OK)
		return rv;
	rv = card->ops->decipher(card, key, alg, in, in_len, out, out_len);
	p11u_card_end(card);
	return rv;
}

enum p11u_card_rv p11u_card_random(struct p11u_card *card, uint8_t *out, size_t len)
{
	enum p11u_card_rv rv;

	if (card == NULL || (out == NULL && len > 0))
		return P11U_CARD_E_ARGS;
	if (card->ops->random == NULL)
		return refuse(card, "GET CHALLENGE");
	if (len == 0)
		return P11U_CARD_OK;
	for (int attempt = 0;; attempt++) {
		rv = p11u_card_begin(card);
		if (rv == P11U_CARD_OK) {
			rv = card->ops->random(card, out, len);
			p11u_card_end(card);
		}
		if (!read_again(rv, attempt))
			return rv;
	}
}
