/* The fixed layout's public data as bytes for the caller's cache (card.h, struct
 * p11u_card_cache), and back.  What comes back is untrusted input like the card's
 * own answers: every length is checked, every certificate parsed again, and it is
 * used only when it names this card (type, number) and its copy of the signature
 * slot's first bytes equals what the card just answered.
 *
 * Format, version 1: the magic, then seven fields, each a 2-byte big-endian length
 * and its bytes: card type, card number, probe (the signature slot's first bytes as
 * read), then the certificates of the four slots in file order (length 0: empty); last
 * the SHA-256 of everything before it, so that a file damaged on the disk is not used even
 * where its certificates still parse. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "card/card-int.h"
#include "common/log.h"

static const uint8_t magic[] = {'P', '1', '1', 'U', '-', 'C', 'A', 'R', 'D', 0x00, 0x01};

#define FIELDS     (3 + P11U_CERT_SLOTS)
#define DIGEST_LEN 32 /* SHA-256 */

static bool digest_of(const uint8_t *data, size_t len, uint8_t out[DIGEST_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == DIGEST_LEN;
}

/* One field of the stored bytes. */
struct field {
	const uint8_t *bytes;
	size_t len;
};

/* Splits data into its fields; false when it is not exactly the magic, FIELDS fields and
 * their digest. */
static bool split_fields(const uint8_t *data, size_t len, struct field fields[FIELDS])
{
	uint8_t digest[DIGEST_LEN];
	size_t pos = sizeof magic;

	if (len < sizeof magic + DIGEST_LEN || memcmp(data, magic, sizeof magic) != 0)
		return false;
	len -= DIGEST_LEN;
	if (!digest_of(data, len, digest) || memcmp(digest, data + len, DIGEST_LEN) != 0)
		return false;
	for (int i = 0; i < FIELDS; i++) {
		if (len - pos < 2)
			return false;
		fields[i].len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len - pos < fields[i].len)
			return false;
		fields[i].bytes = data + pos;
		pos += fields[i].len;
	}
	return pos == len;
}

static bool field_is_text(const struct field *f, const char *text)
{
	return f->len == strlen(text) && memcmp(f->bytes, text, f->len) == 0;
}

/* Whether the stored certificates may stand for this card's store: each one certificate that
 * fits its slot, and the signature slot's content agrees with the probe the card answered. */
static bool certs_ok(const struct field certs[P11U_CERT_SLOTS], const uint8_t *probe,
                     size_t probe_len)
{
	const struct field *sig = &certs[P11U_CERT_SIGNATURE];

	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		if (certs[slot].len > 0 &&
		    (certs[slot].len > P11U_CERT_SLOT_SIZE ||
		     !p11u_files_one_certificate(certs[slot].bytes, certs[slot].len)))
			return false;
	if (sig->len > 0) {
		size_t n = sig->len < probe_len ? sig->len : probe_len;
		return memcmp(sig->bytes, probe, n) == 0;
	}
	return true;
}

static void drop_certs(struct p11u_card *card)
{
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		free(card->info.certs[slot].der);
		card->info.certs[slot].der = NULL;
		card->info.certs[slot].len = 0;
	}
}

bool p11u_snapshot_restore(struct p11u_card *card, const uint8_t *probe, size_t probe_len)
{
	struct field fields[FIELDS];
	const struct field *certs = &fields[3];
	uint8_t *data = NULL;
	size_t len = 0;
	bool ok = false;

	if (card->cache == NULL || card->cache->load == NULL ||
	    !card->cache->load(card->cache->ctx, card->info.card_number, &data, &len))
		return false;
	if (!split_fields(data, len, fields) || !field_is_text(&fields[0], card->info.card_type) ||
	    !field_is_text(&fields[1], card->info.card_number)) {
		P11U_DEBUG(P11U_LOG_CARD, "cache: entry for card %s unusable, reading the card",
		           card->info.card_number);
		goto out;
	}
	if (fields[2].len != probe_len || memcmp(fields[2].bytes, probe, probe_len) != 0) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "cache: card %s has other certificates than stored (re-issued or "
		           "re-created), reading the card",
		           card->info.card_number);
		goto out;
	}
	if (!certs_ok(certs, probe, probe_len)) {
		P11U_DEBUG(P11U_LOG_CARD, "cache: entry for card %s holds bad certificates",
		           card->info.card_number);
		goto out;
	}
	ok = true;
	for (int slot = 0; slot < P11U_CERT_SLOTS && ok; slot++) {
		if (certs[slot].len == 0)
			continue;
		card->info.certs[slot].der = malloc(certs[slot].len);
		ok = card->info.certs[slot].der != NULL;
		if (ok) {
			memcpy(card->info.certs[slot].der, certs[slot].bytes, certs[slot].len);
			card->info.certs[slot].len = certs[slot].len;
		}
	}
	if (!ok)
		drop_certs(card);
	card->info.from_cache = ok;
	if (ok)
		P11U_DEBUG(P11U_LOG_CARD, "cache: card %s unchanged, public data from the cache",
		           card->info.card_number);
out:
	free(data);
	return ok;
}

static uint8_t *put_field(uint8_t *p, const void *bytes, size_t len)
{
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)(len & 0xFF);
	if (len > 0)
		memcpy(p, bytes, len);
	return p + len;
}

void p11u_snapshot_save(const struct p11u_card *card, const uint8_t *probe, size_t probe_len)
{
	const struct p11u_card_info *info = &card->info;
	size_t len = sizeof magic + 2 * FIELDS + strlen(info->card_type) +
	             strlen(info->card_number) + probe_len + DIGEST_LEN;
	uint8_t *data, *p;

	if (card->cache == NULL || card->cache->store == NULL)
		return;
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		len += info->certs[slot].len;
	data = malloc(len);
	if (data == NULL)
		return;
	memcpy(data, magic, sizeof magic);
	p = put_field(data + sizeof magic, info->card_type, strlen(info->card_type));
	p = put_field(p, info->card_number, strlen(info->card_number));
	p = put_field(p, probe, probe_len);
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		p = put_field(p, info->certs[slot].der, info->certs[slot].len);
	if (digest_of(data, (size_t)(p - data), p))
		card->cache->store(card->cache->ctx, info->card_number, data, len);
	free(data);
}
