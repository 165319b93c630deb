/* Personalization of a gen1 or gen2 virtual card's directory files (PKCS#15 style, the grammar
 * of src/card/pkcs15.h): PrKDF 4100 and PuKDF 4101 name the signature key (reference 01) and the
 * encryption key (reference 05), CDF 4104 the four certificates of EF 08F2 (offset and length of
 * each slot), DODF 4107 one public data object whose value is EF 4108.  Each file ends with the
 * length of its content, two bytes little-endian.  Paths start at 3F00 on gen1, at 7FFF (the
 * applet) on gen2.  The encoding is our own DER writer, independent of the module's parser. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vcard/vcard-internal.h"

/* PKCS#15 KeyUsageFlags bits. */
enum {
	USAGE_ENCRYPT = 0,
	USAGE_DECRYPT = 1,
	USAGE_SIGN = 2,
	USAGE_WRAP = 4,
	USAGE_UNWRAP = 5,
	USAGE_VERIFY = 6,
	USAGE_NON_REPUDIATION = 9,
};

static const uint16_t dir_fids[VCARD_DIR_FILES] = {0x4100, 0x4101, 0x4104, 0x4107, 0x4108};

/* A DER buffer being written; overflow marks it failed. */
struct der {
	uint8_t data[VCARD_DIR_FILE_MAX];
	size_t len;
	bool failed;
};

static void put(struct der *d, const uint8_t *p, size_t len)
{
	if (d->failed || len > sizeof(d->data) - d->len) {
		d->failed = true;
		return;
	}
	memcpy(d->data + d->len, p, len);
	d->len += len;
}

static void put_tlv(struct der *d, uint8_t tag, const uint8_t *value, size_t len)
{
	uint8_t header[4] = {tag};
	size_t n = 2;

	if (len < 0x80) {
		header[1] = (uint8_t)len;
	} else if (len < 0x100) {
		header[1] = 0x81;
		header[2] = (uint8_t)len;
		n = 3;
	} else {
		header[1] = 0x82;
		header[2] = (uint8_t)(len >> 8);
		header[3] = (uint8_t)len;
		n = 4;
	}
	put(d, header, n);
	put(d, value, len);
}

/* Wraps a finished buffer as one TLV of d. */
static void put_der(struct der *d, uint8_t tag, const struct der *inner)
{
	if (inner->failed)
		d->failed = true;
	else
		put_tlv(d, tag, inner->data, inner->len);
}

static void put_uint(struct der *d, uint8_t tag, uint32_t v)
{
	uint8_t bytes[5];
	size_t n = 0;

	for (int shift = 24; shift >= 0; shift -= 8)
		if (n > 0 || (v >> shift) != 0 || shift == 0)
			bytes[n++] = (uint8_t)(v >> shift);
	if (bytes[0] & 0x80) {
		memmove(bytes + 1, bytes, n);
		bytes[0] = 0;
		n++;
	}
	put_tlv(d, tag, bytes, n);
}

static void put_string(struct der *d, uint8_t tag, const char *s)
{
	put_tlv(d, tag, (const uint8_t *)s, strlen(s));
}

/* A BIT STRING of the bits in `bits` (bit n = 1 << n), DER: no trailing zero bits. */
static void put_bits(struct der *d, unsigned bits)
{
	uint8_t v[3] = {0};
	size_t bytes = bits >= 0x100 ? 2 : 1;

	for (unsigned n = 0; n < 16; n++)
		if (bits & (1u << n))
			v[1 + n / 8] |= (uint8_t)(0x80 >> (n % 8));
	while (v[0] < 7 && !(v[bytes] & (1u << v[0])))
		v[0]++;
	put_tlv(d, 0x03, v, 1 + bytes);
}

/* Path ::= SEQUENCE { path, [index], [length] } from the root (3F00, or the gen2 applet). */
static void put_path(struct der *d, enum vcard_variant variant, uint16_t fid, long index,
                     long length)
{
	const uint16_t root = variant == VCARD_VARIANT_GEN2 ? 0x7FFF : 0x3F00;
	const uint8_t path[] = {root >> 8, root & 0xFF, 0x50, 0x30, fid >> 8, fid & 0xFF};
	struct der seq = {0};

	put_tlv(&seq, 0x04, path, sizeof(path));
	if (index >= 0)
		put_uint(&seq, 0x02, (uint32_t)index);
	if (length >= 0)
		put_uint(&seq, 0x80, (uint32_t)length);
	put_der(d, 0x30, &seq);
}

/* common 30 { label, [flags: private] } */
static void put_common(struct der *d, const char *label, bool private_object)
{
	struct der common = {0};

	put_string(&common, 0x0C, label);
	if (private_object)
		put_bits(&common, 1u << 0);
	put_der(d, 0x30, &common);
}

struct key_entry {
	const char *label, *id;
	unsigned usage;
	uint8_t ref;
};

static void put_key_entry(struct der *d, enum vcard_variant variant, const struct key_entry *k,
                          bool is_private)
{
	struct der entry = {0}, class_attrs = {0}, attrs = {0}, type = {0};

	put_common(&entry, k->label, is_private);
	put_string(&class_attrs, 0x04, k->id);
	put_bits(&class_attrs, k->usage);
	put_uint(&class_attrs, 0x02, k->ref);
	put_der(&entry, 0x30, &class_attrs);
	put_path(&attrs, variant, is_private ? 0x0810 : 0x0811, -1, -1);
	put_uint(&attrs, 0x02, VCARD_HICOS_KEY_BITS);
	put_der(&type, 0x30, &attrs);
	put_der(&entry, 0xA1, &type);
	put_der(d, 0x30, &entry);
}

static void put_cert_entry(struct der *d, enum vcard_variant variant, const char *label,
                           const char *id, enum vcard_cert_slot slot, bool authority)
{
	static const uint8_t yes = 0xFF;
	struct der entry = {0}, class_attrs = {0}, attrs = {0}, type = {0};

	put_common(&entry, label, false);
	put_string(&class_attrs, 0x04, id);
	if (authority)
		put_tlv(&class_attrs, 0x01, &yes, 1);
	put_der(&entry, 0x30, &class_attrs);
	put_path(&attrs, variant, 0x08F2, (long)slot * VCARD_CERT_SLOT_SIZE, VCARD_CERT_SLOT_SIZE);
	put_der(&type, 0x30, &attrs);
	put_der(&entry, 0xA1, &type);
	put_der(d, 0x30, &entry);
}

static void put_data_entry(struct der *d, enum vcard_variant variant)
{
	struct der entry = {0}, class_attrs = {0}, type = {0};

	put_common(&entry, "Virtual card", false);
	put_string(&class_attrs, 0x0C, "p11unlock-vcard");
	put_der(&entry, 0x30, &class_attrs);
	put_path(&type, variant, 0x4108, -1, -1);
	put_der(&entry, 0xA1, &type);
	put_der(d, 0x30, &entry);
}

/* A directory file: the content, then its length in two bytes, little-endian. */
static int store(struct vcard_data *data, size_t i, const struct der *d, char *err,
                 size_t err_size)
{
	struct vcard_dir_file *f = &data->dir_files[i];

	if (d->failed || d->len + 2 > sizeof(f->data)) {
		vcard_set_error(err, err_size, "directory file %04X does not fit", dir_fids[i]);
		return -1;
	}
	f->fid = dir_fids[i];
	memcpy(f->data, d->data, d->len);
	f->data[d->len] = (uint8_t)(d->len & 0xFF);
	f->data[d->len + 1] = (uint8_t)(d->len >> 8);
	f->len = d->len + 2;
	return 0;
}

int vcard_pkcs15_personalize(struct vcard_data *data, char *err, size_t err_size)
{
	static const struct key_entry sign = {"HiCOS signature key", "SIGN",
	                                      1u << USAGE_SIGN | 1u << USAGE_NON_REPUDIATION,
	                                      VCARD_HICOS_REF_SIGN};
	static const struct key_entry crypt = {"HiCOS encryption key", "KEYX",
	                                       1u << USAGE_DECRYPT | 1u << USAGE_UNWRAP,
	                                       VCARD_HICOS_REF_CRYPT};
	static const struct key_entry sign_pub = {"HiCOS signature key", "SIGN",
	                                          1u << USAGE_VERIFY, VCARD_HICOS_REF_SIGN};
	static const struct key_entry crypt_pub = {"HiCOS encryption key", "KEYX",
	                                           1u << USAGE_ENCRYPT | 1u << USAGE_WRAP,
	                                           VCARD_HICOS_REF_CRYPT};
	const enum vcard_variant v = data->variant;
	struct der prkdf = {0}, pukdf = {0}, cdf = {0}, dodf = {0}, value = {0};
	char text[64];

	put_key_entry(&prkdf, v, &sign, true);
	put_key_entry(&prkdf, v, &crypt, true);
	put_key_entry(&pukdf, v, &sign_pub, false);
	put_key_entry(&pukdf, v, &crypt_pub, false);
	put_cert_entry(&cdf, v, "HiCOS signature certificate", "SIGN", VCARD_SLOT_SIGNATURE, false);
	put_cert_entry(&cdf, v, "HiCOS encryption certificate", "KEYX", VCARD_SLOT_ENCRYPTION,
	               false);
	put_cert_entry(&cdf, v, "HiCOS issuing CA certificate", "CACert", VCARD_SLOT_ISSUING_CA,
	               true);
	put_cert_entry(&cdf, v, "HiCOS root CA certificate", "ROOTCACert", VCARD_SLOT_ROOT_CA,
	               true);
	put_data_entry(&dodf, v);
	snprintf(text, sizeof(text), "p11unlock-vcard %.16s", (const char *)data->card_number);
	put(&value, (const uint8_t *)text, strlen(text));
	if (store(data, 0, &prkdf, err, err_size) || store(data, 1, &pukdf, err, err_size) ||
	    store(data, 2, &cdf, err, err_size) || store(data, 3, &dodf, err, err_size))
		return -1;
	/* EF 4108 is the data object's value itself, no length trailer. */
	data->dir_files[4].fid = dir_fids[4];
	memcpy(data->dir_files[4].data, value.data, value.len);
	data->dir_files[4].len = value.len;
	return 0;
}

int vcard_dir_file_index(const struct vcard_data *data, uint16_t fid)
{
	if (data->variant == VCARD_VARIANT_TEST)
		return -1;
	for (size_t i = 0; i < VCARD_DIR_FILES; i++)
		if (dir_fids[i] == fid)
			return (int)i;
	return -1;
}
