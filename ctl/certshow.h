/* ctl/certshow.h: the parts of `persistctl show` and `status` about a cert's files and
 * what its server serves, from the daemon's certs.get and status documents.
 *
 * show prints, like `certbot certificates`, the key type and size, the expiry with days
 * left, every path of the current version (privkey.pem too), where `current` points, the
 * archive versions kept, and the last check_served outcome; status adds one "(served)"
 * row per cert with check_served. Missing members print as "-". No state. */
#pragma once

#include <yajl/yajl_tree.h>

#include "common/level.h"

struct output_table;

/* The lines of show after the issuer line; v is the certs.get result. */
void certshow_print(yajl_val v);

/* The "(served)" row of cert c (a status cert_list entry) when it has check_served, with
 * its level (OK without a row). */
enum level certshow_add_served_row(struct output_table *t, yajl_val c);
