"""TXT lookups against one DNS server on loopback (dnspython), bounded in time.

lookup_txt(server, name) returns the raw TXT RRs at name as a list of
bytes (the character-strings of each RR joined with no separator),
following CNAMEs the way a resolver does: first through the answer
section, then by asking again for a target the answer left out. An empty
list means NXDOMAIN or NODATA. Anything else (SERVFAIL, REFUSED, timeout,
unreachable server, CNAME loop) raises DnsError.
"""
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

TIMEOUT_S = 2.0
MAX_CNAME_HOPS = 8


class DnsError(Exception):
    """The lookup failed; this is not an empty answer."""


def parse_server(server):
    """"127.0.0.1@5353" (or a bare address, port 53) -> (address, port)."""
    addr, _, port = server.partition("@")
    return addr, int(port or 53)


def _query(addr, port, qname, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DnsError(f"timeout looking up {qname} TXT")
    q = dns.message.make_query(qname, dns.rdatatype.TXT)
    try:
        resp, _ = dns.query.udp_with_fallback(q, addr, timeout=remaining, port=port)
    except dns.exception.Timeout:
        raise DnsError(f"timeout looking up {qname} TXT at {addr}@{port}") from None
    except (OSError, dns.exception.DNSException) as e:
        raise DnsError(f"lookup of {qname} TXT at {addr}@{port} failed: {e}") from None
    if resp.flags & dns.flags.TC:
        raise DnsError(f"truncated answer for {qname} TXT even over TCP")
    return resp


def lookup_txt(server, name, timeout=TIMEOUT_S):
    addr, port = parse_server(server)
    deadline = time.monotonic() + timeout
    qname = dns.name.from_text(name)
    seen = set()
    for _ in range(MAX_CNAME_HOPS):
        resp = _query(addr, port, qname, deadline)
        rcode = resp.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return []
        if rcode != dns.rcode.NOERROR:
            raise DnsError(f"{dns.rcode.to_text(rcode)} for {qname} TXT from {addr}@{port}")
        cur = qname
        while True:
            if cur in seen:
                raise DnsError(f"CNAME loop at {cur}")
            seen.add(cur)
            txt = resp.get_rrset(resp.answer, cur, dns.rdataclass.IN, dns.rdatatype.TXT)
            if txt is not None:
                return [b"".join(rd.strings) for rd in txt]
            cname = resp.get_rrset(resp.answer, cur, dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                break
            cur = cname[0].target
        if cur == qname:
            return []  # NODATA
        seen.discard(cur)
        qname = cur  # the answer stopped at a CNAME target: ask for it
    raise DnsError(f"more than {MAX_CNAME_HOPS} CNAME hops from {name}")

