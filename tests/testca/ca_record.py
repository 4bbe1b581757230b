"""dns-persist-01 record grammar and RRset evaluation (spec sections 2.3-3.2).

Pure functions, no I/O and no clock: callers pass `now` (Unix seconds).
Records are raw bytes (the character-strings of one TXT RR joined with no
separator); they are never decoded through a presentation format.

    evaluate(rrset, fqdn, wildcard, issuers, expected, now, hash_prefix=None)
        -> Verdict(outcome, detail, persist_until)

`expected` is the exact accounturi string the CA expects, or a collection of
acceptable strings (draft -02: one hashed URI per domain form and account
key). With `hash_prefix` set (draft -02 mode), an accounturi that is not a
well-formed hashed URI for that prefix makes the record MALFORMED.
"""
import base64
import collections
import hashlib
import re

VALID = "VALID"
MALFORMED = "MALFORMED"
WRONG_ACCOUNT = "WRONG_ACCOUNT"
NO_WILDCARD_POLICY = "NO_WILDCARD_POLICY"
EXPIRED = "EXPIRED"
WRONG_ISSUER = "WRONG_ISSUER"
NO_RECORD = "NO_RECORD"

# Best first (spec 3.2): a record that got further wins the report.
RANK = (VALID, MALFORMED, EXPIRED, NO_WILDCARD_POLICY, WRONG_ACCOUNT)

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

WSP = b" \t"
_PARAM = re.compile(rb"([A-Za-z0-9](?:-*[A-Za-z0-9])*)[ \t]*=[ \t]*([\x21-\x3a\x3c-\x7e]*)\Z")
_INTEGER = re.compile(rb"-?[0-9]+\Z")
_B64URL_43 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\Z")  # 32 bytes, canonical tail

Verdict = collections.namedtuple("Verdict", "outcome detail persist_until")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hashed_accounturi(prefix, domain, thumbprint, account_url):
    """Draft -02 section 2.5: prefix + "sha-256/" + b64url(SHA-256(M))."""
    d = domain.encode("ascii")
    if not 1 <= len(d) <= 255:
        raise ValueError("domain length out of range")
    m = bytes([len(d)]) + d + thumbprint.encode("ascii") + account_url.encode("ascii")
    return f"{prefix}sha-256/{b64url(hashlib.sha256(m).digest())}"


def normalize_issuer(raw):
    """Issuer text before the first ';': trim WSP, ASCII-lowercase, drop one trailing dot."""
    name = raw.strip(WSP).lower()
    if name.endswith(b"."):
        name = name[:-1]
    return name


def _quote(b):
    return "'" + b.decode("ascii", "backslashreplace") + "'"


def parse_params(rest):
    """Parameters after the issuer's ';' -> (dict lowercase tag -> bytes value, error)."""
    params = {}
    if not rest.strip(WSP):
        return params, None
    for seg in rest.split(b";"):
        seg = seg.strip(WSP)
        if not seg:
            return None, "empty parameter (stray ';')"
        m = _PARAM.match(seg)
        if not m:
            return None, f"parameter {_quote(seg)} breaks the tag=value grammar"
        tag = m.group(1).lower()
        if tag in params:
            return None, f"duplicate parameter {_quote(m.group(1))}"
        params[tag] = m.group(2)
    return params, None


def wellformed_hashed(value, prefix):
    """Is value prefix + "sha-256/" + 43 b64url chars (a 32-byte digest)?"""
    if not value.startswith(prefix):
        return f"does not start with this CA's accountHashPrefix {prefix!r}"
    rest = value[len(prefix):]
    alg, sep, digest = rest.partition("/")
    if not sep or alg != "sha-256":
        return f"unsupported hash algorithm {alg!r}"
    if not _B64URL_43.match(digest):
        return "digest is not 43 base64url characters (SHA-256)"
    return None


def check_record(params, wildcard, expected, now, hash_prefix=None):
    """Checks of spec 3.2 in order for a kept record -> (outcome, detail, persist_until)."""
    acct = params.get(b"accounturi")
    if not acct:
        return MALFORMED, "accounturi missing or empty", None
    until = None
    if b"persistuntil" in params:
        raw = params[b"persistuntil"]
        if not _INTEGER.match(raw):
            return MALFORMED, f"persistUntil {_quote(raw)} is not a base-10 integer", None
        until = int(raw)
        if not INT64_MIN <= until <= INT64_MAX:
            return MALFORMED, f"persistUntil {_quote(raw)} is out of the signed 64-bit range", None
    acct_s = acct.decode("ascii")  # the value grammar admits printable ASCII only
    if hash_prefix is not None:
        why = wellformed_hashed(acct_s, hash_prefix)
        if why:
            return MALFORMED, f"accounturi {_quote(acct)} is not a hashed account URI: {why}", None
    if acct_s not in expected:
        return (WRONG_ACCOUNT,
                f"accounturi {_quote(acct)} does not identify the requesting account", until)
    if wildcard and params.get(b"policy", b"").lower() != b"wildcard":
        return NO_WILDCARD_POLICY, "wildcard identifier needs policy=wildcard", until
    if until is not None and now > until:
        return EXPIRED, f"persistUntil {until} is before the validation time {now}", until
    return VALID, "record authorizes this account", until


def evaluate_one(raw, wildcard, issuers, expected, now, hash_prefix=None):
    """One record's result, or None when it names another issuer (ignored)."""
    head, semi, rest = raw.partition(b";")
    if normalize_issuer(head) not in issuers:
        return None
    params, err = parse_params(rest)
    if err:
        return MALFORMED, err, None
    return check_record(params, wildcard, expected, now, hash_prefix)


def evaluate(rrset, fqdn, wildcard, issuers, expected, now, hash_prefix=None):
    """Outcome of an RRset (list of RRs, each bytes or a list of bytes strings)."""
    if isinstance(expected, str):
        expected = {expected}
    issuer_set = {normalize_issuer(i.encode("ascii") if isinstance(i, str) else i) for i in issuers}
    name = f"_validation-persist.{fqdn}"
    if not rrset:
        return Verdict(NO_RECORD, f"no TXT records at {name}", None)
    best = None
    for rr in rrset:
        raw = rr if isinstance(rr, (bytes, bytearray)) else b"".join(rr)
        res = evaluate_one(bytes(raw), wildcard, issuer_set, expected, now, hash_prefix)
        if res is None:
            continue
        res = Verdict(res[0], f"{res[1]} (record {_quote(bytes(raw))})", res[2])
        if best is None or RANK.index(res.outcome) < RANK.index(best.outcome):
            best = res
        elif res.outcome == VALID == best.outcome and best.persist_until is not None:
            if res.persist_until is None or res.persist_until > best.persist_until:
                best = res  # the longest-lived valid record caps reuse least
    if best is None:
        names = ", ".join(sorted(i.decode("ascii") for i in issuer_set))
        return Verdict(WRONG_ISSUER, f"none of the {len(rrset)} TXT records at {name} names "
                       f"issuer {names}", None)
    return best
