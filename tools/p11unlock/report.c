#include "config.h"

#include "report.h"

#include <stdlib.h>
#include <time.h>

#include "i18n.h"
#include "text.h"

char *tries_text(const struct tries *tries, bool is_pin)
{
	switch (tries->state) {
	case TRIES_LOCKED:
		return xstrdup(is_pin ? _("locked") : _("blocked"));
	case TRIES_OK:
		/* The PIN's normal state is plain "OK"; the user code's count is worth showing. */
		if (is_pin || tries->left < 0)
			return xstrdup(_("OK"));
		break;
	case TRIES_LOW:
		if (tries->left < 0)
			return xstrdup(_("fewer tries left"));
		break;
	case TRIES_FINAL:
		break;
	}
	return xasprintf(ngettext("%d try left", "%d tries left", (unsigned long)tries->left),
	                 tries->left);
}

/* An indented "Label: value" line (values were sanitized when read). */
static void line(FILE *out, const char *label, const char *value, const char *suffix)
{
	fprintf(out, "    %s%s%s\n", label, value, suffix);
}

static const char *validity_note(const struct cert_facts *cert)
{
	time_t now = time(NULL);

	if (now > cert->not_after)
		return _(" (expired)");
	if (now < cert->not_before)
		return _(" (not yet valid)");
	return "";
}

/* "Label: " and the tries text, on an indented line. */
static void tries_line(FILE *out, const char *label, const struct tries *tries, bool is_pin)
{
	char *text = tries_text(tries, is_pin);

	line(out, label, text, "");
	free(text);
}

void report_card_text(FILE *out, size_t index, const struct card *card, bool verbose)
{
	fprintf(out, "[%zu] %s%s\n", index, _("Card number: "), card->serial);
	if (verbose) {
		char *slot = xasprintf(_(" (slot %lu)"), (unsigned long)card->slot);

		line(out, _("Reader: "), card->reader, slot);
		free(slot);
	} else {
		line(out, _("Reader: "), card->reader, "");
	}
	if (card->kind == CARD_FOREIGN)
		line(out, _("Token: "), card->label, "");
	if (verbose)
		line(out, _("Card type: "), card->model, "");
	if (card->has_cert) {
		char *validity = validity_format(card->cert.not_before, card->cert.not_after);

		line(out, _("Holder: "), card->cert.holder, "");
		line(out, _("Validity: "), validity, validity_note(&card->cert));
		free(validity);
	} else {
		line(out, _("Holder: "), _("unknown (no holder certificate)"), "");
	}
	switch (card->kind) {
	case CARD_HICOS:
		/* A first-generation card with the module's hicos_login on logs in and signs. */
		if (card->token_info.flags & CKF_LOGIN_REQUIRED)
			line(
			    out, "",
			    _("Real HiCOS card: its lock is released by the CA, not by this tool."),
			    "");
		else
			line(out, "",
			     _("Read-only card: its lock is released by the CA, not by this tool."),
			     "");
		if (card->hicos_login_off)
			line(out, "",
			     _("PIN login, signing and decryption are off: hicos_login = yes in "
			       "p11unlock.conf turns them on (see the README)."),
			     "");
		return;
	case CARD_FOREIGN:
		tries_line(out, _("PIN: "), &card->pin, true);
		tries_line(out, _("SO PIN: "), &card->user_code, false);
		line(out, "", _("Not a p11unlock token: unlocking it needs --foreign-token."), "");
		return;
	case CARD_P11UNLOCK:
		break;
	}
	tries_line(out, _("PIN: "), &card->pin, true);
	tries_line(out, _("User code: "), &card->user_code, false);
}

void report_list_text(FILE *out, const struct card_list *list, bool verbose)
{
	for (size_t i = 0; i < list->count; i++)
		report_card_text(out, i + 1, &list->cards[i], verbose);
}

static const char *kind_name(enum card_kind kind)
{
	switch (kind) {
	case CARD_HICOS:
		return "hicos-read-only";
	case CARD_FOREIGN:
		return "foreign";
	case CARD_P11UNLOCK:
		break;
	}
	return "p11unlock";
}

static const char *state_name(enum tries_state state)
{
	switch (state) {
	case TRIES_LOW:
		return "low";
	case TRIES_FINAL:
		return "final_try";
	case TRIES_LOCKED:
		return "locked";
	case TRIES_OK:
		break;
	}
	return "ok";
}

static const char *source_name(enum tries_source source)
{
	switch (source) {
	case TRIES_FROM_VENDOR:
		return "vendor_interface";
	case TRIES_FROM_FLAGS:
		return "token_flags";
	case TRIES_FROM_STATUS_OBJECT:
		break;
	}
	return "status_object";
}

static const char *ca_acronym(enum ca_id ca)
{
	switch (ca) {
	case CA_MOICA:
		return "MOICA";
	case CA_GCA:
		return "GCA";
	case CA_XCA:
		return "XCA";
	case CA_MOEACA:
		return "MOEACA";
	case CA_HCA:
		return "HCA";
	case CA_UNKNOWN:
		break;
	}
	return NULL;
}

static void json_key_string(FILE *out, const char *key, const char *value)
{
	fprintf(out, "\"%s\":", key);
	if (value == NULL)
		fputs("null", out);
	else
		json_write_string(out, value);
}

static void json_tries(FILE *out, const char *key, const struct tries *tries)
{
	fprintf(out, "\"%s\":{\"state\":\"%s\",\"tries_left\":", key, state_name(tries->state));
	if (tries->left < 0)
		fputs("null}", out);
	else
		fprintf(out, "%d}", tries->left);
}

static void json_date(FILE *out, const char *key, time_t t)
{
	struct civil_date date;
	char iso[16];

	civil_date_from_time(t, &date);
	date_format_iso(&date, iso, sizeof(iso));
	json_key_string(out, key, iso);
}

void report_card_json(FILE *out, const struct card *card)
{
	fprintf(out, "{\"slot\":%lu,", (unsigned long)card->slot);
	json_key_string(out, "reader", card->reader);
	fputc(',', out);
	json_key_string(out, "card_number", card->serial);
	fputc(',', out);
	json_key_string(out, "label", card->label);
	fputc(',', out);
	json_key_string(out, "card_type", card->model);
	fputc(',', out);
	json_key_string(out, "manufacturer", card->manufacturer);
	fprintf(out, ",\"kind\":\"%s\",", kind_name(card->kind));
	json_key_string(out, "holder", card->has_cert ? card->cert.holder : NULL);
	fputc(',', out);
	if (card->has_cert) {
		json_date(out, "not_before", card->cert.not_before);
		fputc(',', out);
		json_date(out, "not_after", card->cert.not_after);
		fprintf(out, ",\"expired\":%s,",
		        time(NULL) > card->cert.not_after ? "true" : "false");
		json_key_string(out, "ca", ca_acronym(card->cert.ca));
	} else {
		fputs("\"not_before\":null,\"not_after\":null,\"expired\":null,\"ca\":null", out);
	}
	fputc(',', out);
	json_tries(out, "pin", &card->pin);
	fputc(',', out);
	json_tries(out, "user_code", &card->user_code);
	fprintf(out, ",\"tries_source\":\"%s\"}", source_name(card->tries_source));
}

void report_list_json(FILE *out, const struct card_list *list)
{
	fputs("{\"cards\":[", out);
	for (size_t i = 0; i < list->count; i++) {
		if (i > 0)
			fputc(',', out);
		report_card_json(out, &list->cards[i]);
	}
	fputs("]}\n", out);
}
