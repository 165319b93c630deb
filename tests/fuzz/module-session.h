/* One application session with the PKCS#11 module, from C_Initialize to C_Finalize, the same
 * for every fuzz-module input and for the seed generator that records it: the card script
 * (fuzz-script.h) decides what the card answers, this decides what the application asks. */
#ifndef P11U_FUZZ_MODULE_SESSION_H
#define P11U_FUZZ_MODULE_SESSION_H

#include "fuzz-script.h"

/* Secrets of the virtual card the seeds are recorded from (tools/vcard defaults). */
#define MODULE_SESSION_PIN       "123456"
#define MODULE_SESSION_USER_CODE "Ab12cd34"

/* Once per process: a configuration file with allow_test_cards, user_code_token and
 * opensc_unblock_styles on (P11UNLOCK_CONF), and every debug log category into a memory
 * buffer (the trace formats what the card sent).  Removed at exit. */
void module_session_setup(void);

/* The whole session over a fake reader whose card follows script. */
void module_session_run(struct fuzz_script *script);

#endif
