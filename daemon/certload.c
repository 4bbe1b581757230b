/* daemon/certload.c: see certload.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/x509.h"
#include "daemon/ca.h"
#include "daemon/certbase.h"
#include "daemon/certload.h"
#include "daemon/certpreload.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "daemon/store.h"

/* What daemon/certpreload read of the current certificate, into the cert's
 * state entry. */
static void apply_current(struct cert *c, const struct cert_preloaded *p)
{
	struct state_cert *st = cert_state(c);
	const struct x509_info *info = &p->info;

	if (!st)
		return;
	if (p->load_r < 0) {
		if (p->load_r != -ENOENT)
			log_warning("cert '%s': cannot read the current certificate: %s",
				    c->cfg->name, strerror(-p->load_r));
		st->has_cert = false;
		return;
	}
	if (p->parse_r < 0) {
		log_warning("cert '%s': the current certificate does not parse: %s", c->cfg->name,
			    strerror(-p->parse_r));
		st->has_cert = false;
		return;
	}
	bool changed = !state_cert_serial_is(st, info->serial_hex);
	st->has_cert = true;
	st->not_before = info->not_before;
	st->not_after = info->not_after;
	if (state_cert_set_serial(st, info->serial_hex) < 0)
		log_warning("cert '%s': the current certificate's serial %s is longer than RFC "
			    "5280's 20 octets: not kept, so it cannot be revoked by serial",
			    c->cfg->name, info->serial_hex);
	(void)state_set_shared(&st->issuer_cn, info->issuer_cn);
	if (changed) {
		(void)state_set_str(&st->ari_cert_id, info->ari_cert_id);
		st->ari_start = st->ari_end = 0;
		st->ari_next_fetch = 0;
		st->next_renewal = 0;
	}
	if (p->has_version)
		st->version = p->version;
}

void certload_current(struct cert *c)
{
	struct cert_preloaded p;

	certpreload_one(c->d->store, c->cfg->name, &p);
	apply_current(c, &p);
	x509_info_done(&p.info);
}

int cert_load(struct cert *c, const struct cert_preloaded *pre)
{
	if (!cert_state(c))
		return -ENOMEM;
	(void)ca_load_local(c->ca);
	if (pre)
		apply_current(c, pre);
	else
		certload_current(c);
	return 0;
}

/* Every cert's current certificate, read and parsed by CERTPRELOAD_THREADS
 * threads ahead of this one, which applies them to the state in order. On a
 * cold page cache they keep that many reads in flight. */
#define CERTPRELOAD_THREADS 8
int certload_all(struct daemon *d)
{
	_cleanup_free_ const char **names = calloc(d->n_certs ? d->n_certs : 1, sizeof(*names));
	struct certpreload *pre = NULL;
	int r = 0;

	for (size_t i = 0; names && i < d->n_certs; i++)
		names[i] = d->certs[i]->cfg->name;
	/* Without it (out of memory, no thread) each cert reads its own. */
	if (!names || certpreload_start(d->store, names, d->n_certs, CERTPRELOAD_THREADS, &pre) < 0)
		pre = NULL;
	for (size_t i = 0; i < d->n_certs && r >= 0; i++) {
		r = cert_load(d->certs[i], pre ? certpreload_next(pre) : NULL);
		if (r < 0)
			log_errno(LOG_ERR, r, "cert '%s': %m", d->certs[i]->cfg->name);
	}
	certpreload_finish(pre);
	return r;
}
