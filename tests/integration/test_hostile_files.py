"""Hostile files around persistd: a FIFO where a config file belongs (it used
to freeze persistd and persistd -t in open()), loose permissions in the
state directory (fixed with a warning, or refused for a key someone else
may have replaced), and temp files of interrupted atomic writes (removed at
start, and nothing else). The real persistd binary, no CA needed: all of
this happens before the daemon talks to anyone."""
import os
import pathlib
import stat
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to chown a key to another uid (CI runs as root)")


def key_pem():
    k = ec.generate_private_key(ec.SECP256R1())
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def env(persistd_env):
    # No CA and no cert: the config loader and the start-up checks are what
    # is under test, and they run before anything talks to a CA.
    e = persistd_env(cas={}, certs={})
    (e.state / "accounts" / "test").mkdir(parents=True)
    return e


def account_key(env):
    return env.state / "accounts" / "test" / "account.key"


def start_refused(env, timeout=30):
    """Starts the daemon and expects it to exit non-zero on its own."""
    env.start(wait=False)
    try:
        rc = env.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        env.stop()
        raise AssertionError("persistd started although it should refuse:\n" + env.read_log())
    env.log.close()
    assert rc != 0, env.read_log()
    return env.read_log()


# ---- FIFOs and other non-regular config files ----

def test_check_config_fifo_dropin_fails_fast(env):
    fifo = env.etc / "certs.d" / "www.conf"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    # Before the fix this blocked in open() until the timeout killed it.
    p = env.persistd_run("-t", timeout=20)
    assert time.monotonic() - t0 < 10
    assert p.returncode != 0, p.stdout
    assert f"{fifo}: not a regular file (fifo)" in p.stderr


def test_check_config_link_to_fifo_and_directory(env):
    fifo = env.dir / "elsewhere.fifo"
    os.mkfifo(fifo)
    (env.etc / "certs.d" / "a.conf").symlink_to(fifo)
    (env.etc / "certs.d" / "b.conf").mkdir()
    p = env.persistd_run("-t", timeout=20)
    assert p.returncode != 0, p.stdout
    assert "a.conf: not a regular file (symbolic link to a fifo)" in p.stderr
    assert "b.conf: not a regular file (directory)" in p.stderr


def test_check_config_fifo_ca_bundle(env):
    # curl would open the bundle with a blocking open() at the first request.
    fifo = env.dir / "bundle.pem"
    os.mkfifo(fifo)
    env.cas = {"test": {"directory": "https://127.0.0.1:1/dir", "ca_bundle": str(fifo)}}
    env.write()
    p = env.persistd_run("-t", timeout=20)
    assert p.returncode != 0, p.stdout
    assert f"[ca test] ca_bundle '{fifo}': not a regular file (fifo)" in p.stderr
    assert f"{env.conf}:" in p.stderr


def test_reload_with_fifo_dropin_keeps_running(env):
    env.start()
    fifo = env.etc / "certs.d" / "www.conf"
    os.mkfifo(fifo)
    p = env.ctl("reload", check=1, timeout=20)
    assert str(fifo) in p.stderr and "not a regular file (fifo)" in p.stderr
    # The loop was not stuck in open(): it still answers and logged why.
    assert env.rpc("status", timeout=10)["certs"] == 0
    assert "not a regular file (fifo)" in env.read_log()
    fifo.unlink()
    env.ctl("reload", check=0, timeout=20)
    assert env.stop() == 0


# ---- permissions ----

def test_loose_key_and_state_dir_fixed_with_warning(env):
    key = account_key(env)
    pem = key_pem()
    key.write_bytes(pem)
    key.chmod(0o644)
    pending = env.state / "certs" / "www" / "pending.key"
    version = env.state / "certs" / "www" / "archive" / "1"
    version.mkdir(parents=True)
    pending.write_bytes(key_pem())
    pending.chmod(0o640)
    (version / "privkey.pem").write_bytes(key_pem())
    (version / "privkey.pem").chmod(0o604)
    (version / "cert.pem").write_text("public\n")
    (version / "cert.pem").chmod(0o644)
    (env.state / "state.json").write_text('{"version":1}')
    (env.state / "state.json").chmod(0o666)
    env.state.chmod(0o777)
    version.chmod(0o755)

    env.start()
    log = env.read_log()
    assert mode(key) == 0o600 and key.read_bytes() == pem
    assert f"{key}: mode 0644 was too open, changed to 0600" in log
    assert mode(pending) == 0o600 and f"{pending}: mode 0640" in log
    assert mode(version / "privkey.pem") == 0o600
    assert mode(env.state) == 0o700
    assert f"{env.state}: mode 0777 was too open, changed to 0700" in log
    assert mode(version) == 0o700
    assert mode(env.state / "state.json") == 0o600
    # Public files inside the 0700 tree keep their documented mode.
    assert mode(version / "cert.pem") == 0o644
    assert "warning:" in log
    assert env.stop() == 0


def test_world_writable_key_refused(env):
    key = account_key(env)
    key.write_bytes(key_pem())
    key.chmod(0o666)
    log = start_refused(env)
    assert f"{key}: mode 0666 is group- or world-writable" in log
    # Not "repaired": someone else may have replaced it.
    assert mode(key) == 0o666


def test_group_writable_key_refused(env):
    key = env.state / "certs" / "www" / "archive" / "1" / "privkey.pem"
    key.parent.mkdir(parents=True)
    key.write_bytes(key_pem())
    key.chmod(0o620)
    log = start_refused(env)
    assert f"{key}: mode 0620 is group- or world-writable" in log


@needs_root
def test_key_owned_by_other_uid_refused(env):
    key = account_key(env)
    key.write_bytes(key_pem())
    key.chmod(0o600)
    os.chown(key, NOBODY, NOBODY)
    log = start_refused(env)
    assert f"{key}: owned by uid {NOBODY}, not by persistd's uid {os.geteuid()}" in log


def test_key_symlink_and_fifo_refused(env):
    target = env.dir / "elsewhere.key"
    target.write_bytes(key_pem())
    target.chmod(0o600)
    key = account_key(env)
    key.symlink_to(target)
    fifo = env.state / "certs" / "www" / "pending.key"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo, 0o600)
    log = start_refused(env)
    assert f"{key}: a symbolic link" in log
    assert f"{fifo}: not a regular file (fifo)" in log
    assert "2 problems" in log


# ---- temp files ----

def test_stale_temp_files_removed_and_nothing_else(env):
    s = env.state
    www = s / "certs" / "www"
    v1 = www / "archive" / "1"
    v1.mkdir(parents=True)
    acct = s / "accounts" / "test"
    stale = [
        s / "state.json.tmp.q1W2e3",
        acct / "account.key.tmp.abc123",
        acct / "account.json.tmp.ZZZZZZ",
        acct / "account.key.next.tmp.a1b2c3",
        www / "pending.key.tmp.000000",
        v1 / "privkey.pem.tmp.abc123",
        v1 / "fullchain.pem.tmp.Xy9Z8w",
    ]
    keep = [
        s / "notes.tmp.abc123",             # not one of persistd's file names
        s / "state.json.tmp.abc12",         # not mkostemp's six characters
        s / "state.json.tmp.abc1234",
        v1 / "privkey.pem.tmp.ab-123",
        v1 / "cert.pem",
        acct / "account.key.bak",
        s / "certs" / "state.json.tmp.abc123",  # not where persistd writes it
        env.dir / "state.json.tmp.abc123",       # outside state_dir
    ]
    for p in stale + keep:
        p.write_text("x")
        p.chmod(0o600)
    not_a_file = s / "state.json.tmp.dir123"
    not_a_file.mkdir()
    (www / "current.tmp").symlink_to("archive/1")

    env.start()
    log = env.read_log()
    for p in stale:
        assert not p.exists(), p
        assert f"{p}: removed" in log
    assert not os.path.lexists(www / "current.tmp")
    for p in keep:
        assert p.read_text() == "x", p
    assert not_a_file.is_dir()
    assert env.stop() == 0
