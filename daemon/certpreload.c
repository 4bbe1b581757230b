/* daemon/certpreload.c: see certpreload.h. */
#include <errno.h>
#include <stdlib.h>

#include "common/macro.h"
#include "common/workahead.h"
#include "daemon/certpreload.h"
#include "daemon/store.h"

void certpreload_one(struct store *store, const char *name, struct cert_preloaded *ret)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;

	*ret = (struct cert_preloaded){ 0 };
	ret->load_r = store_cert_load_current(store, name, &pem, &len);
	if (ret->load_r < 0)
		return;
	ret->parse_r = x509_parse_leaf(pem, len, &ret->info);
	if (ret->parse_r < 0)
		return;
	ret->has_version = store_cert_current_version(store, name, &ret->version) == 0;
}

struct certpreload {
	struct store *store;
	const char *const *names;
	struct workahead *ahead;
};

static void work(void *ctx, size_t i, void *slot)
{
	struct certpreload *p = ctx;

	certpreload_one(p->store, p->names[i], slot);
}

static void release(void *ctx, void *slot)
{
	(void)ctx;
	x509_info_done(&((struct cert_preloaded *)slot)->info);
}

static const struct workahead_ops ops = {
	.slot_size = sizeof(struct cert_preloaded),
	.work = work,
	.release = release,
};

int certpreload_start(struct store *store, const char *const *names, size_t n, unsigned threads,
		      struct certpreload **ret)
{
	struct certpreload *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->store = store;
	p->names = names;
	r = workahead_start(&ops, p, n, threads, &p->ahead);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

const struct cert_preloaded *certpreload_next(struct certpreload *p)
{
	return workahead_next(p->ahead);
}

void certpreload_finish(struct certpreload *p)
{
	if (!p)
		return;
	workahead_finish(p->ahead);
	free(p);
}
