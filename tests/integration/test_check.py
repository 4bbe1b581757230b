"""`persistctl check --direct` against real knotd servers on loopback.

One module-scoped set of servers serves every case of issue 4's "Tests
against real DNS servers": valid, multi-string, CNAME'd, wildcard with and
without policy, expired and expiring persistUntil, foreign-CA plus own record,
malformed, NODATA, NXDOMAIN, a DNSSEC-signed zone, a zone with a broken
signature (bogus), two authoritative servers that disagree, CAA sets that
allow, forbid and restrict by accounturi/validationmethods, a server that
answers SERVFAIL and one that does not answer at all. Every outcome is
asserted from the --json output (and the exit code).
"""
import json
import subprocess
import time

import pytest

from fixtures.dnszones import bogus_zone, common_free_port

ISSUER = "ca.test"
ACCT = "https://ca.test/acct/1"
NOW = 1_800_000_000
DAY = 86400


def rec(extra="", issuer=ISSUER, acct=ACCT):
    return f'"{issuer}; accounturi={acct}{extra}"'


CHECK_ZONE = "\n".join([
    f"_validation-persist.www TXT {rec(f'; persistUntil={NOW + 400 * DAY}')}",
    # one RR, three character-strings, split inside a word: joined with no separator
    '_validation-persist.multi TXT "ca.te" "st; accounturi=https://ca.test/ac" "ct/1"',
    "_validation-persist.alias CNAME _validation-persist.www",
    # a CNAME into another zone on the same server: knotd answers with the
    # CNAME alone, the checker follows it
    "_validation-persist.away CNAME _validation-persist.www.other.test.",
    f"_validation-persist.wild TXT {rec('; policy=wildcard')}",
    f"_validation-persist.nowild TXT {rec()}",
    f"_validation-persist.expired TXT {rec(f'; persistUntil={NOW - DAY}')}",
    f"_validation-persist.soon TXT {rec(f'; persistUntil={NOW + 20 * DAY}')}",
    f"_validation-persist.sooner TXT {rec(f'; persistUntil={NOW + 3 * DAY}')}",
    f"_validation-persist.mixed TXT {rec(issuer='other.example', acct='https://other.example/a/9')}",
    f"_validation-persist.mixed TXT {rec()}",
    f"_validation-persist.foreign TXT {rec(issuer='other.example')}",
    f"_validation-persist.wrongacct TXT {rec(acct='https://ca.test/acct/2')}",
    f"_validation-persist.malformed TXT {rec('; persistUntil=soon')}",
    '_validation-persist.binary TXT "other.example; x=\\255\\000" "\\009"',
    f"_validation-persist.binary TXT {rec()}",
    "_validation-persist.nodata A 192.0.2.1",
    # CAA, each with a valid record so that only CAA decides
    *[f"_validation-persist.{n} TXT {rec()}" for n in (
        "caa-allow", "sub.caa-allow", "caa-forbid", "caa-acct-ok", "caa-acct-bad",
        "caa-vm-ok", "caa-vm-bad", "caa-wild", "caa-crit")],
    f"_validation-persist.caa-wild TXT {rec('; policy=wildcard')}",
    'caa-allow CAA 0 issue "ca.test"',
    'caa-forbid CAA 0 issue "other.example"',
    'caa-forbid CAA 0 iodef "mailto:security@check.test"',
    f'caa-acct-ok CAA 0 issue "ca.test; accounturi={ACCT}"',
    'caa-acct-bad CAA 0 issue "ca.test; accounturi=https://ca.test/acct/2"',
    'caa-vm-ok CAA 0 issue "ca.test; validationmethods=http-01,dns-persist-01"',
    'caa-vm-bad CAA 0 issue "ca.test; validationmethods=dns-01,http-01"',
    'caa-wild CAA 0 issue "ca.test"',
    'caa-wild CAA 0 issuewild ";"',
    'caa-crit CAA 0 issue "ca.test"',
    'caa-crit CAA 128 tbs "unknown"',
    *[f"_validation-persist.bulk{i} TXT {rec()}" for i in range(300)],
])

SIGNED_ZONE = f"_validation-persist.www TXT {rec()}\n"
BOGUS_ZONE = f"_validation-persist.www TXT {rec()}\n"
SPLIT_ZONE = f"_validation-persist.www TXT {rec()}\n"


class Env:
    pass


@pytest.fixture(scope="module")
def env(knot_module_factory, silent_dns, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check")
    e = Env()
    k = knot_module_factory()
    # "test." itself, so that CAA tree climbing ends in an authoritative
    # NODATA, and so that DS queries for the signed zones get the parent's
    # unsigned answer (see fixtures/dnszones.bogus_zone)
    k.zone("test", "")
    k.zone("check.test", CHECK_ZONE)
    k.zone("other.test", f"_validation-persist.www TXT {rec()}")
    k.zone("signed.test", SIGNED_ZONE, dnssec=True)
    bogus_text, bogus_ksk = bogus_zone(tmp, "bogus.test", BOGUS_ZONE)
    k.zone("bogus.test", bogus_text, raw=True)
    # the control: the same way of serving a pre-signed zone, signature intact
    presigned_text, presigned_ksk = bogus_zone(tmp, "presigned.test", BOGUS_ZONE, corrupt=False)
    k.zone("presigned.test", presigned_text, raw=True)
    k.zone("broken.test", broken=True)
    k.start()
    e.knot = k
    e.resolver = k.resolver
    e.port = k.port
    ta = tmp / "anchors.key"
    ta.write_text("\n".join([k.zones["signed.test"].trust_anchor(), bogus_ksk, presigned_ksk, ""]))
    e.trust_anchor = str(ta)

    # Two authoritative servers for split.test that disagree: the record is
    # on ns1 only. Same port on two loopback addresses; --auth-port finds them.
    port = common_free_port(["127.0.0.2", "127.0.0.3"])
    ns = [("ns1", "127.0.0.2"), ("ns2", "127.0.0.3")]
    a = knot_module_factory(address="127.0.0.2", port=port)
    a.zone("split.test", SPLIT_ZONE, ns=ns)
    b = knot_module_factory(address="127.0.0.3", port=port)
    b.zone("split.test", "", ns=ns)
    a.start()
    b.start()
    e.split_resolver = a.resolver
    e.split_port = port
    e.silent = silent_dns.resolver
    return e


def run(persistctl_bin, env, *args, resolver=None, trust_anchor=True, timeout=30):
    cmd = [persistctl_bin, "check", "--direct", "--json", "--issuer", ISSUER,
           "--account-uri", ACCT, "--now", str(NOW),
           "--resolver", resolver or env.resolver, *args]
    if trust_anchor:
        cmd += ["--trust-anchor", env.trust_anchor]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    assert p.stdout, f"no output; stderr: {p.stderr.decode(errors='replace')}"
    results = json.loads(p.stdout)
    return p.returncode, {r["name"]: r for r in results}, results


def fqdn(n):
    return f"{n}.check.test"


@pytest.fixture(scope="module")
def main_results(persistctl_bin, env):
    """The plain cases in one run: they are independent names."""
    names = ["www", "multi", "alias", "away", "*.wild", "*.nowild", "expired", "soon", "sooner",
             "mixed", "foreign", "wrongacct", "malformed", "binary", "nodata", "nxdomain",
             "caa-allow", "sub.caa-allow", "caa-forbid", "caa-acct-ok", "caa-acct-bad",
             "caa-vm-ok", "caa-vm-bad", "caa-wild", "*.caa-wild", "caa-crit"]
    code, by_name, results = run(persistctl_bin, env, *[fqdn(n) for n in names])
    assert [r["name"] for r in results] == [fqdn(n) for n in names], "input order kept"
    return code, by_name


def test_valid(main_results):
    code, r = main_results
    w = r[fqdn("www")]
    assert w["status"] == "VALID"
    assert w["level"] == "ok"
    assert w["dns_error"] is None
    assert w["owner"] == "_validation-persist.www.check.test"
    assert w["record"] == f"{ISSUER}; accounturi={ACCT}; persistUntil={NOW + 400 * DAY}"
    assert w["persist_until"] == NOW + 400 * DAY
    assert w["persist_until_date"].startswith("20")
    assert w["days_left"] == 400
    assert w["expiry"] == "ok"
    assert w["dnssec"] == "insecure"
    assert w["caa"]["verdict"] == "NO_RECORDS" and w["caa"]["permits"] is True
    assert w["policy_wildcard"] is False and w["wildcard_needed"] is False


def test_multi_string_joined_without_separator(main_results):
    _, r = main_results
    m = r[fqdn("multi")]
    assert m["status"] == "VALID"
    assert m["record"] == f"{ISSUER}; accounturi={ACCT}"


def test_cname_followed(main_results):
    _, r = main_results
    a = r[fqdn("alias")]
    assert a["status"] == "VALID"
    assert a["cnames"] == ["_validation-persist.www.check.test"]
    away = r[fqdn("away")]
    assert away["status"] == "VALID"
    assert away["cnames"] == ["_validation-persist.www.other.test"]


def test_wildcard_policy(main_results):
    _, r = main_results
    w = r[fqdn("*.wild")]
    assert w["status"] == "VALID"
    assert w["owner"] == "_validation-persist.wild.check.test"
    assert w["wildcard"] is True and w["wildcard_needed"] is True
    assert w["policy_wildcard"] is True
    n = r[fqdn("*.nowild")]
    assert n["status"] == "NO_WILDCARD_POLICY"
    assert n["policy_wildcard"] is False
    assert n["level"] == "critical"


def test_wildcard_flag(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, fqdn("nowild"), fqdn("wild"), "--wildcard")
    assert r[fqdn("nowild")]["status"] == "NO_WILDCARD_POLICY"
    assert r[fqdn("wild")]["status"] == "VALID"
    assert code == 2


def test_persist_until_levels(main_results):
    _, r = main_results
    assert r[fqdn("expired")]["status"] == "EXPIRED"
    assert r[fqdn("expired")]["expiry"] == "expired"
    assert r[fqdn("expired")]["level"] == "critical"
    soon = r[fqdn("soon")]
    assert soon["status"] == "VALID" and soon["expiry"] == "warning" and soon["level"] == "warning"
    assert soon["days_left"] == 20
    sooner = r[fqdn("sooner")]
    assert sooner["status"] == "VALID" and sooner["expiry"] == "critical"
    assert sooner["level"] == "critical"


def test_thresholds_are_flags(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, fqdn("soon"), "--warn", "10d", "--critical", "2d")
    assert r[fqdn("soon")]["level"] == "ok" and code == 0
    code, r, _ = run(persistctl_bin, env, fqdn("soon"), "--warn", "60d", "--critical", "25d")
    assert r[fqdn("soon")]["level"] == "critical" and code == 2


def test_foreign_and_own_records(main_results):
    _, r = main_results
    m = r[fqdn("mixed")]
    assert m["status"] == "VALID"
    assert len(m["records"]) == 2
    assert m["record"] == f"{ISSUER}; accounturi={ACCT}"
    assert r[fqdn("foreign")]["status"] == "WRONG_ISSUER"
    assert r[fqdn("wrongacct")]["status"] == "WRONG_ACCOUNT"


def test_malformed(main_results):
    _, r = main_results
    m = r[fqdn("malformed")]
    assert m["status"] == "MALFORMED"
    assert m["level"] == "critical"


def test_raw_bytes_reach_the_checker(main_results):
    _, r = main_results
    b = r[fqdn("binary")]
    assert b["status"] == "VALID"
    # \255 \000 and a TAB, as bytes, not as presentation escapes
    assert "other.example; x=\u00ff\x00\t" in b["records"]


def test_nodata_and_nxdomain(main_results):
    _, r = main_results
    for n, kind in (("nodata", "NODATA"), ("nxdomain", "NXDOMAIN")):
        x = r[fqdn(n)]
        assert x["status"] == "NO_RECORD", x
        assert x["dns_error"] is None
        assert kind in x["reason"]
        assert x["records"] == []


def test_caa(main_results):
    _, r = main_results
    expect = {
        "caa-allow": ("PERMITTED", "caa-allow.check.test", "ok"),
        "sub.caa-allow": ("PERMITTED", "caa-allow.check.test", "ok"),  # tree climbing
        "caa-forbid": ("WRONG_ISSUER", "caa-forbid.check.test", "critical"),
        "caa-acct-ok": ("PERMITTED", "caa-acct-ok.check.test", "ok"),
        "caa-acct-bad": ("WRONG_ACCOUNT", "caa-acct-bad.check.test", "critical"),
        "caa-vm-ok": ("PERMITTED", "caa-vm-ok.check.test", "ok"),
        "caa-vm-bad": ("WRONG_METHOD", "caa-vm-bad.check.test", "critical"),
        "caa-wild": ("PERMITTED", "caa-wild.check.test", "ok"),
        "*.caa-wild": ("WRONG_ISSUER", "caa-wild.check.test", "critical"),  # issuewild ";"
        "caa-crit": ("CRITICAL", "caa-crit.check.test", "critical"),
    }
    for n, (verdict, owner, level) in expect.items():
        x = r[fqdn(n)]
        assert x["status"] == "VALID", x
        assert x["caa"]["verdict"] == verdict, (n, x["caa"])
        assert x["caa"]["owner"] == owner, (n, x["caa"])
        assert x["caa"]["permits"] is (level == "ok"), (n, x["caa"])
        assert x["level"] == level, (n, x)
    assert r[fqdn("*.caa-wild")]["caa"]["issuewild"] is True
    assert '0 issue "other.example"' in r[fqdn("caa-forbid")]["caa"]["records"]


def test_exit_code_of_mixed_run_is_critical(main_results):
    code, _ = main_results
    assert code == 2


def test_all_valid_exits_zero(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, fqdn("www"), fqdn("caa-allow"), "www.signed.test")
    assert code == 0, r
    assert all(x["level"] == "ok" for x in r.values())


def test_warning_exits_one(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, fqdn("www"), fqdn("soon"))
    assert code == 1


def test_dnssec_secure(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, "www.signed.test", "nx.signed.test")
    assert r["www.signed.test"]["status"] == "VALID"
    assert r["www.signed.test"]["dnssec"] == "secure"
    # authenticated denial: a signed NXDOMAIN is a secure NO_RECORD
    assert r["nx.signed.test"]["status"] == "NO_RECORD"
    assert r["nx.signed.test"]["dnssec"] == "secure"


def test_dnssec_bogus_is_never_valid(persistctl_bin, env):
    # the control zone, signed and served the same way, signature intact
    code, r, _ = run(persistctl_bin, env, "www.presigned.test")
    assert r["www.presigned.test"]["status"] == "VALID"
    assert r["www.presigned.test"]["dnssec"] == "secure"
    assert code == 0
    code, r, _ = run(persistctl_bin, env, "www.bogus.test")
    b = r["www.bogus.test"]
    assert b["status"] == "DNS_ERROR"
    assert b["dns_error"] == "BOGUS"
    assert b["dnssec"] == "bogus"
    # the data itself would be VALID: only the signature is broken
    assert b["unvalidated_status"] == "VALID"
    assert b["level"] == "critical"
    assert code == 2


def test_servfail_is_dns_error(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, "www.broken.test")
    x = r["www.broken.test"]
    assert x["status"] == "DNS_ERROR"
    assert x["dns_error"] == "SERVFAIL"
    assert x["level"] == "unknown"
    assert code == 3


def test_refused_is_dns_error(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, "www.example")
    assert r["www.example"]["status"] == "DNS_ERROR"
    assert r["www.example"]["dns_error"] == "REFUSED"
    assert code == 3


def test_timeout_is_dns_error_not_no_record(persistctl_bin, env):
    t0 = time.monotonic()
    code, r, _ = run(persistctl_bin, env, fqdn("www"), fqdn("nxdomain"), "--timeout", "300ms",
                     resolver=env.silent)
    assert time.monotonic() - t0 < 10
    for x in r.values():
        assert x["status"] == "DNS_ERROR"
        assert x["dns_error"] == "TIMEOUT"
        assert x["caa"]["verdict"] == "DNS_ERROR"
    assert code == 3


def test_authoritative_agree(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, fqdn("www"), "--authoritative", "--auth-port",
                     str(env.port))
    a = r[fqdn("www")]["authoritative"]
    assert a["zone"] == "check.test"
    assert a["consistent"] is True
    assert [(s["ns"], s["address"], s["status"]) for s in a["servers"]] == [
        ("ns.check.test", "127.0.0.1", "VALID")]
    assert code == 0


def test_authoritative_disagree(persistctl_bin, env):
    code, r, _ = run(persistctl_bin, env, "www.split.test", "--authoritative", "--auth-port",
                     str(env.split_port), "--no-caa", resolver=env.split_resolver)
    x = r["www.split.test"]
    assert x["status"] == "VALID"  # what the resolver (ns1) says
    a = x["authoritative"]
    assert a["zone"] == "split.test"
    assert a["consistent"] is False
    servers = {s["ns"]: s for s in a["servers"]}
    assert servers["ns1.split.test"]["address"] == "127.0.0.2"
    assert servers["ns1.split.test"]["status"] == "VALID"
    assert servers["ns2.split.test"]["address"] == "127.0.0.3"
    assert servers["ns2.split.test"]["status"] == "NO_RECORD"
    assert x["level"] == "critical"
    assert code == 2


@pytest.mark.parametrize("threads", ["1", "3"])
def test_file_many_names_in_order(persistctl_bin, env, tmp_path, threads):
    names = [fqdn(f"bulk{i}") for i in range(300)] + [fqdn("nxdomain")]
    f = tmp_path / "names"
    f.write_text("# bulk check\n" + "\n".join(f"  {n}  " for n in names) + "\n\n")
    code, r, results = run(persistctl_bin, env, "--file", str(f), "--max-inflight", "64",
                           "--threads", threads)
    assert [x["name"] for x in results] == names
    assert all(r[n]["status"] == "VALID" for n in names[:-1])
    assert r[names[-1]]["status"] == "NO_RECORD"
    assert code == 2


def test_human_output(persistctl_bin, env):
    p = subprocess.run([persistctl_bin, "check", "--direct", fqdn("soon"), "--issuer", ISSUER,
                        "--account-uri", ACCT, "--now", str(NOW), "--resolver", env.resolver,
                        "--trust-anchor", env.trust_anchor], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1
    out = p.stdout
    assert "soon.check.test  VALID" in out
    assert "20 days left (warning)" in out
    assert "policy=wildcard absent" in out
    assert "dnssec        insecure" in out
    assert "NO_RECORDS" in out
    assert "\033[" not in out  # no colour when not a TTY


def test_usage_errors_exit_unknown(persistctl_bin, env):
    p = subprocess.run([persistctl_bin, "check", "--direct", "www.check.test"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 3
    assert "--issuer" in p.stderr
    p = subprocess.run([persistctl_bin, "check", "--direct", "bad name!", "--issuer", ISSUER,
                        "--account-uri", ACCT], capture_output=True, text=True, timeout=10)
    assert p.returncode == 3
    p = subprocess.run([persistctl_bin, "check", "--direct", fqdn("www"), "--issuer", ISSUER,
                        "--account-uri", ACCT, "--trust-anchor", "/nonexistent"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 3
    assert "trust anchor" in p.stderr
