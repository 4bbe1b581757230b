/* daemon/acme/transport_nonce.c: the Replay-Nonce pool. See transport_nonce.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/acme/transport_nonce.h"
#include "daemon/log.h"

static bool nonce_is_valid(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > ACME_MAX_NONCE_BYTES)
		return false;
	for (; *n; n++)
		if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '_'))
			return false;
	return true;
}

void transport_nonce_add(struct transport_nonce_pool *p, const char *nonce, const char *from)
{
	char *copy;

	if (!nonce)
		return;
	if (!nonce_is_valid(nonce)) {
		log_debug("ignoring an invalid Replay-Nonce from '%s'", from);
		return;
	}
	copy = strdup(nonce);
	if (!copy)
		return; /* a nonce is an optimization: the next request asks for one */
	if (p->n_nonces == ACME_MAX_NONCES) {
		free(p->nonces[0]);
		memmove(p->nonces, p->nonces + 1, (ACME_MAX_NONCES - 1) * sizeof(char *));
		p->n_nonces--;
	}
	p->nonces[p->n_nonces++] = copy;
}

/* The newest nonce (most likely still valid), owned by the caller. */
char *transport_nonce_take(struct transport_nonce_pool *p)
{
	if (p->n_nonces == 0)
		return NULL;
	return p->nonces[--p->n_nonces];
}

size_t transport_nonce_count(const struct transport_nonce_pool *p)
{
	return p->n_nonces;
}

void transport_nonce_clear(struct transport_nonce_pool *p)
{
	for (size_t i = 0; i < p->n_nonces; i++)
		free(p->nonces[i]);
	p->n_nonces = 0;
}
