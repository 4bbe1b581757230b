"""The ACME wire layer (daemon/acme/http, transport, msg) against real CAs on loopback.

tests/drivers/acme_wire.c runs one scenario on a real libuv loop and prints JSON lines;
these tests set up faults in the test CA (tests/testca) first, then judge the events and
what the CA saw (/admin/requests). Covered: directory fetch and caching, newAccount with
a JWK then a kid-signed POST-as-GET, the nonce pool, badNonce, 500 with backoff, 503 with
a short Retry-After, 429 with a long one, truncated JSON, slow answers against the
timeout, the body cap, ca_bundle trust, cancel and free with requests in flight, and
Debian's pebble over HTTP/2 with nonce rejection. Every run must end with
uv_loop_close() == 0 and, under ASan, no leaks (the driver exits non-zero otherwise).
"""
import email.utils
import http.server
import json
import os
import pathlib
import subprocess
import threading
import time

import pytest

from fixtures.pebble import make_tls_cert
from fixtures import testca as testca_fixture

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERSISTD_BUILD", ROOT / "build"))
DRIVER = BUILD / "drivers" / "acme_wire"
CLOSED = {"event": "closed", "loop_close": 0, "callbacks_after_cancel": 0}


class Run:
    def __init__(self, events, elapsed, stderr):
        self.events = events
        self.elapsed = elapsed
        self.stderr = stderr

    def one(self, name):
        found = [e for e in self.events if e["event"] == name]
        assert len(found) == 1, (name, self.events, self.stderr)
        return found[0]

    def all(self, name):
        return [e for e in self.events if e["event"] == name]


def run(scenario, url, *args, timeout=60):
    assert DRIVER.exists(), f"{DRIVER} missing: run make first"
    start = time.monotonic()
    p = subprocess.run([str(DRIVER), *map(str, args), scenario, url], capture_output=True,
                       text=True, timeout=timeout)
    elapsed = time.monotonic() - start
    events = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert events and events[-1] == CLOSED, (events, p.stderr)
    return Run(events, elapsed, p.stderr)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """One test CA for the module; each test starts with no faults and an empty log."""
    c = testca_fixture.TestCA(tmp_path_factory.mktemp("wireca"), testca_fixture.testca_args())
    c.start()
    yield c
    c.stop()


@pytest.fixture
def fresh(ca):
    ca.admin_delete("faults")
    ca.admin_delete("requests")
    return ca


def acme_requests(ca, path_part=None, method=None):
    return [r for r in ca.requests()
            if (path_part is None or path_part in r["path"])
            and (method is None or r["method"] == method)]


# ---- directory, account, nonces -----------------------------------------------------------

def test_directory_fetched_once_and_cached(fresh):
    r = run("directory", fresh.directory, "--ca", fresh.root)
    dirs = r.all("directory")
    assert [d["tag"] for d in dirs] == ["first", "first", "cached"]
    for d in dirs:
        assert d["error"] == 0 and d["status"] == 200 and d["json"], d
        assert d["new_nonce"] == fresh.url("/acme/new-nonce")
        assert d["renewal_info"] == fresh.url("/acme/renewal-info")
        assert d["caa_identities"] == ["ca.test"]
        assert "classic" in d["profiles"]
        assert d["account_hash_prefix"] is None and d["issuer_domain_names"] == []
    assert [d["attempts"] for d in dirs] == [1, 1, 0]
    # two concurrent calls and one later call: one GET on the wire
    assert len(acme_requests(fresh, "/directory")) == 1


def test_account_jwk_then_kid_and_nonce_pool(fresh):
    r = run("account", fresh.directory, "--ca", fresh.root)
    new = r.one("new-account")
    assert new["status"] == 201 and new["error"] == 0
    assert new["location"].startswith(fresh.url("/acme/acct/"))
    assert new["account_status"] == "valid"
    assert new["contact"] == ["mailto:wire@example.test"]
    acct = r.one("account")
    assert acct["status"] == 200 and acct["account_status"] == "valid"
    existing = r.one("existing-account")
    assert existing["status"] == 200 and existing["same_url"]
    reqs = ca_paths(fresh)
    # the nonce of each answer signs the next request: no newNonce round trip at all
    assert ("HEAD", "/acme/new-nonce") not in reqs
    acct_path = new["location"][len(fresh.base):]
    assert reqs == [("GET", "/directory"), ("POST", "/acme/new-account"),
                    ("POST", acct_path), ("POST", "/acme/new-account")]
    # the kid-signed request was accepted as the account's (the CA checks the kid)
    assert fresh.accounts()


def ca_paths(ca):
    return [(r["method"], r["path"]) for r in ca.requests()]


def test_posts_before_the_directory_share_one_fetch(fresh):
    r = run("post", fresh.directory, "--ca", fresh.root, "--post-url",
            fresh.url("/acme/new-account"))
    posts = r.all("post")
    assert len(posts) == 2
    for p in posts:
        assert p["status"] == 400 and p["problem_type"] == "accountDoesNotExist", p
    assert ca_paths(fresh).count(("GET", "/directory")) == 1
    assert ca_paths(fresh).count(("POST", "/acme/new-account")) == 2


def test_order_objects_parse_draft01(fresh):
    r = run("order", fresh.directory, "--ca", fresh.root, "--name", "www.example.test")
    order = r.one("new-order")
    assert order["status"] == 201 and order["order_status"] == "pending"
    assert order["authorizations"] == 1 and order["expires"]
    authz = r.one("authz")
    assert authz["authz_status"] == "pending" and authz["identifier"] == "www.example.test"
    persist = [c for c in authz["challenges"] if c["type"] == "dns-persist-01"][0]
    assert persist["issuer_spelling"] == "issuer-domain-names"
    assert persist["issuers"] == ["ca.test"]
    assert persist["token"] is False
    assert persist["accounturi"] == r.one("new-account")["location"]


def test_problem_with_subproblems(fresh):
    r = run("order", fresh.directory, "--ca", fresh.root, "--name", "ok.test,Bad_Name.test,x")
    order = r.one("new-order")
    assert order["status"] == 400 and order["error"] == 0
    assert order["problem_type"] == "rejectedIdentifier"
    lines = order["problem"].split("\n")
    assert lines[0] == "rejectedIdentifier: 2 identifiers were rejected (HTTP 400)"
    assert lines[1].startswith("  - dns 'Bad_Name.test': rejectedIdentifier: ")
    assert lines[2].startswith("  - dns 'x': rejectedIdentifier: ")
    assert order["describe"].startswith(
        fresh.url("/acme/new-order") + ": HTTP 400: rejectedIdentifier: 2 identifiers were "
        "rejected (HTTP 400); dns 'Bad_Name.test': rejectedIdentifier: ")
    assert "\n" not in order["describe"]


def test_draft02_directory_and_challenge(testca_factory):
    ca02 = testca_factory(draft="02", issuers=("ca.test", "ca2.test"))
    r = run("order", ca02.directory, "--ca", ca02.root)
    d = r.one("directory")
    assert d["issuer_domain_names"] == ["ca.test", "ca2.test"]
    assert d["account_hash_prefix"]
    persist = [c for c in r.one("authz")["challenges"] if c["type"] == "dns-persist-01"][0]
    assert persist["issuer_spelling"] == "issuerDomainNames"
    assert persist["issuers"] == ["ca.test", "ca2.test"]
    assert persist["accounturi"] is None


# ---- faults ---------------------------------------------------------------------------------

def test_bad_nonce_retried_transparently(fresh):
    fresh.faults("badNonce", count=2, path="/acme/new-account")
    r = run("account", fresh.directory, "--ca", fresh.root)
    new = r.one("new-account")
    assert new["status"] == 201 and new["attempts"] == 3
    seen = acme_requests(fresh, "/acme/new-account")
    assert [x.get("fault") for x in seen[:3]] == ["badNonce", "badNonce", None]
    assert [x["status"] for x in seen[:3]] == [400, 400, 201]
    assert "re-signing with a fresh nonce" in r.stderr


def test_bad_nonce_gives_up_after_five(fresh):
    fresh.faults("badNonce", count=10, path="/acme/new-account")
    r = run("account", fresh.directory, "--ca", fresh.root)
    new = r.one("new-account")
    assert new["status"] == 400 and new["error"] == 0
    assert new["problem_type"] == "badNonce" and new["attempts"] == 6
    assert len(acme_requests(fresh, "/acme/new-account")) == 6


def test_500_retried_with_backoff(fresh):
    fresh.faults("500", count=2, path="/acme/acct/")
    r = run("account", fresh.directory, "--ca", fresh.root)
    acct = r.one("account")
    assert acct["status"] == 200 and acct["attempts"] == 3
    t = [x["time"] for x in acme_requests(fresh, "/acme/acct/")]
    assert len(t) == 3
    assert t[1] - t[0] >= 0.9 and t[2] - t[1] >= 1.9, t  # 1 s, then 2 s
    assert "retrying in 1s (1/4)" in r.stderr and "retrying in 2s (2/4)" in r.stderr


def test_500_gives_up_after_four_retries(fresh):
    fresh.faults("500", count=10, path="/acme/acct/")
    r = run("account", fresh.directory, "--ca", fresh.root, "--backoff-ms", 50)
    acct = r.one("account")
    assert acct["status"] == 500 and acct["error"] == 0
    assert acct["problem_type"] == "serverInternal" and acct["attempts"] == 5
    assert len(acme_requests(fresh, "/acme/acct/")) == 5
    assert "serverInternal" in acct["describe"]


def test_503_short_retry_after_waited(fresh):
    fresh.faults("503", count=1, path="/acme/acct/", retry_after=2)
    r = run("account", fresh.directory, "--ca", fresh.root)
    acct = r.one("account")
    assert acct["status"] == 200 and acct["attempts"] == 2
    t = [x["time"] for x in acme_requests(fresh, "/acme/acct/")]
    assert t[1] - t[0] >= 1.9, t


def test_429_long_retry_after_delivered(fresh):
    fresh.faults("429", count=1, path="/acme/acct/", retry_after=300)
    r = run("account", fresh.directory, "--ca", fresh.root)
    acct = r.one("account")
    assert acct["status"] == 429 and acct["error"] == 0
    assert acct["retry_after"] == 300 and acct["attempts"] == 1
    assert acct["problem_type"] == "rateLimited"
    assert acct["problem"].startswith("rateLimited: injected fault 429")
    assert r.elapsed < 10


def test_truncated_json_is_a_clear_error(fresh):
    fresh.faults("truncate", count=1, path="/acme/acct/")
    r = run("account", fresh.directory, "--ca", fresh.root)
    acct = r.one("account")
    assert acct["error_name"] == "EPROTO" and acct["status"] == 200
    assert "malformed JSON" in acct["error_text"] and "/acme/acct/" in acct["error_text"]

    fresh.faults("truncate", count=1, path="/directory")
    r = run("directory", fresh.directory, "--ca", fresh.root)
    for d in r.all("directory"):
        assert d["error_name"] == "EPROTO" and "not a JSON directory" in d["error_text"]


def test_slow_answer_against_timeout(fresh):
    # The answer comes far later than the timeout, so "did not wait for it"
    # holds with a wide margin on a loaded machine.
    fresh.faults("slow", count=1, path="/directory", delay_ms=6000)
    r = run("http", fresh.directory, "--ca", fresh.root, "--timeout-ms", 500)
    h = r.one("http")
    assert h["error_name"] == "ETIMEDOUT" and h["status"] == 0
    assert r.elapsed < 5

    fresh.faults("slow", count=1, path="/directory", delay_ms=200)
    h = run("http", fresh.directory, "--ca", fresh.root, "--timeout-ms", 3000).one("http")
    assert h["error"] == 0 and h["status"] == 200 and h["body_nul"]
    assert h["replay_nonce"] and h["link_index"] == fresh.directory

    # the transport retries a timeout like any network error
    fresh.faults("slow", count=1, path="/directory", delay_ms=1500)
    r = run("directory", fresh.directory, "--ca", fresh.root, "--timeout-ms", 500,
            "--backoff-ms", 100)
    assert r.all("directory")[0]["error"] == 0
    assert r.all("directory")[0]["attempts"] == 2


def test_body_cap(fresh):
    h = run("http", fresh.directory, "--ca", fresh.root, "--max-body", 100).one("http")
    assert h["error_name"] == "E2BIG" and "larger than 100 bytes" in h["error_text"]
    h = run("http", fresh.directory, "--ca", fresh.root, "--max-body", 100000).one("http")
    assert h["error"] == 0 and h["body_len"] > 100


def test_ca_bundle_trust(fresh, tmp_path):
    other = make_tls_cert(tmp_path)["root"]
    for args in (["--ca", other], []):  # a foreign root, then the system's trust
        r = run("directory", fresh.directory, *args, "--backoff-ms", 50)
        d = r.all("directory")[0]
        assert d["error_name"] == "EPROTO", d
        assert "certificate" in d["error_text"], d
        assert d["attempts"] == 1  # not a transient error: no retry
    assert acme_requests(fresh) == []


def test_connection_refused_retried_then_reported(tmp_path):
    from fixtures.ports import free_port
    port = free_port(udp=False)  # nothing listens there
    r = run("directory", f"https://127.0.0.1:{port}/directory", "--backoff-ms", 50)
    d = r.all("directory")[0]
    assert d["error_name"] == "ECONNREFUSED" and d["attempts"] == 5
    assert "(after retries)" in d["error_text"]


def test_cancel_and_free_in_flight(fresh):
    fresh.faults("slow", count=1, path="/directory", delay_ms=6000)
    r = run("cancel", fresh.directory, "--ca", fresh.root)
    assert r.one("cancelled")["http_active"] == 0
    second = r.one("second-get")
    assert second["status"] == 200 and second["callbacks_after_cancel"] == 0
    assert r.elapsed < 5  # did not wait for the cancelled answer (6 s)

    fresh.faults("slow", count=3, path="/directory", delay_ms=500)
    r = run("free", fresh.directory, "--ca", fresh.root)
    assert r.one("freeing")["http_active"] == 3


# ---- pebble -----------------------------------------------------------------------------------

def test_pebble_http2_with_nonce_rejection(pebble_factory):
    # Pebble rejects 20 % of good nonces with badNonce: the client must not notice.
    peb = pebble_factory(nonce_reject=20)
    r = run("order", peb.directory, "--ca", peb.root)
    d = r.one("directory")
    assert d["new_nonce"].endswith("/nonce-plz") and d["renewal_info"] is None
    new = r.one("new-account")
    assert new["status"] == 201 and new["location"]
    assert r.one("account")["account_status"] == "valid"
    order = r.one("new-order")
    assert order["status"] == 201 and order["order_status"] == "pending"
    types = {c["type"] for c in r.one("authz")["challenges"]}
    assert "dns-01" in types

    # Pebble sends no nonce with its directory: both POSTs wait for the directory, then
    # each asks newNonce.
    r = run("post", peb.directory, "--ca", peb.root, "--post-url",
            peb.directory.replace("/dir", "/sign-me-up"))
    for p in r.all("post"):
        assert p["status"] == 400 and p["problem_type"] == "accountDoesNotExist", p


# ---- the http layer against a hand-written server (plain HTTP on loopback) -------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:
            pass  # the client hung up on purpose (caps)

    def do_GET(self):
        getattr(self, "page_" + self.path.strip("/").replace("-", "_"))()

    def _raw(self, head, body=b""):
        self.wfile.write(head.replace("\n", "\r\n").encode() + body)
        self.wfile.flush()

    def page_links(self):
        when = email.utils.formatdate(time.time() + 30, usegmt=True)
        body = b'{"ok":true}'
        self._raw(
            "HTTP/1.1 200 OK\n"
            "Content-Type: application/json\n"
            'Link: <https://ca.test/cert/1/1>;rel="alternate", <https://ca.test/cert/1/2>; rel=alternate\n'
            'link: </acme/authz/5>;rel="up"\n'
            'LINK: <https://ca.test/x,y>; title="a, b; c"; rel="alternate index"\n'
            "Link: garbage, <https://ca.test/cert/1/3>;rel=\"ALTERNATE\"\n"
            "location: /acme/acct/7\n"
            "replay-nonce: abc_DEF-123\n"
            f"Retry-After: {when}\n"
            f"Content-Length: {len(body)}\n\n", body)

    def page_absolute_location(self):
        self._raw("HTTP/1.1 201 Created\nLocation: HTTPS://CA.test:443/acct/../Acct/1\n"
                  "Content-Length: 0\n\n")

    def page_early_hints(self):
        # A 1xx response's headers must not leak into the final response.
        self._raw("HTTP/1.1 103 Early Hints\nLink: <https://ca.test/up>;rel=up\n"
                  "Replay-Nonce: early\n\n")
        self._raw("HTTP/1.1 200 OK\nContent-Length: 2\n\n", b"{}")

    def page_chunked(self):
        self._raw("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n")
        chunk = b"x" * 8192
        try:
            for _ in range(32):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def page_big_headers(self):
        head = "HTTP/1.1 200 OK\n" + "".join(f"X-Filler-{i}: {'y' * 1000}\n" for i in range(20))
        try:
            self._raw(head + "Content-Length: 0\n\n")
        except OSError:
            pass


@pytest.fixture(scope="module")
def plain_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_http_refuses_plain_http_by_default(plain_server):
    r = run("http", plain_server + "/links")
    assert r.one("start-failed")["error"] == -22  # -EINVAL: ACME is HTTPS only


def test_http_link_location_retry_after(plain_server):
    h = run("http", plain_server + "/links", "--allow-http").one("http")
    assert h["error"] == 0 and h["status"] == 200
    assert h["link_alternate"] == ["https://ca.test/cert/1/1", "https://ca.test/cert/1/2",
                                   "https://ca.test/x,y", "https://ca.test/cert/1/3"]
    assert h["link_up"] == plain_server + "/acme/authz/5"  # relative: resolved
    assert h["link_index"] == "https://ca.test/x,y"
    assert h["location"] == plain_server + "/acme/acct/7"
    assert h["replay_nonce"] == "abc_DEF-123"
    assert 25 <= h["retry_after"] <= 31  # an HTTP-date, converted to seconds


def test_http_absolute_location_kept_verbatim(plain_server):
    h = run("http", plain_server + "/absolute-location", "--allow-http").one("http")
    assert h["status"] == 201 and h["location"] == "HTTPS://CA.test:443/acct/../Acct/1"


def test_http_1xx_headers_do_not_leak(plain_server):
    h = run("http", plain_server + "/early-hints", "--allow-http").one("http")
    assert h["status"] == 200 and h["link_up"] is None and h["replay_nonce"] is None


def test_http_caps_chunked_body_and_headers(plain_server):
    h = run("http", plain_server + "/chunked", "--allow-http", "--max-body", 100000).one("http")
    assert h["error_name"] == "E2BIG" and h["body_len"] == 0
    h = run("http", plain_server + "/chunked", "--allow-http").one("http")
    assert h["error"] == 0 and h["body_len"] == 32 * 8192
    h = run("http", plain_server + "/big-headers", "--allow-http").one("http")
    assert h["error_name"] == "E2BIG" and "headers" in h["error_text"]
