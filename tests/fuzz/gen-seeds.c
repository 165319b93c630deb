/* Writes the seed corpora of tests/fuzz/corpus (make fuzz-seeds).  The card targets' seeds are
 * recorded, not written by hand: the same sessions the fuzz targets run (module-session.c,
 * card-session.c) are played against the virtual card (tools/vcard, in-process), and every
 * answer is written down as a card script (fuzz-script.h).  A seed therefore replays a
 * well-formed card session, which the fuzzer then bends: test cards (T=1, T=0, 1024 to 3072
 * bits, junk in certificate slots), a "CHT V..N" card read by the fixed layout, and, where the
 * tree has them, first- and second-generation HiCOS cards with their directory files.  The other
 * targets' seeds are small examples of what they parse.
 *
 * Usage: gen-seeds CORPUS_DIR SRCDIR */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "card-session.h"
#include "card/card-int.h"
#include "card/profile.h"
#include "fuzz-script.h"
#include "module-session.h"
#include "vcard/vcard.h"
#ifdef P11U_FID_PRKDF
#include "card/pkcs15.h"
#include "vcard/vcard-internal.h"
#endif

static const char *corpus_dir;

/* An ATR without the mark of any card kind (TS, T0 = 5 historical bytes and no interface
 * bytes, "HiCOS"): with card type "CHT V..N", a real card read by the fixed layout only. */
static const uint8_t neutral_atr[] = {0x3B, 0x05, 'H', 'i', 'C', 'O', 'S'};

/* The card layer reads real cards' directory files (gen1, gen2) where profile.h names them;
 * the virtual card then plays those cards too. */
#ifdef P11U_FID_PRKDF
#define HAVE_REAL_CARDS 1
#endif

enum generation { TEST_PROFILE, GEN1, GEN2 };

struct variant {
	const char *name;
	const char *card_type; /* NULL: the variant's own */
	int key_bits;          /* 0: 2048 */
	bool t0;               /* 61xx for every answer with data, 6Cxx for a wrong Le */
	unsigned junk_cert_slots;
	bool neutral_atr; /* neutral_atr instead of the virtual card's */
	enum generation gen;
};

static const struct variant variants[] = {
    {"test-t1", NULL, 0, false, 0, false, TEST_PROFILE},
    {"test-t0", NULL, 0, true, 0, false, TEST_PROFILE},
    {"test-1024", NULL, 1024, false, 0, false, TEST_PROFILE},
    /* answers over 256 bytes: 61xx in T=1 */
    {"test-3072", NULL, 3072, false, 0, false, TEST_PROFILE},
    {"test-junk-certs", NULL, 0, false, 0x5, false, TEST_PROFILE},
    /* "CHT V..N" by the fixed layout (without the directory files) */
    {"hicos", "CHT V32N", 0, false, 0, true, TEST_PROFILE},
    {"hicos-t0", "CHT V21N", 1024, true, 0, true, TEST_PROFILE},
#ifdef HAVE_REAL_CARDS
    {"gen1", NULL, 0, false, 0, false, GEN1},
    {"gen1-t0", NULL, 0, true, 0, false, GEN1},
    {"gen2", NULL, 0, false, 0, false, GEN2},
#endif
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen-seeds: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", corpus_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("cannot create %s", path);
	snprintf(path, sizeof path, "%s/%s/%s", corpus_dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("cannot write %s", path);
	printf("%s: %zu bytes\n", path, len);
}

static void write_text_seed(const char *target, const char *name, const char *text)
{
	write_seed(target, name, text, strlen(text));
}

/* ---- recorded card sessions ------------------------------------------------------------- */

struct recorder {
	struct vcard *card;
	const struct variant *variant;
};

/* The virtual card answers every operation: it is always there and never fails. */
static void vcard_answer(void *ctx, enum fuzz_op op, const uint8_t *cmd, size_t cmd_len,
                         enum p11u_io_rv *io, uint8_t *out, size_t *out_len)
{
	struct recorder *r = ctx;
	uint8_t resp[VCARD_RESP_MAX];
	size_t n;

	*io = P11U_IO_OK;
	switch (op) {
	case FUZZ_OP_CONNECT:
		vcard_reset(r->card);
		if (r->variant->neutral_atr) {
			memcpy(out, neutral_atr, sizeof neutral_atr);
			*out_len = sizeof neutral_atr;
		} else {
			*out_len = vcard_atr(r->card, out, *out_len);
		}
		break;
	case FUZZ_OP_TRANSMIT:
		n = vcard_process(r->card, cmd, cmd_len, resp);
		if (n > *out_len)
			die("an answer of %zu bytes", n);
		memcpy(out, resp, n);
		*out_len = n;
		break;
	case FUZZ_OP_BEGIN:
	case FUZZ_OP_CHECK:
		*out_len = 0;
		break;
	}
}

static struct vcard *load_copy(const char *template, const char *copy, bool t0)
{
	char err[512];
	struct vcard *card;
	FILE *in = fopen(template, "rb"), *out = fopen(copy, "wb");
	char buf[8192];
	size_t n;

	if (in == NULL || out == NULL)
		die("cannot copy %s", template);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			die("cannot write %s", copy);
	fclose(in);
	if (fclose(out) != 0)
		die("cannot write %s", copy);
	card = vcard_load(copy, err, sizeof err);
	if (card == NULL)
		die("vcard_load: %s", err);
	vcard_set_t0(card, t0);
	return card;
}

static void record(const char *target, const struct variant *v, const char *template,
                   const char *dir, void (*run)(struct fuzz_script *))
{
	char copy[4096];
	struct recorder r = {NULL, v};
	struct fuzz_script script;

	snprintf(copy, sizeof copy, "%s/run.state", dir);
	r.card = load_copy(template, copy, v->t0);
	fuzz_script_init(&script, NULL, 0);
	fuzz_script_record(&script, vcard_answer, &r);
	run(&script);
	write_seed(target, v->name, script.recorded, script.recorded_len);
	fuzz_script_free(&script);
	vcard_free(r.card);
	unlink(copy);
}

/* The DER of dir/NAME.pem, as exported by vcard_export (free with OPENSSL_free). */
static unsigned char *exported_der(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	unsigned char *der = NULL;
	X509 *x509;
	FILE *f;
	int n;

	snprintf(path, sizeof path, "%s/%s.pem", dir, name);
	f = fopen(path, "r");
	if (f == NULL || (x509 = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("cannot read %s", path);
	fclose(f);
	n = i2d_X509(x509, &der);
	X509_free(x509);
	if (n <= 0)
		die("i2d_X509 failed");
	*len = (size_t)n;
	return der;
}

/* The card's certificates as DER, for fuzz-tool-inputs. */
static void certificate_seeds(const struct vcard *card, const char *dir)
{
	static const char *const names[] = {"signature", "encryption", "issuing-ca", "root-ca"};
	char err[512], name[64];

	if (vcard_export(card, dir, err, sizeof err) != 0)
		die("vcard_export: %s", err);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t len;
		unsigned char *der = exported_der(dir, names[i], &len), *seed = malloc(len + 1);

		if (seed == NULL)
			die("out of memory");
		seed[0] = 2; /* the certificate parser */
		memcpy(seed + 1, der, len);
		snprintf(name, sizeof name, "cert-%s", names[i]);
		write_seed("fuzz-tool-inputs", name, seed, len + 1);
		free(seed);
		OPENSSL_free(der);
	}
}

/* An entry of the card layer's cache for the exported card, for fuzz-cache: written by the
 * card layer itself (p11u_snapshot_save), without its digest, after the probe. */
struct captured {
	uint8_t *data;
	size_t len;
};

static void capture_store(void *ctx, const char *number, const uint8_t *data, size_t len)
{
	struct captured *c = ctx;

	(void)number;
	c->data = malloc(len);
	if (c->data == NULL)
		die("out of memory");
	memcpy(c->data, data, len);
	c->len = len;
}

static void cache_seed(const char *dir)
{
	static const char *const names[P11U_CERT_SLOTS] = {
	    [P11U_CERT_ROOT_CA] = "root-ca",
	    [P11U_CERT_ISSUING_CA] = "issuing-ca",
	    [P11U_CERT_ENCRYPTION] = "encryption",
	    [P11U_CERT_SIGNATURE] = "signature",
	};
	struct captured captured = {NULL, 0};
	const struct p11u_card_cache cache = {&captured, NULL, capture_store};
	struct p11u_card card;
	uint8_t *seed;
	size_t probe_len;

	memset(&card, 0, sizeof card);
	snprintf(card.info.card_type, sizeof card.info.card_type, "%s", P11U_TEST_CARD_TYPE);
	snprintf(card.info.card_number, sizeof card.info.card_number, "XC00000000091349");
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		card.info.certs[slot].der = exported_der(dir, names[slot], &card.info.certs[slot].len);
	card.cache = &cache;
	probe_len = card.info.certs[P11U_CERT_SIGNATURE].len < 255
	                ? card.info.certs[P11U_CERT_SIGNATURE].len
	                : 255;
	p11u_snapshot_save(&card, card.info.certs[P11U_CERT_SIGNATURE].der, probe_len);
	if (captured.len < 32)
		die("the card layer stored no cache entry");
	seed = malloc(1 + probe_len + captured.len);
	if (seed == NULL)
		die("out of memory");
	seed[0] = (uint8_t)probe_len;
	memcpy(seed + 1, card.info.certs[P11U_CERT_SIGNATURE].der, probe_len);
	memcpy(seed + 1 + probe_len, captured.data, captured.len - 32);
	write_seed("fuzz-cache", "test-card", seed, 1 + probe_len + captured.len - 32);
	free(seed);
	free(captured.data);
	for (int slot = 0; slot < P11U_CERT_SLOTS; slot++)
		OPENSSL_free(card.info.certs[slot].der);
}

#ifdef HAVE_REAL_CARDS
/* The virtual card's four directory files as they are on the card, for fuzz-hicos-dir: the
 * selector byte (see fuzz-hicos-dir.c: the file's kind, up to P11U_DIR_OBJECTS_MAX entries),
 * then the file. */
static void dir_file_seeds(const char *variant, const char *template)
{
	static const struct {
		uint16_t fid;
		enum p11u_dir_file which;
		const char *name;
	} files[] = {
	    {P11U_FID_PRKDF, P11U_DIR_PRKDF, "prkdf"},
	    {P11U_FID_PUKDF, P11U_DIR_PUKDF, "pukdf"},
	    {P11U_FID_CDF, P11U_DIR_CDF, "cdf"},
	    {P11U_FID_DODF, P11U_DIR_DODF, "dodf"},
	};
	char err[512], name[64];
	struct vcard *card = vcard_load(template, err, sizeof err);
	uint8_t seed[1 + VCARD_DIR_FILE_MAX];

	if (card == NULL)
		die("vcard_load: %s", err);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		int at = vcard_dir_file_index(&card->data, files[i].fid);
		const struct vcard_dir_file *f;

		if (at < 0)
			die("%s: no EF %04X", variant, files[i].fid);
		f = &card->data.dir_files[at];
		seed[0] = (uint8_t)((P11U_DIR_OBJECTS_MAX - 1) << 2 | files[i].which);
		memcpy(seed + 1, f->data, f->len);
		snprintf(name, sizeof name, "%s-%s", variant, files[i].name);
		write_seed("fuzz-hicos-dir", name, seed, 1 + f->len);
	}
	vcard_free(card);
}
#endif

static void card_seeds(const char *dir)
{
	char template[4096], err[512];

	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		const struct variant *v = &variants[i];
		struct vcard_params params = {0};

		snprintf(template, sizeof template, "%s/%s.state", dir, v->name);
		params.card_type = v->card_type;
		params.key_bits = v->key_bits;
		params.junk_cert_slots = v->junk_cert_slots;
#ifdef HAVE_REAL_CARDS
		params.variant = v->gen == GEN1   ? VCARD_VARIANT_GEN1
		                 : v->gen == GEN2 ? VCARD_VARIANT_GEN2
		                                  : VCARD_VARIANT_TEST;
#endif
		if (vcard_create(template, &params, err, sizeof err) != 0)
			die("vcard_create %s: %s", v->name, err);
		record("fuzz-module", v, template, dir, module_session_run);
		record("fuzz-card-files", v, template, dir, card_session_run);
#ifdef HAVE_REAL_CARDS
		if (v->gen != TEST_PROFILE && !v->t0)
			dir_file_seeds(v->name, template);
#endif
		if (i == 0) {
			struct vcard *card = vcard_load(template, err, sizeof err);

			if (card == NULL)
				die("vcard_load: %s", err);
			certificate_seeds(card, dir);
			cache_seed(dir);
			vcard_free(card);
		}
		unlink(template);
	}
}

/* ---- fuzz-sw ----------------------------------------------------------------------------- */

/* Header (see fuzz-sw.c), then transmit records. */
struct sw_seed {
	uint8_t bytes[2048];
	size_t len;
};

static void sw_put16(struct sw_seed *s, size_t v)
{
	s->bytes[s->len++] = (uint8_t)(v >> 8);
	s->bytes[s->len++] = (uint8_t)v;
}

static void sw_header(struct sw_seed *s, uint16_t sw, uint8_t ins, uint8_t p1, uint8_t p2,
                      uint16_t data_len, uint16_t le, uint16_t cap, uint8_t flags)
{
	s->len = 0;
	sw_put16(s, sw);
	s->bytes[s->len++] = ins;
	s->bytes[s->len++] = p1;
	s->bytes[s->len++] = p2;
	sw_put16(s, data_len);
	sw_put16(s, le);
	sw_put16(s, cap);
	s->bytes[s->len++] = flags;
	s->bytes[s->len++] = 60; /* trace lines of 241 bytes */
}

/* A response record: n data bytes (a counting pattern), then SW1 SW2. */
static void sw_answer(struct sw_seed *s, size_t n, uint16_t sw)
{
	s->bytes[s->len++] = 0x00;
	sw_put16(s, n + 2);
	for (size_t i = 0; i < n; i++)
		s->bytes[s->len++] = (uint8_t)i;
	sw_put16(s, sw);
}

static void sw_seeds(void)
{
	struct sw_seed s;

	/* READ BINARY of 256 bytes, answered at once. */
	sw_header(&s, 0x9000, 0xB0, 0x00, 0x00, 0, 256, 256, 0);
	sw_answer(&s, 256, 0x9000);
	write_seed("fuzz-sw", "read-binary", s.bytes, s.len);

	/* T=0: wrong Le (6C10), the resend, 61xx and GET RESPONSE. */
	sw_header(&s, 0x6282, 0xB0, 0x15, 0x00, 0, 32, 256, 0);
	sw_answer(&s, 0, 0x6C10);
	sw_answer(&s, 0, 0x6110);
	sw_answer(&s, 16, 0x9000);
	write_seed("fuzz-sw", "t0-chain", s.bytes, s.len);

	/* PSO DECIPHER of 257 bytes: two segments, a secret answer of 256 bytes + 61 80. */
	sw_header(&s, 0x6A80, 0x2A, 0x80, 0x86, 257, 256, 384, 1);
	sw_answer(&s, 0, 0x9000);
	sw_answer(&s, 256, 0x6180);
	sw_answer(&s, 128, 0x9000);
	write_seed("fuzz-sw", "decipher-chained", s.bytes, s.len);

	/* VERIFY through p11u_apdu_command (kind: secret): a wrong PIN, two tries left. */
	sw_header(&s, 0x63C2, 0x20, 0x00, 0x01, 6, 0, 0, 2 | 1 << 2);
	sw_answer(&s, 0, 0x63C2);
	write_seed("fuzz-sw", "verify-wrong", s.bytes, s.len);

	/* MSE SET refused (kind: key). */
	sw_header(&s, 0x6983, 0x22, 0x41, 0xB6, 6, 0, 0, 2 | 2 << 2);
	sw_answer(&s, 0, 0x6982);
	write_seed("fuzz-sw", "mse-not-verified", s.bytes, s.len);
}

/* ---- the parsers ------------------------------------------------------------------------ */

static void copy_seed(const char *target, const char *name, const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (f == NULL)
		die("cannot read %s", path);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	write_seed(target, name, buf, n);
}

static void text_seeds(const char *srcdir)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/src/pkcs11/p11unlock.conf", srcdir);
	copy_seed("fuzz-config", "installed", path);
	write_text_seed("fuzz-config", "all-set",
	                "allow_test_cards = yes\nuser_code_token=no # comment\n"
	                "opensc_unblock_styles = TRUE\ncard_timeout = 600\n");
	write_text_seed("fuzz-config", "problems",
	                "allow_test_cards\nunknown = 1\ncard_timeout = 0\ncard_timeout = 1x\n"
	                "user_code_token = maybe\n\n   # only a comment\n");

	write_seed("fuzz-tool-inputs", "status", "\0pin_tries=3 user_code_tries=2", 30);
	write_seed("fuzz-tool-inputs", "status-extra", "\0pin_tries=0 max=3 user_code_tries=1", 36);
	write_text_seed("fuzz-tool-inputs", "secret-user-code", "\001Ab12cd34");
	write_text_seed("fuzz-tool-inputs", "secret-spaces", "\001 12 34 \t");
	write_text_seed("fuzz-tool-inputs", "uri-serial",
	                "\003pkcs11:serial=XC00000000091349;model=P11U%20V1");
	write_text_seed("fuzz-tool-inputs", "uri-token",
	                "\003pkcs11:token=p11unlock%20card%20091349;manufacturer=p11unlock");

	write_text_seed("fuzz-text", "dn", "C=TW,O=組織及團體憑證管理中心憑證測試中心");
	write_text_seed("fuzz-text", "bidi",
	                "XC0000\xe2\x80\xae"
	                "94319\xe2\x80\xac ok \xd8\x9c");
	write_text_seed("fuzz-text", "invalid",
	                "\xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe4\xb8 \xff\xfe");
	write_text_seed("fuzz-text", "controls", "tab\there\x7f\xc2\x85\xe2\x80\xa8 line\r\n");
}

/* The scratch directory and what vcard_export and the state files left in it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/p11u-gen-seeds-XXXXXX";

	if (argc != 3) {
		fprintf(stderr, "usage: gen-seeds CORPUS_DIR SRCDIR\n");
		return 2;
	}
	corpus_dir = argv[1];
	if (mkdir(corpus_dir, 0755) != 0 && errno != EEXIST)
		die("cannot create %s", corpus_dir);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp failed");
	module_session_setup();
	card_seeds(dir);
	sw_seeds();
	text_seeds(argv[2]);
	remove_dir(dir);
	return 0;
}
