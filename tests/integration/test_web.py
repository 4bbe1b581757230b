"""The read-only HTTP listener (http_listen): /metrics checked by Debian's
promtool, /api/status against the control socket's status, the page in
headless Chromium (a screenshot is kept as an artifact), the refusals (405,
404, an oversized header), the listener off by default, a warning for an
address that is not loopback, and `persistctl status --nagios`. A real
knotd, our test CA and persistd --test-clock."""
import http.client
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import time

import pytest

from fixtures.knot import free_port
from fixtures.paths import BUILD

ZONE = "example.test"
DAY = 86400
ARTIFACTS = BUILD / "artifacts"

# Members of the status answer that move between two calls.
VOLATILE = {"now", "now_iso", "summary"}


def get(port, path, method="GET", body=None, headers=None, host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def strip_volatile(st):
    return {k: v for k, v in st.items() if k not in VOLATILE}


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} from the exposition format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?\d+)', line)
        assert m, line
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), frozenset(labels.items()))] = int(m.group(4))
    return out


def metric(ms, metric_name, **labels):
    return ms.get((metric_name, frozenset(labels.items())))


@pytest.fixture
def web(knot, testca_factory, persistd_env):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1")
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    port = free_port()
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test", "*.example.test"],
                "persist_until": "2030-01-01"}},
        daemon_extra={"trust_anchor": "none", "http_listen": f"127.0.0.1:{port}",
                      "warn_before": "30d", "critical_before": "7d"})

    class W:
        pass
    w = W()
    w.knot, w.zone, w.ca, w.env, w.port = knot, zone, ca, env, port
    return w


def settle(env):
    """Waits until every name has been checked once. Stopping persistd while
    its first record check is in flight leaks that check's memory (a bug in
    daemon/cert, reported separately) and ASan then fails the exit code."""
    def done():
        st = env.rpc("status")
        return all(n["checked"] for c in st["cert_list"] for n in c["names"])
    env.wait_for(done, what="the first record checks")


def publish(w, persist_until=None):
    recs, _ = w.env.ctl_json("record", "www", check=0)
    lines, seen = [], set()
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


def issue(w):
    env = w.env.start()
    recs = publish(w)
    # Two refused requests (retried at once by the transport) for the CA's
    # error counter in /metrics.
    w.ca.faults("badNonce", count=2)
    p = env.ctl("renew", "www", "--force", check=0, timeout=120)
    assert "certificate installed" in p.stdout
    env.ctl("check", "www", check=0)
    return recs


def chromium(args, timeout=120):
    exe = shutil.which("chromium")
    if not exe:
        pytest.skip("chromium is not installed (Debian package chromium)")
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync",
                           "--disable-dev-shm-usage", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_metrics_status_page(web, tmp_path, capsys):
    w = web
    recs = issue(w)
    st = w.env.rpc("status")
    cert = st["cert_list"][0]
    names = {n["name"]: n for n in cert["names"]}
    assert cert["has_cert"] and names["www.example.test"]["status"] == "VALID"

    # /metrics passes promtool and says what status says. The renewal's ARI fetch may
    # still move next_renewal: compare a /metrics read between two equal statuses.
    for _ in range(20):
        r, body = get(w.port, "/metrics")
        st2 = w.env.rpc("status")
        if st2["cert_list"][0]["next_renewal"] == cert["next_renewal"]:
            break
        st, cert = st2, st2["cert_list"][0]
        names = {n["name"]: n for n in cert["names"]}
        time.sleep(0.2)
    assert r.status == 200
    assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                       timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr, body.decode())
    ms = parse_metrics(body.decode())
    assert metric(ms, "persistd_cert_not_after_seconds", cert="www", ca="test") == \
        cert["not_after"]
    assert metric(ms, "persistd_cert_next_renewal_seconds", cert="www", ca="test") == \
        cert["next_renewal"]
    assert metric(ms, "persistd_cert_renewal_failures", cert="www", ca="test") == 0
    assert metric(ms, "persistd_cert_level", cert="www", ca="test") == 0
    www = names["www.example.test"]
    assert metric(ms, "persistd_name_persist_until_seconds", cert="www",
                  name="www.example.test") == www["persist_until"]
    assert metric(ms, "persistd_name_last_check_seconds", cert="www",
                  name="www.example.test") == www["checked_at"]
    assert metric(ms, "persistd_name_check_status", cert="www", name="*.example.test",
                  status="VALID") == 1
    errors = metric(ms, "persistd_ca_request_errors_total", ca="test")
    assert errors >= 2
    assert metric(ms, "persistd_ca_requests_total", ca="test") > errors

    # A warning-level record shows up as level 1 in /metrics.
    publish(w, persist_until=st["now"] + 20 * DAY)
    w.env.ctl("check", "--all")
    r, body = get(w.port, "/metrics")
    ms = parse_metrics(body.decode())
    assert metric(ms, "persistd_name_level", cert="www", name="www.example.test") == 1
    assert metric(ms, "persistd_name_persist_until_seconds", cert="www",
                  name="www.example.test") == st["now"] + 20 * DAY

    # /api/status is the control socket's status answer.
    r, body = get(w.port, "/api/status")
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    via_http = json.loads(body)
    via_socket = w.env.rpc("status")
    assert strip_volatile(via_http) == strip_volatile(via_socket)
    assert via_http["warn_before"] == 30 * DAY and via_http["critical_before"] == 7 * DAY

    # /api/records is what persistctl record says.
    r, body = get(w.port, "/api/records")
    assert r.status == 200
    assert {x["value"] for x in json.loads(body)} == {x["value"] for x in recs}

    # The page: strict CSP, no external assets, and Chromium renders it.
    r, page = get(w.port, "/")
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/html")
    csp = r.getheader("Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert not re.search(rb'(src|href)="(https?:)?//', page), "external asset in the page"
    assert b"<script>" not in page and b"style=" not in page
    for path, ctype in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        r, _ = get(w.port, path)
        assert r.status == 200 and r.getheader("Content-Type").startswith(ctype)

    url = f"http://127.0.0.1:{w.port}/"
    profile = tmp_path / "chromium"
    p = chromium([f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url])
    assert p.returncode == 0, p.stderr[-3000:]
    dom = p.stdout
    assert 'data-loaded="yes"' in dom, dom[-3000:]
    assert "www.example.test" in dom and "*.example.test" in dom
    # The exact record value, ready to copy.
    for rec in recs:
        assert f'<code class="value">{rec["value"]}</code>' in dom
    assert dom.count('class="copy"') == len(recs)
    assert 'id="timeline-svg"' in dom and "<rect" in dom
    assert "www (cert)" in dom

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "web.png"
    if shot.exists():
        shot.unlink()
    p = chromium([f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                  f"--screenshot={shot}", "--window-size=1280,900", "--hide-scrollbars", url])
    assert p.returncode == 0, p.stderr[-3000:]
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with capsys.disabled():
        print(f"\nstatus page screenshot: {shot}")

    # persistctl status --nagios: one line, thresholds from the daemon.
    p = w.env.ctl("status", "--nagios")
    assert p.returncode == 1, (p.stdout, p.stderr)  # the record is at WARNING
    out = p.stdout
    assert out.count("\n") == 1
    m = re.fullmatch(r"PERSISTD (\w+) - (\d+) certs, (\d+) warning, (\d+) critical, "
                     r"(\d+) error(: .*)? \| (.*)\n", out)
    assert m, out
    assert m.group(1) == "WARNING" and m.group(2) == "1" and m.group(3) == "1"
    assert "www.example.test" in m.group(6)
    perf = dict(re.findall(r"'([^']+)'=(\S+)", m.group(7)))
    now_cert = w.env.rpc("status")["cert_list"][0]
    now_names = {n["name"]: n for n in now_cert["names"]}
    assert perf["www_cert_days"] == f"{now_cert['days_left']};30;7"
    assert perf["www.example.test_record_days"] == \
        f"{now_names['www.example.test']['days_left']};30;7"
    assert now_names["www.example.test"]["days_left"] in (19, 20)


def test_refusals(web):
    w = web
    w.env.start()
    settle(w.env)
    r, body = get(w.port, "/metrics", method="POST", body=b"x=1",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 405 and r.getheader("Allow") == "GET, HEAD"
    r, _ = get(w.port, "/api/status", method="DELETE")
    assert r.status == 405
    r, _ = get(w.port, "/nothing-here")
    assert r.status == 404
    r, _ = get(w.port, "/../etc/passwd")
    assert r.status == 404
    r, body = get(w.port, "/metrics", method="HEAD")
    assert r.status == 200 and body == b""

    # A 1 MiB header is refused without harm: an error answer or a closed
    # connection, and the daemon goes on serving both its sockets.
    s = socket.create_connection(("127.0.0.1", w.port), timeout=30)
    answer = b""
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    except OSError:
        pass
    try:
        answer = s.recv(200)
    except OSError:
        pass
    s.close()
    assert answer == b"" or answer.split(b" ")[1] in (b"431", b"413", b"400"), answer
    assert w.env.proc.poll() is None
    r, _ = get(w.port, "/api/status")
    assert r.status == 200
    w.env.rpc("status")

    # A flood of idle connections from one address: past 16 at once (per
    # client address) they are closed unserved, the control socket is not
    # affected, and the listener serves again once they are gone.
    flood = [socket.create_connection(("127.0.0.1", w.port), timeout=10) for _ in range(40)]
    assert w.env.rpc("status")["certs"] == 1
    answered = 0
    for s in flood:
        try:
            s.sendall(b"GET /api/status HTTP/1.0\r\n\r\n")
            answered += s.recv(12).startswith(b"HTTP/1.")
        except OSError:
            pass
    for s in flood:
        s.close()
    assert 1 <= answered < len(flood), answered
    r, _ = w.env.wait_for(lambda: get(w.port, "/api/status"), what="the listener after a flood")
    assert r.status == 200
    assert w.env.stop() == 0


def listening_inodes(pid):
    """Inodes of the TCP sockets in LISTEN state that pid holds."""
    mine = set()
    for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        except OSError:
            continue
        if m:
            mine.add(m.group(1))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A":
                listening.add(f[9])
    return mine & listening


def test_off_by_default(knot, testca_factory, persistd_env):
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test"]}},
        daemon_extra={"trust_anchor": "none"})
    env.start()
    settle(env)
    assert listening_inodes(env.proc.pid) == set()
    assert "serving /, /metrics" not in env.read_log()
    p = env.persistd_run("-t", check=0)
    assert "http       off" in p.stdout
    assert env.stop() == 0


def test_unix_socket_and_config_errors(knot, testca_factory, persistd_env, tmp_path):
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    path = tmp_path / "http.sock"
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test"]}},
        daemon_extra={"trust_anchor": "none", "http_listen": str(path)})
    p = env.persistd_run("-t", check=0)
    assert f"http       {path}\n" in p.stdout
    env.start()
    settle(env)
    assert path.is_socket() and (path.stat().st_mode & 0o777) == 0o660
    # A reload keeps the listener and says that a new address waits for a
    # restart.
    env.daemon["http_listen"] = str(tmp_path / "other.sock")
    env.write()
    env.ctl("reload", check=0)
    assert "http_listen changed; these take effect at the next restart" in env.read_log()
    assert path.is_socket() and not (tmp_path / "other.sock").exists()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(str(path))
    s.sendall(b"GET /api/status HTTP/1.0\r\nHost: localhost\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["cert_list"][0]["name"] == "www"
    assert env.stop() == 0
    assert not path.exists()

    # Bad addresses: a file:line error from persistd -t, never a start.
    for bad in ("localhost:8080", "127.0.0.1", "127.0.0.1:0", "[::1]:99999", "relative.sock"):
        env.daemon["http_listen"] = bad
        env.write()
        p = env.persistd_run("-t", check=1)
        assert re.search(r"persistd\.conf:\d+: .*http_listen", p.stderr), (bad, p.stderr)


def test_not_loopback_warns(knot, testca_factory, persistd_env):
    """0.0.0.0 in a network namespace of its own (only lo inside), so that no
    real interface is ever exposed by the test."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        pytest.skip("needs unshare and ip")
    if subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    env = persistd_env(cas={"test": {"directory": "https://127.0.0.1:9/dir"}}, certs={
        "www": {"ca": "test", "names": ["www.example.test"]}},
        daemon_extra={"trust_anchor": "none", "http_listen": "0.0.0.0:8080",
                      "resolver": "127.0.0.1@9"})
    p = env.persistd_run("-t", check=0)
    assert "http       0.0.0.0:8080 (not loopback" in p.stdout
    log = open(env.logfile, "a")
    proc = subprocess.Popen(
        [unshare, "-n", "sh", "-c", f'{ip} link set lo up && exec "$0" "$@"', env.persistd,
         "-c", str(env.conf)], stdout=log, stderr=subprocess.STDOUT, env=env.env())
    try:
        deadline = time.monotonic() + 30
        while "not a loopback address" not in env.read_log():
            assert proc.poll() is None, env.read_log()
            assert time.monotonic() < deadline, env.read_log()
            time.sleep(0.1)
        assert "http_listen = 0.0.0.0:8080 is not a loopback address" in env.read_log()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0, env.read_log()
        log.close()
