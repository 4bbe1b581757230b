"""`persistctl renew NAME --dry-run` against the daemon, our test CA and a real
knotd (dns-persist-01), and Debian's pebble with a hook (dns-01): every step up
to a ready order is run and printed, then it stops: no finalize at the CA, no
new archive version, `current` untouched, no renewal recorded. It fails, naming
the step, when the record is missing, and then places no order at all when the
CA's issuer names are known."""
import json
import re
import time

import pytest

ZONE = "example.test"
STEPS = ["directory", "account", "record", "order", "challenge", "validation"]


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1")
    knot.start()
    return knot, zone


def publish_all(zone, out):
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', out)
    assert recs, out
    zone.set("\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in recs))
    return recs


def archive_versions(env, name):
    d = env.state / "certs" / name / "archive"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def current_target(env, name):
    return (env.state / "certs" / name / "current").resolve()


def new_orders(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and r["path"] == "/acme/new-order"]


def finalizes(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and "finalize" in r["path"]]


def issued(env, zone, name):
    """The first certificate through --oneshot: publish what it asks for, then issue."""
    p = env.oneshot("--cert", name, check=1)
    publish_all(zone, p.stdout)
    p = env.oneshot("--cert", name, check=0)
    assert f"{name}: renewed" in p.stdout, p.stdout


def cert_status(env, name):
    return env.rpc("certs.get", {"name": name})


def test_dry_run_with_record_stops_before_finalize(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver,
                       certs={"www": {"ca": "test", "names": ["www.example.test"]}},
                       daemon_extra={"trust_anchor": "none"})
    issued(env, zone, "www")
    versions, target = archive_versions(env, "www"), current_target(env, "www")
    certs_before = len(ca.certs())
    # Room for exactly two more orders: the dry runs below count as orders.
    made = len([r for r in new_orders(ca) if r["status"] == 201])
    env.daemon["max_orders_per_hour"] = str(made + 2)
    env.write()
    env.start()
    before = cert_status(env, "www")
    orders_before = len(new_orders(ca))
    fin_before = len(finalizes(ca))

    p = env.ctl("renew", "www", "--dry-run", timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr, env.read_log()[-4000:])
    printed = [line.split()[0] for line in p.stdout.splitlines() if line and line[0] != " "]
    for step in STEPS:
        assert step in printed, (step, p.stdout)
    for line in p.stdout.splitlines():
        if line.split() and line.split()[0] in STEPS:
            assert line.split()[1] == "ok", p.stdout
    assert "issuer names: ca.test" in p.stdout
    assert "dry run succeeded" in p.stdout

    # One order placed, never finalized: it stays ready at the CA.
    assert len(new_orders(ca)) == orders_before + 1
    assert len(finalizes(ca)) == fin_before
    assert len(ca.certs()) == certs_before
    m = re.search(r"new order (\S+)", p.stdout)
    assert m, p.stdout
    order = [o for o in ca.orders() if o["url"] == m.group(1)]
    assert order and order[0]["status"] == "ready", ca.orders()
    # Nothing installed, nothing recorded as a renewal; the breaker counted the order.
    assert archive_versions(env, "www") == versions
    assert current_target(env, "www") == target
    after = cert_status(env, "www")
    for k in ("last_renewal", "not_after", "version", "failures"):
        assert after.get(k) == before.get(k), (k, before, after)
    assert not list((env.state / "certs" / "www").glob("*pending*"))
    assert not env.rpc("certs.get", {"name": "www"}).get("order_url")

    # --json: the result object, same verdict.
    p = env.ctl("--json", "renew", "www", "--dry-run", timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    res = json.loads(p.stdout)
    assert res["ok"] is True and res["dry_run"] is True and res["cert"] == "www"
    assert [s["step"] for s in res["steps"]][:3] == ["directory", "account", "record"]
    # Both orders counted towards max_orders_per_hour: a third is held.
    p = env.ctl("renew", "www", "--dry-run", timeout=120)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "the order step failed" in p.stderr and "max_orders_per_hour" in p.stdout, p.stdout


def test_dry_run_without_record_fails_at_the_record_step(dns, testca_factory, persistd_env):
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver,
                       certs={"www": {"ca": "test", "names": ["www.example.test"]}},
                       daemon_extra={"trust_anchor": "none"})
    issued(env, zone, "www")
    zone.set("")  # the record is gone: a renewal would fail
    env.start()
    orders_before = len(new_orders(ca))
    p = env.ctl("renew", "www", "--dry-run", timeout=120)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "the record step failed" in p.stderr, p.stderr
    assert re.search(r"^record\s+FAILED .*_validation-persist\.www\.example\.test", p.stdout,
                     re.M), p.stdout
    assert '_validation-persist.www.example.test. 3600 IN TXT "ca.test;' in p.stdout
    # The issuer names were known: the record was checked before any order.
    assert len(new_orders(ca)) == orders_before
    p = env.ctl("--json", "renew", "www", "--dry-run", timeout=120)
    assert p.returncode == 1
    res = json.loads(p.stdout)
    assert res["ok"] is False and res["steps"][-1]["step"] == "record"
    assert res["records_to_publish"].startswith("_validation-persist.www.example.test.")
    # A request without a name is a JSON-RPC error, not a crash.
    with pytest.raises(AssertionError, match="-32602"):
        env.rpc("renew.dry_run", {})
    # Usage errors as elsewhere; an unknown cert is the daemon's error.
    assert env.ctl("renew", "--dry-run").returncode == 2
    p = env.ctl("renew", "nope", "--dry-run")
    assert p.returncode == 1 and "no cert named 'nope'" in p.stderr


def test_dry_run_all_certs(dns, testca_factory, persistd_env):
    """`renew --all --dry-run`: each cert's dry run, under its name; exit 0 only when all
    pass; nothing finalized or installed."""
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver,
                       certs={"www": {"ca": "test", "names": ["www.example.test"]},
                              "api": {"ca": "test", "names": ["api.example.test"]}},
                       daemon_extra={"trust_anchor": "none"})
    p = env.oneshot(check=1)
    recs = publish_all(zone, p.stdout)
    assert len(recs) == 2, recs
    env.oneshot(check=0)
    versions = {n: archive_versions(env, n) for n in ("www", "api")}
    env.start()
    finalized = len(finalizes(ca))
    p = env.ctl("renew", "--all", "--dry-run", timeout=180)
    assert p.returncode == 0, (p.stdout, p.stderr)
    for n in ("www", "api"):
        assert f"{n}:\n" in p.stdout and f"{n}: dry run succeeded" in p.stdout, p.stdout
    # api's record goes: its dry run fails at the record step, www's still passes.
    zone.set("\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in recs
                       if o.startswith("_validation-persist.www.")))
    p = env.ctl("--json", "renew", "--all", "--dry-run", timeout=180)
    assert p.returncode == 1, (p.stdout, p.stderr)
    res = json.loads(p.stdout)
    assert res["ok"] is False
    by_cert = {r["cert"]: r for r in res["results"]}
    assert by_cert["www"]["ok"] is True and by_cert["api"]["ok"] is False, by_cert
    assert by_cert["api"]["steps"][-1]["step"] == "record"
    p = env.ctl("renew", "--all", "--dry-run", timeout=180)
    assert p.returncode == 1 and "renew api --dry-run: the record step failed" in p.stderr
    assert len(finalizes(ca)) == finalized
    assert {n: archive_versions(env, n) for n in ("www", "api")} == versions


def test_dry_run_dns01_runs_the_hook(pebble_factory, persistd_env, tmp_path):
    pebble = pebble_factory(env={"PEBBLE_AUTHZREUSE": "0"})
    hook = tmp_path / "hook"
    log = tmp_path / "hook.log"
    hook.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$1" in
set) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/set-txt", data=json.dumps({{"host": sys.argv[1]+".", "value": sys.argv[2]}}).encode()))' "$2" "$3" ;;
clean) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/clear-txt", data=json.dumps({{"host": sys.argv[1]+"."}}).encode()))' "$2" ;;
esac
""")
    hook.chmod(0o755)
    env = persistd_env(ca=pebble, resolver=pebble.dns, certs={
        "legacy": {"ca": "test", "names": ["legacy.example.test"], "challenge": "dns-01",
                   "dns01_hook": str(hook), "dns01_propagation_timeout": "30s"}})
    env.oneshot(check=0)
    versions, target = archive_versions(env, "legacy"), current_target(env, "legacy")
    env.start()
    # pebble reuses a valid authorization now and then even at PEBBLE_AUTHZREUSE=0 (its
    # rand.Intn(100) > percent test: 1 in 100), and then there is nothing to answer. Each
    # run must say which it was, and the hook must run exactly when a challenge was.
    hooked = False
    for _ in range(4):
        calls_before = len(log.read_text().splitlines())
        p = env.ctl("renew", "legacy", "--dry-run", timeout=120)
        assert p.returncode == 0, (p.stdout, p.stderr, env.read_log()[-4000:])
        assert "dry run succeeded" in p.stdout
        calls = log.read_text().splitlines()[calls_before:]
        if "dns-01 offered" in p.stdout:
            assert any(c.startswith("set _acme-challenge.legacy.example.test ")
                       for c in calls), calls
            # The clean hook is started once the CA has validated, and not waited
            # for (as in a renewal): it may write its line just after the answer.
            deadline = time.monotonic() + 10
            while not any(c.startswith("clean _acme-challenge.legacy.example.test ")
                          for c in calls) and time.monotonic() < deadline:
                time.sleep(0.05)
                calls = log.read_text().splitlines()[calls_before:]
            assert any(c.startswith("clean _acme-challenge.legacy.example.test ")
                       for c in calls), calls
            hooked = True
            break
        assert "every one was valid already" in p.stdout, p.stdout
        assert calls == [], calls
    assert hooked
    assert archive_versions(env, "legacy") == versions
    assert current_target(env, "legacy") == target


def test_dry_run_cancelled_by_a_reload_still_answers(dns, testca_factory, persistd_env):
    """A reload that changes the cert while its dry run waits for the CA ends the run
    with a `cancelled` step (the run held the old section); the daemon goes on."""
    import subprocess
    knot, zone = dns
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver,
                       certs={"www": {"ca": "test", "names": ["www.example.test"]}},
                       daemon_extra={"trust_anchor": "none"})
    issued(env, zone, "www")
    env.start()
    ca.faults("slow", count=1, path="/acme/new-order", delay_ms=4000)
    run = subprocess.Popen([env.persistctl, "-s", str(env.socket), "renew", "www", "--dry-run"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env.env())
    # The slow fault is taken when newOrder arrives: the run is then waiting for it.
    env.wait_for(lambda: ca.admin_get("faults") == [], what="the dry run's newOrder")
    env.certs["www"]["persist_until"] = "2031-01-01"
    env.write()
    env.ctl("reload", check=0)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 1, (out, err)
    assert re.search(r"^cancelled\s+FAILED ", out, re.M), out
    assert env.rpc("status")["cert_list"][0]["name"] == "www"
