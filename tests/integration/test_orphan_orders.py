"""No order left pending at the CA when newOrder's answer never reaches us
(issue 10): the CA made the order, then the connection broke (testca fault
`drop`) or the daemon was killed while the answer was on its way (fault
`late`). persistd must not send newOrder again blindly: it looks through the
account's orders list (RFC 8555 7.1.2.1, paged with Link rel="next") and
continues the order the CA made, so the CA ends with exactly one order for
the renewal. A CA without an orders list gets a new order, said in the log.
Real knotd, our test CA, the real daemon."""
import json
import re
import subprocess

import pytest

ZONE = "example.test"
NAMES = ["www.example.test"]
ADOPTED = "which the CA made for a newOrder whose answer never reached us"


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1")
    knot.start()
    return knot, zone


def make_env(persistd_env, ca, knot):
    return persistd_env(ca=ca, resolver=knot.resolver,
                        certs={"www": {"ca": "test", "names": NAMES}},
                        daemon_extra={"trust_anchor": "none", "max_orders_per_hour": 50,
                                      "log_level": "info"})


def issue_first(env, zone):
    """The first certificate: publish the record persistd asks for, then issue."""
    p = env.oneshot("--cert", "www", check=1)
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', p.stdout)
    assert recs, p.stdout
    zone.set("www A 192.0.2.1\n" + "\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}"
                                              for o, t in recs))
    env.oneshot("--cert", "www", check=0)


def www_orders(ca):
    return [o for o in ca.orders() if sorted(o["identifiers"]) == NAMES]


def new_order_requests(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"] == "/acme/new-order"]


def cert_url(env):
    """The installed certificate's serial."""
    st = json.loads((env.state / "state.json").read_text())
    return st["certs"]["www"]["serial"]


def account_url(env):
    return json.loads((env.state / "accounts" / "test" / "account.json").read_text())["url"]


def assert_one_new_order_installed(ca, before, serial_before, env):
    """Exactly one order more for the names than before, valid with a certificate, and that
    certificate is the one installed; nothing left pending."""
    orders = www_orders(ca)
    new = [o for o in orders if o["url"] not in before]
    assert len(new) == 1, orders
    assert new[0]["status"] == "valid" and new[0]["cert"], new
    assert not [o for o in orders if o["status"] in ("pending", "ready", "processing")], orders
    st = json.loads((env.state / "state.json").read_text())["certs"]["www"]
    assert st["serial"] != serial_before
    assert not st.get("order_url") and not st.get("order_requested_at"), st
    installed = [c for c in ca.certs()
                 if int(c["serial"], 16) == int(st["serial"].replace(":", ""), 16)]
    assert [c["order"] for c in installed] == [new[0]["url"]], (st["serial"], ca.certs())


def test_dropped_new_order_answer_is_adopted(dns, testca_factory, persistd_env):
    """newOrder is carried out and the connection closed with no answer: the same run
    finds that order in the account's list and finishes it. Before: the transport sent
    newOrder again and the first order stayed pending at the CA."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot)
    issue_first(env, zone)
    before = [o["url"] for o in www_orders(ca)]
    serial = cert_url(env)
    ca.admin_delete("requests")
    ca.faults("drop", path="/acme/new-order")
    p = env.oneshot("--force", check=0)
    out = p.stdout + p.stderr
    assert "www: renewed" in p.stdout, out
    assert len(new_order_requests(ca)) == 1, ca.requests()  # sent once, never again
    assert_one_new_order_installed(ca, before, serial, env)
    assert "no answer to newOrder" in out, out
    assert ADOPTED in out, out


def test_orphan_found_on_a_later_page(dns, testca_factory, persistd_env):
    """The account's list has more than one page (12 other orders first, 10 a page): the
    orphan is on the second page, reached through Link rel="next"."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True, orders_page_size=10)
    env = make_env(persistd_env, ca, knot)
    issue_first(env, zone)
    others = ca.admin_post("orders", {"account": account_url(env), "count": 12,
                                      "identifiers": ["other.example.test"]})
    assert len(others) == 12
    before = [o["url"] for o in www_orders(ca)]
    serial = cert_url(env)
    ca.admin_delete("requests")
    ca.faults("drop", path="/acme/new-order")
    p = env.oneshot("--force", check=0)
    out = p.stdout + p.stderr
    assert "www: renewed" in p.stdout, out
    assert len(new_order_requests(ca)) == 1, ca.requests()
    assert_one_new_order_installed(ca, before, serial, env)
    lists = [r["path"] for r in ca.requests() if "/orders" in r["path"]]
    assert len(lists) == 2 and lists[1].endswith("/orders?cursor=10"), lists
    assert ADOPTED in out, out
    # The other orders are not ours to touch.
    assert all(o["status"] == "pending" for o in ca.orders() if o["url"] in others)


def test_ca_without_orders_list_gets_a_new_order(dns, testca_factory, persistd_env):
    """A CA whose accounts have no 'orders' URL (Let's Encrypt): the search cannot run,
    the log says so, and a new order is placed; the renewal still succeeds."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True, no_orders_list=True)
    env = make_env(persistd_env, ca, knot)
    issue_first(env, zone)
    before = [o["url"] for o in www_orders(ca)]
    ca.faults("drop", path="/acme/new-order")
    p = env.oneshot("--force", check=0)
    out = p.stdout + p.stderr
    assert "www: renewed" in p.stdout, out
    assert "the CA lists no orders for the account" in out, out
    assert "placing a new order" in out, out
    assert ADOPTED not in out
    new = [o for o in www_orders(ca) if o["url"] not in before]
    # The dropped one cannot be found: it stays pending, the second one is issued.
    assert sorted(o["status"] for o in new) == ["ready", "valid"], new  # ready: jit
    assert len(new_order_requests(ca)) == 3  # the first certificate's, dropped, new


def test_sigkill_after_the_ca_made_the_order(dns, testca_factory, persistd_env):
    """The daemon is killed while the CA's answer to newOrder is delayed (the order made
    already). The intent was on disk before newOrder left; the next start looks for the
    order, continues it, and the CA ends with exactly one order for the renewal."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot)
    issue_first(env, zone)
    before = [o["url"] for o in www_orders(ca)]
    serial = cert_url(env)
    ca.faults("late", path="/acme/new-order", delay_ms=20000)
    env.start()
    renew = subprocess.Popen([env.persistctl, "-s", str(env.socket), "renew", "www", "--force"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env.env())
    try:
        made = env.wait_for(lambda: [o for o in www_orders(ca) if o["url"] not in before],
                            timeout=60, what="the CA to make the order")
        st = json.loads((env.state / "state.json").read_text())["certs"]["www"]
        assert st.get("order_requested_at") and not st.get("order_url"), st
        env.kill()
    finally:
        renew.wait(30)
    assert made[0]["status"] == "ready", made  # unfinished (validated at newOrder: jit)
    env.start()
    env.wait_for(lambda: json.loads((env.state / "state.json").read_text())["certs"]["www"]
                 ["serial"] != serial, timeout=120, what="the renewal after the restart")
    env.wait_for(lambda: ADOPTED in env.read_log(), timeout=10, what="the adoption log line")
    assert made[0]["url"] in env.read_log()
    env.stop()
    assert_one_new_order_installed(ca, before, serial, env)


def test_server_error_without_an_order_places_one(dns, testca_factory, persistd_env):
    """A 500 to newOrder (the CA made nothing): no blind resend; the search finds no order
    for the names (only another name's), says so, and one new order is placed."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot)
    issue_first(env, zone)
    ca.admin_post("orders", {"account": account_url(env), "identifiers": ["other.example.test"]})
    before = [o["url"] for o in www_orders(ca)]
    serial = cert_url(env)
    ca.admin_delete("requests")
    ca.faults("500", path="/acme/new-order")
    p = env.oneshot("--force", check=0)
    out = p.stdout + p.stderr
    assert "www: renewed" in p.stdout, out
    assert [r["status"] for r in new_order_requests(ca)] == [500, 201], ca.requests()
    assert_one_new_order_installed(ca, before, serial, env)
    assert "none of the 1 newest orders of the account is an unfinished one for these names; " \
        "placing a new order" in out, out
