/* The read path, common to every card kind: SELECT by file ID, READ BINARY in
 * chunks, the card type (EF 0905), the card number (EF 0903) and the fixed layout
 * of the certificate store (EF 08F2, four slots of 0x700 bytes).  Files are
 * addressed as the card variant does (card->ops->access): the test card's way
 * (also before identification), gen1's (the same commands, reads of at most 0xC8
 * bytes) or gen2's (the applet, class 00).  Everything read here is checked
 * before use: lengths, characters, certificates. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "card/card-int.h"
#include "common/log.h"

static const char *const slot_names[P11U_CERT_SLOTS] = {
    [P11U_CERT_ROOT_CA] = "root CA",
    [P11U_CERT_ISSUING_CA] = "issuing CA",
    [P11U_CERT_ENCRYPTION] = "encryption",
    [P11U_CERT_SIGNATURE] = "signature",
};

static enum p11u_file_access access_of(const struct p11u_card *card)
{
	return card->ops != NULL ? card->ops->access : P11U_ACCESS_PROFILE;
}

/* SELECT by file ID: 80 A4 00 00 02 FID, or on gen2 00 A4 00 04 02 FID 00. */
static enum p11u_card_rv select_fid(struct p11u_card *card, uint16_t fid)
{
	const bool gen2 = access_of(card) == P11U_ACCESS_GEN2;
	const uint8_t fid_bytes[2] = {(uint8_t)(fid >> 8), (uint8_t)(fid & 0xFF)};
	const struct p11u_apdu apdu = {
	    .cla = gen2 ? P11U_CLA_ISO : P11U_CLA,
	    .ins = P11U_INS_SELECT,
	    .p2 = gen2 ? P11U_GEN2_SELECT_P2 : 0x00,
	    .data = fid_bytes,
	    .data_len = sizeof fid_bytes,
	    .le = gen2 ? P11U_APDU_LE_MAX : 0,
	};
	/* A card may answer with control information nobody asked for: accepted, not used. */
	uint8_t ignored[P11U_APDU_LE_MAX];
	size_t len;
	uint16_t sw;
	enum p11u_card_rv rv;

	rv = p11u_apdu_exchange(card, &apdu, ignored, sizeof ignored, &len, &sw);
	if (rv != P11U_CARD_OK)
		return rv;
	return p11u_sw_to_rv(sw, P11U_CMD_FILE, NULL);
}

/* The root every path starts from: the MF, or the gen2 applet. */
static enum p11u_card_rv select_root(struct p11u_card *card)
{
	if (access_of(card) == P11U_ACCESS_GEN2)
		return p11u_gen2_select_applet(card);
	return select_fid(card, P11U_FID_MF);
}

/* SELECT of a DF, remembered as the current DF for the rest of the transaction. */
static enum p11u_card_rv select_df(struct p11u_card *card, uint16_t df)
{
	enum p11u_card_rv rv = select_fid(card, df);

	card->current_df = rv == P11U_CARD_OK ? df : 0;
	return rv;
}

/* Selects an EF.  Real cards: the whole path from the root, as the traces show (another
 * process may have moved the selection).  The test card: its DF (reachable from anywhere),
 * unless it is current in this transaction already, then the EF. */
enum p11u_card_rv p11u_files_select_ef(struct p11u_card *card, uint16_t df, uint16_t ef)
{
	enum p11u_card_rv rv = P11U_CARD_OK;

	if (!card->short_paths) {
		card->current_df = 0;
		rv = select_root(card);
		if (rv == P11U_CARD_OK)
			rv = select_fid(card, df);
	} else if (card->current_df != df) {
		rv = select_df(card, df);
	}
	if (rv == P11U_CARD_OK)
		rv = select_fid(card, ef);
	if (rv != P11U_CARD_OK) {
		card->current_df = 0;
		P11U_DEBUG(P11U_LOG_CARD, "cannot select %04X/%04X: %s", df, ef,
		           p11u_card_rv_str(rv));
	}
	return rv;
}

/* Bytes one READ BINARY asks for at most. */
static size_t read_chunk(const struct p11u_card *card)
{
	return access_of(card) == P11U_ACCESS_PROFILE ? P11U_APDU_LE_MAX : P11U_HICOS_READ_MAX;
}

/* Reads up to len bytes of the current EF from offset; *got is less than len when the file
 * ends first (6282, or 6B00 at the end). */
enum p11u_card_rv p11u_files_read(struct p11u_card *card, size_t offset, uint8_t *buf, size_t len,
                                  size_t *got)
{
	const uint8_t cla = access_of(card) == P11U_ACCESS_GEN2 ? P11U_CLA_ISO : P11U_CLA;

	*got = 0;
	if (offset > P11U_READ_OFFSET_MAX + 1 || len > P11U_READ_OFFSET_MAX + 1 - offset)
		return P11U_CARD_E_ARGS;
	while (*got < len) {
		size_t pos = offset + *got, chunk = len - *got, n;
		uint16_t sw;
		enum p11u_card_rv rv;

		if (chunk > read_chunk(card))
			chunk = read_chunk(card);
		const struct p11u_apdu apdu = {
		    .cla = cla,
		    .ins = P11U_INS_READ_BINARY,
		    .p1 = (uint8_t)(pos >> 8),
		    .p2 = (uint8_t)(pos & 0xFF),
		    .le = chunk,
		};
		rv = p11u_apdu_exchange(card, &apdu, buf + *got, chunk, &n, &sw);
		if (rv != P11U_CARD_OK)
			return rv;
		if (sw == 0x6B00 && n == 0)
			return P11U_CARD_OK; /* offset beyond the end: the file ended exactly here
			                      */
		if (sw == 0x6282) {
			*got += n; /* the bytes there were, then the end of the file */
			return P11U_CARD_OK;
		}
		rv = p11u_sw_to_rv(sw, P11U_CMD_FILE, NULL);
		if (rv != P11U_CARD_OK)
			return rv;
		if (n == 0) {
			P11U_DEBUG(P11U_LOG_CARD, "READ BINARY at %04zX: success without data",
			           pos);
			return P11U_CARD_E_BAD_RESPONSE;
		}
		*got += n;
	}
	return P11U_CARD_OK;
}

/* Reads exactly len bytes: a file that ends early is a malformed card. */
enum p11u_card_rv p11u_files_read_exact(struct p11u_card *card, size_t offset, uint8_t *buf,
                                        size_t len)
{
	size_t got;
	enum p11u_card_rv rv = p11u_files_read(card, offset, buf, len, &got);

	if (rv == P11U_CARD_OK && got != len) {
		P11U_DEBUG(P11U_LOG_CARD, "file ends at %04zX, %zu bytes short", offset + got,
		           len - got);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	return rv;
}

/* Removes the padding after a string field (NUL, 0xFF or spaces). */
static size_t trim_padding(const uint8_t *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == 0x00 || buf[len - 1] == 0xFF || buf[len - 1] == ' '))
		len--;
	return len;
}

static bool chars_in_range(const uint8_t *buf, size_t len, uint8_t lo, uint8_t hi)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] < lo || buf[i] > hi)
			return false;
	return true;
}

enum p11u_card_rv p11u_files_read_card_type(struct p11u_card *card,
                                            char type[P11U_CARD_TYPE_LEN + 1])
{
	uint8_t buf[P11U_CARD_TYPE_LEN];
	size_t got, len;
	enum p11u_card_rv rv;

	type[0] = '\0';
	rv = p11u_files_select_ef(card, P11U_FID_DF_CARD, P11U_FID_EF_CARD_TYPE);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, 0, buf, sizeof buf, &got);
	if (rv != P11U_CARD_OK)
		return rv;
	len = trim_padding(buf, got);
	/* Not text: not a card of this profile. */
	if (len == 0 || !chars_in_range(buf, len, 0x20, 0x7E)) {
		P11U_DEBUG(P11U_LOG_CARD, "EF 0905 holds no card type (%zu bytes)", got);
		return P11U_CARD_E_UNRECOGNIZED;
	}
	memcpy(type, buf, len);
	type[len] = '\0';
	return P11U_CARD_OK;
}

enum p11u_card_rv p11u_files_read_card_number(struct p11u_card *card)
{
	uint8_t buf[P11U_CARD_NUMBER_LEN];
	char *number = card->info.card_number;
	size_t got, len;
	enum p11u_card_rv rv;

	rv = p11u_files_select_ef(card, P11U_FID_DF_CARD, P11U_FID_EF_CARD_NUMBER);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, 0, buf, sizeof buf, &got);
	if (rv != P11U_CARD_OK)
		return rv;
	len = trim_padding(buf, got);
	if (len == 0 || !chars_in_range(buf, len, 0x21, 0x7E)) {
		P11U_DEBUG(P11U_LOG_CARD, "EF 0903: not a card number (%zu bytes)", got);
		return P11U_CARD_E_BAD_RESPONSE;
	}
	memcpy(number, buf, len);
	number[len] = '\0';
	return P11U_CARD_OK;
}

/* Whether der[0..len) is one DER certificate, with nothing after it. */
bool p11u_files_one_certificate(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x509;
	bool ok;

	/* A bad slot is logged and skipped: leave OpenSSL's error queue, which may be the
	 * application's, as it was. */
	ERR_set_mark();
	x509 = d2i_X509(NULL, &p, (long)len);
	ERR_pop_to_mark();
	ok = x509 != NULL && p == der + len;
	X509_free(x509);
	return ok;
}

/* One slot of the certificate store: empty (first byte 00 or FF) or one DER certificate
 * whose `30 82 hi lo` header gives a length that must fit the slot, and that parses as one
 * certificate of exactly that length.  A slot holding anything else is bad content, not a bad
 * card: it is logged and read as empty, so that one bad slot (even a CA's) does not cost the
 * holder the other certificates.  What the card answers (transport errors, removal, status
 * words, a store that ends inside a slot) still fails the read. */
static enum p11u_card_rv read_cert_slot(struct p11u_card *card, enum p11u_cert_slot slot,
                                        const uint8_t *probe, size_t probe_len)
{
	struct p11u_card_cert *cert = &card->info.certs[slot];
	const size_t offset = (size_t)slot * P11U_CERT_SLOT_SIZE;
	uint8_t first[P11U_PROBE_LEN];
	uint8_t *der;
	size_t got, len;
	enum p11u_card_rv rv;

	if (slot == P11U_CERT_SIGNATURE) {
		/* Its first bytes were read already, to check the cache. */
		memcpy(first, probe, probe_len);
		got = probe_len;
	} else {
		rv = p11u_files_read(card, offset, first, sizeof first, &got);
		if (rv != P11U_CARD_OK)
			return rv;
	}
	if (got == 0) {
		P11U_DEBUG(P11U_LOG_CARD, "certificate store ends before the %s slot",
		           slot_names[slot]);
		return P11U_CARD_E_BAD_RESPONSE;
	}
	if (first[0] == 0x00 || first[0] == 0xFF) {
		P11U_DEBUG(P11U_LOG_CARD, "%s slot: empty", slot_names[slot]);
		return P11U_CARD_OK;
	}
	if (got < 4) {
		P11U_DEBUG(P11U_LOG_CARD, "certificate store ends %zu bytes into the %s slot", got,
		           slot_names[slot]);
		return P11U_CARD_E_BAD_RESPONSE;
	}
	if (first[0] != 0x30 || first[1] != 0x82) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "%s slot: no DER certificate header (%02X %02X), read as empty",
		           slot_names[slot], first[0], first[1]);
		return P11U_CARD_OK;
	}
	len = 4 + ((size_t)first[2] << 8 | first[3]);
	if (len > P11U_CERT_SLOT_SIZE) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "%s slot: certificate length %zu does not fit the slot, read as empty",
		           slot_names[slot], len);
		return P11U_CARD_OK;
	}
	der = malloc(len);
	if (der == NULL)
		return P11U_CARD_E_NO_MEMORY;
	if (got >= len) {
		memcpy(der, first, len);
	} else {
		memcpy(der, first, got);
		rv = p11u_files_read_exact(card, offset + got, der + got, len - got);
		if (rv != P11U_CARD_OK) {
			free(der);
			return rv;
		}
	}
	if (!p11u_files_one_certificate(der, len)) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "%s slot: %zu bytes that are not a DER certificate, read as empty",
		           slot_names[slot], len);
		free(der);
		return P11U_CARD_OK;
	}
	cert->der = der;
	cert->len = len;
	P11U_DEBUG(P11U_LOG_CARD, "%s slot: certificate, %zu bytes", slot_names[slot], len);
	return P11U_CARD_OK;
}

enum p11u_card_rv p11u_files_read_public(struct p11u_card *card)
{
	uint8_t probe[P11U_PROBE_LEN];
	size_t probe_len = 0;
	enum p11u_card_rv rv;

	/* Known when the caller read it alone for this insertion (p11u_card_read_number). */
	rv = card->info.card_number[0] != '\0' ? P11U_CARD_OK : p11u_files_read_card_number(card);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, P11U_FID_EF_CERT_STORE);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, (size_t)P11U_CERT_SIGNATURE * P11U_CERT_SLOT_SIZE, probe,
		                     sizeof probe, &probe_len);
	if (rv != P11U_CARD_OK)
		return rv;
	if (p11u_snapshot_restore(card, probe, probe_len))
		return P11U_CARD_OK;
	for (int slot = 0; slot < P11U_CERT_SLOTS && rv == P11U_CARD_OK; slot++)
		rv = read_cert_slot(card, (enum p11u_cert_slot)slot, probe, probe_len);
	if (rv == P11U_CARD_OK)
		p11u_snapshot_save(card, probe, probe_len);
	return rv;
}
