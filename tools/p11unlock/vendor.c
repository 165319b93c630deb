#include "config.h"

#include "vendor.h"

#include <dlfcn.h>
#include <stddef.h>

#include "p11unlock/p11unlock.h"
#include "pkcs11/pkcs11-compat.h"
#include "token.h"

void vendor_attach(struct module *module, const char *path)
{
	CK_VERSION version = {P11UNLOCK_VERSION_MAJOR, P11UNLOCK_VERSION_MINOR};
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
	    get_interface((CK_UTF8CHAR_PTR)P11UNLOCK_INTERFACE_NAME, &version, &iface, 0) !=
	        CKR_OK ||
	    iface == NULL || iface->pFunctionList == NULL) {
		dlclose(handle);
		return;
	}
	functions = iface->pFunctionList;
	if (functions->version.major != P11UNLOCK_VERSION_MAJOR ||
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

bool vendor_login(const struct module *module, CK_SESSION_HANDLE session, CK_USER_TYPE user,
                  const CK_UTF8CHAR *pin, CK_ULONG pin_len, int tries_seen, CK_RV *rv)
{
	const P11UNLOCK_FUNCTION_LIST *functions = module->vendor;

	if (functions == NULL || tries_seen < 1)
		return false;
	*rv = functions->P11U_Login(session, user, (CK_UTF8CHAR_PTR)pin, pin_len,
	                            (CK_ULONG)tries_seen, NULL);
	return true;
}
