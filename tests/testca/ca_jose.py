"""JWS/JWK per RFC 7515/7517/7518/7638 as ACME (RFC 8555 section 6.2) uses them.

parse_jws() checks the flattened shape and protected header; verify() checks
the signature for ES256, ES384 and RS256; jwk_key() validates a public JWK
and returns (key, thumbprint); verify_hs256() checks an EAB binding MAC.
Everything raises ca_util.AcmeError with the problem type RFC 8555 names.
"""
import hashlib
import hmac
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ca_util import AcmeError, b64url, b64url_decode, json_object

ALGS = ("ES256", "ES384", "RS256")
_EC = {"P-256": (ec.SECP256R1, 32, "ES256"), "P-384": (ec.SECP384R1, 48, "ES384")}
_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class JWS:
    """A parsed flattened JWS: header (dict), payload (bytes), signature, signing input."""

    def __init__(self, header, payload, signature, signing_input):
        self.header = header
        self.payload = payload
        self.signature = signature
        self.signing_input = signing_input


def parse_jws(body, what="JWS"):
    """Flattened JSON serialization only, protected header only (RFC 8555 6.2)."""
    obj = json_object(body, what) if not isinstance(body, dict) else body
    if set(obj) != {"protected", "payload", "signature"}:
        raise AcmeError("malformed", f"{what} must have exactly the members protected, payload, "
                        f"signature (flattened JSON, no unprotected header); got {sorted(obj)}")
    for k in ("protected", "payload", "signature"):
        if not isinstance(obj[k], str):
            raise AcmeError("malformed", f"{what} member {k} must be a string")
    header = json_object(b64url_decode(obj["protected"], f"{what} protected header"),
                         f"{what} protected header")
    payload = b64url_decode(obj["payload"], f"{what} payload")
    sig = b64url_decode(obj["signature"], f"{what} signature")
    if "crit" in header:
        raise AcmeError("malformed", f"{what} header: crit is not supported")
    if "b64" in header:
        raise AcmeError("malformed", f"{what} header: b64 is not allowed")
    return JWS(header, payload, sig, (obj["protected"] + "." + obj["payload"]).encode("ascii"))


def _int_member(jwk, name, size=None):
    raw = b64url_decode(jwk.get(name), f"JWK member {name}", kind="badPublicKey")
    if size is not None and len(raw) != size:
        raise AcmeError("badPublicKey", f"JWK member {name} must be {size} octets, got {len(raw)}")
    if size is None and (not raw or raw[0] == 0):
        raise AcmeError("badPublicKey", f"JWK member {name} must use the minimum number of octets")
    return int.from_bytes(raw, "big"), raw


def jwk_key(jwk):
    """Validate a public JWK -> (public key object, RFC 7638 thumbprint)."""
    if not isinstance(jwk, dict):
        raise AcmeError("malformed", "jwk must be a JSON object")
    if any(k in jwk for k in _PRIVATE):
        raise AcmeError("badPublicKey", "jwk contains private key members")
    kty = jwk.get("kty")
    if kty == "EC":
        crv = jwk.get("crv")
        if crv not in _EC:
            raise AcmeError("badPublicKey", f"unsupported EC curve {crv!r} (P-256, P-384)")
        curve, size, _ = _EC[crv]
        x, xr = _int_member(jwk, "x", size)
        y, yr = _int_member(jwk, "y", size)
        try:
            key = ec.EllipticCurvePublicNumbers(x, y, curve()).public_key()
        except ValueError:
            raise AcmeError("badPublicKey", "EC point is not on the curve") from None
        canon = {"crv": crv, "kty": "EC", "x": b64url(xr), "y": b64url(yr)}
    elif kty == "RSA":
        n, nr = _int_member(jwk, "n")
        e, er = _int_member(jwk, "e")
        if not 2048 <= n.bit_length() <= 8192 or e < 3 or e % 2 == 0:
            raise AcmeError("badPublicKey", f"RSA key must be 2048..8192 bits with an odd e, "
                            f"got {n.bit_length()} bits")
        key = rsa.RSAPublicNumbers(e, n).public_key()
        canon = {"e": b64url(er), "kty": "RSA", "n": b64url(nr)}
    else:
        raise AcmeError("badPublicKey", f"unsupported key type {kty!r} (EC, RSA)")
    for k, v in canon.items():
        if jwk.get(k) != v:
            raise AcmeError("badPublicKey", f"JWK member {k} is not canonical base64url")
    return key, thumbprint_canon(canon)


def thumbprint_canon(canon):
    text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


def key_thumbprint(key):
    """RFC 7638 thumbprint of a cryptography public key (EC P-256/P-384 or RSA)."""
    return thumbprint_canon(public_jwk(key))


def public_jwk(key):
    """cryptography public key -> canonical public JWK dict."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[key.curve.name]
        size = _EC[crv][1]
        nums = key.public_numbers()
        return {"crv": crv, "kty": "EC", "x": b64url(nums.x.to_bytes(size, "big")),
                "y": b64url(nums.y.to_bytes(size, "big"))}
    nums = key.public_numbers()
    return {"e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")), "kty": "RSA",
            "n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"))}


def check_alg(alg):
    if alg not in ALGS:
        raise AcmeError("badSignatureAlgorithm", f"unsupported JWS algorithm {alg!r}",
                        algorithms=list(ALGS))


def verify(jws, key):
    """Check jws.signature with key under header alg; raise malformed on failure."""
    alg = jws.header.get("alg")
    check_alg(alg)
    try:
        if alg in ("ES256", "ES384"):
            crv = "P-256" if alg == "ES256" else "P-384"
            if not isinstance(key, ec.EllipticCurvePublicKey) or \
                    key.curve.name != _EC[crv][0].name:
                raise AcmeError("malformed", f"JWS alg {alg} does not match the key")
            size = _EC[crv][1]
            if len(jws.signature) != 2 * size:
                raise AcmeError("malformed", f"{alg} signature must be {2 * size} octets (r||s)")
            r = int.from_bytes(jws.signature[:size], "big")
            s = int.from_bytes(jws.signature[size:], "big")
            h = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
            key.verify(encode_dss_signature(r, s), jws.signing_input, ec.ECDSA(h))
        else:
            if not isinstance(key, rsa.RSAPublicKey):
                raise AcmeError("malformed", "JWS alg RS256 does not match the key")
            key.verify(jws.signature, jws.signing_input, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise AcmeError("malformed", "JWS signature verification failed") from None


def verify_hs256(jws, mac_key):
    """EAB binding (RFC 8555 7.3.4): HS256 MAC over the signing input."""
    want = hmac.new(mac_key, jws.signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(want, jws.signature):
        raise AcmeError("unauthorized", "externalAccountBinding MAC does not verify", 403)
