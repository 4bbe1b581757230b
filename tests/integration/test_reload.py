"""Reload (persistctl reload and SIGHUP) with several CAs, against the ASan
build: CAs added, removed and renamed, certs moved between CAs, reloads
while orders are in flight. The daemon must stay up, answer status, answer
every control request that waited on what a reload removed, and leak
nothing (the ASan build aborts on leaks at exit, so each test stops the
daemon with SIGTERM and checks its exit status and log). Also: a failed
reload shows in status as a WARNING until a reload succeeds, and resolver
settings are applied or named as needing a restart. And two neighbours of
reload from the same issue: one writer per state_dir (the lock), and
persistd -t reporting what would fail at run time."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from fixtures.daemon import ca_section_for

ZONE = "example.test"
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "SUMMARY: UndefinedBehavior")


@pytest.fixture
def cas(knot, testca_factory):
    # Signed, with its own trust anchor (as test_daemon.py): without DNSSEC,
    # getdns calls the denials bogus. The unsigned parent answers the DS query.
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    one = testca_factory(dns=knot.resolver)
    two = testca_factory(dns=knot.resolver, issuers=("ca2.test",))

    class W:
        pass
    w = W()
    w.knot, w.zone, w.one, w.two = knot, zone, one, two
    return w


def publish(w, env, name):
    """Publish the records the daemon asks for (persistctl record NAME)."""
    recs, _ = env.ctl_json("record", name, check=0)
    lines = {f'{r["owner"][: -len(ZONE) - 1]} TXT "{r["value"]}"' for r in recs}
    w.zone.set("www A 192.0.2.1\n" + "\n".join(sorted(lines)))


def make_env(persistd_env, w, ca_map, certs):
    sections = {name: ca_section_for(ca) for name, ca in ca_map.items()}
    return persistd_env(cas=sections, certs=certs, resolver=w.knot.resolver,
                        daemon_extra={"trust_anchor": w.zone.trust_anchor_file()})


def cert(ca, *names):
    return {"ca": ca, "names": list(names) or None}


def reload_ok(env):
    p = env.ctl("reload", check=0)
    assert "configuration reloaded" in p.stdout, p.stdout
    return p


def status(env):
    return env.rpc("status")


def cert_cas(env):
    return {c["name"]: c["ca"] for c in status(env)["cert_list"]}


def account_cas(env):
    return sorted(a["ca"] for a in env.rpc("account.show"))


def stop_clean(env):
    rc = env.stop()
    log = env.read_log()
    for m in SAN_MARKERS:
        assert m not in log, log[-8000:]
    assert rc == 0, (rc, log[-8000:])


def test_reload_two_and_three_cas_and_sighup(cas, persistd_env):
    """The reported crash: any reload with two or more [ca] sections. Here
    with two, then three, by persistctl reload and by SIGHUP."""
    env = make_env(persistd_env, cas, {"a": cas.one, "b": cas.two},
                   {"www": cert("a", "www.example.test"), "api": cert("b", "api.example.test")})
    env.start()
    for _ in range(2):
        reload_ok(env)
        assert cert_cas(env) == {"www": "a", "api": "b"}
    env.cas["c"] = ca_section_for(cas.one)
    env.certs["mail"] = cert("c", "mail.example.test")
    env.write()
    reload_ok(env)
    assert cert_cas(env) == {"www": "a", "api": "b", "mail": "c"}
    assert account_cas(env) == ["a", "b", "c"]
    for _ in range(3):
        mark = len(env.read_log())
        env.proc.send_signal(signal.SIGHUP)
        env.wait_for(lambda: "configuration reloaded" in env.read_log()[mark:],
                     what="the SIGHUP reload")
        assert status(env)["certs"] == 3
    assert env.proc.poll() is None
    stop_clean(env)


def test_reload_ca_added_removed_renamed_cert_moved(cas, persistd_env):
    env = make_env(persistd_env, cas, {"a": cas.one, "b": cas.two},
                   {"www": cert("a", "www.example.test"), "api": cert("b", "api.example.test")})
    env.start()
    # A CA and a cert on it added.
    env.cas["c"] = ca_section_for(cas.two)
    env.certs["mail"] = cert("c", "mail.example.test")
    env.write()
    p = reload_ok(env)
    assert "1 new" in p.stdout
    assert account_cas(env) == ["a", "b", "c"]
    # CA b renamed to bee: its cert follows.
    env.cas["bee"] = env.cas.pop("b")
    env.certs["api"]["ca"] = "bee"
    env.write()
    reload_ok(env)
    assert cert_cas(env) == {"www": "a", "api": "bee", "mail": "c"}
    assert account_cas(env) == ["a", "bee", "c"]
    # A cert moved from a to bee, then a removed.
    env.certs["www"]["ca"] = "bee"
    env.write()
    reload_ok(env)
    assert cert_cas(env)["www"] == "bee"
    del env.cas["a"]
    env.write()
    reload_ok(env)
    assert account_cas(env) == ["bee", "c"]
    # A CA removed with its cert.
    del env.cas["c"]
    del env.certs["mail"]
    env.write()
    p = reload_ok(env)
    assert "1 removed" in p.stdout
    assert cert_cas(env) == {"www": "bee", "api": "bee"}
    # Moves back and forth in one go.
    env.cas["a"] = ca_section_for(cas.one)
    env.certs["www"]["ca"] = "a"
    env.certs["api"]["ca"] = "a"
    env.write()
    reload_ok(env)
    assert cert_cas(env) == {"www": "a", "api": "a"}
    st = status(env)
    assert st["certs"] == 2 and st["reload_error"] is None
    stop_clean(env)


def test_reload_while_renewals_in_flight(cas, persistd_env):
    """Orders held in flight by slow CA answers on both CAs; a reload then
    removes a CA (its cert moves), renames the other, and removes a cert
    whose renewal a client is waiting on. The waiting client gets an
    answer, the daemon lives through the CAs' late answers and exits clean."""
    for ca in (cas.one, cas.two):
        ca.faults("slow", count=4, delay_ms=2500, path="/acme/new-order")
    env = make_env(persistd_env, cas, {"a": cas.one, "b": cas.two},
                   {"www": cert("a", "www.example.test"), "api": cert("b", "api.example.test"),
                    "mail": cert("b", "mail.example.test")})
    env.start()
    env.wait_for(lambda: len(re.findall(r"POST \S+/acme/new-order", env.read_log())) >= 3,
                 timeout=60, what="new-order requests on both CAs")
    assert status(env)["jobs_running"] >= 1
    # A client joins the renewal of mail in flight.
    waiter = subprocess.Popen([env.persistctl, "-s", str(env.socket), "renew", "mail"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env.env())
    time.sleep(0.3)  # let the request reach the daemon; no timing is asserted
    del env.cas["a"]
    env.cas["bee"] = env.cas.pop("b")
    env.certs["www"]["ca"] = "bee"
    env.certs["api"]["ca"] = "bee"
    del env.certs["mail"]
    env.write()
    p = env.ctl("reload", check=0)
    assert "1 removed" in p.stdout, p.stdout
    out, err = waiter.communicate(timeout=30)
    assert waiter.returncode != 0, (out, err)
    assert "removed" in err or "parked" in err or "renewed" in out, (out, err)
    assert cert_cas(env) == {"www": "bee", "api": "bee"}
    # Reload again at once (the orders are still in flight).
    env.cas["a"] = ca_section_for(cas.one)
    env.certs["www"]["ca"] = "a"
    env.write()
    reload_ok(env)
    # The CA answers the orders started after the reload; the daemon stays up.
    mark = len(env.read_log())
    env.wait_for(lambda: "/acme/new-order: HTTP" in env.read_log()[mark:]
                 or env.proc.poll() is not None, timeout=60, what="the CA's late answers")
    time.sleep(0.5)
    assert env.proc.poll() is None, env.read_log()[-6000:]
    assert status(env)["certs"] == 2
    stop_clean(env)


def test_reload_answers_requests_waiting_on_a_removed_ca(cas, persistd_env):
    """A ca.probe waiting for the directory of a CA that a reload removes gets
    an error answer at once, not silence."""
    env = make_env(persistd_env, cas, {"a": cas.one}, {"www": cert("a", "www.example.test")})
    env.start()
    env.cas["b"] = ca_section_for(cas.two)
    env.write()
    reload_ok(env)
    cas.two.faults("slow", count=1, delay_ms=8000, path="/directory")
    result = {}

    def probe():
        try:
            result["ok"] = env.rpc("ca.probe", {"ca": "b"}, timeout=30)
        except AssertionError as e:
            result["error"] = str(e)
    t = threading.Thread(target=probe)
    t.start()
    env.wait_for(lambda: f"GET {cas.two.directory}" in env.read_log(),
                 what="the probe's directory request")
    del env.cas["b"]
    env.write()
    reload_ok(env)
    t.join(timeout=5)  # answered by the reload, well before the CA's 8 s
    assert not t.is_alive(), "ca.probe got no answer"
    assert "removed from the configuration" in result.get("error", ""), result
    assert status(env)["certs"] == 1
    stop_clean(env)


def test_failed_reload_is_a_warning_until_one_succeeds(cas, persistd_env):
    env = make_env(persistd_env, cas, {"a": cas.one}, {"www": cert("a", "www.example.test")})
    env.start()
    # All OK first: records published, a certificate issued.
    publish(cas, env, "www")
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    env.ctl("check", "--all", check=0)
    st, rc = env.ctl_json("status")
    assert st["reload_error"] is None and rc == 0, st
    conf = env.etc / "certs.d" / "www.conf"
    good = conf.read_text()
    conf.write_text(good + "bogus_key = 1\n")
    before = int(time.time()) - 1
    p = env.ctl("reload", check=1)
    assert "unknown key 'bogus_key'" in p.stderr
    st, rc = env.ctl_json("status")
    assert rc == 1, st
    assert st["level"] == "WARNING"
    err = st["reload_error"]
    bad_line = len(good.splitlines()) + 1
    assert err["file"].endswith("certs.d/www.conf") and err["line"] == bad_line, err
    assert "bogus_key" in err["message"] and err["at"] >= before, err
    p = env.ctl("status")
    assert p.returncode == 1
    assert "reload failed" in p.stdout and f"www.conf:{bad_line}" in p.stdout and "bogus_key" in p.stdout
    # SIGHUP with the same file: still failed, still WARNING.
    mark = len(env.read_log())
    env.proc.send_signal(signal.SIGHUP)
    env.wait_for(lambda: "keeping the old configuration" in env.read_log()[mark:],
                 what="the failed SIGHUP reload")
    assert env.ctl("status").returncode == 1
    # A good reload clears it.
    conf.write_text(good)
    reload_ok(env)
    st, rc = env.ctl_json("status")
    assert st["reload_error"] is None and rc == 0, st
    assert "reload failed" not in env.ctl("status").stdout
    stop_clean(env)


def test_reload_applies_resolver_and_names_restart_settings(cas, persistd_env, tmp_path):
    env = make_env(persistd_env, cas, {"a": cas.one}, {"www": cert("a", "www.example.test")})
    env.start()
    # A resolver that does not answer: checks fail after the reload...
    env.daemon["resolver"] = "127.0.0.1@9"
    env.daemon["dns_timeout"] = "300ms"
    env.write()
    p = reload_ok(env)
    assert "new resolver settings applied" in p.stdout
    env.ctl("check", "www")
    names = status(env)["cert_list"][0]["names"]
    assert names[0]["status"] == "DNS_ERROR", names
    # ...and back to knot: checks reach DNS again (NO_RECORD, not DNS_ERROR).
    env.daemon["resolver"] = cas.knot.resolver
    env.daemon["dns_timeout"] = "2s"
    env.write()
    reload_ok(env)
    env.ctl("check", "www")
    names = status(env)["cert_list"][0]["names"]
    assert names[0]["status"] == "NO_RECORD", names
    publish(cas, env, "www")
    env.ctl("check", "www")
    assert status(env)["cert_list"][0]["names"][0]["status"] == "VALID"
    # A trust anchor that does not exist: the reload fails, nothing changes.
    env.daemon["trust_anchor"] = str(tmp_path / "missing.key")
    env.write()
    p = env.ctl("reload", check=1)
    assert "trust_anchor" in p.stderr or "missing.key" in p.stderr, p.stderr
    del env.daemon["trust_anchor"]
    # Settings that need a restart are named in the answer and the log.
    env.daemon["admin_group"] = "some-other-group"
    env.write()
    p = reload_ok(env)
    assert "needs a restart to apply: admin_group" in p.stdout, p.stdout
    assert "admin_group changed" in env.read_log()
    stop_clean(env)


# ---- one writer per state_dir ----

def test_state_dir_lock_refuses_second_writer(cas, persistd_env):
    """--oneshot, --revoke or a second daemon on the state_dir of a running
    daemon exit non-zero at once, naming the daemon's pid and control socket;
    --probe and -t (which write nothing) still run; once the daemon is gone,
    --oneshot runs."""
    env = make_env(persistd_env, cas, {"a": cas.one}, {"www": cert("a", "www.example.test")})
    env.start()
    pid = env.proc.pid
    who = f"is in use by persistd pid {pid} (control socket {env.socket})"
    for args in (("--oneshot",), ("--oneshot", "--force"), ("--revoke", "www")):
        t0 = time.monotonic()
        p = env.persistd_run(*args, timeout=30)
        assert p.returncode != 0, (args, p.stdout, p.stderr)
        assert f"state_dir {env.state} {who}" in p.stderr, (args, p.stderr)
        assert time.monotonic() - t0 < 20  # at once, not after a renewal attempt
    # A second daemon: refused before it touches the control socket.
    second = subprocess.run([env.persistd, "-c", str(env.conf)], capture_output=True, text=True,
                            timeout=30, env=env.env())
    assert second.returncode != 0 and who in second.stderr, second.stderr
    assert env.rpc("status")["pid"] == pid
    # Read-only modes are not refused.
    env.persistd_run("-t", check=0)
    p = env.persistd_run("--probe", "a", timeout=60)
    assert "in use" not in p.stderr, p.stderr
    assert p.returncode in (0, 1), p.stderr
    lock = (env.state / "lock").read_text()
    assert f"pid {pid}\n" in lock and f"control_socket {env.socket}\n" in lock
    stop_clean(env)
    # The daemon is gone: the lock is free again.
    p = env.oneshot(timeout=120)
    assert "in use" not in p.stderr, p.stderr
    assert re.search(r"persistd: \d+ renewed, \d+ failed", p.stdout), p.stdout


def test_state_dir_lock_oneshot_holder(cas, persistd_env):
    """A daemon started while --oneshot runs is refused and names it."""
    cas.one.faults("slow", count=2, delay_ms=3000, path="/acme/new-order")
    env = make_env(persistd_env, cas, {"a": cas.one}, {"www": cert("a", "www.example.test")})
    oneshot = subprocess.Popen([env.persistd, "-c", str(env.conf), "--oneshot"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env.env())
    try:
        env.wait_for(lambda: (env.state / "lock").exists()
                     and f"pid {oneshot.pid}" in (env.state / "lock").read_text(),
                     what="the --oneshot run to take the lock")
        p = subprocess.run([env.persistd, "-c", str(env.conf)], capture_output=True, text=True,
                           timeout=30, env=env.env())
        assert p.returncode != 0
        assert f"is in use by persistd --oneshot pid {oneshot.pid}" in p.stderr, p.stderr
    finally:
        oneshot.communicate(timeout=120)


# ---- persistd -t: what would fail at run time ----

def test_check_config_runtime_errors(tmp_path):
    """persistd -t reports, with file:line, a missing ca_bundle and
    eab_hmac_file, a deploy_hook that is not executable, a persist_until in
    the past, and a file the invoking user cannot read; the same config with
    those fixed is valid."""
    from fixtures.daemon import BUILD
    persistd = str(BUILD / "persistd")
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o644)
    (tmp_path / "certs.d").mkdir()
    conf = tmp_path / "persistd.conf"
    conf.write_text(f"[daemon]\nstate_dir = {tmp_path}/state\ntrust_anchor = none\n\n"
                    f"[ca a]\ndirectory = https://127.0.0.1:1/dir\n"
                    f"ca_bundle = {tmp_path}/missing.pem\n"
                    f"eab_kid = kid\neab_hmac_file = {tmp_path}/eab.key\n")
    (tmp_path / "certs.d" / "w.conf").write_text(
        f"[cert w]\nca = a\nnames = w.example.test\ndeploy_hook = {hook}\n"
        f"persist_until = 2020-01-01\n")

    def check(code, as_nobody=False):
        cmd = [persistd, "-t", "-c", str(conf)]
        if as_nobody:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert p.returncode == code, (p.stdout, p.stderr)
        return p

    err = check(1).stderr
    assert f"{conf}:7: ca_bundle '{tmp_path}/missing.pem'" in err, err
    assert f"{conf}:9: eab_hmac_file '{tmp_path}/eab.key'" in err, err
    w = tmp_path / "certs.d" / "w.conf"
    assert f"{w}:4: deploy_hook '{hook}': not executable" in err, err
    assert f"{w}:5: persist_until 2020-01-01T00:00:00Z is in the past" in err, err
    assert "is NOT valid (4 errors)" in err
    # Fixed: valid.
    (tmp_path / "missing.pem").write_text("x")
    (tmp_path / "eab.key").write_text("x")
    hook.chmod(0o755)
    w.write_text(w.read_text().replace("2020-01-01", "2099-01-01"))
    assert "is valid" in check(0).stdout
    # A file only root may read, checked by the user who runs -t.
    (tmp_path / "eab.key").chmod(0o600)
    d = tmp_path
    while str(d) not in ("/", "/tmp"):
        os.chmod(d, os.stat(d).st_mode | 0o055)
        d = d.parent
    for f in (conf, w, tmp_path / "missing.pem", hook):
        os.chmod(f, os.stat(f).st_mode | 0o044)
    err = check(1, as_nobody=True).stderr
    assert f"{conf}:9: eab_hmac_file '{tmp_path}/eab.key': not readable for uid 65534" in err, err
