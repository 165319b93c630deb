/* Tokens: C_GetTokenInfo, retry counters and flags, the user-code token's presence, login
 * state of a token, and the vendor interface's card queries.
 *
 * The card token shows the card (certificates, keys, the status object).  The user-code token
 * exists only while the card's PIN is locked and user_code_token is on: it has no objects, and
 * its "user PIN" is the user code (see login.c for its rules).
 *
 * Counters come from an empty VERIFY per secret (no cost on the card), read at insertion, at
 * most about once a second by C_GetTokenInfo, fresh for the status object and the vendor
 * interface, and taken from the answers of PIN operations. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "common/text.h"
#include "pkcs11/errors.h"
#include "pkcs11/front.h"

/* How long a counter reading serves C_GetTokenInfo; and how long the reading made when the card
 * was opened serves the reads that show a holder the count (the status object,
 * P11U_GetTriesLeft), so that a program that opens a card and asks for its counts at once reads
 * them once.  Spending a try never relies on either: a login, a release and P11U_Login's check
 * ask the card in the same transaction. */
#define COUNTERS_SHORT_LIVED_NS (1000 * 1000 * 1000LL)
#define COUNTERS_FRESH_NS       (250 * 1000 * 1000LL)
/* Card-number characters shown at the end of the card token's label. */
#define LABEL_NUMBER_DIGITS 6
#define USER_CODE_LABEL     "用戶代碼"
#define USER_CODE_MODEL     "User code"

/* Length of the longest prefix of text[0..len) no longer than max bytes that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	return len;
}

void p11u_pad(CK_UTF8CHAR *field, size_t size, const char *text)
{
	size_t len = utf8_cut(text, strlen(text), size);

	memcpy(field, text, len);
	memset(field + len, ' ', size - len);
}

/* p11u_pad() for text read from the card. */
static void pad_untrusted(CK_UTF8CHAR *field, size_t size, const char *text)
{
	char copy[128];

	snprintf(copy, sizeof copy, "%s", text);
	p11u_text_sanitize(copy);
	p11u_pad(field, size, copy);
}

/* The subject CN (else O) of one certificate, as UTF-8 into out; false when it names none. */
static bool cert_holder(const uint8_t *der_in, size_t der_len, char *out, size_t out_size)
{
	static const int nids[] = {NID_commonName, NID_organizationName};
	const unsigned char *der = der_in;
	X509 *x509;

	out[0] = '\0';
	if (der == NULL || der_len == 0 || der_len > LONG_MAX)
		return false;
	x509 = d2i_X509(NULL, &der, (long)der_len);
	if (x509 == NULL)
		return false;
	const X509_NAME *subject = X509_get_subject_name(x509);
	for (size_t i = 0; i < sizeof nids / sizeof nids[0] && out[0] == '\0'; i++) {
		int idx = X509_NAME_get_index_by_NID(subject, nids[i], -1);
		unsigned char *utf8 = NULL;
		int len;

		if (idx < 0)
			continue;
		len = ASN1_STRING_to_UTF8(
		    &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
		if (len > 0) {
			size_t n = utf8_cut((const char *)utf8, (size_t)len, out_size - 1);
			memcpy(out, utf8, n);
			out[n] = '\0';
		}
		OPENSSL_free(utf8);
	}
	X509_free(x509);
	return out[0] != '\0';
}

/* The holder as the card's signature certificate names it: subject CN, else O (falling back
 * to the encryption certificate); on a card with directory files, the first holder's
 * (not a CA's) certificate that names one.  UTF-8 into out; empty when no certificate says. */
static void holder_name(const struct p11u_card_info *info, char *out, size_t out_size)
{
	static const enum p11u_cert_slot certs[] = {P11U_CERT_SIGNATURE, P11U_CERT_ENCRYPTION};
	bool found = false;

	out[0] = '\0';
	for (size_t c = 0; c < sizeof certs / sizeof certs[0] && !found; c++)
		found = cert_holder(info->certs[certs[c]].der, info->certs[certs[c]].len, out,
		                    out_size);
	for (size_t c = 0; info->dir != NULL && c < info->dir->n_certs && !found; c++)
		if (!info->dir->certs[c].authority)
			found = cert_holder(info->dir->certs[c].der, info->dir->certs[c].len, out,
			                    out_size);
	p11u_text_sanitize(out);
}

/* Label = holder + " " + the end of the card number, within 32 bytes, so that two cards of one
 * organisation differ. */
static void make_label(struct p11u_slot *slot)
{
	const char *number = slot->info->card_number;
	size_t number_len = strlen(number);
	const char *suffix =
	    number + (number_len > LABEL_NUMBER_DIGITS ? number_len - LABEL_NUMBER_DIGITS : 0);
	char holder[256];
	size_t room = sizeof slot->label - 1 - strlen(suffix) - 1;

	holder_name(slot->info, holder, sizeof holder);
	if (holder[0] == '\0')
		snprintf(holder, sizeof holder, "p11unlock card");
	size_t n = utf8_cut(holder, strlen(holder), room);
	while (n > 0 && holder[n - 1] == ' ')
		n--;
	snprintf(slot->label, sizeof slot->label, "%.*s %s", (int)n, holder, suffix);
	p11u_text_sanitize(slot->label);
}

void p11u_token_setup(struct p11u_module *m, struct p11u_slot *slot)
{
	make_label(slot);
	if (slot->state == P11U_TOKEN_FULL &&
	    p11u_token_refresh_counters(m, slot, P11U_COUNTERS_NOW) == CKR_OK)
		slot->counters.at_open = true;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Shows or hides the user-code token after a counter change. */
static void update_user_code_token(struct p11u_module *m, struct p11u_slot *slot)
{
	bool wanted = slot->state == P11U_TOKEN_FULL && m->config.user_code_token &&
	              slot->counters.known && slot->counters.pin_tries == 0;

	if (wanted && slot->uc_gen == 0) {
		slot->uc_gen = ++m->generation;
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: PIN locked: user-code token appears",
		           slot->reader_name);
	} else if (!wanted && slot->uc_gen != 0) {
		p11u_token_logout(m, slot, true);
		slot->uc_gen = 0;
		P11U_DEBUG(P11U_LOG_CARD, "reader %s: user-code token disappears",
		           slot->reader_name);
	}
}

void p11u_token_set_counters(struct p11u_module *m, struct p11u_slot *slot, int pin_tries,
                             int user_code_tries)
{
	struct p11u_counters *c = &slot->counters;

	if (pin_tries >= 0)
		c->pin_tries = pin_tries;
	if (user_code_tries >= 0)
		c->user_code_tries = user_code_tries;
	/* A gen1 token knows its PIN counter from VERIFY answers only, and has no user code. */
	if (c->known ||
	    (pin_tries >= 0 && (user_code_tries >= 0 || slot->state == P11U_TOKEN_HICOS))) {
		c->known = true;
		c->at_open = false;
		clock_gettime(CLOCK_MONOTONIC, &c->read_at);
	}
	update_user_code_token(m, slot);
}

static enum p11u_card_rv read_counters(struct p11u_card *card, struct p11u_secret_state *pin,
                                       struct p11u_secret_state *uc)
{
	enum p11u_card_rv crv = p11u_card_begin(card);

	if (crv != P11U_CARD_OK)
		return crv;
	crv = p11u_card_secret_state(card, P11U_SECRET_PIN, pin);
	if (crv == P11U_CARD_OK)
		crv = p11u_card_secret_state(card, P11U_SECRET_USER_CODE, uc);
	p11u_card_end(card);
	return crv;
}

CK_RV p11u_token_refresh_counters(struct p11u_module *m, struct p11u_slot *slot,
                                  enum p11u_counters_age age)
{
	struct p11u_counters *c = &slot->counters;
	const long long max_age_ns = age == P11U_COUNTERS_SHORT_LIVED ? COUNTERS_SHORT_LIVED_NS
	                             : age == P11U_COUNTERS_FRESH && c->at_open ? COUNTERS_FRESH_NS
	                                                                        : 0;
	struct p11u_secret_state pin, uc;
	enum p11u_card_rv crv;

	if (slot->state != P11U_TOKEN_FULL)
		return CKR_OK;
	if (max_age_ns > 0 && c->known) {
		long long read_at =
		    (long long)c->read_at.tv_sec * 1000000000LL + c->read_at.tv_nsec;
		if (now_ns() - read_at < max_age_ns)
			return CKR_OK;
	}
	crv = read_counters(slot->card, &pin, &uc);
	if (crv == P11U_CARD_E_RESET) {
		/* Reset by another process: the logins are gone, the connection is back. */
		p11u_token_card_result(m, slot, crv);
		crv = read_counters(slot->card, &pin, &uc);
	}
	if (crv != P11U_CARD_OK)
		return p11u_token_card_result(m, slot, crv);
	if (slot->card_login == P11U_LOGIN_USER && !pin.verified) {
		/* Another process reset the card or spent a wrong try: the PIN is no longer
		 * verified, and this module never re-verifies from memory (it keeps no PIN). */
		P11U_DEBUG(P11U_LOG_CARD,
		           "reader %s: PIN no longer verified on the card: logged out",
		           slot->reader_name);
		p11u_token_logout(m, slot, false);
	}
	p11u_token_set_counters(m, slot, pin.tries_left, uc.tries_left);
	return CKR_OK;
}

CK_RV p11u_token_card_result(struct p11u_module *m, struct p11u_slot *slot,
                             enum p11u_card_rv card_rv)
{
	switch (card_rv) {
	case P11U_CARD_E_REMOVED:
		p11u_slot_drop_card(m, slot);
		break;
	case P11U_CARD_E_RESET:
		if (slot->card_login != P11U_LOGIN_NONE)
			P11U_DEBUG(P11U_LOG_CARD,
			           "reader %s: card reset by another process: logged out",
			           slot->reader_name);
		p11u_token_logout(m, slot, false);
		break;
	case P11U_CARD_E_TIMEOUT:
		/* Whatever the card did with the command is unknown, a verification included. */
		p11u_slot_stalled(m, slot);
		break;
	case P11U_CARD_E_NOT_VERIFIED:
		if (slot->card_login == P11U_LOGIN_USER) {
			P11U_DEBUG(P11U_LOG_CARD,
			           "reader %s: card says PIN not verified: logged out",
			           slot->reader_name);
			p11u_token_logout(m, slot, false);
		}
		break;
	default:
		break;
	}
	return p11u_ckr_from_card(card_rv);
}

void p11u_token_logout(struct p11u_module *m, struct p11u_slot *slot, bool uc)
{
	if (uc) {
		slot->uc_login = false;
		return;
	}
	if (slot->card_login == P11U_LOGIN_USER)
		p11u_sessions_end_private_ops(m, slot);
	OPENSSL_cleanse(&slot->card_secret, sizeof slot->card_secret);
	slot->card_login = P11U_LOGIN_NONE;
}

bool p11u_token_user_logged_in(const struct p11u_slot *slot)
{
	return slot->card_login == P11U_LOGIN_USER;
}

/* Why a token without security operations refuses one (no card I/O). */
static CK_RV refuse_read_only(const struct p11u_slot *slot, const char *what)
{
	if (slot->info->kind == P11U_CARD_KIND_GEN1)
		P11U_DEBUG(P11U_LOG_CARD,
		           "%s refused without card I/O: card type \"%s\" is a first-generation "
		           "HiCOS card, read-only until hicos_login = yes is set in %s (see the "
		           "README: what it sends, and that it is untested on real cards)",
		           what, slot->info->card_type, p11u_config_path());
	else
		P11U_DEBUG(P11U_LOG_CARD,
		           "%s refused without card I/O: card type \"%s\" is a real HiCOS card, "
		           "which gets a read-only token",
		           what, slot->info->card_type);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV p11u_token_require_security_ops(const struct p11u_slot *slot, const char *what)
{
	switch (slot->state) {
	case P11U_TOKEN_FULL:
	case P11U_TOKEN_HICOS:
		return CKR_OK;
	case P11U_TOKEN_READ_ONLY:
		return refuse_read_only(slot, what);
	case P11U_TOKEN_UNRECOGNIZED:
		return CKR_TOKEN_NOT_RECOGNIZED;
	case P11U_TOKEN_STALLED:
		return CKR_DEVICE_ERROR;
	case P11U_TOKEN_NONE:
		break;
	}
	return CKR_DEVICE_REMOVED;
}

CK_RV p11u_token_require_pin_management(const struct p11u_slot *slot, const char *what)
{
	if (slot->state != P11U_TOKEN_HICOS)
		return p11u_token_require_security_ops(slot, what);
	P11U_DEBUG(P11U_LOG_CARD,
	           "%s refused without card I/O: no PIN change, unlock or free counter reading of "
	           "first-generation cards is public (the CA releases a locked PIN)",
	           what);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

bool p11u_token_has_keys(const struct p11u_slot *slot)
{
	return slot->state == P11U_TOKEN_FULL || slot->state == P11U_TOKEN_HICOS;
}

CK_RV p11u_token_usable(const struct p11u_slot *slot, bool uc)
{
	if (!p11u_token_present(slot, uc))
		return CKR_TOKEN_NOT_PRESENT;
	if (uc)
		return CKR_OK;
	switch (slot->state) {
	case P11U_TOKEN_UNRECOGNIZED:
		return CKR_TOKEN_NOT_RECOGNIZED;
	case P11U_TOKEN_STALLED:
		return CKR_DEVICE_ERROR;
	default:
		return CKR_OK;
	}
}

/* PKCS#11 retry flags: count low after a wrong try, final try with one left, locked at 0. */
static CK_FLAGS retry_flags(int tries, CK_FLAGS count_low, CK_FLAGS final_try, CK_FLAGS locked)
{
	if (tries <= 0)
		return locked;
	if (tries == 1)
		return count_low | final_try;
	if (tries < P11U_TRIES_MAX)
		return count_low;
	return 0;
}

static CK_FLAGS token_flags(const struct p11u_slot *slot, bool uc)
{
	const struct p11u_counters *c = &slot->counters;
	CK_FLAGS flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED;

	if (slot->state == P11U_TOKEN_HICOS) /* the PIN counter of the last VERIFY answer */
		return flags | CKF_LOGIN_REQUIRED |
		       (c->known ? retry_flags(c->pin_tries, CKF_USER_PIN_COUNT_LOW,
		                               CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED)
		                 : 0);
	if (slot->state != P11U_TOKEN_FULL)
		return flags; /* read-only: nobody logs in, nothing is asked of the card */
	flags |= CKF_LOGIN_REQUIRED;
	if (uc) /* the user-code token's "user PIN" is the user code */
		return flags | retry_flags(c->user_code_tries, CKF_USER_PIN_COUNT_LOW,
		                           CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED);
	flags |= CKF_RNG;
	flags |= retry_flags(c->pin_tries, CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
	                     CKF_USER_PIN_LOCKED);
	flags |= retry_flags(c->user_code_tries, CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY,
	                     CKF_SO_PIN_LOCKED);
	return flags;
}

CK_RV p11u_token_get_info(struct p11u_call *call, CK_SLOT_ID slot_id, CK_TOKEN_INFO_PTR info)
{
	struct p11u_module *m = call->m;
	char label[64];
	struct p11u_slot *slot;
	bool uc;
	CK_RV rv;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = p11u_slot_lookup(m, slot_id, &slot, &uc);
	if (rv != CKR_OK)
		return rv;
	if (!uc && slot->state == P11U_TOKEN_UNRECOGNIZED)
		return CKR_TOKEN_NOT_RECOGNIZED;
	/* This refresh is also how a lock made by another process shows the user-code token.
	 * While another call works with the card, the last reading serves. */
	if (p11u_slot_try_claim(call, slot)) {
		rv = p11u_token_refresh_counters(m, slot, P11U_COUNTERS_SHORT_LIVED);
		if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN)
			return rv == CKR_DEVICE_REMOVED ? CKR_TOKEN_NOT_PRESENT : rv;
	}
	rv = p11u_token_usable(slot, uc);
	if (rv != CKR_OK)
		return rv;

	memset(info, 0, sizeof *info);
	if (uc)
		snprintf(label, sizeof label, USER_CODE_LABEL " %s", slot->info->card_number);
	else
		snprintf(label, sizeof label, "%s", slot->label);
	pad_untrusted(info->label, sizeof info->label, label);
	p11u_pad(info->manufacturerID, sizeof info->manufacturerID, "p11unlock");
	pad_untrusted(info->model, sizeof info->model,
	              uc ? USER_CODE_MODEL : slot->info->card_type);
	pad_untrusted(info->serialNumber, sizeof info->serialNumber, slot->info->card_number);
	info->flags = token_flags(slot, uc);
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulSessionCount = p11u_sessions_count(m, slot, uc, false);
	info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulRwSessionCount = p11u_sessions_count(m, slot, uc, true);
	info->ulMaxPinLen = P11U_TOKEN_MAX_PIN_LEN;
	info->ulMinPinLen = P11U_TOKEN_MIN_PIN_LEN;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	/* hardwareVersion / firmwareVersion: unknown, 0.0; no clock on the card. */
	p11u_pad(info->utcTime, sizeof info->utcTime, "");
	return CKR_OK;
}

CK_RV p11u_token_status_value(struct p11u_module *m, struct p11u_slot *slot, char *out,
                              size_t out_size)
{
	CK_RV rv = p11u_token_refresh_counters(m, slot, P11U_COUNTERS_FRESH);

	if (rv != CKR_OK)
		return rv;
	p11u_status_value(slot->counters.pin_tries, slot->counters.user_code_tries, out, out_size);
	return CKR_OK;
}

/* A slot with a recognized card, for the vendor interface. */
static CK_RV card_slot(struct p11u_module *m, CK_SLOT_ID slot_id, struct p11u_slot **slot)
{
	bool uc;
	CK_RV rv = p11u_slot_lookup(m, slot_id, slot, &uc);

	if (rv != CKR_OK)
		return rv;
	if ((*slot)->info == NULL)
		return CKR_TOKEN_NOT_PRESENT;
	return CKR_OK;
}

CK_RV p11u_token_tries_left(struct p11u_call *call, CK_SLOT_ID slot_id, CK_ULONG_PTR pin_tries,
                            CK_ULONG_PTR user_code_tries)
{
	struct p11u_slot *slot;
	bool uc;
	CK_RV rv;

	if (pin_tries == NULL || user_code_tries == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = p11u_slot_by_id(call->m, slot_id, &slot, &uc);
	if (rv == CKR_OK)
		rv = p11u_slot_claim(call, slot);
	if (rv != CKR_OK)
		return rv;
	p11u_slot_sync(call->m, slot);
	if (slot->info == NULL)
		return slot->state == P11U_TOKEN_STALLED ? CKR_DEVICE_ERROR : CKR_TOKEN_NOT_PRESENT;
	rv = p11u_token_require_pin_management(slot, "P11U_GetTriesLeft");
	if (rv == CKR_OK)
		rv = p11u_token_refresh_counters(call->m, slot, P11U_COUNTERS_FRESH);
	if (rv != CKR_OK)
		return rv;
	*pin_tries = (CK_ULONG)slot->counters.pin_tries;
	*user_code_tries = (CK_ULONG)slot->counters.user_code_tries;
	return CKR_OK;
}

static CK_ULONG vendor_kind(enum p11u_card_kind kind)
{
	switch (kind) {
	case P11U_CARD_KIND_TEST:
		return P11UNLOCK_CARD_TEST;
	case P11U_CARD_KIND_GEN1:
		return P11UNLOCK_CARD_HICOS_GEN1;
	case P11U_CARD_KIND_GEN2:
		return P11UNLOCK_CARD_HICOS_GEN2;
	case P11U_CARD_KIND_HICOS:
		break;
	}
	return P11UNLOCK_CARD_HICOS;
}

CK_RV p11u_token_card_info(struct p11u_module *m, CK_SLOT_ID slot_id, P11UNLOCK_CARD_INFO *info)
{
	struct p11u_slot *slot;
	CK_RV rv;

	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = card_slot(m, slot_id, &slot);
	if (rv == CKR_TOKEN_NOT_PRESENT && slot->withheld) {
		memset(info, 0, sizeof *info);
		info->version.major = P11UNLOCK_CARD_INFO_VERSION_MAJOR;
		info->version.minor = P11UNLOCK_CARD_INFO_VERSION_MINOR;
		info->kind = P11UNLOCK_CARD_TEST_DISABLED;
		snprintf((char *)info->card_number, sizeof info->card_number, "%s",
		         slot->withheld_number);
		snprintf((char *)info->card_type, sizeof info->card_type, "%s",
		         slot->withheld_type);
		return CKR_OK;
	}
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof *info);
	info->version.major = P11UNLOCK_CARD_INFO_VERSION_MAJOR;
	info->version.minor = P11UNLOCK_CARD_INFO_VERSION_MINOR;
	info->kind = vendor_kind(slot->info->kind);
	snprintf((char *)info->card_number, sizeof info->card_number, "%s",
	         slot->info->card_number);
	snprintf((char *)info->card_type, sizeof info->card_type, "%s", slot->info->card_type);
	return CKR_OK;
}
