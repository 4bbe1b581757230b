"""The getdns-on-libuv adapter (common/getdns_uv) under the load that crashes
Debian's libgetdns_ex_uv: many concurrent queries for a TXT RRset over 1232
bytes, so that every UDP answer is truncated and the queries pile onto one
TCP connection; and TCP-only transport. docs/notes/getdns-libuv.md section 4.

The client is tests/unit/test_getdns_uv.c in --stress mode, built by make
check with ASan+UBSan (leak detection on). It exits 0 only when every query
got its 20 answers, schedules == clears (+ registrations closed in cleanup),
nothing is left allocated and uv_loop_close() returned 0.
"""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERSISTD_BUILD", ROOT / "build"))

BIG = "\n".join(f'big TXT "{i:02d}' + "x" * 148 + '"' for i in range(20)) + \
    '\nsmall TXT "ca.test; accounturi=https://ca.test/acct/1"'


def stress_bin():
    p = BUILD / "tests" / "test_getdns_uv"
    if not p.exists():
        san = ["SAN=1"] if BUILD.name == "build-san" else []
        subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", *san,
                        f"{BUILD.name}/tests/test_getdns_uv"], check=False,
                       capture_output=True, timeout=600)
    if not p.exists():
        pytest.skip(f"{p} not built (make SAN=1 check-build)")
    return str(p)


@pytest.fixture(scope="module")
def big_server(knot_module_factory):
    k = knot_module_factory()
    k.zone("bench.test", BIG)
    k.start()
    return k


def stress(binary, server, *args):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    p = subprocess.run([binary, "--stress", "--server", server.resolver, "--name",
                        "big.bench.test", "--answers", "20", *args],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, f"stdout: {p.stdout}\nstderr: {p.stderr}"
    assert "OK" in p.stdout and "ERROR: AddressSanitizer" not in p.stderr
    counters = dict(re.findall(r"(\w+)=(\S+)", p.stdout))
    return counters


def test_rrset_is_truncated_over_udp(big_server):
    out = big_server.dig("big.bench.test", "TXT", "+bufsize=1232", "+ignore", "+notcp")
    assert re.search(r"Flags:[^;]*\btc\b", out), out


# A burst of 1000 UDP queries overflows knotd's socket buffers now and then,
# and getdns does not retransmit: those queries would time out. 200 keeps the
# burst below what loopback buffers hold; TCP has no such limit.
@pytest.mark.parametrize("transport,count", [
    ("udp-tcp", 50),     # every answer truncated: TCP fallback, shared connection
    ("tcp", 50),         # TCP only
    ("udp-tcp", 200),
    ("tcp", 1000),
])
def test_concurrent_big_answers(big_server, transport, count):
    c = stress(stress_bin(), big_server, "--transport", transport, "--count", str(count))
    assert c["answered"] == f"{count}/{count}"
    assert int(c["schedules"]) == int(c["clears"]) + int(c["cleanup_closed"])
    assert c["allocated"] == "0" and c["loop_close"] == "0"
    assert c["errors"] == "0" and c["breaches"] == "0"


def test_limit_outstanding_leaves_a_timer_for_cleanup(big_server):
    # getdns forgets its pending-queue timer; the adapter's cleanup closes it
    c = stress(stress_bin(), big_server, "--transport", "udp-tcp", "--count", "200",
               "--limit", "10")
    assert c["answered"] == "200/200"
    assert int(c["schedules"]) == int(c["clears"]) + int(c["cleanup_closed"])
    assert c["allocated"] == "0" and c["loop_close"] == "0"


def test_udp_query_costs_two_epoll_ctls(big_server):
    # One EPOLLONESHOT set per adapter: ADD for the write, MOD for the read;
    # the clear before close needs nothing (libuv's poll handle per
    # registration cost ten, and two ioctl).
    # docs/notes/getdns-libuv.md section 7.
    c = stress(stress_bin(), big_server, "--transport", "udp", "--count", "100",
               "--name", "small.bench.test", "--answers", "1")
    assert c["answered"] == "100/100"
    assert int(c["epoll_ctls"]) <= 2 * 100, c
    assert c["allocated"] == "0" and c["loop_close"] == "0"
