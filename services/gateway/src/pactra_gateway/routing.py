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
    (re.compile(r"^/v1/email-events/"), "notify"),
)

PUBLIC: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"^/v1/signup$")),
    # The account's emailed links: the token in the body (or the page's URL) is the credential.
    ("POST", re.compile(r"^/v1/account/(confirm-email|recover|recover/key)$")),
    (None, re.compile(r"^/(confirm-email|recover)(/[^/]*)?$")),
    (None, re.compile(r"^/s/")),
    (None, re.compile(r"^/verify$")),
    ("GET", re.compile(r"^/v1/receipts/(keys|certificates)$")),
    ("POST", re.compile(r"^/v1/receipts/verify$")),
    # The email provider's reports (bounces, complaints): authenticated by their own
    # signature (Svix), checked by notify.
    ("POST", re.compile(r"^/v1/email-events/resend$")),
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
