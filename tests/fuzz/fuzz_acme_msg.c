/* tests/fuzz/fuzz_acme_msg.c: the ACME JSON parsers of daemon/acme/msg. The input is one
 * JSON document (a CA's answer body): json_parse() with the body cap, then every parser on
 * it (directory, account, orders list, order, authz, challenge, problem, renewal info) and,
 * when it is a problem document, the human formatter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"
#include "common/limits.h"
#include "daemon/acme/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct acme_directory d;
	struct acme_account a;
	struct acme_orders_list l;
	struct acme_order o;
	struct acme_authz z;
	struct acme_challenge c;
	struct acme_problem p;
	struct acme_renewal_info ri;
	char err[256];

	if (json_parse((const char *)data, size, ACME_MAX_BODY_BYTES, &v, err, sizeof(err)) < 0)
		return 0;
	if (acme_directory_parse(v, &d, err, sizeof(err)) >= 0)
		acme_directory_done(&d);
	if (acme_account_parse(v, &a, err, sizeof(err)) >= 0)
		acme_account_done(&a);
	if (acme_orders_list_parse(v, &l, err, sizeof(err)) >= 0)
		acme_orders_list_done(&l);
	if (acme_order_parse(v, &o, err, sizeof(err)) >= 0)
		acme_order_done(&o);
	if (acme_authz_parse(v, &z, err, sizeof(err)) >= 0)
		acme_authz_done(&z);
	if (acme_challenge_parse(v, &c, err, sizeof(err)) >= 0)
		acme_challenge_done(&c);
	if (acme_renewal_info_parse(v, &ri, err, sizeof(err)) >= 0)
		acme_renewal_info_done(&ri);
	if (acme_problem_parse(v, &p, err, sizeof(err)) >= 0) {
		free(acme_problem_format(&p));
		acme_problem_done(&p);
	}
	return 0;
}
