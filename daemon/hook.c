/* daemon/hook.c: see hook.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
	pid_t pid;
	int pidfd;                /* owned, -1 when none: readable once the child exits */
	uv_poll_t exit_poll;      /* on pidfd; exit_poll.data == this */
	uv_timer_t reap_timer;    /* without a pidfd: waitpid() every HOOK_REAP_POLL_MS */
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
		if (h->pidfd >= 0)
			(void)close(h->pidfd);
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
	close_handle(h, h->pidfd >= 0 ? (uv_handle_t *)&h->exit_poll
				      : (uv_handle_t *)&h->reap_timer);
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

/* Has the child exited? Then its status is taken (it is ours alone to
 * reap: nothing in persistd waits for any child but its own). */
static bool reap(struct hook_run *h)
{
	int wstatus;
	pid_t r = waitpid(h->pid, &wstatus, WNOHANG);

	if (r == 0 || (r < 0 && errno == EINTR))
		return false;
	h->exited = true;
	if (r < 0) {
		h->exit_status = 127;  /* cannot happen: someone else reaped it */
		h->term_signal = 0;
	} else if (WIFSIGNALED(wstatus)) {
		h->exit_status = 0;
		h->term_signal = WTERMSIG(wstatus);
	} else {
		h->exit_status = WEXITSTATUS(wstatus);
		h->term_signal = 0;
	}
	/* Output still in the pipes is read first; a background child that keeps
	 * them open gets one second, then we stop listening. */
	(void)uv_timer_start(&h->timer, on_timeout, 1000, 0);
	return true;
}

static void on_exit_poll(uv_poll_t *poll, int status, int events)
{
	struct hook_run *h = poll->data;

	(void)status;
	(void)events;
	if (reap(h)) {
		(void)uv_poll_stop(poll);
		run_report(h);
	}
}

static void on_reap_timer(uv_timer_t *t)
{
	struct hook_run *h = t->data;

	if (reap(h)) {
		(void)uv_timer_stop(t);
		run_report(h);
	}
}

/* The child, started the way posix_spawn() does it (vfork-like: no copy of
 * the daemon's page tables, which cost about 7 ms of CPU a hook here and
 * copy-on-write faults after). stdin /dev/null, stdout and stderr the
 * given pipes, nothing else open, default signal handling, nothing
 * blocked, a session (and process group) of its own. Its exit is watched
 * through a pidfd, or -1 in *ret_pidfd where there is none to be had
 * (Linux before 5.3; valgrind 3.19 knows no pidfd_open). 0 with *ret_pid
 * and *ret_pidfd, or -errno (the exec's own error included: ENOENT,
 * EACCES). */
static int spawn_child(const char *const *argv, char *const *envp, int out_fd, int err_fd,
		       pid_t *ret_pid, int *ret_pidfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int r;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	sigemptyset(&none);
	sigfillset(&all);
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!r)
		r = posix_spawnattr_setsigmask(&at, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&at, &all);
	if (!r)
		r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
							  POSIX_SPAWN_SETSIGDEF);
	if (!r)
		r = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	*ret_pid = pid;
	*ret_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
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
		(void)kill(-h->pid, SIGTERM);
		(void)uv_timer_start(&h->timer, on_timeout, HOOK_KILL_GRACE_MS, 0);
	} else if (!h->killed) {
		h->killed = true;
		log_warning("%s: sending SIGKILL", h->prefix);
		(void)kill(-h->pid, SIGKILL);
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
	/* An ignored SIGCHLD is inherited through exec, and with it the kernel
	 * reaps our children before waitpid() can tell how they ended. */
	struct sigaction sa;
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		(void)signal(SIGCHLD, SIG_DFL);
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

	/* The child's ends of its stdout and stderr; ours go to the streams. */
	int child_ends[2] = { -1, -1 };
	bool timer_ready = false;
	h->pidfd = -1;
	struct hook_stream *streams[] = { &h->out, &h->err };
	for (size_t i = 0; i < 2; i++) {
		int fds[2];
		streams[i]->run = h;
		streams[i]->keep_tail = streams[i] == &h->err;
		r = uv_pipe_init(loop, &streams[i]->pipe, 0);
		if (r < 0)
			goto fail;
		streams[i]->pipe.data = streams[i];
		streams[i]->open = true;
		h->open_handles++;
		if (pipe2(fds, O_CLOEXEC) < 0) {
			r = -errno;
			goto fail;
		}
		child_ends[i] = fds[1];
		r = uv_pipe_open(&streams[i]->pipe, fds[0]);
		if (r < 0) {
			(void)close(fds[0]);
			goto fail;
		}
	}
	r = uv_timer_init(loop, &h->timer);
	if (r < 0)
		goto fail;
	h->timer.data = h;
	h->open_handles++;
	timer_ready = true;

	r = spawn_child(argv, envp, child_ends[0], child_ends[1], &h->pid, &h->pidfd);
	for (size_t i = 0; i < 2; i++) {
		(void)close(child_ends[i]);
		child_ends[i] = -1;
	}
	if (r < 0)
		goto fail;
	uv_handle_t *watcher;
	if (h->pidfd >= 0) {
		watcher = (uv_handle_t *)&h->exit_poll;
		r = uv_poll_init(loop, &h->exit_poll, h->pidfd);
	} else {
		watcher = (uv_handle_t *)&h->reap_timer;
		r = uv_timer_init(loop, &h->reap_timer);
	}
	if (r == 0) {
		watcher->data = h;
		h->open_handles++;
		r = h->pidfd >= 0 ? uv_poll_start(&h->exit_poll, UV_READABLE, on_exit_poll)
				  : uv_timer_start(&h->reap_timer, on_reap_timer, HOOK_REAP_POLL_MS,
						   HOOK_REAP_POLL_MS);
		if (r < 0)
			close_handle(h, watcher);
	}
	if (r < 0) {
		/* Not watched, so not left running: the poll and the timer
		 * only fail on a programming error. */
		(void)kill(-h->pid, SIGKILL);
		(void)waitpid(h->pid, NULL, 0);
		goto fail;
	}
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

fail:
	/* Nothing runs: the handles close, and the last one frees h. */
	h->abandoned = true;
	h->exited = true;
	h->reported = true;
	for (size_t i = 0; i < 2; i++) {
		if (child_ends[i] >= 0)
			(void)close(child_ends[i]);
		if (streams[i]->open) {
			streams[i]->open = false;
			close_handle(h, (uv_handle_t *)&streams[i]->pipe);
		}
	}
	if (timer_ready)
		close_handle(h, (uv_handle_t *)&h->timer);
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
		(void)kill(-h->pid, SIGTERM);
		(void)uv_timer_start(&h->timer, on_timeout, HOOK_STOP_GRACE_MS, 0);
	}
}
