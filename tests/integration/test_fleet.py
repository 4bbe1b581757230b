"""Fleet mode (issue 14): several persistd hosts share one PostgreSQL database.

A real throwaway PostgreSQL (fixtures/postgres.py), our test CA and knotd on
loopback. Issuers order under per-cert advisory locks and store each new
version (its key sealed with the fleet key); followers, which hold no account
key, install what the issuers stored, by notification. Counted at the CA:
every certificate is ordered exactly once, whatever the number of issuers.
"""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

ZONE = "example.test"


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "")
    knot.start()
    return knot, zone


def created_orders(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"] == "/acme/new-order"
            and r["status"] == 201]


def issued_per_name(ca):
    """Certificates the CA issued, per name: the measure of "ordered once"."""
    per = {}
    for cert in ca.certs():
        for n in cert["names"]:
            per[n] = per.get(n, 0) + 1
    return per


def cert_names(n):
    return [f"c{i:03d}" for i in range(n)]


def certs_config(names):
    return {n: {"ca": "test", "names": [f"{n}.{ZONE}"]} for n in names}


def fleet_key(tmp_path):
    path = tmp_path / "fleet.key"
    path.write_bytes(os.urandom(32))
    path.chmod(0o600)
    return path


def current(env, name):
    p = env.state / "certs" / name / "current" / "fullchain.pem"
    try:
        return p.read_bytes()
    except FileNotFoundError:
        return None


class Fleet:
    """Bootstraps the account on one issuer (store = files), publishes the record of every
    name, then makes the fleet's hosts."""

    def __init__(self, tmp_path, dns, testca_factory, persistd_env, postgres, names):
        self.knot, self.zone = dns
        self.ca = testca_factory(dns=self.knot.resolver, jit=True)
        self.pg = postgres
        self.names = names
        self.persistd_env = persistd_env
        self.key = fleet_key(tmp_path)
        self.hosts = {}
        boot = persistd_env(ca=self.ca, resolver=self.knot.resolver,
                            certs=certs_config(names[:1]),
                            daemon_extra={"trust_anchor": "none"})
        p = boot.oneshot("--cert", names[0], check=1)
        m = re.search(r'_validation-persist\.\S+\. 3600 IN TXT ((?:"[^"]*" ?)+)', p.stdout)
        assert m, p.stdout
        value = m.group(1).strip()
        self.zone.set("\n".join(f"_validation-persist.{n} TXT {value}" for n in names))
        self.account_dir = boot.state / "accounts"
        self.orders_before = len(created_orders(self.ca))

    def host(self, name, role, with_account=None, start=True, **extra):
        daemon_extra = {"trust_anchor": "none", "store": self.pg.uri, "role": role,
                        "fleet_key_file": str(self.key), "fleet_host": name,
                        "max_orders_per_hour": 10}
        daemon_extra.update(extra)
        env = self.persistd_env(ca=self.ca, resolver=self.knot.resolver,
                                certs=certs_config(self.names), daemon_extra=daemon_extra)
        if with_account if with_account is not None else role == "issuer":
            env.state.mkdir(exist_ok=True)
            shutil.copytree(self.account_dir, env.state / "accounts")
        self.hosts[name] = env
        if start:
            env.start()
        return env

    def new_orders(self):
        return len(created_orders(self.ca)) - self.orders_before

    def converged(self, hosts=None):
        hosts = hosts or list(self.hosts.values())
        for n in self.names:
            first = current(hosts[0], n)
            if first is None:
                return False
            for h in hosts[1:]:
                if current(h, n) != first:
                    return False
        return True

    def wait_converged(self, timeout, hosts=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.converged(hosts):
                return
            time.sleep(0.5)
        missing = {h: [n for n in self.names if current(e, n) is None]
                   for h, e in self.hosts.items()}
        logs = "\n".join(f"--- {h}\n{e.read_log()[-4000:]}" for h, e in self.hosts.items())
        raise AssertionError(f"not converged; missing: {missing}\n{logs}")


@pytest.fixture
def fleet(tmp_path, dns, testca_factory, persistd_env, postgres):
    made = []

    def make(names):
        f = Fleet(tmp_path, dns, testca_factory, persistd_env, postgres, names)
        made.append(f)
        return f

    return make


def stored(pg):
    return {r[0]: r[1] for r in pg.sql("SELECT name, serial FROM persistd_certs "
                                       "WHERE serial IS NOT NULL")}


def test_issuer_and_follower_converge(fleet, postgres):
    f = fleet(cert_names(5))
    a = f.host("a", "issuer")
    c = f.host("c", "follower")
    f.wait_converged(240)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in f.names}
    # Every host serves what the database holds, and says so in persistd_cert_hosts.
    rows = stored(postgres)
    assert set(rows) == set(f.names)
    for n in f.names:
        assert current(c, n) == current(a, n)
        assert (c.state / "certs" / n / "current" / "privkey.pem").stat().st_mode & 0o077 == 0
    c.wait_for(lambda: len(postgres.sql("SELECT 1 FROM persistd_cert_hosts WHERE host = 'c'"))
               == 5, timeout=30, what="the follower's installs recorded")
    # The follower checks no records (no account names it) and says nothing about it.
    assert "cannot check" not in c.read_log()
    # The follower has no account key, and never asked the CA for anything.
    assert not (c.state / "accounts").exists() or not list((c.state / "accounts").rglob("*.key"))
    # No private key in the clear in the database.
    dump = postgres.psql(postgres.dbname, "SELECT encode(key_sealed, 'escape') FROM persistd_certs")
    assert "PRIVATE KEY" not in dump
    # A new version stored later reaches the follower by notification.
    old = current(c, "c000")
    r = a.ctl("renew", "c000", "--force", check=0)
    c.wait_for(lambda: current(c, "c000") not in (None, old), timeout=60,
               what="the follower installs the renewed c000")
    assert current(c, "c000") == current(a, "c000")
    assert issued_per_name(f.ca)[f"c000.{ZONE}"] == 2
    st = c.ctl_json("status")[0]
    assert st["fleet"]["role"] == "follower" and st["fleet"]["database_connected"], st["fleet"]
    # The fleet as any host sees it: both hosts alive, every cert current on both.
    def fleet_view():
        out = c.ctl("status").stdout
        return all(re.search(rf"host {h} +{role} +alive +5 current, 0 behind", out)
                   for h, role in (("a", "issuer"), ("c", "follower"))) and out
    out = c.wait_for(fleet_view, timeout=60, what="status showing the fleet")
    assert "fleet: follower 'c', database connected" in out, out


def test_check_config_refusals(fleet, postgres, tmp_path):
    f = fleet(cert_names(1))
    good = f.host("a", "issuer", start=False)
    p = good.persistd_run("-t")
    assert p.returncode == 0, p.stderr
    # A follower holding an account key.
    bad = f.host("b", "follower", with_account=True, start=False)
    p = bad.persistd_run("-t")
    assert p.returncode == 1 and "role = follower" in p.stderr and "account.key" in p.stderr, \
        p.stderr
    # An issuer without its signer's account key.
    bad = f.host("d", "issuer", with_account=False, start=False)
    p = bad.persistd_run("-t")
    assert p.returncode == 1 and "no account key" in p.stderr, p.stderr
    # The fleet key: missing, short, readable by others.
    for content, mode, words in [(None, 0o600, "needs the fleet key"),
                                 (os.urandom(31), 0o600, "exactly 32"),
                                 (os.urandom(32), 0o644, "chmod 0600")]:
        env = f.host("e", "issuer", start=False)
        if content is None:
            del env.daemon["fleet_key_file"]
        else:
            k = tmp_path / "other.key"
            k.write_bytes(content)
            k.chmod(mode)
            env.daemon["fleet_key_file"] = str(k)
        env.write()
        p = env.persistd_run("-t")
        assert p.returncode == 1 and words in p.stderr, (words, p.stderr)
    # A URI that is not one.
    env = f.host("g", "issuer", start=False)
    env.daemon["store"] = "mysql://x"
    env.write()
    p = env.persistd_run("-t")
    assert p.returncode == 1 and "persistd.conf:" in p.stderr and "store" in p.stderr, p.stderr
    env.daemon["store"] = "postgresql://a@b/c?bogus_option=1"
    env.write()
    p = env.persistd_run("-t")
    assert p.returncode == 1 and "not a PostgreSQL connection URI" in p.stderr, p.stderr


def test_two_issuers_order_each_cert_once(fleet, postgres):
    """2 issuers and 1 follower start at once on 50 certs that none has: each cert is
    ordered exactly once (counted at the CA), and every host ends serving every cert."""
    f = fleet(cert_names(50))
    a = f.host("a", "issuer", start=False)
    b = f.host("b", "issuer", start=False)
    c = f.host("c", "follower", start=False)
    for h in (a, b, c):
        h.start(wait=False)
    for h in (a, b, c):
        h.wait_ready()
    f.wait_converged(600)
    # One certificate per name. (newOrder requests may be one fewer: an issuer whose
    # newOrder answer is lost under load continues the bootstrap's pending order.)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in f.names}
    assert f.new_orders() <= 50, f.new_orders()
    rows = postgres.sql("SELECT name, updated_by, version FROM persistd_certs")
    assert len(rows) == 50 and all(r[2] == "1" for r in rows), rows
    # Both issuers took part (the locks spread the work), and no order was left behind.
    by = {r[1] for r in rows}
    assert by <= {"a", "b"}, by
    assert postgres.sql("SELECT count(*) FROM persistd_certs WHERE order_url IS NOT NULL "
                        "OR order_intent") == [["0"]]
    c.wait_for(lambda: postgres.sql("SELECT count(*) FROM persistd_cert_hosts")[0][0] == "150",
               timeout=60, what="every host's installs recorded")
    hosts = {r[0]: r[1] for r in postgres.sql("SELECT name, role FROM persistd_hosts")}
    assert hosts == {"a": "issuer", "b": "issuer", "c": "follower"}, hosts
    # Three hosts started at once on an empty database: the schema was made once.
    assert postgres.sql("SELECT version FROM persistd_schema_version ORDER BY version") == \
        [["1"], ["2"], ["3"]]


def finalizes(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"].endswith("/finalize")]


def test_sigkill_issuer_mid_orders(fleet, postgres):
    """An issuer killed while the CA is still answering its finalize requests (the CA has
    issued, the answer is late): the other issuer takes its locks over, finishes its orders
    with the keys stored (sealed) beside them, and every name gets exactly one certificate."""
    f = fleet(cert_names(20))
    f.ca.faults("late", count=1000, path="/finalize", delay_ms=10000)
    a = f.host("a", "issuer")
    a.wait_for(lambda: len(finalizes(f.ca)) >= 5, timeout=120, what="a few finalize requests")
    b = f.host("b", "issuer")
    b.wait_for(lambda: "holds its fleet lock" in b.read_log(), timeout=60,
               what="b waiting behind a's locks")
    a.kill()
    c = f.host("c", "follower")
    f.wait_converged(300, hosts=[b, c])
    per_name = issued_per_name(f.ca)
    assert per_name == {f"{n}.{ZONE}": 1 for n in f.names}, per_name
    assert "continuing the order" in b.read_log()
    assert f.new_orders() <= 20 + 1, f.new_orders()  # see docs/fleet.md, "order intents"


def test_database_outage_during_renewals(fleet, postgres):
    """PostgreSQL stopped for 60 s while an issuer renews: the local copies are served all
    along, status says the database is unreachable, no order is placed without the lock,
    and after the restart every renewal is stored and reaches the follower, once."""
    names = cert_names(10)
    f = fleet(names)
    a = f.host("a", "issuer")
    c = f.host("c", "follower")
    f.wait_converged(240)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in names}
    before = {n: current(c, n) for n in names}
    # Slow finalize answers: the outage starts while orders are in flight.
    f.ca.faults("late", count=1000, path="/finalize", delay_ms=3000)
    # Every renewal expires in the second of its version 1 (a renewal within the second of
    # it): the version made while the database was away must still win the tie.
    f.ca.admin_post("misissue", {"kind": "same_second", "count": 1000})
    def renew(some):
        return [subprocess.Popen([a.persistctl, "-s", str(a.socket), "renew", n, "--force"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for n in some]

    # Half the renewals are in flight when the database goes, half start during the outage.
    renewals = renew(names[:5])
    a.wait_for(lambda: f.new_orders() >= 12, timeout=120, what="renewal orders")
    postgres.stop()
    t0 = time.monotonic()
    a.wait_for(lambda: "database unreachable" in a.ctl_json("status")[0]["fleet"]["summary"],
               timeout=60, what="status shows the outage")
    orders_during = f.new_orders()
    renewals += renew(names[5:])
    a.wait_for(lambda: a.read_log().count("no new order without the fleet database") >= 5,
               timeout=30, what="renewals waiting for the database")
    while time.monotonic() - t0 < 60:
        # Served throughout: every host keeps a complete current copy.
        for h in (a, c):
            for n in names:
                assert current(h, n) is not None
        time.sleep(2)
    # No new order without the database (those in flight when it went may finish).
    assert f.new_orders() == orders_during, (orders_during, f.new_orders())
    st, rc = c.ctl_json("status")
    assert not st["fleet"]["database_connected"] and rc == 1, (rc, st["fleet"])
    assert "database unreachable since" in c.ctl("status").stdout
    postgres.start()
    c.wait_for(lambda: all(current(c, n) not in (None, before[n]) for n in names), timeout=180,
               what="the follower has every renewed cert")
    f.wait_converged(60)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 2 for n in names}
    assert "the database is back" in a.read_log() and "the database is back" in c.read_log()
    # No issuer went back to the version it had replaced.
    assert "installed version 3" not in a.read_log()
    assert {n: current(a, n) for n in names} == {n: current(c, n) for n in names}
    for p in renewals:
        p.wait(timeout=60)


def test_renewal_state_holds_every_issuer(fleet, postgres):
    """The renewal state is the fleet's, not each issuer's: the orders of the last hour
    count against max_orders_per_hour on every issuer, and the CA's Retry-After that one
    issuer got holds the others, even a forced renewal. N issuers never place more orders
    or attempts than one host would."""
    f = fleet(cert_names(2))
    a = f.host("a", "issuer", max_orders_per_hour=2)
    b = f.host("b", "issuer", max_orders_per_hour=2)
    f.wait_converged(120)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in f.names}
    hosts = {"a": a, "b": b}

    # c000: its first order was made by one issuer; the other renews it (2 of 2 in the
    # hour); then the first one may not, though it has made only one order itself.
    first = postgres.sql("SELECT updated_by FROM persistd_certs WHERE name = 'c000'")[0][0]
    y, x = hosts[first], hosts["b" if first == "a" else "a"]
    p = x.ctl("renew", "c000", "--force", check=None, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert issued_per_name(f.ca)[f"c000.{ZONE}"] == 2
    orders = f.new_orders()
    p = y.ctl("renew", "c000", "--force", check=None, timeout=60)
    assert p.returncode != 0 and "max_orders_per_hour" in p.stdout + p.stderr, (p.stdout, p.stderr)
    assert f.new_orders() == orders
    assert issued_per_name(f.ca)[f"c000.{ZONE}"] == 2

    # c001: a gets the CA's Retry-After; b's forced renewal is held by it, and asks the
    # CA nothing.
    f.ca.faults("429", count=1000, path="/acme/new-order", retry_after=300)
    def new_order_requests():
        return len([r for r in f.ca.requests() if r["path"] == "/acme/new-order"])
    before = new_order_requests()
    p = a.ctl("renew", "c001", "--force", check=None, timeout=60)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert new_order_requests() == before + 1
    p = b.ctl("renew", "c001", "--force", check=None, timeout=60)
    assert p.returncode != 0 and "Retry-After" in p.stdout + p.stderr, (p.stdout, p.stderr)
    assert new_order_requests() == before + 1
    assert "not renewing here yet" in b.read_log()
    row = postgres.sql("SELECT failures, attempt_by, ca_retry_until > 0 FROM persistd_certs "
                       "WHERE name = 'c001'")[0]
    assert row == ["1", "a", "t"], row
    f.ca.admin_delete("faults")


def test_new_order_is_announced_with_its_key_first(fleet, postgres):
    """A new order's intent and its CSR key (sealed) are in the database before newOrder
    reaches the CA, so an issuer killed at any point after leaves the next one what it
    needs to find and finish that order."""
    f = fleet(cert_names(1))
    f.ca.faults("slow", count=1, path="/acme/new-order", delay_ms=4000)
    a = f.host("a", "issuer")
    def announced():
        try:
            rows = postgres.sql("SELECT order_intent, pending_key_sealed IS NOT NULL, "
                                "serial IS NULL FROM persistd_certs WHERE name = 'c000'")
        except AssertionError as e:
            # The host makes the schema once it has connected, which may come after
            # it answers its control socket: not yet, rather than a failure.
            if 'relation "persistd_certs" does not exist' in str(e):
                return False
            raise
        return rows == [["t", "t", "t"]]
    # While the CA sits on newOrder: the row already says so, with the key.
    a.wait_for(announced, timeout=30, what="intent and key stored before the order")
    assert f.new_orders() == 0
    f.wait_converged(60)
    assert issued_per_name(f.ca) == {f"c000.{ZONE}": 1}
    row = postgres.sql("SELECT order_intent, pending_key_sealed IS NULL FROM persistd_certs")
    assert row == [["f", "t"]], row


def test_single_host_moves_into_the_database(fleet, postgres):
    """A host that renewed on its own files starts in fleet mode: its versions are stored
    at the first connect (sealed), nothing is ordered again, and a follower installs them."""
    f = fleet(cert_names(3))
    solo = f.persistd_env(ca=f.ca, resolver=f.knot.resolver, certs=certs_config(f.names),
                          daemon_extra={"trust_anchor": "none"})
    solo.state.mkdir(exist_ok=True)
    shutil.copytree(f.account_dir, solo.state / "accounts")
    solo.oneshot(check=0)
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in f.names}
    orders = f.new_orders()
    mine = {n: current(solo, n) for n in f.names}
    solo.daemon.update({"store": postgres.uri, "role": "issuer", "fleet_key_file": str(f.key),
                        "fleet_host": "solo"})
    solo.write()
    solo.start()
    f.hosts["solo"] = solo
    c = f.host("c", "follower")
    f.wait_converged(120)
    assert {n: current(c, n) for n in f.names} == mine
    assert {n: current(solo, n) for n in f.names} == mine
    assert f.new_orders() == orders
    assert issued_per_name(f.ca) == {f"{n}.{ZONE}": 1 for n in f.names}
    assert {r[0]: r[1] for r in postgres.sql("SELECT name, updated_by FROM persistd_certs")} \
        == {n: "solo" for n in f.names}


def test_store_migrate(fleet, postgres):
    """persistd --store-migrate (persistctl store migrate) with the daemon stopped: a single
    host's versions go into the database sealed, a follower installs them all, a second run
    changes nothing, and a database holding a newer version of any cert makes it store
    nothing (exit 1)."""
    f = fleet(cert_names(3))
    solo = f.persistd_env(ca=f.ca, resolver=f.knot.resolver, certs=certs_config(f.names),
                          daemon_extra={"trust_anchor": "none"})
    solo.state.mkdir(exist_ok=True)
    shutil.copytree(f.account_dir, solo.state / "accounts")
    solo.oneshot(check=0)
    mine = {n: current(solo, n) for n in f.names}
    orders = f.new_orders()
    # Without store = postgresql there is nothing to migrate into.
    p = solo.persistd_run("--store-migrate", check=1)
    assert "needs store = postgresql" in p.stderr, p.stderr
    solo.daemon.update({"store": postgres.uri, "role": "issuer", "fleet_key_file": str(f.key),
                        "fleet_host": "solo"})
    solo.write()
    p = solo.ctl("-c", str(solo.conf), "store", "migrate", check=0)
    assert "persistd: 3 stored, 0 already in the database" in p.stdout, p.stdout
    rows = postgres.sql("SELECT name, version, updated_by, serial, updated_at FROM persistd_certs "
                        "ORDER BY name")
    assert [(r[0], r[1], r[2]) for r in rows] == [(n, "1", "solo") for n in f.names], rows
    dump = postgres.psql(postgres.dbname, "SELECT encode(key_sealed, 'escape') FROM persistd_certs")
    assert "PRIVATE KEY" not in dump
    # Idempotent: the second run stores nothing and touches no row.
    p = solo.persistd_run("--store-migrate", check=0)
    assert "persistd: 0 stored, 3 already in the database" in p.stdout, p.stdout
    assert postgres.sql("SELECT name, version, updated_by, serial, updated_at FROM "
                        "persistd_certs ORDER BY name") == rows
    # A follower installs every cert from the database; nothing was ordered again.
    c = f.host("c", "follower")
    c.wait_for(lambda: all(current(c, n) == mine[n] for n in f.names), timeout=120,
               what="the follower installs the migrated certs")
    assert f.new_orders() == orders
    # Conflicts: c001 newer in the database, c002 older. All or nothing: refused, exit 1,
    # and c002's older row is not replaced either.
    postgres.sql("UPDATE persistd_certs SET serial = 'ff01', not_after = not_after + 86400 "
                 "WHERE name = 'c001'")
    postgres.sql("UPDATE persistd_certs SET serial = 'ee02', not_after = not_after - 86400 "
                 "WHERE name = 'c002'")
    p = solo.persistd_run("--store-migrate", check=1)
    assert re.search(r"c001: REFUSED: the database holds a newer version \(serial ff01", p.stderr), \
        p.stderr
    assert "c002: REFUSED" not in p.stderr and "nothing stored" in p.stderr, p.stderr
    assert stored(postgres)["c002"] == "ee02"
    # The daemon holds the state directory: migrate refuses to run beside it.
    postgres.sql("UPDATE persistd_certs SET serial = NULL WHERE name = 'c001'")
    solo.daemon.update({"store": "files"})
    for k in ("role", "fleet_key_file", "fleet_host"):
        solo.daemon.pop(k)
    solo.write()
    solo.start()
    solo.daemon.update({"store": postgres.uri, "role": "issuer", "fleet_key_file": str(f.key),
                        "fleet_host": "solo"})
    solo.write()
    p = solo.persistd_run("--store-migrate", check=1)
    assert "is in use by persistd pid" in p.stderr, p.stderr
    solo.stop()
    # Once stopped, the older row and the empty one take this host's versions.
    p = solo.persistd_run("--store-migrate", check=0)
    assert "persistd: 2 stored, 1 already in the database" in p.stdout, p.stdout
    assert stored(postgres)["c002"] != "ee02"


def names_checked(env):
    """Per name (fqdn): the status this host's status shows, when it was checked."""
    st, _ = env.ctl_json("status")
    return {n["name"]: n["status"] for c in st["cert_list"] for n in c["names"] if n["checked"]}


def checks_made(env):
    return env.ctl_json("status")[0]["fleet"]["checks_made"]


def test_record_checks_spread_over_the_fleet(fleet, postgres):
    """3 hosts (2 issuers, 1 follower), 30 names, recheck_interval 1m: each name is checked
    by one host per round (not by every host), every host's status shows all 30 results,
    the follower checks its share with the account the issuers stored, and the names of a
    host that dies are picked up by the others."""
    f = fleet(cert_names(30))
    hosts = {h: f.host(h, role, start=False, recheck_interval="1m")
             for h, role in (("a", "issuer"), ("b", "issuer"), ("c", "follower"))}
    for h in hosts.values():
        h.start(wait=False)
    for h in hosts.values():
        h.wait_ready()
    f.wait_converged(600)
    fqdns = {f"{n}.{ZONE}" for n in f.names}

    def every_host_sees_all():
        return all(names_checked(h) == {n: "VALID" for n in fqdns} for h in hosts.values())
    hosts["a"].wait_for(every_host_sees_all, timeout=240, what="every host showing 30 results")
    # The follower checks too, with the account the issuers stored.
    facts = postgres.sql("SELECT ca, account_url FROM persistd_ca_facts")
    assert len(facts) == 1 and facts[0][1].startswith("http"), facts

    # One full round from now: every name's stored result newer than t0.
    def stored_checks():
        return {r[0]: (int(r[1]), r[2]) for r in
                postgres.sql("SELECT name, checked_at, checked_by FROM persistd_checks")}
    start = stored_checks()
    made0 = {h: checks_made(e) for h, e in hosts.items()}
    t0 = int(time.time())
    hosts["a"].wait_for(lambda: len(stored_checks()) == 30 and all(
        at > t0 for at, _ in stored_checks().values()), timeout=300,
        what="a round of checks")
    made = {h: checks_made(e) - made0[h] for h, e in hosts.items()}
    # Without the spread every host would check every name: 3 x 30 = 90 checks in a
    # round. One host per name: 30, plus a second check for the names whose jittered
    # interval (10%) came round again while the slowest waited.
    assert sum(made.values()) <= 55, (made, start)
    assert all(v > 0 for v in made.values()), made
    by = {b for _, b in stored_checks().values()}
    assert by == {"a", "b", "c"}, by
    # Alerts: every name is OK, so none was raised; no host says it "cannot check".
    for h in hosts.values():
        assert "cannot check" not in h.read_log()

    # b dies: after its heartbeat goes stale its names move to a and c.
    hosts["b"].kill()
    t_kill = int(time.time())
    hosts["a"].wait_for(lambda: all(at > t_kill + 30 and b in ("a", "c")
                                    for at, b in stored_checks().values()),
                        timeout=300, what="b's names checked by a and c")
    for h in ("a", "c"):
        assert names_checked(hosts[h]) == {n: "VALID" for n in fqdns}, h
    print("checks made per host over a round:", made)
