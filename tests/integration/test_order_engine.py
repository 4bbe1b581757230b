"""The order engine (daemon/acme/order) on its own: tests/drivers/order_engine.c runs
one dns-persist-01 order from an environment it builds itself (a loop, a transport with
an account key, a DNS checker, a clock, an account view), without a daemon, against our
test CA and a real knotd. Covered: a refusal that names the record to publish and
triggers nothing at the CA, issuance once the record is there (the key is handed up for
saving before the CSR, the chain and key come back as the result), and a CA error
(a 429 with a long Retry-After on newOrder; a certificate the CA misissued, which
common/certcheck refuses and which is not handed up)."""
import json
import os
import pathlib
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERSISTD_BUILD", ROOT / "build"))
DRIVER = BUILD / "drivers" / "order_engine"
ZONE = "example.test"
NAME = "www.example.test"
RECORD = re.compile(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)')


@pytest.fixture
def dns(knot):
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    return knot, zone, zone.trust_anchor_file()


@pytest.fixture
def setup(dns, testca_factory, tmp_path):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    return knot, zone, anchor, ca, tmp_path / "account.key"


def run(ca, knot, anchor, key, *args, timeout=120):
    assert DRIVER.exists(), f"{DRIVER} missing: run make first"
    p = subprocess.run([str(DRIVER), "--ca", ca.root, "--resolver", knot.resolver,
                        "--trust-anchor", anchor, "--account-key", str(key), "--name", NAME,
                        *map(str, args), ca.directory],
                       capture_output=True, text=True, timeout=timeout)
    events = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert events and events[-1] == {"event": "closed", "loop_close": 0, "done_calls": 1}, (
        events, p.stderr)
    done = [e for e in events if e["event"] == "done"]
    assert len(done) == 1, (events, p.stderr)
    return events, done[0], p.stderr


def challenge_posts(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and "/acme/chall/" in r["path"]]


def publish(zone, records):
    lines = [f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in RECORD.findall(records)]
    assert lines, records
    zone.set("\n".join(lines))


def test_refuses_without_the_record(setup):
    knot, zone, anchor, ca, key = setup
    events, done, err = run(ca, knot, anchor, key, "--persist-until", 1893456000)
    assert done["error"] == -13 and done["refused"] and not done["transient"], done
    assert "refusing to ask the CA to validate" in done["message"]
    assert "NO_RECORD" in done["message"]
    # the exact record, with this account's URL (draft -01: url mode)
    acct = [e for e in events if e["event"] == "account"][0]["url"]
    owner, txt = RECORD.findall(done["records"])[0]
    assert owner == f"_validation-persist.{NAME}"
    assert f"accounturi={acct}" in txt and "ca.test" in txt and "persistUntil=1893456000" in txt
    # reported upward on the way: the order URL to save, the challenge's issuer names
    assert [e["url"] for e in events if e["event"] == "order-url"][0].startswith(ca.base)
    ch = [e for e in events if e["event"] == "challenge"]
    assert ch and ch[0]["offered"] and ch[0]["issuers"] == ["ca.test"]
    # nothing was triggered at the CA and no key was made
    assert challenge_posts(ca) == []
    assert done["keys_saved"] == 0 and "chain" not in done


def test_issues_once_the_record_is_published(setup):
    knot, zone, anchor, ca, key = setup
    _, first, _ = run(ca, knot, anchor, key)
    assert first["refused"], first
    publish(zone, first["records"])

    events, done, err = run(ca, knot, anchor, key)
    assert done["error"] == 0, (done, err)
    assert done["message"] == "certificate issued"
    assert len(challenge_posts(ca)) == 1
    # the key went up for saving before the order ended, once
    names = [e["event"] for e in events]
    assert names.index("key-saved") < names.index("done") and done["keys_saved"] == 1
    # the result is the checked chain and its key, as owned data for the installer
    chain = done["chain"].encode()
    leaf = x509.load_pem_x509_certificate(chain[: done["leaf_len"]])
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [NAME]
    k = serialization.load_pem_private_key(done["key"].encode(), None)
    assert k.public_key().public_numbers() == leaf.public_key().public_numbers()
    assert chain.count(b"-----BEGIN CERTIFICATE-----") >= 2
    assert len(ca.certs()) == 1


def test_ca_errors_are_reported(setup):
    knot, zone, anchor, ca, key = setup
    _, first, _ = run(ca, knot, anchor, key)
    publish(zone, first["records"])

    # A 429 with a long Retry-After on newOrder: transient, with the CA's wait.
    ca.faults("429", count=1, path="/acme/new-order", retry_after=300)
    events, done, _ = run(ca, knot, anchor, key)
    assert done["error"] < 0 and done["transient"] and not done["refused"], done
    assert done["retry_after"] == 300
    assert "newOrder failed" in done["message"] and "rateLimited" in done["message"]
    assert not [e for e in events if e["event"] == "order-url"]

    # A misissued certificate (wrong names): certcheck refuses it; nothing goes up.
    ca.admin_post("misissue", {"kind": "names"})
    _, done, _ = run(ca, knot, anchor, key)
    assert done["error"] == -71 and done["rejected"], done  # EPROTO
    assert "we will not install" in done["message"]
    assert "chain" not in done and "key" not in done


def order_requests(ca):
    """The ACME POSTs from the last newOrder on, as (kind, status, fault) tuples:
    kind is new-order, authz, chall, order (POST-as-GET of the order), finalize, cert."""
    reqs = [r for r in ca.requests() if r["method"] == "POST"]
    start = max(i for i, r in enumerate(reqs) if r["path"] == "/acme/new-order")
    out = []
    for r in reqs[start:]:
        path = r["path"]
        kind = ("finalize" if path.endswith("/finalize") else
                "order" if path.startswith("/acme/order/") else
                path.split("/")[2] if path.startswith("/acme/") else path)
        out.append((kind, r["status"], r.get("fault")))
    return out


def test_finalizes_without_fetching_the_ready_order(setup):
    """Once every authorization is valid the order is ready (RFC 8555 7.1.6):
    the engine finalizes at once instead of polling the order first (issue 12:
    one signed request less per certificate)."""
    knot, zone, anchor, ca, key = setup
    _, first, _ = run(ca, knot, anchor, key)
    publish(zone, first["records"])
    _, done, err = run(ca, knot, anchor, key)
    assert done["error"] == 0, (done, err)
    kinds = [k for k, _, _ in order_requests(ca)]
    fin = kinds.index("finalize")
    assert "chall" in kinds[:fin], kinds
    last_authz = max(i for i, k in enumerate(kinds[:fin]) if k == "authz")
    assert "order" not in kinds[last_authz:fin], kinds
    assert kinds.count("finalize") == 1, kinds


def test_order_not_ready_at_finalize_is_polled(setup):
    """A CA whose order lags behind its authorizations answers finalize with
    orderNotReady: the engine polls the order and finalizes again."""
    knot, zone, anchor, ca, key = setup
    _, first, _ = run(ca, knot, anchor, key)
    publish(zone, first["records"])
    ca.faults("orderNotReady", count=1, path="/finalize")
    _, done, err = run(ca, knot, anchor, key)
    assert done["error"] == 0, (done, err)
    assert done["message"] == "certificate issued"
    reqs = order_requests(ca)
    fins = [i for i, (k, _, _) in enumerate(reqs) if k == "finalize"]
    assert len(fins) == 2, reqs
    assert reqs[fins[0]][1] == 403 and reqs[fins[1]][1] == 200, reqs
    assert ("order", 200, None) in reqs[fins[0]:fins[1]], reqs
    assert len(ca.certs()) == 1
