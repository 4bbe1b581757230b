"""The fleet benchmark of issue 14 (not a timed test; scripts/bench-fleet runs it).

3 hosts (2 issuers, 1 follower) on one throwaway PostgreSQL, FLEET_BENCH_CERTS
certificates (default 1,000) that none has yet, our test CA and knotd on
loopback. Measured: the time from starting the three daemons until every host
serves every certificate (the same bytes everywhere), the orders counted at
the CA, and the certificates it issued per name (must be exactly one each), and the database's work per renewal from
pg_stat_database deltas (transactions committed, rows read and written) over
the run, which includes the idle heartbeats and lists of the three hosts.
Prints one JSON line starting with FLEET-BENCH.
"""
import json
import os
import time

from test_fleet import cert_names, dns, Fleet, issued_per_name, ZONE  # noqa: F401 (dns)

N = int(os.environ.get("FLEET_BENCH_CERTS", "1000"))

STATS = ("xact_commit", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
         "tup_deleted", "blks_read", "blks_hit")


def db_stats(pg):
    time.sleep(1.5)  # the backends report their counters when idle, at most every second
    row = pg.sql("SELECT " + ", ".join(STATS) +
                 f" FROM pg_stat_database WHERE datname = '{pg.dbname}'")[0]
    return dict(zip(STATS, map(int, row)))


def test_bench_fleet(tmp_path, dns, testca_factory, persistd_env, postgres):
    names = cert_names(N)
    f = Fleet(tmp_path, dns, testca_factory, persistd_env, postgres, names)
    extra = {"log_level": "info", "max_orders_per_hour": 10}
    hosts = [f.host("a", "issuer", start=False, **extra),
             f.host("b", "issuer", start=False, **extra),
             f.host("c", "follower", start=False, **extra)]
    before = db_stats(postgres)
    t0 = time.monotonic()
    for h in hosts:
        h.start(wait=False)
    for h in hosts:
        h.wait_ready(timeout=120)
    ready = time.monotonic() - t0
    f.wait_converged(3600)
    converged = time.monotonic() - t0
    after = db_stats(postgres)
    orders = f.new_orders()
    issued = issued_per_name(f.ca)
    by = {r[0]: int(r[1]) for r in postgres.sql(
        "SELECT updated_by, count(*) FROM persistd_certs GROUP BY updated_by")}
    per = {k: round((after[k] - before[k]) / N, 2) for k in STATS}
    out = {"certs": N, "hosts": 3, "ready_s": round(ready, 2),
           "converged_s": round(converged, 2), "new_orders_at_ca": orders,
           "names_issued_once": sum(1 for v in issued.values() if v == 1),
           "names_issued_twice_or_more": sum(1 for v in issued.values() if v > 1), "stored_by": by,
           "db_per_renewal": per}
    print("FLEET-BENCH " + json.dumps(out))
    assert issued == {f"{n}.{ZONE}": 1 for n in names}
