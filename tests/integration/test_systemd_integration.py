"""persistd's systemd pieces, tested without systemd as PID 1 (the test plan in
docs/architecture.md): sd_notify to a datagram socket of the test (READY, STATUS,
RELOADING, STOPPING, WATCHDOG), socket activation through
systemd-socket-activate, and the journal for real: Debian's
systemd-journald started as a plain process, alerts read back with
journalctl, and the shipped catalog explaining them. Also: a name that
stays non-OK is reminded once a day, not at every check.

Every test runs a real knotd (a signed example.test under an unsigned
`test` parent), the test CA, and persistd --test-clock from
$PERSISTD_BUILD, and stops whatever it started. The journal test removes
exactly what journald created under /run and leaves a catalog only in a
temp root."""
import errno
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import warnings

import pytest

ZONE = "example.test"
FQDN = "www.example.test"
DAY = 86400
HOUR = 3600

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALERT_C = ROOT / "daemon" / "alert.c"
CATALOG = ROOT / "systemd" / "persistd.catalog"

JOURNALD = "/lib/systemd/systemd-journald"
JOURNALCTL = shutil.which("journalctl") or "/usr/bin/journalctl"
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"
JOURNAL_RUN = pathlib.Path("/run/systemd/journal")
JOURNAL_SOCKET = JOURNAL_RUN / "socket"
# What a journald run may create; the test removes what was not there before.
JOURNAL_TREES = ("/run/systemd/journal", "/run/log", "/var/log/journal")
SYSTEM_CATALOG_DB = pathlib.Path("/var/lib/systemd/catalog/database")

STATUS_RE = re.compile(
    r"^(\d+) certs, (\d+) warning, (\d+) critical, (\d+) error, next renewal in (\S.*)$")

# daemon/alert.c's table: kind -> MESSAGE_ID.
MESSAGE_IDS = dict(re.findall(r'\{ "([a-z-]+)", "([0-9a-f]{32})" \}', ALERT_C.read_text()))


# ---- the world: knotd, the test CA, a persistd config ----

@pytest.fixture
def world(knot, testca_factory, persistd_env):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": [FQDN], "persist_until": "2030-01-01"}},
        daemon_extra={"trust_anchor": zone.trust_anchor_file(), "recheck_interval": "1h",
                      "warn_before": "30d", "critical_before": "7d"})

    class W:
        pass
    w = W()
    w.knot, w.zone, w.ca, w.env = knot, zone, ca, env
    return w


def publish(w, persist_until=None):
    """Publish the record persistd asks for (persistctl record --format json),
    with another persistUntil if given."""
    recs, _ = w.env.ctl_json("record", "www", "--format", "json", check=0)
    (rec,) = recs
    value = rec["value"]
    if persist_until is not None:
        value = re.sub(r"persistUntil=\d+", f"persistUntil={persist_until}", value)
    w.zone.set(f'{rec["owner"][: -len(ZONE) - 1]} TXT "{value}"\nwww A 192.0.2.1')
    return rec


def unpublish(w):
    w.zone.set("www A 192.0.2.1")


def daemon_now(w):
    return w.env.rpc("status")["now"]


def name_state(w):
    return w.env.rpc("status")["cert_list"][0]["names"][0]


def wait_rechecked(w, since):
    """Until the name was checked at or after `since` (daemon clock): the
    rechecks a clock jump made due have run."""
    if isinstance(since, dict):
        since = since.get("now", 0)
    w.env.wait_for(lambda: name_state(w)["checked_at"] >= since, timeout=30,
                   what="the rechecks after the clock jump")


def wait_idle(env):
    """Until no renewal is in flight (the one a fresh daemon starts at once,
    which fails for want of a record)."""
    env.wait_for(lambda: env.rpc("status")["jobs_running"] == 0, timeout=30,
                 what="the renewal in flight to end")


def start_daemon(env, prefix=(), extra_env=None, args=()):
    """persistd -c CONF --test-clock ARGS behind a command prefix (a wrapper
    that execs it), with the fixture's bookkeeping so that Env.stop() and the
    fixture's teardown stop it."""
    assert env.proc is None or env.proc.poll() is not None
    env.log = open(env.logfile, "a")
    e = env.env()
    e.update(extra_env or {})
    env.proc = subprocess.Popen([*prefix, env.persistd, "-c", str(env.conf), "--test-clock", *args],
                                stdout=env.log, stderr=subprocess.STDOUT, env=e)
    return env.proc


# ---- NOTIFY_SOCKET ----

class NotifySocket:
    """The receiving end of sd_notify: an AF_UNIX datagram socket. Keeps
    every line with the time it came and the sender's pid (SCM_CREDENTIALS)."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.lines = []  # (monotonic time, sender pid, line)

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
        except (socket.timeout, BlockingIOError):
            return False
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        now = time.monotonic()
        for line in data.decode().split("\n"):
            if line:
                self.lines.append((now, pid, line))
        return True

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._recv(deadline - time.monotonic())

    def wait(self, predicate, start=0, timeout=30, proc=None):
        """The index of the first line at or after start that matches."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(start, len(self.lines)):
                if predicate(self.lines[i][2]):
                    return i
            if proc is not None and proc.poll() is not None:
                self.collect(0.2)
                for i in range(start, len(self.lines)):
                    if predicate(self.lines[i][2]):
                        return i
                raise AssertionError(f"persistd exited {proc.returncode}; notify lines: "
                                     f"{self.texts(start)}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching notify line; got {self.texts(start)}")
            self._recv(min(left, 0.2))

    def texts(self, start=0, end=None):
        return [line for _, _, line in self.lines[start:end]]

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


@pytest.fixture
def notify_socket(tmp_path):
    n = NotifySocket(tmp_path / "notify.sock")
    yield n
    n.close()


def is_line(text):
    return lambda line: line == text


def test_sd_notify_ready_status_reload_stop(world, notify_socket):
    """READY=1 only once the control socket listens, STATUS= with the summary,
    RELOADING=1 ... READY=1 around persistctl reload, SIGHUP and a bad
    reload, STOPPING=1 at SIGTERM and exit 0; no watchdog pings unasked."""
    env, n = world.env, notify_socket
    proc = start_daemon(env, extra_env={"NOTIFY_SOCKET": n.path})

    ready = n.wait(is_line("READY=1"), proc=proc)
    # READY=1 promises a listening control socket: ask right away, no retry.
    st = env.rpc("status")
    assert st["pid"] == proc.pid
    assert all(pid == proc.pid for _, pid, _ in n.lines), n.lines
    assert n.texts().count("READY=1") == 1

    # The READY datagram carries STATUS= with the one-line summary.
    status_lines = [t for t in n.texts(0, ready + 2) if t.startswith("STATUS=")]
    assert status_lines, n.texts()
    m = STATUS_RE.match(status_lines[-1][len("STATUS="):])
    assert m, status_lines
    assert m.group(1) == "1"
    assert STATUS_RE.match(st["summary"]), st["summary"]
    # Reloads below wait for the start-up renewal: a reload while an order is
    # in flight is test_reload_while_order_in_flight.
    wait_idle(env)

    def reload_cycle(trigger):
        mark = len(n.lines)
        trigger()
        i = n.wait(is_line("RELOADING=1"), start=mark, proc=proc)
        j = n.wait(is_line("READY=1"), start=i + 1, proc=proc)
        return n.texts(i, j + 1)

    # persistctl reload, with a second cert added: STATUS= says 2 certs.
    (env.etc / "certs.d" / "two.conf").write_text(
        "[cert two]\nca = test\nnames = two.example.test\n")
    seen = reload_cycle(lambda: env.ctl("reload", check=0))
    statuses = [t for t in seen if t.startswith("STATUS=")]
    assert statuses and STATUS_RE.match(statuses[-1][7:]).group(1) == "2", seen

    # SIGHUP does the same.
    (env.etc / "certs.d" / "two.conf").unlink()
    seen = reload_cycle(lambda: proc.send_signal(signal.SIGHUP))
    statuses = [t for t in seen if t.startswith("STATUS=")]
    assert statuses and STATUS_RE.match(statuses[-1][7:]).group(1) == "1", seen

    # A bad configuration: RELOADING=1, then READY=1 with the old one kept.
    conf = env.etc / "certs.d" / "www.conf"
    good = conf.read_text()
    conf.write_text(good + "bogus_key = 1\n")
    seen = reload_cycle(lambda: env.ctl("reload", check=1))
    assert env.rpc("status")["certs"] == 1
    conf.write_text(good)

    # SIGTERM: STOPPING=1, exit status 0.
    mark = len(n.lines)
    assert env.stop(signal.SIGTERM) == 0, env.read_log()[-3000:]
    n.collect(0.2)
    assert "STOPPING=1" in n.texts(mark), n.texts(mark)
    assert not any(t.startswith("WATCHDOG=") for t in n.texts()), n.texts()


def test_sd_notify_watchdog(world, notify_socket):
    """With WATCHDOG_USEC=1.5 s and WATCHDOG_PID naming the daemon, it pings
    WATCHDOG=1 well within the interval; WATCHDOG_PID of another process
    means the watchdog is not the daemon's, and it stays silent."""
    env, n = world.env, notify_socket
    usec = 1_500_000
    # The wrapper sets WATCHDOG_PID to its own pid and execs persistd, which
    # then has that pid (what systemd does for the main process).
    proc = start_daemon(env, prefix=("sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"),
                        extra_env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": str(usec)})
    n.wait(is_line("READY=1"), proc=proc)
    assert env.rpc("status")["pid"] == proc.pid
    mark = len(n.lines)
    n.collect(3.0)
    pings = [t for t, pid, line in n.lines[mark:] if line == "WATCHDOG=1" and pid == proc.pid]
    # Every WATCHDOG_USEC/3 = 0.5 s; systemd would kill it after a gap of 1.5 s.
    assert len(pings) >= 3, n.texts(mark)
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < usec / 1e6, gaps
    assert env.stop() == 0

    # Someone else's watchdog (WATCHDOG_PID = the test's pid): no pings.
    mark = len(n.lines)
    proc = start_daemon(env, extra_env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": str(usec),
                                        "WATCHDOG_PID": str(os.getpid())})
    n.wait(is_line("READY=1"), start=mark, proc=proc)
    n.collect(1.5)
    mine = [line for _, pid, line in n.lines[mark:] if pid == proc.pid]
    assert "READY=1" in mine and "WATCHDOG=1" not in mine, mine
    assert env.stop() == 0


def test_reload_while_order_in_flight(world, notify_socket):
    """systemctl reload (persistctl reload) while the CA is still answering
    a new-order: RELOADING=1, READY=1, and the daemon lives on through the
    CA's answer."""
    env, n = world.env, notify_socket
    world.ca.faults("slow", count=1, delay_ms=1500, path="/acme/new-order")
    proc = start_daemon(env, extra_env={"NOTIFY_SOCKET": n.path})
    n.wait(is_line("READY=1"), proc=proc)
    env.wait_for(lambda: re.search(r"POST \S+/acme/new-order", env.read_log()), timeout=30,
                 what="the new-order request")
    mark = len(n.lines)
    env.ctl("reload", check=0)
    i = n.wait(is_line("RELOADING=1"), start=mark, proc=proc)
    n.wait(is_line("READY=1"), start=i + 1, proc=proc)
    # The CA answers the order now.
    env.wait_for(lambda: "/acme/new-order: HTTP" in env.read_log() or proc.poll() is not None,
                 timeout=30, what="the CA's answer to new-order")
    # ...and the daemon acted on it (the renewal went on or ended).
    env.wait_for(lambda: proc.poll() is not None or re.search(
        r"cert 'www': (new order|renewal failed)", env.read_log()), timeout=30,
        what="the daemon to act on the new-order answer")
    assert proc.poll() is None, env.read_log()[-6000:]
    assert env.rpc("status")["certs"] == 1
    assert env.stop() == 0


# ---- socket activation ----

def test_socket_activation(world, tmp_path):
    """Under systemd-socket-activate the daemon serves the socket it is given
    (LISTEN_FDS), answers persistctl through it, and never creates its own
    control_socket."""
    env = world.env
    own = env.socket  # control_socket in the config
    passed = tmp_path / "activated.sock"
    proc = start_daemon(env, prefix=(SOCKET_ACTIVATE, "-l", str(passed),
                                     "-E", "ASAN_OPTIONS", "-E", "UBSAN_OPTIONS", "-E", "PATH"))
    deadline = time.monotonic() + 10
    while not passed.exists():
        assert proc.poll() is None, env.read_log()
        assert time.monotonic() < deadline, "systemd-socket-activate did not listen"
        time.sleep(0.02)
    # systemd-socket-activate waits for the first connection, then execs
    # persistd (same pid) with LISTEN_FDS=1; the connection waits in the
    # socket's backlog meanwhile.
    env.socket = passed
    try:
        out, rc = env.ctl_json("status")
        assert rc in (0, 1, 2), out
        assert out["pid"] == proc.pid and out["certs"] == 1
        assert env.ctl("list").returncode in (0, 1, 2)
        assert env.rpc("records.list")[0]["record"]["name"] == FQDN
        wait_idle(env)
        env.ctl("reload", check=0)
        log = env.read_log()
        assert "using the control socket passed by systemd" in log, log[-3000:]
        assert not own.exists(), "persistd created its own control socket"
        assert env.stop() == 0
    finally:
        env.socket = own
    assert not own.exists()
    # The socket belongs to whoever passed it: the daemon leaves its file.
    assert passed.is_socket()


# ---- the journal ----

def tree(roots):
    """Every path under roots (themselves included), not following links."""
    seen = set()
    for r in roots:
        if not os.path.lexists(r):
            continue
        seen.add(r)
        for dirpath, dirnames, filenames in os.walk(r):
            for x in dirnames + filenames:
                seen.add(os.path.join(dirpath, x))
    return seen


def socket_live(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def seqnum(entry):
    """The entry's sequence number in its journal, from its cursor."""
    return int(re.search(r"(?:^|;)i=([0-9a-f]+)", entry["__CURSOR"]).group(1), 16)


class Journald:
    def __init__(self, proc, log):
        self.proc, self.log = proc, log

    def entries(self, *matches, timeout=10, want=1, after=None):
        """journalctl -D /run/log/journal MATCHES -o json, the entries written
        after entry `after` if given, waiting up to timeout for `want`."""
        deadline = time.monotonic() + timeout
        while True:
            p = subprocess.run([JOURNALCTL, "-D", "/run/log/journal", "--no-pager", "-o", "json",
                                *matches], capture_output=True, text=True, timeout=30)
            got = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
            # Not --after-cursor: with matches that the cursor's entry does not
            # satisfy, journalctl 252 skips the first matching entry as well.
            if after is not None:
                got = [e for e in got if seqnum(e) > seqnum(after)]
            if len(got) >= want or time.monotonic() > deadline:
                return got
            time.sleep(0.1)


@pytest.fixture
def journald(tmp_path):
    """systemd-journald as a plain process, owning /run/systemd/journal; at
    teardown it is stopped and every path it created is removed."""
    if not os.access(JOURNALD, os.X_OK):
        pytest.skip(f"{JOURNALD} is not installed (Debian package systemd)")
    # One journald per machine: serialize test runs on an abstract socket
    # (no file to leave behind).
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 120
    while True:
        try:
            lock.bind("\0persistd-test-journald")
            break
        except OSError as e:
            if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        if socket_live(JOURNAL_SOCKET):
            pytest.skip("a journald already owns /run/systemd/journal (systemd is running): "
                        "this test starts its own and will not disturb that one")
        before = tree(JOURNAL_TREES)
        log_path = tmp_path / "journald.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC")}
        with open(log_path, "w") as log:
            proc = subprocess.Popen([JOURNALD], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 15
            while not socket_live(JOURNAL_SOCKET):
                if proc.poll() is not None:
                    pytest.skip(f"systemd-journald cannot run here (exit {proc.returncode}): "
                                f"{log_path.read_text()[-1500:]}")
                assert time.monotonic() < deadline, ("journald did not listen:\n"
                                                     + log_path.read_text())
                time.sleep(0.05)
            yield Journald(proc, log_path)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            created = tree(JOURNAL_TREES) - before
            for p in sorted(created, key=lambda p: p.count("/"), reverse=True):
                if os.path.isdir(p) and not os.path.islink(p):
                    os.rmdir(p)
                else:
                    os.unlink(p)
            assert tree(JOURNAL_TREES) == before
    finally:
        lock.close()


def bind_catalog_and_run(database, argv):
    """Run argv in a private mount namespace where database is bind-mounted
    over the system's catalog database: journalctl -x reads the catalog only
    from /var/lib/systemd/catalog/database, even with -D. Nothing outside
    the namespace sees the mount (unshare makes mounts private), and no
    mount(8) bookkeeping is written to /run."""
    script = ("import ctypes, os, sys\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "if libc.mount(sys.argv[1].encode(), sys.argv[2].encode(), None, 4096, None):\n"
              "    sys.exit('bind mount: ' + os.strerror(ctypes.get_errno()))\n"
              "os.execvp(sys.argv[3], sys.argv[3:])\n")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "/usr/bin/python3",
                           "-c", script, str(database), str(SYSTEM_CATALOG_DB), *argv],
                          capture_output=True, text=True, timeout=30)


def test_journal_alerts_and_catalog(journald, world, tmp_path):
    """Alerts reach a real journal with MESSAGE_ID, PRIORITY and the
    PERSISTD_* fields; the daily reminder is PERSISTD_REMINDER=1; and the
    shipped catalog explains each MESSAGE_ID."""
    w, env = world, world.env
    env.start("--log-target=journal")
    pid = env.proc.pid
    start = journald.entries("SYSLOG_IDENTIFIER=persistd", f"_PID={pid}")
    assert any("started" in e["MESSAGE"] for e in start), start
    assert "ALERT" not in env.read_log()  # nothing fell back to stderr

    def alerts(kind, **kw):
        return journald.entries(f"MESSAGE_ID={MESSAGE_IDS[kind]}", f"_PID={pid}", **kw)

    now = daemon_now(w)
    # persistUntil 20 days out: WARNING (priority 4).
    until20 = now + 20 * DAY + 12 * HOUR
    publish(w, until20)
    env.ctl("check", "--all")
    (warn,) = alerts("record-warning")
    # 5 days out: CRITICAL (priority 2).
    until5 = now + 5 * DAY + 12 * HOUR
    publish(w, until5)
    env.ctl("check", "--all")
    (crit,) = alerts("record-critical")
    st = name_state(w)
    assert st["level"] == "CRITICAL"

    for e, kind, prio, until, days in ((warn, "record-warning", "4", until20, "20"),
                                       (crit, "record-critical", "2", until5, "5")):
        assert e["MESSAGE_ID"] == MESSAGE_IDS[kind]
        assert e["PRIORITY"] == prio
        assert e["SYSLOG_IDENTIFIER"] == "persistd"
        assert e["PERSISTD_CERT"] == "www"
        assert e["PERSISTD_FQDN"] == FQDN
        assert e["PERSISTD_OWNER"] == "_validation-persist." + FQDN
        assert e["PERSISTD_STATUS"] == "VALID"
        assert e["PERSISTD_UNTIL"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
        assert e["PERSISTD_DAYS_LEFT"] == days
        assert e["PERSISTD_ALERT"] == kind
        assert e["PERSISTD_REMINDER"] == "0"
        assert f"expires in {days} days" in e["MESSAGE"]
    assert crit["PERSISTD_LEVEL"] == "CRITICAL" and warn["PERSISTD_LEVEL"] == "WARNING"

    # Still CRITICAL at every check: no new alert, no reminder...
    for _ in range(3):
        env.ctl("check", "--all")
    assert len(alerts("record-critical", want=2, timeout=0.5)) == 1
    reminders = [f"_PID={pid}", f"PERSISTD_FQDN={FQDN}", "PERSISTD_REMINDER=1"]
    assert journald.entries(*reminders, timeout=0.5) == []
    # ...until a day has passed: exactly one reminder.
    jumped = env.shift_time(25 * HOUR)
    wait_rechecked(w, jumped)  # the rechecks the clock jump made due
    env.ctl("check", "--all")
    (rem,) = journald.entries(*reminders)
    assert rem["MESSAGE_ID"] == MESSAGE_IDS["record-critical"] and rem["PRIORITY"] == "2"
    assert rem["PERSISTD_DAYS_LEFT"] == "4"  # 5 days + 12 h - 25 h
    assert len(journald.entries(*reminders, timeout=0.5, want=2)) == 1

    # The record disappears: ERROR (priority 3), NO_RECORD.
    unpublish(w)
    env.ctl("check", "--all")
    (err,) = alerts("record-error", after=rem)
    assert err["PRIORITY"] == "3" and err["PERSISTD_LEVEL"] == "ERROR"
    assert err["PERSISTD_STATUS"] == "NO_RECORD"
    assert err["PERSISTD_CERT"] == "www" and err["PERSISTD_FQDN"] == FQDN
    assert err["PERSISTD_REMINDER"] == "0"
    for field in ("PERSISTD_UNTIL", "PERSISTD_DAYS_LEFT", "PERSISTD_REASON"):
        assert field in err, err
    assert env.stop() == 0

    # The catalog, installed into a temp root the way the package does.
    root = tmp_path / "root"
    (root / "usr/lib/systemd/catalog").mkdir(parents=True)
    shutil.copy(CATALOG, root / "usr/lib/systemd/catalog/persistd.catalog")
    subprocess.run([JOURNALCTL, f"--root={root}", "--update-catalog"], check=True,
                   capture_output=True, timeout=30)
    database = root / "var/lib/systemd/catalog/database"
    assert database.is_file()
    # Every MESSAGE_ID persistd writes has an entry.
    p = subprocess.run([JOURNALCTL, f"--root={root}", "--list-catalog", *MESSAGE_IDS.values()],
                       capture_output=True, text=True, check=True, timeout=30)
    listed = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    assert set(listed) == set(MESSAGE_IDS.values()), p.stdout
    assert all(s.startswith("persistd: ") for s in listed.values()), listed
    # The explanation of record-critical, as the catalog says it.
    crit_id = MESSAGE_IDS["record-critical"]
    p = subprocess.run([JOURNALCTL, f"--root={root}", "--dump-catalog", crit_id],
                       capture_output=True, text=True, check=True, timeout=30)
    assert p.stdout.startswith(f"-- {crit_id}\n"), p.stdout
    assert ("Subject: the dns-persist-01 record for @PERSISTD_FQDN@ expires in "
            "@PERSISTD_DAYS_LEFT@ days (critical)") in p.stdout
    assert "persistctl record @PERSISTD_CERT@" in p.stdout
    assert "persistd repeats this alert once a day" in p.stdout

    # journalctl -x on the real entries: the explanation with this alert's
    # fields filled in. -x reads only the system's catalog database, so the
    # temp one is bind-mounted over it in a private mount namespace.
    if not SYSTEM_CATALOG_DB.is_file() or not shutil.which("unshare"):
        return
    p = bind_catalog_and_run(database, [JOURNALCTL, "-D", "/run/log/journal", "--no-pager",
                                        "-x", f"MESSAGE_ID={crit_id}", f"_PID={pid}"])
    if p.returncode != 0 and ("bind mount" in p.stderr or "unshare" in p.stderr):
        warnings.warn(f"journalctl -x not tried: no private mount namespace here: "
                      f"{p.stderr.strip()}")
        return
    assert p.returncode == 0, p.stderr
    assert (f"Subject: the dns-persist-01 record for {FQDN} expires in 5 days (critical)"
            in p.stdout), p.stdout
    assert f"The _validation-persist record at _validation-persist.{FQDN}," in p.stdout


# ---- reminders ----

REMINDER_RE = re.compile(rf"ALERT \S+ record-\S+ cert=www fqdn={re.escape(FQDN)} .*\(reminder\):")
CRITICAL_RE = re.compile(rf"ALERT CRITICAL record-critical cert=www fqdn={re.escape(FQDN)} ")


def test_reminder_once_a_day(world):
    """A name that stays CRITICAL is alerted once when it changes, reminded
    once a day after that, and never at every check (stderr alert lines)."""
    w, env = world, world.env
    env.start()
    until = daemon_now(w) + 5 * DAY + HOUR
    publish(w, until)
    env.ctl("check", "--all")
    assert name_state(w)["level"] == "CRITICAL"

    def count(regex):
        return sum(1 for line in env.read_log().splitlines() if regex.search(line))
    assert count(CRITICAL_RE) == 1
    for _ in range(3):
        env.ctl("check", "--all")
    assert count(CRITICAL_RE) == 1 and count(REMINDER_RE) == 0

    # A day and an hour later: one reminder, also after the rechecks that
    # the jump made due and another check.
    env.shift_time(25 * HOUR)
    env.wait_for(lambda: count(REMINDER_RE) >= 1, timeout=10, what="a reminder")
    wait_rechecked(w, env.rpc("status")["now"])
    env.ctl("check", "--all")
    assert count(REMINDER_RE) == 1, env.read_log()[-4000:]
    # 23 hours after the reminder: none; 25 hours after: the next one.
    env.shift_time(23 * HOUR)
    env.ctl("check", "--all")
    assert count(REMINDER_RE) == 1
    env.shift_time(2 * HOUR)
    env.wait_for(lambda: count(REMINDER_RE) >= 2, timeout=10, what="the second reminder")
    env.ctl("check", "--all")
    assert count(REMINDER_RE) == 2
    assert count(CRITICAL_RE) == 3  # the change and two reminders
    assert name_state(w)["level"] == "CRITICAL"
    assert env.stop() == 0
