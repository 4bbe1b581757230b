/* daemon/statusquery.c: see statusquery.h. */
#include <errno.h>
#include <stdint.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/cert.h"
#include "daemon/statusquery.h"

static bool has_member(yajl_val params, const char *key)
{
	return yajl_tree_get(params, (const char *[]){ key, NULL }, yajl_t_any) != NULL;
}

int statusquery_parse(struct daemon *d, yajl_val params, struct statusdoc_query *ret,
		      int *ret_code, char *msg, size_t msg_size)
{
	static const char *const keys[] = { "summary", "limit", "offset", "cert" };
	struct statusdoc_query q = { 0 };
	int64_t n;

	if (!params || YAJL_IS_NULL(params))
		goto done;
	if (!YAJL_IS_OBJECT(params))
		goto bad;
	for (size_t i = 0; i < params->u.object.len; i++) {
		bool known = false;
		for (size_t k = 0; k < ELEMENTSOF(keys) && !known; k++)
			known = streq(params->u.object.keys[i], keys[k]);
		if (!known)
			goto bad;
	}
	if (has_member(params, "summary") && !json_get_bool(params, "summary", &q.summary))
		goto bad;
	if (has_member(params, "limit")) {
		if (!json_get_int(params, "limit", &n) || n < 0)
			goto bad;
		q.paged = true;
		q.limit = (size_t)n;
	}
	if (has_member(params, "offset")) {
		if (!json_get_int(params, "offset", &n) || n < 0)
			goto bad;
		if (!q.paged)
			q.limit = SIZE_MAX;
		q.paged = true;
		q.offset = (size_t)n;
	}
	if (has_member(params, "cert")) {
		const char *name = json_get_string(params, "cert");
		if (!name)
			goto bad;
		q.only = daemon_find_cert(d, name);
		if (!q.only) {
			*ret_code = JRPC_NOT_FOUND;
			str_printf(msg, msg_size, "no cert named '%s' in the configuration", name);
			return -EINVAL;
		}
	}
done:
	*ret = q;
	return 0;
bad:
	*ret_code = JRPC_INVALID_PARAMS;
	str_printf(msg, msg_size, "expected params {\"summary\": bool, \"limit\": N, "
				  "\"offset\": N, \"cert\": NAME}, each optional");
	return -EINVAL;
}
