/* SPDX-License-Identifier: MIT */
#ifndef SL_JSON_H
#define SL_JSON_H

/*
 * What the json-c readers and writers (CNI results and configs, sl-cni,
 * sl-egress show --json) share.
 */
#include <json-c/json.h>

/* json-c, freed at scope exit: _cleanup_json_ struct json_object *o = … */
static inline void sl_json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(sl_json_putp)))

/* The string member @key of object @o; NULL when @o is NULL, or it is absent or not a string. */
static inline const char *sl_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

#endif
