#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/b64.h"
#include "common/strutil.h"
#include "common/x509.h"
#include "daemon/acme/revoke.h"
#include "daemon/acme/transport.h"
#include "daemon/ca.h"
#include "daemon/daemon.h"

struct revoke_job {
	struct daemon *d;
	struct ca *ca;
	char *payload;          /* owned */
	struct key *cert_key;   /* owned, when signing with it */
	revoke_fn cb;
	void *userdata;
};

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL /* 7 is unused */, "removeFromCRL",
	"privilegeWithdrawn", "aACompromise",
};

int revoke_reason_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
		if (reasons[i] && streq(s, reasons[i]))
			return (int)i;
	return -EINVAL;
}

static void job_free(struct revoke_job *j)
{
	free(j->payload);
	key_free(j->cert_key);
	free(j);
}

static void on_revoked(const struct acme_reply *rep, void *userdata)
{
	struct revoke_job *j = userdata;
	char why[400];

	if (rep->error == 0 && rep->status == 200) {
		j->cb(0, "the CA revoked the certificate", j->userdata);
	} else {
		acme_reply_describe(rep, why, sizeof(why));
		j->cb(rep->error < 0 ? rep->error : -EACCES, why, j->userdata);
	}
	job_free(j);
}

static void on_ca_ready(struct ca *ca, int r, void *userdata)
{
	struct revoke_job *j = userdata;
	const struct acme_directory *dir = ca_get_directory(ca);

	if (r < 0) {
		j->cb(r, ca_last_error(ca), j->userdata);
		job_free(j);
		return;
	}
	if (!dir->revoke_cert) {
		j->cb(-EOPNOTSUPP, "the CA's directory has no revokeCert", j->userdata);
		job_free(j);
		return;
	}
	if (j->cert_key)
		r = acme_conn_post_with_key(ca_get_conn(ca), dir->revoke_cert, j->payload, j->cert_key,
					    on_revoked, j, NULL);
	else
		r = acme_conn_post(ca_get_conn(ca), dir->revoke_cert, j->payload, false, on_revoked, j,
				   NULL);
	if (r < 0) {
		j->cb(r, "cannot send the revocation", j->userdata);
		job_free(j);
	}
}

int revoke_current(struct daemon *d, struct ca *ca, const char *cert, int reason,
		   bool with_cert_key, revoke_fn cb, void *userdata)
{
	_cleanup_free_ char *pem = NULL, *b64 = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	size_t len, der_len;
	int r;

	r = store_cert_load_current(d->store, cert, &pem, &len);
	if (r < 0)
		return r;
	r = x509_leaf_der(pem, len, &der, &der_len);
	if (r < 0)
		return r;
	r = b64url_encode(der, der_len, &b64);
	if (r < 0)
		return r;
	struct revoke_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->d = d;
	j->ca = ca;
	j->cb = cb;
	j->userdata = userdata;
	if (reason >= 0)
		r = asprintf(&j->payload, "{\"certificate\":\"%s\",\"reason\":%d}", b64, reason);
	else
		r = asprintf(&j->payload, "{\"certificate\":\"%s\"}", b64);
	if (r < 0) {
		free(j);
		return -ENOMEM;
	}
	if (with_cert_key) {
		r = store_cert_load_current_key(d->store, cert, &j->cert_key);
		if (r < 0) {
			job_free(j);
			return r;
		}
	}
	r = ca_prepare(ca, on_ca_ready, j);
	if (r < 0)
		job_free(j);
	return r;
}
