/* fuzz-hicos-dir: the directory-file parser of real HiCOS cards (src/card/pkcs15.h) on its own,
 * the bytes of one file as a card would hold them: p11u_dir_content, then p11u_dir_parse into
 * an array of exactly the size it is given (so ASan sees a write past it).  Checked whatever
 * the file says: no more entries than asked for, ids and paths within their limits, labels and
 * application names terminated and safe to show, usage bits and key references within what the
 * grammar can give, and every entry complete enough for the file's kind (what hicos-read.c
 * relies on without checking again).
 *
 * Input: one byte (bits 0-1: which file, PrKDF, PuKDF, CDF, DODF; bits 2-5: at most 1 + that
 * many entries), then the file, its content length in its last two bytes. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "card/card.h"
#include "card/pkcs15.h"
#include "fuzz-script.h"

#define USAGE_BITS       10         /* KeyUsageFlags: the bits the parser keeps */
#define MODULUS_BITS_MAX (8 * 4096) /* the parser's bound */

static void check_name(const struct p11u_dir_name *name, bool needs_id, const char *what)
{
	FUZZ_CHECK(name->id_len <= P11U_DIR_ID_MAX, "%s: id of %zu bytes", what, name->id_len);
	FUZZ_CHECK(!needs_id || name->id_len > 0, "%s: entry without an id", what);
	fuzz_check_label(name->label, sizeof name->label, what);
}

static void check_entry(enum p11u_dir_file which, const struct p11u_dir_entry *e)
{
	const struct p11u_dir_path *path = &e->path;
	const bool key = which == P11U_DIR_PRKDF || which == P11U_DIR_PUKDF;

	check_name(&e->name, which != P11U_DIR_DODF, "entry");
	FUZZ_CHECK(path->n_fids <= P11U_DIR_PATH_MAX, "path of %zu file IDs", path->n_fids);
	FUZZ_CHECK(key || path->n_fids > 0, "certificate or data entry without a path");
	FUZZ_CHECK(path->has_index || path->index == 0, "an index without has_index");
	FUZZ_CHECK(path->has_length || path->length == 0, "a length without has_length");
	FUZZ_CHECK(e->usage < 1u << USAGE_BITS, "usage bits %#x", e->usage);
	FUZZ_CHECK(e->keyref >= -1 && e->keyref <= 0xFF, "key reference %d", e->keyref);
	FUZZ_CHECK(key || (e->keyref == -1 && e->usage == 0 && e->modulus_bits == 0),
	           "key attributes in a non-key entry");
	FUZZ_CHECK(e->modulus_bits <= MODULUS_BITS_MAX, "modulus of %u bits", e->modulus_bits);
	FUZZ_CHECK(which == P11U_DIR_CDF || !e->authority, "authority flag outside the CDF");
	fuzz_check_label(e->application, sizeof e->application, "application");
	FUZZ_CHECK(which == P11U_DIR_DODF || e->application[0] == '\0',
	           "application name outside the DODF");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum p11u_dir_file which;
	size_t max, content_len, n;
	struct p11u_dir_entry *entries;

	if (size < 1)
		return 0;
	which = (enum p11u_dir_file)(data[0] & 0x3);
	max = 1 + (size_t)(data[0] >> 2 & 0xF);
	data++;
	size--;
	if (!p11u_dir_content(data, size, &content_len)) {
		FUZZ_CHECK(size < 2 || (size_t)(data[size - 2] | data[size - 1] << 8) > size - 2,
		           "a valid content length refused");
		return 0;
	}
	FUZZ_CHECK(content_len <= size - 2, "content of %zu bytes in a file of %zu", content_len,
	           size);
	entries = malloc(max * sizeof *entries);
	FUZZ_CHECK(entries != NULL, "out of memory");
	n = p11u_dir_parse(which, data, content_len, entries, max);
	FUZZ_CHECK(n <= max, "%zu entries parsed into %zu", n, max);
	for (size_t i = 0; i < n; i++)
		check_entry(which, &entries[i]);
	free(entries);
	return 0;
}
