/* The state file: the card's persistent memory in one text file.
 *
 *   # comment lines and empty lines are ignored
 *   format=p11unlock-vcard-state 1
 *   ef_0905=<hex, 24 bytes>        card type
 *   ef_0903=<hex, 16 bytes>        card number
 *   ef_08f2=<hex, 0x1C00 bytes>    certificate store
 *   pin=<hex>                      the PIN's bytes
 *   user_code=<hex>                the user code's bytes
 *   pin_tries=<0..3>
 *   user_code_tries=<0..3>
 *   sign_key=<hex DER>             RSAPrivateKey (PKCS#1) of key reference 0x01
 *   decrypt_key=<hex DER>          RSAPrivateKey (PKCS#1) of key reference 0x02
 *   variant=gen1|gen2              only for a real-card variant, which then also has
 *   ef_4100=<hex> ... ef_4108=<hex>  its directory files and data file (up to 4096 bytes each)
 *
 * Every field appears exactly once (variant and ef_41xx: all or none).  The file is rewritten atomically (temp
 * file in the same directory, fsync, rename, fsync of the directory), so a
 * card killed at any moment leaves the old or the new state, never a torn one.
 * It holds the PIN, the user code and the private keys: mode 0600.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "vcard/vcard-internal.h"

#define STATE_FORMAT   "p11unlock-vcard-state 1"
#define STATE_FILE_MAX (256 * 1024)

/* A growing text buffer; wiped when freed (it holds secrets). */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void text_reserve(struct text *t, size_t more)
{
	char *bigger;
	size_t cap;

	if (t->failed || t->len + more + 1 <= t->cap)
		return;
	cap = t->cap ? t->cap : 4096;
	while (cap < t->len + more + 1)
		cap *= 2;
	/* Not realloc: the old buffer must be wiped, not just released. */
	bigger = OPENSSL_malloc(cap);
	if (!bigger) {
		t->failed = true;
		return;
	}
	if (t->buf) {
		memcpy(bigger, t->buf, t->len);
		OPENSSL_clear_free(t->buf, t->cap);
	}
	t->buf = bigger;
	t->cap = cap;
}

static void text_add(struct text *t, const char *s, size_t len)
{
	text_reserve(t, len);
	if (t->failed)
		return;
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

static void text_add_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

static void text_add_hex(struct text *t, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	text_reserve(t, 2 * len);
	if (t->failed)
		return;
	for (size_t i = 0; i < len; i++) {
		t->buf[t->len++] = digits[data[i] >> 4];
		t->buf[t->len++] = digits[data[i] & 0x0f];
	}
	t->buf[t->len] = '\0';
}

static void text_add_field_hex(struct text *t, const char *name, const uint8_t *data, size_t len)
{
	text_add_str(t, name);
	text_add_str(t, "=");
	text_add_hex(t, data, len);
	text_add_str(t, "\n");
}

static void text_add_field_int(struct text *t, const char *name, int value)
{
	char line[64];

	snprintf(line, sizeof(line), "%s=%d\n", name, value);
	text_add_str(t, line);
}

static void text_free(struct text *t)
{
	if (t->buf)
		OPENSSL_clear_free(t->buf, t->cap);
	memset(t, 0, sizeof(*t));
}

static void text_add_field_key(struct text *t, const char *name, const EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int len = i2d_PrivateKey(key, &der);

	if (len <= 0) {
		t->failed = true;
		return;
	}
	text_add_field_hex(t, name, der, (size_t)len);
	OPENSSL_clear_free(der, (size_t)len);
}

void vcard_data_init(struct vcard_data *data)
{
	memset(data, 0, sizeof(*data));
}

void vcard_data_clear(struct vcard_data *data)
{
	EVP_PKEY_free(data->sign_key);
	EVP_PKEY_free(data->decrypt_key);
	OPENSSL_cleanse(data, sizeof(*data));
	vcard_data_init(data);
}

static void format_state(const struct vcard_data *data, struct text *t)
{
	text_add_str(t,
	             "# p11unlock-vcard: a virtual TEST card. Holds its PIN, user code and private "
	             "keys.\n");
	text_add_str(t, "format=" STATE_FORMAT "\n");
	text_add_field_hex(t, "ef_0905", data->card_type, sizeof(data->card_type));
	text_add_field_hex(t, "ef_0903", data->card_number, sizeof(data->card_number));
	text_add_field_hex(t, "ef_08f2", data->cert_store, sizeof(data->cert_store));
	text_add_field_hex(t, "pin", (const uint8_t *)data->pin, strlen(data->pin));
	text_add_field_hex(t, "user_code", (const uint8_t *)data->user_code,
	                   strlen(data->user_code));
	text_add_field_int(t, "pin_tries", data->pin_tries);
	text_add_field_int(t, "user_code_tries", data->user_code_tries);
	text_add_field_key(t, "sign_key", data->sign_key);
	text_add_field_key(t, "decrypt_key", data->decrypt_key);
	if (data->variant == VCARD_VARIANT_TEST)
		return;
	text_add_str(t, data->variant == VCARD_VARIANT_GEN1 ? "variant=gen1\n" : "variant=gen2\n");
	for (size_t i = 0; i < VCARD_DIR_FILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "ef_%04x", data->dir_files[i].fid);
		text_add_field_hex(t, name, data->dir_files[i].data, data->dir_files[i].len);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync of the directory holding path, so the rename itself is durable. */
static int sync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void file_id_from_stat(struct vcard_file_id *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->valid = true;
}

bool vcard_file_changed(const char *path, const struct vcard_file_id *id)
{
	struct stat st;

	if (!id->valid || stat(path, &st) != 0)
		return false;
	return st.st_dev != id->dev || st.st_ino != id->ino || st.st_size != id->size ||
	       st.st_mtim.tv_sec != id->mtime.tv_sec || st.st_mtim.tv_nsec != id->mtime.tv_nsec;
}

int vcard_data_save(const struct vcard_data *data, const char *path, struct vcard_file_id *id,
                    char *err, size_t err_size)
{
	struct text t = {0};
	char tmp[PATH_MAX];
	struct stat st;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
		vcard_set_error(err, err_size, "%s: path too long", path);
		return -1;
	}
	format_state(data, &t);
	if (t.failed) {
		text_free(&t);
		vcard_set_error(err, err_size, "%s: out of memory while encoding the state", path);
		return -1;
	}
	fd = mkstemp(tmp); /* mode 0600, same directory as path */
	if (fd < 0) {
		vcard_set_error(err, err_size, "%s: cannot create a temporary file: %s", path,
		                strerror(errno));
		text_free(&t);
		return -1;
	}
	if (write_all(fd, t.buf, t.len) != 0 || fsync(fd) != 0) {
		vcard_set_error(err, err_size, "%s: cannot write %s: %s", path, tmp,
		                strerror(errno));
		close(fd);
		unlink(tmp);
		text_free(&t);
		return -1;
	}
	text_free(&t);
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		vcard_set_error(err, err_size, "%s: cannot replace the state file: %s", path,
		                strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (sync_parent_dir(path) != 0) {
		vcard_set_error(err, err_size, "%s: cannot sync its directory: %s", path,
		                strerror(errno));
		return -1;
	}
	if (id) {
		id->valid = false;
		if (stat(path, &st) == 0)
			file_id_from_stat(id, &st);
	}
	return 0;
}

/* Reading and checking. */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex_len hex digits into at most out_size bytes.  Returns the number of
 * bytes, or -1 for an odd count, a non-hex digit or too much data. */
static long hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size)
{
	if (hex_len % 2 != 0 || hex_len / 2 > out_size)
		return -1;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(hex_len / 2);
}

struct loader {
	struct vcard_data *data;
	const char *path;
	unsigned line;
	char *err;
	size_t err_size;
};

static int load_fail(struct loader *ld, const char *field, const char *what)
{
	vcard_set_error(ld->err, ld->err_size, "%s: line %u: %s: %s", ld->path, ld->line, field,
	                what);
	return -1;
}

static int load_exact_hex(struct loader *ld, const char *field, const char *value, size_t len,
                          uint8_t *out, size_t out_len)
{
	if (hex_decode(value, len, out, out_len) != (long)out_len)
		return load_fail(ld, field, "not the expected number of hex bytes");
	return 0;
}

static int load_card_type(struct loader *ld, const char *field, const char *value, size_t len)
{
	const uint8_t *t = ld->data->card_type;
	bool padding = false;

	if (load_exact_hex(ld, field, value, len, ld->data->card_type, VCARD_CARD_TYPE_SIZE) != 0)
		return -1;
	/* Printable ASCII, then only NUL padding. */
	for (size_t i = 0; i < VCARD_CARD_TYPE_SIZE; i++) {
		if (t[i] == 0x00)
			padding = true;
		else if (padding || t[i] < 0x20 || t[i] > 0x7e)
			return load_fail(ld, field,
			                 "not printable ASCII with NUL or space padding");
	}
	if (t[0] == 0x00 || t[0] == 0x20)
		return load_fail(ld, field, "empty card type");
	return 0;
}

static int load_card_number(struct loader *ld, const char *field, const char *value, size_t len)
{
	if (load_exact_hex(ld, field, value, len, ld->data->card_number, VCARD_CARD_NUMBER_SIZE) !=
	    0)
		return -1;
	for (size_t i = 0; i < VCARD_CARD_NUMBER_SIZE; i++)
		if (ld->data->card_number[i] < 0x21 || ld->data->card_number[i] > 0x7e)
			return load_fail(ld, field, "not 16 printable ASCII characters");
	return 0;
}

static int load_cert_store(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_exact_hex(ld, field, value, len, ld->data->cert_store, VCARD_CERT_STORE_SIZE);
}

static int load_secret(struct loader *ld, const char *field, const char *value, size_t len,
                       uint8_t ref, char *out)
{
	uint8_t buf[VCARD_USER_CODE_MAX];
	uint16_t sw;
	long n = hex_decode(value, len, buf, sizeof(buf));

	if (n < 0 || !vcard_secret_format_ok(ref, buf, (size_t)n, &sw)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return load_fail(ld, field,
		                 "not a valid secret (hex of 6-8 or 6-10 printable ASCII)");
	}
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int load_pin(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_secret(ld, field, value, len, VCARD_REF_PIN, ld->data->pin);
}

static int load_user_code(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_secret(ld, field, value, len, VCARD_REF_USER_CODE, ld->data->user_code);
}

static int load_tries(struct loader *ld, const char *field, const char *value, size_t len, int *out)
{
	if (len != 1 || value[0] < '0' || value[0] > '0' + VCARD_TRIES_MAX)
		return load_fail(ld, field, "not a number from 0 to 3");
	*out = value[0] - '0';
	return 0;
}

static int load_pin_tries(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_tries(ld, field, value, len, &ld->data->pin_tries);
}

static int load_user_code_tries(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_tries(ld, field, value, len, &ld->data->user_code_tries);
}

static int load_key(struct loader *ld, const char *field, const char *value, size_t len,
                    EVP_PKEY **out)
{
	size_t der_len = len / 2;
	uint8_t *der = OPENSSL_malloc(der_len ? der_len : 1);
	const unsigned char *p = der;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *check = NULL;
	int bits, rc = -1;

	if (!der)
		return load_fail(ld, field, "out of memory");
	if (hex_decode(value, len, der, der_len) != (long)der_len || der_len == 0) {
		load_fail(ld, field, "not hex");
		goto out;
	}
	key = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)der_len);
	if (!key || p != der + der_len) {
		load_fail(ld, field, "not a DER RSAPrivateKey");
		goto out;
	}
	bits = EVP_PKEY_get_bits(key);
	if (bits < VCARD_KEY_BITS_MIN || bits > VCARD_KEY_BITS_MAX || bits % 8 != 0) {
		load_fail(ld, field, "RSA key size outside 1024..3072 bits or not a multiple of 8");
		goto out;
	}
	check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!check || EVP_PKEY_private_check(check) != 1) {
		load_fail(ld, field, "inconsistent RSA private key");
		goto out;
	}
	EVP_PKEY_free(*out);
	*out = key;
	key = NULL;
	rc = 0;
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_free(key);
	OPENSSL_clear_free(der, der_len ? der_len : 1);
	return rc;
}

static int load_sign_key(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_key(ld, field, value, len, &ld->data->sign_key);
}

static int load_decrypt_key(struct loader *ld, const char *field, const char *value, size_t len)
{
	return load_key(ld, field, value, len, &ld->data->decrypt_key);
}

static int load_variant(struct loader *ld, const char *field, const char *value, size_t len)
{
	if (len == 4 && memcmp(value, "gen1", 4) == 0)
		ld->data->variant = VCARD_VARIANT_GEN1;
	else if (len == 4 && memcmp(value, "gen2", 4) == 0)
		ld->data->variant = VCARD_VARIANT_GEN2;
	else
		return load_fail(ld, field, "not gen1 or gen2");
	return 0;
}

/* ef_41xx: the field's name gives the FID (ef_4100 ... ef_4108). */
static int load_dir_file(struct loader *ld, const char *field, const char *value, size_t len)
{
	static const uint16_t fids[VCARD_DIR_FILES] = {0x4100, 0x4101, 0x4104, 0x4107, 0x4108};
	unsigned fid = (unsigned)strtoul(field + 3, NULL, 16);

	for (size_t i = 0; i < VCARD_DIR_FILES; i++) {
		struct vcard_dir_file *f = &ld->data->dir_files[i];
		long n;

		if (fids[i] != fid)
			continue;
		n = hex_decode(value, len, f->data, sizeof(f->data));
		if (n < 0)
			return load_fail(ld, field, "not hex of at most 4096 bytes");
		f->fid = fids[i];
		f->len = (size_t)n;
		return 0;
	}
	return load_fail(ld, field, "not a directory file");
}

static int load_format(struct loader *ld, const char *field, const char *value, size_t len)
{
	if (len != strlen(STATE_FORMAT) || memcmp(value, STATE_FORMAT, len) != 0)
		return load_fail(ld, field, "not a p11unlock-vcard state file of format 1");
	return 0;
}

static const struct field {
	const char *name;
	int (*load)(struct loader *ld, const char *field, const char *value, size_t len);
	bool variant_only; /* present exactly when variant is */
} fields[] = {
    {"format", load_format, false},
    {"ef_0905", load_card_type, false},
    {"ef_0903", load_card_number, false},
    {"ef_08f2", load_cert_store, false},
    {"pin", load_pin, false},
    {"user_code", load_user_code, false},
    {"pin_tries", load_pin_tries, false},
    {"user_code_tries", load_user_code_tries, false},
    {"sign_key", load_sign_key, false},
    {"decrypt_key", load_decrypt_key, false},
    {"variant", load_variant, true},
    {"ef_4100", load_dir_file, true},
    {"ef_4101", load_dir_file, true},
    {"ef_4104", load_dir_file, true},
    {"ef_4107", load_dir_file, true},
    {"ef_4108", load_dir_file, true},
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

static int load_line(struct loader *ld, char *line, size_t len, bool seen[FIELD_COUNT])
{
	char *eq = memchr(line, '=', len);
	size_t name_len;

	if (len == 0 || line[0] == '#')
		return 0;
	if (!eq)
		return load_fail(ld, "line", "not name=value");
	name_len = (size_t)(eq - line);
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		if (strlen(fields[i].name) != name_len || memcmp(fields[i].name, line, name_len))
			continue;
		if (seen[i])
			return load_fail(ld, fields[i].name, "appears twice");
		seen[i] = true;
		return fields[i].load(ld, fields[i].name, eq + 1, len - name_len - 1);
	}
	*eq = '\0';
	return load_fail(ld, line, "unknown field");
}

static int parse_state(struct loader *ld, char *text, size_t len)
{
	bool seen[FIELD_COUNT] = {false};
	size_t pos = 0;

	if (memchr(text, '\0', len))
		return load_fail(ld, "file", "contains a NUL byte");
	while (pos < len) {
		char *line = text + pos;
		char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;

		ld->line++;
		if (line_len > 0 && line[line_len - 1] == '\r')
			return load_fail(ld, "line", "carriage return");
		if (load_line(ld, line, line_len, seen) != 0)
			return -1;
		pos += line_len + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		bool wanted = !fields[i].variant_only || ld->data->variant != VCARD_VARIANT_TEST;

		if (seen[i] != wanted)
			return load_fail(ld, fields[i].name,
			                 wanted ? "missing" : "only with variant=gen1|gen2");
	}
	return 0;
}

static char *read_file(const char *path, size_t *len, struct vcard_file_id *id, char *err,
                       size_t err_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0) {
		vcard_set_error(err, err_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		vcard_set_error(err, err_size, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > STATE_FILE_MAX) {
		vcard_set_error(err, err_size, "%s: too large for a state file", path);
		goto fail;
	}
	buf = OPENSSL_malloc((size_t)st.st_size + 1);
	if (!buf) {
		vcard_set_error(err, err_size, "%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vcard_set_error(err, err_size, "%s: read error", path);
			goto fail;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	if (id)
		file_id_from_stat(id, &st);
	close(fd);
	return buf;
fail:
	if (buf)
		OPENSSL_clear_free(buf, (size_t)st.st_size + 1);
	close(fd);
	return NULL;
}

int vcard_data_load(struct vcard_data *data, const char *path, struct vcard_file_id *id, char *err,
                    size_t err_size)
{
	struct loader ld = {.data = data, .path = path, .err = err, .err_size = err_size};
	size_t len = 0;
	char *text = read_file(path, &len, id, err, err_size);
	int rc;

	if (!text)
		return -1;
	vcard_data_init(data);
	rc = parse_state(&ld, text, len);
	OPENSSL_clear_free(text, len + 1);
	if (rc != 0)
		vcard_data_clear(data);
	return rc;
}
