"""Signed internal calls (architecture.md, "Request path").

The gateway — and any service calling another — signs each request with HMAC-SHA256 under
``PACTRA_INTERNAL_SECRET`` over the method, the path with its query, a timestamp and the
identity headers. Bodies are not signed: they stream. A service refuses (401) anything
unsigned, badly signed or older than the allowed skew.
"""

import hashlib
import hmac
import time
from collections.abc import Mapping

WORKSPACE = "X-Pactra-Workspace"
API_KEY_ID = "X-Pactra-Key-Id"
REQUEST_ID = "X-Request-Id"
CALLER = "X-Pactra-Caller"
CLIENT_IP = "X-Pactra-Client-Ip"
USER_AGENT = "X-Pactra-User-Agent"
TIMESTAMP = "X-Pactra-Timestamp"
SIGNATURE = "X-Pactra-Signature"
IDENTITY_HEADERS = (WORKSPACE, API_KEY_ID, REQUEST_ID, CALLER, CLIENT_IP, USER_AGENT)
MAX_SKEW_SECONDS = 60


def _message(method: str, path_with_query: str, timestamp: str, identity: Mapping[str, str]) -> bytes:
    lines = [method.upper(), path_with_query, timestamp]
    lines += [f"{name.lower()}:{identity.get(name, '')}" for name in IDENTITY_HEADERS]
    return "\n".join(lines).encode()


def sign(secret: str, method: str, path_with_query: str, identity: Mapping[str, str],
         now: float | None = None) -> dict[str, str]:
    """Headers to add to an internal request: the identity, a timestamp and the signature."""
    timestamp = str(int(now if now is not None else time.time()))
    digest = hmac.new(
        secret.encode(), _message(method, path_with_query, timestamp, identity), hashlib.sha256
    ).hexdigest()
    headers = {name: identity[name] for name in IDENTITY_HEADERS if identity.get(name)}
    headers[TIMESTAMP] = timestamp
    headers[SIGNATURE] = digest
    return headers


def verify(secret: str, method: str, path_with_query: str, headers: Mapping[str, str],
           now: float | None = None) -> bool:
    timestamp = headers.get(TIMESTAMP, "")
    signature = headers.get(SIGNATURE, "")
    if not timestamp.isdigit() or not signature:
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    identity = {name: headers.get(name, "") for name in IDENTITY_HEADERS}
    expected = hmac.new(
        secret.encode(), _message(method, path_with_query, timestamp, identity), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, signature)
