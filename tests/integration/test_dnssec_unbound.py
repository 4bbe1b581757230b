"""dns_backend = unbound: libunbound validates the TXT lookups inside
persistd (one ub_ctx per checker, forwarding to the configured resolvers,
its key cache kept for the checker's life) instead of getdns. A secure
answer is VALID and secure, a bogus one (a changed record under an intact
signature, or a wrong trust anchor) is DNS_ERROR BOGUS with unbound's
reason and never VALID, an unsigned zone is insecure, a silent resolver is
DNS_ERROR within dns_timeout, and the daemon's re-checks go through it.
Issue 12; docs/notes/getdns-libuv.md section 10.
"""
import json
import subprocess
import time

import pytest

from fixtures import unbound as ub
from fixtures.dnszones import bogus_zone

ISSUER = "ca.test"
ACCT = "https://ca.test/acct/1"
REC = f'"{ISSUER}; accounturi={ACCT}"'
ZONE = f"_validation-persist.www TXT {REC}\n"


class Env:
    pass


@pytest.fixture(scope="module")
def env(knot_module_factory, baddns_module_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unbound-backend")
    e = Env()
    k = knot_module_factory()
    # "test." itself: the DS queries of the child zones get its unsigned answer
    k.zone("test", "")
    k.zone("plain.test", ZONE)
    k.zone("signed.test", ZONE, dnssec=True)
    bogus_text, bogus_ksk = bogus_zone(tmp, "bogus.test", ZONE)
    k.zone("bogus.test", bogus_text, raw=True)
    presigned_text, presigned_ksk = bogus_zone(tmp, "presigned.test", ZONE, corrupt=False)
    k.zone("presigned.test", presigned_text, raw=True)
    k.start()
    e.knot = k
    signed_ta = k.zones["signed.test"].trust_anchor()
    e.anchors = tmp / "anchors.key"
    e.anchors.write_text("\n".join([signed_ta, bogus_ksk, presigned_ksk, ""]))
    # a wrong anchor for signed.test: bogus.test's key under signed.test's name
    e.wrong = tmp / "wrong.key"
    e.wrong.write_text(bogus_ksk.replace("bogus.test.", "signed.test.", 1) + "\n")
    s = baddns_module_factory("127.0.0.1")
    s.zone("test", {"_validation-persist.www.test": {"TXT": [REC]}})
    s.behave_default("silence")
    e.silent = s
    e.unbound = None
    if ub.available():
        u = ub.Unbound(tmp / "unbound", anchors=[signed_ta, bogus_ksk, presigned_ksk],
                       stubs={"test.": k.resolver})
        u.start()
        e.unbound = u
    yield e
    if e.unbound:
        e.unbound.stop()


def run(persistctl_bin, resolver, *args, anchors, timeout=60):
    cmd = [persistctl_bin, "check", "--direct", "--json", "--issuer", ISSUER,
           "--account-uri", ACCT, "--no-caa", "--dns-backend", "unbound",
           "--trust-anchor", str(anchors), *args]
    for r in resolver if isinstance(resolver, list) else [resolver]:
        cmd += ["--resolver", r]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    p.took = time.monotonic() - t0
    assert p.stdout, p.stderr
    p.results = {r["name"]: r for r in json.loads(p.stdout)}
    return p


def test_secure_insecure_and_denial(persistctl_bin, env):
    p = run(persistctl_bin, env.knot.resolver, "www.signed.test", "www.plain.test",
            "nx.signed.test", "www.presigned.test", anchors=env.anchors)
    r = p.results
    assert r["www.signed.test"]["status"] == "VALID", (r, p.stderr)
    assert r["www.signed.test"]["dnssec"] == "secure"
    assert r["www.presigned.test"]["status"] == "VALID"
    assert r["www.presigned.test"]["dnssec"] == "secure"
    # no anchor covers plain.test (and test. is unsigned): insecure, still VALID
    assert r["www.plain.test"]["status"] == "VALID"
    assert r["www.plain.test"]["dnssec"] == "insecure"
    # a validated denial
    assert r["nx.signed.test"]["status"] == "NO_RECORD"
    assert r["nx.signed.test"]["dnssec"] == "secure"
    # exit 0 for the good names alone (and LeakSanitizer, in a sanitizer
    # build, found nothing left at exit with libunbound's thread)
    p = run(persistctl_bin, env.knot.resolver, "www.signed.test", "www.plain.test",
            anchors=env.anchors)
    assert p.returncode == 0, (p.returncode, p.stderr)


def test_changed_record_is_bogus_never_valid(persistctl_bin, env):
    p = run(persistctl_bin, env.knot.resolver, "www.bogus.test", anchors=env.anchors)
    b = p.results["www.bogus.test"]
    assert b["status"] == "DNS_ERROR", b
    assert b["dns_error"] == "BOGUS"
    assert b["dnssec"] == "bogus"
    # unbound's why_bogus is in the reason
    assert "unbound>" in b["reason"] and "signature" in b["reason"].lower(), b
    assert p.returncode != 0


def test_wrong_trust_anchor_is_bogus(persistctl_bin, env):
    p = run(persistctl_bin, env.knot.resolver, "www.signed.test", anchors=env.wrong)
    r = p.results["www.signed.test"]
    assert r["status"] == "DNS_ERROR", r
    assert r["dns_error"] == "BOGUS"
    assert r["dnssec"] == "bogus"
    assert p.returncode != 0


def test_through_a_validating_resolver(persistctl_bin, env):
    # Debian's unbound in front (it validates too): libunbound still
    # validates itself, its AD bit counts for nothing
    if not env.unbound:
        pytest.skip("unbound is not installed (scripts/install-deps)")
    p = run(persistctl_bin, env.unbound.resolver, "www.signed.test", "www.plain.test",
            "www.bogus.test", anchors=env.anchors)
    r = p.results
    assert r["www.signed.test"]["dnssec"] == "secure"
    assert r["www.signed.test"]["status"] == "VALID"
    assert r["www.plain.test"]["dnssec"] == "insecure"
    assert r["www.bogus.test"]["status"] == "DNS_ERROR"
    assert r["www.bogus.test"]["dnssec"] != "secure"


def test_silent_resolver_is_dns_error_within_timeout(persistctl_bin, env):
    p = run(persistctl_bin, env.silent.resolver, "www.test", "--timeout", "2s",
            anchors=env.anchors)
    r = p.results["www.test"]
    assert r["status"] == "DNS_ERROR", r
    assert r["dns_error"] == "TIMEOUT"
    assert p.returncode == 3
    # the budget, not a multiple of it (process start-up included)
    assert p.took < 5, p.took


def test_backend_option_is_checked(persistctl_bin, env):
    cmd = [persistctl_bin, "check", "--direct", "--issuer", ISSUER, "--account-uri", ACCT,
           "--dns-backend", "bind", "www.signed.test"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 3
    assert "--dns-backend 'bind'" in p.stderr
    p = subprocess.run(cmd[:-3] + ["--dns-backend", "unbound", "--dnssec", "trust-ad",
                                   "www.signed.test"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 3
    assert "--dns-backend unbound" in p.stderr and "trust-ad" in p.stderr, p.stderr


def test_config_key_is_checked(persistd_bin, tmp_path):
    conf = tmp_path / "persistd.conf"
    (tmp_path / "certs.d").mkdir()
    head = "[daemon]\nresolver = 127.0.0.1\n"
    tail = "\n[ca a]\ndirectory = https://x/d\n"
    conf.write_text(head + "dns_backend = bind\n" + tail)
    p = subprocess.run([persistd_bin, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p
    assert f"{conf}:3:" in p.stderr and "getdns or unbound" in p.stderr, p.stderr
    conf.write_text(head + "dnssec = trust-ad\ndns_backend = unbound\n" + tail)
    p = subprocess.run([persistd_bin, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p
    assert f"{conf}:4:" in p.stderr and "dns_backend" in p.stderr, p.stderr
    conf.write_text(head + "dns_backend = unbound\n" + tail)
    p = subprocess.run([persistd_bin, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert "dns_backend" not in p.stderr, p.stderr


def test_daemon_rechecks_through_libunbound(knot, testca_factory, persistd_env, tmp_path):
    """The daemon's checker with dns_backend = unbound: its re-checks are
    validated by libunbound (secure for the signed zone; the broken
    signature's bogus reason comes from unbound's validator)."""
    knot.zone("test", "")
    zone = knot.zone("example.test", "www A 192.0.2.1", dnssec=True)
    bogus_text, bogus_ksk = bogus_zone(tmp_path, "bogus.test", ZONE)
    knot.zone("bogus.test", bogus_text, raw=True)
    knot.start()
    anchors = tmp_path / "daemon-anchors.key"
    anchors.write_text("\n".join([zone.trust_anchor(), bogus_ksk, ""]))
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test"], "persist_until": "2030-01-01"},
        "bad": {"ca": "test", "names": ["www.bogus.test"], "persist_until": "2030-01-01"}},
        daemon_extra={"trust_anchor": str(anchors), "dns_backend": "unbound",
                      "recheck_interval": "1h"})
    env.start()
    recs, _ = env.ctl_json("record", "www")
    zone.set("\n".join(f'{r["owner"][: -len("example.test") - 1]} TXT "{r["value"]}"'
                       for r in recs))
    deadline = time.monotonic() + 30
    while True:
        # (knotd re-signs the new record: poll until it is served)
        env.ctl("check", "--all")
        st, _ = env.ctl_json("status")
        names = {n["name"]: n for c in st["cert_list"] for n in c["names"]}
        www, bad = names["www.example.test"], names["www.bogus.test"]
        if (www["status"] == "VALID" and bad["status"] == "BOGUS") or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert www["status"] == "VALID", www
    assert www["dnssec"] == "secure"
    # the daemon names it BOGUS (persistctl check --direct: DNS_ERROR + dnssec bogus)
    assert bad["status"] == "BOGUS", bad
    assert bad["dnssec"] == "bogus"
    assert "unbound>" in (bad.get("reason") or ""), bad


FAULTS = ["servfail", "refused", "formerr", "wrong_question", "wrong_type", "garbage"]


def test_faults_under_libunbound(persistctl_bin, baddns_factory, env):
    """What test_dns_faults.py checks for getdns, as libunbound does it: it
    retransmits and fails over between the forwarders itself, and whatever
    the only server did wrong (an error rcode, a reply to another question,
    garbage) is its SERVFAIL: DNS_ERROR, never NO_RECORD (the reason says
    SERVFAIL, not which fault). With a second, good server it is VALID.
    Truncation is retried over TCP, and a question echoed in upper case is
    the same question."""
    a = baddns_factory("127.0.0.1")
    b = baddns_factory("127.0.0.2")
    label = {m: m.replace("_", "-") for m in FAULTS + ["truncate", "upper_case"]}
    recs = {f"_validation-persist.{n}.test": {"TXT": [REC]} for n in label.values()}
    for s in (a, b):
        s.zone("test", recs)
    for m, n in label.items():
        a.behave(f"_validation-persist.{n}.test", m)
    names = [f"{label[m]}.test" for m in FAULTS]
    p = run(persistctl_bin, a.resolver, *names, anchors=env.anchors)
    for n in names:
        r = p.results[n]
        assert r["status"] == "DNS_ERROR", r
        assert r["dns_error"] == "SERVFAIL", r
        assert "unbound>" in r["reason"], r
    assert p.returncode == 3
    p = run(persistctl_bin, [a.resolver, b.resolver], *names, anchors=env.anchors)
    for n in names:
        assert p.results[n]["status"] == "VALID", p.results[n]
        assert p.results[n]["dnssec"] == "insecure"
    p = run(persistctl_bin, a.resolver, "truncate.test", "upper-case.test", anchors=env.anchors)
    assert p.results["truncate.test"]["status"] == "VALID", p.results
    assert p.results["upper-case.test"]["status"] == "VALID", p.results
