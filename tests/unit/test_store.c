/* Unit tests for daemon/store: modes, atomic install, the current switch,
 * refusal of a key that does not match its certificate.
 * tests/data/store-{a,b}.{key,crt} are self-signed P-256 pairs made with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -keyout store-a.key -out store-a.crt -days 36500 -subj /CN=store-a.example \
 *     -addext subjectAltName=DNS:store-a.example */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "daemon/store.h"
#include "tests/unit/testdata.h"

struct fixture {
	char dir[64];
	struct store *s;
	struct key *ka, *kb;
	char *crt_a, *crt_b;
	size_t len_a, len_b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *pem;
	size_t len;

	snprintf(f->dir, sizeof(f->dir), "/tmp/persistd-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/state", f->dir);
	assert_int_equal(store_open(sub, &f->s), 0);
	assert_int_equal(testdata_read("store-a.key", &pem, &len), 0);
	assert_int_equal(key_load_pem(pem, len, &f->ka), 0);
	free(pem);
	assert_int_equal(testdata_read("store-b.key", &pem, &len), 0);
	assert_int_equal(key_load_pem(pem, len, &f->kb), 0);
	free(pem);
	assert_int_equal(testdata_read("store-a.crt", &f->crt_a, &f->len_a), 0);
	assert_int_equal(testdata_read("store-b.crt", &f->crt_b, &f->len_b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_free(f->s);
	key_free(f->ka);
	key_free(f->kb);
	free(f->crt_a);
	free(f->crt_b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_account(void **state)
{
	struct fixture *f = *state;
	struct key *k = NULL;
	char *path = NULL, *json = NULL;
	size_t len;

	assert_int_equal(store_account_load_key(f->s, "le", &k), -ENOENT);
	assert_int_equal(store_account_save_key(f->s, "le", f->ka), 0);
	assert_int_equal(store_account_load_key(f->s, "le", &k), 0);
	assert_int_equal(key_pem_matches(k, f->crt_a, f->len_a), 1);
	key_free(k);
	assert_int_equal(store_account_key_path(f->s, "le", &path), 0);
	assert_int_equal(mode_of(path), 0600);
	free(path);
	assert_int_equal(store_account_save_info(f->s, "le", "{\"url\":\"x\"}", 11), 0);
	assert_int_equal(store_account_load_info(f->s, "le", &json, &len), 0);
	assert_string_equal(json, "{\"url\":\"x\"}");
	free(json);
	assert_int_equal(store_account_save_key(f->s, "../evil", f->ka), -EINVAL);
	assert_int_equal(store_account_save_key(f->s, "", f->ka), -EINVAL);
}

static void test_install(void **state)
{
	struct fixture *f = *state;
	unsigned v = 0;
	char *pem = NULL, *path = NULL;
	size_t len;
	struct key *k = NULL;

	assert_int_equal(store_cert_current_version(f->s, "www", &v), -ENOENT);
	assert_int_equal(store_cert_load_current(f->s, "www", &pem, &len), -ENOENT);
	/* A key that does not match its certificate never becomes current. */
	assert_int_equal(store_cert_install(f->s, "www", f->kb, f->crt_a, f->len_a, "", 0, &v),
			 -EINVAL);
	assert_int_equal(store_cert_current_version(f->s, "www", &v), -ENOENT);

	assert_int_equal(store_cert_install(f->s, "www", f->ka, f->crt_a, f->len_a, f->crt_b,
					    f->len_b, &v),
			 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_cert_load_current(f->s, "www", &pem, &len), 0);
	assert_int_equal(len, f->len_a + f->len_b);
	assert_memory_equal(pem, f->crt_a, f->len_a);
	free(pem);
	assert_int_equal(store_cert_path(f->s, "www", "privkey.pem", &path), 0);
	assert_int_equal(mode_of(path), 0600);
	free(path);
	/* The leaf's dNSNames beside it, for RENEWED_DOMAINS outside the daemon. */
	char *domains = NULL;
	size_t dlen;
	assert_int_equal(store_cert_path(f->s, "www", "domains", &path), 0);
	assert_int_equal(mode_of(path), 0644);
	assert_int_equal(file_read_bounded(path, 4096, &domains, &dlen), 0);
	assert_string_equal(domains, "store-a.example\n");
	free(domains);
	free(path);

	/* A half-written version from a crash is skipped, never reused. */
	char junk[256];
	snprintf(junk, sizeof(junk), "%s/state/certs/www/archive/2", f->dir);
	assert_int_equal(mkdir(junk, 0700), 0);
	assert_int_equal(store_cert_install(f->s, "www", f->kb, f->crt_b, f->len_b, "", 0, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(store_cert_current_version(f->s, "www", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(store_cert_load_current_key(f->s, "www", &k), 0);
	assert_int_equal(key_pem_matches(k, f->crt_b, f->len_b), 1);
	key_free(k);
}

static void test_pending_and_state(void **state)
{
	struct fixture *f = *state;
	struct key *k = NULL;
	char *json = NULL;
	size_t len;

	assert_int_equal(store_pending_key_load(f->s, "p", &k), -ENOENT);
	assert_int_equal(store_pending_key_save(f->s, "p", f->ka), 0);
	assert_int_equal(store_pending_key_load(f->s, "p", &k), 0);
	key_free(k);
	assert_int_equal(store_pending_key_clear(f->s, "p"), 0);
	assert_int_equal(store_pending_key_clear(f->s, "p"), 0);
	assert_int_equal(store_pending_key_load(f->s, "p", &k), -ENOENT);

	assert_int_equal(store_state_load(f->s, &json, &len), -ENOENT);
	assert_int_equal(store_state_save(f->s, "{}", 2), 0);
	assert_int_equal(store_state_load(f->s, &json, &len), 0);
	assert_string_equal(json, "{}");
	free(json);
}

/* One writer per store: a second process is refused and told who holds it. */
static void test_lock(void **state)
{
	struct fixture *f = *state;
	char why[512];

	assert_int_equal(store_lock(f->s, "daemon", "/run/x.sock", why, sizeof(why)), 0);
	assert_int_equal(store_lock(f->s, "daemon", "/run/x.sock", why, sizeof(why)), 0);
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		struct store *other = NULL;
		char w[512] = "";
		if (store_open(store_get_dir(f->s), &other) < 0)
			_exit(10);
		int r = store_lock(other, "oneshot", NULL, w, sizeof(w));
		store_free(other);
		_exit(r == -EBUSY && strstr(w, "/run/x.sock") ? 0 : 11);
	}
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_cert_list(void **state)
{
	struct fixture *f = *state;
	char **names = NULL;
	size_t n = 9;

	assert_int_equal(store_cert_list(f->s, &names, &n), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);
	assert_int_equal(store_cert_install(f->s, "www", f->ka, f->crt_a, f->len_a, "", 0, NULL), 0);
	assert_int_equal(store_pending_key_save(f->s, "api", f->kb), 0);
	assert_int_equal(store_cert_list(f->s, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "api");
	assert_string_equal(names[1], "www");
	store_names_free(names, n);
	assert_string_equal(store_backend_name(f->s), "files");
}

/* The interface carries another backend: every call reaches its ops (the
 * seam a shared store plugs into), and what is local stays local. */
struct mem_backend {
	char *state;
	size_t len;
	unsigned calls;
	bool freed;
};

static int mem_state_load(void *impl, char **ret_json, size_t *ret_len)
{
	struct mem_backend *m = impl;

	m->calls++;
	if (!m->state)
		return -ENOENT;
	*ret_json = strndup(m->state, m->len);
	*ret_len = m->len;
	return *ret_json ? 0 : -ENOMEM;
}

static int mem_state_save(void *impl, const char *json, size_t len)
{
	struct mem_backend *m = impl;

	m->calls++;
	free(m->state);
	m->state = strndup(json, len);
	m->len = len;
	return m->state ? 0 : -ENOMEM;
}

static void mem_free(void *impl)
{
	struct mem_backend *m = impl;

	free(m->state);
	m->state = NULL;
	m->freed = true;
}

static void test_other_backend(void **state)
{
	struct fixture *f = *state;
	static const struct store_ops ops = {
		.name = "memory",
		.free = mem_free,
		.state_load = mem_state_load,
		.state_save = mem_state_save,
	};
	struct mem_backend m = { 0 };
	struct store *s = NULL;
	char *json = NULL, *path = NULL;
	size_t len;

	assert_int_equal(store_open_with(store_get_dir(f->s), &ops, &m, &s), 0);
	assert_string_equal(store_backend_name(s), "memory");
	assert_int_equal(store_state_load(s, &json, &len), -ENOENT);
	assert_int_equal(store_state_save(s, "{\"a\":1}", 7), 0);
	assert_int_equal(store_state_load(s, &json, &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(json, "{\"a\":1}", 7);
	free(json);
	assert_int_equal(m.calls, 3);
	/* Deployed copies are read from the host's own state_dir. */
	assert_int_equal(store_cert_path(s, "www", "cert.pem", &path), 0);
	assert_true(strncmp(path, store_get_dir(f->s), strlen(store_get_dir(f->s))) == 0);
	free(path);
	/* The files backend's state.json was not touched. */
	assert_int_equal(store_state_load(f->s, &json, &len), -ENOENT);
	store_free(s);
	assert_true(m.freed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_backend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
