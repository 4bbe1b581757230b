"""A newly added cert waits for its record instead of paging someone: until its
record is published it is WARNING ("waiting-for-record", its own journal alert),
`status` shows the record to publish, and no ACME order is created while the
CA's issuer names are known and the read-only check fails; once the record is
in DNS the next re-check lets it be issued without a restart; after
record_grace it is an ERROR as before. Daemon, our test CA (draft -02:
issuerDomainNames in its directory) and a real knotd."""
import re

import pytest

ZONE = "example.test"
WAITING_ID = "4382b60eaf724d559f4a0c2c7a01d27e"
RECORD_ERROR_ID = "8832d2e86aab4b0ab0f3aa1f2adf9a36"
NAME = "www.example.test"


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1")
    knot.start()
    return knot, zone


def new_orders(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"] == "/acme/new-order"]


def cert_of(env, name="www"):
    st = env.rpc("status")
    return [c for c in st["cert_list"] if c["name"] == name][0]


def make(persistd_env, ca, knot, **cert_extra):
    return persistd_env(ca=ca, resolver=knot.resolver,
                        certs={"www": {"ca": "test", "names": [NAME], **cert_extra}},
                        daemon_extra={"trust_anchor": "none"})


def waiting(env):
    c = cert_of(env)
    return c if c.get("state") == "waiting-for-record" and c["names"][0].get("checked") else None


def test_new_cert_waits_for_its_record_then_is_issued(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, draft="02")
    env = make(persistd_env, ca, knot)
    env.start()
    c = env.wait_for(lambda: waiting(env), what="waiting-for-record")
    assert c["level"] == "WARNING", c
    assert c["cert_level"] == "WARNING", c
    assert c["names"][0]["level"] == "WARNING", c
    assert "waiting for the record" in c["names"][0]["level_reason"], c
    recs = c["records_to_publish"]
    assert recs.startswith(f"_validation-persist.{NAME}. 3600 IN TXT \"ca.test;"), recs
    # The read-only check failed before any order: the CA saw no newOrder at all.
    assert new_orders(ca) == [] and ca.orders() == []
    # status: WARNING (exit 1), the state and the record, whole.
    p = env.ctl("status")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "WAITING-FOR-RECORD" in p.stdout
    assert f"www: waiting for the record; publish:\n{recs}" in p.stdout
    log = env.read_log()
    assert f"message_id={WAITING_ID}" in log, log[-3000:]
    assert "ALERT ERROR" not in log, log[-3000:]

    # Within the grace and without the record, time passing costs the CA nothing:
    # retries follow the re-check cadence, and every one is refused before ordering.
    for _ in range(3):
        env.shift_time(3600 + 600)
        env.wait_for(lambda: cert_of(env)["failures"] >= 2, what="a retry")
    env.shift_time(3600 + 600)
    assert new_orders(ca) == [] and ca.orders() == []
    assert cert_of(env)["level"] == "WARNING"
    attempts = cert_of(env)["failures"]
    assert attempts <= 6, attempts  # about one per re-check interval, not a loop

    # Publish the record: the next re-check finds it and the cert is issued, no restart.
    m = re.match(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', recs)
    zone.set(f"{m.group(1)[: -len(ZONE) - 1]} TXT {m.group(2).strip()}")
    env.shift_time(3600 + 600)
    c = env.wait_for(lambda: (lambda c: c if c["has_cert"] else None)(cert_of(env)),
                     timeout=90, what="the certificate")
    assert c["state"] == "issued" and c["level"] == "OK", c
    assert len([r for r in new_orders(ca) if r["status"] == 201]) == 1
    assert (env.state / "certs" / "www" / "current" / "fullchain.pem").exists()


def test_after_record_grace_it_is_an_error(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, draft="02")
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={},
                       daemon_extra={"trust_anchor": "none", "record_grace": "2h"})
    env.start()
    # The cert is first seen an hour from now (test clock), through a reload.
    env.shift_time(3600)
    env.certs["www"] = {"ca": "test", "names": [NAME]}
    env.write()
    env.ctl("reload", check=0)
    env.wait_for(lambda: waiting(env), what="waiting-for-record")
    # A restart does not reset the grace (first_seen is in the state): the clock is
    # back at real time, so 2h 1m from now is still inside a grace that began an hour
    # later, and would not be had it restarted at the restart.
    env.stop()
    env.start()
    env.shift_time(2 * 3600 + 60)
    c = env.wait_for(lambda: waiting(env), what="still waiting after a restart")
    assert c["level"] == "WARNING", c
    env.shift_time(3600)
    c = env.wait_for(lambda: (lambda c: c if c["level"] == "ERROR" else None)(cert_of(env)),
                     what="ERROR after record_grace")
    assert c["state"] == "none", c
    assert c["names"][0]["level"] == "ERROR", c
    assert "waiting for the record" not in c["names"][0]["level_reason"], c
    assert f"message_id={RECORD_ERROR_ID}" in env.read_log()
    assert new_orders(ca) == []
    p = env.ctl("status")
    assert p.returncode == 2, (p.stdout, p.stderr)


def test_bad_record_grace_is_a_config_error(persistd_env, testca_factory, dns):
    knot, _ = dns
    ca = testca_factory(dns=knot.resolver, draft="02")
    env = make(persistd_env, ca, knot, record_grace="soon")
    p = env.persistd_run("--check-config")
    assert p.returncode != 0
    assert re.search(r"www\.conf:\d+: .*'record_grace = soon': expected a duration", p.stderr), \
        p.stderr
