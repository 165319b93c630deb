/* Slots: PC/SC readers, card presence and insertion, and C_WaitForSlotEvent.
 *
 * Each reader gets two fixed slot IDs for the life of the module: 2n for the card token and
 * 2n+1 for the user-code token (n = order in which the reader was first seen).  The readers
 * present at C_Initialize have their slots at once (names and pcscd's presence only, no card
 * I/O: Java's SunPKCS11 and conformance suites use slot IDs without asking for a list); readers
 * that appear later get the next n on the next C_GetSlotList or C_WaitForSlotEvent.  A reader
 * that goes away leaves its IDs unused.
 *
 * Cost model (NSS polls C_GetSlotInfo and C_GetSessionInfo every second): p11u_slot_sync()
 * reads presence from the reader monitor's report (src/pcsc/reader.h: memory, no pcscd round
 * trip) and asks pcscd only when that report disagrees with what the slot saw last; the card
 * is read once per insertion, by the first call that notices it, and the other new cards are
 * read at the same time.  Presence and the token are apart: while a card is read, the others
 * show the slot with a token in it.
 *
 * The card layer talks to a reader through the slot's transport, which gives up the module
 * lock around each PC/SC call: a slow or stalled card holds only its own slot's card lock. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/text.h"
#include "common/thread.h"
#include "pkcs11/cache.h"
#include "pkcs11/front.h"

/* C_WaitForSlotEvent wakes at least this often: the user-code token appears or disappears when
 * another call reads the counters, which pcscd does not report. */
#define WAIT_POLL_MS 1000
/* Back-off while pcscd is unreachable or a wait failed. */
#define WAIT_RETRY_NS (200 * 1000 * 1000L)
/* pcscd serves at most 16 readers; a wait covers that many. */
#define WAIT_READERS_MAX 16

bool p11u_token_present(const struct p11u_slot *slot, bool uc)
{
	return p11u_token_gen(slot, uc) != 0;
}

/* CKF_TOKEN_PRESENT: the token, or a card another call is still reading.  Saying "empty"
 * meanwhile would make a caller that polls (or lists slots) miss the insertion. */
static bool slot_shows_token(const struct p11u_slot *slot, bool uc)
{
	return p11u_token_present(slot, uc) || (!uc && slot->reading);
}

unsigned long p11u_token_gen(const struct p11u_slot *slot, bool uc)
{
	return uc ? slot->uc_gen : slot->card_gen;
}

static struct p11u_slot *slot_by_name(struct p11u_module *m, const char *name)
{
	for (size_t i = 0; i < m->n_slots; i++)
		if (strcmp(m->slots[i]->reader_name, name) == 0)
			return m->slots[i];
	return NULL;
}

/* Whether the card in the reader is the insertion this slot looked at last. */
static bool seen_insertion(const struct p11u_slot *slot, const struct p11u_reader_state *rs)
{
	return slot->have_event_count && slot->card_in_reader && rs->present &&
	       rs->event_count == slot->event_count;
}

/* Whether its number alone was read for this insertion (P11U_GetCardNumber). */
static bool peeked_insertion(const struct p11u_slot *slot, const struct p11u_reader_state *rs)
{
	return slot->have_peek && slot->peek_event_count == rs->event_count;
}

/* ---- the slot transport: the connection's, without the module lock ------------------- */

static const struct p11u_transport *conn_transport(struct p11u_slot *slot)
{
	/* Only the holder of the card lock talks to the card (front.h). */
	if (slot->conn == NULL || !p11u_slot_owned(slot)) {
		P11U_DEBUG(P11U_LOG_PCSC, "reader %s: card I/O without the card lock refused",
		           slot->reader_name);
		return NULL;
	}
	return p11u_reader_transport(slot->conn);
}

static enum p11u_io_rv slot_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                     size_t *resp_len)
{
	const struct p11u_transport *t = conn_transport(ctx);
	enum p11u_io_rv io;

	if (t == NULL)
		return P11U_IO_ERROR;
	p11u_module_unlock();
	io = t->transmit(t->ctx, cmd, cmd_len, resp, resp_len);
	p11u_module_lock();
	return io;
}

/* SCardBeginTransaction or SCardEndTransaction, without the module lock. */
static enum p11u_io_rv slot_transaction(void *ctx, bool begin)
{
	const struct p11u_transport *t = conn_transport(ctx);
	enum p11u_io_rv io;

	if (t == NULL)
		return P11U_IO_ERROR;
	p11u_module_unlock();
	io = begin ? t->begin(t->ctx) : t->end(t->ctx);
	p11u_module_lock();
	return io;
}

static enum p11u_io_rv slot_begin(void *ctx)
{
	return slot_transaction(ctx, true);
}

static enum p11u_io_rv slot_end(void *ctx)
{
	return slot_transaction(ctx, false);
}

/* ---- the slot table --------------------------------------------------------------------- */

static struct p11u_slot *slot_add(struct p11u_module *m, const char *name)
{
	struct p11u_slot **grown, *slot;

	grown = realloc(m->slots, (m->n_slots + 1) * sizeof *grown);
	if (grown == NULL)
		return NULL;
	m->slots = grown;
	slot = calloc(1, sizeof *slot);
	if (slot == NULL)
		return NULL;
	slot->reader_name = strdup(name);
	if (slot->reader_name == NULL) {
		free(slot);
		return NULL;
	}
	pthread_mutex_init(&slot->io_lock, NULL);
	slot->transport.ctx = slot;
	slot->transport.transmit = slot_transmit;
	slot->transport.begin = slot_begin;
	slot->transport.end = slot_end;
	slot->card_slot_id = 2 * (CK_SLOT_ID)m->n_slots;
	m->slots[m->n_slots++] = slot;
	P11U_DEBUG(P11U_LOG_PCSC, "reader %s: slots %lu and %lu", name, slot->card_slot_id,
	           slot->card_slot_id + 1);
	return slot;
}

/* Closes the slot's connection, without the module lock: closing waits for pcscd a moment
 * (never for a stalled connection, which its I/O thread closes when pcscd returns). */
static void close_connection(struct p11u_slot *slot)
{
	struct p11u_reader *conn = slot->conn;

	if (conn == NULL)
		return;
	slot->conn = NULL;
	p11u_module_unlock();
	p11u_reader_disconnect(conn);
	p11u_module_lock();
}

/* Forgets the card object, its objects and logins; the connection stays.  The card is freed
 * last: freeing may end a transaction, which gives up the module lock. */
static void forget_card(struct p11u_module *m, struct p11u_slot *slot)
{
	struct p11u_card *card = slot->card;

	p11u_token_logout(m, slot, true);
	p11u_token_logout(m, slot, false);
	p11u_objects_free(&slot->objects);
	memset(&slot->objects, 0, sizeof slot->objects);
	slot->card = NULL;
	slot->info = NULL;
	slot->uc_gen = 0;
	memset(&slot->counters, 0, sizeof slot->counters);
	slot->label[0] = '\0';
	if (card != NULL)
		p11u_card_free(card);
}

void p11u_slot_drop_card(struct p11u_module *m, struct p11u_slot *slot)
{
	if (slot->state != P11U_TOKEN_NONE)
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: token closed", slot->reader_name);
	slot->state = P11U_TOKEN_NONE;
	slot->card_gen = 0;
	slot->have_peek = false;
	forget_card(m, slot);
	close_connection(slot);
}

void p11u_slot_stalled(struct p11u_module *m, struct p11u_slot *slot)
{
	if (slot->state == P11U_TOKEN_STALLED)
		return;
	P11U_DEBUG(P11U_LOG_CARD,
	           "reader %s: the card did not answer within %u s: no token until it answers "
	           "again or is taken out",
	           slot->reader_name, m->config.card_timeout);
	slot->state = P11U_TOKEN_STALLED;
	slot->card_gen = ++m->generation;
	forget_card(m, slot);
}

static void set_unrecognized(struct p11u_module *m, struct p11u_slot *slot, const char *why)
{
	P11U_DEBUG(P11U_LOG_CARD, "reader %s: card not recognized (%s)", slot->reader_name, why);
	slot->state = P11U_TOKEN_UNRECOGNIZED;
	slot->card_gen = ++m->generation;
}

/* Opens a connection (without the module lock: it may take up to card_timeout). */
static enum p11u_io_rv connect_reader(struct p11u_module *m, struct p11u_slot *slot)
{
	struct p11u_reader *conn = NULL;
	enum p11u_io_rv io;

	p11u_module_unlock();
	io = p11u_reader_connect(slot->reader_name, m->config.card_timeout * 1000U, &conn);
	p11u_module_lock();
	slot->conn = conn;
	return io;
}

/* The connection and the card of a failed insertion. */
static void discard_insertion(struct p11u_slot *slot, struct p11u_card *card)
{
	if (card != NULL)
		p11u_card_free(card);
	close_connection(slot);
}

/* The token a recognized card gets. */
static enum p11u_token_state token_state_of(const struct p11u_card *card, bool with_keys)
{
	if (!with_keys)
		return P11U_TOKEN_READ_ONLY;
	return p11u_card_has_pin_management(card) ? P11U_TOKEN_FULL : P11U_TOKEN_HICOS;
}

/* A card was inserted: identify it, read its public files once and build the objects. */
static void insert_card(struct p11u_module *m, struct p11u_slot *slot,
                        const struct p11u_reader_state *rs)
{
	struct p11u_object_options opts;
	struct p11u_card *card;
	const char *known_number;
	const uint8_t *atr;
	size_t atr_len;
	enum p11u_io_rv io;
	enum p11u_card_rv crv;
	CK_RV rv;

	if (rs->mute) {
		set_unrecognized(m, slot, "mute");
		return;
	}
	io = connect_reader(m, slot);
	if (io == P11U_IO_NO_CARD) {
		/* Gone again, or not powered yet: look again next time. */
		slot->have_event_count = false;
		return;
	}
	if (io == P11U_IO_TIMEOUT) {
		/* Not again for this insertion: each try would leave a thread in pcscd. */
		p11u_slot_stalled(m, slot);
		return;
	}
	if (io != P11U_IO_OK) {
		set_unrecognized(m, slot, "cannot connect");
		return;
	}
	atr = p11u_reader_atr(slot->conn, &atr_len);
	/* A number read alone for this very insertion (P11U_GetCardNumber) is not asked again. */
	known_number = peeked_insertion(slot, rs) ? slot->peek_number : NULL;
	crv = p11u_card_open_cached(&slot->transport, atr, atr_len, p11u_cache_of(&m->config),
	                            known_number, &card);
	slot->have_peek = false;
	if (crv == P11U_CARD_E_TIMEOUT) {
		p11u_slot_stalled(m, slot); /* the connection stays, to see it answer again */
		return;
	}
	if (crv != P11U_CARD_OK) {
		discard_insertion(slot, NULL);
		if (crv == P11U_CARD_E_REMOVED)
			slot->have_event_count = false;
		else
			set_unrecognized(m, slot, p11u_card_rv_str(crv));
		return;
	}
	const struct p11u_card_info *info = p11u_card_info(card);
	if (info->kind == P11U_CARD_KIND_TEST && !m->config.allow_test_cards) {
		/* A fake card offered through a network reader must never receive a PIN. */
		P11U_DEBUG(
		    P11U_LOG_CARD,
		    "reader %s: p11unlock test card %s gets no token: allow_test_cards is off",
		    slot->reader_name, info->card_number);
		slot->withheld = true;
		snprintf(slot->withheld_number, sizeof slot->withheld_number, "%s",
		         info->card_number);
		snprintf(slot->withheld_type, sizeof slot->withheld_type, "%s", info->card_type);
		discard_insertion(slot, card);
		return;
	}
	/* gen1: the protected VERIFY only with hicos_login = yes (the card layer checks it too). */
	p11u_card_enable_real_login(card, m->config.hicos_login);
	opts.private_keys = p11u_card_has_security_ops(card);
	opts.status_object = opts.private_keys && p11u_card_has_pin_management(card);
	rv = p11u_objects_build(info, &opts, &slot->objects);
	if (rv != CKR_OK) {
		p11u_objects_free(&slot->objects);
		memset(&slot->objects, 0, sizeof slot->objects);
		discard_insertion(slot, card);
		set_unrecognized(m, slot, "objects could not be built");
		return;
	}
	slot->card = card;
	slot->info = info;
	slot->state = token_state_of(card, opts.private_keys);
	slot->card_gen = ++m->generation;
	P11U_DEBUG(P11U_LOG_CARD, "reader %s: card %s, type \"%s\": %s token, %zu objects",
	           slot->reader_name, info->card_number, info->card_type,
	           slot->state == P11U_TOKEN_FULL    ? "full"
	           : slot->state == P11U_TOKEN_HICOS ? "login (no PIN management)"
	                                             : "read-only",
	           slot->objects.count);
	p11u_token_setup(m, slot);
}

/* SCardStatus on the connection, without the module lock. */
static enum p11u_io_rv check_reader(struct p11u_slot *slot)
{
	enum p11u_io_rv io;

	p11u_module_unlock();
	io = p11u_reader_check(slot->conn);
	p11u_module_lock();
	return io;
}

/* Whether the monitor's report (memory, no pcscd round trip) says the reader is as this slot
 * last saw it: the same insertion (pcscd's event counter) or still no card.  A report that
 * disagrees may only lag behind: the caller then asks pcscd. */
static bool unchanged_by_events(struct p11u_module *m, const struct p11u_slot *slot)
{
	struct p11u_reader_state rs;

	if (m->pcsc == NULL || !slot->have_event_count || slot->state == P11U_TOKEN_STALLED ||
	    p11u_pcsc_known_state(m->pcsc, slot->reader_name, &rs) != P11U_IO_OK)
		return false;
	return rs.event_count == slot->event_count && rs.present == slot->card_in_reader &&
	       !rs.mute;
}

/* pcscd's event counter and presence as this slot last saw them. */
static void note_reader_state(struct p11u_slot *slot, const struct p11u_reader_state *rs)
{
	slot->have_event_count = true;
	slot->event_count = rs->event_count;
	slot->card_in_reader = rs->present;
}

/* ---- reading several cards at once --------------------------------------------------------- */

/* The reader's state: the monitor's report, else pcscd's answer. */
static bool reader_state_now(struct p11u_module *m, const struct p11u_slot *slot,
                             struct p11u_reader_state *rs)
{
	return m->pcsc != NULL &&
	       (p11u_pcsc_known_state(m->pcsc, slot->reader_name, rs) == P11U_IO_OK ||
	        p11u_pcsc_reader_state(m->pcsc, slot->reader_name, rs) == P11U_IO_OK);
}

/* Whether another slot holds a card no call has read yet, that nobody is reading or about to
 * read, and whose number alone was not asked for (P11U_GetCardNumber: a program looking for
 * another card; that card is read when its own token is needed). */
static bool unread_insertion(struct p11u_module *m, const struct p11u_slot *slot)
{
	struct p11u_reader_state rs;

	if (!slot->listed || slot->read_queued || slot->reading || slot->io_owned ||
	    !reader_state_now(m, slot, &rs) || !rs.present || rs.mute)
		return false;
	return !peeked_insertion(slot, &rs) && !seen_insertion(slot, &rs);
}

struct read_job {
	struct p11u_module *m;
	struct p11u_slot *slot;
};

/* A card read in a thread of its own: counted as a call, so C_Finalize waits for it. */
static void *read_card_main(void *arg)
{
	struct read_job job = *(struct read_job *)arg;

	free(arg);
	p11u_module_lock();
	job.slot->read_queued = false;
	if (!job.m->finalizing)
		p11u_slot_sync(job.m, job.slot); /* skipped when a call has the card already */
	job.m->calls--;
	p11u_module_unlock();
	return NULL;
}

/* A call is about to read the card in its own slot: the cards inserted in other readers and not
 * read yet are read meanwhile, each in a thread (their PC/SC calls run without the module lock),
 * so that a program that lists every token waits for about one card, not for each in turn. */
static void read_others_at_once(struct p11u_module *m, const struct p11u_slot *self)
{
	for (size_t i = 0; i < m->n_slots; i++) {
		struct p11u_slot *slot = m->slots[i];
		struct read_job *job;

		if (slot == self || !unread_insertion(m, slot))
			continue;
		job = malloc(sizeof *job);
		if (job == NULL)
			break;
		job->m = m;
		job->slot = slot;
		slot->read_queued = true;
		m->calls++;
		if (p11u_thread_start(NULL, true, read_card_main, job) != 0) {
			slot->read_queued = false;
			m->calls--;
			free(job);
			break;
		}
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: its card is read at the same time",
		           slot->reader_name);
	}
}

/* p11u_slot_sync() for the holder of the card lock. */
static void sync_owned(struct p11u_module *m, struct p11u_slot *slot)
{
	struct p11u_reader_state rs;
	bool at_start;

	if (slot->conn != NULL && slot->state == P11U_TOKEN_STALLED &&
	    !p11u_reader_stalled(slot->conn)) {
		/* pcscd returned at last: read the card again, as after an insertion. */
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: the card answers again", slot->reader_name);
		p11u_slot_drop_card(m, slot);
		slot->have_event_count = false;
	}
	/* The common case, as NSS polls: nothing happened in the reader.  A reset by another
	 * process is not a reader event: the next command to the card reports it. */
	if (unchanged_by_events(m, slot))
		return;
	if (slot->conn != NULL && slot->state != P11U_TOKEN_STALLED) {
		switch (check_reader(slot)) {
		case P11U_IO_OK:
			return;
		case P11U_IO_RESET:
			p11u_token_card_result(m, slot, P11U_CARD_E_RESET);
			return;
		case P11U_IO_TIMEOUT:
			p11u_slot_stalled(m, slot);
			return;
		case P11U_IO_ERROR:
			/* Not necessarily a new card: read it again below. */
			p11u_slot_drop_card(m, slot);
			slot->have_event_count = false;
			break;
		default:
			p11u_slot_drop_card(m, slot);
			break;
		}
	}
	if (m->pcsc == NULL ||
	    p11u_pcsc_reader_state(m->pcsc, slot->reader_name, &rs) != P11U_IO_OK) {
		/* Reader unplugged or pcscd gone. */
		slot->withheld = false;
		slot->start_card = false;
		if (slot->state != P11U_TOKEN_NONE)
			p11u_slot_drop_card(m, slot);
		slot->have_event_count = false;
		return;
	}
	if (!rs.present) {
		slot->withheld = false;
		slot->start_card = false;
		if (slot->state != P11U_TOKEN_NONE)
			p11u_slot_drop_card(m, slot);
		note_reader_state(slot, &rs);
		return;
	}
	if (seen_insertion(slot, &rs))
		return; /* the same insertion as before: nothing new (a stalled card stays so) */
	if (slot->state != P11U_TOKEN_NONE)
		p11u_slot_drop_card(m, slot);
	note_reader_state(slot, &rs);
	slot->withheld = false;
	at_start = slot->start_card && rs.event_count == slot->start_event_count;
	slot->reading = true;
	read_others_at_once(m, slot);
	insert_card(m, slot, &rs);
	slot->reading = false;
	if (at_start) {
		slot->reported_card_gen = slot->card_gen;
		slot->reported_uc_gen = slot->uc_gen;
	}
	/* Read (or refused) for good: a later token in this reader is an event.  An insertion
	 * to be looked at again (not powered yet) keeps it. */
	if (slot->have_event_count)
		slot->start_card = false;
}

/* The card lock for a moment, for work that can be skipped while another call uses the
 * card: true when the caller may go on (*taken: give it back with card_lock_end). */
static bool card_lock_try(struct p11u_slot *slot, bool *taken)
{
	*taken = false;
	if (p11u_slot_owned(slot))
		return true;
	if (pthread_mutex_trylock(&slot->io_lock) != 0)
		return false;
	slot->io_owner = pthread_self();
	slot->io_owned = true;
	*taken = true;
	return true;
}

static void card_lock_end(struct p11u_slot *slot, bool taken)
{
	if (!taken)
		return;
	slot->io_owned = false;
	pthread_mutex_unlock(&slot->io_lock);
}

void p11u_slot_sync(struct p11u_module *m, struct p11u_slot *slot)
{
	bool taken;

	/* A card another call works with is left alone: that call notices changes itself. */
	if (!card_lock_try(slot, &taken))
		return;
	sync_owned(m, slot);
	card_lock_end(slot, taken);
}

/* Brings the reader table in line with pcscd's reader list.  Readers seen for the first time
 * are synced; with quiet, their tokens count as already reported to C_WaitForSlotEvent. */
static void slots_update(struct p11u_module *m, bool quiet)
{
	char **names = NULL;

	if (m->pcsc == NULL && p11u_pcsc_open(&m->pcsc) != P11U_IO_OK) {
		m->pcsc = NULL;
		for (size_t i = 0; i < m->n_slots; i++)
			m->slots[i]->listed = false;
		return;
	}
	/* The monitor's list when it has one (no pcscd round trip), else pcscd's. */
	if (p11u_pcsc_known_readers(m->pcsc, &names) != P11U_IO_OK &&
	    p11u_pcsc_list_readers(m->pcsc, &names) != P11U_IO_OK) {
		/* pcscd went away (or was restarted): start over with a new context, unless a
		 * C_WaitForSlotEvent is using this one right now. */
		P11U_DEBUG(P11U_LOG_PCSC, "reader list unavailable");
		for (size_t i = 0; i < m->n_slots; i++) {
			struct p11u_slot *slot = m->slots[i];
			bool taken;

			slot->listed = false;
			if (!card_lock_try(slot, &taken))
				continue; /* its call meets the same failure */
			p11u_slot_drop_card(m, slot);
			slot->have_event_count = false;
			card_lock_end(slot, taken);
		}
		if (m->waiters == 0) {
			p11u_pcsc_close(m->pcsc);
			m->pcsc = NULL;
		}
		return;
	}
	for (size_t i = 0; i < m->n_slots; i++)
		m->slots[i]->listed = false;
	for (char **name = names; *name != NULL; name++) {
		struct p11u_slot *slot = slot_by_name(m, *name);
		bool is_new = slot == NULL;

		if (is_new)
			slot = slot_add(m, *name);
		if (slot == NULL)
			continue;
		slot->listed = true;
		if (is_new) {
			p11u_slot_sync(m, slot);
			if (quiet) {
				slot->reported_card_gen = slot->card_gen;
				slot->reported_uc_gen = slot->uc_gen;
			}
		}
	}
	p11u_pcsc_free_names(names);
}

void p11u_slots_enumerate(struct p11u_module *m)
{
	char **names = NULL;

	if (m->pcsc == NULL || p11u_pcsc_list_readers(m->pcsc, &names) != P11U_IO_OK)
		return;
	for (char **name = names; *name != NULL; name++) {
		struct p11u_slot *slot = slot_add(m, *name);
		struct p11u_reader_state rs;

		if (slot == NULL)
			continue;
		slot->listed = true;
		/* PKCS#11: slot events are changes since C_Initialize.  pcscd's counter marks the
		 * card there now, so that a card put in before the first look is still one. */
		if (p11u_pcsc_reader_state(m->pcsc, *name, &rs) == P11U_IO_OK && rs.present) {
			slot->start_card = true;
			slot->start_event_count = rs.event_count;
		}
	}
	p11u_pcsc_free_names(names);
}

CK_RV p11u_slots_get_list(struct p11u_module *m, bool token_present, CK_SLOT_ID_PTR list,
                          CK_ULONG_PTR count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	/* PKCS#11: the list is refreshed on the size query; the call that fills the buffer
	 * returns that same list.  Without a size query (or with another tokenPresent), the
	 * list is made afresh. */
	if (list == NULL || m->slot_list == NULL || token_present != m->slot_list_token_present) {
		CK_SLOT_ID *ids;
		CK_ULONG n = 0;
		size_t n_slots;

		slots_update(m, true);
		/* Reading a card gives up the module lock: other calls may add readers meanwhile,
		 * which the next list shows. */
		n_slots = m->n_slots;
		ids = calloc(2 * n_slots + 1, sizeof *ids);
		if (ids == NULL)
			return CKR_HOST_MEMORY;
		for (size_t i = 0; i < n_slots; i++) {
			struct p11u_slot *slot = m->slots[i];

			if (!slot->listed)
				continue;
			if (token_present)
				p11u_slot_sync(m, slot);
			for (int uc = 0; uc <= 1; uc++)
				if (!token_present || slot_shows_token(slot, uc))
					ids[n++] = slot->card_slot_id + (CK_SLOT_ID)uc;
		}
		free(m->slot_list);
		m->slot_list = ids;
		m->slot_list_len = n;
		m->slot_list_token_present = token_present;
	}
	if (list == NULL) {
		*count = m->slot_list_len;
		return CKR_OK;
	}
	if (*count < m->slot_list_len) {
		*count = m->slot_list_len;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(list, m->slot_list, m->slot_list_len * sizeof *list);
	*count = m->slot_list_len;
	return CKR_OK;
}

/* Reads the number of a card no call has read yet, alone, and keeps it for the insertion. */
static CK_RV peek_number(struct p11u_module *m, struct p11u_slot *slot,
                         const struct p11u_reader_state *rs)
{
	const uint8_t *atr;
	size_t atr_len;
	enum p11u_io_rv io;
	enum p11u_card_rv crv;

	if (slot->state != P11U_TOKEN_NONE)
		p11u_slot_drop_card(m, slot); /* the card read before is gone */
	if (rs->mute)
		return CKR_TOKEN_NOT_RECOGNIZED;
	io = connect_reader(m, slot);
	if (io != P11U_IO_OK) {
		close_connection(slot);
		return io == P11U_IO_NO_CARD ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_ERROR;
	}
	atr = p11u_reader_atr(slot->conn, &atr_len);
	crv = p11u_card_read_number(&slot->transport, atr, atr_len, slot->peek_number);
	/* Not kept: the card is read, or left alone, when its token is needed. */
	close_connection(slot);
	if (crv != P11U_CARD_OK)
		return crv == P11U_CARD_E_TIMEOUT || crv == P11U_CARD_E_COMM
		           ? CKR_DEVICE_ERROR
		           : CKR_TOKEN_NOT_RECOGNIZED;
	slot->have_peek = true;
	slot->peek_event_count = rs->event_count;
	return CKR_OK;
}

CK_RV p11u_slot_card_number(struct p11u_call *call, CK_SLOT_ID id, char number[17])
{
	struct p11u_module *m = call->m;
	struct p11u_reader_state rs;
	struct p11u_slot *slot;
	bool uc;
	CK_RV rv = p11u_slot_by_id(m, id, &slot, &uc);

	if (rv == CKR_OK)
		rv = p11u_slot_claim(call, slot);
	if (rv != CKR_OK)
		return rv;
	/* pcscd's answer, not the monitor's report: the number is kept for this event count. */
	if (m->pcsc == NULL ||
	    p11u_pcsc_reader_state(m->pcsc, slot->reader_name, &rs) != P11U_IO_OK || !rs.present)
		return CKR_TOKEN_NOT_PRESENT;
	if (seen_insertion(slot, &rs)) {
		/* Seen before: what is known of it. */
		p11u_slot_sync(m, slot);
		if (slot->info != NULL)
			snprintf(number, 17, "%s", slot->info->card_number);
		else if (slot->withheld)
			snprintf(number, 17, "%s", slot->withheld_number);
		else
			return slot->state == P11U_TOKEN_STALLED ? CKR_DEVICE_ERROR
			                                         : CKR_TOKEN_NOT_RECOGNIZED;
		return CKR_OK;
	}
	if (!peeked_insertion(slot, &rs)) {
		rv = peek_number(m, slot, &rs);
		if (rv != CKR_OK)
			return rv;
	}
	snprintf(number, 17, "%s", slot->peek_number);
	return CKR_OK;
}

CK_RV p11u_slot_by_id(struct p11u_module *m, CK_SLOT_ID id, struct p11u_slot **slot, bool *uc)
{
	if (id / 2 >= m->n_slots)
		return CKR_SLOT_ID_INVALID;
	*slot = m->slots[id / 2];
	*uc = (id & 1) != 0;
	return CKR_OK;
}

/* p11u_slot_sync(), then, when another thread is reading the slot's card, a wait (without
 * the module lock) until that read has ended: CKR_DEVICE_ERROR after twice card_timeout,
 * CKR_CRYPTOKI_NOT_INITIALIZED when C_Finalize began meanwhile. */
static CK_RV sync_after_read(struct p11u_module *m, struct p11u_slot *slot)
{
	p11u_slot_sync(m, slot);
	if (!slot->reading || p11u_slot_owned(slot))
		return CKR_OK;
	if (!p11u_card_lock_wait(m, slot))
		return CKR_DEVICE_ERROR;
	pthread_mutex_unlock(&slot->io_lock);
	if (m->finalizing)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	p11u_slot_sync(m, slot);
	return CKR_OK;
}

CK_RV p11u_slot_lookup(struct p11u_module *m, CK_SLOT_ID id, struct p11u_slot **slot, bool *uc)
{
	CK_RV rv = p11u_slot_by_id(m, id, slot, uc);

	if (rv != CKR_OK)
		return rv;
	/* The slot shows a token another call is still reading: not "no token" to a caller that
	 * needs it, but a wait for that call. */
	return sync_after_read(m, *slot);
}

CK_RV p11u_slot_get_info(struct p11u_module *m, CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
	struct p11u_slot *slot;
	char description[160];
	bool uc;
	CK_RV rv;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = p11u_slot_lookup(m, id, &slot, &uc);
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof *info);
	if (uc)
		snprintf(description, sizeof description, "User code: %s", slot->reader_name);
	else
		snprintf(description, sizeof description, "%s", slot->reader_name);
	/* A reader's name comes from its driver (a virtual reader's from anyone). */
	p11u_text_sanitize(description);
	p11u_pad(info->slotDescription, sizeof info->slotDescription, description);
	p11u_pad(info->manufacturerID, sizeof info->manufacturerID, "p11unlock");
	info->flags = CKF_REMOVABLE_DEVICE;
	if (!uc)
		info->flags |= CKF_HW_SLOT;
	if (slot_shows_token(slot, uc))
		info->flags |= CKF_TOKEN_PRESENT;
	return CKR_OK;
}

void p11u_slots_free(struct p11u_module *m)
{
	for (size_t i = 0; i < m->n_slots; i++) {
		p11u_slot_drop_card(m, m->slots[i]);
		pthread_mutex_destroy(&m->slots[i]->io_lock);
		free(m->slots[i]->reader_name);
		free(m->slots[i]);
	}
	free(m->slots);
	free(m->slot_list);
	m->slots = NULL;
	m->n_slots = 0;
	m->slot_list = NULL;
	m->slot_list_len = 0;
}

void p11u_slots_wipe_secrets(struct p11u_module *m)
{
	for (size_t i = 0; i < m->n_slots; i++)
		OPENSSL_cleanse(&m->slots[i]->card_secret, sizeof m->slots[i]->card_secret);
}

/* One slot whose token changed since it was last reported (CKR_OK), or CKR_NO_EVENT. */
static CK_RV take_event(struct p11u_module *m, CK_SLOT_ID_PTR slot_id)
{
	for (size_t i = 0; i < m->n_slots; i++) {
		struct p11u_slot *slot = m->slots[i];
		/* A card another thread is reading gets its generations (and, for the card of
		 * C_Initialize, its reported ones) in steps, the module lock given up between them:
		 * only the end of that read tells whether there is an event. */
		CK_RV rv = sync_after_read(m, slot);

		if (rv == CKR_CRYPTOKI_NOT_INITIALIZED)
			return rv;
		if (slot->reading)
			continue; /* not read within the deadline: looked at again later */
		if (slot->card_gen != slot->reported_card_gen) {
			slot->reported_card_gen = slot->card_gen;
			*slot_id = slot->card_slot_id;
			return CKR_OK;
		}
		if (slot->uc_gen != slot->reported_uc_gen) {
			slot->reported_uc_gen = slot->uc_gen;
			*slot_id = slot->card_slot_id + 1;
			return CKR_OK;
		}
	}
	return CKR_NO_EVENT;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {0, ns};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits (without the module lock) for pcscd to report a change, or WAIT_POLL_MS. */
static CK_RV wait_for_change(struct p11u_call *call)
{
	struct p11u_module *m = call->m;
	const char *names[WAIT_READERS_MAX];
	char *copies[WAIT_READERS_MAX];
	struct p11u_pcsc *pcsc = m->pcsc;
	size_t n = 0;
	enum p11u_io_rv io = P11U_IO_ERROR;
	unsigned cancel_gen = pcsc != NULL ? p11u_pcsc_cancel_gen(pcsc) : 0;
	CK_RV rv;

	for (size_t i = 0; i < m->n_slots && n < WAIT_READERS_MAX; i++) {
		if (!m->slots[i]->listed)
			continue;
		copies[n] = strdup(m->slots[i]->reader_name);
		if (copies[n] == NULL)
			break;
		names[n] = copies[n];
		n++;
	}
	p11u_call_suspend(call);
	if (pcsc != NULL)
		io = p11u_pcsc_wait_change(pcsc, cancel_gen, names, n, WAIT_POLL_MS);
	for (size_t i = 0; i < n; i++)
		free(copies[i]);
	rv = p11u_call_resume(call);
	if (rv == CKR_OK && io != P11U_IO_OK) {
		/* pcscd unreachable (a cancel comes from C_Finalize, seen by resume): back off
		 * without the lock rather than spin. */
		p11u_call_suspend(call);
		sleep_ns(WAIT_RETRY_NS);
		rv = p11u_call_resume(call);
	}
	return rv;
}

CK_RV p11u_wait_for_slot_event(struct p11u_call *call, CK_FLAGS flags, CK_SLOT_ID_PTR slot_id)
{
	struct p11u_module *m = call->m;
	CK_RV rv;

	if (slot_id == NULL)
		return CKR_ARGUMENTS_BAD;
	for (;;) {
		slots_update(m, false);
		rv = take_event(m, slot_id);
		if (rv != CKR_NO_EVENT || (flags & CKF_DONT_BLOCK))
			return rv;
		rv = wait_for_change(call);
		if (rv != CKR_OK)
			return rv;
	}
}
