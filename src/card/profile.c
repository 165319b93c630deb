/* Card variants as operation tables, and which table a card gets.
 *
 * Safety: a real HiCOS card must never receive our invented commands (a
 * plaintext VERIFY or our RESET RETRY COUNTER could cost its holder a try).
 * - The test card's table goes only to a card that says it is a p11unlock test
 *   card twice: card type "P11U V1" in EF 0905 and "P11UVCARD" in its ATR's
 *   historical bytes.
 * - The gen1 table (the protected VERIFY and raw RSA of the public traces, and
 *   nothing else) goes only to a card that says it is a first-generation HiCOS
 *   card twice: card type "CHT V..N" and a CHT mark (CHTMOICA, CHTGPKIJ) in its
 *   ATR's historical bytes.  Its VERIFY still needs p11u_card_enable_real_login().
 * - A "CHT V..N" card without the mark gets the read path of the fixed layout.
 * - The gen2 table (read path only) goes to a card that answers the SELECT of
 *   the GPPKI applet (card.c tries it only after EF 0905 named no card).
 * Identification reads EF 0905 and selects the applet: SELECTs and READs only,
 * which cost no try on any card. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "card/card-int.h"
#include "common/log.h"

static const struct p11u_card_ops test_card_ops = {
    .name = "p11unlock test card",
    .kind = P11U_CARD_KIND_TEST,
    .access = P11U_ACCESS_PROFILE,
    .read_public = p11u_files_read_public,
    .secret_state = p11u_test_secret_state,
    .verify = p11u_test_verify,
    .change_pin = p11u_test_change_pin,
    .reset_pin = p11u_test_reset_pin,
    .sign = p11u_test_sign,
    .decipher = p11u_test_decipher,
    .random = p11u_test_random,
};

/* A "CHT V..N" card type without a CHT mark in the ATR: the fixed layout, and no security
 * operation at all. */
static const struct p11u_card_ops hicos_ops = {
    .name = "real HiCOS card",
    .kind = P11U_CARD_KIND_HICOS,
    .access = P11U_ACCESS_GEN1,
    .read_public = p11u_files_read_public,
};

/* First generation: the directory files, the protected VERIFY and raw RSA.  No free counter
 * reading, no PIN change or reset, no GET CHALLENGE: none is public. */
static const struct p11u_card_ops gen1_ops = {
    .name = "first-generation HiCOS card",
    .kind = P11U_CARD_KIND_GEN1,
    .access = P11U_ACCESS_GEN1,
    .raw_rsa_only = true,
    .read_public = p11u_hicos_read_public,
    .verify = p11u_gen1_verify,
    .sign = p11u_gen1_sign,
    .decipher = p11u_gen1_decipher,
};

/* Second generation: everything beyond reading needs secure-messaging keys that are not
 * public. */
static const struct p11u_card_ops gen2_ops = {
    .name = "second-generation HiCOS card (GPPKI applet)",
    .kind = P11U_CARD_KIND_GEN2,
    .access = P11U_ACCESS_GEN2,
    .read_public = p11u_hicos_read_public,
};

const struct p11u_card_ops *p11u_profile_gen2(void)
{
	return &gen2_ops;
}

/* The historical bytes of an ATR (ISO/IEC 7816-3: TS T0 {TAi TBi TCi TDi} historical [TCK]).
 * False for an ATR too short for what its format bytes announce. */
static bool atr_historical_bytes(const uint8_t *atr, size_t len, const uint8_t **hist,
                                 size_t *hist_len)
{
	size_t i = 2, k;
	uint8_t y;

	if (atr == NULL || len < 2)
		return false;
	y = atr[1] >> 4;
	k = atr[1] & 0x0F;
	for (;;) {
		/* TAi, TBi, TCi present per bits 5-7 of the format byte, TDi per bit 8. */
		i += (size_t)((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1));
		if (!(y & 0x8))
			break;
		if (i >= len)
			return false;
		y = atr[i++] >> 4;
	}
	if (i > len || k > len - i)
		return false;
	*hist = atr + i;
	*hist_len = k;
	return true;
}

/* Whether the ATR's historical bytes contain mark. */
static bool atr_has_mark(const uint8_t *atr, size_t len, const char *mark)
{
	const size_t mark_len = strlen(mark);
	const uint8_t *hist;
	size_t hist_len;

	if (!atr_historical_bytes(atr, len, &hist, &hist_len) || hist_len < mark_len)
		return false;
	for (size_t i = 0; i + mark_len <= hist_len; i++)
		if (memcmp(hist + i, mark, mark_len) == 0)
			return true;
	return false;
}

bool p11u_profile_atr_is_test(const uint8_t *atr, size_t atr_len)
{
	return atr_has_mark(atr, atr_len, P11U_TEST_ATR_MARK);
}

static bool atr_has_hicos_mark(const uint8_t *atr, size_t len)
{
	static const char *const marks[] = P11U_HICOS_ATR_MARKS;

	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (atr_has_mark(atr, len, marks[i]))
			return true;
	return false;
}

/* "CHT V" two digits "N", e.g. "CHT V21N" ... "CHT V32N". */
static bool is_hicos_type(const char *type)
{
	const size_t prefix = strlen(P11U_HICOS_TYPE_PREFIX);

	return strlen(type) == prefix + 3 && strncmp(type, P11U_HICOS_TYPE_PREFIX, prefix) == 0 &&
	       isdigit((unsigned char)type[prefix]) && isdigit((unsigned char)type[prefix + 1]) &&
	       type[prefix + 2] == 'N';
}

const struct p11u_card_ops *p11u_profile_identify(const uint8_t *atr, size_t atr_len,
                                                  const char *card_type)
{
	if (is_hicos_type(card_type) && atr_has_hicos_mark(atr, atr_len)) {
		P11U_DEBUG(P11U_LOG_CARD, "card type \"%s\" and a CHT mark in the ATR: %s",
		           card_type, gen1_ops.name);
		return &gen1_ops;
	}
	if (is_hicos_type(card_type)) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "card type \"%s\" without a CHT mark in the ATR: %s, the fixed layout, "
		           "read path only",
		           card_type, hicos_ops.name);
		return &hicos_ops;
	}
	if (strcmp(card_type, P11U_TEST_CARD_TYPE) == 0) {
		if (p11u_profile_atr_is_test(atr, atr_len)) {
			P11U_DEBUG(P11U_LOG_CARD, "card type \"%s\" and ATR mark %s: %s", card_type,
			           P11U_TEST_ATR_MARK, test_card_ops.name);
			return &test_card_ops;
		}
		P11U_DEBUG(
		    P11U_LOG_CARD,
		    "card type \"%s\" but no %s in the ATR's historical bytes: not trusted as "
		    "a test card",
		    card_type, P11U_TEST_ATR_MARK);
		return NULL;
	}
	P11U_DEBUG(P11U_LOG_CARD, "card type \"%s\": not a card of this profile", card_type);
	return NULL;
}
