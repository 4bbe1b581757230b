"""How a new certificate version reaches the disk (daemon/store_files, issue 12).

The five files of archive/N (privkey.pem, cert.pem, chain.pem, fullchain.pem,
domains) are each written to a temp file, fsynced and renamed into place; the
directory archive/N is then fsynced once for all five renames, before archive/
and before `current` is switched to the new version. Before issue 12 every file
also fsynced archive/N on its own (six directory fsyncs a version, most of the
blocking fsyncs on the loop in a 20-certificate --oneshot).

The test runs a real `persistd --oneshot` (dns-01 against Debian's pebble) under
strace, which names each fsynced fd (-y), and checks the order of the calls."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

STRACE = shutil.which("strace")
FILES = ("privkey.pem", "cert.pem", "chain.pem", "fullchain.pem", "domains")


def hook_script(tmp_path, pebble):
    hook = tmp_path / "hook"
    hook.write_text(f"""#!/bin/sh
case "$1" in
set) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/set-txt", data=json.dumps({{"host": sys.argv[1]+".", "value": sys.argv[2]}}).encode()))' "$2" "$3" ;;
clean) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/clear-txt", data=json.dumps({{"host": sys.argv[1]+"."}}).encode()))' "$2" ;;
esac
""")
    hook.chmod(0o755)
    return hook


def traced_env(env):
    """LeakSanitizer cannot run under ptrace (ASan builds): leaks are the other
    tests' business."""
    e = env.env()
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    return e


def traced_calls(trace, state):
    """(call, path) for fsync and rename of files under state, in order."""
    calls = []
    st = re.escape(str(state))
    for line in trace.read_text().splitlines():
        m = re.search(r'\bfsync\(\d+<(' + st + r'[^>]*)>\) = 0', line)
        if m:
            calls.append(("fsync", m.group(1)))
            continue
        m = re.search(r'\brename(?:at2?)?\((?:[^"]*)"(' + st + r'[^"]*)", (?:[^"]*)"(' + st +
                      r'[^"]*)"[^)]*\) = 0', line)
        if m:
            calls.append(("rename", m.group(2)))
    return calls


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
def test_version_directory_is_synced_once_after_its_files(pebble, persistd_env, tmp_path):
    hook = hook_script(tmp_path, pebble)
    env = persistd_env(ca=pebble, resolver=pebble.dns, certs={
        "www": {"ca": "test", "names": ["www.example.test"], "challenge": "dns-01",
                "dns01_hook": str(hook), "dns01_propagation_timeout": "30s"}})
    trace = tmp_path / "strace.txt"
    p = subprocess.run([STRACE, "-f", "-y", "-qq", "-o", str(trace), "-e",
                        "trace=fsync,rename,renameat,renameat2",
                        env.persistd, "-c", str(env.conf), "--oneshot"],
                       capture_output=True, text=True, timeout=180, env=traced_env(env))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "www: renewed" in p.stdout, p.stdout

    state = env.state.resolve()
    cert = state / "certs" / "www"
    vdir = os.path.realpath(cert / "current")
    assert pathlib.Path(vdir).parent == cert / "archive"
    calls = traced_calls(trace, state)

    def index(call, path):
        hits = [i for i, c in enumerate(calls) if c == (call, str(path))]
        assert len(hits) == 1, (call, path, hits, calls)
        return hits[0]

    sync_vdir = index("fsync", vdir)  # once, not once a file
    for name in FILES:
        # each file's content is synced before its rename, the rename before the
        # directory's fsync
        renamed = index("rename", f"{vdir}/{name}")
        synced = [i for i, (c, path) in enumerate(calls)
                  if c == "fsync" and path.startswith(f"{vdir}/{name}.tmp.")]
        assert len(synced) == 1 and synced[0] < renamed < sync_vdir, (name, calls)
    # then archive/ (the new version's entry), then the switch of `current`, then
    # certs/www (the switch's rename)
    sync_archive = [i for i, c in enumerate(calls) if c == ("fsync", str(cert / "archive"))]
    switch = index("rename", cert / "current")
    sync_cert = [i for i, c in enumerate(calls) if c == ("fsync", str(cert)) and i > switch]
    assert sync_archive and sync_vdir < sync_archive[-1] < switch, calls
    assert sync_cert, calls
    assert (cert / "current" / "fullchain.pem").read_text().startswith("-----BEGIN")
