"""The certificate life cycle from persistctl (issue 13): add writes a
validated certs.d/NAME.conf and reloads, remove takes it away (and with
--purge the files), revoke goes through the daemon, which records it and
replaces the certificate, and renew --all renews every cert. A real knotd,
our test CA and persistd --test-clock."""
import json
import os
import stat

import pytest

ZONE = "example.test"


@pytest.fixture
def world(knot, testca_factory, persistd_env):
    # As in test_daemon: a signed zone under an unsigned parent, and its key
    # as the trust anchor, so that every answer validates.
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    ca = testca_factory(dns=knot.resolver)
    env = persistd_env(ca=ca, resolver=knot.resolver,
                       daemon_extra={"trust_anchor": zone.trust_anchor_file()})
    # One cert in the main file, as an operator would have written it.
    with open(env.conf, "a") as f:
        f.write("[cert legacy]\nca = test\nnames = legacy.example.test\n")

    class W:
        pass
    w = W()
    w.zone, w.ca, w.env = zone, ca, env
    return w


def ctl(env, *args, check=None, timeout=120):
    """persistctl with both the socket and the daemon's config, as root runs it."""
    return env.ctl("-c", str(env.conf), *args, check=check, timeout=timeout)


def publish_all(w, skip=()):
    """Publish every record the daemon asks for (persistctl record --json)."""
    recs, _ = w.env.ctl_json("record", check=0)
    lines, seen = [], set()
    for r in recs:
        if r["value"] is None or r["owner"] in seen or r["name"] in skip:
            continue
        seen.add(r["owner"])
        lines.append(f'{r["owner"][: -len(ZONE) - 1]} TXT "{r["value"]}"')
    w.zone.set("\n".join(lines))


def cert_status(env, name):
    st, _ = env.ctl_json("status")
    for c in st["cert_list"]:
        if c["name"] == name:
            return c
    return None


def detail(env, name):
    return env.ctl_json("show", name, check=0)[0]


def idle(env, name):
    c = cert_status(env, name)
    return c is not None and not c["renewing"]


def dropins(env):
    return sorted(os.listdir(env.etc / "certs.d"))


def test_add_issue_revoke_replace_remove_purge(world):
    w = world
    env = w.env.start()

    # add: the drop-in, the reload, the records to publish.
    p = ctl(env, "add", "www", "--ca", "test", "--name", "www.example.test",
            "--name", "*.example.test", "--persist-until", "2030-01-01", check=0)
    dropin = env.etc / "certs.d" / "www.conf"
    assert dropins(env) == ["www.conf"]
    assert stat.S_IMODE(dropin.stat().st_mode) == 0o644
    text = dropin.read_text()
    assert "[cert www]" in text and "names = www.example.test, *.example.test" in text
    assert "persist_until = 2030-01-01" in text
    assert "persistd reloaded" in p.stdout, p.stdout
    assert "_validation-persist.www.example.test" in p.stdout, p.stdout
    assert "_validation-persist.example.test" in p.stdout, p.stdout
    assert "policy=wildcard" in p.stdout
    assert cert_status(env, "www") is not None
    # persistd -t accepts what add wrote.
    env.persistd_run("-t", check=0)

    # Its first attempt found no record; once published, the cert is issued.
    env.wait_for(lambda: idle(env, "www"), timeout=60, what="the first attempt")
    publish_all(w)
    ctl(env, "renew", "www", "--force", check=0)
    first = detail(env, "www")
    assert first["has_cert"] and first["serial"]

    # revoke needs --yes; then the CA has it revoked with the reason.
    p = ctl(env, "revoke", "www", "--reason", "keyCompromise", check=2)
    assert "--yes" in p.stderr
    assert not any(c["revoked"] for c in w.ca.certs())
    p = ctl(env, "revoke", "www", "--reason", "bogus", "--yes", check=2)
    assert "reason" in p.stderr
    # Without its records the replacement cannot be ordered yet, so the
    # revoked certificate stays in use for status to show.
    w.zone.set("www A 192.0.2.1")
    p = ctl(env, "revoke", "www", "--reason", "keyCompromise", "--yes", check=0)
    assert first["serial"] in p.stdout and "replacement" in p.stdout, p.stdout
    at_ca = {c["serial"].lower().lstrip("0"): c for c in w.ca.certs()}
    revoked = at_ca[first["serial"].lower().lstrip("0")]
    assert revoked["revoked"] is True and revoked["reason"] == 1, revoked
    env.wait_for(lambda: idle(env, "www"), timeout=60, what="the refused replacement")
    c = cert_status(env, "www")
    assert c["revoked"] is True and c["cert_level"] == "ERROR", c
    assert c["revoked_serial"] == first["serial"] and c["revoked_reason"] == "keyCompromise"
    assert "revoked" in c["cert_level_reason"]
    st, rc = env.ctl_json("status")
    assert rc == 2
    p = env.ctl("status")
    assert "REVOKED" in p.stdout, p.stdout
    assert "ALERT ERROR cert-revoked" in env.read_log()
    # Revoking it again: the CA says it is revoked already; an error, exit 1.
    p = ctl(env, "revoke", "www", "--yes", check=1)
    assert "revoked" in p.stderr.lower(), p.stderr

    # With the records back, the daemon replaces it by itself (a new serial,
    # no longer revoked), once the retry after the refused attempt is due.
    publish_all(w)
    env.shift_time(3600)

    def replaced():
        d = detail(env, "www")
        return d if d["has_cert"] and d["serial"] != first["serial"] else None
    new = env.wait_for(replaced, timeout=120, what="the replacement")
    assert new["revoked"] is False and new["cert_level"] == "OK", new
    assert new["cert_level_reason"].startswith("certificate valid until "), new
    assert new["revoked_serial"] == first["serial"]

    # remove of the cert in the main file: refused with its file:line.
    p = ctl(env, "remove", "legacy", check=2)
    assert f"{env.conf}:" in p.stderr and "by hand" in p.stderr, p.stderr
    assert cert_status(env, "legacy") is not None

    # remove --purge without --yes changes nothing.
    p = ctl(env, "remove", "www", "--purge", check=2)
    assert "--yes" in p.stderr
    assert dropin.exists()

    # remove: the drop-in goes, the daemon forgets the cert, the files stay.
    files = env.state / "certs" / "www"
    p = ctl(env, "remove", "www", check=0)
    assert not dropin.exists() and dropins(env) == []
    assert cert_status(env, "www") is None
    assert files.is_dir()
    assert str(files) in p.stdout, p.stdout
    # The daemon refuses to purge a cert that is still configured.
    with pytest.raises(AssertionError, match="still configured"):
        env.rpc("certs.purge", {"name": "legacy"})
    # --purge --yes deletes them.
    p = ctl(env, "remove", "www", "--purge", "--yes", check=0)
    assert not files.exists()
    assert "deleted" in p.stdout


def test_add_refuses_bad_input_and_leaves_nothing(world):
    w = world
    env = w.env.start()
    before = dropins(env)
    cases = [
        (("add", "x1", "--ca", "nope", "--name", "x1.example.test"), "unknown CA 'nope'"),
        (("add", "legacy", "--ca", "test", "--name", "y.example.test"), "exists already"),
        (("add", "x2", "--ca", "test", "--name", "bad..example.test"), "not a DNS name"),
        (("add", "x3", "--ca", "test", "--name", "a.example.test\n[daemon]"), "configuration line"),
        (("add", "../x4", "--ca", "test", "--name", "x4.example.test"), "not a cert name"),
        (("add", ".x5", "--ca", "test", "--name", "x5.example.test"), "not a cert name"),
        (("add", "x6", "--ca", "test", "--name", "x6.example.test", "--persist-until", "soon"),
         "--persist-until"),
        (("add", "x7", "--ca", "test", "--name", "x7.example.test", "--deploy-hook",
          "/nonexistent/hook"), "deploy_hook"),
        (("add", "x8", "--ca", "test"), "--name"),
    ]
    for args, message in cases:
        p = ctl(env, *args, check=2)
        assert message in p.stderr, (args, p.stderr)
        assert dropins(env) == before, (args, dropins(env))
    # --json: the error as JSON on stdout too.
    p = ctl(env, "--json", "add", "x9", "--ca", "nope", "--name", "x9.example.test", check=2)
    assert json.loads(p.stdout)["error"]["exit_code"] == 2
    # No cert was added to the daemon either.
    st, _ = env.ctl_json("status")
    assert sorted(c["name"] for c in st["cert_list"]) == ["legacy"]


def test_add_and_remove_while_the_daemon_is_down(world):
    w = world
    env = w.env
    p = ctl(env, "add", "www", "--ca", "test", "--name", "www.example.test", check=0)
    assert "not running" in p.stderr, p.stderr
    assert dropins(env) == ["www.conf"]
    env.start()
    assert cert_status(env, "www") is not None
    env.stop()
    p = ctl(env, "--json", "add", "api", "--ca", "test", "--name", "api.example.test", check=0)
    out = json.loads(p.stdout)
    assert out["reloaded"] is False and out["records"] is None
    ctl(env, "remove", "api", check=0)
    p = ctl(env, "remove", "www", check=0)
    assert "not running" in p.stdout, p.stdout
    assert dropins(env) == []
    # --purge needs the daemon, which owns the state_dir: it says so.
    p = ctl(env, "remove", "www", "--purge", "--yes", check=1)
    assert "not running" in p.stderr
    env.start()
    assert cert_status(env, "www") is None


def test_renew_all(world):
    w = world
    env = w.env.start()
    for name in ("a", "b"):
        ctl(env, "add", name, "--ca", "test", "--name", f"{name}.example.test", check=0)
    # --json: one object with the records to publish.
    p = ctl(env, "--json", "add", "c", "--ca", "test", "--name", "c.example.test", check=0)
    out = json.loads(p.stdout)
    assert out["reloaded"] is True and out["file"].endswith("certs.d/c.conf")
    assert [r["owner"] for r in out["records"]] == ["_validation-persist.c.example.test"]
    ctl(env, "remove", "legacy", check=2)
    # legacy stays without a record: renew --all over the three added certs
    # and legacy fails for legacy alone.
    for name in ("a", "b", "c", "legacy"):
        env.wait_for(lambda: idle(env, name), timeout=60, what=f"{name}'s first attempt")
    publish_all(w, skip=("legacy.example.test",))
    p = ctl(env, "renew", "--all", "--force", check=1)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 3, p.stdout
    for name in ("a", "b", "c"):
        assert any(line.startswith(f"{name}: ") for line in lines), p.stdout
        assert detail(env, name)["has_cert"]
    assert "renew legacy:" in p.stderr, p.stderr
    # Not forced: a, b and c are not due, which is success as for renew NAME;
    # legacy decides the exit code (whether its retry is due yet or not).
    out, rc = env.ctl_json("renew", "--all")
    by = {r["cert"]: r for r in out["results"]}
    assert set(by) == {"a", "b", "c", "legacy"}
    for name in ("a", "b", "c"):
        assert by[name]["ok"] and not by[name]["renewed"] and "not due" in by[name]["message"]
    assert by["legacy"]["ok"] == (not by["legacy"]["due"])
    assert rc == (0 if by["legacy"]["ok"] else 1), out

    # remove --revoke: revoked first (no replacement ordered), then removed.
    ctl(env, "remove", "a", "--reason", "superseded", check=2)
    ctl(env, "remove", "a", "--revoke", check=2)
    serial = detail(env, "a")["serial"]
    p = ctl(env, "remove", "a", "--revoke", "--reason", "superseded", "--yes", check=0)
    assert serial in p.stdout and "removed cert 'a'" in p.stdout, p.stdout
    issued = [c for c in w.ca.certs() if c["names"] == ["a.example.test"]]
    assert len(issued) == 1 and issued[0]["revoked"] and issued[0]["reason"] == 4, issued
    assert cert_status(env, "a") is None
    assert dropins(env) == ["b.conf", "c.conf"]
