/* common/dnscheck_api.h: the checker half of common/dnscheck.h, internal to
 * common/dnscheck*.c. This module defines dnscheck_new(),
 * dnscheck_submit(), dnscheck_lookup_txt(), dnscheck_pending(),
 * dnscheck_max_inflight(), dnscheck_get_stats() and dnscheck_free(), as
 * that header declares and promises them; callers include
 * common/dnscheck.h, never this file.
 *
 * It owns struct dnscheck: it makes it (options checked, the resolvers'
 * contexts made, the window clamped to RLIMIT_NOFILE), queues names for
 * the job queue, and tears everything down, delivering CANCELLED to every
 * request still owed an answer. It lives in a module of its own, not in
 * common/dnscheck.c, so that the pieces below it can include
 * common/dnscheck.h for its types without a circle. */
#pragma once

#include "common/dnscheck.h"
