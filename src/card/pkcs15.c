/* The directory-file parser (see pkcs15.h for the grammar).  A small DER reader whose every step
 * checks the length it reads against what is left, then one function per structure. */
#include "config.h"

#include <string.h>

#include "card/pkcs15.h"
#include "common/log.h"
#include "common/text.h"

/* DER tags used here. */
enum {
	TAG_BOOLEAN = 0x01,
	TAG_INTEGER = 0x02,
	TAG_BIT_STRING = 0x03,
	TAG_OCTET_STRING = 0x04,
	TAG_UTF8_STRING = 0x0C,
	TAG_SEQUENCE = 0x30,
	TAG_SUBCLASS = 0xA0,    /* [0] constructed */
	TAG_TYPE = 0xA1,        /* [1] constructed */
	TAG_PATH_LENGTH = 0x80, /* [0] primitive: Path.length */
};

/* Usage bits kept (KeyUsageFlags has ten). */
#define USAGE_BITS 10
/* INTEGERs here are small: at most 4 value bytes (after a leading 00). */
#define INTEGER_BYTES_MAX 4

static const char *const file_names[] = {
    [P11U_DIR_PRKDF] = "PrKDF",
    [P11U_DIR_PUKDF] = "PuKDF",
    [P11U_DIR_CDF] = "CDF",
    [P11U_DIR_DODF] = "DODF",
};

/* What is left of the input. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* Takes one TLV off *in: a one-byte tag (no multi-byte tags), a definite length in short form or
 * 81 xx / 82 xx xx, and a value that fits in what is left.  *in is unchanged on failure. */
static bool der_take(struct der *in, uint8_t *tag, struct der *value)
{
	size_t len, header = 2;

	if (in->len < 2 || (in->p[0] & 0x1F) == 0x1F)
		return false;
	len = in->p[1];
	if (len == 0x81) {
		if (in->len < 3)
			return false;
		len = in->p[2];
		header = 3;
	} else if (len == 0x82) {
		if (in->len < 4)
			return false;
		len = (size_t)in->p[2] << 8 | in->p[3];
		header = 4;
	} else if (len >= 0x80) {
		return false; /* indefinite, or a length of more than two bytes */
	}
	if (len > in->len - header)
		return false;
	*tag = in->p[0];
	value->p = in->p + header;
	value->len = len;
	in->p += header + len;
	in->len -= header + len;
	return true;
}

/* Takes the next TLV only when it has this tag. */
static bool der_take_if(struct der *in, uint8_t want, struct der *value)
{
	struct der copy = *in;
	uint8_t tag;

	if (in->len == 0 || in->p[0] != want || !der_take(&copy, &tag, value))
		return false;
	*in = copy;
	return true;
}

/* A non-negative INTEGER of at most INTEGER_BYTES_MAX value bytes. */
static bool der_uint(struct der value, uint32_t *out)
{
	uint32_t v = 0;

	if (value.len == 0 || (value.p[0] & 0x80))
		return false;
	if (value.len > 1 && value.p[0] == 0x00) {
		value.p++;
		value.len--;
	}
	if (value.len > INTEGER_BYTES_MAX)
		return false;
	for (size_t i = 0; i < value.len; i++)
		v = v << 8 | value.p[i];
	*out = v;
	return true;
}

/* A BIT STRING's first USAGE_BITS bits (bit n is 1 << n). */
static bool der_bits(struct der value, unsigned *out)
{
	unsigned bits = 0;

	if (value.len == 0 || value.p[0] > 7 || (value.len == 1 && value.p[0] != 0))
		return false;
	for (unsigned n = 0; n < USAGE_BITS && n / 8 + 1 < value.len; n++)
		if (value.p[1 + n / 8] & (0x80 >> (n % 8)))
			bits |= 1u << n;
	*out = bits;
	return true;
}

/* Text from the card: at most max bytes, cut on a character boundary, made safe to show. */
static void copy_text(char *out, size_t max, struct der value)
{
	size_t len = value.len < max ? value.len : max;

	memcpy(out, value.p, len);
	while (len > 0 && len < value.len && (value.p[len] & 0xC0) == 0x80)
		len--; /* do not cut a UTF-8 sequence */
	out[len] = '\0';
	p11u_text_sanitize(out);
}

/* Path ::= SEQUENCE { path OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL } */
static bool parse_path(struct der seq, struct p11u_dir_path *path)
{
	struct der v;

	if (!der_take_if(&seq, TAG_OCTET_STRING, &v) || v.len == 0 || v.len % 2 != 0 ||
	    v.len / 2 > P11U_DIR_PATH_MAX)
		return false;
	path->n_fids = v.len / 2;
	for (size_t i = 0; i < path->n_fids; i++)
		path->fids[i] = (uint16_t)(v.p[2 * i] << 8 | v.p[2 * i + 1]);
	if (der_take_if(&seq, TAG_INTEGER, &v)) {
		if (!der_uint(v, &path->index))
			return false;
		path->has_index = true;
	}
	if (der_take_if(&seq, TAG_PATH_LENGTH, &v)) {
		if (!der_uint(v, &path->length))
			return false;
		path->has_length = true;
	}
	return true;
}

/* CommonObjectAttributes ::= SEQUENCE { label UTF8String OPT, flags BIT STRING OPT, ... } */
static bool parse_common(struct der seq, struct p11u_dir_entry *e)
{
	struct der v;
	unsigned flags = 0;

	if (der_take_if(&seq, TAG_UTF8_STRING, &v))
		copy_text(e->name.label, P11U_DIR_LABEL_MAX, v);
	if (der_take_if(&seq, TAG_BIT_STRING, &v)) {
		if (!der_bits(v, &flags))
			return false;
		e->private_object = (flags & 1u) != 0; /* bit 0: private */
	}
	return true; /* authId and the rest: not used */
}

static bool take_id(struct der *seq, struct p11u_dir_entry *e)
{
	struct der v;

	if (!der_take_if(seq, TAG_OCTET_STRING, &v) || v.len == 0 || v.len > P11U_DIR_ID_MAX)
		return false;
	memcpy(e->name.id, v.p, v.len);
	e->name.id_len = v.len;
	return true;
}

/* CommonKeyAttributes ::= SEQUENCE { iD, usage BIT STRING, native BOOLEAN DEFAULT TRUE,
 * accessFlags BIT STRING OPT, keyReference INTEGER OPT, ... } */
static bool parse_common_key(struct der seq, struct p11u_dir_entry *e)
{
	struct der v;
	uint32_t ref;

	if (!take_id(&seq, e) || !der_take_if(&seq, TAG_BIT_STRING, &v) || !der_bits(v, &e->usage))
		return false;
	(void)der_take_if(&seq, TAG_BOOLEAN, &v);
	(void)der_take_if(&seq, TAG_BIT_STRING, &v);
	if (der_take_if(&seq, TAG_INTEGER, &v)) {
		if (!der_uint(v, &ref) || ref > 0xFF)
			return false; /* a key reference is one byte of a command */
		e->keyref = (int)ref;
	}
	return true;
}

/* CommonCertificateAttributes ::= SEQUENCE { iD, authority BOOLEAN DEFAULT FALSE, ... } */
static bool parse_common_cert(struct der seq, struct p11u_dir_entry *e)
{
	struct der v;

	if (!take_id(&seq, e))
		return false;
	if (der_take_if(&seq, TAG_BOOLEAN, &v)) {
		if (v.len != 1)
			return false;
		e->authority = v.p[0] != 0;
	}
	return true;
}

/* CommonDataObjectAttributes ::= SEQUENCE { applicationName UTF8String OPT, ... } */
static bool parse_common_data(struct der seq, struct p11u_dir_entry *e)
{
	struct der v;

	if (der_take_if(&seq, TAG_UTF8_STRING, &v))
		copy_text(e->application, P11U_DIR_LABEL_MAX, v);
	return true;
}

/* A key's or a certificate's type attributes: 30 { value (a Path, or another choice that is not
 * used), modulusLength INTEGER (keys) OPT, ... } */
static bool parse_type_seq(struct der type, struct p11u_dir_entry *e, bool key)
{
	struct der seq, v;
	uint32_t bits;

	if (!der_take_if(&type, TAG_SEQUENCE, &seq))
		return false;
	if (der_take_if(&seq, TAG_SEQUENCE, &v) && !parse_path(v, &e->path))
		return false;
	if (key && e->path.n_fids == 0 && seq.len > 0) {
		uint8_t tag;
		(void)der_take(&seq, &tag, &v); /* a direct value: not used, the length counts */
	}
	if (key && der_take_if(&seq, TAG_INTEGER, &v)) {
		if (!der_uint(v, &bits) || bits > 8 * 4096)
			return false;
		e->modulus_bits = bits;
	}
	return true;
}

/* The class attributes of the file's kind of entry. */
static bool parse_class(enum p11u_dir_file which, struct der seq, struct p11u_dir_entry *e)
{
	switch (which) {
	case P11U_DIR_PRKDF:
	case P11U_DIR_PUKDF:
		return parse_common_key(seq, e);
	case P11U_DIR_CDF:
		return parse_common_cert(seq, e);
	case P11U_DIR_DODF:
		return parse_common_data(seq, e);
	}
	return false;
}

static bool parse_type(enum p11u_dir_file which, struct der type, struct p11u_dir_entry *e)
{
	struct der v;

	if (which == P11U_DIR_DODF)
		return der_take_if(&type, TAG_SEQUENCE, &v) && parse_path(v, &e->path);
	return parse_type_seq(type, e, which != P11U_DIR_CDF);
}

/* What an entry must name to be of use. */
static bool entry_complete(enum p11u_dir_file which, const struct p11u_dir_entry *e)
{
	switch (which) {
	case P11U_DIR_PRKDF:
	case P11U_DIR_PUKDF:
		return e->name.id_len > 0;
	case P11U_DIR_CDF:
		return e->name.id_len > 0 && e->path.n_fids > 0;
	case P11U_DIR_DODF:
		return e->path.n_fids > 0;
	}
	return false;
}

/* PKCS15Object ::= SEQUENCE { common, class, [0] subclass OPT, [1] type } */
static bool parse_entry(enum p11u_dir_file which, struct der obj, struct p11u_dir_entry *e)
{
	struct der common, class_attrs, type, v;

	memset(e, 0, sizeof *e);
	e->keyref = -1;
	if (!der_take_if(&obj, TAG_SEQUENCE, &common) ||
	    !der_take_if(&obj, TAG_SEQUENCE, &class_attrs))
		return false;
	(void)der_take_if(&obj, TAG_SUBCLASS, &v);
	if (!der_take_if(&obj, TAG_TYPE, &type))
		return false;
	return parse_common(common, e) && parse_class(which, class_attrs, e) &&
	       parse_type(which, type, e) && entry_complete(which, e);
}

bool p11u_dir_content(const uint8_t *file, size_t file_len, size_t *content_len)
{
	size_t len;

	if (file == NULL || file_len < 2)
		return false;
	len = (size_t)file[file_len - 2] | (size_t)file[file_len - 1] << 8;
	if (len > file_len - 2)
		return false;
	*content_len = len;
	return true;
}

size_t p11u_dir_parse(enum p11u_dir_file which, const uint8_t *content, size_t content_len,
                      struct p11u_dir_entry *entries, size_t max)
{
	struct der in = {content, content != NULL ? content_len : 0};
	size_t n = 0;

	while (in.len > 0 && n < max) {
		struct der obj;
		uint8_t tag;

		if (in.p[0] == 0x00 || in.p[0] == 0xFF)
			break; /* padding */
		if (!der_take(&in, &tag, &obj)) {
			P11U_DEBUG(P11U_LOG_CARD, "%s: an entry runs past the content: %zu bytes left",
			           file_names[which], in.len);
			break;
		}
		if (tag != TAG_SEQUENCE) {
			P11U_DEBUG(P11U_LOG_CARD, "%s: entry of type %02X skipped", file_names[which],
			           tag);
			continue;
		}
		if (!parse_entry(which, obj, &entries[n])) {
			P11U_DEBUG(P11U_LOG_CARD, "%s: a malformed or incomplete entry skipped",
			           file_names[which]);
			continue;
		}
		n++;
	}
	if (n == max && in.len > 0 && in.p[0] != 0x00 && in.p[0] != 0xFF)
		P11U_DEBUG(P11U_LOG_CARD, "%s: more than %zu entries, the rest ignored",
		           file_names[which], max);
	return n;
}
