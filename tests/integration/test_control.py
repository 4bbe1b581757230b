"""The control socket server (daemon/control) on a real loop, driven through
tests/drivers/control_server: JSON-RPC calls, notifications, ordering of
asynchronous answers, authorization by SO_PEERCRED/SO_PEERGROUPS, socket
mode and group, socket activation, and abuse (a 1 MiB line, 500 connections,
clients that never read, garbage, half lines, idle clients) after which the
server still answers and its memory stays bounded.

We run as root; unprivileged peers are child processes started with
user=/group=/extra_groups= so that the kernel reports their credentials.
"""
import json
import os
import pathlib
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from fixtures.paths import BUILD

DRIVER = BUILD / "drivers" / "control_server"
NOBODY = 65534
ADMIN_GID = 4242
SANITIZER_ERRORS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


@pytest.fixture
def workdir():
    """A temp dir that unprivileged children can traverse (pytest's is 0700)."""
    d = tempfile.mkdtemp(prefix="persistd-ctl-")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


class Server:
    """One control_server process; stop() asserts a clean exit."""

    def __init__(self, directory, *args, sock="control.sock", wait_ready=True, prefix=()):
        assert DRIVER.exists(), f"{DRIVER} missing: make SAN=1 build-san/drivers/control_server"
        self.dir = pathlib.Path(directory)
        self.path = str(self.dir / sock)
        self.log = self.dir / f"server-{time.monotonic_ns()}.log"
        env = dict(os.environ)
        # Bounded ASan quarantine, so RSS measures our memory, not freed blocks.
        env["ASAN_OPTIONS"] = "detect_leaks=1:quarantine_size_mb=16:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        cmd = [*prefix, str(DRIVER)]
        if "--listen-fd" not in args:
            cmd += ["--socket", self.path]
        cmd += [*args, "--verbose"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout=10):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no READY in {timeout}s: {self.stderr()}"
        assert self.proc.stdout.readline() == b"READY\n", self.stderr()

    def stderr(self):
        return self.log.read_text(errors="replace")

    def rss_kb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"server did not exit on SIGTERM: {self.stderr()[-3000:]}")
        log = self.stderr()
        for word in SANITIZER_ERRORS:
            assert word not in log, log[-5000:]
        assert rc == 0, f"exit {rc}: {log[-3000:]}"
        return log


@pytest.fixture
def server(workdir):
    servers = []

    def start(*args, **kw):
        s = Server(workdir, *args, **kw)
        servers.append(s)
        return s

    try:
        yield start
        for s in servers:
            s.stop()
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.proc.kill()


class Conn:
    """A raw client: line framing done here, to send anything at all."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 0

    def send(self, data):
        if isinstance(data, dict):
            data = json.dumps(data).encode() + b"\n"
        self.sock.sendall(data)

    def request(self, method, params=None, id=None):
        if id is None:
            self.next_id += 1
            id = self.next_id
        req = {"jsonrpc": "2.0", "method": method, "id": id}
        if params is not None:
            req["params"] = params
        return req

    def line(self, timeout=10):
        """The next line, or None at EOF."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def msg(self, timeout=10):
        line = self.line(timeout)
        assert line is not None, "connection closed"
        m = json.loads(line)
        assert m["jsonrpc"] == "2.0", m
        return m

    def call(self, method, params=None, timeout=10):
        req = self.request(method, params)
        self.send(req)
        m = self.msg(timeout)
        assert m["id"] == req["id"], m
        return m

    def closed_within(self, timeout):
        """True when the server closes the connection within timeout (data is drained)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    def close(self):
        self.sock.close()


def result(m):
    assert "error" not in m, m
    return m["result"]


def error(m, code):
    assert "result" not in m, m
    assert m["error"]["code"] == code, m
    return m["error"]


# ---- as a peer of another uid ----

PEER_SCRIPT = r"""
import json, socket, sys
path, calls = sys.argv[1], json.loads(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(path)
except OSError as e:
    print(json.dumps({"connect_errno": e.errno}))
    sys.exit(0)
f = s.makefile("rwb")
out = []
for i, (method, params) in enumerate(calls):
    req = {"jsonrpc": "2.0", "method": method, "id": i}
    if params is not None:
        req["params"] = params
    f.write(json.dumps(req).encode() + b"\n")
    f.flush()
    out.append(json.loads(f.readline()))
print(json.dumps({"replies": out}))
"""


# Debian's python, which every uid may run (sys.executable may be in root's home).
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as other uids")


def as_peer(path, calls, uid, gid, groups=()):
    p = subprocess.run([PYTHON, "-c", PEER_SCRIPT, path, json.dumps(calls)],
                       user=uid, group=gid, extra_groups=list(groups), capture_output=True,
                       timeout=20, cwd="/")
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


# ---- normal operation ----

def test_calls(server):
    s = server()
    c = Conn(s.path)
    assert result(c.call("echo", {"a": [1, 2.5, "\u00e9"], "b": None})) == \
        {"a": [1, 2.5, "\u00e9"], "b": None}
    assert result(c.call("echo", [1, [2]])) == [1, [2]]
    assert result(c.call("echo")) is None
    me = result(c.call("whoami"))
    assert me["uid"] == 0 and me["admin"] is True and me["pid"] == os.getpid()

    # ids come back exactly as sent: strings, numbers (as written), null
    c.send(b'{"jsonrpc":"2.0","method":"echo","params":[],"id":"x\\"y"}\n')
    assert c.msg()["id"] == 'x"y'
    c.send(b'{"jsonrpc":"2.0","method":"echo","params":[],"id":12345678901234567890123}\r\n')
    assert b'"id":12345678901234567890123,' in c.line()
    c.send(b'{"jsonrpc":"2.0","method":"echo","params":[],"id":null}\n')
    assert c.msg()["id"] is None

    # a notification (no id) gets no answer; blank lines are skipped
    c.send(b'{"jsonrpc":"2.0","method":"echo","params":[1]}\n\n  \r\n')
    c.send(b'{"jsonrpc":"2.0","method":"nonexistent"}\n')
    assert result(c.call("echo", ["after"])) == ["after"]

    e = error(c.call("nonexistent"), -32601)
    assert "nonexistent" in e["message"]
    error(c.call("slow", {"ms": "soon"}), -32602)
    e = error(c.call("fail"), -32005)
    assert e["data"] == {"reason": "requested"}
    # a handler bug (invalid JSON result) is an internal error, not a broken stream
    error(c.call("bad.result"), -32603)
    # answers bigger than the unsent-output limit still reach a client that reads
    assert len(result(c.call("big", {"bytes": 3 << 20}))) == 3 << 20
    assert result(c.call("stats"))["connections"] == 1
    c.close()


def test_pipelined_and_async_order(server):
    s = server()
    a, b, h = Conn(s.path), Conn(s.path), Conn(s.path)
    # the other connections are not held up by a call that never ends (no
    # timing involved: the held call is only answered at shutdown)
    h.send(h.request("hold"))
    h.send(h.request("echo", ["behind the held call"]))
    assert result(b.call("echo", ["quick"])) == ["quick"]
    reqs = [a.request("slow", {"ms": 400, "value": "first"}),
            a.request("echo", ["second"]),
            a.request("slow", {"ms": 50, "value": "third"}),
            a.request("whoami"),
            a.request("echo", ["fifth"])]
    t0 = time.monotonic()
    a.send(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
    assert result(b.call("echo", ["quick again"])) == ["quick again"]
    got = [a.msg() for _ in reqs]
    assert [m["id"] for m in got] == [r["id"] for r in reqs]
    assert got[0]["result"] == "first" and got[1]["result"] == ["second"]
    assert got[2]["result"] == "third" and got[4]["result"] == ["fifth"]
    assert time.monotonic() - t0 >= 0.4  # a lower bound: a slow machine only adds
    # and the held connection still has nothing: its calls stay in order
    assert not h.closed_within(0.05) and h.buf == b""


def test_end_of_input_answers_everything(server):
    s = server()
    c = Conn(s.path)
    c.send(json.dumps(c.request("slow", {"ms": 100, "value": 1})).encode() + b"\n" +
           json.dumps(c.request("echo", [2])).encode())  # the last line has no newline
    c.sock.shutdown(socket.SHUT_WR)
    assert c.msg()["result"] == 1
    assert c.msg()["result"] == [2]
    assert c.line() is None


def test_notifications(server):
    s = server("--idle-ms", "300")
    sub, other, pub = Conn(s.path), Conn(s.path), Conn(s.path)
    assert result(sub.call("events.subscribe")) == {"subscribed": True}
    assert result(pub.call("emit", {"count": 3, "bytes": 10})) == {"subscribers": 1}
    for seq in range(3):
        m = sub.msg()
        assert "id" not in m and m["method"] == "test.event"
        assert m["params"] == {"seq": seq, "pad": "x" * 10}
    # a subscriber is never idle; others are dropped after idle_ms
    idle_since = time.monotonic()
    assert other.closed_within(10)
    # the subscriber has been silent longer than idle_ms too, and stays
    time.sleep(max(0.0, idle_since + 0.6 - time.monotonic()))
    pub = Conn(s.path)
    assert result(pub.call("emit", {"count": 1})) == {"subscribers": 1}
    assert sub.msg()["params"]["seq"] == 0
    # and it can still make calls
    assert result(sub.call("echo", [1])) == [1]
    # a subscriber that shuts down its sending side still gets notifications
    sub.sock.shutdown(socket.SHUT_WR)
    time.sleep(0.1)
    assert result(pub.call("emit", {"count": 2})) == {"subscribers": 1}
    assert [sub.msg()["params"]["seq"] for _ in range(2)] == [0, 1]
    sub.close()
    # it is dropped once a write to it fails (the server sees the close
    # asynchronously: emit until it has)
    deadline = time.monotonic() + 10
    while result(pub.call("emit", {"count": 1}))["subscribers"] != 0:
        assert time.monotonic() < deadline, "a closed subscriber was kept"
        time.sleep(0.05)


def test_shutdown_with_clients(server):
    s = server()
    busy, sub, half = Conn(s.path), Conn(s.path), Conn(s.path)
    busy.send(busy.request("hold"))
    busy.send(busy.request("echo", ["queued behind the held call"]))
    assert result(sub.call("events.subscribe")) == {"subscribed": True}
    half.send(b'{"jsonrpc":"2.0"')
    time.sleep(0.1)
    # SIGTERM: every connection closed, the held call released, no leaks
    s.stop()
    for c in (busy, sub, half):
        assert c.closed_within(5)
    assert not os.path.exists(s.path)


# ---- authorization ----

@needs_root
def test_permissions(server):
    s = server("--mode", "0666", "--admin-gid", str(ADMIN_GID),
               "--admin-group", "persistd-admin", "--daemon-uid", "1234")
    assert stat.S_IMODE(os.stat(s.path).st_mode) == 0o666
    calls = [["whoami", None], ["admin.poke", None], ["echo", ["read-only is fine"]]]

    r = as_peer(s.path, calls, NOBODY, NOBODY)["replies"]
    assert r[0]["result"]["uid"] == NOBODY and r[0]["result"]["admin"] is False
    e = error(r[1], -32001)
    assert "admin group 'persistd-admin'" in e["message"] and "admin.poke" in e["message"]
    assert r[2]["result"] == ["read-only is fine"]

    # admin: a supplementary group, the primary group, or the daemon's uid
    for uid, gid, groups in [(NOBODY, NOBODY, [ADMIN_GID]), (NOBODY, ADMIN_GID, []),
                             (1234, 1234, [])]:
        r = as_peer(s.path, calls, uid, gid, groups)["replies"]
        assert r[0]["result"]["admin"] is True, (uid, gid, groups)
        assert r[1]["result"] == {"poked": True}
    assert "denied 'admin.poke' to uid 65534" in s.stderr()


@needs_root
def test_socket_mode_and_group(server):
    s = server("--group", str(ADMIN_GID))
    st = os.stat(s.path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == ADMIN_GID
    # not in the group: the kernel refuses the connection
    import errno
    assert as_peer(s.path, [], NOBODY, NOBODY) == {"connect_errno": errno.EACCES}
    # in the group: may read, but not administer (no admin group configured)
    r = as_peer(s.path, [["echo", [1]], ["admin.poke", None]], NOBODY, NOBODY,
                [ADMIN_GID])["replies"]
    assert r[0]["result"] == [1]
    assert "no admin_group is configured" in error(r[1], -32001)["message"]


def test_existing_files(workdir, server):
    # a regular file is never replaced
    path = workdir / "control.sock"
    path.write_text("precious")
    p = subprocess.run([str(DRIVER), "--socket", str(path)], capture_output=True, timeout=20)
    assert p.returncode == 1 and b"not a socket" in p.stderr
    assert path.read_text() == "precious"
    path.unlink()

    # a stale socket (its daemon died) is replaced
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()
    s = server()
    assert "removing stale socket" in s.stderr()
    # a live one is not: a second server refuses to start
    p = subprocess.run([str(DRIVER), "--socket", s.path], capture_output=True, timeout=20)
    assert p.returncode == 1 and b"in use" in p.stderr
    assert result(Conn(s.path).call("echo", [1])) == [1]


def test_socket_activation(workdir, server):
    tool = shutil.which("systemd-socket-activate")
    if not tool:
        pytest.skip("systemd-socket-activate not installed")
    path = str(workdir / "activated.sock")
    s = server("--listen-fd", "3", wait_ready=False, prefix=(tool, "-l", path))
    # systemd-socket-activate starts the program at the first connection.
    # The path exists from bind(), before listen(): until then a connect
    # is refused, so retry it.
    deadline = time.monotonic() + 10
    while True:
        try:
            c = Conn(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            assert time.monotonic() < deadline, "systemd-socket-activate never listened"
            time.sleep(0.01)
    s.wait_ready()
    assert result(c.call("echo", ["activated"])) == ["activated"]


# ---- abuse: one server for all, checked for memory and health at the end ----

ABUSE_MAX_CONNS = 64
ABUSE_IDLE_MS = 1000
ABUSE_PENDING_OUT = 1 << 20


@pytest.fixture(scope="module")
def abused():
    d = tempfile.mkdtemp(prefix="persistd-ctl-abuse-")
    s = Server(d, "--max-conns", str(ABUSE_MAX_CONNS), "--idle-ms", str(ABUSE_IDLE_MS),
               "--max-pending-out-bytes", str(ABUSE_PENDING_OUT))
    c = Conn(s.path)
    result(c.call("big", {"bytes": 1 << 20}))
    c.close()
    s.rss_start_kb = s.rss_kb()
    try:
        yield s
        s.stop()
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
        shutil.rmtree(d, ignore_errors=True)


def healthy(s, timeout=2.0):
    """The server answers a new connection promptly."""
    t0 = time.monotonic()
    c = Conn(s.path)
    assert result(c.call("echo", ["still here"], timeout=timeout)) == ["still here"]
    c.close()
    return time.monotonic() - t0


def test_huge_line(abused):
    c = Conn(abused.path)
    line = b'{"jsonrpc":"2.0","method":"echo","params":["' + b"x" * (1 << 20)

    def blast():
        try:
            c.sock.sendall(line)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the server hung up on us, as it should

    t = threading.Thread(target=blast)
    t.start()
    e = error(c.msg(), -32002)
    assert "65536" in e["message"]
    assert c.closed_within(5)
    t.join(10)
    healthy(abused)


def test_garbage(abused):
    c = Conn(abused.path)
    bad = [
        b"garbage",
        b"\x00\x01\x02\xff\xfe",
        b'{"jsonrpc":"2.0","method":"echo","id":"\xc3\x28"}',
        b"[" * 60000,
        b"[]",
        b'[{"jsonrpc":"2.0","method":"echo","id":1}]',
        b"{}",
        b"42",
        b"1e99999",
        b'{"jsonrpc":"2.0","method":"echo\\u0000x","id":2}',
        b'{"jsonrpc":"2.0","method":"echo","id":[1]}',
        b'{"jsonrpc":"2.0","method":"echo","params":"str","id":3}',
        b'{"jsonrpc":"2.0","method":"echo","id":4,"id":5}',
        b'{"jsonrpc":"2.0","method":"echo","id":6}{"jsonrpc":"2.0"}',
        b'\t{"jsonrpc":"2.0","method":"echo","extra":true,"id":7}',
        bytes(range(1, 256)).replace(b"\n", b""),
    ]
    c.send(b"\n".join(bad) + b"\n")
    codes = [c.msg()["error"]["code"] for _ in bad]
    assert set(codes) <= {-32700, -32600}, codes
    assert codes[0] == -32700 and codes[4] == -32600
    # the connection stays usable after garbage
    assert result(c.call("echo", ["ok"])) == ["ok"]
    healthy(abused)


def test_half_lines_and_idle(abused):
    silent, half, trickle = Conn(abused.path), Conn(abused.path), Conn(abused.path)
    half.send(b'{"jsonrpc":"2.0","method":')
    t0 = time.monotonic()
    # bytes without a newline do not count as activity
    while time.monotonic() - t0 < ABUSE_IDLE_MS / 1000 + 0.5:
        try:
            trickle.send(b" ")
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.1)
    limit = ABUSE_IDLE_MS / 1000 + 10  # generous: a loaded machine fires timers late
    for conn in (silent, half, trickle):
        assert conn.closed_within(limit)
    assert time.monotonic() - t0 >= ABUSE_IDLE_MS / 1000 * 0.9
    healthy(abused)


def test_connection_flood(abused):
    log_before = abused.stderr().count("refusing new ones")
    t0 = time.monotonic()
    conns = []
    for _ in range(500):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(abused.path)
        conns.append(s)
    busy = answered = 0
    req = b'{"jsonrpc":"2.0","method":"echo","params":[1],"id":1}\n'
    for s in conns:
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
    for s in conns:
        f = s.makefile("rb")
        try:
            m = json.loads(f.readline())
        except (ConnectionResetError, json.JSONDecodeError):
            continue
        if m.get("error", {}).get("code") == -32003:
            assert "too many connections" in m["error"]["message"] and m["id"] is None
            busy += 1
        elif m.get("result") == [1]:
            answered += 1
    assert answered <= ABUSE_MAX_CONNS and answered >= 1
    assert busy >= 500 - ABUSE_MAX_CONNS - 10 and busy + answered >= 490
    for s in conns:
        s.close()
    # refusals are logged at most about once a second (the refusals all
    # came before their answers were read, so the log has them by now)
    logged = abused.stderr().count("refusing new ones") - log_before
    assert 1 <= logged <= 2 + (time.monotonic() - t0), logged
    healthy(abused)
    c = Conn(abused.path)
    deadline = time.monotonic() + 10
    while result(c.call("stats"))["connections"] > 2:
        assert time.monotonic() < deadline, "closed connections are still counted"
        time.sleep(0.05)


def test_client_never_reads_replies(abused):
    hog = Conn(abused.path)
    req = json.dumps(hog.request("echo", ["y" * 60000])).encode() + b"\n"
    sent = 0

    def probe():
        # Answered at all is the point (a blocked loop never answers); how
        # fast depends on the machine's load.
        return healthy(abused, timeout=20)

    hog.sock.settimeout(0.2)
    while sent < 64 << 20:
        try:
            hog.sock.sendall(req)
            sent += len(req)
        except (socket.timeout, BlockingIOError):
            pass  # the server stopped reading from us: let it notice
        except (BrokenPipeError, ConnectionResetError):
            break
        if sent % (10 * len(req)) == 0:
            probe()
    else:
        raise AssertionError("server kept a client that never reads")
    assert sent < 16 << 20
    assert "does not read its replies" in abused.stderr()
    healthy(abused)


def test_subscriber_never_reads(abused):
    sub = Conn(abused.path)
    assert result(sub.call("events.subscribe")) == {"subscribed": True}
    pub = Conn(abused.path)
    for _ in range(20):
        n = result(pub.call("emit", {"count": 20, "bytes": 65536}))["subscribers"]
        if n == 0:
            break
    else:
        raise AssertionError("a subscriber that never reads was kept")
    assert sub.closed_within(5)
    healthy(abused)


def test_clients_that_leave_mid_call(abused):
    for method, params in [("slow", {"ms": 200, "value": 1}), ("hold", None)]:
        c = Conn(abused.path)
        c.send(c.request(method, params))
        c.close()
    time.sleep(0.3)
    healthy(abused)


def test_memory_bounded_after_abuse(abused):
    healthy(abused)
    grown_kb = abused.rss_kb() - abused.rss_start_kb
    assert grown_kb < 48 * 1024, f"RSS grew by {grown_kb} KiB"


# ---- a result made in parts (control_call_reply_parts) ----

def parts_stats(s):
    c = Conn(s.path)
    st = result(c.call("stats"))
    c.close()
    return st


def read_result_slowly(c, pause_every=1 << 20, pause=0.02):
    """The next line, read in 64 KiB pieces with a pause after each MiB."""
    got, since = bytearray(c.buf), 0
    c.sock.settimeout(20)
    while not got.endswith(b"\n"):
        chunk = c.sock.recv(65536)
        assert chunk, "connection closed mid-line"
        got += chunk
        since += len(chunk)
        if since >= pause_every:
            since = 0
            time.sleep(pause)
    c.buf = b""
    return json.loads(bytes(got))


def test_parts_held_back_by_a_slow_reader(server):
    s = server("--idle-ms", "5000")
    c = Conn(s.path)
    count, pad = 60000, 200  # about 13 MB
    req = c.request("parts", {"count": count, "bytes": pad})
    c.send(req)
    time.sleep(0.5)
    # Nobody reads yet: the server made a few parts and then waited for the
    # socket; the rest is not made, let alone held.
    st = parts_stats(s)
    assert st["parts_live"] == 1, st
    assert 0 < st["parts_made"] < 24, st
    assert result(Conn(s.path).call("echo", ["meanwhile"])) == ["meanwhile"]
    m = read_result_slowly(c)
    assert m["id"] == req["id"]
    items = result(m)
    assert [i["seq"] for i in items] == list(range(count))
    assert all(i["pad"] == "x" * pad for i in items[:: count // 50])
    st = parts_stats(s)
    assert st["parts_live"] == 0, st
    assert st["parts_made"] >= count * pad // 65536, st
    # The connection goes on with the next call.
    assert result(c.call("echo", [1])) == [1]


def test_parts_client_leaves_or_stops_reading(server):
    s = server("--idle-ms", "600")
    # Leaves after reading a little: the call is given up, its userdata freed.
    c = Conn(s.path)
    c.send(c.request("parts", {"count": 100000, "bytes": 300}))
    assert len(c.sock.recv(65536)) > 0
    c.close()
    # Stops reading: dropped once idle_ms passes without progress.
    quiet = Conn(s.path)
    quiet.send(quiet.request("parts", {"count": 100000, "bytes": 300}))
    time.sleep(1.5)
    assert quiet.closed_within(5)
    deadline = time.monotonic() + 5
    while parts_stats(s)["parts_live"] != 0:
        assert time.monotonic() < deadline, parts_stats(s)
        time.sleep(0.05)
    assert "output not read in 600 ms" in s.stderr()
    assert len(quiet.buf) < 8 << 20  # it got part of the line, not all of it


def test_parts_to_a_subscriber_stay_whole(server):
    s = server()
    sub = Conn(s.path)
    assert result(sub.call("events.subscribe")) == {"subscribed": True}
    req = sub.request("parts", {"count": 20000, "bytes": 100})
    sub.send(req)
    pub = Conn(s.path)
    assert result(pub.call("emit", {"count": 10, "bytes": 10}))["subscribers"] == 1
    # Every line whole: the notifications never land inside the result.
    seen_result, events = None, 0
    while seen_result is None or events < 10:
        m = sub.msg(timeout=20)
        if m.get("method") == "test.event":
            events += 1
        else:
            assert m["id"] == req["id"], m
            seen_result = result(m)
    assert [i["seq"] for i in seen_result] == list(range(20000))


def test_parts_at_shutdown(server):
    s = server()
    c = Conn(s.path)
    c.send(c.request("parts", {"count": 100000, "bytes": 300}))
    time.sleep(0.3)
    log = s.stop()  # a clean exit: the call under way is given up and freed
    assert "ERROR" not in log
