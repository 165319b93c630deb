/* fuzz-tool-inputs: what the p11unlock tool parses, as the tool uses it.  The first byte picks:
 *   0  the status object's value (status_value_parse): counters 0-99 exactly;
 *   1  an answer typed at a secret prompt (secret_check) for each field: accepted exactly
 *      when it has the field's length and only characters 0x21-0x7E, and its message;
 *   2  a certificate from the card (cert_facts_from_der, and the dates as the report shows
 *      them): the holder is sanitized UTF-8;
 *   3  a --token URI (p11_kit_uri_parse, p11_kit_uri_any_unrecognized, card_selected). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "common/text.h"
#include "fuzz-script.h"
#include "p11unlock/certinfo.h"
#include "p11unlock/secret.h"
#include "p11unlock/token.h"

static void status_value(const uint8_t *data, size_t size)
{
	int pin = -1, user_code = -1;

	if (status_value_parse((const char *)data, size, &pin, &user_code))
		FUZZ_CHECK(pin >= 0 && pin <= 99 && user_code >= 0 && user_code <= 99,
		           "counters %d and %d", pin, user_code);
}

static void secret_answer(const uint8_t *data, size_t size)
{
	static const enum secret_field fields[] = {SECRET_FIELD_USER_CODE, SECRET_FIELD_CURRENT_PIN,
	                                           SECRET_FIELD_NEW_PIN,
	                                           SECRET_FIELD_NEW_PIN_AGAIN};
	char *message;

	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		enum secret_problem problem = secret_check(fields[f], (const char *)data, size);
		bool printable = true;
		size_t min, max;

		for (size_t i = 0; i < size; i++)
			printable = printable && data[i] >= 0x21 && data[i] <= 0x7E;
		secret_field_limits(fields[f], &min, &max);
		FUZZ_CHECK((problem == SECRET_OK) == (printable && size >= min && size <= max),
		           "field %d: answer of %zu bytes judged %d", (int)fields[f], size,
		           (int)problem);
		message = secret_problem_message(fields[f], problem);
		FUZZ_CHECK(message != NULL && (problem == SECRET_OK) == (message[0] == '\0'),
		           "field %d: message for problem %d", (int)fields[f], (int)problem);
		free(message);
	}
}

static bool safe_text(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = p11u_utf8_decode((const unsigned char *)s + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x202E)
			return false;
		i += n;
	}
	return true;
}

static void certificate(const uint8_t *data, size_t size)
{
	struct cert_facts facts;
	struct civil_date date;
	char text[128], *shown;

	if (!cert_facts_from_der(data, size, &facts)) {
		FUZZ_CHECK(facts.holder == NULL, "a failed parse left a holder");
		return;
	}
	FUZZ_CHECK(facts.holder != NULL && safe_text(facts.holder), "holder not sanitized");
	/* What the report shows of it. */
	ca_display_name(facts.ca);
	shown = validity_format(facts.not_before, facts.not_after);
	FUZZ_CHECK(shown != NULL, "no validity text");
	free(shown);
	civil_date_from_time(facts.not_after, &date);
	date_format_iso(&date, text, sizeof text);
	shown = date_format(&date);
	FUZZ_CHECK(shown != NULL, "no date text");
	free(shown);
	cert_facts_clear(&facts);
}

static void padded(CK_UTF8CHAR *field, size_t size, const char *text)
{
	size_t n = strlen(text);

	memset(field, ' ', size);
	memcpy(field, text, n < size ? n : size);
}

static void token_uri(const uint8_t *data, size_t size)
{
	struct card_selector selector = {0};
	struct card card;
	char *text = malloc(size + 1);

	FUZZ_CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&card, 0, sizeof card);
	card.slot = 0;
	strcpy(card.serial, "XC00000000091349");
	padded(card.token_info.label, sizeof card.token_info.label, "p11unlock card 091349");
	padded(card.token_info.manufacturerID, sizeof card.token_info.manufacturerID,
	       P11UNLOCK_MANUFACTURER);
	padded(card.token_info.model, sizeof card.token_info.model, "P11U V1");
	padded(card.token_info.serialNumber, sizeof card.token_info.serialNumber, card.serial);

	/* As main.c reads --token. */
	selector.uri = p11_kit_uri_new();
	FUZZ_CHECK(selector.uri != NULL, "out of memory");
	if (p11_kit_uri_parse(text, P11_KIT_URI_FOR_TOKEN, selector.uri) == P11_KIT_URI_OK &&
	    !p11_kit_uri_any_unrecognized(selector.uri)) {
		card_selected(&selector, &card);
		selector.serial = card.serial;
		selector.by_slot = true;
		card_selected(&selector, &card);
	}
	p11_kit_uri_free(selector.uri);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		status_value(data + 1, size - 1);
		break;
	case 1:
		secret_answer(data + 1, size - 1);
		break;
	case 2:
		certificate(data + 1, size - 1);
		break;
	default:
		token_uri(data + 1, size - 1);
		break;
	}
	return 0;
}
