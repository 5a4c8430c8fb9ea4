"""The gateway's tables: workspaces, their users, API keys, the security log, idempotency
records, usage and statements, exports and workspace deletions."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pactra_platform.db import Base

# Plans, their limits and prices: domain/plans.py (PACTRA_PLANS_FILE).


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(40), default="free")
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    ai_engine: Mapped[str] = mapped_column(String(20), default="offline")
    ai_auto_analyze: Mapped[bool] = mapped_column(default=False)
    retention_days: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored lower-cased: one address, one account, whatever the caller's capitalisation.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(20), default="owner")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when the owner followed a confirmation link mailed to ``email``; until then agreements
    # go only to the owner's own address (api.md, "Account").
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    # A new address asked for by PATCH /v1/account; it replaces ``email`` only once confirmed.
    pending_email: Mapped[str | None] = mapped_column(String(254), default=None)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    # SHA-256 of the whole key: the only trace of the secret that is kept.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_api_keys_workspace_created", "workspace_id", "created_at"),)


class AccountToken(Base):
    """A token mailed in a link (email confirmation, recovery): only its SHA-256 is kept; it
    serves one purpose, once, until ``expires_at``."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "verify_email" or "recover"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(40))
    # The address the link was mailed to: confirming it verifies exactly this address.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_account_tokens_user", "user_id", "purpose"),)


class SecurityEvent(Base):
    """One entry of a workspace's append-only security log (adapters/security_log.py)."""

    __tablename__ = "security_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime]
    actor: Mapped[dict] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSONB)
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("workspace_id", "prev", name="uq_security_events_prev"),
                      UniqueConstraint("workspace_id", "seq", name="uq_security_events_seq"))


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="in_progress")
    locked_until: Mapped[datetime]
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_headers: Mapped[dict | None] = mapped_column(JSONB, default=None)
    # Encrypted: a stored response may hold a secret (a new API key).
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("workspace_id", "key", "method", "path",
                                       name="uq_idempotency_scope"),)


class UsageCounter(Base):
    """How much of ``metric`` a workspace used in ``period`` (YYYY-MM). ``storage_bytes`` is
    a level, not a flow: its row of period ``live`` is what is stored now, and each month's row
    the highest it reached in that month (what is billed)."""

    __tablename__ = "usage_counters"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageRecord(Base):
    """One counted thing, by the id of its source (an event, a send, an upload): a reservation
    made when the work was asked for (``reserved``), then confirmed by its ``usage.recorded``
    event (``recorded``), or given back when no event came (``released``). A duplicate event
    finds its row and changes nothing."""

    __tablename__ = "usage_records"

    source_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(7))
    quantity: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_usage_records_reserved", "created_at",
                            postgresql_where="state = 'reserved'"),)


class Statement(Base):
    """A period's statement, frozen (``final``) once the period ended: its line items at the
    plan's prices then. The open period's statement is computed on each request, never stored."""

    __tablename__ = "statements"

    workspace_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[dict] = mapped_column(JSONB)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class AgreementSigners(Base):
    """How many signers an agreement has, recorded from signing's answer when it was created:
    what a send of it will count against the plan, known without asking signing."""

    __tablename__ = "agreement_signers"

    agreement_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    signers: Mapped[int]


class Export(Base):
    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # pending | running | ready | failed
    # service -> {"object", "files", "bytes"} of each part staged so far.
    parts: Mapped[dict] = mapped_column(JSONB, default=dict)
    parts_done: Mapped[int] = mapped_column(default=0)
    parts_total: Mapped[int]
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set while a worker assembles it; past it, another worker may.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    __table_args__ = (Index("ix_exports_workspace_created", "workspace_id", "created_at"),
                      Index("ix_exports_expires", "expires_at"))


class ExportLink(Base):
    """A download link's token, kept as its SHA-256 only."""

    __tablename__ = "export_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    export_id: Mapped[str] = mapped_column(ForeignKey("exports.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkspaceDeletion(Base):
    __tablename__ = "workspace_deletions"

    # del_ + 32 random bytes: the status URL needs no key, so its id is the capability.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Set until the deletion completes; then only its SHA-256 is kept.
    workspace_id: Mapped[str | None] = mapped_column(String(40), index=True)
    workspace_sha256: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(30))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirm_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # service -> "pending" | "purged"; and what each reported it purged.
    services: Mapped[dict] = mapped_column(JSONB)
    counts: Mapped[dict] = mapped_column(JSONB)
    # The keys the confirmation revoked: a cancellation gives back exactly these.
    revoked_key_ids: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
