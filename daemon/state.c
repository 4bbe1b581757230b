/* daemon/state.c: see state.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/strpool.h"
#include "common/strutil.h"
#include "daemon/state.h"

_Static_assert(offsetof(struct state_cert, name) == 0, "common/strmap: key first");

/* The shared strings of every state_name (state.h). The daemon's loop is the only
 * thread that sets or frees state. */
static struct strpool shared;

int state_set_str(char **slot, const char *v)
{
	char *copy = NULL;

	if (v) {
		copy = strdup(v);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int state_set_shared(const char **slot, const char *v)
{
	const char *held = NULL;

	if (v) {
		held = strpool_hold(&shared, v);
		if (!held)
			return -ENOMEM;
	}
	strpool_drop(&shared, *slot);
	*slot = held;
	return 0;
}

int state_cert_set_serial(struct state_cert *c, const char *hex)
{
	uint8_t buf[STATE_SERIAL_MAX];
	int len = hex ? str_hex_decode(hex, buf, sizeof(buf)) : 0;

	c->serial_len = 0;
	if (len < 0)
		return len;
	memcpy(c->serial, buf, (size_t)len);
	c->serial_len = (uint8_t)len;
	return 0;
}

const char *state_cert_serial_hex(const struct state_cert *c, char buf[STATE_SERIAL_HEX_MAX])
{
	str_hex_encode(c->serial, c->serial_len, buf);
	return buf;
}

bool state_cert_serial_is(const struct state_cert *c, const char *hex)
{
	uint8_t buf[STATE_SERIAL_MAX];
	int len = hex ? str_hex_decode(hex, buf, sizeof(buf)) : -EINVAL;

	return len > 0 && c->serial_len == (size_t)len && memcmp(c->serial, buf, (size_t)len) == 0;
}

bool state_cert_is_revoked(const struct state_cert *c)
{
	const struct state_cert_orders *o = state_cert_orders(c);

	return c->has_cert && state_cert_serial_is(c, o->revoked_serial);
}

static const struct state_cert_orders no_orders;

const struct state_cert_orders *state_cert_orders(const struct state_cert *c)
{
	return c->orders ? c->orders : &no_orders;
}

struct state_cert_orders *state_cert_orders_mut(struct state_cert *c)
{
	if (!c->orders)
		c->orders = calloc(1, sizeof(*c->orders));
	return c->orders;
}

bool state_orders_empty(const struct state_cert_orders *o)
{
	return !o->n_order_times && !o->order_url && !o->order_started &&
	       !o->order_requested_at && !o->order_replaces && !o->revoked_serial &&
	       !o->revoked_at && !o->revoked_reason;
}

void state_orders_done(struct state_cert_orders *o)
{
	free(o->order_times);
	free(o->order_url);
	free(o->order_replaces);
	free(o->revoked_serial);
	free(o->revoked_reason);
}

static void orders_free(struct state_cert_orders *o)
{
	if (!o)
		return;
	state_orders_done(o);
	free(o);
}

void state_trim_dirty(struct state *s)
{
	for (size_t i = 0; i < s->n_dirty; i++) {
		struct state_cert *c = s->dirty[i];
		if (c->orders && state_orders_empty(c->orders)) {
			orders_free(c->orders);
			c->orders = NULL;
		}
	}
}

static void name_done(struct state_name *n)
{
	free(n->name);
	const char **held[] = { &n->status, &n->reason, &n->record, &n->dnssec, &n->caa,
				&n->level_reason };
	for (size_t i = 0; i < ELEMENTSOF(held); i++)
		(void)state_set_shared(held[i], NULL);
}

void state_cert_clear(struct state_cert *c)
{
	const char *name = c->name;
	bool dirty = c->dirty;

	for (size_t i = 0; i < c->n_names; i++)
		name_done(&c->names[i]);
	free(c->names);
	free(c->ari_cert_id);
	(void)state_set_shared(&c->issuer_cn, NULL);
	free(c->last_error);
	orders_free(c->orders);
	free(c->records_hint);
	free(c->level_reason);
	*c = (struct state_cert){ .name = name, .dirty = dirty };
}

static void state_cert_free(struct state_cert *c)
{
	if (!c)
		return;
	state_cert_clear(c);
	free(c); /* its name with it (state_get_cert) */
}

static void state_ca_free(struct state_ca *ca)
{
	if (!ca)
		return;
	free(ca->name);
	free(ca->directory);
	free(ca->account_url);
	free(ca->uri_mode);
	free(ca->hash_prefix);
	for (size_t i = 0; i < ca->n_issuers; i++)
		free(ca->issuers[i]);
	free(ca->issuers);
	free(ca);
}

struct state *state_new(void)
{
	return calloc(1, sizeof(struct state));
}

void state_free(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_cas; i++)
		state_ca_free(s->cas[i]);
	free(s->cas);
	for (size_t i = 0; i < s->n_certs; i++)
		state_cert_free(s->certs[i]);
	free(s->certs);
	strmap_done(&s->cert_map);
	free(s->dirty);
	free(s);
}

int state_mark_dirty(struct state *s, struct state_cert *c)
{
	if (c->dirty)
		return 0;
	if (s->n_dirty == s->dirty_cap) {
		size_t cap = s->dirty_cap ? 2 * s->dirty_cap : 64;
		struct state_cert **a = realloc(s->dirty, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		s->dirty = a;
		s->dirty_cap = cap;
	}
	s->dirty[s->n_dirty++] = c;
	c->dirty = true;
	return 0;
}

void state_clear_dirty(struct state *s)
{
	for (size_t i = 0; i < s->n_dirty; i++)
		s->dirty[i]->dirty = false;
	s->n_dirty = 0;
}

struct state_ca *state_get_ca(struct state *s, const char *name, bool create)
{
	for (size_t i = 0; i < s->n_cas; i++)
		if (streq(s->cas[i]->name, name))
			return s->cas[i];
	if (!create)
		return NULL;
	struct state_ca **a = realloc(s->cas, (s->n_cas + 1) * sizeof(*a));
	if (!a)
		return NULL;
	s->cas = a;
	struct state_ca *ca = calloc(1, sizeof(*ca));
	if (!ca || !(ca->name = strdup(name))) {
		free(ca);
		return NULL;
	}
	ca->offers_persist = -1;
	s->cas[s->n_cas++] = ca;
	return ca;
}

struct state_cert *state_get_cert(struct state *s, const char *name, bool create)
{
	struct state_cert *c = strmap_get(&s->cert_map, name);

	if (c || !create)
		return c;
	struct state_cert **a = realloc(s->certs, (s->n_certs + 1) * sizeof(*a));
	if (!a)
		return NULL;
	s->certs = a;
	/* The name shares the entry's allocation: one chunk fewer for each of 100k certs. */
	size_t len = strlen(name) + 1;
	c = calloc(1, sizeof(*c) + len);
	if (!c)
		return NULL;
	c->name = memcpy((char *)(c + 1), name, len);
	if (strmap_add(&s->cert_map, c) < 0) {
		free(c);
		return NULL;
	}
	s->certs[s->n_certs++] = c;
	return c;
}

struct state_name *state_cert_get_name(struct state_cert *c, const char *name, bool create)
{
	for (size_t i = 0; i < c->n_names; i++)
		if (streq(c->names[i].name, name))
			return &c->names[i];
	if (!create)
		return NULL;
	struct state_name *a = realloc(c->names, (c->n_names + 1) * sizeof(*a));
	if (!a)
		return NULL;
	c->names = a;
	struct state_name *n = &c->names[c->n_names];
	*n = (struct state_name){ .name = strdup(name) };
	if (!n->name)
		return NULL;
	c->n_names++;
	return n;
}

void state_cert_retain_names(struct state_cert *c, char *const *names, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < c->n_names; i++) {
		bool keep = false;
		for (size_t k = 0; k < n && !keep; k++)
			keep = streq(c->names[i].name, names[k]);
		if (keep)
			c->names[o++] = c->names[i];
		else
			name_done(&c->names[i]);
	}
	c->n_names = o;
}

void state_retain_certs(struct state *s, const char *const *names, size_t n)
{
	struct strmap keep = { .values_are_keys = true };
	size_t o = 0;

	for (size_t k = 0; k < n; k++)
		if (strmap_put(&keep, (void *)names[k]) < 0) {
			/* Out of memory: keeping every cert is the safe way to fail. */
			strmap_done(&keep);
			return;
		}
	size_t od = 0;
	for (size_t i = 0; i < s->n_dirty; i++)
		if (strmap_get(&keep, s->dirty[i]->name))
			s->dirty[od++] = s->dirty[i];
	s->n_dirty = od;
	for (size_t i = 0; i < s->n_certs; i++) {
		if (strmap_get(&keep, s->certs[i]->name)) {
			s->certs[o++] = s->certs[i];
			continue;
		}
		(void)strmap_remove(&s->cert_map, s->certs[i]->name);
		state_cert_free(s->certs[i]);
	}
	s->n_certs = o;
	strmap_done(&keep);
}
