"""HTTPS front end: HTTP/1.1 on 127.0.0.1, fault injection, request log, admin API.

ACME paths go to ca_core.CA.handle(); every ACME response gets a fresh
Replay-Nonce and a Link rel="index". Paths under /admin/ are plain JSON for
tests and are neither logged in /admin/requests nor subject to faults.
The TLS handshake runs in the connection's thread, never in the accept loop.
"""
import http.server
import json
import socket
import ssl
import sys
import threading
import time

import ca_jose
from ca_core import Resp
from ca_util import AcmeError

MAX_BODY_BYTES = 1 << 20
MAX_DRAIN_BYTES = 16 << 20  # an over-long body up to this size is read and dropped
HANDSHAKE_TIMEOUT_S = 10
IDLE_TIMEOUT_S = 30
MAX_LOG = 100000
FAULT_KINDS = ("badNonce", "500", "503", "429", "slow", "truncate", "drop", "late",
               "orderNotReady")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Faults:
    """Queued faults; each matching ACME request consumes one (first match wins)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []

    def add(self, spec):
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise AcmeError("malformed", f"fault kind must be one of {FAULT_KINDS}")
        count = spec.get("count", 1)
        if type(count) is not int or count < 1:
            raise AcmeError("malformed", "count must be a positive integer")
        path = spec.get("path")
        if path is not None and not isinstance(path, str):
            raise AcmeError("malformed", "path must be a string")
        f = {"kind": kind, "count": count, "path": path,
             "retry_after": int(spec.get("retry_after", 1)),
             "delay_ms": int(spec.get("delay_ms", 1500))}
        with self.lock:
            self.queue.append(f)
        return f

    def clear(self):
        with self.lock:
            self.queue.clear()

    def list(self):
        with self.lock:
            return [dict(f) for f in self.queue]

    def take(self, method, path):
        with self.lock:
            for f in self.queue:
                if f["path"] is not None and f["path"] not in path:
                    continue
                if f["kind"] == "badNonce" and method != "POST":
                    continue  # only a JWS request can carry a bad nonce
                f["count"] -= 1
                if f["count"] <= 0:
                    self.queue.remove(f)
                return dict(f)
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "persistd-testca/1"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass  # we log one line per request ourselves

    def do_GET(self):
        self.dispatch()

    do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = do_GET

    # ---- plumbing ------------------------------------------------------------
    def read_body(self):
        """The request body, or a Resp to send instead (then the connection closes)."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            return AcmeError("malformed", "Transfer-Encoding is not supported; send Content-Length",
                             411)
        if len(self.headers.get_all("Content-Length") or []) > 1:
            self.close_connection = True
            return AcmeError("malformed", "more than one Content-Length", 400)
        raw = self.headers.get("Content-Length")
        if raw is None:
            if self.command in ("POST", "PUT", "PATCH"):
                self.close_connection = True
                return AcmeError("malformed", "Content-Length required", 411)
            return b""
        if not raw.strip().isdigit():
            self.close_connection = True
            return AcmeError("malformed", "bad Content-Length", 400)
        n = int(raw)
        if n > MAX_BODY_BYTES:
            self.close_connection = True
            self.drain(n)
            return AcmeError("malformed", f"body of {n} bytes exceeds {MAX_BODY_BYTES}", 413)
        try:
            body = self.rfile.read(n)
        except (socket.timeout, OSError):
            body = b""
        if len(body) != n:
            self.close_connection = True
            return AcmeError("malformed", "body shorter than Content-Length", 400)
        return body

    def drain(self, n):
        """Discard n body bytes in chunks so that the client can read our 413 (no RST)."""
        if n > MAX_DRAIN_BYTES:
            return
        try:
            while n > 0:
                chunk = self.rfile.read(min(n, 65536))
                if not chunk:
                    return
                n -= len(chunk)
        except (socket.timeout, OSError):
            pass

    def send(self, resp, extra_headers=()):
        self.send_response(resp.status)
        if resp.ctype:
            self.send_header("Content-Type", resp.ctype)
        for k, v in list(resp.headers) + list(extra_headers):
            self.send_header(k, v)
        if resp.status != 204:
            self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)
        self.wfile.flush()

    def dispatch(self):
        try:
            path = self.path
            if path == "/admin" or path.startswith("/admin/"):
                self.admin(path)
            else:
                self.acme(path)
        except (ConnectionError, socket.timeout, ssl.SSLError) as e:
            self.close_connection = True
            log(f"{self.command} {self.path}: connection error {e}")

    # ---- ACME ------------------------------------------------------------------
    def acme(self, path):
        srv = self.server
        ca = srv.ca
        body = self.read_body()
        fault = None if isinstance(body, AcmeError) else srv.faults.take(self.command, path)
        note = ""
        truncate = False
        if isinstance(body, AcmeError):
            resp = ca.problem_resp(body)
        elif fault and fault["kind"] == "slow":
            note = f" (fault slow {fault['delay_ms']} ms)"
            time.sleep(fault["delay_ms"] / 1000)
            resp = ca.handle(self.command, path, self.headers, body)
        elif fault and fault["kind"] == "badNonce":
            note = " (fault badNonce)"
            self.burn_nonce(body)
            resp = ca.problem_resp(AcmeError("badNonce", "JWS has an invalid anti-replay nonce "
                                             "(injected fault)"))
        elif fault and fault["kind"] == "orderNotReady":
            # A CA whose order has not caught up with its authorizations yet
            # (finalize before the order says ready): refused, nothing done.
            note = " (fault orderNotReady)"
            resp = ca.problem_resp(AcmeError("orderNotReady", "order is not ready yet "
                                             "(injected fault)", 403))
        elif fault and fault["kind"] in ("500", "503", "429"):
            note = f" (fault {fault['kind']})"
            kind, status = {"500": ("serverInternal", 500), "503": ("serverInternal", 503),
                            "429": ("rateLimited", 429)}[fault["kind"]]
            hdrs = {} if status == 500 else {"Retry-After": str(fault["retry_after"])}
            resp = ca.problem_resp(AcmeError(kind, f"injected fault {fault['kind']}", status,
                                             headers=hdrs))
        else:
            resp = ca.handle(self.command, path, self.headers, body)
            if fault and fault["kind"] == "truncate":
                note = " (fault truncate)"
                truncate = True
            if fault and fault["kind"] == "drop":
                # Done, and the connection closed with no answer at all: a client
                # cannot tell whether the CA acted on the request.
                self.close_connection = True
                srv.record(self.command, path, 0, "drop")
                log(f"{self.command} {path} {resp.status} (fault drop: no answer sent)")
                return
            if fault and fault["kind"] == "late":
                # Done at once, answered only after the delay: a client can be killed
                # in between, after the CA acted.
                note = f" (fault late {fault['delay_ms']} ms)"
                log(f"{self.command} {path} {resp.status} done, answering in "
                    f"{fault['delay_ms']} ms")
                # Logged now, when the CA acted: a test waiting for the request must see
                # it while the answer is still held back.
                srv.record(self.command, path, resp.status, "late")
                time.sleep(fault["delay_ms"] / 1000)
        if truncate:
            resp = Resp(200, resp.body[:len(resp.body) // 2], resp.ctype or "application/json",
                        resp.headers)
        extra = [("Replay-Nonce", ca.new_nonce()),
                 ("Link", f'<{ca.url("/directory")}>;rel="index"')]
        if not any(k == "Cache-Control" for k, _ in resp.headers):
            extra.append(("Cache-Control", "no-store"))
        self.send(resp, extra)
        if not (fault and fault["kind"] == "late"):
            srv.record(self.command, path, resp.status, fault and fault["kind"])
        log(f"{self.command} {path} {resp.status}{note}")

    def burn_nonce(self, body):
        """A rejected nonce is gone, as a real CA would have forgotten it."""
        try:
            nonce = ca_jose.parse_jws(body).header.get("nonce")
        except AcmeError:
            return
        if isinstance(nonce, str):
            self.server.ca.consume_nonce(nonce)

    # ---- admin -------------------------------------------------------------------
    def admin(self, path):
        srv = self.server
        body = self.read_body()
        try:
            if isinstance(body, AcmeError):
                raise body
            obj = json.loads(body) if body.strip() else {}
            out = self.admin_route(srv, path.rstrip("/"), obj)
            resp = Resp(200, json.dumps(out, indent=1).encode())
        except AcmeError as e:
            resp = Resp(e.status, json.dumps(e.problem()).encode(), "application/problem+json")
        except (ValueError, KeyError, TypeError) as e:
            resp = Resp(400, json.dumps({"detail": f"bad admin request: {e!r}"}).encode())
        self.send(resp)
        log(f"{self.command} {path} {resp.status} (admin)")

    def admin_route(self, srv, path, obj):
        ca, m = srv.ca, self.command
        if path == "/admin/faults":
            if m == "POST":
                return srv.faults.add(obj)
            if m == "DELETE":
                srv.faults.clear()
                return {}
            if m == "GET":
                return srv.faults.list()
        elif path == "/admin/requests":
            if m == "GET":
                with srv.log_lock:
                    return list(srv.requests)
            if m == "DELETE":
                with srv.log_lock:
                    srv.requests.clear()
                return {}
        elif path == "/admin/clock":
            if m == "POST":
                ca.clock_offset = float(obj["offset"])
            if m in ("POST", "GET"):
                return {"offset": ca.clock_offset, "now": ca.now()}
        elif path == "/admin/misissue" and m == "POST":
            return ca.admin_misissue(obj)
        elif path == "/admin/ari" and m == "POST":
            return ca.admin_ari(obj)
        elif path == "/admin/certs" and m == "GET":
            return ca.admin_certs()
        elif path == "/admin/accounts" and m == "GET":
            return ca.admin_accounts()
        elif path == "/admin/orders" and m == "GET":
            return ca.admin_orders()
        elif path == "/admin/orders" and m == "POST":
            return ca.admin_new_orders(obj)
        elif path == "/admin/directory" and m == "GET":
            return ca.directory()
        raise AcmeError("malformed", f"no admin resource {m} {path}", 404)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port, ca, tls_ctx):
        self.ca = ca
        self.tls = tls_ctx
        self.faults = Faults()
        self.log_lock = threading.Lock()
        self.requests = []
        super().__init__(("127.0.0.1", port), Handler)

    def record(self, method, path, status, fault):
        entry = {"method": method, "path": path, "status": status, "time": time.time()}
        if fault:
            entry["fault"] = fault
        with self.log_lock:
            self.requests.append(entry)
            del self.requests[:-MAX_LOG]

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"TLS handshake from {client_address[1]} failed: {e}")
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        log(f"connection from port {client_address[1]} ended with an error: {sys.exc_info()[1]!r}")


def tls_context(cert_path, key_path):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_path, key_path)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
