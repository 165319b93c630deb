/* fuzz-module: the PKCS#11 module against an adversarial card.  Each input is a card script
 * (fuzz-script.h) played by the fake reader (fake-reader.c) under one whole application
 * session (module-session.c): C_Initialize, slots and tokens, every attribute of every object,
 * logins, signatures, decryption, the unlock paths, slot events, C_Finalize. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "fuzz-script.h"
#include "module-session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	module_session_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_script script;

	fuzz_script_init(&script, data, size);
	module_session_run(&script);
	return 0;
}
