"""Which service owns a public path, and which paths need no API key (architecture.md)."""

import re

OWNERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/v1/documents/[^/]+/analysis$"), "ai"),
    (re.compile(r"^/v1/documents(/|$)"), "documents"),
    (re.compile(r"^/v1/agreements/[^/]+/(audit|receipt|signed\.pdf|certificate\.pdf)$"), "receipts"),
    (re.compile(r"^/v1/agreements(/|$)"), "signing"),
    (re.compile(r"^/v1/receipts(/|$)"), "receipts"),
    (re.compile(r"^/s/"), "signing"),
    (re.compile(r"^/verify$"), "receipts"),
    (re.compile(r"^/v1/webhooks(/|$)"), "notify"),
)

PUBLIC: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/v1/signup$")),
    (None, re.compile(r"^/s/")),
    (None, re.compile(r"^/verify$")),
    ("GET", re.compile(r"^/v1/receipts/(keys|certificates)$")),
    ("POST", re.compile(r"^/v1/receipts/verify$")),
    ("GET", re.compile(r"^/v1/openapi\.json$")),
    ("GET", re.compile(r"^/docs(/.*)?$")),
)

# Routes whose bodies are files rather than JSON documents.
UPLOADS = (("POST", re.compile(r"^/v1/documents$")), ("POST", re.compile(r"^/v1/receipts/verify$")))


def owner_of(path: str) -> str | None:
    return next((service for pattern, service in OWNERS if pattern.match(path)), None)


def is_public(method: str, path: str) -> bool:
    return any((m is None or m == method) and pattern.match(path) for m, pattern in PUBLIC)


def is_upload(method: str, path: str) -> bool:
    return any(m == method and pattern.match(path) for m, pattern in UPLOADS)
