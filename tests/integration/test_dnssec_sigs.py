"""Validated TXT answers checked in place (common/dnscheck_sigs, issue 12):
with validation on, the TXT lookup goes out with DO like an unvalidated
one; its RRSIG is verified here against the zone's DNSKEY RRset, which the
validator (getdns, or libunbound) judges once per zone; an unchanged
answer in a later round is found in the memo of verified signatures. What
the validator alone can judge (a denial, a broken signature, an unsigned
zone) still goes to it.

Measured through Debian's unbound (its query counter): a round of N signed
names costs about N queries, where handing every name to getdns costs
several per name. The daemon's metrics say who judged each answer.
"""
import json
import subprocess
import time
import urllib.request

import pytest

from fixtures import unbound as ub
from fixtures.dnszones import bogus_zone
from fixtures.knot import free_port

ISSUER = "ca.test"
ACCT = "https://ca.test/acct/1"
REC = f'"{ISSUER}; accounturi={ACCT}"'
N = 30


class Env:
    pass


@pytest.fixture(scope="module")
def env(knot_module_factory, tmp_path_factory):
    if not ub.available():
        pytest.skip("unbound is not installed (scripts/install-deps)")
    tmp = tmp_path_factory.mktemp("dnssec-sigs")
    e = Env()
    k = knot_module_factory()
    k.zone("test", "")
    names = "".join(f"_validation-persist.n{i:02d} TXT {REC}\n" for i in range(N))
    e.zone = k.zone("signed.test", names, dnssec=True)
    bogus_text, bogus_ksk = bogus_zone(tmp, "bogus.test", f"_validation-persist.www TXT {REC}\n")
    k.zone("bogus.test", bogus_text, raw=True)
    k.start()
    e.knot = k
    ta = e.zone.trust_anchor()
    e.anchors = tmp / "anchors.key"
    e.anchors.write_text("\n".join([ta, bogus_ksk, ""]))
    # "." too: getdns asks about the root on its way, and unbound must not
    # wait for the real root servers (no network here).
    u = ub.Unbound(tmp / "unbound", anchors=[ta, bogus_ksk],
                   stubs={"test.": k.resolver, ".": k.resolver})
    u.start()
    e.unbound = u
    yield e
    u.stop()


def check(persistctl_bin, env, names, *args):
    cmd = [persistctl_bin, "check", "--direct", "--json", "--issuer", ISSUER,
           "--account-uri", ACCT, "--no-caa", "--threads", "1",
           "--resolver", env.unbound.resolver, "--trust-anchor", str(env.anchors), *args, *names]
    before = env.unbound.queries()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.stdout, p.stderr
    p.queries = env.unbound.queries() - before
    p.results = {r["name"]: r for r in json.loads(p.stdout)}
    return p


def test_a_round_costs_one_query_per_name(persistctl_bin, env):
    """getdns caches nothing across queries: handing it every name cost
    6 queries per name here (18 for 3 names, measured before this)."""
    names = [f"n{i:02d}.signed.test" for i in range(N)]
    check(persistctl_bin, env, names)  # unbound's own cache warm
    p = check(persistctl_bin, env, names)
    for n in names:
        r = p.results[n]
        assert r["status"] == "VALID", (r.get("reason"), r.get("dns_error"), r, p.stderr)
        assert r["dnssec"] == "secure", r
    # N TXT queries, and the zone's keys (with what getdns needs to
    # validate them) once.
    assert p.queries <= N + 15, p.queries
    assert p.returncode == 0, p.stderr


def test_libunbound_backend_agrees(persistctl_bin, env):
    """libunbound keeps validated keys itself, so the count of queries is
    the same either way; the answers must be too."""
    names = [f"n{i:02d}.signed.test" for i in range(N)]
    p = check(persistctl_bin, env, names, "--dns-backend", "unbound")
    for n in names:
        assert p.results[n]["status"] == "VALID", p.results[n]
        assert p.results[n]["dnssec"] == "secure", p.results[n]
    assert p.queries <= N + 15, p.queries


@pytest.mark.parametrize("backend", ["getdns", "unbound"])
def test_the_validator_still_judges_the_rest(persistctl_bin, env, backend):
    p = check(persistctl_bin, env, ["n00.signed.test", "nx.signed.test", "www.bogus.test"],
              "--dns-backend", backend)
    r = p.results
    assert r["n00.signed.test"]["status"] == "VALID"
    assert r["n00.signed.test"]["dnssec"] == "secure"
    # a denial has no RRSIG over a TXT RRset: the validator proves it
    assert r["nx.signed.test"]["status"] == "NO_RECORD", r["nx.signed.test"]
    assert r["nx.signed.test"]["dnssec"] == "secure"
    # a broken signature does not verify here; the validator calls it bogus
    b = r["www.bogus.test"]
    assert b["status"] == "DNS_ERROR", b
    assert b["dns_error"] == "BOGUS"
    assert b["dnssec"] == "bogus"


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def answers(text):
    got = {}
    for line in text.splitlines():
        if line.startswith("persistd_dnssec_answers_total{"):
            how = line.split('how="', 1)[1].split('"', 1)[0]
            got[how] = int(float(line.rsplit(" ", 1)[1]))
    return got


@pytest.mark.parametrize("backend", ["getdns", "unbound"])
def test_daemon_rounds_remember_verified_signatures(knot, testca_factory, persistd_env,
                                                    tmp_path, backend):
    knot.zone("test", "")
    zone = knot.zone("example.test", "www A 192.0.2.1", dnssec=True)
    knot.start()
    anchors = tmp_path / "anchors.key"
    anchors.write_text(zone.trust_anchor() + "\n")
    ca = testca_factory(dns=knot.resolver)
    port = free_port()
    certs = {f"c{i}": {"ca": "test", "names": [f"n{i}.example.test"],
                       "persist_until": "2030-01-01"} for i in range(4)}
    env = persistd_env(ca=ca, resolver=knot.resolver, certs=certs,
                       daemon_extra={"trust_anchor": str(anchors), "recheck_interval": "1h",
                                     "dns_backend": backend,
                                     "http_listen": f"127.0.0.1:{port}"})
    env.start()
    recs, _ = env.ctl_json("record", "c0")
    value = recs[0]["value"]
    zone.set("".join(f'_validation-persist.n{i} TXT "{value}"\n' for i in range(4)))
    deadline = time.monotonic() + 30
    while True:
        # (knotd re-signs the new records: poll until they are served)
        env.ctl("check", "--all")
        st, _ = env.ctl_json("status")
        names = [n for c in st["cert_list"] for n in c["names"]]
        if all(n["status"] == "VALID" for n in names) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for n in names:
        assert n["status"] == "VALID", n
        assert n["dnssec"] == "secure", n
    first = answers(metrics(port))
    assert first.get("checked", 0) >= 4, first
    env.ctl("check", "--all")
    st, _ = env.ctl_json("status")
    for n in (n for c in st["cert_list"] for n in c["names"]):
        assert n["dnssec"] == "secure", n
    second = answers(metrics(port))
    # The same four answers again: from the memo, no new verification,
    # and none handed to the validator.
    assert second["remembered"] - first.get("remembered", 0) >= 4, (first, second)
    assert second["checked"] == first["checked"], (first, second)
    assert second["validator"] == first["validator"], (first, second)
