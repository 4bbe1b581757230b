/* common/dnscheck_txt.h: the TXT part of a DNS checker job (internal to
 * common/dnscheck*.c): the lookup of the TXT RRset at the job's owner name
 * on the resolvers, and its evaluation by the record engine
 * (common/record) into the job's result. Also the evaluation the
 * authoritative part uses for each server's answer.
 *
 * Promises: dnscheck_txt_start() counts one part in j->parts and ends it
 * exactly once through j->part_done, with j->res's error, error_reason,
 * verdict (or unvalidated, for a bogus answer), dnssec, rrs and cnames
 * filled in. A raw lookup (j->cb NULL) is not evaluated. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stddef.h>

void dnscheck_txt_start(struct dc_job *j);

/* What the record engine makes of rrs for j's request: 0, or -ENOMEM and
 * the engine's errors. */
int dnscheck_txt_evaluate(const struct dc_job *j, const struct dnscheck_txt *rrs, size_t n,
			  struct record_verdict *ret);

/* Moves the data of n blobs into a new array of TXT RRs (*ret NULL and
 * *ret_n 0 on out of memory); the blobs keep only their lengths. */
void dnscheck_txt_from_blobs(struct dc_blob *b, size_t n, struct dnscheck_txt **ret,
			     size_t *ret_n);

/* Frees n RRs and the array. */
void dnscheck_txt_free(struct dnscheck_txt *t, size_t n);
