"""Deploying under the shipped sandbox: the persistd-deploy@ template units
pass systemd-analyze verify as installed; the in-daemon deploy_hook gets
certbot's RENEWED_LINEAGE and RENEWED_DOMAINS; each version carries its
domains file; and the path unit's trigger condition holds for persistd's
version switch (a new symlink renamed over `current`).

There is no systemd PID 1 here, so the trigger is tested on the mechanism
the path unit relies on: inotify watches set up as systemd 252's
src/core/path.c sets them up for a PathChanged= path (the path itself with
IN_DONT_FOLLOW and followed; only events on the followed watch, the
"primary" one, trigger the unit). The service's ExecStart= is run as
written in the unit, with the state directory moved to the test's. A real
knotd, our test CA and persistd."""
import ctypes
import os
import pathlib
import re
import select
import shutil
import stat
import struct
import subprocess

import pytest

from fixtures.daemon import ROOT

ZONE = "example.test"
NAMES = ["www.example.test", "api.example.test"]

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_DONT_FOLLOW = 0x02000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
# systemd's flags_table[PATH_CHANGED].
PATH_CHANGED = (IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE
                | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)


class PathChangedWatch:
    """The final component's watches of a systemd 252 PathChanged= spec."""

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        p = os.fsencode(str(path))
        wd = -1
        for follow in (False, True):
            flags = PATH_CHANGED | (0 if follow else IN_DONT_FOLLOW)
            wd = self.libc.inotify_add_watch(self.fd, p, ctypes.c_uint32(flags))
            assert wd >= 0, os.strerror(ctypes.get_errno())
        self.primary = wd  # the followed watch, as s->primary_wd = wd after the loop

    def events(self, timeout):
        """All events until none has come for `timeout` seconds: [(wd, mask, name)]."""
        out = []
        while select.select([self.fd], [], [], timeout)[0]:
            buf = os.read(self.fd, 65536)
            i = 0
            while i < len(buf):
                wd, mask, _, length = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + length].rstrip(b"\0").decode()
                out.append((wd, mask, name))
                i += 16 + length
        return out

    def triggers(self, events):
        return any(wd == self.primary for wd, _, _ in events)

    def close(self):
        os.close(self.fd)


@pytest.fixture
def world(knot, testca_factory, persistd_env, tmp_path):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    hook = tmp_path / "hook.sh"
    seen = tmp_path / "seen"
    hook.write_text(f"""#!/bin/sh
printf '%s\\n%s\\n%s\\n' "$RENEWED_LINEAGE" "$RENEWED_DOMAINS" "$(readlink "$RENEWED_LINEAGE")" \\
    >{seen}.tmp && mv {seen}.tmp {seen}
""")
    hook.chmod(0o755)
    env = persistd_env(ca=ca, resolver=knot.resolver, certs={
        "www": {"ca": "test", "names": NAMES, "persist_until": "2030-01-01",
                "deploy_hook": str(hook)}},
        daemon_extra={"trust_anchor": zone.trust_anchor_file(), "max_orders_per_hour": "100"})
    env.start()
    recs, _ = env.ctl_json("record", "www", check=0)
    lines = {f'{r["owner"][: -len(ZONE) - 1]} TXT "{r["value"]}"' for r in recs}
    zone.set("www A 192.0.2.1\n" + "\n".join(sorted(lines)))
    env.seen = seen
    yield env
    env.stop()


def renew(env):
    p = env.ctl("renew", "www", "--force", timeout=180)
    assert p.returncode == 0, (p.stdout, p.stderr)


def install_units(tmp_path):
    root = tmp_path / "inst"
    subprocess.run(["make", "-s", "-C", str(ROOT), "--no-print-directory", "install",
                    f"PREFIX={root}/usr", f"SYSCONFDIR={root}/etc"]
                   + (["SAN=1"] if pathlib.Path(os.environ.get("PERSISTD_BUILD", "build")).name
                      == "build-san" else []),
                   check=True, capture_output=True, timeout=600)
    return root, root / "usr/lib/systemd/system"


def test_units_verify_as_installed(tmp_path):
    root, unitdir = install_units(tmp_path)
    for u in ("persistd-deploy@.path", "persistd-deploy@.service"):
        assert (unitdir / u).read_bytes() == (ROOT / "systemd" / u).read_bytes()
        inst = u.replace("@.", "@www.")
        p = subprocess.run(["systemd-analyze", "verify", inst], cwd=unitdir,
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, MANPATH=f"{root}/usr/share/man",
                                    SYSTEMD_LOG_LEVEL="notice"))
        assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), (
            inst, p.stdout, p.stderr)
    # The path unit watches the directory, the service deploys that directory's current.
    path_unit = (unitdir / "persistd-deploy@.path").read_text()
    assert re.search(r"^PathChanged=/var/lib/persistd/certs/%i$", path_unit, re.M)
    assert re.search(r"^Unit=persistd-deploy@%i\.service$", path_unit, re.M)
    svc = (unitdir / "persistd-deploy@.service").read_text()
    assert re.search(r"^Environment=RENEWED_LINEAGE=/var/lib/persistd/certs/%i/current$",
                     svc, re.M)
    assert re.search(r"^Type=oneshot$", svc, re.M)
    assert not re.search(r"^User=", svc, re.M)  # root: systemctl reload needs it


def unit_environment_and_command(state, cert, command):
    """The service's Environment= and ExecStart= as systemd would run them,
    with /var/lib/persistd moved to state and the deploy command set."""
    svc = (ROOT / "systemd/persistd-deploy@.service").read_text()

    def spec(s):
        s = s.replace("/var/lib/persistd", str(state)).replace("%i", cert)
        assert "%" not in s, s
        return s
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    for m in re.finditer(r"^Environment=([A-Z_]+)=(.*)$", svc, re.M):
        env[m.group(1)] = spec(m.group(2))
    env["PERSISTD_DEPLOY_COMMAND"] = str(command)
    m = re.search(r"^ExecStart=(/bin/sh) -c '(.*)'$", svc, re.M)
    assert m, "ExecStart= is not /bin/sh -c '...'"
    # systemd turns $$ into $ and passes the quoted word as one argument.
    return env, [m.group(1), "-c", spec(m.group(2)).replace("$$", "$")]


def test_certbot_variables_domains_file_and_trigger(world, tmp_path):
    env = world
    certdir = env.state / "certs" / "www"
    renew(env)
    env.wait_for(lambda: env.seen.exists(), timeout=60, what="the deploy hook")
    lineage, domains, target = env.seen.read_text().splitlines()
    # The in-daemon hook: certbot's variables beside PERSISTD_*.
    assert lineage == str(certdir / "current")
    assert domains == " ".join(NAMES)
    assert target == "archive/1"
    # The version's domains file: the certificate's names, one line.
    dfile = certdir / "archive/1/domains"
    text = dfile.read_text()
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    assert sorted(text.split()) == sorted(NAMES)
    assert stat.S_IMODE(dfile.stat().st_mode) == 0o644

    # The trigger: what PathChanged= on `current` and on the directory see of
    # the next version switch.
    on_current = PathChangedWatch(certdir / "current")
    on_dir = PathChangedWatch(certdir)
    try:
        env.seen.unlink()
        renew(env)
        env.wait_for(lambda: env.seen.exists(), timeout=60, what="the second deploy hook")
        assert os.readlink(certdir / "current") == "archive/2"
        ev_current = on_current.events(0.5)
        ev_dir = on_dir.events(0.5)
    finally:
        on_current.close()
        on_dir.close()
    # The directory sees the rename of the new link onto `current`...
    assert any(name == "current" and mask & IN_MOVED_TO for _, mask, name in ev_dir), ev_dir
    assert on_dir.triggers(ev_dir), ev_dir
    # ...while PathChanged= on `current` only hears the old link going away,
    # on the non-primary watch: it would not start the service.
    assert ev_current and not on_current.triggers(ev_current), ev_current
    assert (certdir / "archive/2/domains").read_text().split() == text.split()

    # The service's command, as the unit runs it, deploys the new version
    # with certbot's variables.
    out = tmp_path / "unit-seen"
    cmd = tmp_path / "deploy.d-www"
    cmd.write_text(f"""#!/bin/sh
printf '%s\\n%s\\n%s\\n%s\\n' "$RENEWED_LINEAGE" "$RENEWED_DOMAINS" "$PERSISTD_NAMES" \\
    "$(cat "$PERSISTD_FULLCHAIN" | head -1)" >{out}
""")
    cmd.chmod(0o755)
    uenv, argv = unit_environment_and_command(env.state, "www", cmd)
    p = subprocess.run(argv, env=uenv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    lineage, rdomains, pnames, first = out.read_text().splitlines()
    assert lineage == str(certdir / "current")
    assert rdomains == pnames == text.strip()
    assert first == "-----BEGIN CERTIFICATE-----"

    # A version without a domains file fails loudly instead of deploying
    # with empty names.
    shutil.move(certdir / "archive/2/domains", tmp_path / "domains.saved")
    try:
        p = subprocess.run(argv, env=uenv, capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and "domains" in p.stderr, (p.returncode, p.stderr)
    finally:
        shutil.move(tmp_path / "domains.saved", certdir / "archive/2/domains")
