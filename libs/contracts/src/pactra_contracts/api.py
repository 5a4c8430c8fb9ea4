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
