/* daemon/signer_proc.c: the signer process' request handling. See signer_proc.h.
 * Everything here runs inside the confined child: it must not start threads, open sockets or
 * touch files outside the key directory (Landlock would refuse, seccomp would kill). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/json.h"
#include "common/jws.h"
#include "common/strutil.h"
#include "daemon/signer_proc.h"
#include "daemon/store.h"

#define SIGNER_MAX_CAS 1024
#define SIGNER_MAX_URL_BYTES 2048

struct signer_ca_entry {
	char *name;
	char *origin;       /* scheme://host:port of its directory */
	enum key_type type; /* for a new key */
	struct key *key;    /* loaded lazily; NULL until then */
	struct key *next;   /* a rollover's new key until commit or abort */
};

struct signer_proc {
	struct store *store;
	struct signer_ca_entry *cas;
	size_t n_cas;
};

uint32_t signer_frame_len(const uint8_t hdr[4])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

void signer_frame_put(uint8_t hdr[4], uint32_t len)
{
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
}

int signer_url_origin(const char *url, char **ret)
{
	const char *scheme_end, *host, *end, *port = NULL;
	const char *default_port;
	size_t slen;

	if (!url || strlen(url) > SIGNER_MAX_URL_BYTES)
		return -EINVAL;
	if (strncasecmp(url, "https://", 8) == 0) {
		slen = 5;
		default_port = "443";
	} else if (strncasecmp(url, "http://", 7) == 0) {
		slen = 4;
		default_port = "80";
	} else {
		return -EINVAL;
	}
	scheme_end = url + slen + 3;
	host = scheme_end;
	end = host + strcspn(host, "/?#");
	if (end == host || memchr(host, '@', end - host))
		return -EINVAL;
	if (*host == '[') {
		const char *close = memchr(host, ']', end - host);
		if (!close)
			return -EINVAL;
		if (close + 1 < end) {
			if (close[1] != ':')
				return -EINVAL;
			port = close + 2;
		}
		end = port ? port - 1 : close + 1;
	} else {
		const char *colon = memchr(host, ':', end - host);
		if (colon) {
			port = colon + 1;
			end = colon;
		}
	}
	size_t hlen = (size_t)(end - host);
	if (hlen == 0)
		return -EINVAL;
	size_t plen = port ? strcspn(port, "/?#") : strlen(default_port);
	if (port && (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen))
		return -EINVAL;
	char *o = malloc(slen + 3 + hlen + 1 + plen + 1);
	if (!o)
		return -ENOMEM;
	char *p = o;
	for (size_t i = 0; i < slen; i++)
		*p++ = (char)(url[i] | 0x20);
	memcpy(p, "://", 3);
	p += 3;
	for (size_t i = 0; i < hlen; i++) {
		char c = host[i];
		*p++ = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
	}
	*p++ = ':';
	memcpy(p, port ? port : default_port, plen);
	p[plen] = '\0';
	*ret = o;
	return 0;
}

int signer_proc_new(const char *state_dir, struct signer_proc **ret)
{
	struct signer_proc *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = store_open(state_dir, &p->store);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void signer_proc_free(struct signer_proc *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_cas; i++) {
		free(p->cas[i].name);
		free(p->cas[i].origin);
		key_free(p->cas[i].key);
		key_free(p->cas[i].next);
	}
	free(p->cas);
	store_free(p->store);
	free(p);
}

static struct signer_ca_entry *find_ca(struct signer_proc *p, const char *name)
{
	for (size_t i = 0; name && i < p->n_cas; i++)
		if (streq(p->cas[i].name, name))
			return &p->cas[i];
	return NULL;
}

int signer_proc_add_ca(struct signer_proc *p, const char *name, const char *directory_url,
		       enum key_type type)
{
	_cleanup_free_ char *origin = NULL;
	struct signer_ca_entry *e;
	int r;

	if (!store_name_is_safe(name) || (int)type < 0 || type >= _KEY_TYPE_MAX)
		return -EINVAL;
	r = signer_url_origin(directory_url, &origin);
	if (r < 0)
		return r;
	e = find_ca(p, name);
	if (e) {
		/* The origin is pinned: a process that parses network input must not be able to
		 * point an existing account at another CA. */
		if (!streq(e->origin, origin))
			return -EPERM;
		e->type = type;
		return 0;
	}
	if (p->n_cas >= SIGNER_MAX_CAS)
		return -E2BIG;
	e = realloc(p->cas, (p->n_cas + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	p->cas = e;
	e = &p->cas[p->n_cas];
	*e = (struct signer_ca_entry){ .type = type };
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->origin = TAKE_PTR(origin);
	p->n_cas++;
	return 0;
}

/* ---- replies ---- */

static int reply_error(int64_t id, int err, const char *text, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_int(w, "id", id);
	json_kv_string(w, "error", text);
	json_kv_int(w, "errno", err < 0 ? -err : err);
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

static int write_public(struct json_writer *w, const struct key *k)
{
	_cleanup_free_ char *jwk = NULL, *tp = NULL;
	int r;

	r = key_jwk(k, &jwk);
	if (r == 0)
		r = key_thumbprint(k, &tp);
	if (r < 0)
		return r;
	json_key(w, "jwk");
	json_raw(w, jwk, strlen(jwk));
	json_kv_string(w, "thumbprint", tp);
	json_kv_string(w, "key_type", key_type_to_string(key_get_type(k)));
	return 0;
}

/* ---- operations ---- */

static bool on_origin(const struct signer_ca_entry *e, const char *url)
{
	_cleanup_free_ char *o = NULL;

	return signer_url_origin(url, &o) == 0 && streq(o, e->origin);
}

/* The CA's key, loaded from disk on first use; -ENOENT when there is none. */
static int need_key(struct signer_proc *p, struct signer_ca_entry *e)
{
	if (e->key)
		return 0;
	return store_account_load_key(p->store, e->name, &e->key);
}

static int op_load(struct signer_proc *p, yajl_val req, struct json_writer *w, const char **why)
{
	const char *ca = json_get_string(req, "ca"), *dir = json_get_string(req, "directory");
	const char *type_s = json_get_string(req, "key_type");
	int type = type_s ? key_type_from_string(type_s) : -EINVAL;
	struct signer_ca_entry *e;
	int r;

	if (!ca || !dir || type < 0) {
		*why = "load needs ca, directory and key_type";
		return -EINVAL;
	}
	r = signer_proc_add_ca(p, ca, dir, (enum key_type)type);
	if (r == -EPERM)
		*why = "this CA's account is bound to another CA origin; restart persistd to "
		       "change its directory";
	else if (r < 0)
		*why = "bad CA name or directory URL";
	if (r < 0)
		return r;
	e = find_ca(p, ca);
	r = need_key(p, e);
	if (r == -ENOENT) {
		json_kv_bool(w, "have_key", false);
		return 0;
	}
	if (r < 0) {
		*why = "reading the account key";
		return r;
	}
	json_kv_bool(w, "have_key", true);
	return write_public(w, e->key);
}

static int op_key(struct signer_proc *p, struct signer_ca_entry *e, struct json_writer *w,
		  const char **why)
{
	bool created = false;
	int r;

	r = need_key(p, e);
	if (r == -ENOENT) {
		_cleanup_(key_freep) struct key *k = NULL;
		r = key_generate(e->type, &k);
		if (r < 0) {
			*why = "generating the account key";
			return r;
		}
		/* On disk, 0600, before anyone can use it. */
		r = store_account_save_key(p->store, e->name, k);
		if (r < 0) {
			*why = "saving the account key";
			return r;
		}
		e->key = TAKE_PTR(k);
		created = true;
	} else if (r < 0) {
		*why = "reading the account key";
		return r;
	}
	json_kv_bool(w, "created", created);
	return write_public(w, e->key);
}

static int op_sign(struct signer_proc *p, struct signer_ca_entry *e, yajl_val req,
		   struct json_writer *w, const char **why)
{
	const char *url = json_get_string(req, "url"), *nonce = json_get_string(req, "nonce");
	const char *kid = json_get_string(req, "kid"), *payload = json_get_string(req, "payload");
	_cleanup_free_ char *jws = NULL;
	int r;

	if (!url || !nonce) {
		*why = "sign needs url and nonce";
		return -EINVAL;
	}
	if (!on_origin(e, url) || (kid && !on_origin(e, kid))) {
		*why = "refused: the URL is not on this account's CA";
		return -EPERM;
	}
	r = need_key(p, e);
	if (r < 0) {
		*why = "no account key";
		return r;
	}
	r = jws_build(e->key, nonce, url, kid, payload, payload ? strlen(payload) : 0, &jws);
	if (r < 0) {
		*why = "signing";
		return r;
	}
	json_kv_string(w, "jws", jws);
	return 0;
}

static int op_rollover(struct signer_proc *p, struct signer_ca_entry *e, yajl_val req,
		       struct json_writer *w, const char **why)
{
	const char *url = json_get_string(req, "url"), *account = json_get_string(req, "account");
	_cleanup_(key_freep) struct key *k = NULL;
	_cleanup_free_ char *inner = NULL;
	int r;

	if (!url || !account) {
		*why = "rollover needs url and account";
		return -EINVAL;
	}
	if (!on_origin(e, url) || !on_origin(e, account)) {
		*why = "refused: the URL is not on this account's CA";
		return -EPERM;
	}
	r = need_key(p, e);
	if (r < 0) {
		*why = "no account key";
		return r;
	}
	r = key_generate(e->type, &k);
	if (r < 0) {
		*why = "generating the new key";
		return r;
	}
	/* On disk before the CA hears of it: a crash after the CA switched must not leave us
	 * without the only key it accepts. */
	r = store_account_save_next_key(p->store, e->name, k);
	if (r < 0) {
		*why = "saving account.key.next";
		return r;
	}
	r = jws_key_change_inner(k, url, account, e->key, &inner);
	if (r < 0) {
		*why = "signing the inner key change";
		return r;
	}
	json_kv_string(w, "inner", inner);
	r = write_public(w, k);
	if (r < 0)
		return r;
	key_free(e->next);
	e->next = TAKE_PTR(k);
	return 0;
}

static int op_commit(struct signer_proc *p, struct signer_ca_entry *e, struct json_writer *w,
		     const char **why)
{
	int r;

	if (!e->next) {
		*why = "no key rollover in progress";
		return -EINVAL;
	}
	r = store_account_promote_next_key(p->store, e->name);
	if (r < 0) {
		*why = "moving account.key.next over account.key";
		return r;
	}
	key_free(e->key);
	e->key = TAKE_PTR(e->next);
	return write_public(w, e->key);
}

static int op_abort(struct signer_proc *p, struct signer_ca_entry *e, const char **why)
{
	int r;

	key_free(e->next);
	e->next = NULL;
	r = store_account_drop_next_key(p->store, e->name);
	if (r < 0)
		*why = "removing account.key.next";
	return r;
}

static int op_info(struct signer_proc *p, struct signer_ca_entry *e, yajl_val req,
		   const char **why)
{
	const char *json = json_get_string(req, "json");
	yajl_val v = NULL;
	int r;

	if (!json || strlen(json) > SIGNER_MAX_INFO_BYTES) {
		*why = "info needs json (at most 64 KiB)";
		return -EINVAL;
	}
	/* Only a JSON object goes into account.json: it is the operator's file to read. */
	r = json_parse(json, strlen(json), SIGNER_MAX_INFO_BYTES, &v, NULL, 0);
	if (r == 0 && !YAJL_IS_OBJECT(v))
		r = -EINVAL;
	if (v)
		yajl_tree_free(v);
	if (r < 0) {
		*why = "info: not a JSON object";
		return -EINVAL;
	}
	r = store_account_save_info(p->store, e->name, json, strlen(json));
	if (r < 0)
		*why = "writing account.json";
	return r;
}

int signer_proc_handle(struct signer_proc *p, const char *req, size_t len, char **ret_reply)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;
	const char *why = NULL, *op, *ca;
	struct signer_ca_entry *e = NULL;
	int64_t id = 0;
	int r;

	if (len > SIGNER_MAX_MSG_BYTES)
		return reply_error(0, E2BIG, "request too long", ret_reply);
	r = json_parse(req, len, SIGNER_MAX_MSG_BYTES, &v, NULL, 0);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || !YAJL_IS_OBJECT(v))
		return reply_error(0, EINVAL, "request is not a JSON object", ret_reply);
	if (!json_get_int(v, "id", &id) || id < 0)
		return reply_error(0, EINVAL, "request without an id", ret_reply);
	op = json_get_string(v, "op");
	ca = json_get_string(v, "ca");
	if (!op)
		return reply_error(id, EINVAL, "request without an op", ret_reply);
	w = json_writer_new(false);
	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_int(w, "id", id);
	json_kv_bool(w, "ok", true);
	if (streq(op, "load")) {
		r = op_load(p, v, w, &why);
	} else if (!(e = find_ca(p, ca))) {
		why = "unknown CA";
		r = -ENOENT;
	} else if (streq(op, "key")) {
		r = op_key(p, e, w, &why);
	} else if (streq(op, "sign")) {
		r = op_sign(p, e, v, w, &why);
	} else if (streq(op, "rollover")) {
		r = op_rollover(p, e, v, w, &why);
	} else if (streq(op, "commit")) {
		r = op_commit(p, e, w, &why);
	} else if (streq(op, "abort")) {
		r = op_abort(p, e, &why);
	} else if (streq(op, "info")) {
		r = op_info(p, e, v, &why);
	} else {
		why = "unknown op";
		r = -EINVAL;
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char text[256];
		str_printf(text, sizeof(text), "%s: %s", why ? why : op, strerror(-r));
		return reply_error(id, r, text, ret_reply);
	}
	json_end_object(w);
	return json_writer_take(w, ret_reply, NULL);
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *b = buf;

	while (len > 0) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len > 0) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int signer_proc_serve(struct signer_proc *p, int fd)
{
	uint8_t hdr[4];
	int r;

	for (;;) {
		_cleanup_free_ char *req = NULL, *reply = NULL;
		r = read_full(fd, hdr, sizeof(hdr));
		if (r == -EPIPE)
			return 0;
		if (r < 0)
			return r;
		uint32_t len = signer_frame_len(hdr);
		if (len == 0 || len > SIGNER_MAX_MSG_BYTES)
			return -EPROTO; /* the stream cannot be resynchronized */
		req = malloc(len);
		if (!req)
			return -ENOMEM;
		r = read_full(fd, req, len);
		if (r < 0)
			return r == -EPIPE ? -EPROTO : r;
		r = signer_proc_handle(p, req, len, &reply);
		if (r < 0)
			return r;
		explicit_bzero(req, len);
		size_t rlen = strlen(reply);
		if (rlen > SIGNER_MAX_REPLY_BYTES)
			return -E2BIG; /* cannot happen: a JWS is 4/3 of a bounded request */
		signer_frame_put(hdr, (uint32_t)rlen);
		r = write_full(fd, hdr, sizeof(hdr));
		if (r == 0)
			r = write_full(fd, reply, rlen);
		if (r < 0)
			return r;
	}
}
