"""The offline commands as a user runs them: persistctl record generate/lint and
persistd --check-config, from the real binaries."""
import json
import socket
import subprocess
import threading

import pytest

ACCT = "https://ca.example/acct/1"


def run(*args, check=None):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def test_generate_wildcard_zone_and_json(persistctl_bin):
    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example", "--account-uri", ACCT,
            "--fqdn", "*.Example.com", "--persist-until", "2027-06-01", check=0)
    assert "_validation-persist.example.com." in p.stdout
    assert ("ca.example; accounturi=https://ca.example/acct/1; policy=wildcard; "
            "persistUntil=1811808000") in p.stdout
    assert "wildcard name" in p.stdout

    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example", "--account-uri", ACCT,
            "--fqdn", "www.example.com", "--format", "json", check=0)
    obj = json.loads(p.stdout)
    assert obj["owner"] == "_validation-persist.www.example.com"
    assert obj["value"] == "ca.example; accounturi=https://ca.example/acct/1"
    assert obj["policy"] is None and obj["wildcard_needed"] is False
    assert obj["zone"] == ('_validation-persist.www.example.com. 3600 IN TXT '
                           '"ca.example; accounturi=https://ca.example/acct/1"')

    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example", "--account-uri", ACCT,
            "--fqdn", "a.example", "--fqdn", "b.example", "--format", "value", check=0)
    assert p.stdout.splitlines() == [f"ca.example; accounturi={ACCT}"] * 2


def test_generate_long_value_splits_in_zone_output(persistctl_bin):
    uri = "https://ca.example/acct/" + "9" * 300
    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example", "--account-uri", uri,
            "--fqdn", "x.example", "--format", "zone", check=0)
    strings = p.stdout.strip().split(" IN TXT ")[1]
    parts = [s.strip('"') for s in strings.split('" "')]
    assert len(parts) == 2 and len(parts[0]) == 255
    assert "".join(parts) == f"ca.example; accounturi={uri}"


def test_generate_hashed_matches_spec_vector(persistctl_bin):
    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example",
            "--account-uri", "https://ca.example/acct/123", "--hash-prefix", "acct-hash:",
            "--key-thumbprint", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
            "--fqdn", "example.com", "--format", "value", check=0)
    assert p.stdout.strip() == ("ca.example; accounturi=acct-hash:sha-256/"
                                "5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw")
    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example",
            "--account-uri", "https://ca.example/acct/123", "--hash-prefix", "acct-hash:",
            "--key-thumbprint", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "--any-domain",
            "--fqdn", "example.com", "--format", "value", check=0)
    assert p.stdout.strip().endswith("NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug")


def test_generate_hashed_from_account_key(persistctl_bin, tmp_path):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import base64
    import hashlib

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = tmp_path / "account.key"
    path.write_bytes(pem)
    nums = key.public_key().public_numbers()

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    jwk = ('{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}'
           % (b64(nums.x.to_bytes(32, "big")), b64(nums.y.to_bytes(32, "big"))))
    thumb = b64(hashlib.sha256(jwk.encode()).digest())
    url = "https://ca.example/acct/7"
    d = b"www.example.com"
    digest = b64(hashlib.sha256(bytes([len(d)]) + d + thumb.encode() + url.encode()).digest())
    p = run(persistctl_bin, "record", "generate", "--issuer", "ca.example", "--account-uri", url,
            "--hash-prefix", "h:", "--account-key", str(path), "--fqdn", "www.example.com",
            "--format", "value", check=0)
    assert p.stdout.strip() == f"ca.example; accounturi=h:sha-256/{digest}"
    del hashes


@pytest.mark.parametrize("args,msg", [
    (["--account-uri", ACCT, "--fqdn", "x.example"], "needs --issuer"),
    (["--issuer", "CA.example", "--account-uri", ACCT, "--fqdn", "x.example"], "lowercase"),
    (["--issuer", "ca.example", "--account-uri", "https://x/a b", "--fqdn", "x.example"],
     "without spaces"),
    (["--issuer", "ca.example", "--account-uri", ACCT, "--fqdn", "bad name"], "not a DNS name"),
    (["--issuer", "ca.example", "--account-uri", ACCT, "--fqdn", "x.example",
      "--persist-until", "soon"], "expected a date"),
    (["--issuer", "ca.example", "--account-uri", ACCT, "--fqdn", "x.example",
      "--hash-prefix", "p"], "exactly one of"),
    (["--issuer", "ca.example", "--account-uri", ACCT, "--fqdn", "x.example",
      "--hash-prefix", "p", "--account-key", "/nonexistent"], "No such file"),
])
def test_generate_usage_errors(persistctl_bin, args, msg):
    p = run(persistctl_bin, "record", "generate", *args, check=2)
    assert msg in p.stderr
    assert p.stdout == "" or "Usage" not in p.stdout


def test_lint_outcomes_and_exit_codes(persistctl_bin):
    base = [persistctl_bin, "record", "lint", "--issuer", "ca.example", "--account-uri", ACCT,
            "--now", "1767225600", "--json"]
    cases = [
        ([f"ca.example; accounturi={ACCT}"], "VALID", 0),
        (["other.example; accounturi=x"], "WRONG_ISSUER", 1),
        ([f"ca.example; accounturi={ACCT}/"], "WRONG_ACCOUNT", 1),
        ([f"ca.example; accounturi={ACCT}; persistUntil=1767225599"], "EXPIRED", 1),
        ([f"ca.example; accounturi={ACCT};"], "MALFORMED", 1),
    ]
    for values, status, rc in cases:
        p = run(*base, *values, check=rc)
        obj = json.loads(p.stdout)
        assert obj["status"] == status, obj
        assert obj["reason"]
    p = run(*base, "--fqdn", "*.example.com", f"ca.example; accounturi={ACCT}", check=1)
    obj = json.loads(p.stdout)
    assert obj["status"] == "NO_WILDCARD_POLICY" and obj["wildcard_needed"] is True
    assert obj["policy"] is None


def test_lint_human_output(persistctl_bin):
    p = run(persistctl_bin, "record", "lint", "--issuer", "ca.example", "--account-uri", ACCT,
            "--now", "2027-05-20", "--fqdn", "*.example.com",
            f"ca.example; accounturi={ACCT}; policy=wildcard; persistUntil=1811808000", check=0)
    assert p.stdout.startswith("VALID: ")
    assert "policy=wildcard: present; this name needs it" in p.stdout
    assert "2027-06-01T00:00:00Z (12 days left), WARNING" in p.stdout

    p = run(persistctl_bin, "record", "lint", "--issuer", "ca.example", "--account-uri", ACCT,
            f"ca.example; accounturi={ACCT}; x_y=1", check=1)
    assert "malformed at byte" in p.stdout and "^" in p.stdout


def test_lint_usage(persistctl_bin):
    p = run(persistctl_bin, "record", "lint", "--issuer", "ca.example", check=2)
    assert "needs --issuer and --account-uri" in p.stderr
    p = run(persistctl_bin, "record", "lint", "--bogus", check=2)
    run(persistctl_bin, "record", "lint", "--help", check=0)


def test_help_and_version(persistctl_bin, persistd_bin):
    assert run(persistctl_bin, "--version", check=0).stdout.startswith("persistctl ")
    assert "record generate" in run(persistctl_bin, "--help", check=0).stdout
    assert run(persistd_bin, "--version", check=0).stdout.startswith("persistd ")
    assert "--check-config" in run(persistd_bin, "--help", check=0).stdout
    p = run(persistctl_bin, "frobnicate", check=2)
    assert "unknown command" in p.stderr
    run(persistd_bin, "--frobnicate", check=2)


def test_check_config_shipped(persistd_bin, source_root):
    p = run(persistd_bin, "--check-config", "-c", str(source_root / "etc/persistd.conf"), check=0)
    assert "is valid" in p.stdout
    # certs.d/ ships only example.conf.sample: no cert is live until one is written.
    assert "0 (0 dns-persist-01, 0 dns-01)" in p.stdout


def test_check_config_errors(persistd_bin, tmp_path):
    conf = tmp_path / "persistd.conf"
    conf.write_text("[daemon]\nwarn_before = 1d\n\n[ca a]\ndirectory = https://x/d\n")
    (tmp_path / "certs.d").mkdir()
    (tmp_path / "certs.d" / "w.conf").write_text(
        "[cert w]\nnames = w.example\ntsig_key = hmac-sha256:k:c2VjcmV0\n")
    p = run(persistd_bin, "--check-config", "-c", str(conf), check=1)
    assert f"{tmp_path}/certs.d/w.conf:3: [cert w] 'tsig_key'" in p.stderr
    assert "needs no DNS write access" in p.stderr
    assert "is NOT valid" in p.stderr


# ---- status when the daemon gives no answer: 3, "cannot tell" ----

def serve_once(path, reply):
    """A Unix socket peer that reads one request line and then sends reply
    (bytes, or what a callable makes of the request line) and closes; reply
    None closes without a word."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def run_():
        c, _ = srv.accept()
        with c:
            c.settimeout(10)
            buf = b""
            while b"\n" not in buf:
                chunk = c.recv(4096)
                if not chunk:
                    break
                buf += chunk
            if callable(reply):
                c.sendall(reply(buf.split(b"\n")[0]))
            elif reply is not None:
                c.sendall(reply)
        srv.close()

    t = threading.Thread(target=run_, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("case, reply, message", [
    ("closed", None, "closed the connection before answering"),
    ("garbage", b"this is not json\n", "not JSON-RPC"),
    ("busy", b'{"jsonrpc":"2.0","id":null,"error":{"code":-32003,'
             b'"message":"too many connections (limit 1), try again later"}}\n',
     "refused the connection: too many connections"),
])
def test_status_without_an_answer_is_unknown(persistctl_bin, tmp_path, case, reply, message):
    path = str(tmp_path / f"{case}.sock")
    t = serve_once(path, reply)
    p = run(persistctl_bin, "-s", path, "status")
    t.join(10)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert message in p.stderr and "cannot tell" in p.stderr, p.stderr
    assert p.stdout == ""


def serve_status_json(path, result_text):
    """Answers one request with result_text (raw JSON text, maybe broken) as its
    result, echoing the request's id."""
    def envelope(request):
        rid = json.dumps(json.loads(request)["id"]).encode()
        return b'{"jsonrpc":"2.0","id":' + rid + b',"result":' + result_text + b"}\n"
    return serve_once(path, envelope)


def test_status_json_long_and_broken(persistctl_bin, tmp_path):
    # Long enough to go out in many pieces: the same document, pretty.
    doc = {"level": "WARNING", "cert_list": [
        {"name": f"c{i:05d}", "reason": "caf\u00e9 \"quoted\"" if i % 7 == 0 else "plain",
         "n": [i, True, None]} for i in range(5000)]}
    path = str(tmp_path / "long.sock")
    t = serve_status_json(path, json.dumps(doc, separators=(",", ":")).encode())
    p = run(persistctl_bin, "-s", path, "--json", "status")
    t.join(10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert len(p.stdout) > 200_000
    assert json.loads(p.stdout) == doc
    # Broken inside the result after writing began: not a document, and 3.
    broken = b'{"level":"OK","cert_list":[' + b'{"name":"x"},' * 20000 + b'{"name":'
    path = str(tmp_path / "broken.sock")
    t = serve_status_json(path, broken)
    p = run(persistctl_bin, "-s", path, "--json", "status")
    t.join(10)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "cannot tell" in p.stderr, p.stderr
    # What was written of the result, then --json's error object on a line of its own.
    lines = p.stdout.split("\n")
    assert p.stdout.startswith("{") and lines[-1] == "", p.stdout[-200:]
    assert json.loads(lines[-2])["error"]["exit_code"] == 3
    with pytest.raises(ValueError):
        json.loads("\n".join(lines[:-2]))


def test_status_no_daemon_behind_the_socket(persistctl_bin, tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # a socket file with nobody listening: ECONNREFUSED
    p = run(persistctl_bin, "-s", path, "status", check=3)
    assert "cannot reach persistd" in p.stderr and "is it running?" in p.stderr
    p = run(persistctl_bin, "-s", str(tmp_path / "missing.sock"), "status", check=3)
    assert "cannot reach persistd" in p.stderr


# ---- the CLI's conventions (issue 13) ----

class Peer:
    """A Unix socket peer that answers each JSON-RPC request with the canned
    result (or error) for its method, echoing the request's id, then sends
    `after` (raw lines: notifications) and closes. What was asked is kept in
    `requests`: a command that must not reach the daemon leaves it empty."""

    def __init__(self, path, answers, after=b""):
        self.requests = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.srv.settimeout(20)
        self.answers = answers
        self.after = after
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            c, _ = self.srv.accept()
        except OSError:
            return
        with c:
            c.settimeout(10)
            buf = b""
            while b"\n" not in buf:
                chunk = c.recv(4096)
                if not chunk:
                    return
                buf += chunk
            req = json.loads(buf.split(b"\n", 1)[0])
            self.requests.append(req)
            ans = self.answers.get(req["method"], {"result": None})
            reply = {"jsonrpc": "2.0", "id": req.get("id"), **ans}
            c.sendall(json.dumps(reply).encode() + b"\n" + self.after)

    def close(self):
        self.srv.close()
        self.t.join(10)


STATUS = {"result": {
    "version": "0.1.0", "level": "OK", "summary": "1 cert, all OK",
    "cert_list": [{"name": "www", "cert_level": "OK", "has_cert": True,
                   "last_error": "the CA said:\n  urn:ietf:params:acme:error:badNonce\n"
                                 "\ttry again later",
                   "names": [{"name": "www.example", "level": "OK", "status": "VALID"}]}],
}}


@pytest.mark.parametrize("args", [
    ["status", "--no-color", "-s", "{sock}"],
    ["status", "-s", "{sock}", "--json"],
    ["--no-color", "status", "--socket={sock}"],
    ["status", "--socket", "{sock}", "--no-color"],
])
def test_global_options_in_any_position(persistctl_bin, tmp_path, args):
    sock = str(tmp_path / "d.sock")
    peer = Peer(sock, {"status": STATUS})
    p = run(persistctl_bin, *[a.format(sock=sock) for a in args], check=0)
    peer.close()
    assert [r["method"] for r in peer.requests] == ["status"]
    if "--json" in args:
        assert json.loads(p.stdout)["summary"] == "1 cert, all OK"
    else:
        assert "1 cert, all OK" in p.stdout and "\033[" not in p.stdout


@pytest.mark.parametrize("args", [
    ["status", "--bogus"],
    ["status", "extra-operand"],
    ["status", "-s"],
    ["check"],
    ["check", "a", "b"],
    ["check", "--all", "www"],
    ["check", "--bogus"],
    ["check", "--direct"],
])
def test_usage_errors_of_monitoring_commands_are_unknown(persistctl_bin, tmp_path, args):
    sock = str(tmp_path / "nobody.sock")
    p = run(persistctl_bin, "--socket", sock, *args)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert p.stderr


def test_json_errors_are_an_object_on_stdout(persistctl_bin, tmp_path):
    # No daemon behind the socket.
    p = run(persistctl_bin, "--json", "-s", str(tmp_path / "missing.sock"), "status", check=3)
    err = json.loads(p.stdout)["error"]
    assert "cannot reach persistd" in err["message"] and err["exit_code"] == 3
    assert err["code"] is None
    assert "cannot reach persistd" in p.stderr
    # The daemon answers with an error: its code and message.
    sock = str(tmp_path / "d.sock")
    peer = Peer(sock, {"certs.get": {"error": {"code": -32602, "message": "no cert 'nope'"}}})
    p = run(persistctl_bin, "-s", sock, "show", "nope", "--json", check=1)
    peer.close()
    err = json.loads(p.stdout)["error"]
    assert err == {"message": "no cert 'nope'", "code": -32602, "exit_code": 1}
    # A usage error with --json too.
    p = run(persistctl_bin, "-s", sock, "status", "--json", "--bogus", check=3)
    assert "usage error" in json.loads(p.stdout)["error"]["message"]
    # A refused confirmation.
    p = run(persistctl_bin, "-s", sock, "--json", "account", "rollover", check=2)
    assert "--yes" in json.loads(p.stdout)["error"]["message"]
    # The offline commands' and persistctl's own usage errors.
    for args, code, msg in (
            (["record", "lint", "--issuer", "ca.example"], 2, "needs --issuer and --account-uri"),
            (["record", "generate", "--bogus"], 2, "unknown option"),
            (["check", "--direct", "--bogus"], 3, "unknown option '--bogus'"),
            (["frobnicate"], 2, "unknown command 'frobnicate'"),
            (["-c", str(tmp_path / "missing.conf"), "status"], 3, "missing.conf")):
        p = run(persistctl_bin, "--json", *args, check=code)
        err = json.loads(p.stdout)["error"]
        assert msg in err["message"] and err["exit_code"] == code, (args, err)


def test_watch_json_is_one_object_per_line(persistctl_bin, tmp_path):
    sock = str(tmp_path / "d.sock")
    events = [{"type": "check", "cert": "www", "fqdn": "www.example", "status": "VALID",
               "level": "OK", "time": 1700000000},
              {"type": "alert", "level": "WARNING", "message": "two\nlines", "time": 1700000001}]
    after = b"".join(json.dumps({"jsonrpc": "2.0", "method": "event", "params": e}).encode()
                     + b"\n" for e in events)
    peer = Peer(sock, {"events.subscribe": {"result": {"subscribed": True}}}, after=after)
    # The peer closes after the events: watch ends with 3 (no more answers).
    p = run(persistctl_bin, "-s", sock, "watch", "--json")
    peer.close()
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    assert [json.loads(line) for line in lines[:2]] == events, p.stdout
    # The closed connection is a JSON error object on the last line.
    assert "error" in json.loads(lines[-1]) and len(lines) == 3


def minimal_config(tmp_path, sock):
    conf = tmp_path / "persistd.conf"
    conf.write_text(f"[daemon]\nstate_dir = {tmp_path}/state\ncontrol_socket = {sock}\n"
                    "\n[ca a]\ndirectory = https://ca.example/dir\n")
    return conf


def test_socket_from_config_and_environment(persistctl_bin, tmp_path):
    import os
    sock = str(tmp_path / "from-config.sock")
    conf = minimal_config(tmp_path, sock)
    peer = Peer(sock, {"status": STATUS})
    run(persistctl_bin, "-c", str(conf), "status", check=0)
    peer.close()
    assert [r["method"] for r in peer.requests] == ["status"]
    # After the command, and as --config=.
    os.unlink(sock)
    peer = Peer(sock, {"certs.list": {"result": []}})
    run(persistctl_bin, "list", f"--config={conf}", check=0)
    peer.close()
    assert [r["method"] for r in peer.requests] == ["certs.list"]
    # PERSISTD_SOCKET, and -s over both.
    env_sock = str(tmp_path / "env.sock")
    peer = Peer(env_sock, {"status": STATUS})
    p = subprocess.run([persistctl_bin, "status"], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PERSISTD_SOCKET": env_sock})
    peer.close()
    assert p.returncode == 0, p.stderr
    p = run(persistctl_bin, "-c", str(conf), "-s", str(tmp_path / "explicit.sock"), "status",
            check=3)
    assert "explicit.sock" in p.stderr
    # A config that does not load: its file:line, and no call.
    bad = tmp_path / "bad.conf"
    bad.write_text("[daemon]\ncontrol_sockett = /x\n")
    p = run(persistctl_bin, "-c", str(bad), "status", check=3)
    assert f"{bad}:2" in p.stderr and "control_sockett" in p.stderr
    p = run(persistctl_bin, "-c", str(tmp_path / "missing.conf"), "list", check=2)
    assert "missing.conf" in p.stderr


@pytest.mark.parametrize("args, method", [
    (["account", "rollover"], "account.rollover"),
    (["account", "rollover", "a"], "account.rollover"),
    (["account", "deactivate", "a"], "account.deactivate"),
])
def test_irreversible_commands_need_yes(persistctl_bin, tmp_path, args, method):
    sock = str(tmp_path / "d.sock")
    peer = Peer(sock, {method: {"result": {"message": "done", "account": {"ca": "a"}}}})
    p = run(persistctl_bin, "-s", sock, *args, check=2)
    assert "cannot be undone" in p.stderr and "--yes" in p.stderr
    p = run(persistctl_bin, "-s", sock, *args, "--yes", check=0)
    peer.close()
    assert [r["method"] for r in peer.requests] == [method]
    assert "done" in p.stdout
    if len(args) == 3:
        assert peer.requests[0]["params"]["ca"] == "a"


def test_multi_line_errors_never_break_a_table(persistctl_bin, tmp_path):
    sock = str(tmp_path / "d.sock")
    peer = Peer(sock, {"status": STATUS})
    p = run(persistctl_bin, "-s", sock, "status", check=0)
    peer.close()
    lines = p.stdout.splitlines()
    # The summary, the header, the cert row and its name row: nothing else.
    assert len(lines) == 4, p.stdout
    assert lines[1].startswith("CERT")
    assert lines[2].rstrip().endswith(
        "the CA said: / urn:ietf:params:acme:error:badNonce / try again later"), lines[2]


def test_help_lists_every_command(persistctl_bin):
    out = run(persistctl_bin, "--help", check=0).stdout
    for cmd in ("status", "list", "show", "record [NAME]", "check [NAME|--all]", "renew",
                "reload", "account show", "account rollover", "account deactivate", "probe",
                "watch", "help", "record generate", "record lint", "check --direct",
                "--config", "--socket", "--json", "--no-color"):
        assert cmd in out, cmd
    assert run(persistctl_bin, "help", check=0).stdout == out


def test_show_prints_every_field_it_names(persistctl_bin, tmp_path):
    sock = str(tmp_path / "d.sock")
    cert = {"name": "www", "ca": "a", "challenge": "dns-persist-01", "key_type": "ec-p256",
            "cert_level": "OK", "cert_level_reason": "fine", "issuer": "Test CA",
            "serial": "0a1b", "version": 3, "not_before": 1700000000,
            "not_after": 1707776000, "names": []}
    peer = Peer(sock, {"certs.get": {"result": cert}})
    p = run(persistctl_bin, "-s", sock, "show", "www", check=0)
    peer.close()
    assert "Test CA (serial 0a1b, version 3)" in p.stdout, p.stdout


def test_lint_without_value_is_the_empty_rrset(persistctl_bin):
    base = [persistctl_bin, "record", "lint", "--issuer", "ca.example", "--account-uri", ACCT]
    p = run(*base, check=1)
    assert "NO_RECORD" in p.stdout
    p = run(*base, "--json", check=1)
    assert json.loads(p.stdout)["status"] == "NO_RECORD"
    # As a shell passes a lookup that found nothing: $(dig +short ...) is no word.
    p = subprocess.run(["sh", "-c", '"$@" $(true)', "sh", *base], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1 and "NO_RECORD" in p.stdout


def test_shipped_example_cert_is_not_live(persistd_bin, source_root):
    certs = source_root / "etc/certs.d"
    assert (certs / "example.conf.sample").is_file()
    assert not list(certs.glob("*.conf"))
    p = run(persistd_bin, "--check-config", "-c", str(source_root / "etc/persistd.conf"))
    assert "www" not in p.stdout
