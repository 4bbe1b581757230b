/* daemon/signer.c: fork the signer, and talk to it from the loop. See signer.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/json.h"
#include "common/key_ecdsa.h"
#include "common/list.h"
#include "common/strutil.h"
#include "daemon/confine.h"
#include "daemon/log.h"
#include "daemon/signer.h"
#include "daemon/signer_proc.h"

struct pending {
	struct list_link link;
	uint64_t id;
	signer_reply_fn cb; /* NULL once cancelled: the reply is read and dropped */
	void *ud;
};

struct signer {
	int fd;             /* until attached; then owned by pipe */
	pid_t pid;          /* 0 once reaped */
	uv_pipe_t pipe;     /* pipe.data == this */
	bool attached;
	bool dead;          /* EOF or a broken stream: every request fails */
	char dead_why[160];
	uint64_t next_id;
	struct list_link pending;
	uint8_t *in;        /* bytes read and not yet parsed */
	size_t in_len, in_size;
	unsigned *freed;    /* set while replies are delivered, so a callback may free s */
};

int signer_frame_next(const uint8_t *buf, size_t len, size_t max_bytes, size_t *ret_len)
{
	if (len < 4)
		return 0;
	uint32_t n = signer_frame_len(buf);
	if (n == 0 || n > max_bytes)
		return -EPROTO;
	if (len - 4 < n)
		return 0;
	*ret_len = n;
	return 1;
}

/* ---- the child ---- */

static _Noreturn void child_main(int fd, const char *state_dir, const struct config *cfg)
{
	struct signer_proc *p = NULL;
	char key_dir[4096];
	int r;

	(void)prctl(PR_SET_NAME, "persistd-signer", 0, 0, 0);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* systemd signals the whole unit at stop; the loop may still sign while it winds down,
	 * so the signer ends only with its socket (or its parent). */
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	/* No core dump, no ptrace by the same uid, no /proc/PID/mem for the hooks. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(70);
	if (dup2(fd, 3) < 0)
		_exit(70);
	if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
		for (int i = 4; i < 65536; i++)
			(void)close(i);
	fd = 3;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	str_printf(key_dir, sizeof(key_dir), "%s/accounts", state_dir);
	if (signer_proc_new(state_dir, &p) < 0)
		_exit(71);
	for (size_t i = 0; i < cfg->n_cas; i++)
		(void)signer_proc_add_ca(p, cfg->cas[i]->name, cfg->cas[i]->directory,
					 cfg->cas[i]->account_key_type);
	/* libcrypto signs for EC keys: its configuration file and first seeding must not
	 * wait for a first signature under Landlock and seccomp. */
	key_ecdsa_library_init();
	r = confine_to_dir(key_dir);
	if (r < 0 && r != -EOPNOTSUPP)
		_exit(72);
	if (confine_signer_seccomp() < 0)
		_exit(73);
	r = signer_proc_serve(p, fd);
	signer_proc_free(p);
	/* _exit: no atexit handlers (a sanitizer's leak check would need forbidden calls). */
	_exit(r < 0 ? 74 : 0);
}

int signer_start(const char *state_dir, const struct config *cfg, struct signer **ret)
{
	int sv[2];
	pid_t pid;

	struct signer *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	list_init(&s->pending);
	s->next_id = 1;
	/* CLOEXEC: a hook the loop spawns must not inherit a line to the signer. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(s);
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		free(s);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1], state_dir, cfg);
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	*ret = s;
	return 0;
}

pid_t signer_get_pid(const struct signer *s)
{
	return s ? s->pid : 0;
}

/* The child's exit codes (child_main): it cannot log, so the code says where it stopped. */
static const char *exit_reason(int code)
{
	switch (code) {
	case 70:
		return " (setting up the process)";
	case 71:
		return " (opening the state directory)";
	case 72:
		return " (Landlock refused to confine it)";
	case 73:
		return " (loading its seccomp filter failed: does a system-call filter around "
		       "persistd refuse seccomp()?)";
	case 74:
		return " (its socket broke)";
	default:
		return "";
	}
}

static void reap(struct signer *s, bool wait)
{
	int status;

	if (s->pid <= 0)
		return;
	pid_t r = waitpid(s->pid, &status, wait ? 0 : WNOHANG);
	if (r != s->pid)
		return;
	s->pid = 0;
	if (WIFSIGNALED(status))
		str_printf(s->dead_why, sizeof(s->dead_why),
			   "the signer process was killed by signal %d%s", WTERMSIG(status),
			   WTERMSIG(status) == SIGSYS ? " (a system call outside its seccomp filter)"
						      : "");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		str_printf(s->dead_why, sizeof(s->dead_why),
			   "the signer process exited with status %d%s", WEXITSTATUS(status),
			   exit_reason(WEXITSTATUS(status)));
}

static void fail_all(struct signer *s, const char *why)
{
	unsigned freed = 0, *outer = s->freed;

	if (!s->dead) {
		s->dead = true;
		reap(s, false);
		if (!s->dead_why[0])
			str_printf(s->dead_why, sizeof(s->dead_why), "%s", why);
		log_error("%s: no more ACME requests can be signed; restart persistd",
			  s->dead_why);
	}
	s->freed = &freed;
	while (!list_empty(&s->pending)) {
		struct pending *p = container_of(s->pending.next, struct pending, link);
		list_del(&p->link);
		if (p->cb)
			p->cb(-EPIPE, NULL, s->dead_why, p->ud);
		free(p);
		if (freed)
			return;
	}
	s->freed = outer;
}

static void on_pipe_closed(uv_handle_t *h)
{
	struct signer *s = h->data;

	free(s->in);
	free(s);
}

void signer_free(struct signer *s)
{
	if (!s)
		return;
	if (s->freed)
		(*s->freed)++;
	while (!list_empty(&s->pending)) {
		struct pending *p = container_of(s->pending.next, struct pending, link);
		list_del(&p->link);
		free(p);
	}
	if (s->attached) {
		uv_read_stop((uv_stream_t *)&s->pipe);
		/* EOF on its socket ends the signer; wait for it so no zombie stays. The
		 * close below happens in the loop, so shut the socket down first. */
		(void)shutdown(s->fd, SHUT_RDWR);
		reap(s, true);
		uv_close((uv_handle_t *)&s->pipe, on_pipe_closed);
		return;
	}
	if (s->fd >= 0)
		close(s->fd);
	reap(s, true);
	free(s->in);
	free(s);
}

/* ---- replies ---- */

static void deliver_reply(struct signer *s, const uint8_t *msg, size_t len)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int64_t id = -1;
	struct pending *p = NULL;
	char err[128] = "not an object with an id";

	if (json_parse((const char *)msg, len, SIGNER_MAX_REPLY_BYTES, &v, err, sizeof(err)) < 0 ||
	    !YAJL_IS_OBJECT(v) || !json_get_int(v, "id", &id)) {
		log_error("the signer sent a malformed reply: %s", err);
		return;
	}
	for (struct list_link *l = s->pending.next; l != &s->pending; l = l->next) {
		struct pending *q = container_of(l, struct pending, link);
		if ((int64_t)q->id == id) {
			p = q;
			break;
		}
	}
	if (!p) {
		log_error("the signer answered request %" PRId64 ", which nobody asked", id);
		return;
	}
	list_del(&p->link);
	if (p->cb) {
		const char *why = json_get_string(v, "error");
		int64_t e = EIO;
		if (why) {
			if (!json_get_int(v, "errno", &e) || e <= 0 || e > 4095)
				e = EIO;
			p->cb((int)-e, v, why, p->ud);
		} else {
			p->cb(0, v, NULL, p->ud);
		}
	}
	free(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct signer *s = h->data;
	size_t want = s->in_len + (suggested < 65536 ? 65536 : suggested);

	(void)suggested;
	if (want > s->in_size) {
		uint8_t *n = realloc(s->in, want);
		if (!n) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		s->in = n;
		s->in_size = want;
	}
	*buf = uv_buf_init((char *)s->in + s->in_len, (unsigned)(s->in_size - s->in_len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct signer *s = st->data;
	unsigned freed = 0, *outer = s->freed;
	size_t off = 0, len;
	int r;

	(void)buf;
	if (n < 0) {
		uv_read_stop(st);
		fail_all(s, n == UV_EOF ? "the signer process closed its socket"
					: "reading from the signer failed");
		return;
	}
	s->in_len += (size_t)n;
	s->freed = &freed;
	while ((r = signer_frame_next(s->in + off, s->in_len - off, SIGNER_MAX_REPLY_BYTES,
				      &len)) > 0) {
		deliver_reply(s, s->in + off + 4, len);
		if (freed)
			return;
		off += 4 + len;
	}
	s->freed = outer;
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	if (r < 0) {
		uv_read_stop(st);
		fail_all(s, "the signer broke the framing");
	}
}

int signer_attach(struct signer *s, uv_loop_t *loop)
{
	int r;

	r = uv_pipe_init(loop, &s->pipe, 0);
	if (r < 0)
		return -EIO;
	s->pipe.data = s;
	r = uv_pipe_open(&s->pipe, s->fd);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&s->pipe, on_alloc, on_read);
	s->attached = true; /* the pipe owns the fd now, even if reading failed */
	if (r < 0) {
		fail_all(s, "cannot read from the signer");
		return -EIO;
	}
	return 0;
}

/* ---- requests ---- */

struct out {
	uv_write_t req;
	size_t len;
	uint8_t data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct out *o = container_of(req, struct out, req);

	explicit_bzero(o->data, o->len); /* payloads are not secret, but leave nothing */
	free(o);
	(void)status; /* a broken socket shows up as EOF on the read side */
}

static int build(uint64_t id, const char *op, const char *ca, const char *const *kv, char **ret,
		 size_t *ret_len)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_int(w, "id", (int64_t)id);
	json_kv_string(w, "op", op);
	json_kv_string(w, "ca", ca);
	for (size_t i = 0; kv && kv[i]; i += 2)
		if (kv[i + 1])
			json_kv_string(w, kv[i], kv[i + 1]);
	json_end_object(w);
	return json_writer_take(w, ret, ret_len);
}

int signer_request(struct signer *s, const char *op, const char *ca, const char *const *kv,
		   signer_reply_fn cb, void *ud, uint64_t *ret_id)
{
	_cleanup_free_ char *msg = NULL;
	size_t len;
	int r;

	if (!s || !op || !ca || !cb || !s->attached)
		return -EINVAL;
	if (s->dead)
		return -EPIPE;
	uint64_t id = s->next_id++;
	r = build(id, op, ca, kv, &msg, &len);
	if (r < 0)
		return r;
	if (len > SIGNER_MAX_MSG_BYTES)
		return -E2BIG;
	struct out *o = malloc(sizeof(*o) + 4 + len);
	struct pending *p = calloc(1, sizeof(*p));
	if (!o || !p) {
		free(o);
		free(p);
		return -ENOMEM;
	}
	o->len = 4 + len;
	signer_frame_put(o->data, (uint32_t)len);
	memcpy(o->data + 4, msg, len);
	uv_buf_t b = uv_buf_init((char *)o->data, (unsigned)o->len);
	r = uv_write(&o->req, (uv_stream_t *)&s->pipe, &b, 1, on_written);
	if (r < 0) {
		free(o);
		free(p);
		return -EPIPE;
	}
	p->id = id;
	p->cb = cb;
	p->ud = ud;
	list_add_tail(&s->pending, &p->link);
	if (ret_id)
		*ret_id = id;
	return 0;
}

void signer_cancel(struct signer *s, uint64_t id)
{
	if (!s)
		return;
	for (struct list_link *l = s->pending.next; l != &s->pending; l = l->next) {
		struct pending *p = container_of(l, struct pending, link);
		if (p->id == id) {
			p->cb = NULL;
			return;
		}
	}
}

static int fd_write_all(int fd, const uint8_t *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_read_all(int fd, uint8_t *b, size_t len)
{
	while (len) {
		ssize_t n = read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int signer_load_now(struct signer *s, const char *ca, const char *directory,
		    const char *key_type, yajl_val *ret, char *why, size_t why_size)
{
	const char *kv[] = { "directory", directory, "key_type", key_type, NULL };
	_cleanup_free_ char *msg = NULL, *reply = NULL;
	uint8_t hdr[4];
	size_t len;
	yajl_val v = NULL;
	int r;

	*ret = NULL;
	if (s->attached || s->dead)
		return -EINVAL;
	r = build(s->next_id++, "load", ca, kv, &msg, &len);
	if (r < 0)
		return r;
	signer_frame_put(hdr, (uint32_t)len);
	r = fd_write_all(s->fd, hdr, 4);
	if (r == 0)
		r = fd_write_all(s->fd, (const uint8_t *)msg, len);
	if (r == 0)
		r = fd_read_all(s->fd, hdr, 4);
	if (r < 0) {
		reap(s, true);
		str_printf(why, why_size, "%s", s->dead_why[0] ? s->dead_why : "the signer is gone");
		return -EPIPE;
	}
	uint32_t n = signer_frame_len(hdr);
	if (n == 0 || n > SIGNER_MAX_REPLY_BYTES)
		return -EPROTO;
	reply = malloc(n);
	if (!reply)
		return -ENOMEM;
	r = fd_read_all(s->fd, (uint8_t *)reply, n);
	if (r < 0)
		return -EPIPE;
	if (json_parse(reply, n, SIGNER_MAX_REPLY_BYTES, &v, NULL, 0) < 0 || !YAJL_IS_OBJECT(v)) {
		if (v)
			yajl_tree_free(v);
		return -EPROTO;
	}
	const char *e = json_get_string(v, "error");
	if (e) {
		str_printf(why, why_size, "%s", e);
		yajl_tree_free(v);
		return -EACCES;
	}
	*ret = v;
	return 0;
}

/* ---- one CA as an acme_conn signer ---- */

struct sign_req {
	struct signer_ca *sca;
	uint64_t id;
	acme_sign_done_fn done;
	void *ud;
	struct sign_req *next;
};

struct signer_ca {
	struct signer *s; /* borrowed */
	char *name;
	struct sign_req *reqs; /* in flight */
};

int signer_ca_new(struct signer *s, const char *ca, struct signer_ca **ret)
{
	struct signer_ca *sca = calloc(1, sizeof(*sca));

	if (!sca)
		return -ENOMEM;
	sca->s = s;
	sca->name = strdup(ca);
	if (!sca->name) {
		free(sca);
		return -ENOMEM;
	}
	*ret = sca;
	return 0;
}

void signer_ca_free(struct signer_ca *sca)
{
	if (!sca)
		return;
	while (sca->reqs) {
		struct sign_req *q = sca->reqs;
		sca->reqs = q->next;
		signer_cancel(sca->s, q->id);
		free(q);
	}
	free(sca->name);
	free(sca);
}

static void unlink_req(struct signer_ca *sca, struct sign_req *q)
{
	for (struct sign_req **pp = &sca->reqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

static void on_sign_reply(int r, yajl_val reply, const char *why, void *ud)
{
	struct sign_req *q = ud;
	acme_sign_done_fn done = q->done;
	void *dud = q->ud;
	const char *jws = reply && r == 0 ? json_get_string(reply, "jws") : NULL;

	unlink_req(q->sca, q);
	free(q);
	if (r == 0 && !jws) {
		r = -EPROTO;
		why = "the signer's reply has no jws";
	}
	if (r < 0)
		log_warning("the signer refused a signature: %s", why);
	done(r, jws, why, dud);
}

static int sca_sign(void *ctx, const char *url, const char *nonce, const char *kid,
		    const char *payload, acme_sign_done_fn done, void *ud, uint64_t *ret_id)
{
	struct signer_ca *sca = ctx;
	const char *kv[] = { "url", url, "nonce", nonce, "kid", kid, "payload", payload, NULL };
	struct sign_req *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->sca = sca;
	q->done = done;
	q->ud = ud;
	r = signer_request(sca->s, "sign", sca->name, kv, on_sign_reply, q, &q->id);
	if (r < 0) {
		free(q);
		return r;
	}
	q->next = sca->reqs;
	sca->reqs = q;
	*ret_id = q->id;
	return 0;
}

static void sca_cancel(void *ctx, uint64_t id)
{
	struct signer_ca *sca = ctx;

	for (struct sign_req *q = sca->reqs; q; q = q->next)
		if (q->id == id) {
			signer_cancel(sca->s, id);
			unlink_req(sca, q);
			free(q);
			return;
		}
}

const struct acme_signer_ops signer_acme_ops = {
	.sign = sca_sign,
	.cancel = sca_cancel,
};
