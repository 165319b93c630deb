/* What the tool shows about a card's signature certificate: the holder (subject
 * DN in X.509 order, unescaped UTF-8), the validity dates and the certificate
 * authority that issued it (named in the user-code reset hint).
 * Certificates come from the card: everything is parsed defensively. */
#ifndef P11UNLOCK_TOOL_CERTINFO_H
#define P11UNLOCK_TOOL_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

/* The Taiwanese certificate authorities whose cards carry a user code. */
enum ca_id {
	CA_UNKNOWN = 0, /* "your CA" */
	CA_MOICA,       /* 內政部憑證管理中心 */
	CA_GCA,         /* 政府憑證管理中心 */
	CA_XCA,         /* 組織及團體憑證管理中心 */
	CA_MOEACA,      /* 工商憑證管理中心 */
	CA_HCA,         /* 衛生福利部醫事憑證管理中心 */
};

struct civil_date {
	int year;
	int month; /* 1..12 */
	int day;   /* 1..31 */
};

struct cert_facts {
	char *holder; /* subject DN, e.g. "C=TW,O=組織及團體憑證管理中心憑證測試中心" */
	enum ca_id ca;
	bool is_ca; /* a CA certificate (basic constraints, or a v1 self-signed one) */
	time_t not_before;
	time_t not_after;
};

/* Parses a DER certificate.  Returns false when it does not parse. */
bool cert_facts_from_der(const uint8_t *der, size_t len, struct cert_facts *facts);
void cert_facts_clear(struct cert_facts *facts);

/* The DN in X.509 order (as encoded), RFC 4514 escaping of special characters and control
 * characters, non-ASCII characters as UTF-8: "C=TW,O=組織及團體憑證管理中心憑證測試中心".
 * Returns a malloc'ed string or NULL. */
char *dn_format(const X509_NAME *name);

/* The CA named in an issuer DN (any O, OU or CN value naming one), or CA_UNKNOWN. */
enum ca_id ca_from_issuer(const X509_NAME *issuer);

/* The CA's name in the current language ("your CA" for CA_UNKNOWN). */
const char *ca_display_name(enum ca_id ca);

/* The CA's web site, where a real card's lock release starts, or NULL for CA_UNKNOWN. */
const char *ca_web_page(enum ca_id ca);

/* The date of an instant in local time. */
void civil_date_from_time(time_t t, struct civil_date *date);

/* "2015-09-01" (also for JSON), independent of the language. */
void date_format_iso(const struct civil_date *date, char *out, size_t size);

/* In the current language: "2015-09-01" or "2015年9月1日".  A new string (free it). */
char *date_format(const struct civil_date *date);

/* In the current language: "2015-09-01 – 2021-09-01" or "自2015年9月1日 至 2021年9月1日".
 * A new string (free it). */
char *validity_format(time_t not_before, time_t not_after);

#endif
