"""Small shared helpers: ACME problems, strict base64url and JSON, RFC 3339 time."""
import base64
import datetime
import json
import re

ERR = "urn:ietf:params:acme:error:"
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")


class AcmeError(Exception):
    """An RFC 7807 problem; raised anywhere, turned into a response by the server."""

    def __init__(self, kind, detail, status=400, headers=None, **extra):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def problem(self):
        p = {"type": ERR + self.kind, "detail": self.detail, "status": self.status}
        p.update(self.extra)
        return p


def problem(kind, detail, status=400, **extra):
    """A problem document as a dict (for challenge/order "error" fields)."""
    return AcmeError(kind, detail, status, **extra).problem()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s, what="value", kind="malformed"):
    """Strict base64url without padding (RFC 7515 section 2)."""
    if not isinstance(s, str) or not _B64URL.match(s) or len(s) % 4 == 1:
        raise AcmeError(kind, f"{what} is not unpadded base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _no_dupes(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def json_loads(data, what="body"):
    """Strict JSON: UTF-8, no duplicate members, no NaN/Infinity."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        return json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise AcmeError("malformed", f"{what} is not valid JSON: {e}") from None


def json_object(data, what="payload"):
    obj = json_loads(data, what)
    if not isinstance(obj, dict):
        raise AcmeError("malformed", f"{what} must be a JSON object")
    return obj


def rfc3339(ts):
    """Unix seconds -> RFC 3339 UTC with a Z."""
    dt = datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
