/* A fake of src/pcsc/reader.h for the fuzz targets: one reader, "Fuzz Reader 0", whose card
 * answers from a card script (fuzz-script.h).  Linked into the PKCS#11 front instead of
 * src/pcsc/reader.c.
 *
 * Presence: the card is in the reader until an operation reports it removed (or the script
 * runs out); the next presence query then sees the reader empty, and the one after that sees a
 * new card inserted if the script has more to say.  A P11U_IO_TIMEOUT stalls the connection:
 * every later call on it answers P11U_IO_TIMEOUT until p11u_reader_stalled() has been asked
 * once (pcscd returned).
 *
 * Oracles (fuzz_fail): a command to a card whose ATR lacks the mark of its class
 * (fuzz_command_class: no test-profile or gen1 command to a card of another kind), a command
 * outside every profile, a malformed command APDU, a nested transaction, a transaction still
 * open between PKCS#11 calls, connections or contexts left open after C_Finalize, and (while
 * guarded) a user-code try spent without the count read in the same transaction showing two or
 * more left. */
#ifndef P11U_FUZZ_FAKE_READER_H
#define P11U_FUZZ_FAKE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz-script.h"

#define FAKE_READER_NAME "Fuzz Reader 0"

/* Starts a session: the reader's card answers from script (which must outlive it). */
void fake_reader_start(struct fuzz_script *script);
/* Checks between two PKCS#11 calls: no transaction left open on the card. */
void fake_reader_check_idle(const char *after_call);
/* While on: every RESET RETRY COUNTER must follow, in its transaction, a reading of the user
 * code's counter (empty VERIFY) that the module takes as two or more tries left.  For the
 * unlock paths that must never spend the last try implicitly (the user-code token, OpenSC's
 * styles); not for an explicit SO login. */
void fake_reader_guard_last_try(bool on);
/* Ends the session: every context and connection must be closed by now. */
void fake_reader_finish(void);

#endif
