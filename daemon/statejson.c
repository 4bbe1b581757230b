/* daemon/statejson.c: see statejson.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/state.h"
#include "daemon/statejson.h"

/* Field tables: one description drives both directions. */
enum field_type {
	F_STR,
	F_SHARED,   /* a string of the shared pool: state_set_shared() */
	F_INT,
	F_BOOL,
	F_UINT,
	F_LEVEL,
	F_TRISTATE, /* int -1/0/1 as null/false/true */
	F_SERIAL,   /* state_cert's serial, as hex: only in cert_fields */
};

struct field {
	const char *key;
	enum field_type type;
	size_t offset;
};

/* The size each type is read and written as: a member of another size (a struct
 * repacked to save memory) fails to compile here instead of corrupting its neighbours. */
#define FIELD_SIZE_F_STR sizeof(char *)
#define FIELD_SIZE_F_SHARED sizeof(const char *)
#define FIELD_SIZE_F_INT sizeof(int64_t)
#define FIELD_SIZE_F_BOOL sizeof(bool)
#define FIELD_SIZE_F_UINT sizeof(unsigned)
#define FIELD_SIZE_F_LEVEL sizeof(enum level)
#define FIELD_SIZE_F_TRISTATE sizeof(int)
#define FIELD_SIZE_F_SERIAL STATE_SERIAL_MAX
#define FIELD(t, m, ty)                                                                         \
	{ #m, ty,                                                                               \
	  offsetof(t, m) +                                                                      \
		  0 * sizeof(char[sizeof(((t *)0)->m) == FIELD_SIZE_##ty ? 1 : -1]) }

static const struct field name_fields[] = {
	FIELD(struct state_name, checked, F_BOOL),
	FIELD(struct state_name, checked_at, F_INT),
	FIELD(struct state_name, dns_error, F_BOOL),
	FIELD(struct state_name, status, F_SHARED),
	FIELD(struct state_name, reason, F_SHARED),
	FIELD(struct state_name, record, F_SHARED),
	FIELD(struct state_name, dnssec, F_SHARED),
	FIELD(struct state_name, policy_wildcard, F_BOOL),
	FIELD(struct state_name, wildcard_needed, F_BOOL),
	FIELD(struct state_name, has_until, F_BOOL),
	FIELD(struct state_name, persist_until, F_INT),
	FIELD(struct state_name, caa, F_SHARED),
	FIELD(struct state_name, level, F_LEVEL),
	FIELD(struct state_name, level_reason, F_SHARED),
	FIELD(struct state_name, alerted_level, F_LEVEL),
	FIELD(struct state_name, alerted_at, F_INT),
	FIELD(struct state_name, next_check, F_INT),
	FIELD(struct state_name, dns_failures, F_UINT),
};

static const struct field cert_fields[] = {
	FIELD(struct state_cert, has_cert, F_BOOL),
	FIELD(struct state_cert, not_before, F_INT),
	FIELD(struct state_cert, not_after, F_INT),
	FIELD(struct state_cert, serial, F_SERIAL),
	FIELD(struct state_cert, ari_cert_id, F_STR),
	FIELD(struct state_cert, issuer_cn, F_SHARED),
	FIELD(struct state_cert, version, F_UINT),
	FIELD(struct state_cert, ari_start, F_INT),
	FIELD(struct state_cert, ari_end, F_INT),
	FIELD(struct state_cert, ari_next_fetch, F_INT),
	FIELD(struct state_cert, next_renewal, F_INT),
	FIELD(struct state_cert, last_renewal, F_INT),
	FIELD(struct state_cert, last_attempt, F_INT),
	FIELD(struct state_cert, last_error, F_STR),
	FIELD(struct state_cert, failures, F_UINT),
	FIELD(struct state_cert, retry_at, F_INT),
	FIELD(struct state_cert, ca_retry_until, F_INT),
	FIELD(struct state_cert, cert_rejected, F_BOOL),
	FIELD(struct state_cert, orders_held_until, F_INT),
	FIELD(struct state_cert, records_hint, F_STR),
	FIELD(struct state_cert, first_seen, F_INT),
	FIELD(struct state_cert, level, F_LEVEL),
	FIELD(struct state_cert, level_reason, F_STR),
	FIELD(struct state_cert, alerted_level, F_LEVEL),
	FIELD(struct state_cert, alerted_at, F_INT),
	FIELD(struct state_cert, deploy_pending, F_BOOL),
	FIELD(struct state_cert, deploy_failed, F_BOOL),
};

/* Saved beside the cert's own fields, under the same keys as before they moved. */
static const struct field orders_fields[] = {
	FIELD(struct state_cert_orders, order_url, F_STR),
	FIELD(struct state_cert_orders, order_started, F_INT),
	FIELD(struct state_cert_orders, order_requested_at, F_INT),
	FIELD(struct state_cert_orders, order_replaces, F_STR),
	FIELD(struct state_cert_orders, revoked_serial, F_STR),
	FIELD(struct state_cert_orders, revoked_at, F_INT),
	FIELD(struct state_cert_orders, revoked_reason, F_STR),
};

static const struct field ca_fields[] = {
	FIELD(struct state_ca, directory, F_STR),
	FIELD(struct state_ca, account_url, F_STR),
	FIELD(struct state_ca, uri_mode, F_STR),
	FIELD(struct state_ca, hash_prefix, F_STR),
	FIELD(struct state_ca, offers_persist, F_TRISTATE),
	FIELD(struct state_ca, probed_at, F_INT),
};

/* Whether the member holds what read_fields() leaves for an absent key: a
 * zeroed entry's value (NULL, 0, false, OK), or null for a tristate. */
static bool field_is_default(const void *obj, const struct field *f)
{
	const void *p = (const char *)obj + f->offset;

	switch (f->type) {
	case F_STR:
		return !*(char *const *)p;
	case F_SHARED:
		return !*(const char *const *)p;
	case F_INT:
		return *(const int64_t *)p == 0;
	case F_BOOL:
		return !*(const bool *)p;
	case F_UINT:
		return *(const unsigned *)p == 0;
	case F_LEVEL:
		return *(const enum level *)p == LEVEL_OK;
	case F_TRISTATE:
		return *(const int *)p < 0;
	case F_SERIAL:
		return ((const struct state_cert *)obj)->serial_len == 0;
	}
	return false;
}

/* Members at their default are left out: at 100k certs, most of an entry's
 * fields are (no order in flight, no failure, no revocation), and writing them
 * made state.json 107 MB, 1.3 s of the loop for each whole snapshot. */
static void write_fields(struct json_writer *w, const void *obj, const struct field *f, size_t n)
{
	const char *base = obj;

	for (size_t i = 0; i < n; i++) {
		const void *p = base + f[i].offset;
		if (field_is_default(obj, &f[i]))
			continue;
		json_key(w, f[i].key);
		switch (f[i].type) {
		case F_STR:
			json_string(w, *(char *const *)p);
			break;
		case F_SHARED:
			json_string(w, *(const char *const *)p);
			break;
		case F_INT:
			json_int(w, *(const int64_t *)p);
			break;
		case F_BOOL:
			json_bool(w, *(const bool *)p);
			break;
		case F_UINT:
			json_uint(w, *(const unsigned *)p);
			break;
		case F_LEVEL:
			json_string(w, level_to_string(*(const enum level *)p));
			break;
		case F_TRISTATE: /* unknown (< 0) is the default, left out above */
			json_bool(w, *(const int *)p > 0);
			break;
		case F_SERIAL: {
			char hex[STATE_SERIAL_HEX_MAX];
			json_string(w, state_cert_serial_hex(obj, hex));
			break;
		}
		}
	}
}

static int read_fields(yajl_val obj, void *out, const struct field *f, size_t n, char *err,
		       size_t err_size)
{
	char *base = out;

	for (size_t i = 0; i < n; i++) {
		yajl_val v = json_get(obj, f[i].key);
		void *p = base + f[i].offset;
		bool ok = true;

		if (!v || YAJL_IS_NULL(v)) {
			if (f[i].type == F_TRISTATE)
				*(int *)p = -1;
			continue;
		}
		switch (f[i].type) {
		case F_STR:
			ok = YAJL_IS_STRING(v);
			if (ok && state_set_str((char **)p, YAJL_GET_STRING(v)) < 0)
				return -ENOMEM;
			break;
		case F_SHARED:
			ok = YAJL_IS_STRING(v);
			if (ok && state_set_shared((const char **)p, YAJL_GET_STRING(v)) < 0)
				return -ENOMEM;
			break;
		case F_INT:
			ok = YAJL_IS_INTEGER(v);
			if (ok)
				*(int64_t *)p = YAJL_GET_INTEGER(v);
			break;
		case F_UINT:
			ok = YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0 &&
			     YAJL_GET_INTEGER(v) <= UINT32_MAX;
			if (ok)
				*(unsigned *)p = (unsigned)YAJL_GET_INTEGER(v);
			break;
		case F_BOOL:
		case F_TRISTATE:
			ok = YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
			if (ok && f[i].type == F_BOOL)
				*(bool *)p = YAJL_IS_TRUE(v);
			else if (ok)
				*(int *)p = YAJL_IS_TRUE(v);
			break;
		case F_SERIAL:
			/* One that does not fit is forgotten, not refused: the current
			 * certificate, read at every start, is the truth. */
			ok = YAJL_IS_STRING(v);
			if (ok)
				(void)state_cert_set_serial(out, YAJL_GET_STRING(v));
			break;
		case F_LEVEL: {
			int l = YAJL_IS_STRING(v) ? level_from_string(YAJL_GET_STRING(v)) : -1;
			ok = l >= 0 && l != LEVEL_UNKNOWN;
			if (ok)
				*(enum level *)p = (enum level)l;
			break;
		}
		}
		if (!ok) {
			str_printf(err, err_size, "'%s' has the wrong type", f[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

void state_write_cert(struct json_writer *w, const struct state_cert *c)
{
	json_begin_object(w);
	const struct state_cert_orders *o = state_cert_orders(c);
	write_fields(w, c, cert_fields, ELEMENTSOF(cert_fields));
	write_fields(w, o, orders_fields, ELEMENTSOF(orders_fields));
	if (o->n_order_times) {
		json_key(w, "order_times");
		json_begin_array(w);
		for (size_t k = 0; k < o->n_order_times; k++)
			json_int(w, o->order_times[k]);
		json_end_array(w);
	}
	json_key(w, "names");
	json_begin_object(w);
	for (size_t k = 0; k < c->n_names; k++) {
		json_key(w, c->names[k].name);
		json_begin_object(w);
		write_fields(w, &c->names[k], name_fields, ELEMENTSOF(name_fields));
		json_end_object(w);
	}
	json_end_object(w);
	json_end_object(w);
}

int state_to_json(const struct state *s, char **ret, size_t *ret_len)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	int r;

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_int(w, "version", STATE_VERSION);
	json_key(w, "cas");
	json_begin_object(w);
	for (size_t i = 0; i < s->n_cas; i++) {
		const struct state_ca *ca = s->cas[i];
		json_key(w, ca->name);
		json_begin_object(w);
		write_fields(w, ca, ca_fields, ELEMENTSOF(ca_fields));
		json_key(w, "issuers");
		json_begin_array(w);
		for (size_t k = 0; k < ca->n_issuers; k++)
			json_string(w, ca->issuers[k]);
		json_end_array(w);
		json_end_object(w);
	}
	json_end_object(w);
	json_key(w, "certs");
	json_begin_object(w);
	for (size_t i = 0; i < s->n_certs; i++) {
		json_key(w, s->certs[i]->name);
		state_write_cert(w, s->certs[i]);
	}
	json_end_object(w);
	if (s->journal_gen)
		json_kv_int(w, "journal_gen", s->journal_gen);
	json_end_object(w);
	r = json_writer_finish(w, &out, &len);
	if (r < 0)
		return r;
	char *copy = malloc(len + 2);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, out, len);
	copy[len] = '\n';
	copy[len + 1] = '\0';
	*ret = copy;
	*ret_len = len + 1;
	return 0;
}

/* The breaker's memory must survive a restart intact: a list we cannot read whole is an
 * error, not a shorter list (which would let a restart loop place more orders). */
static int read_order_times(yajl_val v, const struct state_cert *c, struct state_cert_orders *o,
			    char *err, size_t err_size)
{
	yajl_val times = json_get(v, "order_times");

	if (!times || YAJL_IS_NULL(times))
		return 0;
	if (!YAJL_IS_ARRAY(times)) {
		str_printf(err, err_size, "certs.%s.order_times is not an array", c->name);
		return -EINVAL;
	}
	if (times->u.array.len > STATE_MAX_ORDER_TIMES) {
		str_printf(err, err_size, "certs.%s.order_times has %zu entries, at most %d",
			   c->name, times->u.array.len, STATE_MAX_ORDER_TIMES);
		return -EINVAL;
	}
	if (times->u.array.len == 0)
		return 0;
	int64_t *a = calloc(times->u.array.len, sizeof(*a));
	if (!a)
		return -ENOMEM;
	free(o->order_times);
	o->order_times = a;
	o->n_order_times = 0;
	for (size_t k = 0; k < times->u.array.len; k++) {
		yajl_val t = times->u.array.values[k];
		if (!YAJL_IS_INTEGER(t)) {
			str_printf(err, err_size, "certs.%s.order_times[%zu] is not an integer",
				   c->name, k);
			return -EINVAL;
		}
		o->order_times[k] = YAJL_GET_INTEGER(t);
	}
	o->n_order_times = times->u.array.len;
	return 0;
}

int state_read_cert(struct state *s, const char *name, yajl_val v, char *err, size_t err_size)
{
	struct state_cert *c = state_get_cert(s, name, true);
	int r;

	if (!c)
		return -ENOMEM;
	if (!YAJL_IS_OBJECT(v)) {
		str_printf(err, err_size, "certs.%s is not an object", c->name);
		return -EINVAL;
	}
	state_cert_clear(c);
	r = read_fields(v, c, cert_fields, ELEMENTSOF(cert_fields), err, err_size);
	if (r < 0)
		return r;
	/* Read apart, and kept only when there is something in it. */
	struct state_cert_orders o = { 0 };
	r = read_fields(v, &o, orders_fields, ELEMENTSOF(orders_fields), err, err_size);
	if (r >= 0)
		r = read_order_times(v, c, &o, err, err_size);
	if (r >= 0 && !state_orders_empty(&o)) {
		c->orders = malloc(sizeof(*c->orders));
		if (!c->orders)
			r = -ENOMEM;
		else
			*c->orders = o;
	}
	if (r < 0 || !c->orders)
		state_orders_done(&o);
	if (r < 0)
		return r;
	yajl_val names = json_get_object(v, "names");
	for (size_t k = 0; names && k < names->u.object.len; k++) {
		struct state_name *n = state_cert_get_name(c, names->u.object.keys[k], true);
		if (!n)
			return -ENOMEM;
		if (!YAJL_IS_OBJECT(names->u.object.values[k])) {
			str_printf(err, err_size, "certs.%s.names.%s is not an object", c->name,
				   n->name);
			return -EINVAL;
		}
		r = read_fields(names->u.object.values[k], n, name_fields, ELEMENTSOF(name_fields),
				err, err_size);
		if (r < 0)
			return r;
	}
	return 0;
}

int state_from_json(const char *json, size_t len, struct state **ret, char *err, size_t err_size)
{
	_cleanup_(state_freep) struct state *s = state_new();
	yajl_val root = NULL;
	int64_t version;
	int r;

	if (!s)
		return -ENOMEM;
	r = json_parse(json, len, STATE_MAX_BYTES, &root, err, err_size);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(root) || !json_get_int(root, "version", &version)) {
		str_printf(err, err_size, "not a persistd state file (no version)");
		r = -EINVAL;
		goto out;
	}
	if (version != STATE_VERSION) {
		str_printf(err, err_size, "state version %lld; this persistd reads version %d",
			   (long long)version, STATE_VERSION);
		r = -EINVAL;
		goto out;
	}

	yajl_val cas = json_get_object(root, "cas");
	for (size_t i = 0; cas && i < cas->u.object.len; i++) {
		yajl_val v = cas->u.object.values[i];
		struct state_ca *ca = state_get_ca(s, cas->u.object.keys[i], true);
		if (!ca) {
			r = -ENOMEM;
			goto out;
		}
		if (!YAJL_IS_OBJECT(v)) {
			str_printf(err, err_size, "cas.%s is not an object", ca->name);
			r = -EINVAL;
			goto out;
		}
		r = read_fields(v, ca, ca_fields, ELEMENTSOF(ca_fields), err, err_size);
		if (r < 0)
			goto out;
		yajl_val issuers = json_get_array(v, "issuers");
		/* The CA's issuer names decide which records are right: a list cut short
		 * would quietly call good records wrong, so a list we cannot take whole is
		 * an error that names it. */
		if (issuers && issuers->u.array.len > RECORD_MAX_ISSUERS) {
			str_printf(err, err_size, "cas.%s.issuers has %zu names; a CA may name at "
						  "most %d",
				   ca->name, issuers->u.array.len, RECORD_MAX_ISSUERS);
			r = -EINVAL;
			goto out;
		}
		for (size_t k = 0; issuers && k < issuers->u.array.len; k++) {
			yajl_val it = issuers->u.array.values[k];
			if (!YAJL_IS_STRING(it)) {
				str_printf(err, err_size, "cas.%s.issuers[%zu] is not a string",
					   ca->name, k);
				r = -EINVAL;
				goto out;
			}
			char **a = realloc(ca->issuers, (ca->n_issuers + 2) * sizeof(*a));
			if (!a) {
				r = -ENOMEM;
				goto out;
			}
			ca->issuers = a;
			a[ca->n_issuers] = strdup(it->u.string);
			if (!a[ca->n_issuers]) {
				r = -ENOMEM;
				goto out;
			}
			a[++ca->n_issuers] = NULL;
		}
	}

	yajl_val certs = json_get_object(root, "certs");
	for (size_t i = 0; certs && i < certs->u.object.len; i++) {
		r = state_read_cert(s, certs->u.object.keys[i], certs->u.object.values[i], err,
				    err_size);
		if (r < 0)
			goto out;
	}
	int64_t gen;
	if (json_get(root, "journal_gen")) {
		if (!json_get_int(root, "journal_gen", &gen) || gen < 0) {
			str_printf(err, err_size, "journal_gen is not a non-negative integer");
			r = -EINVAL;
			goto out;
		}
		s->journal_gen = gen;
	}
	*ret = TAKE_PTR(s);
	r = 0;
out:
	yajl_tree_free(root);
	return r;
}
