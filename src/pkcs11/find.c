/* Object entry points: searches, attributes, sizes, and the refused object changes.  All of it
 * is served from the object table built at insertion (object.h); the only card I/O is the
 * status object's CKA_VALUE, read fresh each time it is asked for.
 *
 * Private objects (the private keys) are visible only while the user is logged in to the
 * token.  The user-code token has no objects. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pkcs11/front.h"

static bool object_visible(const struct p11u_session *s, const struct p11u_object *obj)
{
	return !obj->is_private || p11u_token_user_logged_in(s->slot);
}

const struct p11u_object *p11u_visible_object(const struct p11u_session *s, CK_OBJECT_HANDLE handle)
{
	const struct p11u_object *obj;

	if (s->uc)
		return NULL;
	obj = p11u_objects_by_handle(&s->slot->objects, handle);
	return obj != NULL && object_visible(s, obj) ? obj : NULL;
}

void p11u_find_release(struct p11u_find *find)
{
	free(find->handles);
	memset(find, 0, sizeof *find);
}

CK_RV p11u_find_init(struct p11u_module *m, struct p11u_session *s, const CK_ATTRIBUTE *tmpl,
                     CK_ULONG count)
{
	const struct p11u_object_table *table = &s->slot->objects;
	struct p11u_find *find = &s->find;

	(void)m;
	if (tmpl == NULL && count != 0)
		return CKR_ARGUMENTS_BAD;
	if (find->active)
		return CKR_OPERATION_ACTIVE;
	memset(find, 0, sizeof *find);
	if (!s->uc && table->count > 0) {
		find->handles = calloc(table->count, sizeof *find->handles);
		if (find->handles == NULL)
			return CKR_HOST_MEMORY;
		for (size_t i = 0; i < table->count; i++) {
			const struct p11u_object *obj = &table->objects[i];
			if (object_visible(s, obj) && p11u_object_matches(obj, tmpl, count))
				find->handles[find->count++] = obj->handle;
		}
	}
	find->active = true;
	return CKR_OK;
}

CK_RV p11u_find_next(struct p11u_session *s, CK_OBJECT_HANDLE_PTR handles, CK_ULONG max,
                     CK_ULONG_PTR count)
{
	struct p11u_find *find = &s->find;
	size_t n;

	if (!find->active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (count == NULL || (handles == NULL && max != 0))
		return CKR_ARGUMENTS_BAD;
	n = find->count - find->next;
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(handles, find->handles + find->next, n * sizeof *handles);
	find->next += n;
	*count = n;
	return CKR_OK;
}

CK_RV p11u_find_final(struct p11u_session *s)
{
	if (!s->find.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	p11u_find_release(&s->find);
	return CKR_OK;
}

static bool template_has(const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < count; i++)
		if (tmpl[i].type == type)
			return true;
	return false;
}

CK_RV p11u_get_attribute_value(struct p11u_module *m, struct p11u_session *s,
                               CK_OBJECT_HANDLE handle, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
	const struct p11u_object *obj;
	char status[64] = "";

	if (tmpl == NULL && count != 0)
		return CKR_ARGUMENTS_BAD;
	obj = p11u_visible_object(s, handle);
	if (obj == NULL)
		return CKR_OBJECT_HANDLE_INVALID;
	if (obj->is_status && template_has(tmpl, count, CKA_VALUE)) {
		/* Read fresh; on failure (card removed) obj may be gone: return at once. */
		CK_RV rv = p11u_token_status_value(m, s->slot, status, sizeof status);
		if (rv != CKR_OK)
			return rv;
	}
	return p11u_object_get_attributes(obj, tmpl, count, status);
}

CK_RV p11u_get_object_size(struct p11u_session *s, CK_OBJECT_HANDLE handle, CK_ULONG_PTR size)
{
	const struct p11u_object *obj;

	if (size == NULL)
		return CKR_ARGUMENTS_BAD;
	obj = p11u_visible_object(s, handle);
	if (obj == NULL)
		return CKR_OBJECT_HANDLE_INVALID;
	*size = p11u_object_size(obj);
	return CKR_OK;
}

/* The objects come from the card's files and cannot be changed through this module.
 * - Creating an object is a function this token does not offer: CKR_FUNCTION_NOT_SUPPORTED.
 *   (CKR_TOKEN_WRITE_PROTECTED would contradict the token's flags: it is not write-protected,
 *   since SO login, C_InitPIN and C_SetPIN need R/W sessions.)
 * - Copying, destroying or changing an existing object: CKR_ACTION_PROHIBITED, the code
 *   PKCS#11 gives for objects whose CKA_COPYABLE / CKA_DESTROYABLE / CKA_MODIFIABLE are false;
 *   CKR_OBJECT_HANDLE_INVALID for an object the session cannot see. */
CK_RV p11u_object_create_refused(struct p11u_session *s)
{
	(void)s;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV p11u_object_change_refused(struct p11u_session *s, CK_OBJECT_HANDLE handle)
{
	if (p11u_visible_object(s, handle) == NULL)
		return CKR_OBJECT_HANDLE_INVALID;
	return CKR_ACTION_PROHIBITED;
}
