/* daemon/acme/transport_dir.c: the cached directory. See transport_dir.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/acme/transport_dir.h"

void transport_dir_reply(const struct transport_dir *d, const char *url, struct acme_reply *r)
{
	*r = (struct acme_reply){
		.status = 200,
		.json = d->json,
		.body = d->body,
		.body_len = d->body_len,
		.content_type = "application/json",
		.retry_after_sec = -1,
		.url = url,
	};
}

int transport_dir_store(struct transport_dir *d, const struct http_response *resp,
			yajl_val *json, const struct acme_problem *problem, int perr,
			const char *perr_text, const char *url, struct acme_reply *r)
{
	char err[200];
	int res;

	if (resp->error)
		return resp->error;
	if (resp->status != 200) {
		char what[160];

		transport_reply_describe_answer(resp, problem, what, sizeof(what));
		r->error = -EPROTO;
		str_printf(r->error_text, sizeof(r->error_text), "GET %s: %s", url, what);
		return r->error;
	}
	if (perr < 0 || !*json) {
		r->error = perr < 0 ? perr : -EPROTO;
		str_printf(r->error_text, sizeof(r->error_text), "GET %s: not a JSON directory%s%s",
			   url, perr_text[0] ? ": " : "", perr_text);
		return r->error;
	}
	res = acme_directory_parse(*json, &d->parsed, err, sizeof(err));
	if (res < 0) {
		r->error = res == -ENOMEM ? res : -EPROTO;
		str_printf(r->error_text, sizeof(r->error_text), "GET %s: %s", url, err);
		return r->error;
	}
	d->body = malloc(resp->body_len + 1);
	if (!d->body) {
		acme_directory_done(&d->parsed);
		r->error = -ENOMEM;
		str_printf(r->error_text, sizeof(r->error_text), "out of memory");
		return r->error;
	}
	memcpy(d->body, resp->body, resp->body_len + 1);
	d->body_len = resp->body_len;
	d->json = TAKE_PTR(*json);
	d->valid = true;
	return 0;
}

void transport_dir_clear(struct transport_dir *d)
{
	acme_directory_done(&d->parsed);
	if (d->json)
		yajl_tree_free(d->json);
	free(d->body);
	*d = (struct transport_dir){ 0 };
}
