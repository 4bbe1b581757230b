/* daemon/acme/orphan.c: see orphan.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/acme/orphan.h"

struct orphan_search {
	struct acme_conn *conn;        /* borrowed: the CA's */
	const char *const *names;      /* borrowed */
	size_t n_names;
	orphan_taken_fn taken;
	orphan_done_fn done;
	void *userdata;
	struct acme_op *op;            /* in flight, or NULL */
	char **urls;                   /* owned: the listed order URLs, oldest first */
	size_t n_urls, pages, next, probed;
	bool delivering;
};

static void search_free(struct orphan_search *s)
{
	acme_op_cancel(s->op);
	for (size_t i = 0; i < s->n_urls; i++)
		free(s->urls[i]);
	free(s->urls);
	free(s);
}

static void deliver(struct orphan_search *s, const struct orphan_result *r)
{
	s->op = NULL;
	s->delivering = true;
	s->done(r, s->userdata);
	search_free(s);
}

static void none(struct orphan_search *s, const char *why)
{
	deliver(s, &(struct orphan_result){ .why = why });
}

static void fail(struct orphan_search *s, int error, const char *what)
{
	deliver(s, &(struct orphan_result){ .error = error, .what = what });
}

/* An answer the search cannot go on without, when the CA could not give it now. */
static bool transient(struct orphan_search *s, const struct acme_reply *rep, const char *what)
{
	if (acme_reply_try_later(rep)) {
		deliver(s, &(struct orphan_result){
				   .error = rep->error < 0 ? rep->error : -EAGAIN,
				   .reply = rep,
				   .what = what,
			   });
		return true;
	}
	return false;
}

static void post(struct orphan_search *s, const char *url, acme_cb cb, const char *what)
{
	int r = acme_conn_post(s->conn, url, NULL, false, cb, s, &s->op);
	if (r < 0)
		fail(s, r, what);
}

static void probe_next(struct orphan_search *s);

static void on_order(const struct acme_reply *rep, void *userdata)
{
	struct orphan_search *s = userdata;
	struct acme_order o;
	char err[200];

	s->op = NULL;
	if (transient(s, rep, "fetching an order of the account"))
		return;
	if (rep->status != 200 || !rep->json ||
	    acme_order_parse(rep->json, &o, err, sizeof(err)) < 0) {
		probe_next(s); /* gone or unreadable: not one we can continue */
		return;
	}
	if ((o.status == ACME_STATUS_PENDING || o.status == ACME_STATUS_READY ||
	     o.status == ACME_STATUS_PROCESSING) &&
	    acme_order_has_names(&o, s->names, s->n_names)) {
		deliver(s, &(struct orphan_result){ .url = rep->url, .order = &o });
		acme_order_done(&o); /* a no-op if the callback moved it out */
		return;
	}
	acme_order_done(&o);
	probe_next(s);
}

static void probe_next(struct orphan_search *s)
{
	char why[160];

	while (s->next > 0 && s->probed < ACME_MAX_ORDERS_PROBED) {
		const char *url = s->urls[--s->next];
		if (s->taken && s->taken(url, s->userdata))
			continue;
		s->probed++;
		post(s, url, on_order, "fetching an order of the account");
		return;
	}
	str_printf(why, sizeof(why),
		   "none of the %zu newest orders of the account is an unfinished one for these "
		   "names",
		   s->probed);
	none(s, why);
}

static void on_list(const struct acme_reply *rep, void *userdata)
{
	struct orphan_search *s = userdata;
	struct acme_orders_list l;
	char err[200], why[300];

	s->op = NULL;
	if (transient(s, rep, "fetching the account's orders"))
		return;
	if (rep->status != 200) {
		/* 404, 405, 501: a CA that does not list orders */
		str_printf(why, sizeof(why), "the CA does not list the account's orders (HTTP %ld)",
			   rep->status);
		none(s, why);
		return;
	}
	if (!rep->json || acme_orders_list_parse(rep->json, &l, err, sizeof(err)) < 0) {
		str_printf(why, sizeof(why), "the account's orders list %s is malformed (%s)",
			   rep->url, rep->json ? err : "not JSON");
		none(s, why);
		return;
	}
	if (l.n_orders > 0) {
		char **a = realloc(s->urls, (s->n_urls + l.n_orders) * sizeof(*a));
		if (!a) {
			acme_orders_list_done(&l);
			fail(s, -ENOMEM, "reading the account's orders");
			return;
		}
		s->urls = a;
		memcpy(a + s->n_urls, l.orders, l.n_orders * sizeof(*a));
		s->n_urls += l.n_orders;
		free(l.orders); /* the strings moved to s->urls */
	}
	s->pages++;
	if (rep->link_next && !streq(rep->link_next, rep->url) &&
	    s->pages < ACME_MAX_ORDERS_PAGES) {
		post(s, rep->link_next, on_list, "fetching the account's orders");
		return;
	}
	s->next = s->n_urls;
	probe_next(s);
}

static void on_account(const struct acme_reply *rep, void *userdata)
{
	struct orphan_search *s = userdata;
	struct acme_account a;
	char err[200], why[300];

	s->op = NULL;
	if (transient(s, rep, "fetching the account"))
		return;
	if (rep->status != 200 || !rep->json ||
	    acme_account_parse(rep->json, &a, err, sizeof(err)) < 0) {
		str_printf(why, sizeof(why), "the account object is not usable (HTTP %ld%s%s)",
			   rep->status, rep->json ? ": " : "", rep->json ? err : "");
		none(s, why);
		return;
	}
	if (!a.orders) {
		acme_account_done(&a);
		none(s, "the CA lists no orders for the account (no 'orders' URL), so an order "
			"made before a restart cannot be found");
		return;
	}
	post(s, a.orders, on_list, "fetching the account's orders");
	acme_account_done(&a);
}

int orphan_search_start(struct acme_conn *conn, const char *acct, const char *const *names,
			size_t n_names, orphan_taken_fn taken, orphan_done_fn done, void *userdata,
			struct orphan_search **ret)
{
	struct orphan_search *s;
	int r;

	if (!acct || !done || n_names == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct orphan_search){
		.conn = conn,
		.names = names,
		.n_names = n_names,
		.taken = taken,
		.done = done,
		.userdata = userdata,
	};
	r = acme_conn_post(conn, acct, NULL, false, on_account, s, &s->op);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void orphan_search_cancel(struct orphan_search *s)
{
	if (!s || s->delivering)
		return;
	search_free(s);
}
