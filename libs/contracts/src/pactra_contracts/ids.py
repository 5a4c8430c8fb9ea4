"""Opaque, prefixed identifiers (api.md: ``ws_``, ``doc_``, ``evt_``...)."""

import secrets

ID_PREFIXES = frozenset(
    {"ws", "usr", "key", "doc", "agr", "sgr", "fld", "rcpt", "whk", "whd", "evt", "exp", "idem",
     "ana", "sev"}
)


def new_id(prefix: str) -> str:
    """A fresh id: 16 random bytes (128 bits) in base32-ish lowercase, behind ``prefix_``."""
    if prefix not in ID_PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{secrets.token_hex(12)}"
