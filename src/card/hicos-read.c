/* The read path of real HiCOS cards (gen1, gen2): the card number, the directory files of DF 5030
 * (pkcs15.h) and what they name: certificates in EF 08F2, the key records of EF 0810/0811 (gen1,
 * for a key that has no certificate), public data objects.  Every access selects its file from
 * the root (3F00, or the gen2 applet).  SELECT, READ BINARY and READ RECORD only: nothing here
 * can cost a try.
 *
 * A file or an entry that is missing, malformed or points somewhere it must not (a certificate
 * outside EF 08F2) is logged and skipped: the token is partial.  What the card itself does
 * wrong at the transport level (removed, reset, silent) still fails the read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "card/card-int.h"
#include "card/pkcs15.h"
#include "common/log.h"

#define DIR_FILE_MAX 0x1000 /* a directory file longer than this is not used */
#define OBJECT_MAX   0x1000 /* largest certificate or data object read */
#define CERT_HEADER  4      /* 30 82 hi lo */

/* The entries of the four directory files while the card is read. */
struct dir_files {
	struct p11u_dir_entry prkdf[P11U_DIR_OBJECTS_MAX], pukdf[P11U_DIR_OBJECTS_MAX];
	struct p11u_dir_entry cdf[P11U_DIR_OBJECTS_MAX], dodf[P11U_DIR_OBJECTS_MAX];
	size_t n_prkdf, n_pukdf, n_cdf, n_dodf;
};

/* Failures of the card itself, which end the read; anything else only skips a file or an
 * entry. */
static bool card_failure(enum p11u_card_rv rv)
{
	return rv == P11U_CARD_E_REMOVED || rv == P11U_CARD_E_RESET || rv == P11U_CARD_E_TIMEOUT ||
	       rv == P11U_CARD_E_COMM || rv == P11U_CARD_E_NO_MEMORY;
}

enum p11u_card_rv p11u_gen2_select_applet(struct p11u_card *card)
{
	static const uint8_t aid[] = P11U_GEN2_AID;
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA_ISO,
	    .ins = P11U_INS_SELECT,
	    .p1 = P11U_GEN2_SELECT_AID,
	    .p2 = P11U_GEN2_AID_P2,
	    .data = aid,
	    .data_len = sizeof aid,
	    .le = P11U_APDU_LE_MAX, /* Le 00, as traced */
	};
	uint8_t ignored[P11U_APDU_LE_MAX];
	size_t len;
	uint16_t sw;
	enum p11u_card_rv rv = p11u_apdu_exchange(card, &apdu, ignored, sizeof ignored, &len, &sw);

	return rv == P11U_CARD_OK ? p11u_sw_to_rv(sw, P11U_CMD_FILE, NULL) : rv;
}

/* The one EF of DF 5030 a path names: [3F00 | 7FFF] [5030] FID. */
static bool path_fid(const struct p11u_dir_path *path, uint16_t *fid)
{
	size_t i = 0;

	if (i < path->n_fids && (path->fids[i] == P11U_FID_MF || path->fids[i] == P11U_FID_APPLET))
		i++;
	if (i < path->n_fids && path->fids[i] == P11U_FID_DF_PKI)
		i++;
	else if (i > 0)
		return false; /* from the root, but not through DF 5030 */
	if (path->n_fids - i != 1)
		return false;
	*fid = path->fids[i];
	return true;
}

/* Reads a whole EF of DF 5030 (at most max bytes) into buf (max + 1 bytes). */
static enum p11u_card_rv read_ef(struct p11u_card *card, uint16_t fid, uint8_t *buf, size_t max,
                                 size_t *len)
{
	enum p11u_card_rv rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, fid);

	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, 0, buf, max + 1, len);
	if (rv == P11U_CARD_OK && *len > max) {
		P11U_DEBUG(P11U_LOG_CARD, "EF %04X: longer than %zu bytes, not used", fid, max);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	return rv;
}

/* One directory file into entries; a file that cannot be read or parsed gives none. */
static enum p11u_card_rv read_dir_file(struct p11u_card *card, uint16_t fid,
                                       enum p11u_dir_file which, struct p11u_dir_entry *entries,
                                       size_t *n)
{
	uint8_t *buf = malloc(DIR_FILE_MAX + 1);
	size_t len = 0, content_len;
	enum p11u_card_rv rv;

	*n = 0;
	if (buf == NULL)
		return P11U_CARD_E_NO_MEMORY;
	rv = read_ef(card, fid, buf, DIR_FILE_MAX, &len);
	if (rv == P11U_CARD_OK && !p11u_dir_content(buf, len, &content_len))
		P11U_DEBUG(P11U_LOG_CARD, "EF %04X: %zu bytes, no valid content length", fid, len);
	else if (rv == P11U_CARD_OK)
		*n = p11u_dir_parse(which, buf, content_len, entries, P11U_DIR_OBJECTS_MAX);
	else if (!card_failure(rv))
		P11U_DEBUG(P11U_LOG_CARD, "EF %04X: not read (%s)", fid, p11u_card_rv_str(rv));
	free(buf);
	P11U_DEBUG(P11U_LOG_CARD, "EF %04X: %zu entries", fid, *n);
	return card_failure(rv) ? rv : P11U_CARD_OK;
}

static enum p11u_card_rv read_dir_files(struct p11u_card *card, struct dir_files *f)
{
	enum p11u_card_rv rv;

	rv = read_dir_file(card, P11U_FID_CDF, P11U_DIR_CDF, f->cdf, &f->n_cdf);
	if (rv == P11U_CARD_OK)
		rv = read_dir_file(card, P11U_FID_PRKDF, P11U_DIR_PRKDF, f->prkdf, &f->n_prkdf);
	if (rv == P11U_CARD_OK)
		rv = read_dir_file(card, P11U_FID_PUKDF, P11U_DIR_PUKDF, f->pukdf, &f->n_pukdf);
	if (rv == P11U_CARD_OK)
		rv = read_dir_file(card, P11U_FID_DODF, P11U_DIR_DODF, f->dodf, &f->n_dodf);
	return rv;
}

/* The length of the DER certificate whose first bytes are head (30 82 hi lo, or 30 81 len). */
static size_t cert_der_len(const uint8_t *head)
{
	if (head[0] != 0x30)
		return 0;
	if (head[1] == 0x82)
		return CERT_HEADER + ((size_t)head[2] << 8 | head[3]);
	if (head[1] == 0x81)
		return 3 + (size_t)head[2];
	return 0;
}

/* Reads the certificate a CDF entry names into *der (*len bytes): exactly one DER certificate
 * from the entry's offset in EF 08F2, within the entry's length when it gives one. */
static enum p11u_card_rv read_cert_value(struct p11u_card *card, const struct p11u_dir_path *path,
                                         uint8_t **der, size_t *len)
{
	const size_t offset = path->has_index ? path->index : 0;
	size_t room = path->has_length ? path->length : OBJECT_MAX, got, cert_len;
	uint8_t *buf;
	enum p11u_card_rv rv;

	*der = NULL;
	if (room < CERT_HEADER || room > OBJECT_MAX)
		return P11U_CARD_E_BAD_RESPONSE;
	buf = malloc(room);
	if (buf == NULL)
		return P11U_CARD_E_NO_MEMORY;
	rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, P11U_FID_EF_CERT_STORE);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, offset, buf, CERT_HEADER, &got);
	if (rv == P11U_CARD_OK && got < CERT_HEADER)
		rv = P11U_CARD_E_BAD_RESPONSE;
	cert_len = rv == P11U_CARD_OK ? cert_der_len(buf) : 0;
	if (rv == P11U_CARD_OK && (cert_len < CERT_HEADER || cert_len > room))
		rv = P11U_CARD_E_BAD_RESPONSE;
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read_exact(card, offset + CERT_HEADER, buf + CERT_HEADER,
		                           cert_len - CERT_HEADER);
	if (rv == P11U_CARD_OK && !p11u_files_one_certificate(buf, cert_len))
		rv = P11U_CARD_E_BAD_RESPONSE;
	if (rv != P11U_CARD_OK) {
		free(buf);
		return rv;
	}
	*der = buf;
	*len = cert_len;
	return P11U_CARD_OK;
}

/* Whether a certificate is a CA's (basicConstraints CA:TRUE). */
static bool cert_is_ca(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x509;
	bool ca;

	ERR_set_mark();
	x509 = d2i_X509(NULL, &p, (long)len);
	ca = x509 != NULL && X509_check_ca(x509) == 1;
	X509_free(x509);
	ERR_pop_to_mark();
	return ca;
}

static enum p11u_card_rv read_certs(struct p11u_card *card, const struct dir_files *f)
{
	struct p11u_card_dir *dir = card->dir;

	for (size_t i = 0; i < f->n_cdf; i++) {
		const struct p11u_dir_entry *e = &f->cdf[i];
		struct p11u_dir_cert *cert = &dir->certs[dir->n_certs];
		uint16_t fid = 0;
		enum p11u_card_rv rv;

		if (!path_fid(&e->path, &fid) || fid != P11U_FID_EF_CERT_STORE) {
			P11U_DEBUG(P11U_LOG_CARD, "CDF entry %zu: path outside EF 08F2, skipped", i);
			continue;
		}
		rv = read_cert_value(card, &e->path, &cert->der, &cert->len);
		if (card_failure(rv))
			return rv;
		if (rv != P11U_CARD_OK) {
			P11U_DEBUG(P11U_LOG_CARD, "CDF entry %zu: no certificate there, skipped", i);
			continue;
		}
		cert->name = e->name;
		cert->authority = e->authority || cert_is_ca(cert->der, cert->len);
		dir->n_certs++;
	}
	return P11U_CARD_OK;
}

/* Copies a big number into a key record's field (at most size bytes). */
static bool take_bn(const EVP_PKEY *pkey, const char *param, uint8_t *out, size_t size,
                    size_t *len)
{
	BIGNUM *bn = NULL;
	int n;
	bool ok;

	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		return false;
	n = BN_num_bytes(bn);
	ok = n > 0 && (size_t)n <= size && BN_bn2bin(bn, out) == n;
	if (ok)
		*len = (size_t)n;
	BN_free(bn);
	return ok;
}

/* The RSA public key of a certificate into key; false for anything else. */
static bool key_from_cert(const struct p11u_dir_cert *cert, struct p11u_dir_key *key)
{
	const unsigned char *p = cert->der;
	uint8_t modulus[P11U_MODULUS_MAX];
	size_t len = 0;
	X509 *x509;
	EVP_PKEY *pkey;
	bool ok;

	ERR_set_mark();
	x509 = d2i_X509(NULL, &p, (long)cert->len);
	pkey = x509 != NULL ? X509_get0_pubkey(x509) : NULL;
	ok = pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	     take_bn(pkey, OSSL_PKEY_PARAM_RSA_N, modulus, sizeof modulus, &len) &&
	     take_bn(pkey, OSSL_PKEY_PARAM_RSA_E, key->exponent, sizeof key->exponent,
	             &key->exponent_len) &&
	     (key->modulus = OPENSSL_memdup(modulus, len)) != NULL;
	if (ok)
		key->modulus_len = len;
	X509_free(x509);
	ERR_pop_to_mark();
	return ok;
}

/* gen1: READ RECORD 80 B2 <rec> 00 81 of the current EF: the record number, then 128 bytes. */
static enum p11u_card_rv read_record(struct p11u_card *card, unsigned rec,
                                     uint8_t data[P11U_HICOS_RECORD_DATA])
{
	uint8_t resp[P11U_HICOS_RECORD_LEN];
	const struct p11u_apdu apdu = {
	    .cla = P11U_CLA,
	    .ins = P11U_HICOS_INS_READ_REC,
	    .p1 = (uint8_t)rec,
	    .p2 = 0x00,
	    .le = P11U_HICOS_RECORD_LEN,
	};
	size_t len;
	uint16_t sw;
	enum p11u_card_rv rv = p11u_apdu_exchange(card, &apdu, resp, sizeof resp, &len, &sw);

	if (rv == P11U_CARD_OK)
		rv = p11u_sw_to_rv(sw, P11U_CMD_FILE, NULL);
	if (rv == P11U_CARD_OK && (len != sizeof resp || resp[0] != rec)) {
		P11U_DEBUG(P11U_LOG_CARD, "record %u: %zu bytes, not the record", rec, len);
		rv = P11U_CARD_E_BAD_RESPONSE;
	}
	if (rv == P11U_CARD_OK)
		memcpy(data, resp + 1, P11U_HICOS_RECORD_DATA);
	return rv;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Records r .. r+3 of a gen1 key file: r = exponent (4 bytes big-endian, the rest zero), r+1
 * zeros, r+2 and r+3 the modulus with its least-significant 32-bit word first. */
static enum p11u_card_rv key_from_records(struct p11u_card *card, uint16_t fid, int ref,
                                          struct p11u_dir_key *key)
{
	uint8_t rec[4][P11U_HICOS_RECORD_DATA];
	uint8_t modulus[2 * P11U_HICOS_RECORD_DATA];
	const size_t words = sizeof modulus / 4;
	enum p11u_card_rv rv = P11U_CARD_OK;

	if (ref < 1 || ref > 0xFF - 3)
		return P11U_CARD_E_BAD_RESPONSE;
	rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, fid);
	for (int i = 0; i < 4 && rv == P11U_CARD_OK; i++)
		rv = read_record(card, (unsigned)(ref + i), rec[i]);
	if (rv == P11U_CARD_OK && (!all_zero(rec[0] + 4, P11U_HICOS_RECORD_DATA - 4) ||
	                           all_zero(rec[0], 4) || !all_zero(rec[1], P11U_HICOS_RECORD_DATA)))
		rv = P11U_CARD_E_BAD_RESPONSE; /* not laid out as a key */
	/* Joined r+2 then r+3, the order of the 4-byte words reversed: word k of the records is
	 * word (words - 1 - k) of the big-endian modulus. */
	for (size_t w = 0; w < words && rv == P11U_CARD_OK; w++) {
		size_t k = words - 1 - w;
		memcpy(modulus + 4 * w, rec[2 + k / 32] + 4 * (k % 32), 4);
	}
	if (rv == P11U_CARD_OK && modulus[0] == 0)
		rv = P11U_CARD_E_BAD_RESPONSE; /* not a 2048-bit modulus */
	if (rv == P11U_CARD_OK) {
		key->modulus = OPENSSL_memdup(modulus, sizeof modulus);
		rv = key->modulus != NULL ? P11U_CARD_OK : P11U_CARD_E_NO_MEMORY;
	}
	if (rv == P11U_CARD_OK) {
		key->modulus_len = sizeof modulus;
		memcpy(key->exponent, rec[0], 4);
		key->exponent_len = 4;
	}
	return rv;
}

static const struct p11u_dir_cert *cert_with_id(const struct p11u_card_dir *dir,
                                                const struct p11u_dir_name *name)
{
	for (size_t i = 0; i < dir->n_certs; i++)
		if (dir->certs[i].name.id_len == name->id_len &&
		    memcmp(dir->certs[i].name.id, name->id, name->id_len) == 0)
			return &dir->certs[i];
	return NULL;
}

/* A key already read with the same identifier and a public key (the PuKDF's, for a PrKDF entry). */
static const struct p11u_dir_key *key_with_id(const struct p11u_card_dir *dir,
                                              const struct p11u_dir_name *name)
{
	for (size_t i = 0; i < dir->n_keys; i++)
		if (dir->keys[i].modulus != NULL && dir->keys[i].name.id_len == name->id_len &&
		    memcmp(dir->keys[i].name.id, name->id, name->id_len) == 0)
			return &dir->keys[i];
	return NULL;
}

static bool key_copy(const struct p11u_dir_key *from, struct p11u_dir_key *to)
{
	to->modulus = OPENSSL_memdup(from->modulus, from->modulus_len);
	if (to->modulus == NULL)
		return false;
	to->modulus_len = from->modulus_len;
	memcpy(to->exponent, from->exponent, sizeof to->exponent);
	to->exponent_len = from->exponent_len;
	return true;
}

/* The public key of a key entry: its certificate's; else that of the key with the same
 * identifier read before (PuKDF before PrKDF); else (gen1) the key records its path names. */
static enum p11u_card_rv find_public_key(struct p11u_card *card, const struct p11u_dir_entry *e,
                                         struct p11u_dir_key *key)
{
	const struct p11u_dir_cert *cert = cert_with_id(card->dir, &e->name);
	const struct p11u_dir_key *same = key_with_id(card->dir, &e->name);
	uint16_t fid = 0;
	enum p11u_card_rv rv = P11U_CARD_E_BAD_RESPONSE;

	if (cert != NULL && key_from_cert(cert, key))
		return P11U_CARD_OK;
	if (same != NULL)
		return key_copy(same, key) ? P11U_CARD_OK : P11U_CARD_E_NO_MEMORY;
	if (card->ops->kind == P11U_CARD_KIND_GEN1 && e->keyref >= 0 &&
	    path_fid(&e->path, &fid) && (fid == P11U_FID_KEY_FILE || fid == P11U_FID_KEY_FILE2)) {
		rv = key_from_records(card, fid, e->keyref, key);
		if (card_failure(rv))
			return rv;
		if (rv != P11U_CARD_OK)
			P11U_DEBUG(P11U_LOG_CARD, "key reference %d: no key in the records of EF %04X",
			           e->keyref, fid);
	}
	return P11U_CARD_OK; /* without a public key the caller shows no object for it */
}

static enum p11u_card_rv add_keys(struct p11u_card *card, const struct p11u_dir_entry *entries,
                                  size_t n, bool is_private)
{
	struct p11u_card_dir *dir = card->dir;

	for (size_t i = 0; i < n; i++) {
		struct p11u_dir_key *key = &dir->keys[dir->n_keys];
		enum p11u_card_rv rv;

		memset(key, 0, sizeof *key);
		key->name = entries[i].name;
		key->is_private = is_private;
		key->usage = entries[i].usage;
		key->keyref = entries[i].keyref;
		rv = find_public_key(card, &entries[i], key);
		if (rv != P11U_CARD_OK)
			return rv;
		dir->n_keys++;
		if (is_private && key->keyref >= 0 && key->modulus != NULL)
			p11u_keys_add(card, key->keyref, key->modulus, key->modulus_len);
	}
	return P11U_CARD_OK;
}

/* A public data object's value: [index, index + length) of its EF in DF 5030, or all of it. */
static enum p11u_card_rv read_data_value(struct p11u_card *card, const struct p11u_dir_entry *e,
                                         struct p11u_dir_data *data)
{
	const size_t offset = e->path.has_index ? e->path.index : 0;
	const size_t want = e->path.has_length ? e->path.length : OBJECT_MAX + 1;
	uint16_t fid = 0;
	size_t got = 0;
	enum p11u_card_rv rv;

	if (e->private_object || !path_fid(&e->path, &fid) || fid == P11U_FID_KEY_FILE ||
	    fid == P11U_FID_KEY_FILE2 || want > OBJECT_MAX + 1)
		return P11U_CARD_E_BAD_RESPONSE;
	data->value = malloc(want > 0 ? want : 1);
	if (data->value == NULL)
		return P11U_CARD_E_NO_MEMORY;
	rv = p11u_files_select_ef(card, P11U_FID_DF_PKI, fid);
	if (rv == P11U_CARD_OK)
		rv = p11u_files_read(card, offset, data->value, want, &got);
	if (rv == P11U_CARD_OK && (e->path.has_length ? got != want : got > OBJECT_MAX))
		rv = P11U_CARD_E_BAD_RESPONSE;
	if (rv != P11U_CARD_OK) {
		free(data->value);
		data->value = NULL;
		return rv;
	}
	data->len = got;
	return P11U_CARD_OK;
}

static enum p11u_card_rv read_data_objects(struct p11u_card *card, const struct dir_files *f)
{
	struct p11u_card_dir *dir = card->dir;

	for (size_t i = 0; i < f->n_dodf; i++) {
		struct p11u_dir_data *data = &dir->data[dir->n_data];
		enum p11u_card_rv rv = read_data_value(card, &f->dodf[i], data);

		if (card_failure(rv))
			return rv;
		if (rv != P11U_CARD_OK) {
			P11U_DEBUG(P11U_LOG_CARD, "DODF entry %zu: private, or no value, skipped", i);
			continue;
		}
		data->name = f->dodf[i].name;
		memcpy(data->application, f->dodf[i].application, sizeof data->application);
		dir->n_data++;
	}
	return P11U_CARD_OK;
}

/* gen2 without a readable EF 0903: the token's serial number is the end of the first user
 * certificate's serial number, in hex ([ours]: no card number command of gen2 is public). */
static void gen2_number_from_cert(struct p11u_card *card)
{
	char *number = card->info.card_number;

	snprintf(number, sizeof card->info.card_number, "unknown");
	for (size_t i = 0; i < card->dir->n_certs; i++) {
		const struct p11u_dir_cert *cert = &card->dir->certs[i];
		const unsigned char *p = cert->der;
		X509 *x509;
		BIGNUM *bn;
		char *hex;

		if (cert->authority)
			continue;
		x509 = d2i_X509(NULL, &p, (long)cert->len);
		bn = x509 != NULL ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), NULL) : NULL;
		hex = bn != NULL ? BN_bn2hex(bn) : NULL;
		if (hex != NULL) {
			size_t len = strlen(hex);
			snprintf(number, sizeof card->info.card_number, "%s",
			         hex + (len > 16 ? len - 16 : 0));
		}
		OPENSSL_free(hex);
		BN_free(bn);
		X509_free(x509);
		return;
	}
}

/* The card number: EF 0903 of DF 0900 (gen2: inside the applet; when it has none, from a
 * certificate once those are read). */
static enum p11u_card_rv read_number(struct p11u_card *card, bool *missing)
{
	enum p11u_card_rv rv = p11u_files_read_card_number(card);

	*missing = false;
	if (rv != P11U_CARD_OK && card->ops->kind == P11U_CARD_KIND_GEN2 && !card_failure(rv)) {
		P11U_DEBUG(P11U_LOG_CARD, "gen2: no card number in EF 0903 (%s)",
		           p11u_card_rv_str(rv));
		*missing = true;
		rv = P11U_CARD_OK;
	}
	return rv;
}

void p11u_hicos_dir_free(struct p11u_card_dir *dir)
{
	if (dir == NULL)
		return;
	for (size_t i = 0; i < dir->n_certs; i++)
		free(dir->certs[i].der);
	for (size_t i = 0; i < dir->n_keys; i++)
		OPENSSL_free(dir->keys[i].modulus);
	for (size_t i = 0; i < dir->n_data; i++)
		free(dir->data[i].value);
	free(dir);
}

enum p11u_card_rv p11u_hicos_read_public(struct p11u_card *card)
{
	struct dir_files *f = calloc(1, sizeof *f);
	bool no_number = false;
	enum p11u_card_rv rv;

	p11u_hicos_dir_free(card->dir);
	card->dir = calloc(1, sizeof *card->dir);
	card->info.dir = card->dir;
	card->n_keys = 0;
	if (f == NULL || card->dir == NULL) {
		free(f);
		return P11U_CARD_E_NO_MEMORY;
	}
	rv = read_number(card, &no_number);
	if (rv == P11U_CARD_OK)
		rv = read_dir_files(card, f);
	if (rv == P11U_CARD_OK)
		rv = read_certs(card, f);
	if (rv == P11U_CARD_OK)
		rv = add_keys(card, f->pukdf, f->n_pukdf, false);
	if (rv == P11U_CARD_OK)
		rv = add_keys(card, f->prkdf, f->n_prkdf, true);
	if (rv == P11U_CARD_OK)
		rv = read_data_objects(card, f);
	if (rv == P11U_CARD_OK && no_number)
		gen2_number_from_cert(card);
	free(f);
	P11U_DEBUG(P11U_LOG_CARD, "directory: %zu certificates, %zu keys, %zu data objects",
	           card->dir->n_certs, card->dir->n_keys, card->dir->n_data);
	return rv;
}
