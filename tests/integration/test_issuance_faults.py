"""A CA that issues what must not be served, with `persistd --oneshot` and the
daemon against our test CA (its /admin/misissue faults) and a real knotd:
every bad certificate is refused before `current` moves, said plainly and
alerted; the issuance circuit breaker bounds new orders per hour whatever
the CA's clock does; a pending Retry-After binds `renew --force`; a CA that
refuses `replaces` with a 400 still renews; and the records an operator
must publish are never cut short."""
import json
import re

import pytest

ZONE = "example.test"
REJECTED_ID = "9626b9ff32294da09cb5ba40d1b8657a"
LIMIT_ID = "871c0dfaf20c44f7b94c1fc0ed8188db"
DAY = 86400


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1")
    knot.start()
    return knot, zone


def make_env(persistd_env, ca, knot, certs, **daemon_extra):
    return persistd_env(ca=ca, resolver=knot.resolver, certs=certs,
                        daemon_extra={"trust_anchor": "none", **daemon_extra})


def publish_all(zone, out):
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', out)
    assert recs, out
    zone.set("\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in recs))
    return recs


def current_chain(env, name):
    p = env.state / "certs" / name / "current" / "fullchain.pem"
    return p.read_bytes() if p.exists() else None


def new_orders(ca, created=False):
    """newOrder requests at the CA; with created, only those that made an order."""
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"] == "/acme/new-order"
            and (not created or r["status"] == 201)]


def issue_first(env, zone, name):
    """The first certificate: publish what persistd asks for, then issue."""
    p = env.oneshot("--cert", name, check=1)
    publish_all(zone, p.stdout)
    p = env.oneshot("--cert", name, check=0)
    assert f"{name}: renewed" in p.stdout
    return current_chain(env, name)


BAD = [
    ("expired", "EXPIRED", "has already expired"),
    ("future", "NOT_YET_VALID", "is not valid yet"),
    ("names", "NAMES_DIFFER", "missing www.example.test; not ordered evil.example.test"),
    ("signer", "CHAIN_BROKEN", "does not verify with the key of its issuer"),
    ("key", "KEY_DIFFERS", "not the key we sent the CSR for"),
]


def test_bad_certificates_are_never_installed(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}},
                   max_orders_per_hour=50)
    good = issue_first(env, zone, "www")
    assert good
    for kind, verdict, words in BAD:
        ca.admin_post("misissue", {"kind": kind})
        p = env.oneshot("--force", check=1)
        assert f"www: FAILED: the CA issued a certificate we will not install ({verdict})" \
            in p.stdout, (kind, p.stdout)
        assert words in p.stdout, (kind, p.stdout)
        assert f"ALERT ERROR cert-rejected cert=www" in p.stderr, (kind, p.stderr)
        assert f"message_id={REJECTED_ID}" in p.stderr
        # The certificate in use is untouched.
        assert current_chain(env, "www") == good, kind
        st = json.loads((env.state / "state.json").read_text())["certs"]["www"]
        assert st["cert_rejected"] is True and st["level"] == "ERROR", st
        assert verdict in st["last_error"]
        # Backed off: the next attempt is not before the exponential backoff.
        assert st["retry_at"] - st["last_attempt"] >= 300
    # A good certificate again: installed, and the ERROR clears.
    p = env.oneshot("--force", check=0)
    assert current_chain(env, "www") != good
    st = json.loads((env.state / "state.json").read_text())["certs"]["www"]
    # Members at their default (false, OK) are left out of state.json.
    assert "cert_rejected" not in st and "level" not in st, st


def test_bad_first_certificate_leaves_nothing(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}})
    p = env.oneshot(check=1)
    publish_all(zone, p.stdout)
    ca.admin_post("misissue", {"kind": "names"})
    p = env.oneshot(check=1)
    assert "NAMES_DIFFER" in p.stdout and "evil.example.test" in p.stdout
    assert current_chain(env, "www") is None
    assert not (env.state / "certs" / "www" / "current").exists()


def test_one_second_profile_is_refused(dns, testca_factory, persistd_env):
    """As upstream Pebble with a profile validityPeriod of 1 s: the certificate is
    refused, whether it arrives inside its second or after it."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True, profile={"tiny": 1})
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}})
    good = issue_first(env, zone, "www")
    env.certs["www"]["profile"] = "tiny"
    env.write()
    p = env.oneshot("--force", check=1)
    assert re.search(r"will not install \((SHORT_LIFETIME|EXPIRED)\)", p.stdout), p.stdout
    assert current_chain(env, "www") == good
    assert "ALERT ERROR cert-rejected cert=www" in p.stderr


def test_renew_reports_rejection_and_breaker_holds_with_ca_clock_shift(dns, testca_factory,
                                                                        persistd_env):
    """The CA's clock 100 days back makes every certificate expired on arrival: the
    daemon refuses them, and however often it is asked, places at most
    max_orders_per_hour (3) new orders an hour, across a restart too."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}})
    good = issue_first(env, zone, "www")
    ca.admin_post("clock", {"offset": -100 * DAY})
    ca.admin_delete("/admin/requests")
    env.start()
    # The issuance above was one order of this hour; two more are allowed.
    for _ in range(2):
        p = env.ctl("renew", "www", "--force", timeout=120)
        assert p.returncode != 0, p.stdout
        assert "(EXPIRED)" in p.stdout + p.stderr, p.stdout + p.stderr
        assert current_chain(env, "www") == good
    log = env.read_log()
    assert "ALERT ERROR cert-rejected cert=www" in log
    # The third: the breaker holds; nothing reaches the CA.
    for _ in range(3):
        p = env.ctl("renew", "www", "--force", timeout=60)
        assert p.returncode != 0
        out = p.stdout + p.stderr
        assert "max_orders_per_hour = 3" in out and "next try is allowed at" in out, out
        assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out), out
    assert len(new_orders(ca, created=True)) == 2
    assert f"message_id={LIMIT_ID}" in env.read_log()
    st = env.rpc("status")
    c = [c for c in st["cert_list"] if c["name"] == "www"][0]
    assert c["orders_held_until"] is not None and c["cert_level"] == "ERROR", c
    p = env.ctl("show", "www")
    assert "max_orders_per_hour reached" in p.stdout, p.stdout
    assert "the CA issued a certificate that was not installed" in p.stdout, p.stdout
    # A restart does not reset the count.
    env.stop()
    env.start()
    p = env.ctl("renew", "www", "--force", timeout=60)
    assert p.returncode != 0 and "max_orders_per_hour" in p.stdout + p.stderr
    # Nor does the daemon's own schedule get past it: its clock moves on by less
    # than an hour, several times, and each due renewal waits for the window.
    for _ in range(3):
        env.shift_time(15 * 60)
        c = env.rpc("status")["cert_list"][0]
        assert c["orders_held_until"] is not None, c
        assert c["next_renewal"] >= c["orders_held_until"], c
    assert len(new_orders(ca, created=True)) == 2
    assert current_chain(env, "www") == good


def test_force_honours_retry_after(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}})
    issue_first(env, zone, "www")
    env.start()
    ca.faults("429", count=1, retry_after=3600, path="/acme/new-order")
    p = env.ctl("renew", "www", "--force", timeout=120)
    assert p.returncode != 0
    ca.admin_delete("/admin/requests")
    p = env.ctl("renew", "www", "--force", timeout=60)
    assert p.returncode != 0
    out = p.stdout + p.stderr
    assert "Retry-After" in out and "next try is allowed at" in out, out
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", out), out
    assert ca.requests() == [], "the CA was contacted while its Retry-After was pending"
    st = env.rpc("status")
    assert st["cert_list"][0]["ca_retry_until"] is not None


@pytest.mark.parametrize("status", [400, 403])
def test_replaces_refused_is_retried_without_it(dns, testca_factory, persistd_env, status):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, {"www": {"ca": "test", "names": ["www.example.test"]}})
    good = issue_first(env, zone, "www")
    ca.admin_post("misissue", {"refuse_replaces": status})
    ca.admin_delete("/admin/requests")
    p = env.oneshot("--force", check=0)
    assert "www: renewed" in p.stdout
    assert current_chain(env, "www") != good
    statuses = [r["status"] for r in new_orders(ca)]
    assert statuses == [status, 201], statuses
    assert "ordering without it" in p.stderr


def test_many_names_records_are_whole(dns, testca_factory, persistd_env):
    """50 long names: every record to publish is printed, none cut."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver)
    names = [f"host-{i:02d}-{'x' * 40}.example.test" for i in range(50)]
    env = make_env(persistd_env, ca, knot, {}, max_orders_per_hour=10)
    # One name a line: a config line is at most 199 characters.
    (env.etc / "certs.d" / "many.conf").write_text(
        "[cert many]\nca = test\nnames = " + "\n  ".join(names) + "\n")
    p = env.oneshot(check=1)
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', p.stdout)
    owners = {o for o, _ in recs}
    assert owners == {f"_validation-persist.{n}" for n in names}, len(owners)
    # Every line is a whole record, ending in its closing quote.
    for line in p.stdout.splitlines():
        if "3600 IN TXT" in line:
            assert line.rstrip().endswith('"'), line
    st = json.loads((env.state / "state.json").read_text())["certs"]["many"]
    assert st["records_hint"].count("3600 IN TXT") == 50
    # And with all of them published, it issues.
    publish_all(zone, p.stdout)
    p = env.oneshot(check=0)
    assert "many: renewed" in p.stdout
