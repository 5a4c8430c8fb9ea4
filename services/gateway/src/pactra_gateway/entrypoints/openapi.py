"""The OpenAPI 3.1 document of the public API, built from the contract's pydantic models.

``OPERATIONS`` is the gateway's one table of public routes: the document is built from it, and
tests enumerate it (every route a service serves must be in it; the tenant-isolation test
calls each one that takes an id with another workspace's key)."""

import re
from functools import lru_cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pactra_contracts import api
from pactra_contracts.problems import Problem

# (method, path, summary, request model, response status, response model, public)
OPERATIONS: tuple[tuple[str, str, str, type[BaseModel] | None, int, type[BaseModel] | None, bool], ...] = (
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
    ("get", "/v1/security-events", "List the workspace's security log, chained by hash", None, 200,
     api.SecurityEventList, False),
    ("get", "/v1/usage", "This period's usage against the plan's limits, and the last 12 periods",
     None, 200, api.UsageOut, False),
    ("get", "/v1/billing/statements", "The statements: the open period's, then the final ones",
     None, 200, api.StatementList, False),
    ("get", "/v1/billing/statements/{period}", "A period's statement (YYYY-MM): line items at "
     "the plan's prices, plan fee, totals", None, 200, api.StatementOut, False),
    ("get", "/v1/billing/statements/{period}.pdf", "The same statement as a PDF", None, 200, None,
     False),
    ("delete", "/v1/workspace", "Ask to delete the workspace and everything in it: body "
     "`{\"confirm\": \"<workspace name>\"}`; the owner confirms through a mailed link (202)",
     None, 202, None, False),
    ("post", "/v1/deletions/confirm", "Confirm a deletion with the token from its email: every key "
     "stops at once, the purge follows the grace period", None, 200, None, True),
    ("post", "/v1/deletions/cancel", "Cancel a deletion before its purge starts, with the token "
     "from its email", None, 200, None, True),
    ("get", "/v1/deletions/{id}", "A deletion's state, per service (the id is the credential)",
     None, 200, None, True),
    ("post", "/v1/exports", "Export everything the workspace holds (202; the archive is assembled "
     "in the background)", None, 202, api.ExportCreated, False),
    ("get", "/v1/exports", "List exports", None, 200, api.ExportList, False),
    ("get", "/v1/exports/{id}", "An export's progress; once ready, a download link valid 24 h",
     None, 200, api.ExportOut, False),
    ("get", "/v1/exports/download/{token}", "The export's archive (zip), streamed; the link's "
     "token is the credential", None, 200, None, True),
    ("post", "/v1/documents", "Upload a PDF (raw body with ?filename=, or multipart part `file`)",
     None, 201, None, False),
    ("get", "/v1/documents", "List documents", None, 200, None, False),
    ("get", "/v1/documents/{id}", "A document's metadata", None, 200, None, False),
    ("delete", "/v1/documents/{id}", "Delete a document not used by an open agreement", None, 204,
     None, False),
    ("get", "/v1/documents/{id}/content", "The uploaded bytes", None, 200, None, False),
    ("get", "/v1/documents/{id}/text", "The extracted text (pages separated by form feeds)", None, 200,
     None, False),
    ("get", "/v1/documents/{id}/pages/{page}", "A page as a PNG image (1-based)", None, 200, None, False),
    ("post", "/v1/documents/{id}/analysis", "Start the advisory analysis (summary, clauses)", None, 202,
     None, False),
    ("get", "/v1/documents/{id}/analysis", "The advisory analysis", None, 200, None, False),
    ("post", "/v1/agreements", "Create an agreement (draft)", api.AgreementCreate, 201, None, False),
    ("get", "/v1/agreements", "List agreements (?status=)", None, 200, None, False),
    ("get", "/v1/agreements/{id}", "An agreement", None, 200, None, False),
    ("delete", "/v1/agreements/{id}", "Delete a draft", None, 204, None, False),
    ("post", "/v1/agreements/{id}/send", "Send: invite the signers", None, 200, None, False),
    ("post", "/v1/agreements/{id}/remind", "Remind signers who have not signed", None, 200, None, False),
    ("post", "/v1/agreements/{id}/void", "Void a sent agreement", api.VoidRequest, 200, None, False),
    ("post", "/v1/agreements/{id}/signers/{signer_id}/link", "A signer's link, for embedded signing",
     None, 200, None, False),
    ("get", "/v1/agreements/{id}/audit", "The hash-chained audit trail", None, 200, None, False),
    ("get", "/v1/agreements/{id}/receipt", "The signed receipt (`Prefer: wait=N`, up to 20 s: answer "
     "as soon as it is issued rather than at once)", None, 200, None, False),
    ("get", "/v1/agreements/{id}/signed.pdf", "The signed PDF with its certificate of completion",
     None, 200, None, False),
    ("get", "/v1/agreements/{id}/certificate.pdf", "The certificate of completion", None, 200, None,
     False),
    ("post", "/v1/webhooks", "Create a webhook endpoint (the secret is shown only here and on "
     "rotation)", api.WebhookCreate, 201, None, False),
    ("get", "/v1/webhooks", "List webhook endpoints (never their secrets)", None, 200, None, False),
    ("get", "/v1/webhooks/{id}", "A webhook endpoint", None, 200, None, False),
    ("patch", "/v1/webhooks/{id}", "Change a webhook endpoint (url, events, enabled, description)",
     api.WebhookPatch, 200, None, False),
    ("delete", "/v1/webhooks/{id}", "Delete a webhook endpoint and its delivery log", None, 204,
     None, False),
    ("post", "/v1/webhooks/{id}/rotate-secret", "A new secret; the old one keeps signing beside "
     "it for 24 h", None, 200, None, False),
    ("get", "/v1/webhooks/{id}/deliveries", "The delivery log, each delivery with its attempts",
     None, 200, None, False),
    ("post", "/v1/webhooks/{id}/deliveries/{delivery_id}/replay", "Deliver the same event (same "
     "webhook-id) again", None, 202, None, False),
    ("post", "/v1/webhooks/{id}/test", "Send a ping event", None, 202, None, False),
    ("post", "/v1/email-events/resend", "Resend's webhook: bounces and complaints (Svix-signed; "
     "404 unless PACTRA_RESEND_WEBHOOK_SECRET is set)", None, 200, None, True),
    ("get", "/v1/openapi.json", "This OpenAPI document", None, 200, None, True),
    ("get", "/v1/receipts/keys", "JWKS of the receipt-signing keys", None, 200, None, True),
    ("get", "/v1/receipts/certificates", "The sealing certificate chains (PEM)", None, 200, None, True),
    ("post", "/v1/receipts/verify", "Verify a receipt (JSON), or a receipt with its audit trail and "
     "PDFs (multipart/form-data)", None, 200, None, True),
    ("get", "/s/{token}", "The signing page (HTML)", None, 200, None, True),
    ("get", "/s/{token}/info", "The signer's view of the agreement", None, 200, None, True),
    ("get", "/s/{token}/document", "The PDF to sign", None, 200, None, True),
    ("get", "/s/{token}/pages/{page}.png", "A page of the PDF to sign, as an image", None, 200, None, True),
    ("get", "/s/{token}/receipt", "The signer's copy of the receipt", None, 200, None, True),
    ("get", "/s/{token}/audit", "The signer's copy of the audit trail", None, 200, None, True),
    ("get", "/s/{token}/signed.pdf", "The signer's copy of the signed PDF", None, 200, None, True),
    ("post", "/s/{token}/sign", "Sign", api.SignRequest, 200, None, True),
    ("post", "/s/{token}/decline", "Decline", api.DeclineRequest, 200, None, True),
)


PATH_PARAMETER = re.compile(r"{(\w+)}")
# Every list pages the same way (api.md, "Lists"): next_cursor goes into starting_after.
LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "description": "How many items, newest first (1 to 100).",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "starting_after", "in": "query", "required": False,
     "description": "The previous page's `next_cursor`: the items after that id.",
     "schema": {"type": "string"}},
]


def routes() -> tuple[tuple[str, str, bool], ...]:
    """Every public route as (METHOD, path template, public)."""
    return tuple((method.upper(), path, public) for method, path, *_, public in OPERATIONS)


@lru_cache
def document(public_url: str) -> dict:
    models = {model for op in OPERATIONS for model in (op[3], op[5]) if model} | {Problem}
    keys = [(model, "validation") for model in models]
    refs, schemas = models_json_schema(keys, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict] = {}
    for method, path, summary, request_model, status, response_model, public in OPERATIONS:
        operation: dict = {"summary": summary, "responses": {}}
        if public:
            operation["security"] = []
        if request_model:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(request_model, "validation")]}}}
        response: dict = {"description": summary}
        if response_model:
            response["content"] = {"application/json": {"schema": refs[(response_model, "validation")]}}
        operation["responses"][str(status)] = response
        operation["responses"]["default"] = {
            "description": "An RFC 9457 problem document",
            "content": {"application/problem+json": {"schema": refs[(Problem, "validation")]}},
        }
        parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in PATH_PARAMETER.findall(path)]
        if method == "post" and not public:
            parameters.append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "maxLength": 255},
            })
        if method == "get" and summary.startswith("List"):
            parameters += LIST_PARAMETERS
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pactra API", "version": "1.0.0",
                 "description": "Send agreements for signature; verify the evidence offline."},
        "servers": [{"url": public_url}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "pct_live_... API key"}},
        },
    }
