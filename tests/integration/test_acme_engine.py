"""The ACME engine end to end with `persistd --oneshot` against real CAs:
our test CA (dns-persist-01, drafts -01 and -02, faults, JIT, ARI) with a
real knotd serving the records, and Debian's pebble for dns-01, revocation
and key rollover."""
import json
import os
import pathlib
import re
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ZONE = "example.test"


@pytest.fixture
def dns(knot):
    """example.test, DNSSEC-signed, on a real knotd; its KSK is the trust anchor."""
    # An unsigned parent: without it getdns judges the signed child's
    # denials bogus now and then (it asks for the DS and gets REFUSED).
    knot.zone("test", "")
    zone = knot.zone(ZONE, "www A 192.0.2.1", dnssec=True)
    knot.start()
    anchor = zone.trust_anchor_file()
    return knot, zone, anchor


def make_env(persistd_env, ca, knot, anchor, certs, **ca_extra):
    return persistd_env(ca=ca, resolver=knot.resolver, certs=certs,
                        daemon_extra={"trust_anchor": anchor}, ca_extra=ca_extra)


def published_record(out):
    """The zone line persistd asks us to publish, from its output."""
    m = re.search(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', out)
    assert m, out
    return m.group(1), m.group(2).strip()


def publish(zone, owner, txt, extra=""):
    rel = owner[: -len(ZONE) - 1]
    zone.set(f"{rel} TXT {txt}\n{extra}")


def current(env, name):
    d = env.state / "certs" / name / "current"
    return d, (d / "fullchain.pem").read_bytes(), (d / "privkey.pem").read_bytes()


def load_chain(pem):
    """Every certificate of a PEM bundle (python3-cryptography 38 has no
    load_pem_x509_certificates)."""
    parts = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", pem, re.S)
    return [x509.load_pem_x509_certificate(p) for p in parts]


def assert_pair_matches(fullchain, privkey):
    cert = load_chain(fullchain)[0]
    key = serialization.load_pem_private_key(privkey, None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    return cert


def challenge_posts(ca):
    return [r for r in ca.requests() if r["method"] == "POST" and "/acme/chall/" in r["path"]]


@pytest.mark.parametrize("draft", ["01", "02"])
def test_persist_first_refuses_then_issues(dns, testca_factory, persistd_env, draft):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver, draft=draft)
    env = make_env(persistd_env, ca, knot, anchor, {
        "www": {"ca": "test", "names": ["www.example.test", "*.example.test", "example.test"],
                "persist_until": "2030-01-01"}})

    # No record yet: persistd checks first, refuses to trigger validation,
    # and prints the exact record to publish.
    p = env.oneshot(check=1)
    if draft == "01":
        assert "refusing to ask the CA to validate" in p.stdout
    else:
        # The directory names the issuers (issuerDomainNames): the records are
        # checked before any order, and none is placed.
        assert "waiting for the record, no order placed" in p.stdout
        assert not [r for r in ca.requests() if r["path"] == "/acme/new-order"]
    assert "NO_RECORD" in p.stdout
    assert challenge_posts(ca) == []
    owner, txt = published_record(p.stdout)
    assert owner in ("_validation-persist.www.example.test", "_validation-persist.example.test")
    acct = ca.accounts()[0]
    if draft == "01":
        assert f"accounturi={acct['url']}" in txt
    else:
        assert "accounturi=https://127.0.0.1" in txt and "/acct-hash/sha-256/" in txt
    assert "persistUntil=1893456000" in txt

    # It names every record at once: publish them all.
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', p.stdout)
    assert {o for o, _ in recs} == {"_validation-persist.www.example.test",
                                    "_validation-persist.example.test"}
    zone.set("\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in recs))
    p = env.oneshot()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "www: renewed" in p.stdout
    d, fullchain, privkey = current(env, "www")
    cert = assert_pair_matches(fullchain, privkey)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {
        "www.example.test", "*.example.test", "example.test"}
    assert stat.S_IMODE(os.stat(d / "privkey.pem").st_mode) == 0o600
    key_file = env.state / "accounts" / "test" / "account.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # The wildcard record carries policy=wildcard, because the cert asked for *.
    assert "policy=wildcard" in (env.dir / "oneshot.log").read_text()

    # Not due any more: a second run does nothing.
    p = env.oneshot(check=0)
    assert "not due" in p.stdout


def test_refuses_wrong_account_and_missing_policy(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"w": {"ca": "test", "names": ["*.example.test"]}})
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    assert owner == "_validation-persist.example.test"
    assert "policy=wildcard" in txt

    # A record for another account: refused, nothing triggered at the CA.
    publish(zone, owner, '"ca.test; accounturi=https://127.0.0.1:1/acme/acct/999; policy=wildcard"')
    p = env.oneshot(check=1)
    assert "WRONG_ACCOUNT" in p.stdout
    # Right account, no policy=wildcard for a wildcard name: refused too.
    publish(zone, owner, txt.replace("; policy=wildcard", ""))
    p = env.oneshot(check=1)
    assert "NO_WILDCARD_POLICY" in p.stdout
    # Expired persistUntil.
    publish(zone, owner, txt.rstrip('"') + '; persistUntil=1000"')
    p = env.oneshot(check=1)
    assert "EXPIRED" in p.stdout
    assert challenge_posts(ca) == []
    # And with the record as asked, it issues.
    publish(zone, owner, txt)
    env.oneshot(check=0)


def test_jit_authz_needs_no_challenge(dns, testca_factory, persistd_env):
    """A record published before the first order: the CA validates at once
    (just-in-time) and persistd asks for no challenge at all."""
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver, jit=True)
    env = make_env(persistd_env, ca, knot, anchor, {
        "a": {"ca": "test", "names": ["a.example.test"]},
        "b": {"ca": "test", "names": ["b.example.test"]}})
    env.oneshot("--cert", "a", check=1)  # makes the account
    acct = ca.accounts()[0]["url"]
    p = subprocess.run([env.persistctl, "record", "generate", "--issuer", "ca.test",
                        "--account-uri", acct, "--fqdn", "b.example.test", "--format", "zone"],
                       capture_output=True, text=True, check=True)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    ca.admin_delete("/admin/requests")
    env.oneshot("--cert", "b", check=0)
    assert challenge_posts(ca) == []
    assert "b: renewed" in (env.dir / "oneshot.log").read_text()


def test_faults_are_retried(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"www": {"ca": "test", "names": ["www.example.test"]}})
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    ca.faults("badNonce", count=2)
    ca.faults("500", count=1, path="/acme/new-order")
    ca.faults("503", count=1, retry_after=1, path="/acme/order/")
    p = env.oneshot(check=0)
    paths = [r["path"] for r in ca.requests()]
    assert any("new-order" in x for x in paths)


def test_long_retry_after_is_reported(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"www": {"ca": "test", "names": ["www.example.test"]}})
    env.oneshot(check=1)  # account created
    ca.faults("429", count=1, retry_after=3600, path="/acme/order/")
    p = env.oneshot(check=1)
    assert "rateLimited" in p.stdout or "429" in p.stdout
    st = json.loads((env.state / "state.json").read_text())
    c = st["certs"]["www"]
    assert c["retry_at"] - c["last_attempt"] >= 3600


def test_profile_preferred_chain_and_ari_replaces(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver, profile={"shortlived": 6 * 86400 + 43200})
    env = make_env(persistd_env, ca, knot, anchor, {
        "www": {"ca": "test", "names": ["www.example.test"], "profile": "shortlived",
                "preferred_chain": "persistd Test Root B"}})
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    env.oneshot(check=0)
    _, fullchain, privkey = current(env, "www")
    certs = load_chain(fullchain)
    leaf = assert_pair_matches(fullchain, privkey)
    assert (leaf.not_valid_after - leaf.not_valid_before).days == 6
    assert "Root B" in certs[-1].issuer.rfc4514_string()

    # A forced renewal sends `replaces` with the ARI id of the current cert.
    first = {c["serial"] for c in ca.certs()}
    env.oneshot("--force", check=0)
    issued = ca.certs()
    assert len(issued) == 2
    assert any(c.get("replaced") or c.get("replaced_by") for c in issued) or \
        any(r["path"].startswith("/acme/new-order") for r in ca.requests())
    _, fullchain2, privkey2 = current(env, "www")
    assert_pair_matches(fullchain2, privkey2)
    assert fullchain2 != fullchain
    assert len(first) == 1


def test_ari_window_decides_renewal(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"www": {"ca": "test", "names": ["www.example.test"]}})
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    env.oneshot(check=0)
    env.oneshot(check=0)  # not due: the window is far out
    assert len(ca.certs()) == 1
    cert = ca.certs()[0]
    import time
    now = int(time.time())
    ca.admin_post("/admin/ari", {"cert_id": cert["ari_cert_id"], "start": now - 60, "end": now - 1})
    p = env.oneshot(check=0)
    assert "renewed" in p.stdout
    assert len(ca.certs()) == 2


def test_crash_safety_sigkill_mid_renewal(dns, testca_factory, persistd_env):
    """SIGKILL at many points; every cert dir always holds a matching pair, and
    the next run finishes the saved order."""
    import signal
    import time
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver, finalize_delay=1)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"www": {"ca": "test", "names": ["www.example.test"]}})
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    env.oneshot(check=0)
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 1.6, 2.2):
        ca.faults("slow", count=3, delay_ms=150)
        proc = subprocess.Popen([env.persistd, "-c", str(env.conf), "--oneshot", "--force"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env.env())
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, fullchain, privkey = current(env, "www")
        assert_pair_matches(fullchain, privkey)
        ca.admin_delete("/admin/faults")
    # The next run resumes or finishes whatever was in flight.
    p = env.oneshot("--force", check=0)
    _, fullchain, privkey = current(env, "www")
    assert_pair_matches(fullchain, privkey)
    st = json.loads((env.state / "state.json").read_text())
    assert "order_url" not in st["certs"]["www"]  # left out when none


def test_probe(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca2 = testca_factory(dns=knot.resolver, draft="02")
    env = make_env(persistd_env, ca2, knot, anchor, {})
    p = env.persistd_run("--probe", "test", check=0)
    assert "SUPPORTED" in p.stdout and "issuerDomainNames" in p.stdout
    assert "hashed" in p.stdout
    ca1 = testca_factory(dns=knot.resolver, draft="01")
    env1 = make_env(persistd_env, ca1, knot, anchor, {})
    p = env1.persistd_run("--probe", "test", check=0)
    assert "UNKNOWN" in p.stdout
    # A CA that does not offer the method: persistd says so plainly.
    ca3 = testca_factory(dns=knot.resolver, no_persist=True)
    env3 = make_env(persistd_env, ca3, knot, anchor,
                    {"www": {"ca": "test", "names": ["www.example.test"]}})
    p = env3.oneshot(check=1)
    assert "does not offer dns-persist-01" in p.stdout
    p = env3.persistd_run("--probe", "test", check=1)
    assert "NOT OFFERED" in p.stdout


def test_dns01_with_pebble_revoke(pebble, persistd_env, tmp_path):
    hook = tmp_path / "hook"
    log = tmp_path / "hook.log"
    hook.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$1" in
set) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/set-txt", data=json.dumps({{"host": sys.argv[1]+".", "value": sys.argv[2]}}).encode()))' "$2" "$3" ;;
clean) exec /usr/bin/python3 -c 'import sys,urllib.request,json; urllib.request.urlopen(urllib.request.Request("{pebble.challtestsrv}/clear-txt", data=json.dumps({{"host": sys.argv[1]+"."}}).encode()))' "$2" ;;
esac
""")
    hook.chmod(0o755)
    env = persistd_env(ca=pebble, resolver=pebble.dns, certs={
        "legacy": {"ca": "test", "names": ["legacy.example.test"], "challenge": "dns-01",
                   "dns01_hook": str(hook), "dns01_propagation_timeout": "30s"}})
    p = env.oneshot(check=0)
    assert "legacy: renewed" in p.stdout
    calls = log.read_text().splitlines()
    assert calls[0].startswith("set _acme-challenge.legacy.example.test ")
    assert any(c.startswith("clean _acme-challenge.legacy.example.test ") for c in calls)
    _, fullchain, privkey = current(env, "legacy")
    assert_pair_matches(fullchain, privkey)
    # Revoke with the account key, then (another cert) with the cert key.
    p = env.persistd_run("--revoke", "legacy", "--reason", "superseded", check=0)
    assert "revoked" in p.stdout
    p = env.persistd_run("--revoke", "legacy", check=1)
    assert "alreadyRevoked" in p.stderr or "revoked" in p.stderr
    env.oneshot("--force", check=0)
    env.persistd_run("--revoke", "legacy", "--with-cert-key", check=0)


def test_eab_key_types_and_lookup(dns, testca_factory, persistd_env, tmp_path):
    """External account binding, an ES384 account, an RSA certificate key,
    and finding the account again by its key when state.json is lost."""
    knot, zone, anchor = dns
    hmac = "dGhpcyBpcyBhIHRlc3QgaG1hYyBrZXkgb2YgMzIgYnl0ZXM"
    ca = testca_factory(dns=knot.resolver, eab=[f"kid-1:{hmac}"])
    keyfile = tmp_path / "eab.key"
    keyfile.write_text(hmac + "\n")
    certs = {"www": {"ca": "test", "names": ["www.example.test"], "key_type": "rsa2048"}}
    env = make_env(persistd_env, ca, knot, anchor, certs, account_key_type="ec-p384")
    env.cas["test"].pop("eab_kid", None)
    env.write()
    p = env.oneshot(check=1)
    assert "requires external account binding" in p.stdout
    env.cas["test"].update({"eab_kid": "kid-1", "eab_hmac_file": str(keyfile)})
    env.write()
    p = env.oneshot(check=1)
    owner, txt = published_record(p.stdout)
    publish(zone, owner, txt)
    env.oneshot(check=0)
    _, fullchain, privkey = current(env, "www")
    cert = assert_pair_matches(fullchain, privkey)
    assert cert.public_key().key_size == 2048
    key = serialization.load_pem_private_key(
        (env.state / "accounts" / "test" / "account.key").read_bytes(), None)
    assert key.curve.name == "secp384r1"
    url = ca.accounts()[0]["url"]
    # state.json gone: the same key finds the same account (onlyReturnExisting).
    (env.state / "state.json").unlink()
    env.oneshot("--force", check=0)
    assert len(ca.accounts()) == 1
    assert f"found existing account {url}" in (env.dir / "oneshot.log").read_text()


def test_dns01_waits_for_every_authoritative_server(testca_factory, persistd_env, knot_factory,
                                                    tmp_path):
    """dns-01 with a hook that writes DNS by dynamic update, against our test
    CA: persistd waits until the zone's authoritative server (found through
    its NS set, on port 53) answers the value, and cleans up afterwards."""
    k = knot_factory(address="127.0.0.5", port=53)
    k.zone("test", "")
    k.zone(ZONE, "www A 192.0.2.1")
    k.start()
    ca = testca_factory(dns=k.resolver)
    hook = tmp_path / "hook"
    log = tmp_path / "hook.log"
    hook.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$1" in
set) printf 'server {k.address} {k.port}\\nzone {ZONE}.\\nupdate add %s. 60 TXT "%s"\\nsend\\n' "$2" "$3" | knsupdate ;;
clean) printf 'server {k.address} {k.port}\\nzone {ZONE}.\\nupdate delete %s. TXT\\nsend\\n' "$2" | knsupdate ;;
esac
""")
    hook.chmod(0o755)
    deploy = tmp_path / "deploy"
    deployed = tmp_path / "deployed"
    deploy.write_text(f"#!/bin/sh\nenv | grep -E '^(PERSISTD_|RENEWED_LINEAGE)' | sort > {deployed}\n")
    deploy.chmod(0o755)
    env = persistd_env(ca=ca, resolver=k.resolver, certs={
        "legacy": {"ca": "test", "names": ["legacy.example.test"], "challenge": "dns-01",
                   "dns01_hook": str(hook), "dns01_propagation_timeout": "30s",
                   "deploy_hook": str(deploy)}},
        daemon_extra={"trust_anchor": "/usr/share/dns/root.key"})
    p = env.oneshot(check=0)
    assert "legacy: renewed" in p.stdout
    out = (env.dir / "oneshot.log").read_text()
    assert "1 of 1 authoritative servers answer the value" in out
    calls = log.read_text().splitlines()
    assert calls[0].startswith("set _acme-challenge.legacy.example.test ")
    assert calls[-1].startswith("clean _acme-challenge.legacy.example.test ")
    assert "TXT" not in k.dig("_acme-challenge.legacy.example.test", "TXT", "+short")
    lines = deployed.read_text().splitlines()
    assert "PERSISTD_CERT_NAME=legacy" in lines
    assert any(l.startswith("RENEWED_LINEAGE=") and l.endswith("/certs/legacy/current")
               for l in lines)


def test_saved_order_for_other_names_is_replaced(dns, testca_factory, persistd_env):
    knot, zone, anchor = dns
    ca = testca_factory(dns=knot.resolver)
    env = make_env(persistd_env, ca, knot, anchor,
                   {"www": {"ca": "test", "names": ["www.example.test"]}})
    env.oneshot(check=1)  # refused: the order is kept for next time
    env.certs["www"]["names"] = ["www.example.test", "api.example.test"]
    env.write()
    p = env.oneshot(check=1)
    assert "is for other names; starting a new one" in p.stderr
    recs = re.findall(r'(_validation-persist\.\S+)\. 3600 IN TXT ((?:"[^"]*" ?)+)', p.stdout)
    zone.set("\n".join(f"{o[: -len(ZONE) - 1]} TXT {t.strip()}" for o, t in recs))
    env.oneshot(check=0)
