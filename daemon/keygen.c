#include <errno.h>
#include <stdlib.h>

#include "daemon/keygen.h"

struct keygen {
	uv_work_t work;    /* work.data == this */
	enum key_type type;
	struct key *key;   /* owned until handed to cb */
	int r;
	bool abandoned;
	keygen_fn cb;
	void *userdata;    /* borrowed */
};

static void on_work(uv_work_t *w)
{
	struct keygen *job = w->data;

	job->r = key_generate(job->type, &job->key);
}

static void on_work_done(uv_work_t *w, int status)
{
	struct keygen *job = w->data;

	if (job->abandoned) {
		key_free(job->key);
	} else if (status < 0) {
		key_free(job->key);
		job->cb(status, NULL, job->userdata);
	} else {
		job->cb(job->r, job->r < 0 ? NULL : job->key, job->userdata);
	}
	free(job);
}

int keygen_start(uv_loop_t *loop, enum key_type type, keygen_fn cb, void *userdata,
		 struct keygen **ret)
{
	struct keygen *job = calloc(1, sizeof(*job));
	int r;

	if (!job)
		return -ENOMEM;
	job->work.data = job;
	job->type = type;
	job->cb = cb;
	job->userdata = userdata;
	r = uv_queue_work(loop, &job->work, on_work, on_work_done);
	if (r < 0) {
		free(job);
		return r;
	}
	if (ret)
		*ret = job;
	return 0;
}

void keygen_abandon(struct keygen *job)
{
	if (job)
		job->abandoned = true;
}
