"""Cross-checks the crypto layer (common/key, jws, csr) against python3-cryptography and the
openssl CLI: another implementation must accept our JWKs, thumbprints, r||s signatures,
JWS objects and CSRs.

The C side is the unit test binaries' --emit mode (tests/unit/test_{key,jws,csr}.c), which
writes fresh keys and artefacts into a temporary directory. They are built by
`make check` (or `make SAN=1 build-san/tests/test_key ...`); without them the tests skip.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

TYPES = ["ec-p256", "ec-p384", "rsa2048"]


def build_dir():
    return os.environ.get("PERSISTD_BUILD") or os.path.join(
        os.path.dirname(__file__), "..", "..", "build-san")


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """Runs each unit test binary's --emit once per module; returns test -> directory."""
    cache = {}

    def get(test):
        if test not in cache:
            binary = os.path.join(build_dir(), "tests", test)
            if not os.access(binary, os.X_OK):
                pytest.skip(f"{binary} not built (make SAN=1 build-san/tests/{test})")
            out = tmp_path_factory.mktemp(test)
            subprocess.run([binary, "--emit", str(out)], check=True, timeout=120)
            cache[test] = out
        return cache[test]

    return get


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    assert "=" not in s
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canonical_jwk(pub):
    """RFC 7638 canonical JWK of a public key, made by python3-cryptography's numbers."""
    if isinstance(pub, ec.EllipticCurvePublicKey):
        width = (pub.curve.key_size + 7) // 8
        nums = pub.public_numbers()
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[pub.curve.name]
        x = b64u(nums.x.to_bytes(width, "big"))
        y = b64u(nums.y.to_bytes(width, "big"))
        return f'{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}'
    nums = pub.public_numbers()
    e = b64u(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))
    n = b64u(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"))
    return f'{{"e":"{e}","kty":"RSA","n":"{n}"}}'


def key_from_jwk(jwk):
    if jwk["kty"] == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64u_decode(jwk["x"]), "big"),
            int.from_bytes(b64u_decode(jwk["y"]), "big"), curve).public_key()
    assert jwk["kty"] == "RSA"
    return rsa.RSAPublicNumbers(int.from_bytes(b64u_decode(jwk["e"]), "big"),
                                int.from_bytes(b64u_decode(jwk["n"]), "big")).public_key()


def verify_jws_sig(pub, signing_input, sig):
    """Raises InvalidSignature unless sig is a valid ES256/ES384 r||s or RS256 signature."""
    if isinstance(pub, ec.EllipticCurvePublicKey):
        width = (pub.curve.key_size + 7) // 8
        assert len(sig) == 2 * width
        r = int.from_bytes(sig[:width], "big")
        s = int.from_bytes(sig[width:], "big")
        h = hashes.SHA384() if width == 48 else hashes.SHA256()
        pub.verify(utils.encode_dss_signature(r, s), signing_input, ec.ECDSA(h))
    else:
        pub.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("key_type", TYPES)
def test_keys_jwk_and_signatures(emitted, key_type):
    out = emitted("test_key")
    pem = (out / f"{key_type}.pem").read_bytes()
    # SEC1 or PKCS#1, as mbedTLS writes it; openssl reads it too.
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----" if key_type.startswith("rsa")
                          else b"-----BEGIN EC PRIVATE KEY-----")
    priv = serialization.load_pem_private_key(pem, None)
    pub = priv.public_key()
    jwk = (out / f"{key_type}.jwk").read_text()
    assert jwk == canonical_jwk(pub)
    thumb = (out / f"{key_type}.thumbprint").read_text()
    assert thumb == b64u(hashlib.sha256(jwk.encode()).digest())

    sigs = (out / f"{key_type}.sigs").read_text().splitlines()
    assert len(sigs) == 300
    for i, sig in enumerate(sigs):
        verify_jws_sig(pub, f"interop {i}".encode(), b64u_decode(sig))

    # openssl is part of every Debian system the suite runs on: check, do not skip.
    assert shutil.which("openssl"), "openssl not installed (Debian package openssl)"
    subprocess.run(["openssl", "pkey", "-in", str(out / f"{key_type}.pem"), "-noout"],
                   check=True, timeout=30)


@pytest.mark.parametrize("key_type", TYPES)
def test_jws_objects(emitted, key_type):
    out = emitted("test_jws")
    for name, want_url in ((f"{key_type}.jws", "https://ca.example/acme/new-acct"),
                           (f"{key_type}.keychange", "https://ca.example/acme/key-change")):
        body = json.loads((out / name).read_text())
        assert list(body) == ["protected", "payload", "signature"]
        protected = json.loads(b64u_decode(body["protected"]))
        assert protected["url"] == want_url
        pub = key_from_jwk(protected["jwk"])
        alg = {"ec-p256": "ES256", "ec-p384": "ES384", "rsa2048": "RS256"}[key_type]
        assert protected["alg"] == alg
        signing_input = f'{body["protected"]}.{body["payload"]}'.encode()
        verify_jws_sig(pub, signing_input, b64u_decode(body["signature"]))
        payload = json.loads(b64u_decode(body["payload"]))
        if name.endswith(".keychange"):
            assert "nonce" not in protected
            assert payload["account"] == "https://ca.example/acme/acct/1"
            key_from_jwk(payload["oldKey"])
        else:
            assert protected["nonce"] == "bm9uY2U"
            assert payload == {"termsOfServiceAgreed": True}


def test_eab(emitted):
    out = emitted("test_jws")
    body = json.loads((out / "eab.json").read_text())
    protected = json.loads(b64u_decode(body["protected"]))
    assert protected == {"alg": "HS256", "kid": "kid-1",
                         "url": "https://ca.example/acme/new-acct"}
    key_from_jwk(json.loads(b64u_decode(body["payload"])))
    mac = hmac.new(bytes(range(32)), f'{body["protected"]}.{body["payload"]}'.encode(),
                   hashlib.sha256).digest()
    assert b64u_decode(body["signature"]) == mac


@pytest.mark.parametrize("key_type", TYPES)
def test_csr(emitted, key_type):
    out = emitted("test_csr")
    der_path = out / f"{key_type}.der"
    names = (out / f"{key_type}.names").read_text().splitlines()
    csr = x509.load_der_x509_csr(der_path.read_bytes())
    assert csr.is_signature_valid
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == names
    cns = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    assert cns == ([names[0]] if len(names[0]) <= 64 else [])
    want_hash = hashes.SHA384 if key_type == "ec-p384" else hashes.SHA256
    assert isinstance(csr.signature_hash_algorithm, want_hash)

    assert shutil.which("openssl"), "openssl not installed (Debian package openssl)"
    res = subprocess.run(["openssl", "req", "-inform", "DER", "-in", str(der_path),
                          "-noout", "-verify"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert "verify OK" in res.stdout + res.stderr
