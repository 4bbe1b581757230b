#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/strutil.h"
#include "daemon/hook.h"
#include "daemon/log.h"

extern char **environ;

struct hook_stream {
	uv_pipe_t pipe;           /* pipe.data == this */
	struct hook_run *run;     /* borrowed: the owner */
	char line[1024];
	size_t len;
	size_t total;
	bool open;
	bool keep_tail;           /* stderr: its last lines go to the callback */
};

struct hook_run {
	uv_process_t proc;        /* proc.data == this */
	uv_timer_t timer;         /* timer.data == this */
	struct hook_stream out, err;
	char *prefix;             /* owned */
	hook_done_fn cb;
	void *userdata;           /* borrowed */
	unsigned open_handles;    /* freed when the last one closed */
	bool exited, timed_out, stopped, killed, abandoned, reported;
	int64_t exit_status;
	int term_signal;
	char message[256];
	char tail[HOOK_TAIL_LINES][HOOK_TAIL_LINE_BYTES]; /* a ring of stderr lines */
	size_t n_tail;            /* lines seen; the newest is at (n_tail - 1) % LINES */
	struct hook_run *prev, *next; /* in `running` until reported */
};

/* Every hook not yet reported, for hook_stop_all(): one loop per process. */
static struct hook_run *running;
static bool stopping;

static void unlink_running(struct hook_run *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else if (running == h)
		running = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

static void run_maybe_free(struct hook_run *h)
{
	if (h->open_handles == 0) {
		free(h->prefix);
		free(h);
	}
}

static void on_closed(uv_handle_t *handle)
{
	struct hook_run *h = handle->type == UV_NAMED_PIPE
				     ? ((struct hook_stream *)handle->data)->run
				     : handle->data;

	h->open_handles--;
	run_maybe_free(h);
}

static void close_handle(struct hook_run *h, uv_handle_t *handle)
{
	if (!uv_is_closing(handle))
		uv_close(handle, on_closed);
	(void)h;
}

static void flush_line(struct hook_stream *s)
{
	struct hook_run *h = s->run;

	if (s->len == 0)
		return;
	/* Past the cap the log gets nothing more, but the tail keeps the last
	 * lines: that is where a failing program says why. */
	if (s->total <= HOOK_MAX_OUTPUT_BYTES) {
		char esc[1100];
		str_escape_line(esc, sizeof(esc), s->line, s->len, sizeof(s->line));
		log_info("%s: %s", h->prefix, esc);
	}
	if (s->keep_tail) {
		char *slot = h->tail[h->n_tail % HOOK_TAIL_LINES];
		str_escape_line(slot, HOOK_TAIL_LINE_BYTES, s->line, s->len, HOOK_TAIL_LINE_BYTES / 2);
		h->n_tail++;
	}
	s->len = 0;
}

static void join_tail(const struct hook_run *h, char *buf, size_t size)
{
	size_t first = h->n_tail > HOOK_TAIL_LINES ? h->n_tail - HOOK_TAIL_LINES : 0;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = first; i < h->n_tail && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i > first ? "\n" : "",
				 h->tail[i % HOOK_TAIL_LINES]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void run_report(struct hook_run *h)
{
	int r = 0;

	if (h->reported || !h->exited || h->out.open || h->err.open)
		return;
	h->reported = true;
	unlink_running(h);
	flush_line(&h->out);
	flush_line(&h->err);
	if (h->stopped && (h->term_signal || h->exit_status != 0)) {
		r = -ECANCELED;
		str_printf(h->message, sizeof(h->message), "stopped with the daemon (%s)",
			   h->term_signal ? strsignal(h->term_signal) : "it exited non-zero");
	} else if (h->timed_out) {
		r = -ETIMEDOUT;
		str_printf(h->message, sizeof(h->message), "killed after its timeout");
	} else if (h->term_signal) {
		r = -ECHILD;
		str_printf(h->message, sizeof(h->message), "killed by signal %s",
			   strsignal(h->term_signal));
	} else if (h->exit_status != 0) {
		r = -ECHILD;
		str_printf(h->message, sizeof(h->message), "exited with status %lld",
			   (long long)h->exit_status);
	} else {
		str_printf(h->message, sizeof(h->message), "succeeded");
	}
	close_handle(h, (uv_handle_t *)&h->timer);
	close_handle(h, (uv_handle_t *)&h->proc);
	if (!h->abandoned) {
		char tail[HOOK_TAIL_LINES * (HOOK_TAIL_LINE_BYTES + 1)];
		join_tail(h, tail, sizeof(tail));
		h->cb(r, h->message, tail, h->userdata);
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static char scratch[4096];

	(void)handle;
	(void)suggested;
	*buf = uv_buf_init(scratch, sizeof(scratch));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	struct hook_stream *s = stream->data;

	if (n < 0) {
		s->open = false;
		close_handle(s->run, (uv_handle_t *)&s->pipe);
		run_report(s->run);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char c = buf->base[i];
		s->total++;
		if (c == '\n' || s->len == sizeof(s->line)) {
			flush_line(s);
			if (c == '\n')
				continue;
		}
		s->line[s->len++] = c;
	}
}

static void on_timeout(uv_timer_t *t);

static void on_exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct hook_run *h = proc->data;

	h->exited = true;
	h->exit_status = status;
	h->term_signal = term_signal;
	/* Output still in the pipes is read first; a background child that keeps
	 * them open gets one second, then we stop listening. */
	(void)uv_timer_start(&h->timer, on_timeout, 1000, 0);
	run_report(h);
}

static void on_timeout(uv_timer_t *t)
{
	struct hook_run *h = t->data;

	if (h->exited) {
		struct hook_stream *streams[] = { &h->out, &h->err };
		for (size_t i = 0; i < 2; i++)
			if (streams[i]->open) {
				streams[i]->open = false;
				close_handle(h, (uv_handle_t *)&streams[i]->pipe);
			}
		run_report(h);
		return;
	}
	if (!h->timed_out && !h->stopped) {
		h->timed_out = true;
		log_warning("%s: still running after its timeout, sending SIGTERM", h->prefix);
		(void)kill(-h->proc.pid, SIGTERM);
		(void)uv_timer_start(&h->timer, on_timeout, HOOK_KILL_GRACE_MS, 0);
	} else if (!h->killed) {
		h->killed = true;
		log_warning("%s: sending SIGKILL", h->prefix);
		(void)kill(-h->proc.pid, SIGKILL);
	}
}

int hook_run(uv_loop_t *loop, const char *const *argv, const char *const *env,
	     uint64_t timeout_ms, const char *log_prefix, hook_done_fn cb, void *userdata,
	     struct hook_run **ret)
{
	_cleanup_free_ char **envp = NULL;
	size_t n_env = 0, n_extra = 0;
	int r;

	if (stopping)
		return -ESHUTDOWN;
	struct hook_run *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->prefix = strdup(log_prefix);
	if (!h->prefix) {
		free(h);
		return -ENOMEM;
	}
	h->cb = cb;
	h->userdata = userdata;
	while (environ[n_env])
		n_env++;
	while (env && env[n_extra])
		n_extra++;
	envp = calloc(n_env + n_extra + 1, sizeof(char *));
	if (!envp) {
		free(h->prefix);
		free(h);
		return -ENOMEM;
	}
	memcpy(envp, environ, n_env * sizeof(char *));
	for (size_t i = 0; i < n_extra; i++)
		envp[n_env + i] = (char *)env[i];

	struct hook_stream *streams[] = { &h->out, &h->err };
	for (size_t i = 0; i < 2; i++) {
		streams[i]->run = h;
		streams[i]->keep_tail = streams[i] == &h->err;
		r = uv_pipe_init(loop, &streams[i]->pipe, 0);
		if (r < 0)
			goto fail_pipes;
		streams[i]->pipe.data = streams[i];
		streams[i]->open = true;
		h->open_handles++;
	}
	r = uv_timer_init(loop, &h->timer);
	if (r < 0)
		goto fail_pipes;
	h->timer.data = h;
	h->open_handles++;

	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&h->out.pipe },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&h->err.pipe },
	};
	uv_process_options_t o = {
		.exit_cb = on_exit_cb,
		.file = argv[0],
		.args = (char **)argv,
		.env = envp,
		.stdio_count = 3,
		.stdio = stdio,
		.flags = UV_PROCESS_DETACHED, /* own process group: a timeout kills it all */
	};
	h->proc.data = h;
	r = uv_spawn(loop, &h->proc, &o);
	if (r < 0) {
		/* libuv wants the handle closed even when spawn failed. */
		h->open_handles++;
		uv_close((uv_handle_t *)&h->proc, on_closed);
		h->abandoned = true;
		h->exited = true;
		h->reported = true;
		for (size_t i = 0; i < 2; i++)
			close_handle(h, (uv_handle_t *)&streams[i]->pipe);
		close_handle(h, (uv_handle_t *)&h->timer);
		return r;
	}
	h->open_handles++;
	h->next = running;
	if (running)
		running->prev = h;
	running = h;
	for (size_t i = 0; i < 2; i++)
		(void)uv_read_start((uv_stream_t *)&streams[i]->pipe, on_alloc, on_read);
	if (timeout_ms)
		(void)uv_timer_start(&h->timer, on_timeout, timeout_ms, 0);
	if (ret)
		*ret = h;
	return 0;

fail_pipes:
	for (size_t i = 0; i < 2; i++)
		if (streams[i]->open)
			close_handle(h, (uv_handle_t *)&streams[i]->pipe);
	if (h->open_handles == 0)
		run_maybe_free(h);
	return r;
}

void hook_abandon(struct hook_run *h)
{
	if (h)
		h->abandoned = true;
}

void hook_stop_all(void)
{
	stopping = true;
	for (struct hook_run *h = running; h; h = h->next) {
		if (h->exited || h->stopped)
			continue;
		h->stopped = true;
		log_notice("%s: stopping it with the daemon (SIGTERM, SIGKILL in %u s)", h->prefix,
			   HOOK_STOP_GRACE_MS / 1000);
		(void)kill(-h->proc.pid, SIGTERM);
		(void)uv_timer_start(&h->timer, on_timeout, HOOK_STOP_GRACE_MS, 0);
	}
}
