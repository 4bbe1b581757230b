"""A daemon with thousands of certs (issue 12): the status method's summary,
pages and one-cert answers, the full reply of 10,000 certs read and parsed,
a client that reads that reply slowly while another is answered, and
`persistctl status` showing one page and saying how to see more.

Every cert is pre-populated in the store (certs/NAME/archive/1 + current,
signed by a throw-away issuer, valid 89 days), so nothing is due; the CA and
the resolver are loopback ports where nothing listens, so the daemon never
talks to anything. One cert, c00007, expired yesterday: it is ERROR, and
the summary must name it as the worst."""
import datetime
import json
import os
import pathlib
import socket
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fixtures.daemon import Env

N = 10_000
SICK = "c00007"


def populate(state, n):
    now = datetime.datetime.now(datetime.timezone.utc)
    ikey = ec.generate_private_key(ec.SECP256R1())
    iname = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scale test issuer")])
    issuer = (x509.CertificateBuilder().subject_name(iname).issuer_name(iname)
              .public_key(ikey.public_key()).serial_number(1)
              .not_valid_before(now - datetime.timedelta(days=2))
              .not_valid_after(now + datetime.timedelta(days=365))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .sign(ikey, hashes.SHA256()))
    chain = issuer.public_bytes(serialization.Encoding.PEM)
    key = ec.generate_private_key(ec.SECP256R1())
    kpem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    for i in range(n):
        name = f"c{i:05d}"
        days = -1 if name == SICK else 89
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                            f"n{i:05d}.scale.test")]))
                .issuer_name(iname).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=10))
                .not_valid_after(now + datetime.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"n{i:05d}.scale.test")]),
                               critical=False)
                .sign(ikey, hashes.SHA256()))
        a = state / "certs" / name / "archive" / "1"
        a.mkdir(parents=True)
        pem = leaf.public_bytes(serialization.Encoding.PEM)
        fd = os.open(a / "privkey.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, kpem)
        os.close(fd)
        (a / "cert.pem").write_bytes(pem)
        (a / "chain.pem").write_bytes(chain)
        (a / "fullchain.pem").write_bytes(pem + chain)
        os.symlink("archive/1", a.parent.parent / "current")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    # Nothing listens on the discard port of 127.0.0.1: every CA or DNS
    # question fails at once, and nothing is due anyway.
    cas = {"test": {"directory": "https://127.0.0.1:9/directory",
                    "contact": "mailto:ops@example.test"}}
    certs = {f"c{i:05d}": {"ca": "test", "names": f"n{i:05d}.scale.test"} for i in range(N)}
    env = Env(tmp, cas, certs, daemon_extra={"resolver": "127.0.0.1@9", "log_level": "info",
                                            "recheck_interval": "6h"})
    env.state.mkdir(mode=0o700)
    populate(env.state, N)
    env.start(wait=False)
    env.wait_ready(timeout=300)
    yield env
    env.stop(timeout=120)


def call(env, method, params=None, timeout=120):
    """One call; returns the whole decoded reply (result or error)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(env.socket))
    req = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        req["params"] = params
    s.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        assert chunk, "the daemon closed before the end of its reply"
        buf += chunk
    s.close()
    assert buf.count(b"\n") == 1, "one reply is one line"
    return json.loads(buf)


def summary_with_error(env):
    r = call(env, "status", {"summary": True})["result"]
    return r if r["counts"]["ERROR"] else None


def test_summary(big):
    r = big.wait_for(lambda: summary_with_error(big), timeout=120, what="the expired cert's ERROR")
    assert r["certs"] == N and r["names"] == N
    assert "cert_list" not in r and "page" not in r
    assert sum(r["counts"].values()) == N
    assert r["level"] == "ERROR"
    assert 1 <= len(r["worst"]) <= 10
    assert r["worst"][0]["name"] == SICK, r["worst"]
    assert r["worst"][0]["level"] == "ERROR"
    assert r["worst"][0]["reason"]
    assert r["next_check"] > 0 and r["next_check_cert"]


def test_pages_cover_every_cert_once(big):
    seen, offset, pages = [], 0, 0
    while offset is not None:
        r = call(big, "status", {"limit": 3000, "offset": offset})["result"]
        page = r["page"]
        assert page["offset"] == offset and page["total"] == N and page["limit"] == 3000
        assert page["returned"] == len(r["cert_list"]) <= 3000
        seen += [c["name"] for c in r["cert_list"]]
        # The counts and the level are the whole host's, whatever the page.
        assert r["certs"] == N and r["level"] in ("CRITICAL", "ERROR")
        offset = page["next_offset"]
        pages += 1
    assert pages == 4
    assert seen == [f"c{i:05d}" for i in range(N)]
    r = call(big, "status", {"limit": 10, "offset": N + 5})["result"]
    assert r["cert_list"] == [] and r["page"]["next_offset"] is None
    r = call(big, "status", {"offset": N - 2})["result"]
    assert [c["name"] for c in r["cert_list"]] == [f"c{N - 2:05d}", f"c{N - 1:05d}"]


def test_one_cert_and_bad_params(big):
    r = call(big, "status", {"cert": "c01234"})["result"]
    assert [c["name"] for c in r["cert_list"]] == ["c01234"]
    assert r["cert_list"][0]["names"][0]["name"] == "n01234.scale.test"
    assert call(big, "status", {"cert": "nope"})["error"]["code"] == -32004
    for bad in ({"limit": -1}, {"limit": "5"}, {"offset": 1.5}, {"summary": 1},
                {"cert": 5}, {"colour": True}, [1, 2]):
        assert call(big, "status", bad)["error"]["code"] == -32602, bad


def test_full_reply_read_and_parsed(big):
    r = call(big, "status")["result"]
    assert len(r["cert_list"]) == N and "page" not in r
    assert [c["name"] for c in r["cert_list"][:3]] == ["c00000", "c00001", "c00002"]


def test_persistctl_json_full_status(big):
    """`persistctl --json status` of all 10,000 certs (printed without a parse
    tree, ctl/jsonpass): one whole document, the same certs and members as
    the daemon's reply, pretty-printed, exit 2 for the one ERROR cert."""
    raw = call(big, "status")["result"]
    p = big.ctl("--json", "status", check=2, timeout=120)
    out = json.loads(p.stdout)
    assert out["level"] == "ERROR" and out["certs"] == N
    assert [c["name"] for c in out["cert_list"]] == [c["name"] for c in raw["cert_list"]]
    assert out["cert_list"][7] == raw["cert_list"][7]
    assert set(out) == set(raw)
    assert p.stdout.startswith('{\n  "version": ') and p.stdout.endswith("}\n")


def test_slow_reader_does_not_block_others(big):
    """One client asks for the full 10,000-cert status and does not read;
    another is answered meanwhile; then the first reads its reply slowly, in
    small pieces, and gets all of it."""
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(str(big.socket))
    slow.sendall(b'{"jsonrpc":"2.0","id":1,"method":"status"}\n')
    deadline = time.monotonic() + 60
    answered = 0
    while answered < 5:
        assert time.monotonic() < deadline, "the daemon stopped answering others"
        r = call(big, "status", {"summary": True}, timeout=30)
        assert r["result"]["certs"] == N
        answered += 1
    slow.settimeout(60)
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = slow.recv(65536)
        assert chunk, "closed before the end of the reply"
        buf += chunk
    slow.close()
    assert len(json.loads(buf)["result"]["cert_list"]) == N


def test_persistctl_status_pages(big):
    p = big.ctl("status", check=2)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("persistd ") and f"{N} certs" in lines[0]
    # 100 certs, two rows each (the certificate and its one name), plus the header.
    rows = [x for x in lines if x.startswith("c0")]
    assert len(rows) == 200
    assert "certs 1-100 of 10000 shown" in p.stdout
    assert "persistctl status --offset 100" in p.stdout
    p = big.ctl("status", "--limit", "3", "--offset", "9998", check=2)
    assert [x.split()[0] for x in p.stdout.splitlines() if x.startswith("c0")] == \
        ["c09998", "c09998", "c09999", "c09999"]
    assert "certs 9999-10000 of 10000 shown" in p.stdout and "--offset" not in p.stdout
    p = big.ctl("status", f"--cert={SICK}", check=2)
    assert {x.split()[0] for x in p.stdout.splitlines()[2:] if x.strip()} == {SICK}, p.stdout
    p = big.ctl("status", "--summary", check=2)
    assert "the worst certs:" in p.stdout and SICK in p.stdout
    assert "CERT" not in p.stdout
    out = json.loads(big.ctl("--json", "status", "--limit", "2", check=2).stdout)
    assert len(out["cert_list"]) == 2 and out["page"]["next_offset"] == 2
    p = big.ctl("status", "--limit", "many", check=3)
    assert "--limit expects a number" in p.stderr
    p = big.ctl("status", "--cert", "c00001", "--summary", check=3)
    p = big.ctl("status", "--cert", "nope", check=1)
    assert "no cert named 'nope'" in p.stderr


# ---- the state journal (daemon/statejournal) ----

def effective_state(state_dir):
    """state.json with state.journal replayed over it, as persistd reads them:
    only a journal of the snapshot's generation, and never a torn last line."""
    snap = json.loads((state_dir / "state.json").read_text())
    jpath = state_dir / "state.journal"
    if not jpath.exists():
        return snap, 0
    lines = jpath.read_bytes().split(b"\n")
    if json.loads(lines[0]).get("journal_gen") != snap.get("journal_gen", 0):
        return snap, 0
    replayed = 0
    for line in lines[1:-1]:  # the part after the last newline is torn or empty
        entry = json.loads(line)
        snap["certs"][entry["cert"]] = entry["state"]
        replayed += 1
    return snap, replayed


def test_journal_survives_sigkill_and_migrates(tmp_path):
    """300 certs (a state.json past the journal's 64 KiB threshold), every
    name re-checked while the CA cannot be reached (a check needs its
    account), so each name's next check moves and each cert's entry is
    journaled; SIGKILL; the restarted daemon has what
    was on disk, with a torn last line added by hand ignored. Then a
    state.json from before the journal (no journal_gen, no state.journal)
    loads whole and is migrated by the first write."""
    n = 300
    cas = {"test": {"directory": "https://127.0.0.1:9/directory",
                    "contact": "mailto:ops@example.test"}}
    certs = {f"c{i:05d}": {"ca": "test", "names": f"n{i:05d}.scale.test"} for i in range(n)}
    env = Env(tmp_path, cas, certs, daemon_extra={"resolver": "127.0.0.1@9", "dns_timeout": "1s",
                                                 "log_level": "info"})
    env.state.mkdir(mode=0o700)
    populate(env.state, n)
    env.start(wait=False)
    env.wait_ready(timeout=120)
    # The first write after the start is a snapshot with a fresh journal.
    env.wait_for(lambda: (env.state / "state.journal").exists(), timeout=60,
                 what="state.journal")
    snap_size = (env.state / "state.json").stat().st_size
    assert snap_size > 64 * 1024
    env.rpc("records.check", timeout=300)
    want, last = {}, []

    def on_disk_matches():
        st = env.rpc("status", {"limit": n})
        for c in st["cert_list"]:
            nm = c["names"][0]
            want[c["name"]] = (nm["next_check"], nm["dns_failures"], nm["status"])
        disk, replayed = effective_state(env.state)
        for name, w in want.items():
            e = disk["certs"][name]["names"][f"n{name[1:]}.scale.test"]
            # A member at its default is left out of state.json.
            got = (e.get("next_check") or None, e.get("dns_failures", 0),
                   e.get("status") if e.get("checked") else "UNCHECKED")
            if got != w:
                last[:] = [name, got, w, replayed]
                return None
        return (replayed,)
    try:
        replayed, = env.wait_for(on_disk_matches, timeout=60, what="the checks on disk")
    except AssertionError:
        raise AssertionError(f"on disk vs status: {last}") from None
    assert replayed >= n, "every cert's change went to the journal"
    # The re-check round appended lines; it did not rewrite state.json.
    assert (env.state / "state.json").stat().st_size == snap_size
    # The expired cert's failed renewal (the CA cannot be reached) is in the
    # journal only: the snapshot was written before it.
    env.wait_for(lambda: effective_state(env.state)[0]["certs"][SICK].get("failures", 0) >= 1,
                 timeout=120, what="the failed renewal on disk")
    assert "failures" not in json.loads((env.state / "state.json").read_text())["certs"][SICK]
    sick = effective_state(env.state)[0]["certs"][SICK]
    env.kill()

    with open(env.state / "state.journal", "ab") as f:
        f.write(b'{"cert":"c00001","state":{"failures":99')
    env.start(wait=False)
    env.wait_ready(timeout=120)
    assert "its last line was cut short" in env.read_log()
    st = env.rpc("status", {"limit": n})
    got = st["cert_list"][int(SICK[1:])]
    assert (got["name"], got["failures"], got["last_error"]) == \
        (SICK, sick["failures"], sick["last_error"])
    assert st["cert_list"][1]["failures"] != 99
    env.rpc("records.check", timeout=300)
    env.wait_for(lambda: effective_state(env.state)[1] > 0, timeout=60, what="journaled checks")
    assert env.stop() == 0
    # A clean stop leaves everything in state.json (an older persistd reads no journal).
    disk, replayed = effective_state(env.state)
    assert replayed == 0 and disk == json.loads((env.state / "state.json").read_text())

    # Back to the layout before the journal: one state.json, no journal_gen.
    disk, _ = effective_state(env.state)
    disk.pop("journal_gen", None)
    disk["certs"]["c00002"]["names"]["n00002.scale.test"]["dns_failures"] = 42
    (env.state / "state.journal").unlink()
    (env.state / "state.json").write_text(json.dumps(disk))
    env.start(wait=False)
    env.wait_ready(timeout=120)
    assert env.rpc("status", {"cert": "c00002"})["cert_list"][0]["names"][0]["dns_failures"] == 42
    env.wait_for(lambda: (env.state / "state.journal").exists(), timeout=60,
                 what="the migrated journal")
    assert json.loads((env.state / "state.json").read_text())["journal_gen"] >= 1
    assert env.stop() == 0
