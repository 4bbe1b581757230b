"""persistctl check --dnssec trust-ad: the resolver validates (Debian's
unbound here, with the zones' KSKs as trust anchors) and its AD flag says
"secure". A bogus answer is unbound's SERVFAIL: DNS_ERROR, never VALID.
The AD flag is taken only from loopback resolvers unless the operator says
trust-ad-remote. Issue 12; docs/notes/getdns-libuv.md section 8.
"""
import json
import subprocess

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
def env(knot_module_factory, tmp_path_factory):
    if not ub.available():
        pytest.skip("unbound is not installed (scripts/install-deps)")
    tmp = tmp_path_factory.mktemp("trustad")
    e = Env()
    k = knot_module_factory()
    k.zone("test", "")
    k.zone("plain.test", ZONE)
    k.zone("signed.test", ZONE, dnssec=True)
    bogus_text, bogus_ksk = bogus_zone(tmp, "bogus.test", ZONE)
    k.zone("bogus.test", bogus_text, raw=True)
    k.start()
    e.knot = k
    u = ub.Unbound(tmp / "unbound", anchors=[k.zones["signed.test"].trust_anchor(), bogus_ksk],
                   stubs={"test.": k.resolver})
    u.start()
    e.unbound = u
    yield e
    u.stop()


def run(persistctl_bin, resolver, *args):
    cmd = [persistctl_bin, "check", "--direct", "--json", "--issuer", ISSUER,
           "--account-uri", ACCT, "--no-caa", "--resolver", resolver, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def results(p):
    assert p.stdout, p.stderr
    return {r["name"]: r for r in json.loads(p.stdout)}


def test_ad_flag_is_secure(persistctl_bin, env):
    p = run(persistctl_bin, env.unbound.resolver, "--dnssec", "trust-ad",
            "www.signed.test", "www.plain.test", "nx.signed.test")
    r = results(p)
    assert r["www.signed.test"]["status"] == "VALID"
    assert r["www.signed.test"]["dnssec"] == "secure"
    # unsigned: the resolver answers without AD
    assert r["www.plain.test"]["status"] == "VALID"
    assert r["www.plain.test"]["dnssec"] == "insecure"
    # a validated denial is secure too
    assert r["nx.signed.test"]["status"] == "NO_RECORD"
    assert r["nx.signed.test"]["dnssec"] == "secure"


def test_bogus_is_never_valid(persistctl_bin, env):
    p = run(persistctl_bin, env.unbound.resolver, "--dnssec", "trust-ad", "www.bogus.test")
    b = results(p)["www.bogus.test"]
    assert b["status"] == "DNS_ERROR"
    assert b["dns_error"] == "SERVFAIL"
    assert b["status"] != "VALID"
    assert p.returncode != 0


def test_authoritative_server_has_no_ad(persistctl_bin, env):
    # knotd does not validate: straight from it, even a signed zone is
    # "insecure" under trust-ad (never "secure" by mistake)
    p = run(persistctl_bin, env.knot.resolver, "--dnssec", "trust-ad", "www.signed.test")
    r = results(p)["www.signed.test"]
    assert r["status"] == "VALID"
    assert r["dnssec"] == "insecure"


def test_remote_resolver_is_refused(persistctl_bin, env):
    # 192.0.2.1 (TEST-NET-1) is never asked: the check stops before any query
    p = run(persistctl_bin, "192.0.2.1", "--dnssec", "trust-ad", "www.signed.test")
    assert p.returncode == 3, p
    assert "trust-ad-remote" in p.stderr
    assert not p.stdout.strip().startswith("[{")


def test_mixed_resolvers_are_refused(persistctl_bin, env):
    p = run(persistctl_bin, env.unbound.resolver, "--resolver", "192.0.2.1",
            "--dnssec", "trust-ad", "www.signed.test")
    assert p.returncode == 3, p
    assert "loopback" in p.stderr or "this host" in p.stderr


def test_remote_allowed_when_said(persistctl_bin, env):
    # trust-ad-remote: the operator vouches for the path; a loopback
    # resolver works the same way under it
    p = run(persistctl_bin, env.unbound.resolver, "--dnssec", "trust-ad-remote",
            "www.signed.test")
    r = results(p)["www.signed.test"]
    assert r["dnssec"] == "secure"


def test_bad_mode_is_a_usage_error(persistctl_bin, env):
    p = run(persistctl_bin, env.unbound.resolver, "--dnssec", "maybe", "www.signed.test")
    assert p.returncode == 3
    assert "--dnssec 'maybe'" in p.stderr


def test_check_config_refuses_remote_ad(persistd_bin, tmp_path):
    # the daemon's key: dnssec = trust-ad with a resolver elsewhere is an
    # error at the key's line; trust-ad-remote is accepted
    conf = tmp_path / "persistd.conf"
    (tmp_path / "certs.d").mkdir()
    conf.write_text("[daemon]\nresolver = 127.0.0.1, 192.0.2.1\ndnssec = trust-ad\n\n"
                    "[ca a]\ndirectory = https://x/d\n")
    p = subprocess.run([persistd_bin, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p
    assert f"{conf}:3:" in p.stderr and "192.0.2.1" in p.stderr, p.stderr
    conf.write_text("[daemon]\nresolver = 127.0.0.1, 192.0.2.1\ndnssec = trust-ad-remote\n\n"
                    "[ca a]\ndirectory = https://x/d\n")
    p = subprocess.run([persistd_bin, "--check-config", "-c", str(conf)], capture_output=True,
                       text=True, timeout=30)
    assert "dnssec" not in p.stderr, p.stderr
