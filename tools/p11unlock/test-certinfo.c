/* Certificate facts: the holder DN in X.509 order as UTF-8, the CA named from
 * the issuer, and the dates in both languages. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "test-lang.h"

/* A name from "type", "value" pairs (UTF-8), NULL-terminated; set > 0 adds to the previous RDN. */
static X509_NAME *name_of(const char *const *pairs)
{
	X509_NAME *name = X509_NAME_new();

	assert_non_null(name);
	for (size_t i = 0; pairs[i] != NULL; i += 2) {
		const char *type = pairs[i];
		int set = 0;
		if (type[0] == '+') {
			type++;
			set = -1;
		}
		assert_int_equal(X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
		                                            (const unsigned char *)pairs[i + 1], -1,
		                                            -1, set),
		                 1);
	}
	return name;
}

static void assert_dn(const char *const *pairs, const char *expected)
{
	X509_NAME *name = name_of(pairs);
	char *text = dn_format(name);

	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
	X509_NAME_free(name);
}

static void test_dn_format(void **state)
{
	(void)state;
	assert_dn((const char *const[]){"C", "TW", "O", "組織及團體憑證管理中心憑證測試中心", NULL},
	          "C=TW,O=組織及團體憑證管理中心憑證測試中心");
	assert_dn((const char *const[]){"C", "TW", "O", "行政院", "OU", "內政部憑證管理中心", "CN",
	                                "王小明", NULL},
	          "C=TW,O=行政院,OU=內政部憑證管理中心,CN=王小明");
	/* Special characters are escaped so that the RDNs stay apart. */
	assert_dn((const char *const[]){"C", "TW", "O", "Acme, Inc.", NULL}, "C=TW,O=Acme\\, Inc.");
	assert_dn((const char *const[]){"CN", "a+b", NULL}, "CN=a\\+b");
	/* A multi-valued RDN. */
	assert_dn((const char *const[]){"C", "TW", "CN", "王小明", "+serialNumber", "A123", NULL},
	          "C=TW,CN=王小明+serialNumber=A123");
	/* Control characters from the card never reach a terminal as they are. */
	assert_dn((const char *const[]){"CN", "a\033[2Jb", NULL}, "CN=a\\1B[2Jb");
}

static enum ca_id ca_of(const char *const *pairs)
{
	X509_NAME *name = name_of(pairs);
	enum ca_id ca = ca_from_issuer(name);

	X509_NAME_free(name);
	return ca;
}

static void test_ca_from_issuer(void **state)
{
	(void)state;
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU",
	                                             "內政部憑證管理中心", NULL}),
	                 CA_MOICA);
	assert_int_equal(
	    ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU", "政府憑證管理中心", NULL}),
	    CA_GCA);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU",
	                                             "組織及團體憑證管理中心", NULL}),
	                 CA_XCA);
	/* The virtual card's issuing CA. */
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU",
	                                             "組織及團體憑證管理中心 測試", NULL}),
	                 CA_XCA);
	assert_int_equal(
	    ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU", "工商憑證管理中心", NULL}),
	    CA_MOEACA);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "O", "行政院", "OU",
	                                             "衛生福利部醫事憑證管理中心", NULL}),
	                 CA_HCA);
	assert_int_equal(
	    ca_of((const char *const[]){"C", "TW", "O", "行政院衛生署醫事憑證管理中心", NULL}),
	    CA_HCA);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "CN", "MOICA Test CA", NULL}),
	                 CA_MOICA);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "CN", "MOEACA", NULL}), CA_MOEACA);
	/* Acronyms count as whole words only. */
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "CN", "GCA2 Root", NULL}),
	                 CA_UNKNOWN);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "CN", "XHCA", NULL}), CA_UNKNOWN);
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "O", "p11unlock Test CA", NULL}),
	                 CA_UNKNOWN);
	/* Only O, OU and CN name a CA. */
	assert_int_equal(ca_of((const char *const[]){"C", "TW", "L", "內政部憑證管理中心", NULL}),
	                 CA_UNKNOWN);
}

static void test_ca_display_name(void **state)
{
	(void)state;
	assert_true(test_lang_set("en"));
	assert_string_equal(ca_display_name(CA_MOICA),
	                    "the Ministry of the Interior Certification Authority (MOICA)");
	assert_string_equal(ca_display_name(CA_GCA),
	                    "the Government Certification Authority (GCA)");
	assert_string_equal(ca_display_name(CA_XCA),
	                    "the Organizations and Groups Certification Authority (XCA)");
	assert_string_equal(ca_display_name(CA_MOEACA),
	                    "the MOEA Certification Authority (MOEACA)");
	assert_string_equal(ca_display_name(CA_HCA),
	                    "the Healthcare Certification Authority (HCA)");
	assert_string_equal(ca_display_name(CA_UNKNOWN), "your CA");
	if (!test_lang_set("zh_TW"))
		skip();
	assert_string_equal(ca_display_name(CA_MOICA), "內政部憑證管理中心");
	assert_string_equal(ca_display_name(CA_GCA), "政府憑證管理中心");
	assert_string_equal(ca_display_name(CA_XCA), "組織及團體憑證管理中心");
	assert_string_equal(ca_display_name(CA_MOEACA), "工商憑證管理中心");
	assert_string_equal(ca_display_name(CA_HCA), "衛生福利部醫事憑證管理中心");
	assert_string_equal(ca_display_name(CA_UNKNOWN), "您的憑證管理中心");
	test_lang_set("en");
}

/* Each CA's site, whatever the language; none for an unknown issuer. */
static void test_ca_web_page(void **state)
{
	(void)state;
	assert_string_equal(ca_web_page(CA_MOICA), "https://moica.nat.gov.tw/");
	assert_string_equal(ca_web_page(CA_GCA), "https://gca.nat.gov.tw/");
	assert_string_equal(ca_web_page(CA_XCA), "https://xca.nat.gov.tw/");
	assert_string_equal(ca_web_page(CA_MOEACA), "https://moeaca.nat.gov.tw/");
	assert_string_equal(ca_web_page(CA_HCA), "https://hca.nat.gov.tw/");
	assert_null(ca_web_page(CA_UNKNOWN));
}

static time_t utc(int year, int month, int day, int hour)
{
	struct tm tm = {
	    .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = hour};

	return timegm(&tm);
}

static void set_timezone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Compares a new string with the text expected, and frees it. */
static void assert_text(char *got, const char *expected)
{
	assert_string_equal(got, expected);
	free(got);
}

static void test_dates_en(void **state)
{
	struct civil_date date = {2015, 9, 1};
	char text[64];

	(void)state;
	assert_true(test_lang_set("en"));
	set_timezone("UTC");
	assert_text(date_format(&date), "2015-09-01");
	date_format_iso(&date, text, sizeof(text));
	assert_string_equal(text, "2015-09-01");
	assert_text(validity_format(utc(2015, 9, 1, 0), utc(2021, 9, 1, 0)),
	            "2015-09-01 – 2021-09-01");
	assert_text(validity_format(utc(2025, 12, 31, 23), utc(2031, 1, 2, 0)),
	            "2025-12-31 – 2031-01-02");
}

static void test_dates_zh(void **state)
{
	struct civil_date date = {2015, 9, 1};
	char text[64];

	(void)state;
	if (!test_lang_set("zh_TW"))
		skip();
	set_timezone("UTC");
	assert_text(date_format(&date), "2015年9月1日");
	/* JSON dates do not follow the language. */
	date_format_iso(&date, text, sizeof(text));
	assert_string_equal(text, "2015-09-01");
	assert_text(validity_format(utc(2015, 9, 1, 0), utc(2021, 9, 1, 0)),
	            "自2015年9月1日 至 2021年9月1日");
	assert_text(validity_format(utc(2025, 12, 31, 23), utc(2031, 11, 22, 0)),
	            "自2025年12月31日 至 2031年11月22日");
	test_lang_set("en");
}

static void test_dates_local_time(void **state)
{
	(void)state;
	assert_true(test_lang_set("en"));
	/* Midnight in Taipei is 16:00 UTC the day before: the holder sees the local date. */
	set_timezone("Asia/Taipei");
	assert_text(validity_format(utc(2015, 8, 31, 16), utc(2021, 8, 31, 16)),
	            "2015-09-01 – 2021-09-01");
	set_timezone("UTC");
	assert_text(validity_format(utc(2015, 8, 31, 16), utc(2021, 8, 31, 16)),
	            "2015-08-31 – 2021-08-31");
}

/* A certificate as a card holds it: issued by a CA, with a UTF-8 subject. */
static unsigned char *make_certificate(size_t *len, const char *not_before, const char *not_after)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *subject = name_of(
	    (const char *const[]){"C", "TW", "O", "組織及團體憑證管理中心憑證測試中心", NULL});
	X509_NAME *issuer = name_of((const char *const[]){"C", "TW", "O", "行政院", "OU",
	                                                  "組織及團體憑證管理中心 測試", NULL});
	unsigned char *der = NULL;
	int der_len;

	assert_non_null(key);
	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1), 1);
	assert_int_equal(X509_set_subject_name(cert, subject), 1);
	assert_int_equal(X509_set_issuer_name(cert, issuer), 1);
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notBefore(cert), not_before), 1);
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notAfter(cert), not_after), 1);
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
	der_len = i2d_X509(cert, &der);
	assert_true(der_len > 0);
	*len = (size_t)der_len;
	X509_NAME_free(subject);
	X509_NAME_free(issuer);
	X509_free(cert);
	EVP_PKEY_free(key);
	return der;
}

static void test_cert_facts(void **state)
{
	struct cert_facts facts;
	unsigned char *der;
	size_t len;

	(void)state;
	der = make_certificate(&len, "20250901000000Z", "20310901000000Z");
	assert_true(cert_facts_from_der(der, len, &facts));
	assert_string_equal(facts.holder, "C=TW,O=組織及團體憑證管理中心憑證測試中心");
	assert_int_equal(facts.ca, CA_XCA);
	assert_false(facts.is_ca);
	assert_int_equal(facts.not_before, utc(2025, 9, 1, 0));
	assert_int_equal(facts.not_after, utc(2031, 9, 1, 0));
	cert_facts_clear(&facts);
	assert_null(facts.holder);
	/* Cut or damaged DER does not parse. */
	assert_false(cert_facts_from_der(der, len - 1, &facts));
	assert_null(facts.holder);
	der[0] = 0x31;
	assert_false(cert_facts_from_der(der, len, &facts));
	assert_false(cert_facts_from_der(der, 0, &facts));
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dn_format),        cmocka_unit_test(test_ca_from_issuer),
	    cmocka_unit_test(test_ca_display_name),  cmocka_unit_test(test_ca_web_page),
	    cmocka_unit_test(test_dates_en),         cmocka_unit_test(test_dates_zh),
	    cmocka_unit_test(test_dates_local_time), cmocka_unit_test(test_cert_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
