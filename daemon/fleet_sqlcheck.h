/* daemon/fleet_sqlcheck.h: the statements of the fleet's record checks (daemon/fleetcheck),
 * on daemon/fleet_db's thread and connection, like daemon/fleet_sql's.
 *
 * CHECK_PUT upserts one name's result (persistd_checks, a new seq each write); CHECKS_GET
 * reads the results written after since_seq (at most FLEET_SQLCHECK_MAX_ROWS per call: the
 * caller asks again from max_seq), every CA's facts, and the hosts alive (last_seen within
 * FLEET_SQLCHECK_ALIVE_SEC), in one statement each, in one transaction; FACTS_PUT upserts a
 * CA's account facts. Bounds: every text is cut at 1000 bytes (reasons) or refused above
 * CERT_MAX_BYTES. Errors as fleet_sql's. */
#pragma once

#include "daemon/fleet_sql.h"

#define FLEET_SQLCHECK_MAX_ROWS 20000
#define FLEET_SQLCHECK_ALIVE_SEC 30

int fleet_sqlcheck_run(PGconn *conn, const char *host, struct fleet_db_job *job);
void fleet_sqlcheck_done(struct fleet_checks *c);
void fleet_check_done(struct fleet_check *c);
void fleet_facts_done(struct fleet_facts *f);
