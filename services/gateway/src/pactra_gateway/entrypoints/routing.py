"""The gateway's one route table (``OPERATIONS``): every public operation, the service that
serves it, and whether it needs an API key.

The gateway forwards by it (``owner_of``), lets callers in without a key by it (``is_public``),
answers ``405`` and ``OPTIONS`` with its methods (``allowed_methods``), and ``openapi.py``
builds the OpenAPI document from it. Tests enumerate it: every route a service serves must be
in it (tests/test_route_table.py), and the tenant-isolation test calls each one that takes an id
with another workspace's key. The few routes outside the API (HTML pages and their assets) are
in ``PAGES``."""

import re
from typing import NamedTuple

from pydantic import BaseModel

from pactra_contracts import api, resources

GATEWAY = "gateway"


class Operation(NamedTuple):
    method: str  # lower case, as OpenAPI spells it
    path: str  # an OpenAPI path template
    summary: str
    request: type[BaseModel] | None  # the JSON body's model
    status: int  # the success status
    response: type[BaseModel] | None  # the JSON answer's model (None: ``media`` says what it is)
    public: bool  # needs no API key (its own credential, or none)
    service: str  # who serves it: the gateway itself, or the service it forwards to
    media: str = "application/json"  # the success answer's media type (JSON: ``response``'s)


def _served_by(service: str, *rows: tuple) -> tuple[Operation, ...]:
    """Rows as written in the table (the service once for its group) made operations."""
    return tuple(Operation(*row[:7], service=service, media=row[7] if len(row) > 7 else JSON)
                 for row in rows)


JSON, PDF, PNG, ZIP = "application/json", "application/pdf", "image/png", "application/zip"
HTML, TEXT = "text/html", "text/plain"

OPERATIONS: tuple[Operation, ...] = (
    *_served_by(
        GATEWAY,
        ("post", "/v1/signup", "Create a workspace, its owner and a first API key",
         api.SignupRequest, 201, api.SignupOut, True),
        ("get", "/v1/workspace", "The caller's workspace", None, 200, api.WorkspaceOut, False),
        ("patch", "/v1/workspace", "Change workspace settings", api.WorkspacePatch, 200,
         api.WorkspaceOut, False),
        ("post", "/v1/api-keys", "Create an API key (the key is shown only here)", api.ApiKeyCreate,
         201, api.NewApiKeyOut, False),
        ("get", "/v1/api-keys", "List API keys (never the keys themselves)", None, 200,
         api.ApiKeyList, False),
        ("delete", "/v1/api-keys/{id}", "Revoke an API key", None, 204, None, False),
        ("get", "/v1/account", "The account: the workspace, its owner, a pending email", None, 200,
         api.AccountOut, False),
        ("patch", "/v1/account", "Correct the owner's name or email (a new email is pending until "
         "confirmed through the link mailed to it)", api.AccountPatch, 200, api.AccountOut, False),
        ("post", "/v1/account/verify-email", "Mail the verification link again", None, 202,
         api.Accepted, False),
        ("post", "/v1/account/confirm-email", "Confirm an address with the token from its emailed "
         "link", api.EmailedToken, 200, api.EmailConfirmed, True),
        ("post", "/v1/account/recover", "Mail a recovery link to a verified owner's address (always "
         "202: never says whether an account exists)", api.RecoverRequest, 202, api.Accepted, True),
        ("post", "/v1/account/recover/key", "A new API key, with the token from a recovery link "
         "(once; shown only here)", api.EmailedToken, 201, api.NewApiKeyOut, True),
        ("get", "/v1/security-events", "List the workspace's security log, chained by hash", None,
         200, api.SecurityEventList, False),
        ("get", "/v1/usage", "This period's usage against the plan's limits, and the last 12 "
         "periods", None, 200, api.UsageOut, False),
        ("get", "/v1/billing/statements", "The statements: the open period's, then the final ones",
         None, 200, api.StatementList, False),
        ("get", "/v1/billing/statements/{period}", "A period's statement (YYYY-MM): line items at "
         "the plan's prices, plan fee, totals", None, 200, api.StatementOut, False),
        ("get", "/v1/billing/statements/{period}.pdf", "The same statement as a PDF", None, 200, None,
         False, PDF),
        ("delete", "/v1/workspace", "Ask to delete the workspace and everything in it; the owner "
         "confirms through a mailed link (202)", api.DeleteWorkspace, 202, api.DeletionRequested,
         False),
        ("post", "/v1/deletions/confirm", "Confirm a deletion with the token from its email: every "
         "key stops at once, the purge follows the grace period", api.EmailedToken, 200,
         api.DeletionOut, True),
        ("post", "/v1/deletions/cancel", "Cancel a deletion before its purge starts, with the token "
         "from its email", api.EmailedToken, 200, api.DeletionOut, True),
        ("get", "/v1/deletions/{id}", "A deletion's state, per service (the id is the credential)",
         None, 200, api.DeletionOut, True),
        ("post", "/v1/exports", "Export everything the workspace holds (202; the archive is "
         "assembled in the background)", None, 202, api.ExportCreated, False),
        ("get", "/v1/exports", "List exports", None, 200, api.ExportList, False),
        ("get", "/v1/exports/{id}", "An export's progress; once ready, a download link valid 24 h",
         None, 200, api.ExportOut, False),
        ("get", "/v1/exports/download/{token}", "The export's archive (zip), streamed; the link's "
         "token is the credential", None, 200, None, True, ZIP),
        ("get", "/v1/openapi.json", "This OpenAPI document", None, 200, None, True),
    ),
    *_served_by(
        "documents",
        ("post", "/v1/documents", "Upload a PDF (raw body with ?filename=, or multipart part "
         "`file`)", None, 201, resources.Document, False),
        ("get", "/v1/documents", "List documents", None, 200, resources.DocumentList, False),
        ("get", "/v1/documents/{id}", "A document's metadata", None, 200, resources.Document, False),
        ("delete", "/v1/documents/{id}", "Delete a document not used by an open agreement", None,
         204, None, False),
        ("get", "/v1/documents/{id}/content", "The uploaded bytes", None, 200, None, False, PDF),
        ("get", "/v1/documents/{id}/text", "The extracted text (pages separated by form feeds)",
         None, 200, None, False, TEXT),
        ("get", "/v1/documents/{id}/pages/{page}", "A page as a PNG image (1-based)", None, 200,
         None, False, PNG),
    ),
    *_served_by(
        "ai",
        ("post", "/v1/documents/{id}/analysis", "Start the advisory analysis (summary, clauses)",
         None, 202, resources.Analysis, False),
        ("get", "/v1/documents/{id}/analysis", "The advisory analysis", None, 200,
         resources.Analysis, False),
    ),
    *_served_by(
        "signing",
        ("post", "/v1/agreements", "Create an agreement (draft)", api.AgreementCreate, 201,
         resources.Agreement, False),
        ("get", "/v1/agreements", "List agreements (?status=)", None, 200, resources.AgreementList,
         False),
        ("get", "/v1/agreements/{id}", "An agreement", None, 200, resources.Agreement, False),
        ("delete", "/v1/agreements/{id}", "Delete a draft", None, 204, None, False),
        ("post", "/v1/agreements/{id}/send", "Send: invite the signers", None, 200,
         resources.Agreement, False),
        ("post", "/v1/agreements/{id}/remind", "Remind signers who have not signed", None, 200,
         resources.Agreement, False),
        ("post", "/v1/agreements/{id}/void", "Void a sent agreement", api.VoidRequest, 200,
         resources.Agreement, False),
        ("post", "/v1/agreements/{id}/signers/{signer_id}/link", "A signer's link, for embedded "
         "signing", None, 200, resources.SignerLink, False),
        ("get", "/s/{token}", "The signing page (HTML)", None, 200, None, True, HTML),
        ("get", "/s/{token}/info", "The signer's view of the agreement", None, 200,
         resources.SigningInfo, True),
        ("get", "/s/{token}/document", "The PDF to sign", None, 200, None, True, PDF),
        ("get", "/s/{token}/pages/{page}.png", "A page of the PDF to sign, as an image", None, 200,
         None, True, PNG),
        ("get", "/s/{token}/receipt", "The signer's copy of the receipt", None, 200,
         resources.Receipt, True),
        ("get", "/s/{token}/audit", "The signer's copy of the audit trail", None, 200,
         resources.AuditTrail, True),
        ("get", "/s/{token}/signed.pdf", "The signer's copy of the signed PDF", None, 200, None, True,
         PDF),
        ("post", "/s/{token}/sign", "Sign", api.SignRequest, 200, resources.SignerOutcome, True),
        ("post", "/s/{token}/decline", "Decline", api.DeclineRequest, 200, resources.SignerOutcome,
         True),
    ),
    *_served_by(
        "receipts",
        ("get", "/v1/agreements/{id}/audit", "The hash-chained audit trail", None, 200,
         resources.AuditTrail, False),
        ("get", "/v1/agreements/{id}/receipt", "The signed receipt (`Prefer: wait=N`, up to 20 s: "
         "answer as soon as it is issued rather than at once)", None, 200, resources.Receipt, False),
        ("get", "/v1/agreements/{id}/signed.pdf", "The signed PDF with its certificate of "
         "completion", None, 200, None, False, PDF),
        ("get", "/v1/agreements/{id}/certificate.pdf", "The certificate of completion", None, 200,
         None, False, PDF),
        ("get", "/v1/receipts/keys", "JWKS of the receipt-signing keys", None, 200,
         resources.ReceiptKeys, True),
        ("get", "/v1/receipts/certificates", "The sealing certificate chains (PEM)", None, 200, None,
         True, "application/x-pem-file"),
        ("post", "/v1/receipts/verify", "Verify a receipt (JSON), or a receipt with its audit trail "
         "and PDFs (multipart/form-data)", None, 200, resources.VerifyResult, True),
    ),
    *_served_by(
        "notify",
        ("post", "/v1/webhooks", "Create a webhook endpoint (the secret is shown only here and on "
         "rotation)", api.WebhookCreate, 201, api.NewWebhookOut, False),
        ("get", "/v1/webhooks", "List webhook endpoints (never their secrets)", None, 200,
         api.WebhookList, False),
        ("get", "/v1/webhooks/{id}", "A webhook endpoint", None, 200, api.WebhookOut, False),
        ("patch", "/v1/webhooks/{id}", "Change a webhook endpoint (url, events, enabled, "
         "description)", api.WebhookPatch, 200, api.WebhookOut, False),
        ("delete", "/v1/webhooks/{id}", "Delete a webhook endpoint and its delivery log", None, 204,
         None, False),
        ("post", "/v1/webhooks/{id}/rotate-secret", "A new secret; the old one keeps signing beside "
         "it for 24 h", None, 200, api.WebhookSecret, False),
        ("get", "/v1/webhooks/{id}/deliveries", "The delivery log, each delivery with its attempts",
         None, 200, api.DeliveryList, False),
        ("post", "/v1/webhooks/{id}/deliveries/{delivery_id}/replay", "Deliver the same event (same "
         "webhook-id) again", None, 202, api.DeliveryQueued, False),
        ("post", "/v1/webhooks/{id}/test", "Send a ping event", None, 202, api.DeliveryQueued, False),
        ("post", "/v1/email-events/resend", "Resend's webhook: bounces and complaints (Svix-signed; "
         "404 unless PACTRA_RESEND_WEBHOOK_SECRET is set)", None, 200, None, True),
    ),
)

# Routes outside the API, so outside the document: (method or None for any, pattern, the
# service that serves it or None for the gateway). Public: each page carries its own
# credential (a token in its URL or form) or needs none.
PAGES: tuple[tuple[str | None, re.Pattern[str], str | None], ...] = (
    # The account's and the deletion's emailed links (account_views.py, deletion_views.py).
    (None, re.compile(r"^/(confirm-email|recover|confirm-deletion|cancel-deletion)(/[^/]*)?$"), None),
    ("GET", re.compile(r"^/docs(/.*)?$"), None),
    # The signer page's assets, and any other signing link: the signing service answers it.
    (None, re.compile(r"^/s/"), "signing"),
    (None, re.compile(r"^/verify$"), "receipts"),
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


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


_COMPILED = tuple((_pattern(op.path), op) for op in OPERATIONS)


def operations_at(path: str) -> list[Operation]:
    """The table's operations at ``path``: those whose template matches it with the fewest
    parameters (``/v1/deletions/confirm`` is that route, not a deletion named "confirm")."""
    found = [op for pattern, op in _COMPILED if pattern.match(path)]
    fewest = min((op.path.count("{") for op in found), default=0)
    return [op for op in found if op.path.count("{") == fewest]


def allowed_methods(path: str) -> list[str]:
    """The methods the document lists for ``path`` (upper case, table order); none for a path
    outside the table."""
    return list(dict.fromkeys(op.method.upper() for op in operations_at(path)))


def owner_of(path: str) -> str | None:
    """The service the gateway forwards ``path`` to; None for its own routes and unknown paths."""
    if found := operations_at(path):
        return None if found[0].service == GATEWAY else found[0].service
    return next((service for _, pattern, service in PAGES if pattern.match(path)), None)


def is_public(method: str, path: str) -> bool:
    if found := operations_at(path):
        same = [op for op in found if op.method.upper() == method]
        # A method the path does not have is public where the path is: it is answered 405
        # with the path's methods, which the public document lists anyway.
        return all(op.public for op in (same or found))
    return any((m is None or m == method) and pattern.match(path) for m, pattern, _ in PAGES)


def live_keys_only(method: str, path: str) -> bool:
    return any((m is None or m == method) and pattern.match(path) for m, pattern in LIVE_KEYS_ONLY)


def is_upload(method: str, path: str) -> bool:
    return any(m == method and pattern.match(path) for m, pattern in UPLOADS)
