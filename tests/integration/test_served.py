"""check_served, archive_keep and `persistctl show` (issue 13).

check_served: persistd does one TLS handshake with HOST:PORT and compares
the served leaf with `current`. A real TLS server on loopback (Python's ssl
module, in a thread of this test) serves whichever certificate the test
chooses, so the daemon sees: the current certificate (OK, metric 1), the
previous version after a renewal (served-stale after the grace, metric 0),
nothing listening (an error in status, no crash), and a server that accepts
and never answers (a timeout, while the control socket keeps answering).
archive_keep: N+2 forced renewals leave exactly N archive versions, the
pruned ones without their private key. show: every path, the key type.
A real knotd, our test CA and persistd."""
import os
import pathlib
import socket
import ssl
import threading
import time
import urllib.request

import pytest

from fixtures import ports

ZONE = "example.test"
SERVED_STALE_ID = "c05e87d5aa0343f4ad7d964bfe465357"


class TLSServer:
    """Serves cert_file/key_file on 127.0.0.1; swap() changes them between handshakes."""

    def __init__(self, silent=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.silent = silent
        self.ctx = None
        self.handshakes = 0
        self.accepted = 0
        self.held = []
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def swap(self, cert_file, key_file):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        self.ctx = ctx

    def loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.silent:
                self.held.append(conn)  # accepts and never answers
                continue
            if self.ctx is None:
                conn.close()  # nothing to serve yet
                continue
            conn.settimeout(5)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    self.handshakes += 1
                    tls.unwrap()
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stopping = True
        self.thread.join(5)
        for c in self.held:
            c.close()
        self.sock.close()


def free_port():
    return ports.free_port(udp=False)


@pytest.fixture
def world(knot, testca_factory, persistd_env):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    anchor = zone.trust_anchor_file()
    ca = testca_factory(dns=knot.resolver)
    servers = []

    def make(cert_extra=None, daemon_extra=None):
        values = {"ca": "test", "names": ["www.example.test"], "persist_until": "2030-01-01"}
        values.update(cert_extra or {})
        extra = {"trust_anchor": anchor, "max_orders_per_hour": "100"}
        extra.update(daemon_extra or {})
        env = persistd_env(ca=ca, resolver=knot.resolver, certs={"www": values},
                           daemon_extra=extra)
        return env

    def server(**kw):
        s = TLSServer(**kw)
        servers.append(s)
        return s

    class W:
        pass
    w = W()
    w.zone, w.ca, w.make, w.server = zone, ca, make, server
    yield w
    for s in servers:
        s.close()


def publish(w, env):
    recs, _ = env.ctl_json("record", "www", check=0)
    lines = {f'{r["owner"][: -len(ZONE) - 1]} TXT "{r["value"]}"' for r in recs}
    w.zone.set("www A 192.0.2.1\n" + "\n".join(sorted(lines)))


def renew(env):
    p = env.ctl("renew", "www", "--force", timeout=180)
    assert p.returncode == 0, (p.stdout, p.stderr, env.read_log()[-4000:])


def served(env):
    st, _ = env.ctl_json("status")
    return st["cert_list"][0]["served"]


def version_dir(env, n):
    return env.state / "certs" / "www" / "archive" / str(n)


def metrics(env):
    port = env.http_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + "{") and 'cert="www"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_serving_current_then_stale_after_renewal(world):
    w = world
    srv = w.server()
    port = free_port()
    env = w.make(cert_extra={"check_served": f"127.0.0.1:{srv.port}",
                             "check_served_grace": "1s"},
                 daemon_extra={"http_listen": f"127.0.0.1:{port}"})
    env.http_port = port
    env.start()
    publish(w, env)
    renew(env)
    v1 = version_dir(env, 1)
    srv.swap(str(v1 / "fullchain.pem"), str(v1 / "privkey.pem"))
    env.ctl("reload", check=0)  # probes again within seconds

    # (1) The server serves current: OK and metric 1, after the install's grace.
    s = env.wait_for(lambda: (lambda x: x if x and x["checked"] and x["matches"] else None)(
        served(env)), timeout=60, what="a check_served probe that matches")
    assert s["level"] == "OK" and s["version"] == 1 and s["error"] is None
    assert s["target"] == f"127.0.0.1:{srv.port}"
    m = metrics(env)
    assert metric_value(m, "persistd_cert_served_matches") == 1
    assert metric_value(m, "persistd_cert_served_check_timestamp_seconds") > 0

    # (2) A renewal; the server keeps serving version 1: after the grace, served-stale.
    renew(env)
    s = env.wait_for(lambda: (lambda x: x if x and x["level"] != "OK" else None)(served(env)),
                     timeout=60, what="served-stale")
    assert s["level"] == "WARNING", s
    assert s["stale"] and s["matches"] is False and s["version"] == 1, s
    assert "old version 1" in s["reason"] and "current version 2" in s["reason"], s
    st, rc = env.ctl_json("status")
    assert st["cert_list"][0]["level"] == "WARNING" and rc == 1, (st, rc)
    assert metric_value(metrics(env), "persistd_cert_served_matches") == 0
    assert "served-stale" in env.read_log() or SERVED_STALE_ID in env.read_log()

    # The server is reloaded with version 2: OK again at the next probe (a reload
    # of persistd probes within seconds).
    v2 = version_dir(env, 2)
    srv.swap(str(v2 / "fullchain.pem"), str(v2 / "privkey.pem"))
    env.ctl("reload", check=0)
    s = env.wait_for(lambda: (lambda x: x if x["matches"] else None)(served(env)), timeout=60,
                     what="OK again")
    assert s["level"] == "OK" and s["version"] == 2
    st, rc = env.ctl_json("status")
    assert rc == 0, st


def test_nothing_listening_is_an_error_in_status(world):
    w = world
    port = free_port()
    env = w.make(cert_extra={"check_served": f"127.0.0.1:{port}"})
    env.start()
    s = env.wait_for(lambda: (lambda x: x if x["checked"] else None)(served(env)), timeout=60,
                     what="a probe of a closed port")
    assert s["error"] and "connection refused" in s["error"].lower(), s
    assert s["matches"] is None and s["level"] == "OK", s
    assert env.proc.poll() is None
    p = env.ctl("status")
    assert f"(served 127.0.0.1:{port})" in p.stdout and "NO_ANSWER" in p.stdout, p.stdout
    assert "connection refused" in p.stdout.lower(), p.stdout


def test_silent_server_times_out_and_the_loop_stays_responsive(world):
    w = world
    srv = w.server(silent=True)
    env = w.make(cert_extra={"check_served": f"127.0.0.1:{srv.port}"})
    env.start()
    env.wait_for(lambda: srv.accepted > 0, timeout=30, what="the probe's connection")
    # While the handshake hangs, the control socket answers at once.
    t0 = time.monotonic()
    for _ in range(5):
        assert served(env)["checked"] is False
    assert time.monotonic() - t0 < 5
    s = env.wait_for(lambda: (lambda x: x if x["checked"] else None)(served(env)), timeout=40,
                     what="the probe's timeout")
    assert "no TLS handshake within 10s" in s["error"], s
    assert env.proc.poll() is None


def test_archive_keep_prunes_old_versions(world):
    w = world
    keep = 2
    env = w.make(cert_extra={"archive_keep": str(keep)})
    env.start()
    publish(w, env)
    for _ in range(keep + 2):
        renew(env)
    archive = env.state / "certs" / "www" / "archive"
    versions = sorted(int(p.name) for p in archive.iterdir())
    assert versions == [3, 4], versions
    for n in (1, 2):
        assert not (archive / str(n) / "privkey.pem").exists()
    current = env.state / "certs" / "www" / "current"
    assert os.readlink(current) == "archive/4"
    for f in ("privkey.pem", "cert.pem", "chain.pem", "fullchain.pem", "domains"):
        assert (current / f).is_file(), f
    assert "pruned 1 old version" in env.read_log()


def test_show_lists_paths_and_key_type(world):
    w = world
    env = w.make(cert_extra={"key_type": "ec-p384"})
    env.start()
    publish(w, env)
    renew(env)
    renew(env)
    j, rc = env.ctl_json("show", "www")
    assert rc in (0, 1), j
    files = j["files"]
    base = env.state / "certs" / "www"
    for k in ("cert", "chain", "fullchain", "privkey", "domains"):
        assert pathlib.Path(files[k]).is_file(), (k, files)
        assert files[k].startswith(str(base / "current")), files
    assert files["current_target"] == str(base / "archive" / "2"), files
    assert j["archive_versions"] == [1, 2], j
    assert j["key"]["type"] == "ECDSA P-384" and j["key"]["bits"] == 384, j
    assert j["version"] == 2 and j["serial"], j
    p = env.ctl("show", "www")
    for word in ("privkey.pem", "fullchain.pem", "ECDSA P-384", "archive/2", "versions kept"):
        assert word in p.stdout, (word, p.stdout)


def test_grace_after_deploy_holds_the_alert(world):
    """Within check_served_grace of the deploy, an old certificate is noted, not alerted;
    once the grace has passed (the daemon's test clock moves) it is served-stale."""
    w = world
    srv = w.server()
    env = w.make(cert_extra={"check_served": f"127.0.0.1:{srv.port}",
                             "check_served_grace": "1h"})
    env.start()
    publish(w, env)
    renew(env)
    v1 = version_dir(env, 1)
    srv.swap(str(v1 / "fullchain.pem"), str(v1 / "privkey.pem"))
    renew(env)  # version 2 is current, the server keeps version 1
    env.ctl("reload", check=0)  # probes within seconds, inside the grace
    # (A probe that ran while version 1 was still current saw it current: wait for the
    # one after the renewal.)
    s = env.wait_for(lambda: (lambda x: x if x["checked"] and x["stale"] else None)(served(env)),
                     timeout=60, what="a probe inside the grace")
    assert s["stale"] and s["version"] == 1 and s["level"] == "OK", s
    assert "within check_served_grace" in s["reason"], s
    assert s["next_check"] and s["next_check"] - s["checked_at"] <= 3600, s
    checked = s["checked_at"]
    env.shift_time(3700)
    s = env.wait_for(lambda: (lambda x: x if x["checked_at"] > checked + 3000 else None)(
        served(env)), timeout=60, what="the probe at the grace's end")
    assert s["level"] == "WARNING" and s["stale"], s
    st, rc = env.ctl_json("status")
    assert rc == 1 and st["cert_list"][0]["level"] == "WARNING", st
