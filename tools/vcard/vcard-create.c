/* Personalization: a root CA, an issuing CA signed by it, two RSA key pairs and
 * their certificates (signature: digitalSignature + nonRepudiation; encryption:
 * keyEncipherment + dataEncipherment), laid out in EF 08F2 as on real cards,
 * the directory files of a gen1 or gen2 card (vcard-pkcs15.c), and written to a
 * new state file. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "vcard/vcard-internal.h"

/* Clearly test CAs, named like the real hierarchy (GRCA -> XCA) so that tools that
 * name the CA from the issuer have something to find. */
#define ROOT_CA_DN    "C=TW,O=Government Root Certification Authority 測試"
#define ISSUING_CA_DN "C=TW,O=行政院,OU=組織及團體憑證管理中心 測試"

#define DN_MAX 2048

static const struct vcard_params default_params = {
    .card_number = "XC00000000091349",
    .holder_dn = "C=TW,O=組織及團體憑證管理中心憑證測試中心",
    .not_before = "2025-09-01",
    .not_after = "2031-09-01",
    .pin = "123456",
    .user_code = "Ab12cd34",
    .key_bits = 2048,
    .card_type = "P11U V1",
};

static void apply_defaults(struct vcard_params *p, const struct vcard_params *given)
{
	*p = default_params;
	if (!given)
		return;
#define TAKE(field)                                                                                \
	if (given->field)                                                                          \
		p->field = given->field;
	TAKE(card_number)
	TAKE(holder_dn)
	TAKE(not_before)
	TAKE(not_after)
	TAKE(pin)
	TAKE(user_code)
	TAKE(key_bits)
	TAKE(card_type)
	TAKE(junk_cert_slots)
	TAKE(variant)
#undef TAKE
	/* A real-card variant announces a real card's type unless told otherwise. */
	if (!given->card_type && p->variant == VCARD_VARIANT_GEN1)
		p->card_type = "CHT V32N";
	if (!given->card_type && p->variant == VCARD_VARIANT_GEN2)
		p->card_type = "HiCOS GPPKI";
}

/* Dates: YYYY-MM-DD, a real calendar day. */
static bool parse_date(const char *s, char asn1[16])
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;
	bool leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1950 || m < 1 || m > 12 || d < 1 || d > days[m - 1] || (m == 2 && d == 29 && !leap))
		return false;
	/* YYYYMMDD000000Z */
	memcpy(asn1, s, 4);
	memcpy(asn1 + 4, s + 5, 2);
	memcpy(asn1 + 6, s + 8, 2);
	memcpy(asn1 + 8, "000000Z", 8);
	return true;
}

static int check_params(const struct vcard_params *p, char nb[16], char na[16], char *err,
                        size_t err_size)
{
	size_t len;
	uint16_t sw;

	if (strlen(p->card_number) != VCARD_CARD_NUMBER_SIZE) {
		vcard_set_error(err, err_size, "the card number must have 16 characters");
		return -1;
	}
	for (size_t i = 0; i < VCARD_CARD_NUMBER_SIZE; i++) {
		if (p->card_number[i] < 0x21 || p->card_number[i] > 0x7e) {
			vcard_set_error(err, err_size,
			                "the card number must be printable ASCII without spaces");
			return -1;
		}
	}
	len = strlen(p->card_type);
	if (len == 0 || len > VCARD_CARD_TYPE_SIZE || p->card_type[0] == ' ' ||
	    p->card_type[len - 1] == ' ') {
		vcard_set_error(err, err_size,
		                "the card type must have 1 to 24 characters, "
		                "not starting or ending with a space");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p->card_type[i] < 0x20 || p->card_type[i] > 0x7e) {
			vcard_set_error(err, err_size, "the card type must be printable ASCII");
			return -1;
		}
	}
	if (!vcard_secret_format_ok(VCARD_REF_PIN, (const uint8_t *)p->pin, strlen(p->pin), &sw)) {
		vcard_set_error(err, err_size,
		                "the PIN must be 6 to 8 printable ASCII characters (0x21-0x7E)");
		return -1;
	}
	if (!vcard_secret_format_ok(VCARD_REF_USER_CODE, (const uint8_t *)p->user_code,
	                            strlen(p->user_code), &sw)) {
		vcard_set_error(
		    err, err_size,
		    "the user code must be 6 to 10 printable ASCII characters (0x21-0x7E)");
		return -1;
	}
	if (p->variant != VCARD_VARIANT_TEST && p->key_bits != VCARD_HICOS_KEY_BITS) {
		vcard_set_error(err, err_size,
		                "key size %d: a gen1 or gen2 card has RSA-2048 keys (its raw RSA "
		                "commands take two halves of 128 bytes)",
		                p->key_bits);
		return -1;
	}
	if (p->key_bits < VCARD_KEY_BITS_MIN || p->key_bits > VCARD_KEY_BITS_MAX ||
	    p->key_bits % 8 != 0) {
		vcard_set_error(err, err_size,
		                "key size %d: the card takes RSA keys of 1024 to 3072 bits "
		                "(a multiple of 8)",
		                p->key_bits);
		return -1;
	}
	if (!parse_date(p->not_before, nb) || !parse_date(p->not_after, na)) {
		vcard_set_error(err, err_size, "dates must be YYYY-MM-DD (from 1950)");
		return -1;
	}
	if (strcmp(nb, na) >= 0) {
		vcard_set_error(err, err_size, "--not-after must be later than --not-before");
		return -1;
	}
	return 0;
}

/* "C=TW,O=...,CN=..." with UTF-8 values; "\," is a comma inside a value.  Spaces around
 * the separators are dropped, spaces inside values kept. */
static X509_NAME *parse_dn(const char *dn, char *err, size_t err_size)
{
	X509_NAME *name = X509_NAME_new();
	char buf[DN_MAX];
	size_t len = strlen(dn), pos = 0;

	if (!name || len == 0 || len >= sizeof(buf)) {
		vcard_set_error(err, err_size, "distinguished name \"%s\": empty or too long", dn);
		goto fail;
	}
	while (pos < len) {
		size_t n = 0;
		char *type, *value, *eq;

		while (pos < len && dn[pos] == ' ')
			pos++;
		while (pos < len && dn[pos] != ',') {
			if (dn[pos] == '\\' && pos + 1 < len)
				pos++;
			buf[n++] = dn[pos++];
		}
		pos++; /* the comma */
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		buf[n] = '\0';
		eq = strchr(buf, '=');
		if (!eq || eq == buf || eq[1] == '\0') {
			vcard_set_error(err, err_size,
			                "distinguished name \"%s\": \"%s\" is not TYPE=value", dn,
			                buf);
			goto fail;
		}
		*eq = '\0';
		type = buf;
		value = eq + 1;
		if (!X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
		                                (const unsigned char *)value, -1, -1, 0)) {
			vcard_set_error(
			    err, err_size,
			    "distinguished name \"%s\": cannot use %s=%s (unknown attribute, "
			    "bad UTF-8 or a value too long)",
			    dn, type, value);
			goto fail;
		}
	}
	return name;
fail:
	X509_NAME_free(name);
	return NULL;
}

struct cert_spec {
	const char *what; /* for messages */
	X509_NAME *subject;
	EVP_PKEY *key;
	X509 *issuer; /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	const char *not_before, *not_after; /* ASN.1 time strings */
	bool ca;
	const char *key_usage;
	const char *ext_key_usage; /* may be NULL */
};

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(cert, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int set_random_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));

	BN_free(bn);
	return ok ? 0 : -1;
}

static X509 *make_cert(const struct cert_spec *spec, char *err, size_t err_size)
{
	X509 *cert = X509_new();
	X509 *issuer;
	X509V3_CTX ctx;

	if (!cert || !X509_set_version(cert, 2) || set_random_serial(cert) != 0 ||
	    !X509_set_subject_name(cert, spec->subject) || !X509_set_pubkey(cert, spec->key) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notBefore(cert), spec->not_before) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notAfter(cert), spec->not_after))
		goto fail;
	issuer = spec->issuer ? spec->issuer : cert;
	if (!X509_set_issuer_name(cert, X509_get_subject_name(issuer)))
		goto fail;
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if (add_ext(cert, &ctx, NID_basic_constraints,
	            spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") != 0 ||
	    add_ext(cert, &ctx, NID_key_usage, spec->key_usage) != 0 ||
	    (spec->ext_key_usage &&
	     add_ext(cert, &ctx, NID_ext_key_usage, spec->ext_key_usage) != 0) ||
	    add_ext(cert, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    (spec->issuer &&
	     add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always") != 0))
		goto fail;
	if (X509_sign(cert, spec->issuer_key, EVP_sha256()) <= 0)
		goto fail;
	return cert;
fail:
	vcard_set_error(err, err_size, "cannot make the %s certificate", spec->what);
	X509_free(cert);
	return NULL;
}

/* Puts a certificate's DER into its slot of EF 08F2; fails when it does not fit. */
static int store_cert(uint8_t *store, enum vcard_cert_slot slot, X509 *cert, const char *what,
                      char *err, size_t err_size)
{
	uint8_t *p = store + (size_t)slot * VCARD_CERT_SLOT_SIZE;
	int len = i2d_X509(cert, NULL);

	if (len <= 0) {
		vcard_set_error(err, err_size, "cannot encode the %s certificate", what);
		return -1;
	}
	if (len > VCARD_CERT_SLOT_SIZE) {
		vcard_set_error(err, err_size,
		                "the %s certificate is %d bytes: it does not fit its slot of %d "
		                "(0x%04X) bytes in EF 08F2 (use a smaller key or a shorter name)",
		                what, len, VCARD_CERT_SLOT_SIZE, VCARD_CERT_SLOT_SIZE);
		return -1;
	}
	i2d_X509(cert, &p);
	return 0;
}

/* Replaces a slot's certificate by junk that starts like one (see VCARD_JUNK_CERT_LEN). */
static void store_junk(uint8_t *store, enum vcard_cert_slot slot)
{
	uint8_t *p = store + (size_t)slot * VCARD_CERT_SLOT_SIZE;
	const size_t body = VCARD_JUNK_CERT_LEN - VCARD_JUNK_CERT_HEADER_LEN;

	memset(p, 0x00, VCARD_CERT_SLOT_SIZE);
	p[0] = 0x30;
	p[1] = 0x82;
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)(body & 0xFF);
	memset(p + VCARD_JUNK_CERT_HEADER_LEN, 0xA5, body);
}

static void pad_ascii(uint8_t *out, size_t size, const char *s)
{
	size_t len = strlen(s);

	memset(out, ' ', size);
	memcpy(out, s, len < size ? len : size);
}

/* What vcard_create builds, freed in one place. */
struct build {
	EVP_PKEY *root_key, *issuing_key;
	X509_NAME *root_dn, *issuing_dn, *holder_dn;
	X509 *root, *issuing, *encryption, *signature;
	struct vcard_data data;
};

static void build_free(struct build *b)
{
	EVP_PKEY_free(b->root_key);
	EVP_PKEY_free(b->issuing_key);
	X509_NAME_free(b->root_dn);
	X509_NAME_free(b->issuing_dn);
	X509_NAME_free(b->holder_dn);
	X509_free(b->root);
	X509_free(b->issuing);
	X509_free(b->encryption);
	X509_free(b->signature);
	vcard_data_clear(&b->data);
}

static int generate_keys(struct build *b, int bits, char *err, size_t err_size)
{
	/* The CA keys: the card's size up to 2048 bits, so a small test card is quick to make. */
	unsigned ca_bits = bits < 2048 ? (unsigned)bits : 2048;

	b->root_key = EVP_RSA_gen(ca_bits);
	b->issuing_key = EVP_RSA_gen(ca_bits);
	b->data.sign_key = EVP_RSA_gen((unsigned)bits);
	b->data.decrypt_key = EVP_RSA_gen((unsigned)bits);
	if (!b->root_key || !b->issuing_key || !b->data.sign_key || !b->data.decrypt_key) {
		vcard_set_error(err, err_size, "cannot generate %d-bit RSA keys", bits);
		return -1;
	}
	return 0;
}

static int make_certs(struct build *b, const char *nb, const char *na, char *err, size_t err_size)
{
	const struct cert_spec root = {"root CA", b->root_dn,  b->root_key,
	                               NULL,      b->root_key, nb,
	                               na,        true,        "critical,keyCertSign,cRLSign",
	                               NULL};
	struct cert_spec issuing = {"issuing CA", b->issuing_dn, b->issuing_key,
	                            NULL,         b->root_key,   nb,
	                            na,           true,          "critical,keyCertSign,cRLSign",
	                            NULL};
	struct cert_spec signature = {"signature",
	                              b->holder_dn,
	                              b->data.sign_key,
	                              NULL,
	                              b->issuing_key,
	                              nb,
	                              na,
	                              false,
	                              "critical,digitalSignature,nonRepudiation",
	                              "clientAuth,emailProtection"};
	struct cert_spec encryption = {"encryption",
	                               b->holder_dn,
	                               b->data.decrypt_key,
	                               NULL,
	                               b->issuing_key,
	                               nb,
	                               na,
	                               false,
	                               "critical,keyEncipherment,dataEncipherment",
	                               "emailProtection"};

	if (!(b->root = make_cert(&root, err, err_size)))
		return -1;
	issuing.issuer = b->root;
	if (!(b->issuing = make_cert(&issuing, err, err_size)))
		return -1;
	signature.issuer = b->issuing;
	encryption.issuer = b->issuing;
	if (!(b->signature = make_cert(&signature, err, err_size)) ||
	    !(b->encryption = make_cert(&encryption, err, err_size)))
		return -1;
	return 0;
}

int vcard_create(const char *state_path, const struct vcard_params *params, char *err,
                 size_t err_size)
{
	struct vcard_params p;
	struct build b;
	char nb[16], na[16];
	int rc = -1;

	memset(&b, 0, sizeof(b));
	vcard_data_init(&b.data);
	apply_defaults(&p, params);
	if (check_params(&p, nb, na, err, err_size) != 0)
		return -1;
	if (!(b.holder_dn = parse_dn(p.holder_dn, err, err_size)) ||
	    !(b.root_dn = parse_dn(ROOT_CA_DN, err, err_size)) ||
	    !(b.issuing_dn = parse_dn(ISSUING_CA_DN, err, err_size)))
		goto out;
	if (generate_keys(&b, p.key_bits, err, err_size) != 0 ||
	    make_certs(&b, nb, na, err, err_size) != 0)
		goto out;

	pad_ascii(b.data.card_type, sizeof(b.data.card_type), p.card_type);
	memcpy(b.data.card_number, p.card_number, VCARD_CARD_NUMBER_SIZE);
	memset(b.data.cert_store, 0x00, sizeof(b.data.cert_store));
	if (store_cert(b.data.cert_store, VCARD_SLOT_ROOT_CA, b.root, "root CA", err, err_size) ||
	    store_cert(b.data.cert_store, VCARD_SLOT_ISSUING_CA, b.issuing, "issuing CA", err,
	               err_size) ||
	    store_cert(b.data.cert_store, VCARD_SLOT_ENCRYPTION, b.encryption, "encryption", err,
	               err_size) ||
	    store_cert(b.data.cert_store, VCARD_SLOT_SIGNATURE, b.signature, "signature", err,
	               err_size))
		goto out;
	for (int slot = 0; slot < VCARD_CERT_SLOTS; slot++)
		if (p.junk_cert_slots & (1u << slot))
			store_junk(b.data.cert_store, (enum vcard_cert_slot)slot);
	b.data.variant = p.variant;
	if (p.variant != VCARD_VARIANT_TEST &&
	    vcard_pkcs15_personalize(&b.data, err, err_size) != 0)
		goto out;
	memcpy(b.data.pin, p.pin, strlen(p.pin) + 1);
	memcpy(b.data.user_code, p.user_code, strlen(p.user_code) + 1);
	b.data.pin_tries = VCARD_TRIES_MAX;
	b.data.user_code_tries = VCARD_TRIES_MAX;
	rc = vcard_data_save(&b.data, state_path, NULL, err, err_size);
out:
	build_free(&b);
	return rc;
}
