/* fuzz-card-files: the card layer alone (card-session.c) against an adversarial card:
 * identification (ATR, EF 0905), the card number (EF 0903), the certificate store (EF 08F2)
 * and its public keys, then every card operation once. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "card-session.h"
#include "fuzz-script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_script script;

	fuzz_script_init(&script, data, size);
	card_session_run(&script);
	return 0;
}
