#include "config.h"

#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>

#include "i18n.h"
#include "text.h"
#include "vendor.h"

#define TRIES_MAX        3
#define MAX_CERTIFICATES 16
#define MAX_CERT_SIZE    16384
#define STATUS_VALUE_MAX 128

static const char status_application[] = "p11unlock";
static const char status_label[] = "PIN status";

void padded_copy(char *out, size_t out_size, const CK_UTF8CHAR *in, size_t in_len)
{
	size_t n = in_len < out_size - 1 ? in_len : out_size - 1;

	memcpy(out, in, n);
	out[n] = '\0';
	/* A module that NUL-terminates instead of padding ends the string there. */
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

#define PADDED_COPY(out, field) padded_copy((out), sizeof(out), (field), sizeof(field))

bool module_open(const char *path, struct module *module)
{
	CK_INFO info;
	CK_RV rv;

	memset(module, 0, sizeof(*module));
	p11_kit_be_quiet();
	module->functions = p11_kit_module_load(path, 0);
	if (module->functions == NULL) {
		const char *why = p11_kit_message();
		fprintf(stderr, _("Cannot load the PKCS#11 module %s: %s\n"), path,
		        why != NULL ? why : _("unknown error"));
		return false;
	}
	rv = p11_kit_module_initialize(module->functions);
	if (rv != CKR_OK) {
		fprintf(stderr, _("Cannot initialize the PKCS#11 module %s: %s\n"), path,
		        p11_kit_strerror(rv));
		p11_kit_module_release(module->functions);
		module->functions = NULL;
		return false;
	}
	if (module->functions->C_GetInfo(&info) == CKR_OK) {
		PADDED_COPY(module->manufacturer, info.manufacturerID);
		PADDED_COPY(module->description, info.libraryDescription);
		text_sanitize(module->manufacturer);
		text_sanitize(module->description);
	}
	if (strcmp(module->manufacturer, P11UNLOCK_MANUFACTURER) == 0)
		vendor_attach(module, path);
	return true;
}

void module_close(struct module *module)
{
	if (module->functions == NULL)
		return;
	vendor_detach(module);
	p11_kit_module_finalize(module->functions);
	p11_kit_module_release(module->functions);
	module->functions = NULL;
}

bool token_is_user_code(const CK_TOKEN_INFO *info)
{
	static const size_t prefix_len = sizeof(USER_CODE_TOKEN_LABEL_PREFIX) - 1;
	char manufacturer[33], label[33], model[17];

	PADDED_COPY(manufacturer, info->manufacturerID);
	PADDED_COPY(label, info->label);
	PADDED_COPY(model, info->model);
	if (strcmp(manufacturer, P11UNLOCK_MANUFACTURER) != 0)
		return false;
	return strcmp(model, USER_CODE_TOKEN_MODEL) == 0 ||
	       strncmp(label, USER_CODE_TOKEN_LABEL_PREFIX, prefix_len) == 0;
}

enum card_kind card_kind_of(const CK_TOKEN_INFO *info)
{
	char manufacturer[33], model[17];

	PADDED_COPY(manufacturer, info->manufacturerID);
	PADDED_COPY(model, info->model);
	/* Real HiCOS cards: first-generation ones announce "CHT V21N" ... "CHT V32N" as their card
	 * type; our module names second-generation ones (which have no such file) "HiCOS GPPKI". */
	if (strncmp(model, "CHT V", 5) == 0 || strcmp(model, "HiCOS GPPKI") == 0)
		return CARD_HICOS;
	if (strcmp(manufacturer, P11UNLOCK_MANUFACTURER) == 0)
		return CARD_P11UNLOCK;
	return CARD_FOREIGN;
}

void tries_from_count(int left, struct tries *tries)
{
	tries->left = left;
	if (left <= 0) {
		tries->left = 0;
		tries->state = TRIES_LOCKED;
	} else if (left == 1) {
		tries->state = TRIES_FINAL;
	} else if (left < TRIES_MAX) {
		tries->state = TRIES_LOW;
	} else {
		tries->state = TRIES_OK;
	}
}

void tries_from_flags(CK_FLAGS flags, bool so, struct tries *tries)
{
	CK_FLAGS locked = so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
	CK_FLAGS final = so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
	CK_FLAGS low = so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;

	tries->left = -1;
	if (flags & locked) {
		tries->state = TRIES_LOCKED;
		tries->left = 0;
	} else if (flags & final) {
		tries->state = TRIES_FINAL;
		tries->left = 1;
	} else if (flags & low) {
		tries->state = TRIES_LOW;
	} else {
		tries->state = TRIES_OK;
	}
}

/* "0".."99" exactly. */
static bool parse_small_count(const char *text, size_t len, int *out)
{
	if (len == 0 || len > 2)
		return false;
	*out = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		*out = *out * 10 + (text[i] - '0');
	}
	return true;
}

bool status_value_parse(const char *value, size_t len, int *pin_tries, int *user_code_tries)
{
	bool have_pin = false, have_user_code = false;
	size_t pos = 0;

	while (pos < len) {
		size_t end = pos, eq;
		while (end < len && value[end] != ' ')
			end++;
		for (eq = pos; eq < end && value[eq] != '='; eq++)
			;
		if (eq == end)
			return false;
		if (eq - pos == 9 && memcmp(value + pos, "pin_tries", 9) == 0) {
			if (have_pin || !parse_small_count(value + eq + 1, end - eq - 1, pin_tries))
				return false;
			have_pin = true;
		} else if (eq - pos == 15 && memcmp(value + pos, "user_code_tries", 15) == 0) {
			if (have_user_code ||
			    !parse_small_count(value + eq + 1, end - eq - 1, user_code_tries))
				return false;
			have_user_code = true;
		}
		/* Other keys: a later version may add some; skip them. */
		pos = end + 1;
	}
	return have_pin && have_user_code;
}

/* The value of one attribute that fits in buf; false when absent or too long. */
static bool get_attribute(const struct module *module, CK_SESSION_HANDLE session,
                          CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, void *buf, size_t size,
                          size_t *len)
{
	CK_ATTRIBUTE attr = {type, buf, size};

	if (module->functions->C_GetAttributeValue(session, object, &attr, 1) != CKR_OK ||
	    attr.ulValueLen == CK_UNAVAILABLE_INFORMATION || attr.ulValueLen > size)
		return false;
	*len = attr.ulValueLen;
	return true;
}

static CK_ULONG find_objects(const struct module *module, CK_SESSION_HANDLE session,
                             CK_ATTRIBUTE *tmpl, CK_ULONG tmpl_count, CK_OBJECT_HANDLE *found,
                             CK_ULONG max)
{
	CK_FUNCTION_LIST *f = module->functions;
	CK_ULONG count = 0;

	if (f->C_FindObjectsInit(session, tmpl, tmpl_count) != CKR_OK)
		return 0;
	if (f->C_FindObjects(session, found, max, &count) != CKR_OK || count > max)
		count = 0;
	f->C_FindObjectsFinal(session);
	return count;
}

static bool read_status_object(const struct module *module, CK_SESSION_HANDLE session,
                               int *pin_tries, int *user_code_tries)
{
	CK_OBJECT_CLASS data_class = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &data_class, sizeof(data_class)},
	    {CKA_APPLICATION, (void *)status_application, sizeof(status_application) - 1},
	    {CKA_LABEL, (void *)status_label, sizeof(status_label) - 1},
	};
	CK_OBJECT_HANDLE object;
	char value[STATUS_VALUE_MAX];
	size_t len;

	if (find_objects(module, session, tmpl, 3, &object, 1) != 1)
		return false;
	if (!get_attribute(module, session, object, CKA_VALUE, value, sizeof(value), &len))
		return false;
	return status_value_parse(value, len, pin_tries, user_code_tries);
}

static void read_tries(const struct module *module, CK_SESSION_HANDLE session, struct card *card)
{
	int pin_tries, user_code_tries;

	if (read_status_object(module, session, &pin_tries, &user_code_tries)) {
		card->tries_source = TRIES_FROM_STATUS_OBJECT;
	} else if (vendor_tries(module, card->slot, &pin_tries, &user_code_tries)) {
		card->tries_source = TRIES_FROM_VENDOR;
	} else {
		card->tries_source = TRIES_FROM_FLAGS;
		tries_from_flags(card->token_info.flags, false, &card->pin);
		tries_from_flags(card->token_info.flags, true, &card->user_code);
		return;
	}
	tries_from_count(pin_tries, &card->pin);
	tries_from_count(user_code_tries, &card->user_code);
}

/* How well a certificate fits as "the signature certificate": the card profile's "SIGN",
 * then a certificate of the token's user, then any end-entity certificate; 0 for a CA
 * certificate, which never names the holder. */
static int certificate_rank(const struct module *module, CK_SESSION_HANDLE session,
                            CK_OBJECT_HANDLE object, bool is_ca)
{
	unsigned char id[64];
	CK_ULONG category = 0;
	size_t len;

	if (get_attribute(module, session, object, CKA_ID, id, sizeof(id), &len) && len == 4 &&
	    memcmp(id, "SIGN", 4) == 0)
		return 3;
	if (get_attribute(module, session, object, CKA_CERTIFICATE_CATEGORY, &category,
	                  sizeof(category), &len) &&
	    len == sizeof(category) && category == 1)
		return 2;
	return is_ca ? 0 : 1;
}

static void read_certificate(const struct module *module, CK_SESSION_HANDLE session,
                             struct card *card)
{
	CK_OBJECT_CLASS cert_class = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE cert_type = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cert_class, sizeof(cert_class)},
	    {CKA_CERTIFICATE_TYPE, &cert_type, sizeof(cert_type)},
	};
	CK_OBJECT_HANDLE objects[MAX_CERTIFICATES];
	CK_ULONG count = find_objects(module, session, tmpl, 2, objects, MAX_CERTIFICATES);
	unsigned char *der = malloc(MAX_CERT_SIZE);
	int best_rank = 0;

	if (der == NULL)
		return;
	for (CK_ULONG i = 0; i < count; i++) {
		struct cert_facts facts;
		size_t len;
		int rank;

		if (!get_attribute(module, session, objects[i], CKA_VALUE, der, MAX_CERT_SIZE,
		                   &len) ||
		    !cert_facts_from_der(der, len, &facts))
			continue;
		rank = certificate_rank(module, session, objects[i], facts.is_ca);
		if (rank > best_rank) {
			cert_facts_clear(&card->cert);
			card->cert = facts;
			card->has_cert = true;
			best_rank = rank;
		} else {
			cert_facts_clear(&facts);
		}
	}
	free(der);
}

/* A first-generation card that the module could log in to, but its hicos_login is off: the
 * module says it is one (vendor interface), and the token requires no login. */
static bool hicos_login_off(const struct module *module, CK_SLOT_ID slot, const CK_TOKEN_INFO *info)
{
	CK_ULONG kind;
	char number[17], type[25];

	return module->vendor != NULL && !(info->flags & CKF_LOGIN_REQUIRED) &&
	       vendor_card_info(module, slot, &kind, number, sizeof(number), type, sizeof(type)) &&
	       kind == P11UNLOCK_CARD_HICOS_GEN1;
}

/* Slot, certificate and counters of the card token in a slot. */
static void card_read(const struct module *module, CK_SLOT_ID slot, const CK_SLOT_INFO *slot_info,
                      const CK_TOKEN_INFO *info, struct card *card)
{
	CK_FUNCTION_LIST *f = module->functions;
	CK_SESSION_HANDLE session;

	memset(card, 0, sizeof(*card));
	card->slot = slot;
	card->token_info = *info;
	PADDED_COPY(card->reader, slot_info->slotDescription);
	PADDED_COPY(card->label, card->token_info.label);
	PADDED_COPY(card->serial, card->token_info.serialNumber);
	PADDED_COPY(card->model, card->token_info.model);
	PADDED_COPY(card->manufacturer, card->token_info.manufacturerID);
	text_sanitize(card->reader);
	text_sanitize(card->label);
	text_sanitize(card->serial);
	text_sanitize(card->model);
	text_sanitize(card->manufacturer);
	card->kind = card_kind_of(&card->token_info);
	card->hicos_login_off = card->kind == CARD_HICOS && hicos_login_off(module, slot, info);
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session) == CKR_OK) {
		read_certificate(module, session, card);
		read_tries(module, session, card);
		f->C_CloseSession(session);
	} else {
		card->tries_source = TRIES_FROM_FLAGS;
		tries_from_flags(card->token_info.flags, false, &card->pin);
		tries_from_flags(card->token_info.flags, true, &card->user_code);
	}
}

static CK_RV slot_ids(const struct module *module, CK_BBOOL token_present, CK_SLOT_ID **ids,
                      CK_ULONG *count)
{
	CK_RV rv;

	*ids = NULL;
	for (;;) {
		CK_SLOT_ID *grown;
		rv = module->functions->C_GetSlotList(token_present, NULL, count);
		if (rv != CKR_OK || *count == 0)
			return rv;
		grown = reallocarray(*ids, *count, sizeof(CK_SLOT_ID));
		if (grown == NULL)
			return CKR_HOST_MEMORY;
		*ids = grown;
		rv = module->functions->C_GetSlotList(token_present, *ids, count);
		if (rv != CKR_BUFFER_TOO_SMALL)
			return rv;
	}
}

/* A card the module gives no token on purpose (a test card while allow_test_cards is off), in a
 * slot without a token: asked of the module's vendor interface for the reader's card slot
 * (CKF_HW_SLOT; the user-code slot names the same card). */
static void note_withheld(const struct module *module, CK_SLOT_ID slot,
                          const CK_SLOT_INFO *slot_info, struct card_list *list)
{
	struct withheld_card *card = &list->withheld[list->n_withheld];
	CK_ULONG kind;

	if (module->vendor == NULL || !(slot_info->flags & CKF_HW_SLOT) ||
	    !vendor_card_info(module, slot, &kind, card->serial, sizeof(card->serial), card->model,
	                      sizeof(card->model)) ||
	    kind != P11UNLOCK_CARD_TEST_DISABLED)
		return;
	PADDED_COPY(card->reader, slot_info->slotDescription);
	text_sanitize(card->reader);
	text_sanitize(card->serial);
	text_sanitize(card->model);
	list->n_withheld++;
}

/* Whether the card in a slot is known, from its number alone, not to be the one looked for. */
static bool other_card(const struct module *module, CK_SLOT_ID slot, const char *only_serial)
{
	char number[32];

	return only_serial != NULL && vendor_card_number(module, slot, number, sizeof(number)) &&
	       strcmp(number, only_serial) != 0;
}

CK_RV cards_detect(const struct module *module, const char *only_serial, struct card_list *list)
{
	CK_FUNCTION_LIST *f = module->functions;
	CK_SLOT_ID *ids = NULL;
	CK_ULONG count = 0;
	CK_RV rv;

	memset(list, 0, sizeof(*list));
	/* Every slot, not only those with a token: a card the module does not recognize is
	 * present (CKF_TOKEN_PRESENT) but has no token information, and deserves a word. */
	rv = slot_ids(module, CK_FALSE, &ids, &count);
	if (rv != CKR_OK || count == 0) {
		free(ids);
		return rv;
	}
	list->slots = count;
	list->cards = calloc(count, sizeof(struct card));
	list->withheld = calloc(count, sizeof(struct withheld_card));
	if (list->cards == NULL || list->withheld == NULL) {
		card_list_free(list);
		free(ids);
		return CKR_HOST_MEMORY;
	}
	/* Every other card is passed over before any card is read: reading one card makes the
	 * module read the others at the same time, unless their number alone was asked for. */
	for (CK_ULONG i = 0; i < count; i++) {
		if (other_card(module, ids[i], only_serial)) {
			ids[i] = CK_UNAVAILABLE_INFORMATION;
			list->passed_over++;
		}
	}
	for (CK_ULONG i = 0; i < count; i++) {
		CK_SLOT_INFO slot_info;
		CK_TOKEN_INFO info;

		if (ids[i] == CK_UNAVAILABLE_INFORMATION)
			continue; /* passed over */
		if (f->C_GetSlotInfo(ids[i], &slot_info) != CKR_OK)
			continue;
		if (!(slot_info.flags & CKF_TOKEN_PRESENT)) {
			note_withheld(module, ids[i], &slot_info, list);
			continue;
		}
		if (f->C_GetTokenInfo(ids[i], &info) != CKR_OK) {
			list->unrecognized++;
			continue;
		}
		if (token_is_user_code(&info))
			continue;
		card_read(module, ids[i], &slot_info, &info, &list->cards[list->count++]);
	}
	free(ids);
	return CKR_OK;
}

void card_list_free(struct card_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		cert_facts_clear(&list->cards[i].cert);
	free(list->cards);
	free(list->withheld);
	memset(list, 0, sizeof(*list));
}

/* The token now in the card's slot is still the card chosen (its serial). */
static CK_RV same_card(const struct module *module, struct card *card, CK_TOKEN_INFO *info)
{
	char serial[17];
	CK_RV rv = module->functions->C_GetTokenInfo(card->slot, info);

	if (rv != CKR_OK)
		return rv;
	PADDED_COPY(serial, info->serialNumber);
	text_sanitize(serial);
	return strcmp(serial, card->serial) == 0 ? CKR_OK : CKR_DEVICE_REMOVED;
}

CK_RV card_bind(const struct module *module, struct card *card)
{
	CK_FUNCTION_LIST *f = module->functions;
	CK_TOKEN_INFO info;
	CK_RV rv;

	rv = f->C_OpenSession(card->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                      &card->session);
	if (rv != CKR_OK)
		return rv;
	card->bound = true;
	/* Opened after the card was listed: it must be the same card (a swap after this point
	 * makes the session stale). */
	rv = same_card(module, card, &info);
	if (rv != CKR_OK)
		card_unbind(module, card);
	return rv;
}

void card_unbind(const struct module *module, struct card *card)
{
	if (!card->bound)
		return;
	module->functions->C_CloseSession(card->session);
	card->bound = false;
}

void cards_unbind(const struct module *module, struct card_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		card_unbind(module, &list->cards[i]);
}

CK_RV card_check_bound(const struct module *module, struct card *card)
{
	CK_SESSION_INFO info;
	CK_RV rv;

	if (!card->bound)
		return CKR_SESSION_HANDLE_INVALID;
	rv = module->functions->C_GetSessionInfo(card->session, &info);
	if (rv == CKR_OK && info.slotID != card->slot)
		rv = CKR_DEVICE_REMOVED;
	return rv;
}

CK_RV card_refresh_tries(const struct module *module, struct card *card)
{
	CK_FUNCTION_LIST *f = module->functions;
	CK_SESSION_HANDLE session;
	CK_RV rv;

	if (card->bound) {
		rv = card_check_bound(module, card);
		if (rv == CKR_OK)
			rv = same_card(module, card, &card->token_info);
		if (rv == CKR_OK)
			read_tries(module, card->session, card);
		return rv;
	}
	rv = f->C_GetTokenInfo(card->slot, &card->token_info);
	if (rv != CKR_OK)
		return rv;
	rv = f->C_OpenSession(card->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
	if (rv != CKR_OK)
		return rv;
	read_tries(module, session, card);
	f->C_CloseSession(session);
	return CKR_OK;
}

bool card_selector_any(const struct card_selector *selector)
{
	return selector->serial != NULL || selector->by_slot || selector->uri != NULL;
}

bool card_selected(const struct card_selector *selector, const struct card *card)
{
	if (selector->serial != NULL && strcmp(selector->serial, card->serial) != 0)
		return false;
	if (selector->by_slot && selector->slot != card->slot)
		return false;
	if (selector->uri != NULL &&
	    !p11_kit_uri_match_token_info(selector->uri, (CK_TOKEN_INFO *)&card->token_info))
		return false;
	return true;
}

/* Logs in on the bound session: with the count the holder saw when the module offers it. */
static CK_RV login_bound(const struct module *module, struct card *card, CK_USER_TYPE user,
                         const struct secret *secret, int tries_seen, enum pin_stage *stage)
{
	CK_FUNCTION_LIST *f = module->functions;
	bool nothing_sent;
	CK_RV rv;

	*stage = PIN_STAGE_SESSION;
	/* A card that changed since the holder chose it fails here, before any secret moves. */
	rv = card_check_bound(module, card);
	if (rv != CKR_OK)
		return rv;
	*stage = PIN_STAGE_LOGIN;
	if (!vendor_login(module, card->session, user, (const CK_UTF8CHAR *)secret->value,
	                  secret->len, tries_seen, &rv, &nothing_sent))
		rv = f->C_Login(card->session, user, (CK_UTF8CHAR_PTR)secret->value, secret->len);
	else if (nothing_sent)
		*stage = PIN_STAGE_SESSION; /* the module says the secret never left */
	if (rv == CKR_OK)
		*stage = PIN_STAGE_CHANGE;
	return rv;
}

CK_RV card_reset_pin(const struct module *module, struct card *card, const struct secret *user_code,
                     const struct secret *new_pin, enum pin_stage *stage)
{
	CK_RV rv = login_bound(module, card, CKU_SO, user_code, card->user_code.left, stage);

	if (rv != CKR_OK)
		return rv;
	rv = module->functions->C_InitPIN(card->session, (CK_UTF8CHAR_PTR)new_pin->value,
	                                  new_pin->len);
	module->functions->C_Logout(card->session);
	return rv;
}

CK_RV card_change_pin(const struct module *module, struct card *card,
                      const struct secret *current_pin, const struct secret *new_pin,
                      enum pin_stage *stage)
{
	CK_RV rv = login_bound(module, card, CKU_USER, current_pin, card->pin.left, stage);

	if (rv != CKR_OK)
		return rv;
	rv = module->functions->C_SetPIN(card->session, (CK_UTF8CHAR_PTR)current_pin->value,
	                                 current_pin->len, (CK_UTF8CHAR_PTR)new_pin->value,
	                                 new_pin->len);
	module->functions->C_Logout(card->session);
	return rv;
}
