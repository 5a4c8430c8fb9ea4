"""The shared API error shape: RFC 9457 problem documents (api.md, "Errors")."""

from pydantic import BaseModel, ConfigDict

PROBLEM_BASE = "https://pactra.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

# Every code the API uses, with its status and a short human title.
PROBLEM_CODES: dict[str, tuple[int, str]] = {
    "invalid_json": (400, "Request body is not valid JSON"),
    "bad_request": (400, "Bad request"),
    "unauthorized": (401, "Missing or invalid credentials"),
    "quota_exceeded": (402, "Quota exceeded"),
    "forbidden": (403, "Forbidden"),
    "ai_disabled": (403, "AI features are disabled for this workspace"),
    "email_unverified": (403, "The owner's email address is not verified yet"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "idempotency_in_progress": (409, "A request with this idempotency key is in progress"),
    "evidence_failed": (409, "The agreement's evidence could not be made"),
    "gone": (410, "Gone"),
    "payload_too_large": (413, "Payload too large"),
    "uri_too_long": (414, "URI too long"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "validation_error": (422, "Validation failed"),
    "invalid_pdf": (422, "The file is not a readable PDF"),
    "encrypted_pdf": (422, "The PDF is encrypted"),
    "idempotency_key_reused": (422, "Idempotency key reused with a different request"),
    "rate_limited": (429, "Too many requests"),
    "internal": (500, "Internal error"),
    "bad_gateway": (502, "An internal service did not answer"),
    "unavailable": (503, "Service unavailable"),
}


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with Pactra's ``code`` and optional field ``errors``."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
    # ``evidence_failed`` only: the stable reason (evidence_reasons.py), "code: sentence".
    evidence_reason: str | None = None
    # ``quota_exceeded`` only (api.md, "Usage and billing"): which metric, its limit this
    # period, what was used of it, and when the period (and so the count) resets.
    metric: str | None = None
    limit: int | None = None
    used: int | None = None
    resets_at: str | None = None

    @classmethod
    def of(cls, code: str, detail: str, errors: list[FieldError] | None = None, *,
           evidence_reason: str | None = None, quota: "dict | None" = None) -> "Problem":
        status, title = PROBLEM_CODES[code]
        return cls(
            type=PROBLEM_BASE + code, title=title, status=status, detail=detail,
            code=code, errors=errors, evidence_reason=evidence_reason, **(quota or {}),
        )
