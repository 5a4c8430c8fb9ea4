"""Shapes of the public API's requests and responses (api.md), shared by the gateway's
validation and the OpenAPI document."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from .times import UtcTime


class _Request(BaseModel):
    # Unknown members and wrong types are errors (422), never silently dropped or coerced.
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class SignupRequest(_Request):
    name: str = Field(min_length=1, max_length=200)
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


class WorkspaceLimits(BaseModel):
    documents_per_month: int
    agreements_per_month: int
    max_upload_bytes: int
    ai_tokens_per_month: int


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


class NewApiKeyOut(BaseModel):
    id: str
    name: str
    key: str = Field(description="The secret key. Shown only in this response.")
    prefix: str
    created_at: UtcTime


class SignupOut(BaseModel):
    workspace: WorkspaceOut
    user: UserOut
    api_key: NewApiKeyOut


class ApiKeyList(BaseModel):
    data: list[ApiKeyOut]
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
    "signer.signed", "signer.declined", "receipt.issued", "receipt.failed",
    "analysis.completed", "ping",
)
WebhookEventType = Literal[
    "*", "document.uploaded", "document.deleted", "agreement.sent", "agreement.completed",
    "agreement.declined", "agreement.voided", "agreement.expired", "signer.viewed",
    "signer.signed", "signer.declined", "receipt.issued", "receipt.failed",
    "analysis.completed", "ping"]


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
