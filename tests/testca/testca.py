#!/usr/bin/python3
"""persistd's test ACME CA: RFC 8555 + dns-persist-01 over HTTPS on 127.0.0.1.

    testca.py --state-dir DIR [--port 0] [--dns 127.0.0.1@PORT]
              [--issuer-domain-names ca.test[,more]] [--draft 01|02]
              [--hash-prefix PREFIX] [--profile NAME=LIFETIME_SECONDS ...]
              [--default-profile NAME] [--eab KID:B64URLKEY ...] [--jit]
              [--reuse-authz] [--no-persist] [--finalize-delay SECONDS]
              [--ready-file FILE]

Writes DIR/root-a.pem at start, then the ready file (JSON: directory, port,
root, admin) once listening. Logs one line per request to stderr. See
README.md in this directory for the admin API and the rules it enforces.
"""
import argparse
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ca_core  # noqa: E402
import ca_http  # noqa: E402
import ca_pki  # noqa: E402
from ca_util import b64url_decode, AcmeError  # noqa: E402

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\Z")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dns", help="authoritative server for lookups, ADDR@PORT")
    ap.add_argument("--issuer-domain-names", default="ca.test")
    ap.add_argument("--draft", choices=("01", "02"), default="01")
    ap.add_argument("--hash-prefix", help="accountHashPrefix for draft 02 "
                    "(default https://127.0.0.1:PORT/acct-hash/)")
    ap.add_argument("--profile", action="extend", nargs="+", default=[],
                    metavar="NAME=LIFETIME_SECONDS")
    ap.add_argument("--default-profile", default="classic")
    ap.add_argument("--eab", action="extend", nargs="+", default=[], metavar="KID:B64URLKEY")
    ap.add_argument("--jit", action="store_true", help="validate dns-persist-01 at newOrder")
    ap.add_argument("--reuse-authz", action="store_true")
    ap.add_argument("--no-persist", dest="persist", action="store_false",
                    help="do not offer dns-persist-01")
    ap.add_argument("--finalize-delay", type=float, default=0.0)
    ap.add_argument("--orders-page-size", type=int, default=10,
                    help="order URLs per page of an account's orders list")
    ap.add_argument("--no-orders-list", dest="orders_list", action="store_false",
                    help="accounts have no 'orders' URL (as Let's Encrypt's)")
    ap.add_argument("--ready-file")
    a = ap.parse_args(argv)

    a.issuers = [n for n in a.issuer_domain_names.split(",") if n]
    if not 1 <= len(a.issuers) <= 10 or not all(_NAME.match(n) and len(n) <= 253
                                                 for n in a.issuers):
        ap.error("--issuer-domain-names: 1..10 lowercase A-label names without trailing dot")
    a.profiles = {"classic": 90 * 86400}
    for p in a.profile:
        name, _, secs = p.partition("=")
        if not name or not secs.isdigit() or int(secs) <= 0:
            ap.error(f"--profile {p!r}: want NAME=LIFETIME_SECONDS")
        a.profiles[name] = int(secs)
    if a.default_profile not in a.profiles:
        ap.error(f"--default-profile {a.default_profile!r} is not a profile")
    eab = {}
    for e in a.eab:
        kid, _, key = e.partition(":")
        try:
            eab[kid] = b64url_decode(key, "EAB key")
        except AcmeError:
            ap.error(f"--eab {e!r}: want KID:B64URLKEY")
        if not kid or not eab[kid]:
            ap.error(f"--eab {e!r}: want KID:B64URLKEY")
    a.eab = eab
    if a.dns:
        addr, _, port = a.dns.partition("@")
        if not port.isdigit():
            ap.error("--dns: want ADDR@PORT")
    if a.finalize_delay < 0:
        ap.error("--finalize-delay must be >= 0")
    if a.orders_page_size < 1:
        ap.error("--orders-page-size must be >= 1")
    return a


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    opts.state_dir = os.path.abspath(opts.state_dir)
    os.makedirs(opts.state_dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pki = ca_pki.PKI(opts.state_dir, int(time.time()))
    ca = ca_core.CA(opts, pki)
    server = ca_http.Server(opts.port, ca, ca_http.tls_context(pki.tls_cert_path, pki.tls_key_path))
    port = server.server_address[1]
    ca.base = f"https://127.0.0.1:{port}"
    info = {"directory": ca.url("/directory"), "port": port, "root": pki.root_a_path,
            "admin": ca.url("/admin")}
    if opts.ready_file:
        write_atomic(opts.ready_file, json.dumps(info) + "\n")
    ca_core.log(f"testca listening: {info['directory']} (draft {opts.draft}, "
                f"issuers {opts.issuers}, dns {opts.dns})")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
