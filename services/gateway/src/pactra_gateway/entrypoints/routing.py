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
    # A workspace's deletion: its status URL (the id is unguessable) and its emailed link.
    ("GET", re.compile(r"^/v1/deletions/[A-Za-z0-9_]+$")),
    ("POST", re.compile(r"^/v1/deletions/(confirm|cancel)$")),
    (None, re.compile(r"^/(confirm-deletion|cancel-deletion)(/[^/]*)?$")),
    (None, re.compile(r"^/s/")),
    (None, re.compile(r"^/verify$")),
    ("GET", re.compile(r"^/v1/receipts/(keys|certificates)$")),
    ("POST", re.compile(r"^/v1/receipts/verify$")),
    # The email provider's reports (bounces, complaints): authenticated by their own
    # signature (Svix), checked by notify.
    ("POST", re.compile(r"^/v1/email-events/resend$")),
    ("GET", re.compile(r"^/v1/openapi\.json$")),
    # An export's download link: its token is the credential (api.md, "Exports").
    ("GET", re.compile(r"^/v1/exports/download/[^/]+$")),
    ("GET", re.compile(r"^/docs(/.*)?$")),
)

# Routes a test key (api.md, "Test mode") is refused, 403, whatever service serves them and
# whether they exist yet: they act on the whole workspace or its live data (deleting it,
# exporting it, its plan, its owner's account), which test mode must never touch. Creating a
# live key is refused by the key route itself (a test key may create test keys).
LIVE_KEYS_ONLY: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    ("DELETE", re.compile(r"^/v1/workspace$")),
    ("PATCH", re.compile(r"^/v1/workspace$")),
    (None, re.compile(r"^/v1/workspace/plan$")),
    (None, re.compile(r"^/v1/(billing/)?plans?(/|$)")),
    (None, re.compile(r"^/v1/exports(/|$)")),
    (None, re.compile(r"^/v1/deletions(/|$)")),
    ("PATCH", re.compile(r"^/v1/account$")),
    ("POST", re.compile(r"^/v1/account/verify-email$")),
)

# Routes whose bodies are files rather than JSON documents.
UPLOADS = (("POST", re.compile(r"^/v1/documents$")), ("POST", re.compile(r"^/v1/receipts/verify$")))


def owner_of(path: str) -> str | None:
    return next((service for pattern, service in OWNERS if pattern.match(path)), None)


def is_public(method: str, path: str) -> bool:
    return any((m is None or m == method) and pattern.match(path) for m, pattern in PUBLIC)


def live_keys_only(method: str, path: str) -> bool:
    return any((m is None or m == method) and pattern.match(path) for m, pattern in LIVE_KEYS_ONLY)


def is_upload(method: str, path: str) -> bool:
    return any(m == method and pattern.match(path) for m, pattern in UPLOADS)
