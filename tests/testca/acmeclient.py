"""A minimal ACME (RFC 8555) client for testing the test CA: cryptography-based,
ES256 by default (ES384 and RS256 keys work too), HTTPS over http.client.

    c = Client(directory_url, root_pem_path)
    c.new_account(contact=["mailto:a@example.test"])
    url, order = c.new_order(["example.test", "*.example.test"])
    ... c.respond(challenge) ... c.poll(url) ... c.finalize(order, key) ...

Failures raise Problem (status, problem document, headers). post() can also
return the raw Response (check=False) so tests can look at broken replies.
"""
import base64
import hashlib
import hmac
import http.client
import json
import ssl
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Problem(Exception):
    def __init__(self, resp):
        self.resp = resp
        self.status = resp.status
        self.headers = resp.headers
        try:
            self.problem = json.loads(resp.body)
        except ValueError:
            self.problem = {"type": None, "detail": resp.body[:200].decode("latin-1")}
        self.type = self.problem.get("type")
        super().__init__(f"{self.status} {self.type}: {self.problem.get('detail')}")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get/get_all)
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def location(self):
        return self.headers.get("Location")

    def links(self, rel):
        out = []
        for v in self.headers.get_all("Link") or []:
            for part in v.split(","):
                url, _, params = part.strip().partition(";")
                if f'rel="{rel}"' in params.replace(" ", ""):
                    out.append(url.strip()[1:-1])
        return out


# ---- keys, JWK, JWS ----------------------------------------------------------------
def gen_key(kind="ec256"):
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(65537, 2048)


def jwk_of(key):
    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, ec.EllipticCurvePublicKey):
        size = (pub.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384"}[pub.curve.name]
        n = pub.public_numbers()
        return {"crv": crv, "kty": "EC", "x": b64url(n.x.to_bytes(size, "big")),
                "y": b64url(n.y.to_bytes(size, "big"))}
    n = pub.public_numbers()
    return {"e": b64url(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")), "kty": "RSA",
            "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big"))}


def thumbprint(key):
    canon = json.dumps(jwk_of(key), sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canon.encode()).digest())


def alg_of(key):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ES256" if key.curve.name == "secp256r1" else "ES384"
    return "RS256"


def sign(key, data):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        h = hashes.SHA256() if size == 32 else hashes.SHA384()
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def jws(key, header, payload):
    """Flattened JWS; payload None or b"" means POST-as-GET (empty payload)."""
    if payload is None or payload == b"":
        pl = ""
    elif isinstance(payload, (bytes, bytearray)):
        pl = b64url(payload)
    else:
        pl = b64url(json.dumps(payload))
    prot = b64url(json.dumps(dict(header, alg=header.get("alg", alg_of(key)))))
    return {"protected": prot, "payload": pl,
            "signature": b64url(sign(key, f"{prot}.{pl}".encode()))}


def eab_binding(kid, mac_key_b64, account_key, url):
    prot = b64url(json.dumps({"alg": "HS256", "kid": kid, "url": url}))
    pl = b64url(json.dumps(jwk_of(account_key)))
    mac = hmac.new(b64url_decode(mac_key_b64), f"{prot}.{pl}".encode(), hashlib.sha256).digest()
    return {"protected": prot, "payload": pl, "signature": b64url(mac)}


# ---- certificates ------------------------------------------------------------
def make_csr(key, names, cn=True):
    b = x509.CertificateSigningRequestBuilder()
    if cn:
        b = b.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
    h = hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) and \
        key.curve.name == "secp384r1" else hashes.SHA256()
    return b.sign(key, h).public_bytes(serialization.Encoding.DER)


def split_pem_chain(pem):
    if isinstance(pem, bytes):
        pem = pem.decode()
    parts = pem.split("-----END CERTIFICATE-----")
    return [x509.load_pem_x509_certificate((p + "-----END CERTIFICATE-----\n").strip().encode())
            for p in parts if "BEGIN CERTIFICATE" in p]


def ari_cert_id(cert):
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    serial = cert.serial_number
    return b64url(aki.key_identifier) + "." + b64url(serial.to_bytes(serial.bit_length() // 8 + 1,
                                                                     "big"))


def hashed_accounturi(prefix, domain, thumb, account_url):
    d = domain.encode()
    m = bytes([len(d)]) + d + thumb.encode() + account_url.encode()
    return f"{prefix}sha-256/{b64url(hashlib.sha256(m).digest())}"


def dns01_txt(token, key):
    return b64url(hashlib.sha256(f"{token}.{thumbprint(key)}".encode()).digest())


# ---- the client --------------------------------------------------------------
class Client:
    def __init__(self, directory_url, root, key=None, timeout=10):
        self.directory_url = directory_url
        self.key = key or gen_key()
        self.kid = None
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cafile=str(root))
        u = urllib.parse.urlsplit(directory_url)
        self.host, self.port = u.hostname, u.port or 443
        self.conn = None
        self.nonces = []
        self._dir = None

    # HTTP
    def http(self, method, url, body=None, headers=None):
        u = urllib.parse.urlsplit(url)
        assert (u.hostname, u.port or 443) == (self.host, self.port), url
        path = u.path + (f"?{u.query}" if u.query else "")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                        timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        n = r.getheader("Replay-Nonce")
        if n:
            self.nonces.append(n)
        return Response(r.status, r.headers, data)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    @property
    def directory(self):
        if self._dir is None:
            r = self.http("GET", self.directory_url)
            assert r.status == 200, r.body
            self._dir = r.json()
        return self._dir

    def nonce(self):
        if not self.nonces:
            r = self.http("HEAD", self.directory["newNonce"])
            assert r.status == 200, r.status
        return self.nonces.pop()

    def post(self, url, payload, key=None, use_jwk=False, check=True, retry_bad_nonce=True,
             header_extra=None, content_type="application/jose+json"):
        key = key or self.key
        for attempt in range(3):
            h = {"alg": alg_of(key), "nonce": self.nonce(), "url": url}
            if use_jwk:
                h["jwk"] = jwk_of(key)
            else:
                h["kid"] = self.kid
            h.update(header_extra or {})
            body = json.dumps(jws(key, h, payload)).encode()
            r = self.http("POST", url, body, {"Content-Type": content_type})
            if r.status == 400 and retry_bad_nonce and attempt < 2 and \
                    r.headers.get("Content-Type") == "application/problem+json" and \
                    json.loads(r.body).get("type") == "urn:ietf:params:acme:error:badNonce":
                continue
            break
        if check and r.status >= 400:
            raise Problem(r)
        return r

    def get(self, url):
        """POST-as-GET -> parsed JSON."""
        return self.post(url, None).json()

    # accounts
    def new_account(self, contact=None, tos=True, only_existing=False, eab=None):
        payload = {}
        if tos is not None:
            payload["termsOfServiceAgreed"] = tos
        if contact is not None:
            payload["contact"] = contact
        if only_existing:
            payload["onlyReturnExisting"] = True
        if eab:
            kid, mac = eab
            payload["externalAccountBinding"] = eab_binding(kid, mac, self.key,
                                                            self.directory["newAccount"])
        r = self.post(self.directory["newAccount"], payload, use_jwk=True)
        self.kid = r.location
        self.account_status = r.status
        return r.json()

    def account(self, payload=None):
        return self.post(self.kid, payload).json()

    def key_change(self, new_key):
        url = self.directory["keyChange"]
        inner = jws(new_key, {"alg": alg_of(new_key), "jwk": jwk_of(new_key), "url": url},
                    {"account": self.kid, "oldKey": jwk_of(self.key)})
        r = self.post(url, inner)
        self.key = new_key
        return r

    # orders
    def new_order(self, names, profile=None, replaces=None):
        p = {"identifiers": [{"type": "dns", "value": n} for n in names]}
        if profile:
            p["profile"] = profile
        if replaces:
            p["replaces"] = replaces
        r = self.post(self.directory["newOrder"], p)
        assert r.status == 201, r.status
        return r.location, r.json()

    def authzs(self, order):
        return [(u, self.get(u)) for u in order["authorizations"]]

    @staticmethod
    def challenge(authz, ctype):
        return next((c for c in authz["challenges"] if c["type"] == ctype), None)

    def respond(self, chall):
        return self.post(chall["url"], {}).json()

    def poll(self, url, done=("valid", "invalid", "ready"), timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(url)
            if obj["status"] in done:
                return obj
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} stuck in {obj['status']}")
            time.sleep(0.1)

    def validate_all(self, order_url, order, ctype="dns-persist-01"):
        """Answer ctype on every pending authz, then poll the order to a final state."""
        for u, a in self.authzs(order):
            if a["status"] == "pending":
                self.respond(self.challenge(a, ctype))
        for u in order["authorizations"]:
            self.poll(u, done=("valid", "invalid"))
        return self.poll(order_url, done=("ready", "invalid", "valid"))

    def finalize(self, order_url, order, cert_key=None, names=None):
        cert_key = cert_key or gen_key()
        names = names or [i["value"] for i in order["identifiers"]]
        self.post(order["finalize"], {"csr": b64url(make_csr(cert_key, names))})
        return self.poll(order_url, done=("valid", "invalid")), cert_key

    def download(self, cert_url):
        r = self.post(cert_url, None)
        assert r.headers.get("Content-Type") == "application/pem-certificate-chain"
        return r

    def issue(self, names, ctype="dns-persist-01", profile=None, replaces=None):
        url, order = self.new_order(names, profile, replaces)
        order = self.validate_all(url, order, ctype)
        assert order["status"] == "ready", order
        order, key = self.finalize(url, order)
        assert order["status"] == "valid", order
        chain = split_pem_chain(self.download(order["certificate"]).body)
        return order, chain, key

    def revoke(self, cert, reason=None, key=None):
        p = {"certificate": b64url(cert.public_bytes(serialization.Encoding.DER))}
        if reason is not None:
            p["reason"] = reason
        if key is not None:
            return self.post(self.directory["revokeCert"], p, key=key, use_jwk=True)
        return self.post(self.directory["revokeCert"], p)

    def renewal_info(self, cert_id):
        return self.http("GET", self.directory["renewalInfo"] + "/" + cert_id)

    # dns-persist-01 record text
    def persist_record(self, issuer, domain=None, policy=None, persist_until=None, mode=None):
        meta = self.directory.get("meta", {})
        if mode == "hashed" or (mode is None and "accountHashPrefix" in meta):
            uri = hashed_accounturi(meta["accountHashPrefix"], domain, thumbprint(self.key),
                                    self.kid)
        else:
            uri = self.kid
        rec = f"{issuer}; accounturi={uri}"
        if policy:
            rec += f"; policy={policy}"
        if persist_until is not None:
            rec += f"; persistUntil={persist_until}"
        return rec
