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
    assert "needs --issuer, --account-uri and at least one VALUE" in p.stderr
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
    assert "1 (1 dns-persist-01, 0 dns-01)" in p.stdout


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
    (bytes) and closes; reply None closes without a word."""
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
            if reply is not None:
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


def test_status_no_daemon_behind_the_socket(persistctl_bin, tmp_path):
    path = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # a socket file with nobody listening: ECONNREFUSED
    p = run(persistctl_bin, "-s", path, "status", check=3)
    assert "cannot reach persistd" in p.stderr and "is it running?" in p.stderr
    p = run(persistctl_bin, "-s", str(tmp_path / "missing.sock"), "status", check=3)
    assert "cannot reach persistd" in p.stderr
