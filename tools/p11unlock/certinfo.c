#include "config.h"

#include "certinfo.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "i18n.h"
#include "text.h"

/* X.509 order (no XN_FLAG_DN_REV), "," between RDNs, short names, RFC 4514 escaping of
 * special and control characters, but UTF-8 left as it is (no ASN1_STRFLGS_ESC_MSB). */
#define DN_PRINT_FLAGS ((XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) & ~(unsigned long)ASN1_STRFLGS_ESC_MSB)

/* How each CA shows up in an issuer's O / OU / CN: a Chinese name part or its acronym. */
/* clang-format off */
static const struct {
	enum ca_id id;
	const char *name_part; /* a substring of the Chinese name, as old and new issuers spell it */
	const char *acronym;   /* a whole word */
} ca_table[] = {
	{CA_MOICA, "內政部憑證管理中心", "MOICA"},
	{CA_GCA, "政府憑證管理中心", "GCA"},
	{CA_XCA, "組織及團體憑證管理中心", "XCA"},
	{CA_MOEACA, "工商憑證管理中心", "MOEACA"},
	{CA_HCA, "醫事憑證管理中心", "HCA"},
};
/* clang-format on */

char *dn_format(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	char *out = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, DN_PRINT_FLAGS) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len >= 0 && (out = malloc((size_t)len + 1)) != NULL) {
			memcpy(out, data, (size_t)len);
			out[len] = '\0';
		}
	}
	BIO_free(bio);
	return out;
}

static bool is_word_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool contains_word(const char *text, const char *word)
{
	size_t word_len = strlen(word);

	for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word)) {
		bool starts = p == text || !is_word_char(p[-1]);
		bool ends = !is_word_char(p[word_len]);
		if (starts && ends)
			return true;
	}
	return false;
}

static enum ca_id ca_from_text(const char *text)
{
	for (size_t i = 0; i < sizeof(ca_table) / sizeof(ca_table[0]); i++) {
		if (strstr(text, ca_table[i].name_part) != NULL ||
		    contains_word(text, ca_table[i].acronym))
			return ca_table[i].id;
	}
	return CA_UNKNOWN;
}

enum ca_id ca_from_issuer(const X509_NAME *issuer)
{
	int count = X509_NAME_entry_count(issuer);

	for (int i = 0; i < count; i++) {
		const X509_NAME_ENTRY *entry = X509_NAME_get_entry(issuer, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
		unsigned char *utf8 = NULL;
		enum ca_id ca;
		int len;

		if (nid != NID_organizationName && nid != NID_organizationalUnitName &&
		    nid != NID_commonName)
			continue;
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
		if (len < 0)
			continue;
		/* An embedded NUL would hide the rest of the value from strstr: skip it. */
		ca = memchr(utf8, '\0', (size_t)len) == NULL ? ca_from_text((const char *)utf8)
		                                             : CA_UNKNOWN;
		OPENSSL_free(utf8);
		if (ca != CA_UNKNOWN)
			return ca;
	}
	return CA_UNKNOWN;
}

const char *ca_display_name(enum ca_id ca)
{
	switch (ca) {
	case CA_MOICA:
		return _("the Ministry of the Interior Certification Authority (MOICA)");
	case CA_GCA:
		return _("the Government Certification Authority (GCA)");
	case CA_XCA:
		return _("the Organizations and Groups Certification Authority (XCA)");
	case CA_MOEACA:
		return _("the MOEA Certification Authority (MOEACA)");
	case CA_HCA:
		return _("the Healthcare Certification Authority (HCA)");
	case CA_UNKNOWN:
		break;
	}
	return _("your CA");
}

/* The CAs' own sites (not a deep link: those move); each leads to its card services. */
const char *ca_web_page(enum ca_id ca)
{
	switch (ca) {
	case CA_MOICA:
		return "https://moica.nat.gov.tw/";
	case CA_GCA:
		return "https://gca.nat.gov.tw/";
	case CA_XCA:
		return "https://xca.nat.gov.tw/";
	case CA_MOEACA:
		return "https://moeaca.nat.gov.tw/";
	case CA_HCA:
		return "https://hca.nat.gov.tw/";
	case CA_UNKNOWN:
		break;
	}
	return NULL;
}

static bool asn1_time_to_time_t(const ASN1_TIME *asn1, time_t *out)
{
	struct tm tm;

	if (asn1 == NULL || !ASN1_TIME_to_tm(asn1, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

bool cert_facts_from_der(const uint8_t *der, size_t len, struct cert_facts *facts)
{
	const unsigned char *p = der;
	X509 *cert;
	bool ok = false;

	memset(facts, 0, sizeof(*facts));
	if (len > LONG_MAX)
		return false;
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert == NULL)
		return false;
	facts->holder = dn_format(X509_get_subject_name(cert));
	if (facts->holder != NULL)
		text_sanitize(facts->holder);
	facts->ca = ca_from_issuer(X509_get_issuer_name(cert));
	facts->is_ca = X509_check_ca(cert) != 0;
	if (facts->holder != NULL &&
	    asn1_time_to_time_t(X509_get0_notBefore(cert), &facts->not_before) &&
	    asn1_time_to_time_t(X509_get0_notAfter(cert), &facts->not_after))
		ok = true;
	X509_free(cert);
	if (!ok)
		cert_facts_clear(facts);
	return ok;
}

void cert_facts_clear(struct cert_facts *facts)
{
	free(facts->holder);
	memset(facts, 0, sizeof(*facts));
}

void civil_date_from_time(time_t t, struct civil_date *date)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	localtime_r(&t, &tm);
	date->year = tm.tm_year + 1900;
	date->month = tm.tm_mon + 1;
	date->day = tm.tm_mday;
}

void date_format_iso(const struct civil_date *date, char *out, size_t size)
{
	snprintf(out, size, "%04d-%02d-%02d", date->year, date->month, date->day);
}

char *date_format(const struct civil_date *date)
{
	/* TRANSLATORS: a date: year, month, day (zh_TW: 2015年9月1日). */
	return xasprintf(_("%1$04d-%2$02d-%3$02d"), date->year, date->month, date->day);
}

char *validity_format(time_t not_before, time_t not_after)
{
	struct civil_date from, to;
	char *from_text, *to_text, *text;

	civil_date_from_time(not_before, &from);
	civil_date_from_time(not_after, &to);
	from_text = date_format(&from);
	to_text = date_format(&to);
	/* TRANSLATORS: a certificate's validity period, from the first date to the second. */
	text = xasprintf(_("%1$s – %2$s"), from_text, to_text);
	free(from_text);
	free(to_text);
	return text;
}
