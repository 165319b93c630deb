/* fuzz-cache: an entry of the card layer's cache (src/card/snapshot.c) as a cache directory may
 * hold it, damaged or made up, restored for a test card of fixed type and number.  Checked: when
 * the entry is used, every certificate it gives is one DER certificate that fits its slot and the
 * signature certificate agrees with what the card answered; when it is not, no certificate is
 * left behind.
 *
 * Input: one byte n, then n bytes the card answered at the signature slot (the probe), then the
 * entry without its SHA-256, which the target appends so that the parser behind it is reached. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "card/card-int.h"
#include "fuzz-script.h"

#define CARD_TYPE   "P11U V1"
#define CARD_NUMBER "XC00000000091349"

struct entry {
	uint8_t *data;
	size_t len;
};

static bool entry_load(void *ctx, const char *number, uint8_t **data, size_t *len)
{
	const struct entry *e = ctx;

	FUZZ_CHECK(strcmp(number, CARD_NUMBER) == 0, "asked for card %s", number);
	*data = malloc(e->len > 0 ? e->len : 1);
	FUZZ_CHECK(*data != NULL, "out of memory");
	memcpy(*data, e->data, e->len);
	*len = e->len;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p11u_card card;
	struct entry e;
	struct p11u_card_cache cache = {&e, entry_load, NULL};
	const uint8_t *probe;
	size_t probe_len, body_len;
	unsigned int n = 0;
	bool used;

	if (size < 1 || (size_t)data[0] > size - 1)
		return 0;
	probe_len = data[0];
	probe = data + 1;
	body_len = size - 1 - probe_len;
	e.len = body_len + 32;
	e.data = malloc(e.len);
	FUZZ_CHECK(e.data != NULL, "out of memory");
	memcpy(e.data, probe + probe_len, body_len);
	FUZZ_CHECK(EVP_Digest(e.data, body_len, e.data + body_len, &n, EVP_sha256(), NULL) == 1,
	           "SHA-256 failed");

	memset(&card, 0, sizeof card);
	snprintf(card.info.card_type, sizeof card.info.card_type, "%s", CARD_TYPE);
	snprintf(card.info.card_number, sizeof card.info.card_number, "%s", CARD_NUMBER);
	card.cache = &cache;
	used = p11u_snapshot_restore(&card, probe, probe_len);
	FUZZ_CHECK(used == card.info.from_cache, "from_cache does not say what restore did");
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++) {
		const struct p11u_card_cert *c = &card.info.certs[slot];

		FUZZ_CHECK(used || c->der == NULL, "slot %d filled by an entry not used", slot);
		if (c->der == NULL)
			continue;
		FUZZ_CHECK(c->len <= P11U_CERT_SLOT_SIZE, "slot %d: %zu bytes", slot, c->len);
		FUZZ_CHECK(p11u_files_one_certificate(c->der, c->len),
		           "slot %d: not one certificate", slot);
		if (slot == P11U_CERT_SIGNATURE)
			FUZZ_CHECK(memcmp(c->der, probe, c->len < probe_len ? c->len : probe_len) ==
			               0,
			           "the signature certificate disagrees with the card");
		free(card.info.certs[slot].der);
	}
	free(e.data);
	return 0;
}
