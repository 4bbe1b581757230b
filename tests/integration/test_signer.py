"""The account key lives only in the signer process: a deploy hook cannot read
it (Landlock), the loop process (which parses the network) has no copy of it
in memory while issuance, rollover and deactivation still work, and the
signer is a confined child of the daemon (seccomp, not dumpable). A real
knotd, our test CA and persistd --test-clock."""
import os
import re
import signal
import subprocess
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ZONE = "example.test"


@pytest.fixture
def world(knot, testca_factory, persistd_env, tmp_path):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    anchor = zone.trust_anchor_file()
    ca = testca_factory(dns=knot.resolver)
    hook = tmp_path / "deploy"
    out = tmp_path / "hook-out"
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": ["www.example.test"], "persist_until": "2030-01-01",
                "deploy_hook": str(hook)}},
        daemon_extra={"trust_anchor": anchor})
    key = env.state / "accounts" / "test" / "account.key"
    # The hook tries the account key and the certificate it was called for, and
    # writes what happened next to the test (a directory beside the state dir).
    hook.write_text(f"""#!/bin/sh
exec > {out} 2>&1
if cat {key} >/dev/null; then echo "account-key=READ"; else echo "account-key=DENIED"; fi
if ls {key.parent} >/dev/null; then echo "listing=OK"; fi
if cat "$PERSISTD_FULLCHAIN" | grep -q 'BEGIN CERTIFICATE'; then echo "fullchain=READ"; fi
if cat "$PERSISTD_PRIVKEY" | grep -q 'PRIVATE KEY'; then echo "privkey=READ"; fi
echo done
""")
    hook.chmod(0o755)

    class W:
        pass
    w = W()
    w.knot, w.zone, w.ca, w.env, w.key, w.hook_out = knot, zone, ca, env, key, out
    return w


def publish(w):
    recs, _ = w.env.ctl_json("record", "www", check=0)
    lines = {f'{r["owner"][: -len(ZONE) - 1]} TXT "{r["value"]}"' for r in recs}
    w.zone.set("\n".join(sorted(lines)))


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            out.append((int(d), comm))
    return out


def signer_pid(env):
    kids = [p for p, comm in children(env.proc.pid) if comm == "persistd-signer"]
    assert len(kids) == 1, children(env.proc.pid)
    return kids[0]


def private_needles(key_path):
    """The private scalar (or RSA private exponent) in both byte orders: big-endian
    as in the PEM's DER, little-endian as mbedTLS keeps it in its limbs."""
    k = load_pem_private_key(key_path.read_bytes(), password=None)
    if isinstance(k, ec.EllipticCurvePrivateKey):
        n, size = k.private_numbers().private_value, (k.curve.key_size + 7) // 8
    else:
        assert isinstance(k, rsa.RSAPrivateKey)
        n, size = k.private_numbers().d, (k.key_size + 7) // 8
    be = n.to_bytes(size, "big").lstrip(b"\0")
    le = n.to_bytes(size, "little").rstrip(b"\0")
    # 24 bytes are unique enough and survive a limb boundary at either end.
    return [be[:24], le[:24], be[-24:], le[-24:]]


def memory_has(pid, needles):
    """Scans every readable private or anonymous mapping of pid (as root, through
    /proc/PID/mem) for any of the needles."""
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            perms = parts[1]
            path = parts[5] if len(parts) > 5 else ""
            if "r" not in perms or path in ("[vvar]", "[vsyscall]"):
                continue
            if path.startswith("/") and "w" not in perms:
                continue  # read-only file mappings: code and constants
            if hi - lo > 1 << 30:
                continue  # a sanitizer's shadow memory (terabytes of poison bytes, no data)
            addr = lo
            while addr < hi:
                n = min(hi - addr, 1 << 22)
                try:
                    mem.seek(addr)
                    chunk = mem.read(n)
                except OSError:
                    chunk = b""
                # Overlap chunks so a needle across the boundary is found.
                if any(nd in chunk for nd in needles):
                    found = True
                    break
                addr += max(n - 64, 1)
            if found:
                break
    return found


def test_hook_cannot_read_account_key_but_issuance_works(world):
    w = world
    env = w.env.start()
    publish(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    # The deploy hook runs after the renewal's answer: wait for it to finish.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = w.hook_out.read_text() if w.hook_out.exists() else ""
        if out.endswith("done\n"):
            break
        time.sleep(0.05)
    # The hook ran after a real issuance, read its own certificate and key...
    assert "fullchain=READ" in out and "privkey=READ" in out, out
    # ...but not the account key: Landlock refused it.
    assert "account-key=DENIED" in out, out
    assert "Permission denied" in out, out
    assert w.key.exists() and oct(w.key.stat().st_mode & 0o777) == "0o600"
    assert "Landlock: this process and its hooks are kept out of" in env.read_log()


def test_loop_process_holds_no_account_key(world):
    w = world
    env = w.env.start()
    publish(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)  # many signatures made
    needles = private_needles(w.key)
    spid = signer_pid(env)
    # The scan can find the key: it is in the signer, which signed all of that.
    assert memory_has(spid, needles), "the scan did not find the key in the signer"
    assert not memory_has(env.proc.pid, needles), "the loop process has the account key"
    # And after a rollover, neither the old nor the new key is in the loop.
    env.ctl("account", "rollover", "--yes", check=0, timeout=120)
    new_needles = private_needles(w.key)
    assert new_needles != needles
    assert memory_has(signer_pid(env), new_needles)
    assert not memory_has(env.proc.pid, needles + new_needles)
    env.ctl("renew", "www", "--force", check=0, timeout=120)  # the new key works


def test_signer_is_a_confined_child(world):
    w = world
    env = w.env.start()
    spid = signer_pid(env)
    status = open(f"/proc/{spid}/status").read()
    assert re.search(r"^Seccomp:\s+2$", status, re.M), status
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), status
    # Not dumpable: a root process' flag cannot be seen from outside (root may
    # read any process); tests/unit/test_signer.c runs a signer as another uid
    # and sees its /proc entries turn root's.
    # Only stdio and its socket are open in it.
    fds = sorted(int(x) for x in os.listdir(f"/proc/{spid}/fd"))
    assert fds == [0, 1, 2, 3], fds
    assert os.readlink(f"/proc/{spid}/fd/3").startswith("socket:")
    # A SIGTERM for the whole unit (systemd's stop) leaves it to the loop, which
    # may still need signatures while it winds down: it goes with its socket.
    os.kill(spid, signal.SIGTERM)
    publish(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    assert signer_pid(env) == spid
    # It stops with the daemon.
    assert env.stop() == 0
    assert not os.path.exists(f"/proc/{spid}")


def test_deactivation_through_the_signer(world):
    w = world
    env = w.env.start()
    publish(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    p = env.ctl("account", "deactivate", "test", "--yes", check=0, timeout=120)
    assert "deactivated" in p.stdout
    assert w.ca.accounts()[0]["status"] == "deactivated"


def test_ca_added_by_reload_reaches_the_signer(world):
    """A [ca] section added by a reload is announced to the signer at run time:
    an account and its key are made there, and a certificate is issued with it.
    Moving an existing CA to another server is refused until a restart."""
    w = world
    env = w.env.start()
    # (Replacing the CA, not adding a second one beside it: a reload that keeps
    # one CA and adds another trips over a bug of daemon_reload() that the reload
    # work fixes, see the report.)
    env.cas = {"second": dict(env.cas["test"])}
    env.certs["www"]["ca"] = "second"
    env.write()
    env.ctl("reload", check=0)
    publish(w)
    env.ctl("renew", "www", "--force", check=0, timeout=120)
    key2 = env.state / "accounts" / "second" / "account.key"
    assert key2.exists() and oct(key2.stat().st_mode & 0o777) == "0o600"
    acct = {a["ca"]: a for a in env.ctl_json("account", "show")[0]}
    assert acct["second"]["account_url"] and acct["second"]["key_type"] == "ec-p256"
    assert not memory_has(env.proc.pid, private_needles(key2))
    # The CA's account now points elsewhere: the signer refuses it.
    env.cas["second"]["directory"] = "https://127.0.0.1:9/dir"
    env.write()
    env.ctl("reload", check=0)
    deadline = time.monotonic() + 30
    while "bound to another CA origin" not in env.read_log():
        assert time.monotonic() < deadline, env.read_log()
        time.sleep(0.05)


def test_unreadable_account_key_is_reported_not_fatal(world):
    """A broken account.key does not stop the daemon (the records can still be
    checked); preparing the CA says what is wrong, as before the signer."""
    w = world
    w.key.parent.mkdir(parents=True, mode=0o700)
    w.key.write_text("-----BEGIN EC PRIVATE KEY-----\ngarbage\n-----END EC PRIVATE KEY-----\n")
    w.key.chmod(0o600)
    env = w.env.start()
    p = env.ctl("renew", "www", "--force", check=1, timeout=120)
    assert "account key" in p.stderr + p.stdout, (p.stdout, p.stderr)
    assert "the signer" in env.read_log()
