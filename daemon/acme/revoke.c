#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/b64.h"
#include "common/strutil.h"
#include "common/x509.h"
#include "daemon/acme/revoke.h"
#include "daemon/acme/transport.h"

struct revoke_job {
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

const char *revoke_reason_to_string(int code)
{
	return code >= 0 && (size_t)code < ELEMENTSOF(reasons) ? reasons[code] : NULL;
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

int revoke_payload(const char *pem, size_t len, int reason, char **ret)
{
	_cleanup_free_ char *b64 = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	size_t der_len;
	int r;

	r = x509_leaf_der(pem, len, &der, &der_len);
	if (r < 0)
		return r;
	r = b64url_encode(der, der_len, &b64);
	if (r < 0)
		return r;
	if (reason >= 0)
		r = asprintf(ret, "{\"certificate\":\"%s\",\"reason\":%d}", b64, reason);
	else
		r = asprintf(ret, "{\"certificate\":\"%s\"}", b64);
	return r < 0 ? -ENOMEM : 0;
}

int revoke_send(struct acme_conn *conn, const char *payload, struct key *cert_key, revoke_fn cb,
		void *userdata)
{
	const struct acme_directory *dir = acme_conn_get_directory(conn);
	struct revoke_job *j;
	int r;

	if (!dir || !dir->revoke_cert) {
		key_free(cert_key);
		return -EOPNOTSUPP;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->payload = strdup(payload))) {
		free(j);
		key_free(cert_key);
		return -ENOMEM;
	}
	j->cert_key = cert_key;
	j->cb = cb;
	j->userdata = userdata;
	if (j->cert_key)
		r = acme_conn_post_with_key(conn, dir->revoke_cert, j->payload, j->cert_key,
					    on_revoked, j, NULL);
	else
		r = acme_conn_post(conn, dir->revoke_cert, j->payload, false, on_revoked, j, NULL);
	if (r < 0)
		job_free(j);
	return r;
}
