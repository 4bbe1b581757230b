/* common/dnscheck_caa.h: the CAA part of a DNS checker job (internal to
 * common/dnscheck*.c): climbing from the base name towards the root (RFC
 * 8659 section 3) through the shared lookup cache, stopping at the first
 * non-empty CAA RRset, which common/caa judges for the job's issuers and
 * account.
 *
 * Promises: dnscheck_caa_start() counts one part in j->parts and ends it
 * exactly once through j->part_done, with j->res.caa filled in: the
 * verdict, or an error and the name where the climb failed. */
#pragma once

#include "common/dnscheck_internal.h"

void dnscheck_caa_start(struct dc_job *j);
