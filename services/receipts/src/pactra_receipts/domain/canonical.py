"""RFC 8785 (JCS) canonical JSON: what every hash and signature in the evidence is over."""

import hashlib
from typing import Any

import rfc8785


def jcs(value: Any) -> bytes:
    return rfc8785.dumps(value)


def jcs_sha256(value: Any) -> str:
    return hashlib.sha256(jcs(value)).hexdigest()
