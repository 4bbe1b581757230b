"""persistd as a long-running daemon: it issues, watches the records, moves
alert levels as persistUntil approaches, survives restarts and SIGKILL,
refuses a bad reload, guards its mutating methods, and shrugs off abuse of
its control socket. A real knotd, our test CA and persistd --test-clock."""
import json
import os
import re
import select
import signal
import socket
import subprocess
import time

import pytest
from cryptography import x509

ZONE = "example.test"
DAY = 86400


@pytest.fixture
def world(knot, testca_factory, persistd_env):
    # An unsigned parent: without it getdns judges the signed child's
    # denials bogus now and then (it asks for the DS and gets REFUSED).
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    anchor = zone.trust_anchor_file()
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test", "*.example.test"],
                "persist_until": "2030-01-01"}},
        daemon_extra={"trust_anchor": anchor, "recheck_interval": "1h",
                      "warn_before": "30d", "critical_before": "7d"})

    class W:
        pass
    w = W()
    w.knot, w.zone, w.ca, w.env, w.anchor = knot, zone, ca, env, anchor
    return w


def publish_from_daemon(w, persist_until=None):
    """Ask the daemon for the records (persistctl record --format json) and
    publish them, optionally with another persistUntil."""
    recs, _ = w.env.ctl_json("record", "www", check=0)
    lines = []
    seen = set()
    for r in recs:
        if r["owner"] in seen:
            continue
        seen.add(r["owner"])
        value = r["value"]
        if persist_until is not None:
            value = re.sub(r"persistUntil=\d+", f"persistUntil={persist_until}", value)
        lines.append(f'{r["owner"][: -len(ZONE) - 1]} TXT "{value}"')
    w.zone.set("\n".join(lines))
    return recs


def status(w):
    out, rc = w.env.ctl_json("status")
    return out, rc


def name_levels(st):
    return {n["name"]: n for c in st["cert_list"] for n in c["names"]}


def test_daemon_life(world):
    w = world
    env = w.env.start()
    # No record yet: the daemon creates the account, refuses to trigger
    # validation, and persistctl record shows what to publish.
    recs = publish_from_daemon(w)
    owners = {r["owner"] for r in recs}
    assert owners == {"_validation-persist.www.example.test", "_validation-persist.example.test"}
    base = [r for r in recs if r["owner"] == "_validation-persist.example.test"][0]
    assert base["wildcard_needed"] is True and "policy=wildcard" in base["value"]

    # The cert was due at start: the daemon's own first attempt may have looked
    # at the records before they were published (it then fails, as it should).
    # Let it end, so the renewal asked for below is one that starts now.
    env.wait_for(lambda: status(w)[0]["jobs_running"] == 0, timeout=60,
                 what="the daemon's first renewal attempt to end")
    # Renew now through the control socket; it waits for the outcome.
    p = env.ctl("renew", "www", "--force", check=0, timeout=120)
    assert "certificate installed" in p.stdout
    # show prints every field it names: the certificate's version after its serial.
    detail = env.ctl_json("show", "www")[0]
    p = env.ctl("show", "www", check=0)
    assert f"(serial {detail['serial']}, version {detail['version']})" in p.stdout, p.stdout
    env.ctl("check", "www", check=0)
    st, rc = status(w)
    assert rc == 0, st
    c = st["cert_list"][0]
    assert c["has_cert"] and c["next_renewal"] > st["now"]
    names = name_levels(st)
    assert names["*.example.test"]["policy_wildcard"] is True
    assert names["*.example.test"]["status"] == "VALID"
    assert names["www.example.test"]["dnssec"] == "secure"

    # persistUntil 20 days out: WARNING; 5 days out: CRITICAL; passed: ERROR.
    now = st["now"]
    for days, level, code in ((20, "WARNING", 1), (5, "CRITICAL", 2), (-1, "ERROR", 2)):
        publish_from_daemon(w, persist_until=now + days * DAY)
        env.ctl("check", "--all")
        st, rc = status(w)
        lv = name_levels(st)["www.example.test"]
        assert lv["level"] == level, lv
        assert rc == code
        # the counts name the daemon's levels only, in their order: UNKNOWN,
        # which the daemon never computes, has no count
        assert list(st["counts"]) == ["OK", "WARNING", "CRITICAL", "ERROR"], st["counts"]
        p = env.ctl("status")
        assert level in p.stdout
    log = env.read_log()
    assert "ALERT WARNING record-warning" in log
    assert "ALERT CRITICAL record-critical" in log
    assert "ALERT ERROR record-error" in log
    assert "message_id=d84cf540e9d248bd924f16fee1c0d06e" in log

    # Back to a good record: OK again, and an alert says so.
    publish_from_daemon(w)
    env.ctl("check", "--all", check=0)
    assert "record-ok" in env.read_log()
    # The plain reasons are not kept in the state, but are shown all the same.
    lv = name_levels(status(w)[0])["www.example.test"]
    assert lv["level_reason"] == "record _validation-persist.www.example.test is valid", lv

    # Moving the clock forward (test clock) ages the record without a new
    # lookup: 2030-01-01 minus 25 days is a warning.
    until = name_levels(status(w)[0])["www.example.test"]["persist_until"]
    env.shift_time(until - 25 * DAY - now)
    st, rc = status(w)
    assert name_levels(st)["www.example.test"]["level"] == "WARNING"
    env.shift_time(-(until - 25 * DAY - now))
    # Years ahead, the certificate was due: the daemon started a renewal.
    # Let it end, or the restart below parks it, resumes it, and its
    # pre-check finds the record VALID before the status is read.
    env.wait_for(lambda: status(w)[0]["jobs_running"] == 0, timeout=120,
                 what="the renewal the clock shift started to end")

    # Remove the record: ERROR (NO_RECORD), with no DNS error involved.
    w.zone.set("www A 192.0.2.1")
    env.ctl("check", "--all")
    lv = name_levels(status(w)[0])["www.example.test"]
    assert lv["status"] == "NO_RECORD" and lv["level"] == "ERROR"

    # DNS down: DNS_ERROR, never a false "missing".
    publish_from_daemon(w)
    env.ctl("check", "--all", check=0)
    w.knot.stop()
    env.ctl("check", "--all")
    lv = name_levels(status(w)[0])["www.example.test"]
    assert lv["status"] == "DNS_ERROR"
    assert lv["level"] == "OK"
    assert lv["level_reason"] == "record _validation-persist.www.example.test is valid", lv
    w.knot.start()

    # Restart: the state survives.
    before = status(w)[0]
    assert env.stop() == 0
    env.start()
    after = status(w)[0]
    assert after["cert_list"][0]["not_after"] == before["cert_list"][0]["not_after"]
    assert name_levels(after)["www.example.test"]["status"] == "DNS_ERROR"


def test_reload_bad_config_keeps_old(world):
    w = world
    env = w.env.start()
    conf = env.etc / "certs.d" / "www.conf"
    good = conf.read_text()
    conf.write_text(good + "bogus_key = 1\n")
    p = env.ctl("reload", check=1)
    assert "www.conf:" in p.stderr and "unknown key 'bogus_key'" in p.stderr
    st, _ = status(w)
    assert st["certs"] == 1
    # SIGHUP with the same bad file: still alive, still the old config.
    env.proc.send_signal(signal.SIGHUP)
    env.wait_for(lambda: "keeping the old configuration" in env.read_log(), timeout=30,
                 what="the refused SIGHUP reload")
    assert status(w)[0]["certs"] == 1
    # A good change: a second cert appears.
    conf.write_text(good)
    (env.etc / "certs.d" / "two.conf").write_text(
        "[cert two]\nca = test\nnames = two.example.test\n")
    p = env.ctl("reload", check=0)
    assert "2 certs" in p.stdout
    assert status(w)[0]["certs"] == 2


def test_second_uid_denied_mutating(world):
    w = world
    env = w.env.start()
    os.chmod(env.socket, 0o666)
    os.chmod(env.run, 0o755)
    # Let another uid reach the socket through pytest's private temp dirs.
    d = env.run
    while str(d) not in ("/", "/tmp"):
        os.chmod(d, os.stat(d).st_mode | 0o055)
        d = d.parent

    def as_nobody(*args):
        return subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", env.persistctl,
             "-s", str(env.socket), *args], capture_output=True, text=True, timeout=30)
    p = as_nobody("status")
    assert p.returncode in (0, 1, 2), p.stderr
    for args in (("renew", "www"), ("reload",), ("account", "rollover", "--yes")):
        p = as_nobody(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "persistd-admin" in p.stderr or "permission" in p.stderr.lower()


def test_sigkill_mid_renewal_resumes(world):
    w = world
    env = w.env.start()
    publish_from_daemon(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    orders_before = {o["url"] for o in w.ca.orders()}
    # Every ACME request slow, so the order stays in flight long enough to
    # be seen in state.json; the kill comes once it is saved there.
    w.ca.faults("slow", count=200, delay_ms=300, path="/acme/")
    proc = subprocess.Popen([env.persistctl, "-s", str(env.socket), "renew", "www", "--force"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def saved_order():
        try:
            return json.loads((env.state / "state.json").read_text())["certs"]["www"]["order_url"]
        except (OSError, ValueError, KeyError):
            return None
    started_order = env.wait_for(saved_order, timeout=60, what="the order saved in state.json")
    env.kill()
    proc.wait(30)
    assert saved_order() == started_order
    assert started_order not in orders_before
    w.ca.admin_delete("/admin/faults")
    env.start()
    # The saved order is resumed, not replaced: it ends valid, no other
    # order was made, and the daemon installed its certificate.
    env.wait_for(lambda: status(w)[0]["cert_list"][0]["renewing"] is False and
                 saved_order() is None, timeout=60, what="the resumed order")
    assert "resuming renewal" in env.read_log()
    orders = {o["url"]: o for o in w.ca.orders()}
    assert set(orders) - orders_before == {started_order}, orders
    assert orders[started_order]["status"] == "valid", orders[started_order]
    issued = [c for c in w.ca.certs() if c["order"] == started_order]
    assert len(issued) == 1
    leaf = x509.load_pem_x509_certificate(
        (env.state / "certs" / "www" / "current" / "cert.pem").read_bytes())
    assert leaf.serial_number == int(issued[0]["serial"], 16)


def test_control_socket_abuse(world):
    w = world
    env = w.env.start()
    path = str(env.socket)
    # A 1 MiB line: an error, then the connection closes.
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    try:
        s.sendall(b"x" * (1 << 20))
    except OSError:
        pass
    s.close()
    # 500 connections at once.
    conns = []
    for _ in range(500):
        c = socket.socket(socket.AF_UNIX)
        try:
            c.connect(path)
            conns.append(c)
        except OSError:
            c.close()
    # A client that never reads, flooding requests.
    lazy = socket.socket(socket.AF_UNIX)
    lazy.connect(path)
    lazy.setblocking(False)
    req = b'{"jsonrpc":"2.0","id":1,"method":"status"}\n' * 200
    for _ in range(50):
        try:
            lazy.send(req)
        except OSError:
            break
    for c in conns:
        c.close()
    # Garbage and a half line.
    g = socket.socket(socket.AF_UNIX)
    g.connect(path)
    g.sendall(b"\x00\xffnot json\n{\"half\":")
    # Still answering, as soon as the flood's connections are gone (the
    # daemon sees them close asynchronously; meanwhile it answers BUSY).
    t0 = time.monotonic()
    while True:
        try:
            assert w.env.rpc("status")["certs"] == 1
            break
        except AssertionError as e:
            assert "too many connections" in str(e), e
            assert time.monotonic() - t0 < 30, "still busy after 30 s"
            time.sleep(0.1)
    lazy.close()
    g.close()
    p = env.ctl("status")
    assert p.returncode in (0, 1, 2)


class EventReader:
    """Reads `persistctl --json watch` output: one JSON object per line."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        self.types = []

    def read_until(self, kind, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while kind not in self.types:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            assert chunk, f"persistctl watch ended (exit {self.proc.poll()})"
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.types.append(json.loads(line)["type"])
        return True


def test_events_stream(world):
    w = world
    env = w.env.start()
    publish_from_daemon(w)
    watch = subprocess.Popen([env.persistctl, "-s", str(env.socket), "--json", "watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    events = EventReader(watch)
    try:
        # Subscribed once a check shows up; until then, checks may go unseen.
        deadline = time.monotonic() + 60
        while not events.read_until("check", timeout=1):
            assert time.monotonic() < deadline, "no check event in 60 s"
            env.ctl("check", "--all")
        env.ctl("renew", "www", "--force", check=0, timeout=120)
        assert events.read_until("renewal", timeout=60), events.types
    finally:
        watch.send_signal(signal.SIGINT)
        watch.communicate(timeout=10)
    assert watch.returncode == 0


def test_status_cannot_tell_when_refused_for_load(world):
    """A daemon at its connection limit answers BUSY and closes: status
    cannot tell the levels, so it exits 3 (UNKNOWN), not 1 (WARNING)."""
    w = world
    env = w.env.start()
    limit = 128  # CTL_MAX_CONNS (common/limits.h)
    req = b'{"jsonrpc":"2.0","id":1,"method":"status"}\n'
    held = []
    deadline = time.monotonic() + 60
    # Fill every slot with a client the daemon has accepted and answered
    # (the start-up probes' connections may still be closing: retry those
    # that get BUSY until all the slots are ours).
    while len(held) < limit:
        assert time.monotonic() < deadline, f"only {len(held)} connections accepted"
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(30)
        c.connect(str(env.socket))
        try:
            c.sendall(req)
        except OSError:
            pass
        line = c.makefile("rb").readline()
        msg = json.loads(line) if line else {}
        if "result" in msg:
            held.append(c)
            continue
        c.close()
        assert msg.get("error", {}).get("code", -32003) == -32003, msg
        time.sleep(0.05)
    try:
        p = env.ctl("status")
        assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
        assert "refused the connection" in p.stderr and "too many connections" in p.stderr
        assert "cannot tell" in p.stderr
        # With --json the error is a JSON object on stdout, never a status document.
        p = env.ctl("--json", "status")
        assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
        err = json.loads(p.stdout)["error"]
        assert err["code"] == -32003 and err["exit_code"] == 3, err
        assert "too many connections" in err["message"]
    finally:
        for c in held:
            c.close()
    # With the slots free again, status answers with the level.
    env.wait_for(lambda: env.ctl("status").returncode != 3, timeout=30,
                 what="status to answer once the clients left")


def test_account_rollover_and_deactivation(world):
    w = world
    env = w.env.start()
    publish_from_daemon(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    key_file = env.state / "accounts" / "test" / "account.key"
    before = key_file.read_bytes()
    acct_before = env.ctl_json("account", "show")[0][0]
    # Irreversible: nothing happens without --yes.
    p = env.ctl("account", "rollover", check=2)
    assert "--yes" in p.stderr
    assert key_file.read_bytes() == before
    p = env.ctl("account", "rollover", "--yes", check=0, timeout=120)
    assert "nothing to republish" in p.stdout
    acct_after = env.ctl_json("account", "show")[0][0]
    assert acct_after["account_url"] == acct_before["account_url"]
    assert acct_after["thumbprint"] != acct_before["thumbprint"]
    assert key_file.read_bytes() != before
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # The CA accepts the new key: another renewal works, the records unchanged.
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    # Deactivation needs --yes, then the CA refuses the account.
    env.ctl("account", "deactivate", "test", check=2)
    p = env.ctl("account", "deactivate", "test", "--yes", check=0, timeout=120)
    assert "deactivated" in p.stdout
    assert w.ca.accounts()[0]["status"] == "deactivated"
    p = env.ctl("renew", "www", "--force", check=1, timeout=120)
    assert "deactivated" in p.stderr
