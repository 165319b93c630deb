#include "config.h"

#include "vendor.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "p11unlock/p11unlock.h"
#include "pkcs11/pkcs11-compat.h"
#include "token.h"

void vendor_attach(struct module *module, const char *path)
{
	CK_INTERFACE_PTR iface = NULL;
	CK_C_GetInterface get_interface = NULL;
	const P11UNLOCK_FUNCTION_LIST *functions;
	/* Only a module p11-kit has already loaded: RTLD_NOLOAD never loads a second copy. */
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);

	module->own_handle = NULL;
	module->vendor = NULL;
	if (handle == NULL)
		return;
	*(void **)&get_interface = dlsym(handle, "C_GetInterface");
	if (get_interface == NULL ||
	    get_interface((CK_UTF8CHAR_PTR)P11UNLOCK_INTERFACE_NAME, NULL, &iface, 0) != CKR_OK ||
	    iface == NULL || iface->pFunctionList == NULL) {
		dlclose(handle);
		return;
	}
	functions = iface->pFunctionList;
	/* The newest version the module has: 1.1 at least (P11U_Login). */
	if (functions->version.major != P11UNLOCK_VERSION_MAJOR || functions->version.minor < 1 ||
	    functions->P11U_GetTriesLeft == NULL || functions->P11U_Login == NULL) {
		dlclose(handle);
		return;
	}
	module->own_handle = handle;
	module->vendor = functions;
}

void vendor_detach(struct module *module)
{
	if (module->own_handle != NULL)
		dlclose(module->own_handle);
	module->own_handle = NULL;
	module->vendor = NULL;
}

bool vendor_tries(const struct module *module, CK_SLOT_ID slot, int *pin_tries,
                  int *user_code_tries)
{
	const P11UNLOCK_FUNCTION_LIST *functions = module->vendor;
	CK_ULONG pin = 0, user_code = 0;

	if (functions == NULL || functions->P11U_GetTriesLeft(slot, &pin, &user_code) != CKR_OK ||
	    pin > 99 || user_code > 99)
		return false;
	*pin_tries = (int)pin;
	*user_code_tries = (int)user_code;
	return true;
}

bool vendor_card_number(const struct module *module, CK_SLOT_ID slot, char *number, size_t size)
{
	const P11UNLOCK_FUNCTION_LIST *functions = module->vendor;
	CK_UTF8CHAR buf[17];

	if (functions == NULL || functions->version.minor < 2 ||
	    functions->P11U_GetCardNumber == NULL ||
	    functions->P11U_GetCardNumber(slot, buf) != CKR_OK)
		return false;
	buf[sizeof(buf) - 1] = '\0';
	snprintf(number, size, "%s", (const char *)buf);
	return true;
}

bool vendor_card_info(const struct module *module, CK_SLOT_ID slot, CK_ULONG *kind,
                      char *card_number, size_t number_size, char *card_type, size_t type_size)
{
	const P11UNLOCK_FUNCTION_LIST *functions = module->vendor;
	P11UNLOCK_CARD_INFO info;

	if (functions == NULL || functions->P11U_GetCardInfo == NULL)
		return false;
	memset(&info, 0, sizeof(info));
	if (functions->P11U_GetCardInfo(slot, &info) != CKR_OK ||
	    info.version.major != P11UNLOCK_CARD_INFO_VERSION_MAJOR)
		return false;
	/* NUL-terminated by the module; terminated here whatever it did. */
	info.card_number[sizeof(info.card_number) - 1] = '\0';
	info.card_type[sizeof(info.card_type) - 1] = '\0';
	*kind = info.kind;
	snprintf(card_number, number_size, "%s", (const char *)info.card_number);
	snprintf(card_type, type_size, "%s", (const char *)info.card_type);
	return true;
}

bool vendor_login(const struct module *module, CK_SESSION_HANDLE session, CK_USER_TYPE user,
                  const CK_UTF8CHAR *pin, CK_ULONG pin_len, int tries_seen, CK_RV *rv,
                  bool *nothing_sent)
{
	const P11UNLOCK_FUNCTION_LIST *functions = module->vendor;
	CK_ULONG tries_now = 0;

	*nothing_sent = false;
	if (functions == NULL || tries_seen < 1)
		return false;
	*rv = functions->P11U_Login(session, user, (CK_UTF8CHAR_PTR)pin, pin_len,
	                            (CK_ULONG)tries_seen, &tries_now);
	/* 1.2: the card went away before the VERIFY was sent. */
	*nothing_sent = *rv == CKR_DEVICE_REMOVED && functions->version.minor >= 2 &&
	                tries_now == CK_UNAVAILABLE_INFORMATION;
	return true;
}
