#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "common/b64.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/jws.h"
#include "common/strutil.h"
#include "daemon/acme/account.h"
#include "daemon/acme/transport.h"
#include "daemon/log.h"
#include "daemon/signer.h"

int acme_account_expected_uri(const struct acme_account_view *a, const char *name,
			      const char *challenge_uri, char **ret)
{
	if (!a->url)
		return -EINVAL;
	if (a->uri_mode == RECORD_URI_URL) {
		*ret = strdup(challenge_uri ? challenge_uri : a->url);
		return *ret ? 0 : -ENOMEM;
	}
	if (!a->hash_prefix || !a->thumbprint)
		return -EINVAL;
	return record_hashed_account_uri(a->hash_prefix, a->hash_any_domain ? "*" : name,
					 a->thumbprint, a->url, ret);
}

static int copy_strv(const char *const *v, size_t n, const char *const **ret)
{
	char **c;

	*ret = NULL;
	if (n == 0)
		return 0;
	c = calloc(n, sizeof(char *));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			for (size_t k = 0; k < i; k++)
				free(c[k]);
			free(c);
			return -ENOMEM;
		}
	}
	*ret = (const char *const *)c;
	return 0;
}

static void free_strv(const char *const *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free((char *)v[i]);
	free((void *)v);
}

static int copy_str(const char *s, const char **ret)
{
	*ret = s ? strdup(s) : NULL;
	return s && !*ret ? -ENOMEM : 0;
}

int acme_account_view_copy(const struct acme_account_view *src, struct acme_account_view *ret)
{
	struct acme_account_view a = {
		.uri_mode = src->uri_mode,
		.hash_any_domain = src->hash_any_domain,
		.n_issuers = src->n_issuers,
		.n_caa_identities = src->n_caa_identities,
	};

	if (copy_str(src->url, &a.url) < 0 || copy_str(src->thumbprint, &a.thumbprint) < 0 ||
	    copy_str(src->hash_prefix, &a.hash_prefix) < 0 ||
	    copy_strv(src->issuers, src->n_issuers, &a.issuers) < 0 ||
	    copy_strv(src->caa_identities, src->n_caa_identities, &a.caa_identities) < 0) {
		acme_account_view_done(&a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void acme_account_view_done(struct acme_account_view *a)
{
	free((char *)a->url);
	free((char *)a->thumbprint);
	free((char *)a->hash_prefix);
	free_strv(a->issuers, a->n_issuers);
	free_strv(a->caa_identities, a->n_caa_identities);
	*a = (struct acme_account_view){ 0 };
}

/* ---- operations ---- */

static void op_done(struct acme_account_op *op, int r, const char *url)
{
	op->op = NULL;
	op->cb(op, r, url, op->message[0] ? op->message : NULL);
}

static void on_checked(const struct acme_reply *rep, void *userdata)
{
	struct acme_account_op *op = userdata;
	char why[300];

	if (rep->error == 0 && rep->status == 200) {
		struct acme_account acct;
		char err[200];
		if (rep->json && acme_account_parse(rep->json, &acct, err, sizeof(err)) == 0) {
			enum acme_status s = acct.status;
			acme_account_done(&acct);
			if (s == ACME_STATUS_VALID) {
				op_done(op, 0, rep->url);
				return;
			}
			str_printf(op->message, sizeof(op->message),
				   "the CA says account %s is %s; persistd will not create a new one "
				   "by itself (the records name this account)",
				   rep->url, acme_status_to_string(s));
			op_done(op, -EACCES, NULL);
			return;
		}
		str_printf(op->message, sizeof(op->message), "the account object from %s is "
							     "malformed: %s",
			   rep->url, err);
		op_done(op, -EPROTO, NULL);
		return;
	}
	acme_reply_describe(rep, why, sizeof(why));
	str_printf(op->message, sizeof(op->message), "checking account %s failed: %s", rep->url,
		   why);
	op_done(op, rep->error < 0 ? rep->error : -EACCES, NULL);
}

static void on_created(const struct acme_reply *rep, void *userdata)
{
	struct acme_account_op *op = userdata;
	char why[300];

	if (rep->error < 0 || (rep->status != 200 && rep->status != 201) || !rep->location) {
		acme_reply_describe(rep, why, sizeof(why));
		str_printf(op->message, sizeof(op->message), "creating the ACME account failed: %s",
			   why);
		op_done(op, rep->error < 0 ? rep->error : -EACCES, NULL);
		return;
	}
	op->created = rep->status == 201;
	op_done(op, 0, rep->location);
}

static void on_looked_up(const struct acme_reply *rep, void *userdata)
{
	struct acme_account_op *op = userdata;
	char why[300];

	if (rep->error == 0 && rep->status == 200 && rep->location) {
		/* The CA knows this key: the same account, found again. */
		op_done(op, 0, rep->location);
		return;
	}
	if (rep->error == 0 && rep->problem && acme_problem_is(rep->problem, "accountDoesNotExist")) {
		op_done(op, 0, NULL);
		return;
	}
	acme_reply_describe(rep, why, sizeof(why));
	str_printf(op->message, sizeof(op->message), "looking the account up failed: %s", why);
	op_done(op, rep->error < 0 ? rep->error : -EACCES, NULL);
}

static void on_key_changed(const struct acme_reply *rep, void *userdata)
{
	struct acme_account_op *op = userdata;
	char why[300];

	if (rep->error < 0 || rep->status != 200) {
		acme_reply_describe(rep, why, sizeof(why));
		str_printf(op->message, sizeof(op->message),
			   "the CA refused the key change: %s; the old key stays", why);
		op_done(op, rep->error < 0 ? rep->error : -EACCES, NULL);
		return;
	}
	op_done(op, 0, NULL);
}

static void on_deactivated(const struct acme_reply *rep, void *userdata)
{
	struct acme_account_op *op = userdata;
	char why[300];

	if (rep->error < 0 || rep->status != 200) {
		acme_reply_describe(rep, why, sizeof(why));
		str_printf(op->message, sizeof(op->message),
			   "the CA refused to deactivate the account: %s", why);
		op_done(op, rep->error < 0 ? rep->error : -EACCES, NULL);
		return;
	}
	op_done(op, 0, NULL);
}

static int post(struct acme_account_op *op, struct acme_conn *conn, const char *url,
		const char *payload, bool use_jwk, acme_cb cb)
{
	if (op->op)
		return -EBUSY;
	op->message[0] = '\0';
	op->created = false;
	return acme_conn_post(conn, url, payload, use_jwk, cb, op, &op->op);
}

int acme_account_check(struct acme_account_op *op, struct acme_conn *conn, const char *url)
{
	return post(op, conn, url, NULL, false, on_checked);
}

int acme_account_lookup(struct acme_account_op *op, struct acme_conn *conn,
			const char *new_account_url)
{
	return post(op, conn, new_account_url, "{\"onlyReturnExisting\":true}", true,
		    on_looked_up);
}

int acme_account_create(struct acme_account_op *op, struct acme_conn *conn,
			const char *new_account_url, const char *payload)
{
	return post(op, conn, new_account_url, payload, true, on_created);
}

int acme_account_key_change(struct acme_account_op *op, struct acme_conn *conn,
			    const char *key_change_url, const char *inner)
{
	return post(op, conn, key_change_url, inner, false, on_key_changed);
}

int acme_account_deactivate(struct acme_account_op *op, struct acme_conn *conn, const char *url)
{
	return post(op, conn, url, "{\"status\":\"deactivated\"}", false, on_deactivated);
}

void acme_account_op_cancel(struct acme_account_op *op)
{
	acme_op_cancel(op->op);
	op->op = NULL;
}

static int read_eab_key(const char *path, uint8_t **ret, size_t *ret_len, char *why,
			size_t why_size)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len;
	int r;

	r = file_read_bounded_stat(path, 4096, &text, &len, &st);
	if (r == -EISDIR || r == -EINVAL) {
		str_printf(why, why_size, "eab_hmac_file '%s': not a regular file (%s)", path,
			   file_type_name(st.st_mode));
		return r;
	}
	if (r < 0) {
		str_printf(why, why_size, "reading eab_hmac_file '%s': %s", path, strerror(-r));
		return r;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' '))
		len--;
	r = b64url_decode(text, len, ret, ret_len);
	if (r < 0)
		str_printf(why, why_size,
			   "eab_hmac_file '%s': expected the base64url key the CA gave you", path);
	return r;
}

int acme_account_new_payload(char *const *contacts, size_t n_contacts, const char *eab_kid,
			     const char *eab_hmac_file, const char *new_account_url,
			     const char *jwk, char **ret, char *why, size_t why_size)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_free_ char *eab = NULL;
	int r;

	if (!w)
		return -ENOMEM;
	if (eab_kid) {
		_cleanup_free_ uint8_t *hmac = NULL;
		size_t hmac_len;
		r = read_eab_key(eab_hmac_file, &hmac, &hmac_len, why, why_size);
		if (r < 0)
			return r;
		r = jws_eab_jwk(eab_kid, hmac, hmac_len, new_account_url, jwk, &eab);
		explicit_bzero(hmac, hmac_len);
		if (r < 0) {
			str_printf(why, why_size, "building the external account binding: %s",
				   strerror(-r));
			return r;
		}
	}
	json_begin_object(w);
	json_kv_bool(w, "termsOfServiceAgreed", true);
	json_key(w, "contact");
	json_begin_array(w);
	for (size_t i = 0; i < n_contacts; i++)
		json_string(w, contacts[i]);
	json_end_array(w);
	if (eab) {
		json_key(w, "externalAccountBinding");
		json_raw(w, eab, strlen(eab));
	}
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

int acme_account_info_json(const char *url, const char *directory, const char *key_type,
			   const char *thumbprint, int64_t created, char *const *contacts,
			   size_t n_contacts, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(true);

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_string(w, "url", url);
	json_kv_string(w, "directory", directory);
	json_kv_string(w, "key_type", key_type);
	json_kv_string(w, "thumbprint", thumbprint);
	json_kv_int(w, "created", created);
	json_key(w, "contact");
	json_begin_array(w);
	for (size_t i = 0; i < n_contacts; i++)
		json_string(w, contacts[i]);
	json_end_array(w);
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

/* ---- key rollover ---- */

static void on_abort_done(int r, yajl_val reply, const char *why, void *ud)
{
	(void)reply;
	(void)ud;
	if (r < 0)
		log_warning("the signer: %s", why);
}

static void rollover_done(struct acme_rollover *ro, int r, const char *message)
{
	if (r < 0 && ro->staged)
		(void)signer_request(ro->signer, "abort", ro->ca_name, NULL, on_abort_done, NULL,
				     NULL);
	ro->staged = false;
	ro->cb(ro, r, message);
}

static void on_key_committed(int r, yajl_val reply, const char *why, void *userdata)
{
	struct acme_rollover *ro = userdata;

	ro->signer_busy = false;
	if (r < 0 || ro->adopt(reply, ro->userdata) < 0) {
		ro->staged = false; /* keep account.key.next: it is the CA's key now */
		str_printf(ro->message, sizeof(ro->message),
			   "the CA accepted the new key but saving it failed (%s); it is in "
			   "accounts/%s/account.key.next: move it over account.key by hand and "
			   "restart persistd",
			   r < 0 && why ? why : "bad answer from the signer", ro->ca_name);
		rollover_done(ro, r < 0 ? r : -EPROTO, ro->message);
		return;
	}
	ro->staged = false;
	rollover_done(ro, 0, NULL);
}

static void on_rollover_key_changed(struct acme_account_op *op, int r, const char *url,
				    const char *message)
{
	struct acme_rollover *ro = op->userdata;

	(void)url;
	if (r < 0) {
		rollover_done(ro, r, message ? message : strerror(-r));
		return;
	}
	/* The CA now knows only the new key: the signer makes it the one on disk and in use. */
	r = signer_request(ro->signer, "commit", ro->ca_name, NULL, on_key_committed, ro,
			   &ro->signer_id);
	if (r < 0) {
		on_key_committed(r, NULL, strerror(-r), ro);
		return;
	}
	ro->signer_busy = true;
}

static void on_rollover_staged(int r, yajl_val reply, const char *why, void *userdata)
{
	struct acme_rollover *ro = userdata;
	const char *inner = reply && r == 0 ? json_get_string(reply, "inner") : NULL;

	ro->signer_busy = false;
	if (r < 0) {
		str_printf(ro->message, sizeof(ro->message), "the signer could not stage a new key: %s",
			   why);
		rollover_done(ro, r, ro->message);
		return;
	}
	/* On disk (account.key.next) before the CA hears of it: a crash after the CA switched
	 * must not leave us without the only key it accepts. */
	ro->staged = true;
	ro->op.cb = on_rollover_key_changed;
	ro->op.userdata = ro;
	r = inner ? acme_account_key_change(&ro->op, ro->conn, ro->key_change_url, inner) : -EPROTO;
	if (r < 0) {
		str_printf(ro->message, sizeof(ro->message), "starting the key change: %s",
			   strerror(-r));
		rollover_done(ro, r, ro->message);
	}
}

int acme_rollover_start(struct acme_rollover *ro, const char *account_url)
{
	const char *kv[] = { "url", ro->key_change_url, "account", account_url, NULL };
	int r;

	if (ro->signer_busy || ro->op.op)
		return -EBUSY;
	r = signer_request(ro->signer, "rollover", ro->ca_name, kv, on_rollover_staged, ro,
			   &ro->signer_id);
	if (r < 0)
		return r;
	ro->signer_busy = true;
	return 0;
}

void acme_rollover_cancel(struct acme_rollover *ro)
{
	if (ro->signer_busy)
		signer_cancel(ro->signer, ro->signer_id);
	ro->signer_busy = false;
	acme_account_op_cancel(&ro->op);
	if (ro->staged)
		(void)signer_request(ro->signer, "abort", ro->ca_name, NULL, on_abort_done, NULL,
				     NULL);
	ro->staged = false;
}
