/* The directory files of real HiCOS cards (both generations): PrKDF 4100, PuKDF 4101, CDF 4104
 * and DODF 4107 in DF 5030, PKCS#15 style (ISO/IEC 7816-15).  A pure parser: no card I/O, every
 * length checked against what is left before it is used (fuzzed by tests/fuzz/fuzz-hicos-dir.c).
 *
 * Each file keeps the length of its content in its last two bytes (little-endian); the content
 * is a run of PKCS15Object entries:
 *
 *   entry      ::= 30 { common 30 { [label 0C] [flags 03] ... }
 *                       class  30 { ... }            key: id 04, usage 03, ..., [keyRef 02]
 *                                                    cert: id 04, [authority 01]
 *                                                    data: [application 0C], [OID 06]
 *                       [subclass A0 { ... }]
 *                       type   A1 { ... } }          key, cert: 30 { value, [modulusLength 02] }
 *                                                    data: value
 *   value      ::= Path 30 { path 04, [index 02], [length 80] }
 *
 * Anything else is skipped or refused, never guessed at. */
#ifndef P11U_CARD_PKCS15_H
#define P11U_CARD_PKCS15_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card/card.h"

enum p11u_dir_file {
	P11U_DIR_PRKDF, /* EF 4100: private keys */
	P11U_DIR_PUKDF, /* EF 4101: public keys */
	P11U_DIR_CDF,   /* EF 4104: certificates */
	P11U_DIR_DODF,  /* EF 4107: data objects */
};

#define P11U_DIR_PATH_MAX 4 /* file IDs in one path */

/* Where an object's value lives: a path of file IDs, and optionally an offset and a length in
 * the last one (for a record file the index is a record number). */
struct p11u_dir_path {
	uint16_t fids[P11U_DIR_PATH_MAX];
	size_t n_fids; /* 0: the entry names no path */
	bool has_index;
	uint32_t index;
	bool has_length;
	uint32_t length;
};

/* One entry, as the file says it.  Which fields mean something depends on the file. */
struct p11u_dir_entry {
	struct p11u_dir_name name;
	bool private_object;   /* CommonObjectFlags: private (its value needs a login) */
	unsigned usage;        /* keys: enum p11u_key_usage bits */
	int keyref;            /* keys: the key reference, -1 when none */
	unsigned modulus_bits; /* keys: 0 when not given */
	bool authority;        /* certificates */
	char application[P11U_DIR_LABEL_MAX + 1]; /* data objects */
	struct p11u_dir_path path;
};

/* The content of a directory file: its last two bytes, little-endian, give the length of the
 * content at its start.  False when the file is shorter than 2 bytes or the length does not fit
 * before those two bytes. */
bool p11u_dir_content(const uint8_t *file, size_t file_len, size_t *content_len);

/* Parses the content of a directory file into at most max entries and returns how many.  An entry
 * whose own structure is broken or incomplete is skipped (and logged); one whose length runs
 * past the content ends the parse, the entries before it kept.  Entries of other types (not RSA,
 * not X.509, not opaque data) are skipped.  00 or FF where an entry would start is padding. */
size_t p11u_dir_parse(enum p11u_dir_file which, const uint8_t *content, size_t content_len,
                      struct p11u_dir_entry *entries, size_t max);

#endif
