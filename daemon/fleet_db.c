#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/fleet_db.h"
#include "daemon/fleet_schema.h"
#include "daemon/fleet_sqlcheck.h"
#include "daemon/fleet_sql.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS (30 * 1000)
#define HEARTBEAT_MS (10 * 1000)

struct fleet_db {
	uv_loop_t *loop;              /* borrowed */
	uv_async_t async;             /* async.data == this; thread -> loop */
	fleet_db_event_fn on_event;
	void *userdata;
	char *uri, *host, *role;      /* owned */
	uint64_t poll_ms;

	pthread_t thread;
	bool thread_started;
	int wake_fd;                  /* eventfd: loop -> thread */
	pthread_mutex_t mu;           /* guards the four lists and quit */
	struct fleet_db_job *in_head, *in_tail;   /* queued for the thread */
	struct fleet_db_job *out_head, *out_tail; /* done, for the loop */
	struct fleet_db_event *ev_head, *ev_tail; /* for the loop */
	bool quit;

	/* thread only */
	PGconn *conn;
	uint64_t thread_gen;

	/* loop only */
	uint64_t gen;
	bool connected;
};

static void job_free(struct fleet_db_job *job)
{
	if (!job)
		return;
	fleet_sql_row_done(&job->row);
	fleet_sqlcheck_done(&job->checks);
	free(job->cert);
	free(job);
}

static void event_free(struct fleet_db_event *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->names[i]);
		free(ev->serials[i]);
	}
	free(ev->names);
	free(ev->serials);
	free(ev->not_afters);
	free(ev->view_json);
	free(ev);
}

struct fleet_db_job *fleet_db_job_new(enum fleet_db_op op, const char *cert)
{
	struct fleet_db_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->op = op;
	job->cert = strdup(cert);
	if (!job->cert) {
		free(job);
		return NULL;
	}
	return job;
}

static void wake(struct fleet_db *db)
{
	uint64_t one = 1;

	(void)!write(db->wake_fd, &one, sizeof(one));
}

/* Appends job to one of the two queues (in: for the thread; out: for the loop). */
static void enqueue(struct fleet_db *db, struct fleet_db_job **head, struct fleet_db_job **tail,
		    struct fleet_db_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&db->mu);
	if (*tail)
		(*tail)->next = job;
	else
		*head = job;
	*tail = job;
	pthread_mutex_unlock(&db->mu);
}

void fleet_db_submit(struct fleet_db *db, struct fleet_db_job *job, fleet_db_job_fn cb,
		     void *userdata)
{
	job->cb = cb;
	job->userdata = userdata;
	enqueue(db, &db->in_head, &db->in_tail, job);
	wake(db);
}

void fleet_db_cancel(struct fleet_db_job *job)
{
	/* The loop alone reads it, when the job comes back. */
	if (job)
		job->cancelled = true;
}

uint64_t fleet_db_gen(const struct fleet_db *db)
{
	return db->gen;
}

bool fleet_db_connected(const struct fleet_db *db)
{
	return db->connected;
}

/* ---- the loop's side ---- */

static void on_async(uv_async_t *a)
{
	struct fleet_db *db = a->data;

	pthread_mutex_lock(&db->mu);
	struct fleet_db_job *jobs = db->out_head;
	struct fleet_db_event *evs = db->ev_head;
	db->out_head = db->out_tail = NULL;
	db->ev_head = db->ev_tail = NULL;
	pthread_mutex_unlock(&db->mu);

	/* Connection changes first (a job's caller may ask whether its connection still
	 * lives), then jobs, then changed certs: a claim that just found a lock taken has
	 * ended by the time the notification of that lock holder's new version is handled. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			while (jobs) {
				struct fleet_db_job *job = jobs;
				jobs = job->next;
				if (!job->cancelled && job->cb)
					job->cb(job, job->userdata);
				job_free(job);
			}
		struct fleet_db_event **pp = &evs;
		while (*pp) {
			struct fleet_db_event *ev = *pp;
			if ((pass == 0) == (ev->type == FLEET_DB_CHANGED)) {
				pp = &ev->next;
				continue;
			}
			*pp = ev->next;
			if (ev->type == FLEET_DB_CONNECTED) {
				db->gen = ev->gen;
				db->connected = true;
			} else if (ev->type == FLEET_DB_DISCONNECTED)
				db->connected = false;
			if (db->on_event)
				db->on_event(ev, db->userdata);
			event_free(ev);
		}
	}
}

static void on_async_closed(uv_handle_t *h)
{
	struct fleet_db *db = h->data;

	free(db->uri);
	free(db->host);
	free(db->role);
	free(db);
}

/* ---- the thread's side ---- */

static void post_event(struct fleet_db *db, struct fleet_db_event *ev)
{
	pthread_mutex_lock(&db->mu);
	if (db->ev_tail)
		db->ev_tail->next = ev;
	else
		db->ev_head = ev;
	db->ev_tail = ev;
	pthread_mutex_unlock(&db->mu);
	uv_async_send(&db->async);
}

static void post_state(struct fleet_db *db, enum fleet_db_event_type type, const char *why,
		       uint64_t retry_ms)
{
	struct fleet_db_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return;
	ev->type = type;
	ev->gen = db->thread_gen;
	ev->retry_ms = retry_ms;
	if (why)
		str_printf(ev->why, sizeof(ev->why), "%s", why);
	post_event(db, ev);
}

static void post_job(struct fleet_db *db, struct fleet_db_job *job)
{
	enqueue(db, &db->out_head, &db->out_tail, job);
	uv_async_send(&db->async);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The rows of a result as a CHANGED event (name, serial, not_after). */
static void post_changed(struct fleet_db *db, PGresult *res, bool full)
{
	size_t n = (size_t)PQntuples(res);
	struct fleet_db_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return;
	ev->type = FLEET_DB_CHANGED;
	ev->gen = db->thread_gen;
	ev->full_list = full;
	ev->names = calloc(n ? n : 1, sizeof(char *));
	ev->serials = calloc(n ? n : 1, sizeof(char *));
	ev->not_afters = calloc(n ? n : 1, sizeof(int64_t));
	if (!ev->names || !ev->serials || !ev->not_afters) {
		event_free(ev);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ev->names[i] = strdup(PQgetvalue(res, (int)i, 0));
		ev->serials[i] = strdup(PQgetvalue(res, (int)i, 1));
		ev->not_afters[i] = strtoll(PQgetvalue(res, (int)i, 2), NULL, 10);
		ev->n = i + 1;
		if (!ev->names[i] || !ev->serials[i]) {
			event_free(ev);
			return;
		}
	}
	post_event(db, ev);
}

static void drop_conn(struct fleet_db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

/* Every notification that arrived, as one CHANGED event. Payload: "SERIAL NOT_AFTER NAME". */
static void drain_notifies(struct fleet_db *db)
{
	struct fleet_db_event *ev = NULL;
	size_t cap = 0;
	PGnotify *nt;

	while ((nt = PQnotifies(db->conn))) {
		char serial[130], name[256];
		long long not_after;
		if (sscanf(nt->extra, "%129s %lld %255s", serial, &not_after, name) == 3) {
			if (!ev) {
				ev = calloc(1, sizeof(*ev));
				if (!ev) {
					PQfreemem(nt);
					continue;
				}
				ev->type = FLEET_DB_CHANGED;
				ev->gen = db->thread_gen;
			}
			if (ev->n == cap) {
				size_t c = cap ? cap * 2 : 8;
				char **a = realloc(ev->names, c * sizeof(char *));
				if (a)
					ev->names = a;
				char **b = realloc(ev->serials, c * sizeof(char *));
				if (b)
					ev->serials = b;
				int64_t *t = realloc(ev->not_afters, c * sizeof(int64_t));
				if (t)
					ev->not_afters = t;
				if (!a || !b || !t) {
					PQfreemem(nt);
					break;
				}
				cap = c;
			}
			ev->names[ev->n] = strdup(name);
			ev->serials[ev->n] = strdup(serial);
			ev->not_afters[ev->n] = not_after;
			if (ev->names[ev->n] && ev->serials[ev->n])
				ev->n++;
			else {
				free(ev->names[ev->n]);
				free(ev->serials[ev->n]);
			}
		}
		PQfreemem(nt);
	}
	if (ev)
		post_event(db, ev);
}

/* The server's notices ("already exists, skipping") are not the operator's business. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int try_connect(struct fleet_db *db, char *why, size_t why_size)
{
	const char *keys[] = { "dbname", "application_name", "connect_timeout", "keepalives_idle",
			       "keepalives_interval", "keepalives_count", "tcp_user_timeout",
			       NULL };
	const char *vals[] = { db->uri, "persistd", "5", "10", "5", "3", "20000", NULL };
	int r;

	db->conn = PQconnectdbParams(keys, vals, 1);
	if (fleet_sql_conn_bad(db->conn)) {
		fleet_sql_why(db->conn, why, why_size);
		drop_conn(db);
		return -ENOTCONN;
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	r = fleet_schema_migrate(db->conn, why, why_size);
	if (r < 0) {
		drop_conn(db);
		return r;
	}
	const char *params[] = { db->host, db->role };
	r = fleet_sql_exec(db->conn,
			"INSERT INTO persistd_hosts (name, role) VALUES ($1, $2) "
			"ON CONFLICT (name) DO UPDATE SET role = $2, started_at = now(), "
			"last_seen = now()",
			2, params, NULL, NULL, PGRES_COMMAND_OK, NULL, why, why_size);
	if (r == 0)
		r = fleet_sql_exec(db->conn, "LISTEN " FLEET_SQL_CHANNEL, 0, NULL, NULL, NULL,
				   PGRES_COMMAND_OK, NULL, why, why_size);
	if (r < 0) {
		drop_conn(db);
		return r;
	}
	return 0;
}

static int list_all(struct fleet_db *db)
{
	PGresult *res = NULL;
	char why[256];
	int r;

	r = fleet_sql_exec(db->conn,
			"SELECT name, serial, not_after FROM persistd_certs WHERE serial IS NOT NULL "
			"ORDER BY name LIMIT 1000001",
			0, NULL, NULL, NULL, PGRES_TUPLES_OK, &res, why, sizeof(why));
	if (r < 0)
		return r;
	if (PQntuples(res) <= FLEET_DB_MAX_CERTS)
		post_changed(db, res, true);
	PQclear(res);
	return 0;
}

/* The fleet for status, built as JSON by the server in one query. */
static int post_view(struct fleet_db *db)
{
	static const char sql[] =
		"SELECT json_build_object("
		"'hosts', (SELECT coalesce(json_agg(json_build_object('name', name, 'role', role, "
		"'alive', last_seen > now() - interval '30 seconds', 'last_seen', "
		"extract(epoch FROM last_seen)::bigint) ORDER BY name), '[]') FROM persistd_hosts), "
		"'issuing', (SELECT coalesce(json_agg(json_build_object('cert', name, 'host', "
		"order_host, 'order_url', order_url) ORDER BY name), '[]') FROM persistd_certs "
		"WHERE order_url IS NOT NULL OR order_intent), "
		"'certs', (SELECT coalesce(json_agg(json_build_object('name', c.name, 'version', "
		"c.version, 'serial', c.serial, 'stored_by', c.updated_by, 'hosts', (SELECT "
		"coalesce(json_object_agg(h.host, CASE WHEN h.serial = c.serial THEN 'current' ELSE "
		"'behind' END), '{}') FROM persistd_cert_hosts h WHERE h.cert = c.name)) "
		"ORDER BY c.name), '[]') FROM (SELECT * FROM persistd_certs WHERE serial IS NOT NULL "
		"ORDER BY name LIMIT 10000) c))::text";
	static_assert(FLEET_DB_VIEW_MAX_CERTS == 10000, "the LIMIT above");
	PGresult *res = NULL;
	char why[256];
	int r;

	r = fleet_sql_exec(db->conn, sql, 0, NULL, NULL, NULL, PGRES_TUPLES_OK, &res, why, sizeof(why));
	if (r < 0)
		return r;
	if (PQntuples(res) == 1 && (size_t)PQgetlength(res, 0, 0) <= FLEET_DB_VIEW_MAX_BYTES) {
		struct fleet_db_event *ev = calloc(1, sizeof(*ev));
		if (ev && (ev->view_json = strdup(PQgetvalue(res, 0, 0)))) {
			ev->type = FLEET_DB_VIEW;
			ev->gen = db->thread_gen;
			post_event(db, ev);
		} else
			free(ev);
	}
	PQclear(res);
	return 0;
}

static int heartbeat(struct fleet_db *db)
{
	const char *params[] = { db->host };
	char why[256];

	return fleet_sql_exec(db->conn, "UPDATE persistd_hosts SET last_seen = now() WHERE name = $1", 1,
			   params, NULL, NULL, PGRES_COMMAND_OK, NULL, why, sizeof(why));
}

static void fail_queued(struct fleet_db *db, const char *why)
{
	pthread_mutex_lock(&db->mu);
	struct fleet_db_job *job = db->in_head;
	db->in_head = db->in_tail = NULL;
	pthread_mutex_unlock(&db->mu);
	while (job) {
		struct fleet_db_job *next = job->next;
		job->error = -ENOTCONN;
		str_printf(job->why, sizeof(job->why), "fleet database unreachable: %s", why);
		post_job(db, job);
		job = next;
	}
}

static bool should_quit(struct fleet_db *db)
{
	pthread_mutex_lock(&db->mu);
	bool q = db->quit;
	pthread_mutex_unlock(&db->mu);
	return q;
}

/* Waits for the wake fd (and the connection's socket, when there is one) at most ms. */
static void wait_events(struct fleet_db *db, int64_t ms)
{
	struct pollfd fds[2] = { { .fd = db->wake_fd, .events = POLLIN } };
	nfds_t n = 1;
	uint64_t v;

	if (db->conn) {
		fds[1] = (struct pollfd){ .fd = PQsocket(db->conn), .events = POLLIN };
		n = 2;
	}
	if (poll(fds, n, (int)MAX(ms, (int64_t)0)) > 0) {
		if (fds[0].revents)
			(void)!read(db->wake_fd, &v, sizeof(v));
		if (n == 2 && fds[1].revents && !PQconsumeInput(db->conn))
			return; /* conn_bad() tells the loop */
	}
}

static void *worker(void *arg)
{
	struct fleet_db *db = arg;
	uint64_t backoff_ms = BACKOFF_FIRST_MS;
	int64_t next_poll = 0, next_beat = 0;
	char why[256];

	while (!should_quit(db)) {
		if (!db->conn) {
			if (try_connect(db, why, sizeof(why)) < 0) {
				post_state(db, FLEET_DB_DISCONNECTED, why, backoff_ms);
				fail_queued(db, why);
				int64_t until = mono_ms() + (int64_t)backoff_ms;
				while (!should_quit(db) && mono_ms() < until) {
					fail_queued(db, why);
					wait_events(db, until - mono_ms());
				}
				backoff_ms = MIN(backoff_ms * 2, (uint64_t)BACKOFF_MAX_MS);
				continue;
			}
			backoff_ms = BACKOFF_FIRST_MS;
			db->thread_gen++;
			post_state(db, FLEET_DB_CONNECTED, NULL, 0);
			next_poll = next_beat = 0;
		}
		int64_t now = mono_ms();
		int r = 0;
		if (now >= next_beat) {
			r = heartbeat(db);
			next_beat = now + HEARTBEAT_MS;
		} else if (now >= next_poll) {
			r = list_all(db);
			if (r == 0)
				r = post_view(db);
			next_poll = now + (int64_t)db->poll_ms;
		} else {
			pthread_mutex_lock(&db->mu);
			struct fleet_db_job *job = db->in_head;
			if (job) {
				db->in_head = job->next;
				if (!db->in_head)
					db->in_tail = NULL;
			}
			pthread_mutex_unlock(&db->mu);
			if (job) {
				job->error = job->op >= FLEET_DB_CHECK_PUT
						     ? fleet_sqlcheck_run(db->conn, db->host, job)
						     : fleet_sql_run_job(db->conn, db->host,
									 db->thread_gen, job);
				r = job->error == -ENOTCONN ? -ENOTCONN : 0;
				post_job(db, job);
			} else
				wait_events(db, MIN(next_beat, next_poll) - now);
		}
		if (db->conn && !fleet_sql_conn_bad(db->conn))
			drain_notifies(db);
		if (r == -ENOTCONN || fleet_sql_conn_bad(db->conn)) {
			fleet_sql_why(db->conn, why, sizeof(why));
			drop_conn(db);
			post_state(db, FLEET_DB_DISCONNECTED, why, 0);
		}
	}
	drop_conn(db);
	return NULL;
}

int fleet_db_new(uv_loop_t *loop, const struct fleet_db_options *o, struct fleet_db **ret)
{
	struct fleet_db *db = calloc(1, sizeof(*db));
	int r;

	if (!db)
		return -ENOMEM;
	db->loop = loop;
	db->on_event = o->on_event;
	db->userdata = o->userdata;
	db->poll_ms = o->poll_ms ? o->poll_ms : 60 * 1000;
	db->uri = strdup(o->uri);
	db->host = strdup(o->host);
	db->role = strdup(o->role);
	db->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!db->uri || !db->host || !db->role || db->wake_fd < 0) {
		r = db->wake_fd < 0 ? -errno : -ENOMEM;
		if (db->wake_fd >= 0)
			close(db->wake_fd);
		free(db->uri);
		free(db->host);
		free(db->role);
		free(db);
		return r;
	}
	pthread_mutex_init(&db->mu, NULL);
	r = uv_async_init(loop, &db->async, on_async);
	if (r < 0) {
		close(db->wake_fd);
		free(db->uri);
		free(db->host);
		free(db->role);
		free(db);
		return r;
	}
	db->async.data = db;
	r = -pthread_create(&db->thread, NULL, worker, db);
	if (r < 0) {
		close(db->wake_fd);
		uv_close((uv_handle_t *)&db->async, on_async_closed);
		return r;
	}
	db->thread_started = true;
	*ret = db;
	return 0;
}

void fleet_db_free(struct fleet_db *db)
{
	if (!db)
		return;
	if (db->thread_started) {
		pthread_mutex_lock(&db->mu);
		db->quit = true;
		pthread_mutex_unlock(&db->mu);
		wake(db);
		pthread_join(db->thread, NULL);
		close(db->wake_fd);
	}
	struct fleet_db_job *lists[] = { db->in_head, db->out_head };
	for (size_t i = 0; i < ELEMENTSOF(lists); i++)
		while (lists[i]) {
			struct fleet_db_job *next = lists[i]->next;
			job_free(lists[i]);
			lists[i] = next;
		}
	while (db->ev_head) {
		struct fleet_db_event *next = db->ev_head->next;
		event_free(db->ev_head);
		db->ev_head = next;
	}
	pthread_mutex_destroy(&db->mu);
	uv_close((uv_handle_t *)&db->async, on_async_closed);
}
