"""Shapes of the public API's requests and responses (api.md), shared by the gateway's
validation and the OpenAPI document."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from .display_names import check_display_name
from .times import UtcTime

# An owner's name is the sender's display name in every email sent for the workspace:
# no control characters, no look-alike brands (display_names.py).
DisplayName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_display_name)]


class _Request(BaseModel):
    # Unknown members and wrong types are errors (422), never silently dropped or coerced.
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class SignupRequest(_Request):
    name: DisplayName
    email: EmailStr = Field(max_length=254)
    workspace_name: str = Field(min_length=1, max_length=200)


class WorkspacePatch(_Request):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    ai_enabled: bool | None = None
    ai_engine: Literal["offline", "llm"] | None = None
    ai_auto_analyze: bool | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)


class ApiKeyCreate(_Request):
    name: str = Field(min_length=1, max_length=100)
    # api.md, "Test mode": a test key (``pct_test_...``) sees and makes only test objects.
    mode: Literal["live", "test"] = "live"


class WorkspaceLimits(BaseModel):
    documents_per_month: int
    agreements_per_month: int
    max_upload_bytes: int
    ai_tokens_per_month: int
    # The plan's monthly limits per metric (api.md, "Usage and billing").
    agreements_sent: int | None = None
    signers_invited: int | None = None
    ai_analyses: int | None = None
    llm_tokens: int | None = None
    storage_bytes: int | None = None
    emails_sent: int | None = None
    webhook_deliveries: int | None = None
    api_requests: int | None = None


class WorkspaceOut(BaseModel):
    id: str
    name: str
    plan: str
    limits: WorkspaceLimits
    ai_enabled: bool
    ai_engine: Literal["offline", "llm"]
    ai_auto_analyze: bool
    retention_days: int | None
    created_at: UtcTime


class UserOut(BaseModel):
    id: str
    name: str
    email: str
    role: str
    created_at: UtcTime


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: UtcTime
    last_used_at: UtcTime | None
    revoked_at: UtcTime | None
    mode: Literal["live", "test"] = "live"


class NewApiKeyOut(BaseModel):
    id: str
    name: str
    key: str = Field(description="The secret key. Shown only in this response.")
    prefix: str
    created_at: UtcTime
    mode: Literal["live", "test"] = "live"


class SignupOut(BaseModel):
    workspace: WorkspaceOut
    user: UserOut
    api_key: NewApiKeyOut


class ApiKeyList(BaseModel):
    data: list[ApiKeyOut]
    has_more: bool
    next_cursor: str | None


# --- the account (api.md, "Account") --------------------------------------------------------


class AccountOwner(BaseModel):
    id: str
    name: str
    email: str
    email_verified: bool
    created_at: UtcTime


class AccountOut(BaseModel):
    workspace: WorkspaceOut
    owner: AccountOwner
    pending_email: str | None = Field(
        description="A new address awaiting confirmation through the link mailed to it.")


class AccountPatch(_Request):
    name: DisplayName | None = None
    email: EmailStr | None = Field(default=None, max_length=254)


class EmailedToken(_Request):
    """A token from a link Pactra emailed (32 random bytes, base64url: 43 characters)."""

    token: str = Field(min_length=1, max_length=100)


class RecoverRequest(_Request):
    email: EmailStr = Field(max_length=254)


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"


class EmailConfirmed(BaseModel):
    email: str
    email_verified: bool


class SecurityEventOut(BaseModel):
    id: str
    type: str
    at: UtcTime
    actor: dict[str, Any] = Field(description="Who acted: {kind, id}.")
    ip: str | None
    data: dict[str, Any]
    prev: str = Field(description="The previous entry's hash; 64 zeros for the first.")
    hash: str = Field(description="sha256 (hex) of the RFC 8785 JSON of this entry without `hash`.")


class SecurityEventList(BaseModel):
    data: list[SecurityEventOut]
    has_more: bool
    next_cursor: str | None


# --- agreements (signing) ------------------------------------------------------------------

FieldType = Literal["signature", "initials", "date", "text", "checkbox"]


class SignerIn(_Request):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=254)
    order: int | None = Field(default=None, ge=1, le=100)


class FieldIn(_Request):
    signer_email: EmailStr
    type: FieldType
    page: int = Field(ge=1)
    x: float = Field(ge=0, le=14400)
    y: float = Field(ge=0, le=14400)
    width: float = Field(gt=0, le=14400)
    height: float = Field(gt=0, le=14400)
    required: bool = True


class AgreementCreate(_Request):
    title: str = Field(min_length=1, max_length=300)
    # An id, never a path: it is put into the documents service's URL.
    document_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    message: str | None = Field(default=None, max_length=5000)
    signing_order: Literal["parallel", "sequential"] = "parallel"
    expires_in_days: int | None = Field(default=None, ge=1, le=365)
    expires_at: str | None = Field(default=None, max_length=40)
    signers: list[SignerIn] = Field(min_length=1, max_length=50)
    fields: list[FieldIn] = Field(default_factory=list, max_length=500)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50)


class VoidRequest(_Request):
    reason: str = Field(min_length=1, max_length=1000)


class TypedSignature(_Request):
    type: Literal["typed"]
    text: str = Field(min_length=1, max_length=200)


class DrawnSignature(_Request):
    type: Literal["drawn"]
    png_base64: str = Field(min_length=1, max_length=1_500_000)


class SignRequest(_Request):
    consent: bool
    signature: TypedSignature | DrawnSignature = Field(discriminator="type")
    fields: dict[str, str | bool] = Field(default_factory=dict, max_length=500)


class DeclineRequest(_Request):
    reason: str = Field(min_length=1, max_length=1000)


# The event types a webhook endpoint may subscribe to (api.md, "Webhooks"), or "*".
WEBHOOK_EVENT_TYPES = (
    "document.uploaded", "document.deleted", "agreement.sent", "agreement.completed",
    "agreement.declined", "agreement.voided", "agreement.expired", "signer.viewed",
    "signer.signed", "signer.declined", "signer.bounced", "signer.complained", "receipt.issued",
    "receipt.failed", "analysis.completed", "ping",
)
WebhookEventType = Literal[
    "*", "document.uploaded", "document.deleted", "agreement.sent", "agreement.completed",
    "agreement.declined", "agreement.voided", "agreement.expired", "signer.viewed",
    "signer.signed", "signer.declined", "signer.bounced", "signer.complained", "receipt.issued",
    "receipt.failed", "analysis.completed", "ping"]


class WebhookCreate(_Request):
    url: str = Field(min_length=1, max_length=2048)
    events: list[WebhookEventType] = Field(min_length=1, max_length=len(WEBHOOK_EVENT_TYPES) + 1)
    description: str | None = Field(default=None, max_length=500)


class WebhookPatch(_Request):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[WebhookEventType] | None = Field(default=None, min_length=1,
                                                  max_length=len(WEBHOOK_EVENT_TYPES) + 1)
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=500)


# --- usage and billing (api.md, "Usage and billing") -------------------------------------


class Period(BaseModel):
    name: str  # YYYY-MM
    start: UtcTime
    end: UtcTime


class UsageMetric(BaseModel):
    used: int
    limit: int | None
    overage: int
    # Whether going over is refused (402 quota_exceeded) rather than billed.
    blocking: bool


class UsagePeriod(BaseModel):
    period: Period
    metrics: dict[str, int]


class UsageOut(BaseModel):
    period: Period
    plan: str
    overage: Literal["blocked", "billed"]
    metrics: dict[str, UsageMetric]
    history: list[UsagePeriod]


class LineItem(BaseModel):
    metric: str
    quantity: int
    included: int
    # The price of one ``unit`` of the metric (a GiB, a thousand tokens): integer cents.
    unit: int
    unit_price_cents: int
    amount_cents: int


class StatementSummary(BaseModel):
    period: str
    number: str
    total_cents: int
    currency: str
    status: Literal["open", "final"]


class StatementList(BaseModel):
    data: list[StatementSummary]


class StatementOut(StatementSummary):
    workspace_id: str
    workspace_name: str
    plan: str
    period_start: UtcTime
    period_end: UtcTime
    plan_fee_cents: int
    line_items: list[LineItem]
    usage_cents: int
    issued_at: UtcTime | None


# --- exports (gateway) ---------------------------------------------------------------------


class ExportCreated(BaseModel):
    id: str = Field(description="exp_...")
    status: Literal["pending"] = "pending"


class ExportOut(BaseModel):
    id: str
    status: Literal["pending", "running", "ready", "failed"]
    parts_done: int = Field(description="Services whose part of the archive is staged.")
    parts_total: int
    size: int | None = Field(description="The archive's size in bytes, once ready.")
    sha256: str | None = Field(description="SHA-256 (hex) of the archive (the zip), once ready.")
    download_url: str | None = Field(
        description="Once ready: a Pactra URL carrying a capability token; it needs no API key "
                    "and streams the archive. Each read of the export mints a new one.")
    download_url_expires_at: UtcTime | None = Field(description="When download_url stops working "
                                                                "(24 h after it was minted).")
    created_at: UtcTime
    expires_at: UtcTime = Field(description="When the export and its archive are deleted (7 days).")
    error: str | None = None


class ExportList(BaseModel):
    data: list[ExportOut]
    has_more: bool
    next_cursor: str | None


# --- a workspace's deletion (gateway, api.md "Deleting a workspace") -----------------------


class DeleteWorkspace(_Request):
    confirm: str = Field(min_length=1, max_length=200, description="The workspace's name, exactly.")


class DeletionRequested(BaseModel):
    deletion_id: str
    status_url: str
    status: str


class DeletionOut(BaseModel):
    """A deletion's state, per service (``GET /v1/deletions/{id}``; the emailed link's confirm
    and cancel answer it too, naming the id ``deletion_id``)."""

    id: str | None = None
    deletion_id: str | None = None
    status: str
    status_url: str
    services: dict[str, str]
    purge_at: UtcTime | None
    completed_at: UtcTime | None


# --- webhooks (notify, api.md "Webhooks") --------------------------------------------------


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: UtcTime
    updated_at: UtcTime


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only here and on rotation.")


class WebhookList(BaseModel):
    data: list[WebhookOut]
    has_more: bool
    next_cursor: str | None


class WebhookSecret(BaseModel):
    secret: str
    previous_secret_expires_at: UtcTime


class DeliveryAttempt(BaseModel):
    at: UtcTime
    status_code: int | None
    error: str | None
    duration_ms: int
    response_body: str | None


class Delivery(BaseModel):
    id: str
    event_id: str
    type: str
    status: str
    created_at: UtcTime
    delivered_at: UtcTime | None
    next_attempt_at: UtcTime | None
    attempts: list[DeliveryAttempt]


class DeliveryList(BaseModel):
    data: list[Delivery]
    has_more: bool
    next_cursor: str | None


class DeliveryQueued(BaseModel):
    id: str
    event_id: str
    status: str
