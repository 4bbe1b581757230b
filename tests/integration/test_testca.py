"""Self-tests of tests/testca: the record evaluator against the shared vectors,
and full ACME flows (tests/testca/acmeclient.py) against the CA, with knotd
serving the _validation-persist and _acme-challenge records.
"""
import datetime
import json
import pathlib
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "testca"))

import acmeclient as ac  # noqa: E402
import ca_record  # noqa: E402

VECTORS = json.loads((ROOT / "tests" / "data" / "record-vectors.json").read_text())
ERR = "urn:ietf:params:acme:error:"
ZONE = "example.test"


# ---- helpers -------------------------------------------------------------------
def client(ca, **kw):
    return ac.Client(ca.directory, ca.root, **kw)


def account(ca, **kw):
    c = client(ca, **kw)
    c.new_account(contact=["mailto:ops@example.test"])
    return c


def txt(name, *records):
    """Zone-file lines: one TXT RR per record (each a str or a list of strings)."""
    out = []
    for r in records:
        strings = [r] if isinstance(r, str) else r
        out.append(f"{name} TXT " + " ".join('"' + s.replace('"', '\\"') + '"' for s in strings))
    return "\n".join(out)


def start_dns(knot, records=""):
    z = knot.zone(ZONE, records)
    knot.start()
    return z


def problem_of(obj):
    """The error of a failed challenge/authz/order JSON."""
    return obj["error"]


def fail_order(c, names, ctype="dns-persist-01"):
    url, order = c.new_order(names)
    order = c.validate_all(url, order, ctype)
    assert order["status"] == "invalid", order
    return order


def verify_signed(cert, issuer):
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               ec.ECDSA(cert.signature_hash_algorithm))


def cn(name):
    return name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def load_pem(path):
    return x509.load_pem_x509_certificate(pathlib.Path(path).read_bytes())


# ---- the evaluator ------------------------------------------------------------
@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_record_vectors(v):
    rrset = [[s.encode("utf-8") for s in rr] for rr in v["txt"]]
    got = ca_record.evaluate(rrset, v["fqdn"], v["wildcard"], [v["issuer"]], v["account_uri"],
                             v["now"])
    assert got.outcome == v["expect"], f"{v['name']}: {got} ({v['note']})"


def test_hashed_accounturi_vector_and_wellformedness():
    thumb, url = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "https://ca.example/acct/123"
    assert ca_record.hashed_accounturi("P:", "example.com", thumb, url) == \
        "P:sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw"
    assert ca_record.hashed_accounturi("", "*", thumb, url) == \
        "sha-256/NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug"
    good = "P:sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw"
    rec = lambda uri: [f"ca.example; accounturi={uri}".encode()]  # noqa: E731
    ev = lambda uri: ca_record.evaluate([rec(uri)], "example.com", False, ["ca.example"],  # noqa
                                        {good}, 0, hash_prefix="P:").outcome
    assert ev(good) == "VALID"
    assert ev("P:sha-256/NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug") == "WRONG_ACCOUNT"
    assert ev(url) == "MALFORMED"                                   # wrong prefix
    assert ev("P:sha-512/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw") == "MALFORMED"
    assert ev("P:sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-k") == "MALFORMED"


# ---- issuance with dns-persist-01 ----------------------------------------------------
def test_draft01_persist_issuance_with_wildcard(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, issuers=("ca.test", "alt.ca.test"))
    c = account(ca)
    z.set(txt("_validation-persist", "other.example; accounturi=https://x/1",
              c.persist_record("ca.test", policy="wildcard")))
    url, order = c.new_order(["example.test", "*.example.test", "www.example.test"])
    assert order["status"] == "pending" and order["profile"] == "classic"
    authzs = c.authzs(order)
    assert len(authzs) == 3
    wild = [a for _, a in authzs if a.get("wildcard")]
    assert len(wild) == 1 and wild[0]["identifier"] == {"type": "dns", "value": "example.test"}
    for _, a in authzs:
        types = sorted(ch["type"] for ch in a["challenges"])
        assert types == ["dns-01", "dns-persist-01"]
        p = c.challenge(a, "dns-persist-01")
        assert "token" not in p
        assert p["issuer-domain-names"] == ["ca.test", "alt.ca.test"]
        assert p["accounturi"] == c.kid and "issuerDomainNames" not in p
        assert c.challenge(a, "dns-01")["token"]
    # www has no record of its own: it fails, the rest succeed
    for u, a in authzs:
        if a["identifier"]["value"] != "www.example.test":
            c.respond(c.challenge(a, "dns-persist-01"))
            assert c.poll(u, done=("valid", "invalid"))["status"] == "valid"
    z.set(txt("_validation-persist", c.persist_record("ca.test", policy="wildcard")) + "\n" +
          txt("_validation-persist.www", [c.persist_record("ca.test")[:20],
                                          c.persist_record("ca.test")[20:]]))
    order = c.validate_all(url, order)
    assert order["status"] == "ready"
    order, key = c.finalize(url, order)
    assert order["status"] == "valid"

    r = c.download(order["certificate"])
    leaf, inter = ac.split_pem_chain(r.body)
    root_a = load_pem(ca.root)
    assert cn(inter.subject) == "persistd Test Intermediate"
    assert cn(inter.issuer) == "persistd Test Root A"
    verify_signed(leaf, inter)
    verify_signed(inter, root_a)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["example.test", "*.example.test",
                                                      "www.example.test"]
    life = leaf.not_valid_after - leaf.not_valid_before
    assert life == datetime.timedelta(days=90)
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest

    alt_url = r.links("alternate")
    assert alt_url == [order["certificate"] + "/1"]
    alt = c.download(alt_url[0])
    leaf2, cross = ac.split_pem_chain(alt.body)
    assert leaf2 == leaf and cross.subject == inter.subject
    assert cross.public_key().public_numbers() == inter.public_key().public_numbers()
    assert cn(cross.issuer) == "persistd Test Root B"
    verify_signed(cross, load_pem(pathlib.Path(ca.root).with_name("root-b.pem")))
    assert alt.links("alternate") == [order["certificate"]]

    reqs = ca.requests()
    assert all(set(q) >= {"method", "path", "status", "time"} for q in reqs)
    assert sum(1 for q in reqs if q["path"].startswith("/acme/chall/") and
               q["method"] == "POST") == 3


def test_draft02_persist_issuance(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, draft="02", hash_prefix="acct:ca.test:")
    c = account(ca)
    meta = c.directory["meta"]
    assert meta["issuerDomainNames"] == ["ca.test"] and meta["accountHashPrefix"] == "acct:ca.test:"
    until = int(time.time()) + 3000
    z.set("\n".join([
        txt("_validation-persist", c.persist_record("ca.test", "example.test", "wildcard")),
        txt("_validation-persist.star", c.persist_record("ca.test", "*", persist_until=until)),
        txt("_validation-persist.plain", f"ca.test; accounturi={c.kid}"),
        # well-formed, but hashed for another name
        txt("_validation-persist.other", c.persist_record("ca.test", "another.example.test")),
    ]))
    url, order = c.new_order(["*.example.test", "star.example.test"])
    for _, a in c.authzs(order):
        p = c.challenge(a, "dns-persist-01")
        assert p["issuerDomainNames"] == ["ca.test"]
        assert "accounturi" not in p and "issuer-domain-names" not in p and "token" not in p
    order = c.validate_all(url, order)
    assert order["status"] == "ready", order
    star = [a for _, a in c.authzs(order) if a["identifier"]["value"] == "star.example.test"][0]
    assert star["expires"] <= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
    order, _ = c.finalize(url, order)
    assert order["status"] == "valid"

    # a -01 style record (plain account URL) is not well-formed here: malformed
    order = fail_order(c, ["plain.example.test"])
    assert order["error"]["type"] == ERR + "malformed"
    assert "MALFORMED" in order["error"]["detail"]
    # well-formed but for another domain: wrong account
    order = fail_order(c, ["other.example.test"])
    assert order["error"]["type"] == ERR + "unauthorized"
    assert "WRONG_ACCOUNT" in order["error"]["detail"]


def test_refused_outcomes(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver)
    c = account(ca)
    other = account(ca)
    past = int(time.time()) - 10
    z.set("\n".join([
        txt("_validation-persist.wrong", other.persist_record("ca.test")),
        txt("_validation-persist.nopolicy", c.persist_record("ca.test")),
        txt("_validation-persist.expired", c.persist_record("ca.test", persist_until=past)),
        txt("_validation-persist.malformed", c.persist_record("ca.test") + ";"),
        txt("_validation-persist.foreign", f"other.example; accounturi={c.kid}"),
        txt("_validation-persist.later", c.persist_record("ca.test",
                                                          persist_until=int(time.time()) + 3600)),
        "_validation-persist.alias CNAME _validation-persist.nopolicy",
    ]))
    cases = [
        ("norecord.example.test", "unauthorized", "NO_RECORD"),
        ("wrong.example.test", "unauthorized", "WRONG_ACCOUNT"),
        ("*.nopolicy.example.test", "unauthorized", "NO_WILDCARD_POLICY"),
        ("expired.example.test", "unauthorized", "EXPIRED"),
        ("malformed.example.test", "malformed", "MALFORMED"),
        ("foreign.example.test", "unauthorized", "WRONG_ISSUER"),
        ("outside.invalid", "dns", "REFUSED"),
    ]
    for name, kind, outcome in cases:
        url, order = c.new_order([name])
        (aurl, a), = c.authzs(order)
        ch = c.respond(c.challenge(a, "dns-persist-01"))
        assert ch["status"] in ("processing", "invalid")
        a = c.poll(aurl, done=("valid", "invalid"))
        assert a["status"] == "invalid", (name, a)
        (ch,) = a["challenges"]
        err = ch["error"]
        assert err["type"] == ERR + kind, (name, err)
        assert outcome in err["detail"] and err["detail"].startswith("dns-persist-01: "), err
        assert err["status"] == (403 if kind == "unauthorized" else 400)
        order = c.get(url)
        assert order["status"] == "invalid" and order["error"]["type"] == ERR + kind
        if kind == "malformed":
            assert ch["status"] == "invalid"

    # CNAME followed: alias -> nopolicy record, valid for a non-wildcard name
    url, order = c.new_order(["alias.example.test"])
    assert c.validate_all(url, order)["status"] == "ready"
    # persistUntil against the CA clock: valid now, expired an hour and a bit later
    url, order = c.new_order(["later.example.test"])
    assert c.validate_all(url, order)["status"] == "ready"
    ca.clock(3700)
    url, order = c.new_order(["later.example.test"])
    order = c.validate_all(url, order)
    assert "EXPIRED" in order["error"]["detail"]
    ca.clock(0)

    # several identifiers failing: subproblems, each naming its identifier
    url, order = c.new_order(["norecord.example.test", "wrong.example.test"])
    order = c.validate_all(url, order)
    err = order["error"]
    assert err["type"] == ERR + "unauthorized" and len(err["subproblems"]) == 2
    assert {s["identifier"]["value"] for s in err["subproblems"]} == \
        {"norecord.example.test", "wrong.example.test"}


def test_dns_failure_is_a_dns_problem(testca_factory):
    from fixtures.knot import free_port
    ca = testca_factory(dns=f"127.0.0.1@{free_port()}")  # nothing listens there
    c = account(ca)
    url, order = c.new_order(["example.test"])
    t = time.monotonic()
    order = c.validate_all(url, order)
    assert time.monotonic() - t < 20  # bounded (2 s per lookup), not hanging
    assert order["error"]["type"] == ERR + "dns"


def test_dns01_via_knsupdate(knot, testca_factory):
    start_dns(knot)
    ca = testca_factory(dns=knot.resolver, no_persist=True)
    c = account(ca)
    url, order = c.new_order(["dns01.example.test", "*.dns01.example.test"])
    lines = [f"server 127.0.0.1 {knot.port}", f"zone {ZONE}."]
    for _, a in c.authzs(order):
        assert [ch["type"] for ch in a["challenges"]] == ["dns-01"]
        tok = c.challenge(a, "dns-01")["token"]
        lines.append(f"update add _acme-challenge.{a['identifier']['value']}. 60 TXT "
                     f"\"{ac.dns01_txt(tok, c.key)}\"")
    lines.append("send")
    subprocess.run(["knsupdate"], input="\n".join(lines) + "\n", text=True, check=True,
                   timeout=10, capture_output=True)
    order = c.validate_all(url, order, "dns-01")
    assert order["status"] == "ready"
    order, _ = c.finalize(url, order)
    assert order["status"] == "valid"
    # a dns-01 TXT with the wrong digest
    url, order = c.new_order(["dns01.example.test"])
    order = c.validate_all(url, order, "dns-01")
    assert order["status"] == "invalid" and order["error"]["type"] == ERR + "unauthorized"
    assert order["error"]["detail"].startswith("dns-01: ")


def test_jit_and_authz_reuse(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, jit=True, reuse_authz=True)
    c = account(ca)
    z.set(txt("_validation-persist", c.persist_record("ca.test", policy="wildcard")))
    ca.admin_delete("requests")
    url, order = c.new_order(["example.test", "*.example.test", "none.example.test"])
    got = {a["identifier"]["value"] + ("*" if a.get("wildcard") else ""): a
           for _, a in c.authzs(order)}
    assert got["example.test"]["status"] == "valid"
    assert got["example.test*"]["status"] == "valid"
    assert [ch["type"] for ch in got["example.test"]["challenges"]] == ["dns-persist-01"]
    assert got["example.test"]["challenges"][0]["status"] == "valid"
    # no record: a normal pending authz, no error
    assert got["none.example.test"]["status"] == "pending"
    assert not any(q["path"].startswith("/acme/chall/") for q in ca.requests())

    url, order = c.new_order(["example.test", "*.example.test"])
    assert order["status"] == "ready"
    order, _ = c.finalize(url, order)
    assert order["status"] == "valid"
    # reuse: the next order gets the very same authz URLs
    url2, order2 = c.new_order(["example.test"])
    assert order2["authorizations"][0] in order["authorizations"]
    # another account gets neither reuse nor JIT for a record naming c
    d = account(ca)
    _, order3 = d.new_order(["example.test"])
    assert order3["status"] == "pending"
    assert not set(order3["authorizations"]) & set(order["authorizations"])


def test_finalize_rules_profiles_and_delay(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, profile={"short": 3600}, finalize_delay=1)
    c = account(ca)
    assert set(c.directory["meta"]["profiles"]) == {"classic", "short"}
    z.set(txt("_validation-persist", c.persist_record("ca.test", policy="wildcard")))
    with pytest.raises(ac.Problem) as e:
        c.new_order(["example.test"], profile="long")
    assert e.value.type == ERR + "invalidProfile"

    url, order = c.new_order(["example.test", "*.example.test"], profile="short")
    with pytest.raises(ac.Problem) as e:  # not ready yet
        c.post(order["finalize"], {"csr": ac.b64url(ac.make_csr(ac.gen_key(), ["example.test"]))})
    assert e.value.type == ERR + "orderNotReady" and e.value.status == 403
    order = c.validate_all(url, order)
    key = ac.gen_key()
    for names in (["example.test"], ["example.test", "*.example.test", "x.example.test"]):
        with pytest.raises(ac.Problem) as e:
            c.post(order["finalize"], {"csr": ac.b64url(ac.make_csr(key, names))})
        assert e.value.type == ERR + "badCSR"
    with pytest.raises(ac.Problem) as e:  # the account key may not be the certificate key
        c.post(order["finalize"], {"csr": ac.b64url(ac.make_csr(c.key, ["example.test",
                                                                          "*.example.test"]))})
    assert e.value.type == ERR + "badCSR"
    r = c.post(order["finalize"], {"csr": ac.b64url(ac.make_csr(key, ["*.example.test",
                                                                    "example.test"]))})
    assert r.json()["status"] == "processing"
    r = c.post(url, None)
    assert r.json()["status"] == "processing" and int(r.headers["Retry-After"]) >= 1
    order = c.poll(url, done=("valid",))
    leaf = ac.split_pem_chain(c.download(order["certificate"]).body)[0]
    assert leaf.not_valid_after - leaf.not_valid_before == datetime.timedelta(seconds=3600)


# ---- accounts -------------------------------------------------------------------
def test_eab(testca_factory):
    key = ac.b64url(b"0123456789abcdef0123456789abcdef")
    ca = testca_factory(eab=[f"kid-1:{key}"])
    c = client(ca)
    assert c.directory["meta"]["externalAccountRequired"] is True
    with pytest.raises(ac.Problem) as e:
        c.new_account()
    assert e.value.type == ERR + "externalAccountRequired"
    with pytest.raises(ac.Problem) as e:
        c.new_account(eab=("kid-1", ac.b64url(b"wrong key")))
    assert e.value.type == ERR + "unauthorized"
    with pytest.raises(ac.Problem) as e:
        c.new_account(eab=("kid-2", key))
    assert e.value.type == ERR + "unauthorized"
    c.new_account(eab=("kid-1", key))
    assert c.account_status == 201
    assert ca.accounts()[0]["eab_kid"] == "kid-1"


def test_key_change_then_old_key_record_draft02(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, draft="02")
    c = account(ca)
    old_key, old_thumb = c.key, ac.thumbprint(c.key)
    z.set(txt("_validation-persist", c.persist_record("ca.test", "example.test")))
    kid = c.kid
    new_key = ac.gen_key("ec384")
    r = c.key_change(new_key)
    assert r.location == kid
    assert c.account()["status"] == "valid"
    (a,) = ca.accounts()
    assert a["url"] == kid and a["previous_thumbprints"] == [old_thumb]
    assert a["thumbprint"] == ac.thumbprint(new_key)
    with pytest.raises(ac.Problem) as e:  # the old key no longer signs for the account
        c.post(c.directory["newOrder"], {"identifiers": [{"type": "dns", "value": "a.test"}]},
               key=old_key)
    assert e.value.type == ERR + "malformed"
    # the record made with the old key's thumbprint still validates
    url, order = c.new_order(["example.test"])
    assert c.validate_all(url, order)["status"] == "ready"
    # a record with the new key works too; a conflicting rollover is refused
    d = account(ca)
    with pytest.raises(ac.Problem) as e:
        d.key_change(new_key)
    assert e.value.status == 409 and e.value.headers["Location"] == kid
    # deactivation kills the account at once
    assert c.account({"status": "deactivated"})["status"] == "deactivated"
    with pytest.raises(ac.Problem) as e:
        c.new_order(["example.test"])
    assert e.value.type == ERR + "unauthorized"
    with pytest.raises(ac.Problem) as e:
        c.new_account()
    assert e.value.type == ERR + "unauthorized"


def test_accounts_and_jws_strictness(testca):
    c = client(testca)
    with pytest.raises(ac.Problem) as e:
        c.new_account(only_existing=True)
    assert e.value.type == ERR + "accountDoesNotExist"
    with pytest.raises(ac.Problem) as e:
        c.new_account(tos=None)
    assert e.value.type == ERR + "malformed"
    with pytest.raises(ac.Problem) as e:
        c.new_account(contact=["tel:+1555"])
    assert e.value.type == ERR + "unsupportedContact"
    c.new_account(contact=["mailto:a@example.test"])
    assert c.account_status == 201
    again = client(testca, key=c.key)
    again.new_account(only_existing=True)
    assert again.account_status == 200 and again.kid == c.kid
    assert c.account({"contact": ["mailto:b@example.test"]})["contact"] == ["mailto:b@example.test"]
    for kind in ("ec384", "rsa"):
        o = client(testca, key=ac.gen_key(kind))
        o.new_account()
        o.new_order(["rsa-or-384.example.test"])
    new_order = c.directory["newOrder"]
    ident = {"identifiers": [{"type": "dns", "value": "example.test"}]}

    def expect(kind, status, **kw):
        with pytest.raises(ac.Problem) as e:
            c.post(kw.pop("url", new_order), kw.pop("payload", ident), retry_bad_nonce=False, **kw)
        assert (e.value.type, e.value.status) == (ERR + kind, status), e.value
        assert e.value.headers["Replay-Nonce"]
        assert e.value.headers["Content-Type"] == "application/problem+json"
        return e.value

    expect("malformed", 415, content_type="application/json")
    expect("unauthorized", 403, header_extra={"url": new_order + "x"})
    expect("badNonce", 400, header_extra={"nonce": "bm90LWEtbm9uY2U"})
    expect("malformed", 400, use_jwk=True)                       # jwk where kid is needed
    expect("accountDoesNotExist", 400, header_extra={"kid": c.kid + "0"})
    expect("badSignatureAlgorithm", 400, header_extra={"alg": "HS256"})
    expect("malformed", 400, header_extra={"alg": "ES384"})      # alg does not match key
    expect("invalidProfile", 400, payload=dict(ident, profile="nope"))
    expect("rejectedIdentifier", 400, payload={"identifiers": [{"type": "dns",
                                                                "value": "Example.test"}]})
    expect("unsupportedIdentifier", 400, payload={"identifiers": [{"type": "ip",
                                                                   "value": "127.0.0.1"}]})
    e = expect("rejectedIdentifier", 400, payload={"identifiers": [
        {"type": "dns", "value": "a..test"}, {"type": "dns", "value": "*.*.test"}]})
    assert len(e.problem["subproblems"]) == 2
    expect("malformed", 400, payload=dict(ident, notAfter="2030-01-01T00:00:00Z"))
    expect("malformed", 400, url=c.kid + "/orders", payload={})  # POST-as-GET only

    # a nonce is good once
    h = {"alg": "ES256", "nonce": c.nonce(), "url": new_order, "kid": c.kid}
    body = json.dumps(ac.jws(c.key, h, ident)).encode()
    hdr = {"Content-Type": "application/jose+json"}
    assert c.http("POST", new_order, body, hdr).status == 201
    r = c.http("POST", new_order, body, hdr)
    assert r.status == 400 and r.json()["type"] == ERR + "badNonce"
    # bodies over 1 MiB are refused unread; GET on a POST resource is 405
    r = c.http("POST", new_order, b"{" + b" " * (1 << 20) + b"}", hdr)
    assert r.status == 413
    r = c.http("GET", c.kid)
    assert r.status == 405 and r.headers["Allow"] == "POST"
    r = c.http("HEAD", c.directory["newNonce"])
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.links("index") == [testca.directory]


# ---- faults ------------------------------------------------------------------------
def test_faults(testca):
    c = account(testca)
    new_order = c.directory["newOrder"]
    ident = {"identifiers": [{"type": "dns", "value": "example.test"}]}

    testca.faults("badNonce", path="/acme/new-order")
    stale = c.nonce()
    h = {"alg": "ES256", "nonce": stale, "url": new_order, "kid": c.kid}
    body = json.dumps(ac.jws(c.key, h, ident)).encode()
    hdr = {"Content-Type": "application/jose+json"}
    r = c.http("POST", new_order, body, hdr)
    assert r.status == 400 and r.json()["type"] == ERR + "badNonce" and r.headers["Replay-Nonce"]
    r = c.http("POST", new_order, body, hdr)  # the rejected nonce is gone for good
    assert r.json()["type"] == ERR + "badNonce"
    testca.faults("badNonce", count=2, path="/acme/new-order")
    assert c.post(new_order, ident).status == 201  # the client retries with fresh nonces

    testca.faults("500", path="/acme/new-order")
    r = c.post(new_order, ident, check=False)
    assert r.status == 500 and r.json()["type"] == ERR + "serverInternal"
    testca.faults("503", path="/acme/new-order", retry_after=7)
    r = c.post(new_order, ident, check=False)
    assert r.status == 503 and r.headers["Retry-After"] == "7" and r.headers["Replay-Nonce"]
    testca.faults("429", path="/acme/new-order", retry_after=3)
    r = c.post(new_order, ident, check=False)
    assert r.status == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["type"] == ERR + "rateLimited"
    testca.faults("slow", path="/acme/new-order", delay_ms=400)
    t = time.monotonic()
    assert c.post(new_order, ident).status == 201
    assert time.monotonic() - t >= 0.4
    testca.faults("truncate", path="/acme/new-order")
    r = c.post(new_order, ident, check=False)
    assert r.status == 200 and r.body
    with pytest.raises(ValueError):
        json.loads(r.body)
    # path filter and count; DELETE clears what is left
    testca.faults("500", count=3, path="/acme/acct/")
    assert c.post(new_order, ident).status == 201
    assert c.post(c.kid, None, check=False).status == 500
    testca.admin_delete("faults")
    assert c.post(c.kid, None).status == 200
    faulted = [q.get("fault") for q in testca.requests() if q.get("fault")]
    assert faulted == ["badNonce", "badNonce", "badNonce", "500", "503", "429", "slow",
                       "truncate", "500"]


# ---- revocation and ARI --------------------------------------------------------------
def test_revoke_and_ari(knot, testca_factory):
    z = start_dns(knot)
    ca = testca_factory(dns=knot.resolver, reuse_authz=True)
    c = account(ca)
    z.set(txt("_validation-persist", c.persist_record("ca.test", policy="wildcard")))
    order, (leaf, _), key = c.issue(["example.test"])
    cid = ac.ari_cert_id(leaf)
    (info,) = ca.certs()
    assert info["ari_cert_id"] == cid and info["account"] == c.kid and not info["revoked"]

    r = c.renewal_info(cid)
    assert r.status == 200 and r.headers["Retry-After"] == "21600" and r.headers["Replay-Nonce"]
    win = r.json()["suggestedWindow"]
    nb = leaf.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()
    life = 90 * 86400
    start = datetime.datetime.strptime(win["start"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(start.replace(tzinfo=datetime.timezone.utc).timestamp() - (nb + 0.6 * life)) <= 1
    assert win["end"] > win["start"]
    assert c.renewal_info(cid[:-2] + ("AA" if not cid.endswith("AA") else "AB")).status == 404
    assert c.renewal_info("not-a-cert-id").status == 400
    ca.admin_post("ari", {"cert_id": cid, "start": 1000, "end": 2000})
    assert c.renewal_info(cid).json()["suggestedWindow"] == {"start": "1970-01-01T00:16:40Z",
                                                             "end": "1970-01-01T00:33:20Z"}

    # replaces: once, by the owning account only
    other = account(ca)
    with pytest.raises(ac.Problem) as e:
        other.new_order(["example.test"], replaces=cid)
    assert e.value.type == ERR + "unauthorized"
    with pytest.raises(ac.Problem) as e:
        c.new_order(["example.test"], replaces="AAAA.AAAA")
    assert e.value.type == ERR + "malformed"
    order2, (leaf2, _), key2 = c.issue(["example.test"], replaces=cid)
    assert order2["replaces"] == cid
    with pytest.raises(ac.Problem) as e:
        c.new_order(["example.test"], replaces=cid)
    assert e.value.type == ERR + "alreadyReplaced" and e.value.status == 409

    # revoke by the account, twice; by the certificate key
    assert c.revoke(leaf, reason=4).status == 200
    with pytest.raises(ac.Problem) as e:
        c.revoke(leaf)
    assert e.value.type == ERR + "alreadyRevoked"
    with pytest.raises(ac.Problem) as e:
        other.revoke(leaf2)
    assert e.value.type == ERR + "unauthorized"
    with pytest.raises(ac.Problem) as e:
        c.revoke(leaf2, reason=7)
    assert e.value.type == ERR + "badRevocationReason"
    assert other.revoke(leaf2, key=key2).status == 200  # jwk = the certificate key
    revoked = {x["ari_cert_id"]: x["revoked"] for x in ca.certs()}
    assert revoked == {cid: True, ac.ari_cert_id(leaf2): True}
    end = c.renewal_info(ac.ari_cert_id(leaf2)).json()["suggestedWindow"]["end"]
    assert end < time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
