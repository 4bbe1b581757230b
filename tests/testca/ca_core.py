"""The ACME CA itself (RFC 8555, RFC 9773, draft-ietf-acme-profiles, dns-persist-01).

CA.handle(method, path, headers, body) -> Resp is all the HTTP layer calls
for ACME paths; it never raises for a client error (AcmeError becomes a
problem document). State lives in memory under one lock; DNS lookups and
finalize delays run outside it (validation in a thread per challenge).
"""
import collections
import dataclasses
import hashlib
import json
import math
import re
import secrets
import sys
import threading
import time
import traceback

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import ca_dns
import ca_jose
import ca_pki
import ca_record
from ca_util import AcmeError, b64url, b64url_decode, json_object, problem, rfc3339

ORDER_LIFETIME_S = 7 * 86400
AUTHZ_VALID_S = 86400
NONCE_CAP = 10000
MAX_IDENTIFIERS = 100
TOS_PATH = "/terms"
JOSE = "application/jose+json"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}\Z")
_MAILTO = re.compile(r"mailto:[^@\s,?%<>\"]+@[a-z0-9.-]+\Z", re.I)
REVOCATION_REASONS = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}


@dataclasses.dataclass
class Resp:
    status: int
    body: bytes = b""
    ctype: str = "application/json"
    headers: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Account:
    id: str
    url: str
    key: object
    jwk: dict
    thumb: str
    contact: list
    status: str = "valid"
    prev_thumbs: list = dataclasses.field(default_factory=list)
    eab_kid: str = None


@dataclasses.dataclass
class Challenge:
    id: str
    authz_id: str
    type: str
    token: str = None
    status: str = "pending"
    validated: int = None
    error: dict = None


@dataclasses.dataclass
class Authz:
    id: str
    account_id: str
    value: str
    wildcard: bool
    expires: int
    challenges: list
    status: str = "pending"


@dataclasses.dataclass
class Order:
    id: str
    account_id: str
    identifiers: list
    authz_ids: list
    expires: int
    profile: str
    replaces: str = None
    status: str = None  # None: derived from the authzs; else processing/valid/invalid
    cert_id: str = None
    error: dict = None
    ready_at: float = None  # monotonic time when a delayed finalize completes
    pending_key: object = None


@dataclasses.dataclass
class Cert:
    id: str
    account_id: str
    order_id: str
    cert: object
    names: list
    not_before: int
    not_after: int
    ari_id: str
    revoked: bool = False
    reason: int = None
    ari_window: tuple = None
    replaced_by: str = None


class Post:
    """A verified ACME POST: account (kid) or jwk key, payload bytes, header."""

    def __init__(self, header, payload, account=None, key=None, thumb=None, jwk=None):
        self.header = header
        self.payload = payload
        self.account = account
        self.key = key
        self.thumb = thumb
        self.jwk = jwk

    @property
    def as_get(self):
        return self.payload == b""

    def obj(self):
        return json_object(self.payload)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class CA:
    def __init__(self, opts, pki):
        self.o = opts
        self.pki = pki
        self.base = None
        self.lock = threading.RLock()
        self.nonces = collections.OrderedDict()
        self.clock_offset = 0
        self.misissue = []  # queued issuance faults: {"kind", "count"}
        self.refuse_replaces = 0  # HTTP status for a newOrder with replaces; 0: accept
        self.accounts = {}
        self.key_index = {}  # current key thumbprint -> account id
        self.orders = {}
        self.authzs = {}
        self.challs = {}
        self.certs = {}
        self.ari_index = {}
        self._ids = 0

    # ---- basics -------------------------------------------------------------
    def now(self):
        return int(time.time() + self.clock_offset)

    def url(self, path):
        return self.base + path

    def new_id(self):
        self._ids += 1
        return f"{self._ids}{secrets.token_hex(3)}"

    def new_nonce(self):
        with self.lock:
            n = secrets.token_urlsafe(18)
            self.nonces[n] = True
            while len(self.nonces) > NONCE_CAP:
                self.nonces.popitem(last=False)
            return n

    def consume_nonce(self, nonce):
        with self.lock:
            return self.nonces.pop(nonce, None) is not None

    def hash_prefix(self):
        return self.o.hash_prefix if self.o.hash_prefix else self.url("/acct-hash/")

    def directory(self):
        meta = {
            "termsOfService": self.url(TOS_PATH),
            "website": self.url("/"),
            "caaIdentities": list(self.o.issuers),
            "profiles": {n: f"certificates valid for {s} seconds"
                         for n, s in self.o.profiles.items()},
        }
        if self.o.eab:
            meta["externalAccountRequired"] = True
        if self.o.draft == "02":
            meta["issuerDomainNames"] = list(self.o.issuers)
            meta["accountHashPrefix"] = self.hash_prefix()
        return {
            "newNonce": self.url("/acme/new-nonce"),
            "newAccount": self.url("/acme/new-account"),
            "newOrder": self.url("/acme/new-order"),
            "revokeCert": self.url("/acme/revoke-cert"),
            "keyChange": self.url("/acme/key-change"),
            "renewalInfo": self.url("/acme/renewal-info"),
            "meta": meta,
        }

    # ---- dispatch -----------------------------------------------------------
    ROUTES = [
        (re.compile(r"/directory\Z"), ("GET",), "get_directory"),
        (re.compile(r"/acme/new-nonce\Z"), ("GET", "HEAD"), "get_nonce"),
        (re.compile(r"/acme/new-account\Z"), ("POST",), "new_account"),
        (re.compile(r"/acme/new-order\Z"), ("POST",), "new_order"),
        (re.compile(r"/acme/revoke-cert\Z"), ("POST",), "revoke_cert"),
        (re.compile(r"/acme/key-change\Z"), ("POST",), "key_change"),
        (re.compile(r"/acme/renewal-info/([^/]+)\Z"), ("GET",), "renewal_info"),
        (re.compile(r"/acme/acct/(\w+)\Z"), ("POST",), "account"),
        (re.compile(r"/acme/acct/(\w+)/orders(?:\?cursor=(\d{1,9}))?\Z"), ("POST",),
         "account_orders"),
        (re.compile(r"/acme/order/(\w+)\Z"), ("POST",), "order"),
        (re.compile(r"/acme/order/(\w+)/finalize\Z"), ("POST",), "finalize"),
        (re.compile(r"/acme/authz/(\w+)\Z"), ("POST",), "authz"),
        (re.compile(r"/acme/chall/(\w+)\Z"), ("POST",), "challenge"),
        (re.compile(r"/acme/cert/(\w+)\Z"), ("POST",), "certificate"),
        (re.compile(r"/acme/cert/(\w+)/1\Z"), ("POST",), "certificate_alt"),
        (re.compile(r"(?:/|/terms)\Z"), ("GET",), "get_terms"),
    ]

    def handle(self, method, path, headers, body):
        try:
            for rx, methods, name in self.ROUTES:
                m = rx.match(path)
                if not m:
                    continue
                if method not in methods:
                    raise AcmeError("malformed", f"method {method} not allowed on {path}", 405,
                                    headers={"Allow": ", ".join(methods)})
                fn = getattr(self, name)
                if method == "POST":
                    return fn(self.verify_post(path, headers, body, name), *m.groups())
                if name == "get_nonce":
                    return fn(method)
                if body:
                    raise AcmeError("malformed", f"{method} request must not have a body")
                return fn(*m.groups())
            raise AcmeError("malformed", f"no such resource {path}", 404)
        except AcmeError as e:
            return self.problem_resp(e)
        except Exception as e:  # a bug in this CA: say so loudly, keep serving
            log(f"{method} {path}: internal error\n{traceback.format_exc()}")
            return self.problem_resp(AcmeError("serverInternal", f"testca bug: {e!r}", 500))

    def problem_resp(self, e):
        r = Resp(e.status, json.dumps(e.problem(), indent=1).encode(), "application/problem+json")
        r.headers += list(e.headers.items())
        return r

    @staticmethod
    def json_resp(obj, status=200, location=None):
        r = Resp(status, json.dumps(obj, indent=1).encode())
        if location:
            r.headers.append(("Location", location))
        return r

    # ---- JWS authentication (RFC 8555 6.2-6.5) --------------------------------
    def verify_post(self, path, headers, body, route):
        ctype = headers.get("Content-Type") or ""
        if ctype.strip() != JOSE:
            raise AcmeError("malformed", f"Content-Type must be {JOSE}, got {ctype!r}", 415)
        jws = ca_jose.parse_jws(body)
        h = jws.header
        ca_jose.check_alg(h.get("alg"))
        has_jwk, has_kid = "jwk" in h, "kid" in h
        if has_jwk == has_kid:
            raise AcmeError("malformed", "JWS header needs exactly one of jwk and kid")
        want_jwk = {"new_account": True, "revoke_cert": None}.get(route, False)
        if want_jwk is True and not has_jwk:
            raise AcmeError("malformed", "newAccount must be signed with a jwk header")
        if want_jwk is False and not has_kid:
            raise AcmeError("malformed", "this request must be signed with a kid header")
        ctx = Post(h, jws.payload)
        with self.lock:
            if has_jwk:
                ctx.key, ctx.thumb = ca_jose.jwk_key(h["jwk"])
                ctx.jwk = h["jwk"]
                ca_jose.verify(jws, ctx.key)
            else:
                kid = h["kid"]
                acct = self.account_by_url(kid)
                ca_jose.verify(jws, acct.key)
                if acct.status != "valid":
                    raise AcmeError("unauthorized", f"account is {acct.status}", 403)
                ctx.account, ctx.key, ctx.thumb = acct, acct.key, acct.thumb
            nonce = h.get("nonce")
            if not isinstance(nonce, str) or not self.consume_nonce(nonce):
                raise AcmeError("badNonce", "JWS nonce is missing, unknown or already used")
            if h.get("url") != self.url(path):
                raise AcmeError("unauthorized", f"JWS url {h.get('url')!r} is not the request URL "
                                f"{self.url(path)!r}", 403)
        return ctx

    def account_by_url(self, kid):
        prefix = self.url("/acme/acct/")
        acct = None
        if isinstance(kid, str) and kid.startswith(prefix):
            acct = self.accounts.get(kid[len(prefix):])
        if acct is None or acct.url != kid:
            raise AcmeError("accountDoesNotExist", f"no account {kid!r}")
        return acct

    def owned(self, ctx, obj, what):
        if obj is None:
            raise AcmeError("malformed", f"no such {what}", 404)
        if obj.account_id != ctx.account.id:
            raise AcmeError("unauthorized", f"{what} belongs to another account", 403)
        return obj

    @staticmethod
    def need_get(ctx):
        if not ctx.as_get:
            raise AcmeError("malformed", "expected POST-as-GET (empty payload)")

    # ---- directory, nonce, terms ------------------------------------------------
    def get_directory(self):
        return self.json_resp(self.directory())

    def get_nonce(self, method="HEAD"):
        return Resp(200 if method == "HEAD" else 204, b"", None, [("Cache-Control", "no-store")])

    def get_terms(self):
        return Resp(200, b"persistd test CA: no terms, tests only.\n", "text/plain")

    # ---- accounts -----------------------------------------------------------
    def account_json(self, a):
        obj = {"status": a.status, "contact": a.contact, "termsOfServiceAgreed": True}
        if self.o.orders_list:
            obj["orders"] = a.url + "/orders"
        return obj

    def check_contact(self, contact):
        if not isinstance(contact, list) or len(contact) > 10:
            raise AcmeError("invalidContact", "contact must be an array of at most 10 URIs")
        for c in contact:
            if not isinstance(c, str):
                raise AcmeError("invalidContact", "contact entries must be strings")
            if not c.lower().startswith("mailto:"):
                raise AcmeError("unsupportedContact", f"contact {c!r}: only mailto: is supported")
            if not _MAILTO.match(c):
                raise AcmeError("invalidContact", f"contact {c!r} is not a single mailto: address")
        return contact

    def new_account(self, ctx):
        p = ctx.obj()
        for k, t in (("onlyReturnExisting", bool), ("termsOfServiceAgreed", bool),
                     ("contact", list), ("externalAccountBinding", dict)):
            if k in p and not isinstance(p[k], t):
                raise AcmeError("malformed", f"newAccount {k} has the wrong type")
        with self.lock:
            aid = self.key_index.get(ctx.thumb)
            if aid:
                a = self.accounts[aid]
                if a.status != "valid":
                    raise AcmeError("unauthorized", f"account is {a.status}", 403)
                return self.json_resp(self.account_json(a), 200, a.url)
            if p.get("onlyReturnExisting"):
                raise AcmeError("accountDoesNotExist", "no account for this key")
        contact = self.check_contact(p.get("contact", []))
        if p.get("termsOfServiceAgreed") is not True:
            raise AcmeError("malformed", "termsOfServiceAgreed must be true")
        eab_kid = self.check_eab(ctx, p.get("externalAccountBinding"))
        with self.lock:
            if ctx.thumb in self.key_index:  # raced with another newAccount
                a = self.accounts[self.key_index[ctx.thumb]]
                return self.json_resp(self.account_json(a), 200, a.url)
            aid = self.new_id()
            a = Account(aid, self.url(f"/acme/acct/{aid}"), ctx.key, ctx.jwk, ctx.thumb,
                        contact, eab_kid=eab_kid)
            self.accounts[aid] = a
            self.key_index[ctx.thumb] = aid
            return self.json_resp(self.account_json(a), 201, a.url)

    def check_eab(self, ctx, eab):
        if not self.o.eab:
            return None  # RFC 8555 7.3.4: a server that does not require it may ignore it
        if eab is None:
            raise AcmeError("externalAccountRequired", "this CA requires externalAccountBinding")
        jws = ca_jose.parse_jws(eab, "externalAccountBinding")
        h = jws.header
        if h.get("alg") != "HS256":
            raise AcmeError("badSignatureAlgorithm", "externalAccountBinding alg must be HS256",
                            algorithms=["HS256"])
        if "nonce" in h:
            raise AcmeError("malformed", "externalAccountBinding must not have a nonce")
        if h.get("url") != self.url("/acme/new-account"):
            raise AcmeError("unauthorized", "externalAccountBinding url must be the newAccount URL",
                            403)
        kid = h.get("kid")
        if not isinstance(kid, str) or kid not in self.o.eab:
            raise AcmeError("unauthorized", f"unknown externalAccountBinding kid {kid!r}", 403)
        ca_jose.verify_hs256(jws, self.o.eab[kid])
        inner = json_object(jws.payload, "externalAccountBinding payload")
        if inner != ctx.jwk:
            raise AcmeError("malformed", "externalAccountBinding payload is not the account JWK")
        return kid

    def account(self, ctx, aid):
        with self.lock:
            a = self.accounts.get(aid)
            if a is None or a is not ctx.account:
                raise AcmeError("unauthorized", "kid does not match the account URL", 403)
            if ctx.as_get:
                return self.json_resp(self.account_json(a), 200)
            p = ctx.obj()
            if "contact" in p:
                a.contact = self.check_contact(p["contact"])
            if "status" in p:
                if p["status"] != "deactivated":
                    raise AcmeError("malformed", "account status may only be set to deactivated")
                a.status = "deactivated"  # its key stays indexed: it must stay refused
                log(f"account {a.url} deactivated")
            return self.json_resp(self.account_json(a), 200)

    def account_orders(self, ctx, aid, cursor=None):
        """RFC 8555 7.1.2.1: the account's unfinished orders, oldest first, in pages of
        --orders-page-size with Link rel="next" (?cursor=N starts at the N-th)."""
        if not self.o.orders_list:
            raise AcmeError("malformed", "this CA does not list an account's orders", 404)
        self.need_get(ctx)
        with self.lock:
            a = self.accounts.get(aid)
            if a is None or a is not ctx.account:
                raise AcmeError("unauthorized", "kid does not match the account URL", 403)
            urls = [self.url(f"/acme/order/{o.id}") for o in self.orders.values()
                    if o.account_id == aid and self.order_status(o) in ("pending", "ready",
                                                                        "processing")]
            start = int(cursor or 0)
            end = start + self.o.orders_page_size
            r = self.json_resp({"orders": urls[start:end]})
            if end < len(urls):
                r.headers.append(("Link", f'<{a.url}/orders?cursor={end}>;rel="next"'))
            return r

    def key_change(self, ctx):
        inner = ca_jose.parse_jws(ctx.payload, "keyChange inner JWS")
        h = inner.header
        ca_jose.check_alg(h.get("alg"))
        if "jwk" not in h or "kid" in h:
            raise AcmeError("malformed", "keyChange inner JWS must carry jwk and no kid")
        if h.get("url") != ctx.header.get("url"):
            raise AcmeError("malformed", "keyChange inner url must equal the outer url")
        new_key, new_thumb = ca_jose.jwk_key(h["jwk"])
        ca_jose.verify(inner, new_key)
        p = json_object(inner.payload, "keyChange inner payload")
        a = ctx.account
        if p.get("account") != a.url:
            raise AcmeError("malformed", "keyChange payload account is not the signer's account")
        old = p.get("oldKey")
        try:
            _, old_thumb = ca_jose.jwk_key(old)
        except AcmeError:
            raise AcmeError("malformed", "keyChange oldKey is not a valid JWK") from None
        with self.lock:
            if old_thumb != a.thumb:
                raise AcmeError("malformed", "keyChange oldKey is not the account's current key")
            if new_thumb == a.thumb:
                raise AcmeError("malformed", "keyChange new key equals the old key")
            other = self.key_index.get(new_thumb)
            if other:
                raise AcmeError("conflict", "new key is already in use by an account", 409,
                                headers={"Location": self.accounts[other].url})
            self.key_index.pop(a.thumb, None)
            a.prev_thumbs.append(a.thumb)
            a.key, a.jwk, a.thumb = new_key, h["jwk"], new_thumb
            self.key_index[new_thumb] = a.id
            log(f"account {a.url} rolled over to key {new_thumb}")
            return self.json_resp(self.account_json(a), 200, a.url)

    # ---- orders and authorizations ----------------------------------------------
    def parse_identifiers(self, ids):
        if not isinstance(ids, list) or not ids:
            raise AcmeError("malformed", "identifiers must be a non-empty array")
        if len(ids) > MAX_IDENTIFIERS:
            raise AcmeError("rejectedIdentifier", f"at most {MAX_IDENTIFIERS} identifiers")
        values, errs = [], []
        for ident in ids:
            if not isinstance(ident, dict) or set(ident) != {"type", "value"} or \
                    not all(isinstance(v, str) for v in ident.values()):
                raise AcmeError("malformed", "identifier must be {\"type\": .., \"value\": ..}")
            t, v = ident["type"], ident["value"]
            if t != "dns":
                errs.append(problem("unsupportedIdentifier", f"identifier type {t!r} not supported",
                                    identifier=ident))
                continue
            base = v[2:] if v.startswith("*.") else v
            if len(v) > 253 or not _DNS_NAME.match(base):
                errs.append(problem("rejectedIdentifier", f"{v!r} is not a lowercase DNS name "
                                    "(LDH labels, at least two, optional leading '*.')",
                                    identifier=ident))
                continue
            if v not in values:
                values.append(v)
        if len(errs) == 1:
            e = errs[0]
            raise AcmeError(e["type"].rsplit(":", 1)[1], e["detail"])
        if errs:
            raise AcmeError("rejectedIdentifier", f"{len(errs)} identifiers were rejected",
                            subproblems=errs)
        return values

    def new_order(self, ctx):
        p = ctx.obj()
        values = self.parse_identifiers(p.get("identifiers"))
        if "notBefore" in p or "notAfter" in p:
            raise AcmeError("malformed", "notBefore/notAfter are not supported")
        profile = p.get("profile", self.o.default_profile)
        if not isinstance(profile, str) or profile not in self.o.profiles:
            raise AcmeError("invalidProfile", f"unknown profile {profile!r}; this CA offers "
                            f"{sorted(self.o.profiles)}")
        replaces = p.get("replaces")
        with self.lock:
            if replaces is not None and self.refuse_replaces:
                kind = {400: "malformed", 403: "unauthorized"}.get(self.refuse_replaces,
                                                                   "malformed")
                raise AcmeError(kind, "this CA does not accept replaces (injected fault)",
                                self.refuse_replaces)
            if replaces is not None:
                self.check_replaces(ctx, replaces)
            acct = ctx.account
            want = [(v[2:], True) if v.startswith("*.") else (v, False) for v in values]
            reuse = {}
            if self.o.reuse_authz:
                for w in want:
                    a = self.find_valid_authz(acct.id, *w)
                    if a:
                        reuse[w] = a
            expected = self.expected_accounturis(acct, [w[0] for w in want])
        jit = {}
        if self.o.jit and self.o.persist and self.o.dns:
            for w in want:
                if w not in reuse:
                    jit[w] = self.check_persist(w[0], w[1], expected[w[0]], log_errors=False)
        with self.lock:
            now = self.now()
            oid = self.new_id()
            authz_ids = []
            for w in dict.fromkeys(want):
                if w in reuse:
                    authz_ids.append(reuse[w].id)
                    continue
                az = self.make_authz(acct.id, w[0], w[1], now + ORDER_LIFETIME_S)
                v = jit.get(w)
                if v is not None and v[0] == ca_record.VALID:
                    ch = next(c for c in az.challenges if c.type == "dns-persist-01")
                    self.mark_valid(az, ch, now, v[2])
                    log(f"authz {az.id} {w[0]} valid just in time: {v[1]}")
                authz_ids.append(az.id)
            o = Order(oid, acct.id, values, authz_ids, now + ORDER_LIFETIME_S, profile,
                      replaces=replaces)
            self.orders[oid] = o
            return self.json_resp(self.order_json(o), 201, self.url(f"/acme/order/{oid}"))

    def check_replaces(self, ctx, replaces):
        if not isinstance(replaces, str) or "." not in replaces:
            raise AcmeError("malformed", "replaces must be an ARI certificate identifier")
        c = self.certs.get(self.ari_index.get(replaces))
        if c is None:
            raise AcmeError("malformed", f"replaces: no certificate issued with id {replaces!r}")
        if c.account_id != ctx.account.id:
            raise AcmeError("unauthorized", "replaces: certificate belongs to another account", 403)
        if c.replaced_by:
            raise AcmeError("alreadyReplaced", f"certificate {replaces!r} was already replaced "
                            f"by order {self.url('/acme/order/' + c.replaced_by)}", 409)

    def find_valid_authz(self, account_id, value, wildcard):
        now = self.now()
        for a in self.authzs.values():
            if a.account_id == account_id and a.value == value and a.wildcard == wildcard \
                    and self.authz_status(a, now) == "valid":
                return a
        return None

    def make_authz(self, account_id, value, wildcard, expires):
        aid = self.new_id()
        types = (["dns-persist-01"] if self.o.persist else []) + ["dns-01"]
        chs = []
        for t in types:
            c = Challenge(self.new_id(), aid, t, token=b64url(secrets.token_bytes(32))
                          if t == "dns-01" else None)
            self.challs[c.id] = c
            chs.append(c)
        a = Authz(aid, account_id, value, wildcard, expires, chs)
        self.authzs[aid] = a
        return a

    def mark_valid(self, az, ch, now, persist_until=None):
        ch.status, ch.validated = "valid", now
        az.status = "valid"
        az.challenges = [ch]  # RFC 8555 7.1.4: a final authz lists the challenge used
        az.expires = now + AUTHZ_VALID_S
        if persist_until is not None:
            az.expires = max(min(az.expires, persist_until), now)

    def authz_status(self, a, now=None):
        now = self.now() if now is None else now
        if a.status == "valid" and now > a.expires:
            return "expired"
        if a.status == "pending" and now > a.expires:
            return "invalid"
        return a.status

    def order_status(self, o):
        if o.status == "processing" and time.monotonic() >= o.ready_at:
            self.complete_finalize(o)
        if o.status:
            return o.status
        now = self.now()
        if now > o.expires:
            return "invalid"
        st = [self.authz_status(self.authzs[i], now) for i in o.authz_ids]
        if any(s != "valid" and s != "pending" for s in st):
            return "invalid"
        return "ready" if all(s == "valid" for s in st) else "pending"

    def order_error(self, o):
        if o.error:
            return o.error
        subs = []
        for i in o.authz_ids:
            a = self.authzs[i]
            err = next((c.error for c in a.challenges if c.error), None)
            st = self.authz_status(a)
            if err is None and st not in ("valid", "pending"):
                err = problem("unauthorized", f"authorization for {a.value} is {st}", 403)
            if err:
                subs.append(dict(err, identifier={"type": "dns", "value": a.value}))
        if not subs:
            return problem("malformed", "order expired") if self.now() > o.expires else None
        if len(subs) == 1:
            return {k: v for k, v in subs[0].items() if k != "identifier"}
        types = {s["type"] for s in subs}
        kind = types.pop() if len(types) == 1 else "urn:ietf:params:acme:error:compound"
        return {"type": kind, "detail": f"{len(subs)} authorizations failed",
                "status": subs[0]["status"], "subproblems": subs}

    def order_json(self, o):
        st = self.order_status(o)
        j = {"status": st, "expires": rfc3339(o.expires),
             "identifiers": [{"type": "dns", "value": v} for v in o.identifiers],
             "authorizations": [self.url(f"/acme/authz/{i}") for i in o.authz_ids],
             "finalize": self.url(f"/acme/order/{o.id}/finalize"),
             "profile": o.profile}
        if o.replaces:
            j["replaces"] = o.replaces
        if st == "valid":
            j["certificate"] = self.url(f"/acme/cert/{o.cert_id}")
        if st == "invalid":
            err = self.order_error(o)
            if err:
                j["error"] = err
        return j

    def order_resp(self, o):
        r = self.json_resp(self.order_json(o))
        if o.status == "processing":
            r.headers.append(("Retry-After", str(max(1, math.ceil(o.ready_at - time.monotonic())))))
        return r

    def order(self, ctx, oid):
        self.need_get(ctx)
        with self.lock:
            return self.order_resp(self.owned(ctx, self.orders.get(oid), "order"))

    def chall_json(self, c):
        j = {"type": c.type, "url": self.url(f"/acme/chall/{c.id}"), "status": c.status}
        if c.type == "dns-01":
            j["token"] = c.token
        else:
            a = self.authzs[c.authz_id]
            if self.o.draft == "02":
                j["issuerDomainNames"] = list(self.o.issuers)
            else:
                j["issuer-domain-names"] = list(self.o.issuers)
                j["accounturi"] = self.accounts[a.account_id].url
        if c.validated is not None:
            j["validated"] = rfc3339(c.validated)
        if c.error:
            j["error"] = c.error
        return j

    def authz_json(self, a):
        j = {"status": self.authz_status(a), "expires": rfc3339(a.expires),
             "identifier": {"type": "dns", "value": a.value},
             "challenges": [self.chall_json(c) for c in a.challenges]}
        if a.wildcard:
            j["wildcard"] = True
        return j

    def authz(self, ctx, aid):
        with self.lock:
            a = self.owned(ctx, self.authzs.get(aid), "authorization")
            if not ctx.as_get:
                p = ctx.obj()
                if p != {"status": "deactivated"}:
                    raise AcmeError("malformed", "authorization update must be "
                                    "{\"status\": \"deactivated\"}")
                if self.authz_status(a) not in ("pending", "valid"):
                    raise AcmeError("malformed", f"authorization is {self.authz_status(a)}")
                a.status = "deactivated"
            return self.json_resp(self.authz_json(a))

    # ---- challenges and validation -----------------------------------------------
    def challenge(self, ctx, cid):
        with self.lock:
            c = self.challs.get(cid)
            a = self.owned(ctx, self.authzs.get(c.authz_id) if c else None, "challenge")
            up = ("Link", f'<{self.url("/acme/authz/" + a.id)}>;rel="up"')
            if not ctx.as_get:
                if ctx.obj() != {}:
                    raise AcmeError("malformed", "challenge response payload must be {}")
                if c.status == "pending":
                    st = self.authz_status(a)
                    if st != "pending" or any(x.status == "processing" for x in a.challenges):
                        raise AcmeError("malformed", f"authorization is {st}, not awaiting "
                                        "a challenge response")
                    c.status = "processing"
                    threading.Thread(target=self.validate, args=(c.id,), daemon=True).start()
            r = self.json_resp(self.chall_json(c))
            r.headers.append(up)
            if c.status == "processing":
                r.headers.append(("Retry-After", "1"))
            return r

    def expected_accounturis(self, acct, values):
        """value -> set of accounturi strings this CA accepts for acct at that name."""
        out = {}
        for v in values:
            if self.o.draft == "02":
                thumbs = [acct.thumb] + acct.prev_thumbs
                out[v] = {ca_record.hashed_accounturi(self.hash_prefix(), d, t, acct.url)
                          for d in (v, "*") for t in thumbs}
            else:
                out[v] = {acct.url}
        return out

    def check_persist(self, value, wildcard, expected, log_errors=True):
        """Look up and evaluate -> (outcome, detail, persist_until) or ("DNS", detail, None)."""
        name = f"_validation-persist.{value}"
        try:
            rrs = ca_dns.lookup_txt(self.o.dns, name)
        except ca_dns.DnsError as e:
            if log_errors:
                log(f"dns-persist-01 {name}: {e}")
            return "DNS", str(e), None
        prefix = self.hash_prefix() if self.o.draft == "02" else None
        v = ca_record.evaluate(rrs, value, wildcard, self.o.issuers, expected, self.now(), prefix)
        return v.outcome, v.detail, v.persist_until

    def validate(self, cid):
        try:
            self._validate(cid)
        except Exception as e:
            log(f"validation of challenge {cid}: internal error\n{traceback.format_exc()}")
            with self.lock:
                c = self.challs[cid]
                if c.status == "processing":
                    c.status = "invalid"
                    c.error = problem("serverInternal", f"testca bug: {e!r}", 500)
                    self.authzs[c.authz_id].status = "invalid"

    def _validate(self, cid):
        with self.lock:
            c = self.challs[cid]
            a = self.authzs[c.authz_id]
            acct = self.accounts[a.account_id]
            expected = self.expected_accounturis(acct, [a.value])[a.value]
            thumb = acct.thumb
        err, until = None, None
        if not self.o.dns:
            err = problem("dns", f"{c.type}: this CA has no DNS server configured (--dns)", 400)
        elif c.type == "dns-persist-01":
            outcome, detail, until = self.check_persist(a.value, a.wildcard, expected)
            if outcome == "DNS":
                err = problem("dns", f"dns-persist-01: DNS lookup failed: {detail}", 400)
            elif outcome == ca_record.MALFORMED:
                err = problem("malformed", f"dns-persist-01: MALFORMED: {detail}", 400)
            elif outcome != ca_record.VALID:
                err = problem("unauthorized", f"dns-persist-01: {outcome}: {detail}", 403)
            log(f"validate dns-persist-01 {a.value}{' (wildcard)' if a.wildcard else ''}: "
                f"{outcome}: {detail}")
        else:
            err = self.check_dns01(a.value, c.token, thumb)
        with self.lock:
            if acct.status != "valid":
                err = problem("unauthorized", "account was deactivated during validation", 403)
            if c.status != "processing":
                return
            if err:
                c.status, c.error = "invalid", dict(err)
                a.status = "invalid"
                a.challenges = [c]
            else:
                self.mark_valid(a, c, self.now(), until)

    def check_dns01(self, value, token, thumb):
        name = f"_acme-challenge.{value}"
        want = b64url(hashlib.sha256(f"{token}.{thumb}".encode()).digest()).encode()
        try:
            rrs = ca_dns.lookup_txt(self.o.dns, name)
        except ca_dns.DnsError as e:
            log(f"dns-01 {name}: {e}")
            return problem("dns", f"dns-01: DNS lookup failed: {e}", 400)
        log(f"validate dns-01 {name}: {len(rrs)} TXT records, match={want in rrs}")
        if want in rrs:
            return None
        if not rrs:
            return problem("unauthorized", f"dns-01: no TXT records at {name}", 403)
        return problem("unauthorized", f"dns-01: none of the {len(rrs)} TXT records at {name} "
                       f"is the key authorization digest {want.decode()!r}", 403)

    # ---- finalize and certificates ------------------------------------------------
    def finalize(self, ctx, oid):
        p = ctx.obj()
        with self.lock:
            o = self.owned(ctx, self.orders.get(oid), "order")
            st = self.order_status(o)
            if st != "ready":
                raise AcmeError("orderNotReady", f"order is {st}, not ready", 403)
            csr = p.get("csr")
            if not isinstance(csr, str):
                raise AcmeError("malformed", "finalize payload needs a csr string")
            der = b64url_decode(csr, "csr", kind="badCSR")
            acct = ctx.account
            o.pending_key = ca_pki.check_csr(der, o.identifiers, {acct.thumb, *acct.prev_thumbs},
                                             ca_jose.key_thumbprint)
            o.status = "processing"
            o.ready_at = time.monotonic() + self.o.finalize_delay
            if self.o.finalize_delay <= 0:
                self.complete_finalize(o)
            else:
                t = threading.Timer(self.o.finalize_delay, self._finalize_later, args=(o.id,))
                t.daemon = True
                t.start()
            return self.order_resp(o)

    def _finalize_later(self, oid):
        with self.lock:
            o = self.orders[oid]
            if o.status == "processing":
                self.complete_finalize(o)

    def complete_finalize(self, o):
        try:
            self._issue(o)
        except Exception as e:
            log(f"issuing for order {o.id}: internal error\n{traceback.format_exc()}")
            o.status, o.pending_key = "invalid", None
            o.error = problem("serverInternal", f"testca bug while issuing: {e!r}", 500)

    MISISSUE_KINDS = ("expired", "future", "names", "signer", "key", "same_second")

    def admin_misissue(self, obj):
        """Queue an issuance fault: the next `count` certificates are bad in one way."""
        if "refuse_replaces" in obj:
            st = obj["refuse_replaces"]
            if type(st) is not int or st not in (0, 400, 403):
                raise AcmeError("malformed", "refuse_replaces must be 0, 400 or 403")
            self.refuse_replaces = st
            return {"refuse_replaces": st}
        kind = obj.get("kind")
        if kind not in self.MISISSUE_KINDS:
            raise AcmeError("malformed", f"kind must be one of {self.MISISSUE_KINDS}")
        count = obj.get("count", 1)
        if type(count) is not int or count < 1:
            raise AcmeError("malformed", "count must be a positive integer")
        with self.lock:
            self.misissue.append({"kind": kind, "count": count})
        return {"kind": kind, "count": count}

    def _take_misissue(self):
        for f in self.misissue:
            f["count"] -= 1
            if f["count"] <= 0:
                self.misissue.remove(f)
            return f["kind"]
        return None

    def _issue(self, o):
        now = self.now()
        lifetime = self.o.profiles[o.profile]
        bad = self._take_misissue()
        names, pub, not_before, signer = o.identifiers, o.pending_key, now, None
        if bad == "expired":      # as a CA whose profile has a validity of a second
            not_before, lifetime = now - 2 * ca_pki.DAY, ca_pki.DAY
        elif bad == "future":     # as a CA whose clock runs 100 days ahead
            not_before = now + 100 * ca_pki.DAY
        elif bad == "names":
            names = ["evil.example.test"]
        elif bad == "signer":     # the intermediate's name, another key's signature
            signer = ec.generate_private_key(ec.SECP256R1())
        elif bad == "key":
            pub = ec.generate_private_key(ec.SECP256R1()).public_key()
        elif bad == "same_second":  # not bad: a renewal within the second of the last one
            last = [c for c in self.certs.values() if sorted(c.names) == sorted(names)]
            if last:
                not_before = max(c.not_before for c in last)
        leaf = self.pki.issue(pub, names, not_before, lifetime, signer)
        if bad:
            log(f"issuing for order {o.id}: injected issuance fault {bad}")
        cid = self.new_id()
        ari = ca_pki.ari_cert_id(leaf)
        self.certs[cid] = Cert(cid, o.account_id, o.id, leaf, list(names), not_before,
                               not_before + lifetime, ari)
        self.ari_index[ari] = cid
        o.cert_id, o.status, o.pending_key = cid, "valid", None
        if o.replaces:
            old = self.certs.get(self.ari_index.get(o.replaces))
            if old:
                old.replaced_by = o.id
        log(f"issued cert {cid} serial {leaf.serial_number:x} for {o.identifiers} "
            f"(profile {o.profile}, {lifetime} s)")

    def certificate(self, ctx, cid, alternate=False):
        self.need_get(ctx)
        with self.lock:
            c = self.owned(ctx, self.certs.get(cid), "certificate")
            body = self.pki.chain_pem(c.cert, alternate)
            other = f"/acme/cert/{cid}" if alternate else f"/acme/cert/{cid}/1"
            return Resp(200, body, "application/pem-certificate-chain",
                        [("Link", f'<{self.url(other)}>;rel="alternate"')])

    def certificate_alt(self, ctx, cid):
        return self.certificate(ctx, cid, alternate=True)

    def revoke_cert(self, ctx):
        p = ctx.obj()
        der = b64url_decode(p.get("certificate"), "certificate")
        reason = p.get("reason", 0)
        if type(reason) is not int or reason not in REVOCATION_REASONS:
            raise AcmeError("badRevocationReason", f"unsupported revocation reason {reason!r}")
        with self.lock:
            c = next((c for c in self.certs.values() if c.cert.public_bytes(
                serialization.Encoding.DER) == der), None)
            if c is None:
                try:
                    x509.load_der_x509_certificate(der)
                except ValueError:
                    raise AcmeError("malformed", "certificate does not parse") from None
                raise AcmeError("malformed", "certificate was not issued by this CA", 404)
            if ctx.account is not None:
                if c.account_id != ctx.account.id:
                    raise AcmeError("unauthorized", "certificate was issued to another account",
                                    403)
            elif ca_jose.key_thumbprint(c.cert.public_key()) != ctx.thumb:
                raise AcmeError("unauthorized", "jwk is not the certificate's key", 403)
            if c.revoked:
                raise AcmeError("alreadyRevoked", "certificate is already revoked")
            c.revoked, c.reason = True, reason
            log(f"revoked cert {c.id} reason {reason}")
            return Resp(200, b"", None)

    def ari_window(self, c):
        if c.ari_window:
            return c.ari_window
        if c.revoked:
            now = self.now()
            return now - 2 * 3600, now - 3600
        life = c.not_after - c.not_before
        return c.not_before + int(life * 0.6), c.not_before + int(life * 0.7)

    def renewal_info(self, cert_id):
        parts = cert_id.split(".")
        if len(parts) != 2 or not all(parts):
            raise AcmeError("malformed", "certID must be base64url(AKI) \".\" base64url(serial)")
        for part in parts:
            b64url_decode(part, "certID part")
        with self.lock:
            c = self.certs.get(self.ari_index.get(cert_id))
            if c is None:
                raise AcmeError("malformed", f"no certificate with ARI id {cert_id!r}", 404)
            start, end = self.ari_window(c)
            r = self.json_resp({"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}})
            r.headers.append(("Retry-After", "21600"))
            return r

    # ---- admin views ---------------------------------------------------------
    def admin_certs(self):
        with self.lock:
            return [{"id": c.id, "serial": f"{c.cert.serial_number:x}", "names": c.names,
                     "not_before": c.not_before, "not_after": c.not_after, "revoked": c.revoked,
                     "reason": c.reason, "ari_cert_id": c.ari_id,
                     "account": self.accounts[c.account_id].url,
                     "url": self.url(f"/acme/cert/{c.id}"),
                     "order": self.url(f"/acme/order/{c.order_id}"),
                     "replaced_by": c.replaced_by and self.url(f"/acme/order/{c.replaced_by}"),
                     "window": list(self.ari_window(c))} for c in self.certs.values()]

    def admin_accounts(self):
        with self.lock:
            return [{"url": a.url, "status": a.status, "thumbprint": a.thumb,
                     "previous_thumbprints": list(a.prev_thumbs), "contact": a.contact,
                     "eab_kid": a.eab_kid} for a in self.accounts.values()]

    def admin_new_orders(self, obj):
        """Pending orders made for an account without a client, as if it had asked."""
        with self.lock:
            acct = self.account_by_url(obj["account"])
            values = self.parse_identifiers([{"type": "dns", "value": v}
                                             for v in obj["identifiers"]])
            count = int(obj.get("count", 1))
            if not 1 <= count <= 100:
                raise AcmeError("malformed", "count must be 1..100")
            made = []
            for _ in range(count):
                now = self.now()
                oid = self.new_id()
                authz_ids = [self.make_authz(acct.id, v[2:] if v.startswith("*.") else v,
                                             v.startswith("*."), now + ORDER_LIFETIME_S).id
                             for v in values]
                self.orders[oid] = Order(oid, acct.id, values, authz_ids,
                                         now + ORDER_LIFETIME_S, self.o.default_profile)
                made.append(self.url(f"/acme/order/{oid}"))
            return made

    def admin_orders(self):
        with self.lock:
            return [{"url": self.url(f"/acme/order/{o.id}"), "status": self.order_status(o),
                     "account": self.accounts[o.account_id].url,
                     "identifiers": list(o.identifiers),
                     "cert": o.cert_id and self.url(f"/acme/cert/{o.cert_id}")}
                    for o in self.orders.values()]

    def admin_ari(self, obj):
        with self.lock:
            c = self.certs.get(self.ari_index.get(obj.get("cert_id")))
            if c is None:
                raise AcmeError("malformed", "no certificate with that cert_id", 404)
            start, end = int(obj["start"]), int(obj["end"])
            if end < start:
                raise AcmeError("malformed", "end before start")
            c.ari_window = (start, end)
            return {"cert_id": c.ari_id, "start": start, "end": end}
